"""Time the nox sessions against the bare tools, side by side, and print the ratios.

    python3 -m uv run nox -s bench [-- --rounds N | --quick] [--no-fail] [--suite PATH ...]

Everything runs in a scratch git copy of the working tree, so the developer's .nox/ and dist/ are
never touched and "cold" really is cold (a session's environment is deleted before each cold
round; uv's cache stays warm, as on any developer machine). Each round runs every contender once,
in turn (every other round in reverse order), so a change in the machine's load hits all of them
alike. verify is timed for real against a local pypiserver: how soon it notices an upload, and
how soon it fails on a package that installs but is broken. The table gives medians, min-max and
the ratios the targets are about; the exit status is 1 when a target is missed (unless
--no-fail). benchmarks/README.md explains each row.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import itertools
import json
import os
import platform
import queue
import random
import secrets
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the shared helpers in scripts/ and tests/helpers.py

from scripts import local_index, manifest  # noqa: E402
from tests.helpers import commit, copy_project, git  # noqa: E402

# A fast, representative part of the project's own suite: the pure release helpers (table-driven),
# the index client against a real HTTP server on 127.0.0.1, and the interpreter finder.
SUITE = (
    "tests/unit/test_changelog.py",
    "tests/unit/test_versions.py",
    "tests/unit/test_manifest.py",
    "tests/unit/test_index.py",
    "tests/unit/test_interpreters.py",
)
ROUNDS = 5
QUICK_ROUNDS = 1
COMMAND_TIMEOUT = 900.0
VERIFY_DEADLINE = 60.0
UPLOAD_DELAY = (2.0, 8.0)  # seconds verify polls before the upload starts (varied per round)
NOTICED = "all files listed after"
BROKEN = "installed but broken"
BROKEN_VERSION = "9.9.9"
# How the ratio column names the contender a ratio is taken against.
SHORT_NAMES = {
    "cold_tests": "cold session",
    "warm_tests": "warm session",
    "bare_pytest": "bare pytest",
    "bare_serial": "bare pytest -n 0",
    "bare_ruff": "bare ruff",
    "build_floor": "floor",
}
# The one line of src/agentops/cli.py the broken copy changes: --version then prints a lie.
VERSION_ECHO = 'typer.echo(f"agentops {__version__}")'
BROKEN_ECHO = 'typer.echo("agentops 0.0.0")'
INDEX_USER = "bench"
# Two tox-uv flavours over the same lock and dependency group as the tests session.
TOX_INI = """\
[tox]
env_list = lock, plain

[testenv]
base_python = python{python}
dependency_groups = test
commands = pytest {{posargs}}

[testenv:lock]
runner = uv-venv-lock-runner

[testenv:plain]
runner = uv-venv-runner
package = editable
"""
# Environment variables of the bench session that must not leak into the contenders.
DROPPED_ENV = (
    "VIRTUAL_ENV",
    "UV_PROJECT_ENVIRONMENT",
    "LOCAL_INDEX_URL",
    "VERIFY_DEADLINE",
    "EXPECTED_VERSION",
)


class BenchError(Exception):
    """A contender could not be measured; the message says why, in one line."""


@dataclass
class Run:
    """A finished command: wall seconds, exit status, output lines with their arrival times."""

    seconds: float
    code: int
    lines: list[tuple[float, str]]

    def text(self) -> str:
        """The whole output."""
        return "\n".join(line for _, line in self.lines)

    def last_line(self) -> str:
        """The last non-empty output line."""
        found = [line.strip() for _, line in self.lines if line.strip()]
        return found[-1] if found else "no output"

    def reason(self) -> str:
        """Why it failed: nox's `Command ... failed` line if there is one, else the last line."""
        failed = [line for _, line in self.lines if line.startswith("nox > Command ")]
        return failed[-1].removeprefix("nox > ") if failed else self.last_line()

    def arrival(self, start: str) -> float | None:
        """Seconds from launch until the first line containing START arrived."""
        return next((at for at, line in self.lines if start in line), None)


@dataclass
class Sample:
    """One timing of one contender, with its parts (steps, setup) where known."""

    seconds: float
    parts: dict[str, float] = field(default_factory=dict)


