"""Running one command of the benchmark: timed, its output lines with their arrival times."""

from __future__ import annotations

import contextlib
import itertools
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from scripts import processes

from .model import Bench, BenchError, Run

COMMAND_TIMEOUT = 900.0
# The README's test command (its Quick start's second line; a unit test keeps the two equal).
README_TEST_COMMAND = "python3 -m uv run nox -t tests"
HATCH_DATA = "hatch-data"  # hatch's data folder in the scratch folder; its environments in env/
HATCH_STARTS = "cmd [1] | pytest"  # hatch -v announces the script's command as it starts it


def start(command: Sequence[str | Path], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start COMMAND in its own process group, stdout and stderr merged into one pipe."""
    return processes.start(
        command, cwd=cwd, env=env, output=subprocess.PIPE, own_group=True, text=True
    )


def say(message: str) -> None:
    """Progress, on stderr, so stdout holds only the report."""
    print(message, file=sys.stderr, flush=True)


def timed(
    command: Sequence[str | Path],
    *,
    cwd: Path,
    env: dict[str, str],
    codes: Sequence[int] | None = (0,),
) -> Run:
    """Run COMMAND to its end; its wall time and its output lines as they arrived."""
    started = time.perf_counter()
    process = start(command, cwd, env)
    timer = threading.Timer(COMMAND_TIMEOUT, processes.stop, args=(process,))
    timer.start()
    lines: list[tuple[float, str]] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append((time.perf_counter() - started, line.rstrip("\n")))
        code = process.wait()
    finally:
        timer.cancel()
        processes.stop(process)
    run = Run(time.perf_counter() - started, code, lines)
    if codes is not None and code not in codes:
        shown = shlex.join(str(part) for part in command[:5])
        raise BenchError(f"`{shown} ...` exited {code}: {run.reason()}")
    return run


def child_env(project: Path) -> dict[str, str]:
    """This environment minus the bench session's own settings."""
    # The bench session's own settings must not leak into the contenders (nox's uv backend sets
    # UV_PYTHON: tox-uv's `uv pip install` would then fill the bench's venv).
    env = processes.fresh_environment(os.environ)
    if env.get("PYTHONPYCACHEPREFIX"):  # a shared bytecode folder: the scratch gets its own
        env["PYTHONPYCACHEPREFIX"] = str(project.parent / "pycache")
    return env


def forget(env: dict[str, str], folder: Path) -> None:
    """Delete FOLDER and the bytecode Python cached for it under PYTHONPYCACHEPREFIX, if any."""
    shutil.rmtree(folder, ignore_errors=True)
    if env.get("PYTHONPYCACHEPREFIX"):
        mirror = Path(env["PYTHONPYCACHEPREFIX"]) / folder.resolve().relative_to(folder.anchor)
        shutil.rmtree(mirror, ignore_errors=True)


def nox(bench: Bench, *args: str) -> Run:
    """Run nox in the scratch project."""
    return timed([sys.executable, "-m", "nox", *args], cwd=bench.project, env=bench.env)


def logged_command(run: Run, start: str) -> list[str]:
    """The command line nox logged as `nox > START ...`, split into words."""
    for _, line in run.lines:
        if line.startswith(f"nox > {start} "):
            return shlex.split(line.removeprefix("nox > "))
    raise BenchError(f"nox never logged a `{start}` command: {run.last_line()}")


def logged_commands(run: Run, tools: Sequence[str]) -> list[list[str]]:
    """Every command line nox logged whose program is one of TOOLS, in order, split into words."""
    found = []
    for _, line in run.lines:
        if line.startswith("nox > "):
            words = shlex.split(line.removeprefix("nox > "))
            if words and words[0] in tools:
                found.append(words)
    return found


def session_times(run: Run) -> dict[str, float]:
    """Seconds per session of a nox run: from its `Running session NAME` line to the next one."""
    marks = [
        (at, line.split()[4]) for at, line in run.lines if line.startswith("nox > Running session ")
    ]
    marks.append((run.seconds, ""))
    return {name: end - start for (start, name), (end, _) in itertools.pairwise(marks)}


def step_name(text: str) -> str:
    """A short name for the step a `nox > TEXT` line starts."""
    words = text.split()
    if not words:
        return "output"
    if words[0] == "Session":
        return "nox: report and exit"
    if words[0] == "Running":
        return "nox: start the session"
    if words[0] in ("Reusing", "Re-using", "Creating"):
        return f"nox: {words[0].lower()} the environment"
    name = Path(words[0]).name
    rest = words[1:]
    if rest[:1] == ["-m"] and len(rest) > 1:
        return f"{name} -m {rest[1]}"
    if rest and rest[0].isalpha():
        return f"{name} {rest[0]}"
    return name


def session_steps(run: Run) -> dict[str, float]:
    """Seconds per step of a nox run, from the arrival times of its `nox > ` lines."""
    marks = [(0.0, "nox: start-up, load noxfile")]
    marks += [(at, step_name(line[6:])) for at, line in run.lines if line.startswith("nox > ")]
    marks.append((run.seconds, ""))
    steps: dict[str, float] = {}
    for (start, name), (end, _) in itertools.pairwise(marks):
        steps[name] = steps.get(name, 0.0) + end - start
    return steps


def rehearsal_table(run: Run) -> dict[str, float]:
    """The step timings the rehearse session prints after `rehearsal passed:`."""
    texts = [line.removeprefix("nox > ") for _, line in run.lines if line.startswith("nox > ")]
    if "rehearsal passed:" not in texts:
        return {}
    steps: dict[str, float] = {}
    for text in texts[texts.index("rehearsal passed:") + 1 :]:
        parts = text.rsplit(None, 2)
        if len(parts) != 3 or parts[2] != "s":
            continue
        with contextlib.suppress(ValueError):
            steps[parts[0].strip()] = float(parts[1])
    return steps


def hatch(bench: Bench) -> Run:
    """`hatch -v run bench:pytest PYTEST ARGS` in the scratch project."""
    command = [sys.executable, "-m", "hatch", "-v", "run", "bench:pytest", *bench.pytest_args]
    return timed(command, cwd=bench.project, env=bench.env)


def tox(bench: Bench, name: str) -> Run:
    """`tox run -e NAME -- PYTEST ARGS` in the scratch project."""
    command = [sys.executable, "-m", "tox", "run", "-e", name, "--", *bench.pytest_args]
    return timed(command, cwd=bench.project, env=bench.env)
