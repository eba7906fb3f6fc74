"""Helpers for tests: real git repositories, copies of this project, virtual environments."""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scripts.artifacts import reproducible
from scripts.processes import Stoppable
from scripts.scratch import GIT_IDENTITY, git
from scripts.scratch import ROOT as ROOT
from scripts.scratch import commit as commit
from scripts.scratch import copy_project as copy_project
from tasks.act import STAND_IN_BIN as STAND_IN_BIN
from tests import invoking


def venv_bin(venv: Path, name: str) -> Path:
    """The path of executable NAME inside virtual environment VENV."""
    if os.name == "nt":
        return venv / "Scripts" / f"{name}.exe"
    return venv / "bin" / name


def release_world(root: Path) -> tuple[Path, Path]:
    """A project copy with a bare origin: main tagged v0.1.0, develop checked out, both pushed.

    A copy of one world made per process on first use: copying takes a twentieth of making one.
    """
    shutil.copytree(_world_template(), root, symlinks=True, dirs_exist_ok=True)
    work, origin = root / "work", root / "origin.git"
    git(work, "remote", "set-url", "origin", str(origin))
    return work, origin


@functools.cache
def _world_template() -> Path:
    root = Path(tempfile.mkdtemp(prefix="release-world-"))
    atexit.register(shutil.rmtree, root, True)
    _make_release_world(root)
    return root


def _make_release_world(root: Path) -> tuple[Path, Path]:
    origin = root / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    work = copy_project(root / "work")
    git(work, "remote", "add", "origin", str(origin))
    git(work, "tag", "-a", "v0.1.0", "-m", "Release 0.1.0")
    git(work, "push", "-q", "origin", "main", "v0.1.0")
    git(work, "branch", "-q", "--set-upstream-to", "origin/main", "main")
    git(work, "switch", "-q", "-c", "develop")
    git(work, "push", "-q", "--set-upstream", "origin", "develop")
    # Copied for every test: packed, and without git's sample hooks, it is 103 files in 50 folders
    # instead of 310 in 210, and copies in a third of the time.
    for repo, git_dir in ((work, work / ".git"), (origin, origin)):
        git(repo, "repack", "-a", "-d", "-q")
        for sample in (git_dir / "hooks").glob("*.sample"):
            sample.unlink()
    return work, origin


def deny_pushes(origin: Path, pattern: str) -> None:
    """Make the bare ORIGIN reject pushes of refs matching PATTERN (a shell case pattern)."""
    hook = origin / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\nwhile read old new ref; do\n"
        f'  case "$ref" in {pattern}) echo "denied: $ref" >&2; exit 1;; esac\ndone\n'
    )
    hook.chmod(0o755)


def repo_state(work: Path, origin: Path) -> dict[str, object]:
    """Everything a task must leave untouched when it refuses: refs, HEAD, tree, CHANGELOG."""
    refs = "--format=%(refname) %(objectname)"
    return {
        "refs": git(work, "for-each-ref", refs, "refs/heads", "refs/tags"),
        "head": git(work, "rev-parse", "--symbolic-full-name", "HEAD"),
        "status": git(work, "status", "--porcelain"),
        "changelog": (work / "CHANGELOG.md").read_bytes(),
        "origin": git(origin, "for-each-ref", refs),
    }


def untouched(repo: Path) -> dict[str, object]:
    """What a command that only reads REPO must leave as it was: every ref, the branch checked
    out and its commit, the index and working tree, the configuration (remotes)."""
    return {
        "refs": git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
        "branch": git(repo, "rev-parse", "--symbolic-full-name", "HEAD"),
        "commit": git(repo, "rev-parse", "HEAD"),
        "status": git(repo, "status", "--porcelain", "--untracked-files=all"),
        "config": (repo / ".git" / "config").read_bytes(),
    }


def help_shows(
    main: Callable[[list[str]], int],
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    shown: list[str],
) -> None:
    """MAIN(ARGV) exits 0 (a `--help`) and prints each of SHOWN as whole words (argparse wraps
    the text to the terminal's width: it is read as one line)."""
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for text in shown:
        assert f" {text} " in f" {out} "