@dataclass
class Bench:
    """The scratch project and what the warm-ups learned about it."""

    scratch: Path
    project: Path
    python: str
    suite: list[str]
    env: dict[str, str]
    pytest_args: list[str] = field(default_factory=list)
    build_args: list[str] = field(default_factory=list)
    release_dist: Path | None = None
    broken_dist: Path | None = None

    def venv(self, session: str) -> Path:
        """The environment nox keeps for SESSION."""
        return self.project / ".nox" / session.replace(".", "-")


Measure = Callable[[Bench, int], Sample]


@dataclass
class Contender:
    """One thing timed each round, and what its result is held to."""

    key: str
    what: str
    measure: Measure
    versus: str | None = None  # the ratio column is median / median(VERSUS)
    most: float | None = None  # the ratio must be at most this
    least: float | None = None  # the ratio must be at least this
    worst: float | None = None  # every sample must take at most this many seconds


@dataclass
class Group:
    """Contenders that share a warm-up; a failed warm-up fails them all."""

    name: str
    prepare: Callable[[Bench], None]
    contenders: list[Contender]


def say(message: str) -> None:
    """Progress, on stderr, so stdout holds only the report."""
    print(message, file=sys.stderr, flush=True)


def stop(process: subprocess.Popen[str]) -> None:
    """End PROCESS and its children (its own process group): SIGTERM, then SIGKILL after 5 s."""
    if process.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue


