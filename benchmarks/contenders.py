"""What each row of the table runs, grouped by the warm-up it needs."""

from __future__ import annotations

import contextlib
import queue
import random
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from scripts import processes
from scripts.artifacts import manifest, verify
from scripts.indexes import local_index

from .commands import (
    HATCH_DATA,
    HATCH_STARTS,
    README_TEST_COMMAND,
    forget,
    hatch,
    nox,
    rehearsal_table,
    session_steps,
    session_times,
    start,
    timed,
    tox,
)
from .model import Bench, BenchError, Contender, Group, Measure, Sample
from .project import (
    prepare_build,
    prepare_hatch,
    prepare_lint,
    prepare_readme,
    prepare_rehearse,
    prepare_tests,
    prepare_tox,
    prepare_verify,
)

VERIFY_DEADLINE = 60.0
UPLOAD_DELAY = (2.0, 8.0)  # seconds verify polls before the upload starts (varied per round)
NOTICED = verify.FILES_LISTED
BROKEN = "installed but broken"
INDEX_USER = "bench"
README_TEST_SECONDS = 180.0  # the README's test command on 2 cores, uv's cache warm


def tests_session(bench: Bench, *extra: str) -> Sample:
    """`nox -s tests-X.Y -- SUITE`: wall time, steps and the time until pytest starts."""
    run = nox(bench, "-s", f"tests-{bench.python}", "--", *extra, *bench.suite)
    parts = session_steps(run)
    parts["until pytest starts"] = run.arrival("nox > pytest ") or run.seconds
    return Sample(run.seconds, parts)


def measure_cold_tests(bench: Bench, _: int) -> Sample:
    """The tests session with its environment deleted first."""
    forget(bench.env, bench.venv(f"tests-{bench.python}"))
    return tests_session(bench)


def measure_warm_tests(bench: Bench, _: int) -> Sample:
    """The tests session, environment ready."""
    return tests_session(bench)


def measure_warm_serial(bench: Bench, _: int) -> Sample:
    """The tests session told `-n 0` (no xdist workers)."""
    return tests_session(bench, "-n", "0")


def bare_pytest(bench: Bench, *extra: str) -> Sample:
    """The session's own pytest command line, run directly from its environment."""
    pytest = bench.venv(f"tests-{bench.python}") / "bin" / "pytest"
    run = timed([pytest, *bench.pytest_args, *extra], cwd=bench.project, env=bench.env)
    return Sample(run.seconds)


def measure_bare_pytest(bench: Bench, _: int) -> Sample:
    """The floor: exactly the pytest command the session runs."""
    return bare_pytest(bench)


def measure_bare_serial(bench: Bench, _: int) -> Sample:
    """The floor without xdist (`-n 0` appended: the last -n wins)."""
    return bare_pytest(bench, "-n", "0")


def cold_tox(name: str) -> Measure:
    """A measure of tox environment NAME, its .tox/ deleted first."""

    def measure(bench: Bench, _: int) -> Sample:
        forget(bench.env, bench.project / ".tox")
        run = tox(bench, name)
        return Sample(run.seconds, {"until pytest starts": run.arrival("commands[0]>") or 0.0})

    return measure


def measure_bare_lint(bench: Bench, _: int) -> Sample:
    """Each tool the lint session ran, its exact command line, from the lint environment."""
    if not bench.lint_commands:
        raise BenchError("the lint warm-up logged no tool command")
    bin_dir = bench.venv("lint") / "bin"
    parts: dict[str, float] = {}
    for command in bench.lint_commands:
        # mypy is reported, not blocking: its exit status does not stop the session either.
        program: list[str | Path] = [bin_dir / command[0], *command[1:]]
        run = timed(program, cwd=bench.project, env=bench.env, codes=None)
        name = " ".join(command[:2]) if command[0] == "ruff" else command[0]
        parts[name] = parts.get(name, 0.0) + run.seconds
    return Sample(sum(parts.values()), parts)


def measure_lint(bench: Bench, _: int) -> Sample:
    """The lint session, environment and caches ready."""
    run = nox(bench, "-s", "lint")
    return Sample(run.seconds, session_steps(run))


