# /// script
# dependencies = ["nox>=2025.2.9", "uv>=0.5"]
# ///
"""Every task that runs inside an environment: lint, tests, coverage, build, publish, verify.

`nox -l` is the menu. CI calls these same sessions, so any CI job is reproduced locally by the
command it prints. Environments are made by uv and filled by `uv sync --locked`, so a warm run
only checks that the environment still matches uv.lock.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import secrets
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))  # the shared helpers in scripts/

from scripts import gitops, interpreters  # noqa: E402
from scripts.artifacts import manifest  # noqa: E402
from scripts.indexes import index_targets  # noqa: E402
from scripts.indexes import local_index as local_index_helpers  # noqa: E402
from scripts.output import redact  # noqa: E402

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.download_python = "never"  # no network here for Python builds: use what is installed
# Locally a missing interpreter is skipped with a message; in CI (CI=true) it is an error.
nox.options.error_on_missing_interpreters = os.environ.get("CI", "").lower() in ("1", "true", "yes")

PYTHON_VERSIONS = interpreters.supported_versions(ROOT / "pyproject.toml")
DEFAULT_PYTHON = PYTHON_VERSIONS[0]
DIST = ROOT / "dist"
SessionFunction = Callable[[nox.Session], None]
# Environment variables that change what a session does: part of the command that reproduces it.
REPRODUCE_INPUTS = ("EXPECTED_VERSION", "VERIFY_DEADLINE", "LOCAL_INDEX_URL")
REPORTS = ROOT / "reports"
# The unit tests run on every Python; the suites that drive tools as subprocesses (which run on
# the default Python whatever pytest runs on) run once.
UNIT_SUITES = ("unit",)
# workflows first: its act runs are the longest tests, and a long test started last ends last.
MACHINERY_SUITES = ("workflows", "integration", "faults")

# nox finds an interpreter before a session starts. pyenv's shims serve only the versions pyenv
# has active, so the matrix's installed versions are added to that list (no file is written).
if _selection := interpreters.pyenv_selection(PYTHON_VERSIONS, os.environ, Path.cwd()):
    os.environ["PYENV_VERSION"] = _selection


def reproducible(**options: Any) -> Callable[[SessionFunction], SessionFunction]:
    """nox.session, plus: a failing session ends by printing the command that reproduces it."""

    def decorate(function: SessionFunction) -> SessionFunction:
        @functools.wraps(function)
        def run(session: nox.Session) -> None:
            try:
                function(session)
            except Exception:
                extra = f" -- {shlex.join(session.posargs)}" if session.posargs else ""
                inputs = "".join(
                    f"{name}={shlex.quote(os.environ[name])} "
                    for name in REPRODUCE_INPUTS
                    if os.environ.get(name)
                )
                command = f"{inputs}python3 -m uv run nox -s {session.name}{extra}"
                session.warn(f"reproduce locally: {redact(command, os.environ)}")
                raise

        return nox.session(**options)(run)

    return decorate


def sync(session: nox.Session, *groups: str, project: bool = True) -> None:
    """Make the session's environment exactly the locked project plus GROUPS."""
    session.env["UV_PYTHON_DOWNLOADS"] = "never"
    # Where PYTHONDONTWRITEBYTECODE is set (container images set it), every process a session
    # starts would compile every module it imports again: a build took 3.7 s instead of 2.0 s.
    session.env["PYTHONDONTWRITEBYTECODE"] = None
    args = ["--no-install-project"] if not project else []
    session.run_install(
        "uv",
        "sync",
        "--locked",
        "--quiet",
        "--no-default-groups",
        *(f"--group={group}" for group in groups),
        *args,
        f"--python={session.virtualenv.location}",
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
    )


def timed_log(session: nox.Session, started: float, what: str) -> None:
    """Say how long a long step took."""
    session.log(f"{what} in {time.perf_counter() - started:.1f} s")


@reproducible(python=DEFAULT_PYTHON, tags=["ci", "lint"])
def lint(session: nox.Session) -> None:
    """Ruff, mypy --strict, actionlint and the workflow checks; any problem fails it."""
    # mypy needs what the code imports (nox, invoke, packaging, the project's dependencies); it
    # reads the project itself from src/ (pyproject's files), so building it would be wasted.
    sync(session, "lint", "test", project=False)
    session.run("ruff", "check", *(session.posargs or ["."]))
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")  # strict: pyproject.toml's [tool.mypy]
    github = ROOT / ".github"
    for schema, pattern in (
        ("github-workflows", "workflows/*.yml"),
        ("github-actions", "actions/*/action.yml"),
        ("dependabot", "dependabot.yml"),
    ):
        found = sorted(github.glob(pattern))
        if found:
            session.run("check-jsonschema", f"--builtin-schema=vendor.{schema}", *map(str, found))
    workflows = sorted(github.glob("workflows/*.yml"))
    if workflows:  # with shellcheck on PATH, actionlint checks every `run:` script too
        session.run("actionlint", "-oneline", *map(str, workflows))
    if github.is_dir():
        session.run("zizmor", "--offline", "--no-progress", "--persona", "pedantic", str(github))