def run_tool(
    cwd: Path,
    *args: str,
    env: dict[str, str] | None = None,
    own_process: bool = False,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ARGS in CWD (stdin empty) with the gh stand-in first on PATH and a fixed git identity
    (`python -m invoke` in this process unless OWN_PROCESS: tests/invoking.py), within TIMEOUT
    seconds when it runs in a process of its own."""
    base = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    path = os.pathsep.join([str(STAND_IN_BIN), base.get("PATH", "")])
    full = {**base, **GIT_IDENTITY, "PATH": path, "GIT_CONFIG_NOSYSTEM": "1", **(env or {})}
    return invoking.run(list(args), cwd, full, timeout, own_process=own_process)


EMPTY_PAGE = b"<html><body></body></html>"


class RecordingIndex(Stoppable):
    """An HTTP server on 127.0.0.1 that answers 404 to everything and records each request.

    It proves that bad input fails before any request reaches an index. A GET of one of
    SIMPLE_ROOTS (paths) answers an empty simple index instead: the index passes the check of
    its simple API, and what comes after it can be seen. PAGES ({path: (content type, body)})
    are recorded answers it gives as they are.
    """

    def __init__(
        self,
        simple_roots: tuple[str, ...] = (),
        pages: dict[str, tuple[str, bytes]] | None = None,
    ) -> None:
        self.requests: list[tuple[str, str]] = []
        recorded = self.requests
        answers = pages or {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorded.append((self.command, self.path))
                content_type, body = answers.get(self.path, ("text/html", EMPTY_PAGE))
                if self.command == "GET" and (self.path in simple_roots or self.path in answers):
                    self.send_response(200)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


try:
    import fcntl

    HAVE_FCNTL = True
except ImportError:  # pragma: no cover (Windows: no locking; each worker builds its own)
    HAVE_FCNTL = False

BUILT_VERSION = "1.2.3"  # the version of the distributions every suite shares
BUILT_WHEEL = f"agentops_accelerator-{BUILT_VERSION}-py3-none-any.whl"
BUILT_SDIST = f"agentops_accelerator-{BUILT_VERSION}.tar.gz"


@dataclass
class ScriptRun:
    """How a run of one of the release helpers (python -m scripts.X) ended."""

    code: int
    out: str
    err: str
    seconds: float


def release_env(user: str, password: str) -> dict[str, str]:
    """This environment without any credentials or index settings, then USER and PASSWORD."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TWINE_", "ACTIONS_ID_TOKEN_"))
        and name not in ("PYPI_TOKEN", "TEST_PYPI_TOKEN", "LOCAL_INDEX_URL", "VERIFY_DEADLINE")
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["TWINE_USERNAME"] = user
    env["TWINE_PASSWORD"] = password
    return env


def shared_dir(base: Path) -> Path:
    """A folder all xdist workers of this run share, given pytest's base temp BASE."""
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on PATH (a no-op where fcntl is missing)."""
    if not HAVE_FCNTL:  # pragma: no cover
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_dist(project: Path, outdir: Path) -> Path:
    """Build PROJECT's sdist and wheel into OUTDIR (no isolation, normalized as `nox -s build`
    does) and write its SHA256SUMS."""
    reproducible.build(project, outdir)
    return outdir


def built_once(shared: Path) -> Path:
    """The wheel, sdist and SHA256SUMS of this project tagged v1.2.3, built once in SHARED (the
    repository it was built from is kept beside it: `built_project`).

    The first xdist worker to ask builds them under a lock; the others wait and reuse them.
    """
    dist = shared / f"dist-{BUILT_VERSION}"
    with locked(shared / f"dist-{BUILT_VERSION}.lock"):
        if not (dist / "SHA256SUMS").is_file():
            work = Path(tempfile.mkdtemp(prefix="build-", dir=shared))
            project = copy_project(built_project(shared))
            git(project, "tag", "-a", f"v{BUILT_VERSION}", "-m", f"Release {BUILT_VERSION}")
            build_dist(project, work / "dist").replace(dist)
            shutil.rmtree(work, ignore_errors=True)
    return dist


def built_project(shared: Path) -> Path:
    """The repository (tagged v1.2.3) that `built_once` built from, in SHARED."""
    return shared / f"project-{BUILT_VERSION}"