def spawn(command: Sequence[str | Path], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start COMMAND in its own process group, stdout and stderr merged into one pipe."""
    return subprocess.Popen(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )


def timed(
    command: Sequence[str | Path],
    *,
    cwd: Path,
    env: dict[str, str],
    codes: Sequence[int] | None = (0,),
) -> Run:
    """Run COMMAND to its end; its wall time and its output lines as they arrived."""
    started = time.perf_counter()
    process = spawn(command, cwd, env)
    timer = threading.Timer(COMMAND_TIMEOUT, stop, args=(process,))
    timer.start()
    lines: list[tuple[float, str]] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append((time.perf_counter() - started, line.rstrip("\n")))
        code = process.wait()
    finally:
        timer.cancel()
        stop(process)
    run = Run(time.perf_counter() - started, code, lines)
    if codes is not None and code not in codes:
        shown = shlex.join(str(part) for part in command[:5])
        raise BenchError(f"`{shown} ...` exited {code}: {run.reason()}")
    return run


def child_env(project: Path) -> dict[str, str]:
    """This environment minus the bench session's own settings, the matrix's Pythons first."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env["PATH"] = os.pathsep.join([str(project / ".nox" / "_interpreters"), env.get("PATH", "")])
    return env


def nox(bench: Bench, *args: str) -> Run:
    """Run nox in the scratch project."""
    return timed([sys.executable, "-m", "nox", *args], cwd=bench.project, env=bench.env)


def logged_command(run: Run, start: str) -> list[str]:
    """The command line nox logged as `nox > START ...`, split into words."""
    for _, line in run.lines:
        if line.startswith(f"nox > {start} "):
            return shlex.split(line.removeprefix("nox > "))
    raise BenchError(f"nox never logged a `{start}` command: {run.last_line()}")


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


# --- the scratch project -----------------------------------------------------------------


def working_tree_files() -> list[str]:
    """Every file of the working tree git would track (committed or not, ignored excluded)."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [name for name in listed.split("\0") if name]


def make_project(destination: Path) -> Path:
    """A git copy of the working tree, tests and documents included (copy_project plus the rest)."""
    project = copy_project(destination)
    for name in working_tree_files():
        source, target = ROOT / name, project / name
        if source.is_file() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "benchmark: the rest of the working tree")
    return project


def default_python(project: Path, env: dict[str, str]) -> str:
    """The Python of the first tests session, as the noxfile lists it."""
    run = timed([sys.executable, "-m", "nox", "--list", "--json"], cwd=project, env=env)
    listing = json.loads(run.text()[run.text().index("[") :])
    for entry in listing:
        if entry["name"] == "tests" and entry.get("python"):
            return str(entry["python"])
    raise BenchError("the noxfile lists no tests session with a Python")


def make_bench(scratch: Path, suite: list[str]) -> Bench:
    """The scratch project with a tox.ini for the tox contenders, committed."""
    project = make_project(scratch / "project")
    env = child_env(project)
    python = default_python(project, env)
    commit(project, "benchmark: tox.ini", files={"tox.ini": TOX_INI.format(python=python)})
    return Bench(scratch, project, python, suite, env)


# --- warm-ups ----------------------------------------------------------------------------


def prepare_tests(bench: Bench) -> None:
    """Make the tests environment and learn the exact pytest command line the session runs."""
    run = nox(bench, "-s", f"tests-{bench.python}", "--", *bench.suite)
    bench.pytest_args = logged_command(run, "pytest")[1:]


def prepare_tox(bench: Bench) -> None:
    """Check tox and tox-uv are here and fill uv's cache for both tox environments once."""
    if not (importlib.util.find_spec("tox") and importlib.util.find_spec("tox_uv")):
        raise BenchError("tox and tox-uv are not installed here: run it as `nox -s bench`")
    if not bench.pytest_args:
        raise BenchError("needs the tests warm-up, which failed")
    for name in ("lock", "plain"):
        tox(bench, name)


def prepare_lint(bench: Bench) -> None:
    """Make the lint environment and its caches (ruff, mypy)."""
    nox(bench, "-s", "lint")


def prepare_build(bench: Bench) -> None:
    """Make the build environment, learn its build command, keep its dist for verify."""
    run = nox(bench, "-s", "build")
    bench.build_args = logged_command(run, "python -m build")[1:]
    bench.release_dist = bench.scratch / "release-dist"
    shutil.copytree(bench.project / "dist", bench.release_dist)


def prepare_rehearse(bench: Bench) -> None:
    """Make the rehearse environment."""
    nox(bench, "-s", "rehearse")


def prepare_verify(bench: Bench) -> None:
    """Build a copy tagged v9.9.9 whose CLI prints a wrong version."""
    if bench.release_dist is None:
        raise BenchError("needs the build warm-up, which failed")
    copy = copy_project(bench.scratch / "broken")
    cli = copy / "src" / "agentops" / "cli.py"
    source = cli.read_text(encoding="utf-8")
    if VERSION_ECHO not in source:
        raise BenchError(f"cannot break the copy: {VERSION_ECHO!r} is not in src/agentops/cli.py")
    commit(
        copy,
        "break --version",
        files={"src/agentops/cli.py": source.replace(VERSION_ECHO, BROKEN_ECHO)},
    )
    git(copy, "tag", f"v{BROKEN_VERSION}")
    dist = copy / "dist"
    command = [sys.executable, "-m", "build", "--quiet", "--no-isolation", "--outdir", str(dist)]
    timed(command, cwd=copy, env=child_env(copy))
    manifest.write_manifest(dist)
    bench.broken_dist = dist


# --- the contenders ----------------------------------------------------------------------


def tests_session(bench: Bench, *extra: str) -> Sample:
    """`nox -s tests-X.Y -- SUITE`: wall time, steps and the time until pytest starts."""
    run = nox(bench, "-s", f"tests-{bench.python}", "--", *extra, *bench.suite)
    parts = session_steps(run)
    parts["until pytest starts"] = run.arrival("nox > pytest ") or run.seconds
    return Sample(run.seconds, parts)


def measure_cold_tests(bench: Bench, _: int) -> Sample:
    """The tests session with its environment deleted first."""
    shutil.rmtree(bench.venv(f"tests-{bench.python}"), ignore_errors=True)
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


def tox(bench: Bench, name: str) -> Run:
    """`tox run -e NAME -- PYTEST ARGS` in the scratch project."""
    command = [sys.executable, "-m", "tox", "run", "-e", name, "--", *bench.pytest_args]
    return timed(command, cwd=bench.project, env=bench.env)


def cold_tox(name: str) -> Measure:
    """A measure of tox environment NAME, its .tox/ deleted first."""

    def measure(bench: Bench, _: int) -> Sample:
        shutil.rmtree(bench.project / ".tox", ignore_errors=True)
        run = tox(bench, name)
        return Sample(run.seconds, {"until pytest starts": run.arrival("commands[0]>") or 0.0})

    return measure


def measure_bare_ruff(bench: Bench, _: int) -> Sample:
    """`ruff check .` then `ruff format --check .` from the lint environment."""
    ruff = bench.venv("lint") / "bin" / "ruff"
    check = timed([ruff, "check", "."], cwd=bench.project, env=bench.env)
    formatted = timed([ruff, "format", "--check", "."], cwd=bench.project, env=bench.env)
    return Sample(check.seconds + formatted.seconds)


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
    """`python -m scripts.verify URL --dist DIST --deadline 60`."""
    options = ["--dist", str(dist), "--deadline", f"{VERIFY_DEADLINE:g}"]
    return [sys.executable, "-m", "scripts.verify", server.url, *options]


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
        process = spawn(verify_command(server, bench.release_dist), bench.project, env)
        try:
            lines: queue.Queue[tuple[float, str]] = queue.Queue()
            threading.Thread(target=read_lines, args=(process, lines), daemon=True).start()
            time.sleep(delay)
            uploaded = upload(bench.release_dist, server, env)
            noticed = wait_for_line(process, lines, NOTICED)
        finally:
            stop(process)
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


def groups(python: str) -> list[Group]:
    """Every contender, grouped by the warm-up it needs, in the order of the table."""
    tests = f"`nox -s tests-{python}`"
    lint = "bare `ruff check .` + `ruff format --check .`"
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
                      "cold_tests", least=4),
            Contender("tox_plain", "cold tox-uv, uv-venv-runner, editable", cold_tox("plain"),
                      "cold_tests", least=4),
        ]),
        Group("lint", prepare_lint, [
            Contender("bare_ruff", lint, measure_bare_ruff),
            Contender("lint", "warm `nox -s lint`", measure_lint, "bare_ruff", most=1.5),
        ]),
        Group("build", prepare_build, [
            Contender("build_floor", build, measure_build_floor),
            Contender("build", "`nox -s build`", measure_build, "build_floor", most=2),
        ]),
        Group("rehearse", prepare_rehearse, [
            Contender("rehearse", "warm `nox -s rehearse`", measure_rehearse),
        ]),
        Group("verify", prepare_verify, [
            Contender("verify_latency", "verify: upload done -> files noticed",
                      measure_verify_latency, worst=5),
            Contender("verify_broken", "verify: broken package -> exit 1", measure_verify_broken,
                      worst=30),
        ]),
    ]
    # fmt: on