def _pytest(
    session: nox.Session,
    *args: str,
    suites: Sequence[str] = (),
    measured: str | None = None,
    workers_per_core: int = 1,
) -> None:
    # WORKERS_PER_CORE: the machinery suites mostly wait (on subprocesses, retries, listings);
    # with a worker per core the cores idled a third of the time. worksteal: an idle worker takes
    # queued tests from a busy one (durations vary 1000-fold). Exit code 5 (no test collected,
    # e.g. a -k that matches nothing) is not a failure. SUITES are the default folders: a path
    # among the posargs replaces them.
    named = any(Path(arg.split("::")[0]).exists() for arg in session.posargs)
    # A folder a checkout lacks is left out: pytest would otherwise collect nothing at all.
    folders = [ROOT / "tests" / suite for suite in suites]
    paths = [] if named else [str(folder) for folder in folders if folder.is_dir()]
    if not named and suites and not paths:
        session.log(f"no test folder of {', '.join(suites)} in this checkout: nothing to run")
        return
    sync(session, "test")  # only now: a checkout without the tests makes no environment
    workers = workers_per_core * (os.cpu_count() or 1)
    if paths:  # a copy's slice of the tests (the act runs') starts no more workers than modules
        workers = min(workers, sum(len(list(Path(path).rglob("test_*.py"))) for path in paths))
    # MEASURED: the run records its coverage in reports/, for `nox -s coverage` to combine.
    data = coverage_data(measured) if measured else None
    if data is not None:
        data.unlink(missing_ok=True)  # a run that stops early leaves no stale data behind
    session.run(
        "pytest",
        *["-n", str(workers if workers > 1 else 0), "--dist", "worksteal"],  # 0: in-process
        # The threshold is for the combined figure only (`nox -s coverage`).
        *(["--cov", "--cov-report=", "--cov-fail-under=0"] if data is not None else []),
        *args,
        *paths,
        *session.posargs,
        env={"COVERAGE_FILE": str(data)} if data is not None else {},
        success_codes=[0, 5],
    )


def coverage_data(run: str) -> Path:
    """Where a test session's coverage data goes (`nox -s coverage` combines every such file)."""
    return REPORTS / f"coverage-{run}.data"


@reproducible(python=PYTHON_VERSIONS, tags=["ci", "tests"])
def tests(session: nox.Session) -> None:
    """The unit tests on one Python (JUnit XML in reports/); `nox -t tests` adds the machinery."""
    _pytest(
        session,
        f"--junitxml={REPORTS / f'junit-{session.python}.xml'}",
        suites=UNIT_SUITES,
        measured=str(session.python),
    )


@reproducible(python=DEFAULT_PYTHON, tags=["ci", "tests"])
def machinery(session: nox.Session) -> None:
    """The integration, workflow and fault suites, once: they drive nox, git, uv and act."""
    _pytest(
        session,
        f"--junitxml={REPORTS / 'junit-machinery.xml'}",
        "-m",
        "not rehearsals",
        suites=MACHINERY_SUITES,
        measured="machinery",
        workers_per_core=3,
    )


@reproducible(python=DEFAULT_PYTHON, tags=["ci"])
def coverage(session: nox.Session) -> None:
    """Combine the test sessions' coverage: reports/coverage.xml, failing under the threshold."""
    found = sorted(REPORTS.glob(coverage_data("*").name))
    if not found:
        session.error(
            f"no coverage data in {REPORTS.relative_to(ROOT)}/: run `nox -s tests` (or one "
            "tests-X.Y session) first; in CI the test jobs upload theirs"
        )
    sync(session, "test", project=False)
    session.log(f"combining {', '.join(path.name for path in found)}")
    combined = str(REPORTS / ".coverage")
    session.run("coverage", "combine", "--keep", "--quiet", f"--data-file={combined}", *found)
    xml = REPORTS / "coverage.xml"
    # The XML for CI whatever the total; then the table, which fails under the threshold.
    session.run(
        "coverage", "xml", "--quiet", "--fail-under=0", f"--data-file={combined}", "-o", str(xml)
    )
    session.run("coverage", "report", f"--data-file={combined}")


@reproducible(python=DEFAULT_PYTHON, default=False, tags=["faults"])
def faults(session: nox.Session) -> None:
    """The fault-injection scenarios and 200 chaos schedules, ending with their totals."""
    session.env["FAULTS_CHAOS_SCHEDULES"] = os.environ.get("FAULTS_CHAOS_SCHEDULES", "200")
    _pytest(session, "-m", "faults", str(ROOT / "tests" / "faults"), workers_per_core=3)


