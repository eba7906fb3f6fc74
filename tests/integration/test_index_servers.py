"""publish and verify against two real index servers with other layouts: pypiserver and devpi.

pypiserver takes uploads at its root and serves simple/ below it; devpi takes them at
/USER/INDEX/ and serves +simple/ below that, answering .../simple/ with an error. Both are started
here on 127.0.0.1; each test is the first run, the re-run, and the configuration errors.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts import processes
from scripts.indexes import index, local_index
from tests import helpers
from tests.helpers import ScriptRun as Run

pytestmark = [pytest.mark.integration, pytest.mark.posix]  # posix: devpi in a process group

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "agentops-accelerator"
VERSION, WHEEL, SDIST = helpers.BUILT_VERSION, helpers.BUILT_WHEEL, helpers.BUILT_SDIST
USER = "releaser"
PASSWORD = "s3cr3t-index-pa55"
DEVPI_BIN = Path(sys.executable).parent
STARTUP_DEADLINE = 60.0


@dataclass
class Server:
    """A running index: where uploads go, where its simple API is, and how to list a project."""

    kind: str
    upload_url: str
    simple_url: str

    def files(self) -> list[str]:
        """The file names the simple API lists for the project (none: [])."""
        return sorted(index.list_files(self.simple_url, PROJECT))


def _call(url: str, method: str, payload: dict[str, object], auth: tuple[str, str]) -> None:
    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 (our own server on 127.0.0.1)
        url,
        data=json.dumps(payload).encode(),
        method=method,
        headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"},
    )
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310
        pass


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"devpi-server exited {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310
                return
        except (urllib.error.URLError, OSError):
            # Not listening yet: the next try comes at once if the server exits meanwhile.
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.1)
    pytest.fail(f"devpi-server did not answer {url} within {STARTUP_DEADLINE:g} s")


@pytest.fixture(scope="module")
def devpi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A devpi-server on 127.0.0.1 with user USER: yields (its root URL, an index maker's URL)."""
    base = tmp_path_factory.mktemp("devpi")
    serverdir = base / "server"
    env = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    subprocess.run(
        [DEVPI_BIN / "devpi-init", "--serverdir", serverdir, "--no-root-pypi",
         "--root-passwd", PASSWORD],
        check=True, capture_output=True, env=env, timeout=120,
    )  # fmt: skip
    port = local_index.free_port()
    log = base / "devpi.log"
    with log.open("wb") as output:
        # The argon2 options (devpi's own tests lower them too): by default the server derives its
        # login-token key from a random secret with 512 MiB and 16 passes, 7 CPU-seconds a start.
        process = processes.start(
            [DEVPI_BIN / "devpi-server", "--serverdir", serverdir, "--host", "127.0.0.1",
             "--port", str(port), "--offline-mode", "--argon2-memory-cost", "8",
             "--argon2-time-cost", "1", "--argon2-parallelism", "1"],
            env=env, output=output, own_group=True,
        )  # fmt: skip
    try:
        root = f"http://127.0.0.1:{port}/"
        _wait_until_answering(f"{root}+api", process, log)
        _call(f"{root}{USER}", "PUT", {"password": PASSWORD}, ("root", PASSWORD))
        yield root, log.as_posix()
    finally:
        processes.stop(process)


def devpi_index(root: str, name: str) -> Server:
    """A new non-volatile index USER/NAME (like PyPI, a file once uploaded stays)."""
    _call(f"{root}{USER}/{name}", "PUT", {"bases": [], "volatile": False}, (USER, PASSWORD))
    upload = f"{root}{USER}/{name}/"
    return Server("devpi", upload, f"{upload}+simple/")


@pytest.fixture
def pypiserver(tmp_path: Path) -> Iterator[Server]:
    running = local_index.start_local_index(tmp_path / "packages", credentials=(USER, PASSWORD))
    try:
        yield Server("pypiserver", running.url, f"{running.url}simple/")
    finally:
        running.stop()


@pytest.fixture(params=["pypiserver", "devpi"])
def server(request: pytest.FixtureRequest) -> Server:
    if request.param == "pypiserver":
        started: Server = request.getfixturevalue("pypiserver")
        return started
    root, _ = request.getfixturevalue("devpi")
    return devpi_index(root, request.node.originalname.removeprefix("test_")[:30])


def run(module: str, *args: str | Path, cwd: Path = ROOT) -> Run:
    """python -m scripts.MODULE ARGS; the password never shows."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", f"scripts.artifacts.{module}", *map(str, args)],
        cwd=cwd,
        env=helpers.release_env(USER, PASSWORD),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert PASSWORD not in result.stdout + result.stderr
    return Run(result.returncode, result.stdout, result.stderr, time.monotonic() - started)


def helpers_naming(server: Server, folder: Path) -> Path:
    """A copy of scripts/ whose pyproject.toml names SERVER `team` in [[tool.uv.index]]."""
    ignored = shutil.ignore_patterns("__pycache__", "stand-ins")
    shutil.copytree(ROOT / "scripts", folder / "scripts", ignore=ignored)
    # The project's own pyproject.toml (its name, its command), plus the team's index.
    (folder / "pyproject.toml").write_text(
        (ROOT / "pyproject.toml").read_text(encoding="utf-8")
        + f'\n[[tool.uv.index]]\nname = "team"\nurl = "{server.simple_url}"\n'
        f'publish-url = "{server.upload_url}"\nexplicit = true\n',
        encoding="utf-8",
    )
    return folder


def test_publish_and_verify_by_upload_url_or_by_name_and_a_rerun_skips(
    server: Server, built_dist: Path, built_project: Path, tmp_path: Path
) -> None:
    wheel, sdist = WHEEL, SDIST
    first = run("publish", server.upload_url, "--dist", built_dist)
    assert first.code == 0, first
    assert f"simple API of {server.upload_url}: {server.simple_url}" in first.out
    assert f"published to {server.upload_url}: 2 uploaded, 0 already there" in first.out
    assert server.files() == sorted([wheel, sdist])

    # The same index by the name uv's [[tool.uv.index]] gives it: url and publish-url, no search.
    named = helpers_naming(server, tmp_path / "helpers")
    again = run("publish", "team", "--dist", built_dist, cwd=named)
    assert again.code == 0, again
    assert "published to team: 0 uploaded, 2 already there" in again.out
    assert "simple API of" not in again.out
    verified = run(
        "verify", "team", "--dist", built_dist, "--deadline", "30", "--rebuild-from-tag",
        "--repository", built_project, cwd=named,
    )  # fmt: skip
    assert verified.code == 0, verified
    assert verified.err == ""
    assert f"sha256 of {wheel}, {sdist} match v{VERSION} rebuilt" in verified.out
    assert f"waiting for {wheel}, {sdist} on {server.simple_url}" in verified.out
    for check in ("agentops --version", "agentops --help", "agentops init"):
        assert f"ok      {check}" in verified.out
    assert f"verified {PROJECT}=={VERSION} from team" in verified.out


def test_a_wrong_simple_url_is_a_configuration_error_at_once(
    server: Server, built_dist: Path
) -> None:
    wrong = f"{server.upload_url}nowhere/+simple/"
    for module in ("publish", "verify"):
        result = run(module, server.upload_url, "--simple-url", wrong, "--dist", built_dist)
        assert result.code == 1, result
        assert result.err == (
            f"{module}: error: no simple API for {server.upload_url}: {wrong} answers HTTP 404 "
            "Not Found (check the simple URL)\n"
        )
        assert result.seconds < 5
    assert server.files() == []  # publish uploaded nothing