# --- the rounds ----------------------------------------------------------------------------


@dataclass
class Results:
    """The samples of each contender, the last error of those that failed, and when and how."""

    rounds: int
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    load: str = field(default_factory=lambda: load_average())
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def median(self, key: str) -> float | None:
        """The median seconds of KEY, None when it has no sample."""
        found = self.samples.get(key)
        return statistics.median(sample.seconds for sample in found) if found else None

    def parts(self, key: str) -> dict[str, float]:
        """The median of each part of KEY's samples, in the order they first appeared."""
        names = dict.fromkeys(name for sample in self.samples.get(key, []) for name in sample.parts)
        return {
            name: statistics.median(sample.parts.get(name, 0.0) for sample in self.samples[key])
            for name in names
        }


def prepare(bench: Bench, all_groups: list[Group], results: Results) -> list[Group]:
    """Run each group's warm-up; return the groups ready to be timed."""
    ready = []
    for group in all_groups:
        started = time.perf_counter()
        try:
            group.prepare(bench)
        except (BenchError, OSError, local_index.LocalIndexError) as error:
            say(f"warm-up {group.name}: failed: {error}")
            for contender in group.contenders:
                results.errors[contender.key] = f"warm-up failed: {error}"
            continue
        say(f"warm-up {group.name}: {time.perf_counter() - started:.1f} s")
        ready.append(group)
    return ready


def run_rounds(bench: Bench, ready: list[Group], rounds: int, results: Results) -> None:
    """ROUNDS times, every contender once, in turn; every other round in reverse order."""
    for round_index in range(rounds):
        for group in ready:
            step = -1 if round_index % 2 else 1
            for contender in group.contenders[::step]:
                try:
                    sample = contender.measure(bench, round_index)
                except (BenchError, OSError, local_index.LocalIndexError) as error:
                    results.errors[contender.key] = str(error)
                    say(f"[{round_index + 1}/{rounds}] {contender.what}: error: {error}")
                    continue
                results.samples.setdefault(contender.key, []).append(sample)
                say(f"[{round_index + 1}/{rounds}] {contender.what}: {sample.seconds:.2f} s")