@reproducible(python=DEFAULT_PYTHON, default=False, tags=["ci", "rehearsals"])
def rehearsals(session: nox.Session) -> None:
    """The release's variants rehearsed under act: a pre-release, a hotfix, a maintenance line."""
    _pytest(
        session,
        f"--junitxml={REPORTS / 'junit-rehearsals.xml'}",
        "-m",
        "rehearsals",
        suites=("workflows",),
    )


@reproducible(python=DEFAULT_PYTHON, default=False, tags=["mutants"])
def mutants(session: nox.Session) -> None:
    """Mutation-test the modules that hold the rules (mutmut): each one's score and survivors."""
    sync(session, "mutants")
    session.run("mutmut", "run", "--max-children", str(os.cpu_count() or 1))
    session.run(
        "python", "-m", "scripts.mutants", "mutants", "--minimum", "90",
        "--equivalent", str(ROOT / "tests" / "equivalent_mutants.toml"),
    )  # fmt: skip


@reproducible(python=DEFAULT_PYTHON, default=False, tags=["bench"])
def bench(session: nox.Session) -> None:
    """Time the sessions against the bare tools, side by side, and print the ratios."""
    sync(session, "bench")
    session.run("python", "-m", "benchmarks", *session.posargs)


def refuse_other_version(session: nox.Session, expected: str) -> None:
    """Fail before building when setuptools-scm gives the checkout another version than EXPECTED."""
    try:
        wanted = manifest.expected_version(expected)
    except manifest.ManifestError as error:
        session.error(str(error))
    output = session.run("python", "-m", "setuptools_scm", silent=True)
    found = str(output).strip().splitlines()[-1] if output else "unknown"
    try:
        same = manifest.expected_version(found) == wanted
    except manifest.ManifestError:
        same = False  # not a version at all: say what setuptools-scm answered
    if not same:
        session.error(
            f"the checkout is at version {found} (setuptools-scm), not the expected {wanted}: "
            "is the release tag on this commit? Nothing was built; dist/ is as it was"
        )


def build_dist(session: nox.Session, expected_version: str | None) -> dict[str, str]:
    """Build sdist and wheel into a fresh dist/, check them, and write dist/SHA256SUMS."""
    started = time.perf_counter()
    if gitops.is_repository(ROOT) and (problem := gitops.shallow_problem(ROOT)):
        session.error(problem)  # before dist/ is touched: the last good build stays
    if expected_version:
        refuse_other_version(session, expected_version)
    shutil.rmtree(DIST, ignore_errors=True)
    # The one build path, with the backend locked in the release group (no isolated download):
    # normalized to the commit's time, so the same commit builds the same bytes.
    session.run("python", "-m", "scripts.artifacts.reproducible", "build", str(DIST))
    sums = manifest.check_dist(DIST)
    session.run("twine", "check", "--strict", *(str(DIST / name) for name in sorted(sums)))
    if expected_version:
        try:
            manifest.check_version(sums, expected_version)
        except manifest.ManifestError as error:
            session.error(str(error))
    timed_log(session, started, f"built {', '.join(sorted(sums))}")
    return sums


@reproducible(python=DEFAULT_PYTHON, tags=["ci", "release"])
def build(session: nox.Session) -> None:
    """Build sdist and wheel into dist/, twine-check them, write SHA256SUMS; check the version."""
    parser = argparse.ArgumentParser(prog="nox -s build --")
    parser.add_argument(
        "--expected-version",
        default=os.environ.get("EXPECTED_VERSION") or None,
        help="fail unless the artifacts carry exactly this version (default: $EXPECTED_VERSION)",
    )
    parser.add_argument(
        "--reproducible-check",
        action="store_true",
        help="then build HEAD twice in clean clones (other umask, TZ, path) and compare the bytes",
    )
    args = parser.parse_args(session.posargs)
    sync(session, "release", project=False)
    build_dist(session, args.expected_version)
    if args.reproducible_check:
        session.run("python", "-m", "scripts.artifacts.reproducible", "check")


@contextlib.contextmanager
def local_index(session: nox.Session, packages: Path) -> Iterator[dict[str, str]]:
    """Run a pypiserver on 127.0.0.1 over PACKAGES, uploads guarded by generated credentials.

    Yields the environment that points publish and verify at it. With LOCAL_INDEX_URL already set
    (a server someone else runs), that one is used instead.
    """
    if os.environ.get("LOCAL_INDEX_URL"):
        yield {}
        return
    password = secrets.token_urlsafe(24)
    started = time.perf_counter()
    server = local_index_helpers.start_local_index(
        packages,
        credentials=("rehearsal", password),
        server_command=[str(Path(session.bin) / "pypi-server")],
    )
    with server:
        timed_log(session, started, f"local index serving {packages} at {server.url}")
        yield {
            "LOCAL_INDEX_URL": server.url,
            "TWINE_USERNAME": "rehearsal",
            "TWINE_PASSWORD": password,
        }


