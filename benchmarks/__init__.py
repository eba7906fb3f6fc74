"""Time the nox sessions against the bare tools, side by side, and print the ratios.

    python3 -m uv run nox -s bench [-- --rounds N | --quick] [--no-fail] [--suite PATH ...]

(the session runs `python -m benchmarks`). One module per part: model (what is measured and
held), commands (running and timing one command), project (the scratch copy and the warm-ups),
contenders (what each row runs), rounds, report.

Everything runs in a scratch git copy of the working tree, so the developer's .nox/ and dist/ are
never touched and "cold" really is cold (a session's environment is deleted before each cold
round; uv's cache stays warm, as on any developer machine). Each round runs every contender once,
in turn (every other round in reverse order), so a change in the machine's load hits all of them
alike. verify is timed for real against a local pypiserver: how soon it notices an upload, and
how soon it fails on a package that installs but is broken. The table gives medians, min-max and
the ratios the targets are about; the exit status is 1 when a target is missed (unless
--no-fail). benchmarks/README.md explains each row.
"""