# --- the report ----------------------------------------------------------------------------


def ratio_of(contender: Contender, results: Results) -> float | None:
    """median(CONTENDER) / median(its versus), None when either is missing."""
    if contender.versus is None:
        return None
    mine, theirs = results.median(contender.key), results.median(contender.versus)
    return mine / theirs if mine is not None and theirs else None


def met(contender: Contender, results: Results) -> bool | None:
    """Whether CONTENDER holds its target; None when it has none."""
    if contender.most is None and contender.least is None and contender.worst is None:
        return None
    if contender.key in results.errors or contender.key not in results.samples:
        return False
    if contender.worst is not None:
        return max(sample.seconds for sample in results.samples[contender.key]) <= contender.worst
    ratio = ratio_of(contender, results)
    if ratio is None:
        return False
    return (contender.most is None or ratio <= contender.most) and (
        contender.least is None or ratio >= contender.least
    )


def target_text(contender: Contender) -> str:
    """The target column."""
    if contender.worst is not None:
        return f"worst <= {contender.worst:g} s"
    if contender.most is not None:
        return f"<= {contender.most:g}x"
    if contender.least is not None:
        return f">= {contender.least:g}x"
    return ""


def ratio_text(contender: Contender, results: Results) -> str:
    """The ratio column: NNx what it is taken against, or the floor's 1.00."""
    ratio = ratio_of(contender, results)
    if ratio is not None and contender.versus is not None:
        return f"{ratio:.2f}x {SHORT_NAMES.get(contender.versus, contender.versus)}"
    if contender.versus is None and contender.key in SHORT_NAMES:
        return "1.00 (floor)"
    return ""


def table_row(contender: Contender, results: Results) -> str:
    """One Markdown row: what, median, min-max, ratio, target, met?"""
    samples = [sample.seconds for sample in results.samples.get(contender.key, [])]
    verdict = {None: "", True: "yes", False: "**no**"}[met(contender, results)]
    error = results.errors.get(contender.key)
    if not samples:
        cells = ["error", "", error or "not measured"]
    else:
        ratio = ratio_text(contender, results) + (f" (a round failed: {error})" if error else "")
        spread = f"{min(samples):.2f}-{max(samples):.2f} s"
        cells = [f"{statistics.median(samples):.2f} s", spread, ratio]
    return "| " + " | ".join([contender.what, *cells, target_text(contender), verdict]) + " |"


def main_table(contenders: list[Contender], results: Results) -> list[str]:
    """The Markdown table of every contender."""
    lines = [
        "| what | median | min-max | ratio | target | met? |",
        "| --- | ---: | ---: | --- | --- | --- |",
    ]
    return lines + [table_row(contender, results) for contender in contenders]


def parts_table(title: str, parts: dict[str, float], total: float | None) -> list[str]:
    """A Markdown table of the median seconds of each part, with its share of TOTAL."""
    if not parts:
        return []
    lines = ["", f"{title}", "", "| step | median | share |", "| --- | ---: | ---: |"]
    for name, seconds in parts.items():
        share = f"{100 * seconds / total:.0f} %" if total else ""
        lines.append(f"| {name} | {seconds:.2f} s | {share} |")
    return lines


def setup_table(results: Results, contenders: list[Contender]) -> list[str]:
    """How long each tests contender took before pytest started: the environment work alone."""
    keys = [c for c in contenders if c.key in ("cold_tests", "warm_tests", "tox_lock", "tox_plain")]
    ours = results.parts("cold_tests").get("until pytest starts")
    lines = ["", "Environment work only: seconds from launch until pytest starts (median).", ""]
    lines += ["| what | until pytest starts | vs cold session |", "| --- | ---: | ---: |"]
    for contender in keys:
        seconds = results.parts(contender.key).get("until pytest starts")
        if seconds is None:
            continue
        versus = f"{seconds / ours:.2f}x" if ours else ""
        lines.append(f"| {contender.what} | {seconds:.2f} s | {versus} |")
    return lines


OPT_IN_STEPS = ("mypy", "check-jsonschema", "zizmor")