def _release_args(session: nox.Session, name: str, default_target: str | None) -> list[str]:
    """Split posargs into TARGET (or the session's fixed one) and the helper's own options."""
    args = list(session.posargs)
    if default_target is not None:
        return [default_target, *args]
    usage = f"Usage: nox -s {name} -- testpypi|pypi|local|INDEX-NAME|URL [--simple-url URL] [...]"
    if not args or args[0].startswith("-"):
        if name == "publish":  # an upload goes where it is told, never to a default
            session.error(f"{usage} (no target given: say where to upload)")
        session.log(f"no target given: {name} from the local index (`nox -s {name} -- local`)")
        return ["local", *args]
    try:  # the helper's own rule for what a target is (`local` only needs some URL here)
        index_targets.resolve_target(args[0], local_url="http://127.0.0.1/")
    except ValueError:
        session.error(usage)
    return args


def _run_release_step(session: nox.Session, module: str, args: Sequence[str]) -> None:
    """Run scripts/MODULE with ARGS, against a local index when the target is `local`."""
    # Where GitHub's OIDC identity is at hand, publish signs PEP 740 attestations with it.
    signing = module == "publish" and os.environ.get("ACTIONS_ID_TOKEN_REQUEST_URL")
    sync(session, "release", *(["attest"] if signing else []), project=False)
    if args[0] != "local":
        session.run("python", "-m", f"scripts.artifacts.{module}", *args)
        return
    with local_index(session, ROOT / ".local-index" / "packages") as env:
        session.run("python", "-m", f"scripts.artifacts.{module}", *args, env=env)


@reproducible(python=DEFAULT_PYTHON, default=False, tags=["release"])
def publish(session: nox.Session) -> None:
    """Upload the files of dist/SHA256SUMS to testpypi, pypi, local or URL; skip what is there."""
    _run_release_step(session, "publish", _release_args(session, "publish", None))


@reproducible(python=DEFAULT_PYTHON, default=False, tags=["release"])
def publish_testpypi(session: nox.Session) -> None:
    """Publish to TestPyPI (`nox -s publish -- testpypi`)."""
    _run_release_step(session, "publish", _release_args(session, "publish_testpypi", "testpypi"))


@reproducible(python=DEFAULT_PYTHON, default=False, tags=["release"])
def verify(session: nox.Session) -> None:
    """Wait for the version on an index, install it fresh and smoke-test the agentops CLI."""
    _run_release_step(session, "verify", _release_args(session, "verify", None))


@reproducible(python=DEFAULT_PYTHON, default=False, tags=["release"])
def verify_testpypi(session: nox.Session) -> None:
    """Verify from TestPyPI (`nox -s verify -- testpypi`)."""
    _run_release_step(session, "verify", _release_args(session, "verify_testpypi", "testpypi"))


@reproducible(python=DEFAULT_PYTHON, default=False, tags=["release"])
def rehearse(session: nox.Session) -> None:
    """The staging path on a throwaway local index: build, publish, verify, publish again."""
    parser = argparse.ArgumentParser(prog="nox -s rehearse --")
    parser.add_argument("--deadline", default="60", help="verify's wait for files (seconds)")
    args = parser.parse_args(session.posargs)
    sync(session, "release", project=False)
    timings: list[tuple[str, float]] = []

    def step(name: str, action: Callable[[], object]) -> None:
        session.log(f"--- {name}")
        started = time.perf_counter()
        action()
        timings.append((name, time.perf_counter() - started))

    def script(module: str, *args: str) -> None:
        session.run("python", "-m", f"scripts.artifacts.{module}", "local", *args, env=env)

    env: dict[str, str] = {}
    total = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="agentops-rehearsal-") as temporary:
        step("build", lambda: build_dist(session, expected_version=None))
        with contextlib.ExitStack() as stack:
            server = local_index(session, Path(temporary) / "packages")
            step("start local index", lambda: env.update(stack.enter_context(server)))
            step("publish local", lambda: script("publish"))
            step("verify local", lambda: script("verify", f"--deadline={args.deadline}"))
            step("publish again (must skip)", lambda: script("publish", "--require-nothing-new"))
    timings.append(("total", time.perf_counter() - total))
    session.log("rehearsal passed:")
    for name, seconds in timings:
        session.log(f"  {name:<28} {seconds:6.1f} s")


if __name__ == "__main__":
    nox.main()