def measure_build_floor(bench: Bench, _: int) -> Sample:
    """The session's own `python -m build --no-isolation` line, run directly (fresh dist/)."""
    shutil.rmtree(bench.project / "dist", ignore_errors=True)
    python = bench.venv("build") / "bin" / "python"
    run = timed([python, *bench.build_args], cwd=bench.project, env=bench.env)
    return Sample(run.seconds)


def measure_build(bench: Bench, _: int) -> Sample:
    """The build session: build, twine check, SHA256SUMS."""
    run = nox(bench, "-s", "build")
    return Sample(run.seconds, session_steps(run))


def cold_hatch(bench: Bench, _: int) -> Sample:
    """`hatch run bench:pytest ARGS` with hatch's environment deleted first."""
    forget(bench.env, bench.scratch / HATCH_DATA / "env")
    run = hatch(bench)
    return Sample(run.seconds, {"until pytest starts": run.arrival(HATCH_STARTS) or run.seconds})


def measure_readme_tests(bench: Bench, round_index: int) -> Sample:
    """The README's test command in a fresh clone of the scratch project, uv's cache warm."""
    clone = bench.scratch / f"fresh-clone-{round_index}"
    timed(["git", "clone", "-q", str(bench.project), str(clone)], cwd=bench.scratch, env=bench.env)
    try:
        run = timed(shlex.split(README_TEST_COMMAND), cwd=clone, env=bench.env)
    finally:
        shutil.rmtree(clone, ignore_errors=True)
    return Sample(run.seconds, session_times(run))


def measure_rehearse(bench: Bench, _: int) -> Sample:
    """The rehearse session as a whole, with the step table it prints."""
    run = nox(bench, "-s", "rehearse")
    return Sample(run.seconds, rehearsal_table(run))


@contextlib.contextmanager
def serving(bench: Bench) -> Iterator[tuple[local_index.LocalIndex, dict[str, str]]]:
    """A fresh pypiserver with an htpasswd; yields it and the environment twine uploads with."""
    with tempfile.TemporaryDirectory(prefix="index-", dir=bench.scratch) as temporary:
        password = secrets.token_urlsafe(16)
        server = local_index.start_local_index(
            Path(temporary) / "packages",
            credentials=(INDEX_USER, password),
            log_file=Path(temporary) / "log",
        )
        with server:
            yield server, {**bench.env, "TWINE_USERNAME": INDEX_USER, "TWINE_PASSWORD": password}


def upload(dist: Path, server: local_index.LocalIndex, env: dict[str, str]) -> float:
    """Upload DIST's files with twine; the perf_counter time the upload completed."""
    files = [str(dist / name) for name in sorted(manifest.read_manifest(dist))]
    options = ["--non-interactive", "--disable-progress-bar", "--repository-url", server.url]
    timed([sys.executable, "-m", "twine", "upload", *options, *files], cwd=dist, env=env)
    return time.perf_counter()


def verify_command(server: local_index.LocalIndex, dist: Path) -> list[str]:
    """`python -m scripts.artifacts.verify URL --dist DIST --deadline 60`."""
    options = ["--dist", str(dist), "--deadline", f"{VERIFY_DEADLINE:g}"]
    return [sys.executable, "-m", "scripts.artifacts.verify", server.url, *options]


def read_lines(process: subprocess.Popen[str], lines: queue.Queue[tuple[float, str]]) -> None:
    """Put each output line of PROCESS on LINES with its arrival time (perf_counter)."""
    assert process.stdout is not None
    for line in process.stdout:
        lines.put((time.perf_counter(), line.rstrip("\n")))


def wait_for_line(
    process: subprocess.Popen[str], lines: queue.Queue[tuple[float, str]], text: str
) -> float:
    """The arrival time of PROCESS's first line containing TEXT."""
    end = time.perf_counter() + VERIFY_DEADLINE + 10
    last = "no output"
    while time.perf_counter() < end:
        try:
            at, line = lines.get(timeout=0.5)
        except queue.Empty:
            if process.poll() is not None and lines.empty():
                raise BenchError(f"verify exited {process.returncode} first: {last}") from None
            continue
        if text in line:
            return at
        last = line.strip() or last
    raise BenchError(f"verify never said {text!r}: {last}")