def lint_estimate(results: Results) -> list[str]:
    """What the lint session would cost with mypy and the workflow checks made opt-in."""
    lint, ruff = results.median("lint"), results.median("bare_ruff")
    steps = results.parts("lint")
    if lint is None or not ruff or not steps:
        return []
    opt_in = sum(seconds for name, seconds in steps.items() if name.split()[0] in OPT_IN_STEPS)
    rest = lint - opt_in
    return [
        "",
        f"Without mypy and the workflow checks ({opt_in:.2f} s of it), the lint session would take "
        f"about {rest:.2f} s = {rest / ruff:.1f}x bare ruff (estimate from the steps above).",
    ]


def verify_rounds(results: Results) -> list[str]:
    """Each round's detection latency, and how far into verify's wait the upload began."""
    samples = results.samples.get("verify_latency", [])
    each = ", ".join(
        f"{sample.seconds:.2f} s (upload began {sample.parts['upload started after']:.1f} s in)"
        for sample in samples
    )
    return ["", f"verify noticed the upload after: {each}."] if samples else []


def details(contenders: list[Contender], results: Results) -> list[str]:
    """The breakdowns: the tests setup, every missed session target, the rehearsal, verify."""
    lines = setup_table(results, contenders)
    for contender in contenders:
        missed = met(contender, results) is False
        if contender.key == "rehearse" or (missed and results.parts(contender.key)):
            title = f"Where {contender.what} spends its time (median of each step):"
            parts = {
                k: v for k, v in results.parts(contender.key).items() if k != "until pytest starts"
            }
            total = parts.get("total") or results.median(contender.key)
            lines += parts_table(title, parts, total)
            if contender.key == "lint":
                lines += lint_estimate(results)
    return lines + verify_rounds(results)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def header(bench: Bench, results: Results) -> list[str]:
    """What was run, where and how."""
    pytest = (
        shlex.join(["pytest", *bench.pytest_args])
        if bench.pytest_args
        else "(tests warm-up failed)"
    )
    return [
        f"## Speed benchmark, {results.started:%Y-%m-%d %H:%M} UTC",
        "",
        f"- machine: {platform.platform()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        f"- load average (1/5/15 min): {results.load} at the start, {load_average()} at the end",
        f"- {results.rounds} round(s), each contender once per round, in turn; medians and min-max",
        f"- suite: {' '.join(bench.suite)}",
        f"- pytest command of the session and of the floor: `{pytest}`",
        "- cold: the environment (or .tox/) deleted before each round; uv's cache stays warm",
        "",
    ]


def report(bench: Bench, contenders: list[Contender], results: Results) -> str:
    """The whole Markdown report."""
    lines = header(bench, results) + main_table(contenders, results) + details(contenders, results)
    verdicts = [met(contender, results) for contender in contenders]
    held = sum(verdict is True for verdict in verdicts)
    judged = sum(verdict is not None for verdict in verdicts)
    elapsed = (datetime.now(UTC) - results.started).total_seconds()
    lines += ["", f"{held} of {judged} targets met; the benchmark took {elapsed / 60:.1f} min."]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="nox -s bench --", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"default: {ROUNDS}")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROUNDS} round, a smoke run")
    parser.add_argument(
        "--no-fail", action="store_true", help="exit 0 even when a target is missed"
    )
    parser.add_argument("--suite", nargs="+", default=list(SUITE), help="the test files to time")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder and say where")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Set up the scratch project, warm up, run the rounds, print the report."""
    args = parse_args(argv)
    results = Results(rounds=QUICK_ROUNDS if args.quick else args.rounds)
    scratch = Path(tempfile.mkdtemp(prefix="agentops-bench-"))
    try:
        say(f"scratch project in {scratch}")
        bench = make_bench(scratch, args.suite)
        all_groups = groups(bench.python)
        run_rounds(bench, prepare(bench, all_groups, results), results.rounds, results)
    except BenchError as error:
        say(f"bench: error: {error}")
        return 2
    finally:
        if args.keep:
            say(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    contenders = [contender for group in all_groups for contender in group.contenders]
    print(report(bench, contenders, results))
    missed = any(met(contender, results) is False for contender in contenders)
    return 1 if missed and not args.no_fail else 0


if __name__ == "__main__":
    sys.exit(main())