def measure_verify_latency(bench: Bench, round_index: int) -> Sample:
    """Seconds from the upload's completion to a waiting verify saying the files are listed."""
    assert bench.release_dist is not None
    delay = random.Random(round_index).uniform(*UPLOAD_DELAY)
    with serving(bench) as (server, env):
        env = {**env, "PYTHONUNBUFFERED": "1"}
        process = start(verify_command(server, bench.release_dist), bench.project, env)
        try:
            lines: queue.Queue[tuple[float, str]] = queue.Queue()
            threading.Thread(target=read_lines, args=(process, lines), daemon=True).start()
            time.sleep(delay)
            uploaded = upload(bench.release_dist, server, env)
            noticed = wait_for_line(process, lines, NOTICED)
        finally:
            processes.stop(process)
    return Sample(noticed - uploaded, {"upload started after": delay})


def measure_verify_broken(bench: Bench, _: int) -> Sample:
    """Seconds until verify exits non-zero on a published package whose CLI is broken."""
    assert bench.broken_dist is not None
    with serving(bench) as (server, env):
        upload(bench.broken_dist, server, env)
        command = verify_command(server, bench.broken_dist)
        run = timed(command, cwd=bench.project, env=bench.env, codes=None)
    if run.code == 0 or BROKEN not in run.text():
        raise BenchError(f"verify exited {run.code} without {BROKEN!r}: {run.last_line()}")
    return Sample(run.seconds)


def groups(python: str, *, readme: bool = True) -> list[Group]:
    """Every contender, grouped by the warm-up it needs, in the order of the table.

    README: include the README's test command (one round, minutes long).
    """
    tests = f"`nox -s tests-{python}`"
    lint = "bare tools: ruff check, ruff format, mypy, check-jsonschema, zizmor"
    until = "until pytest starts"
    build = "`python -m build --no-isolation`, ready environment"
    # fmt: off
    return [
        Group("tests", prepare_tests, [
            Contender("cold_tests", f"cold {tests}", measure_cold_tests, "warm_tests", most=2),
            Contender("warm_tests", f"warm {tests}", measure_warm_tests, "bare_pytest", most=1.3),
            Contender("bare_pytest", "bare pytest, same command line", measure_bare_pytest),
            Contender("warm_serial", f"warm {tests} -- -n 0", measure_warm_serial, "bare_serial"),
            Contender("bare_serial", "bare pytest -n 0", measure_bare_serial, "bare_pytest"),
        ]),
        Group("tox", prepare_tox, [
            Contender("tox_lock", "cold tox-uv, uv-venv-lock-runner", cold_tox("lock"),
                      "cold_tests", least=1, part=until),
            Contender("tox_plain", "cold tox-uv, uv-venv-runner, editable", cold_tox("plain"),
                      "cold_tests", least=4, part=until),
        ]),
        Group("hatch", prepare_hatch, [
            Contender("hatch", "cold hatch, uv installer, dev mode", cold_hatch, "cold_tests",
                      part=until),
        ]),
        Group("lint", prepare_lint, [
            Contender("bare_lint", lint, measure_bare_lint),
            Contender("lint", "warm `nox -s lint`", measure_lint, "bare_lint", over_at_most=0.5),
        ]),
        Group("build", prepare_build, [
            Contender("build_floor", build, measure_build_floor),
            Contender("build", "`nox -s build`", measure_build, "build_floor", most=2),
        ]),
        Group("rehearse", prepare_rehearse, [
            Contender("rehearse", "warm `nox -s rehearse`", measure_rehearse,
                      steps_at_most=1.2),
        ]),
        Group("verify", prepare_verify, [
            Contender("verify_latency", "verify: upload done -> files noticed",
                      measure_verify_latency, worst=5),
            Contender("verify_broken", "verify: broken package -> exit 1", measure_verify_broken,
                      worst=30),
        ]),
        *([Group("readme", prepare_readme, [
            Contender("readme_tests", f"README's `{README_TEST_COMMAND}`, fresh clone",
                      measure_readme_tests, worst=README_TEST_SECONDS, rounds=1),
        ])] if readme else []),
    ]
    # fmt: on
