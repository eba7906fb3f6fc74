"""publish and verify, run as the nox sessions run them, against a real pypiserver and faults.

A scripted proxy in front of the server answers 5xx, 4xx, slowly or without hashes when told to,
and counts what reached it. Every run's output is checked for the upload password.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.artifacts.manifest import sha256_file
from scripts.indexes import index, local_index
from scripts.indexes.local_index import LocalIndex
from tests import helpers
from tests.helpers import ScriptRun as Run
from tests.helpers import build_dist, commit, copy_project, git
from tests.proxy import ScriptedProxy, start_proxy

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "agentops-accelerator"
USER = "rehearsal"
SECRET = "s3cr3t-XYZ-token"
WRONG_PASSWORD = "wrong-pa55word"
VERSION, WHEEL, SDIST = helpers.BUILT_VERSION, helpers.BUILT_WHEEL, helpers.BUILT_SDIST


# --- distributions: the good one is the run's shared build, the broken one built here -----------


def broken_project(base: Path) -> Path:
    """The project at tag v1.2.3, with a `main()` that raises: it installs, but does not work.

    Same version as the good one, other bytes: what a stale cache could hold.
    """
    repo = copy_project(base / "project")
    cli = repo / "src" / "agentops" / "cli.py"
    text = cli.read_text()
    working = '    """Run the command line (the `agentops` console script)."""\n    app()\n'
    assert working in text
    broken = '    """Broken on purpose."""\n    raise RuntimeError("broken on purpose")\n'
    commit(repo, "break the CLI", files={"src/agentops/cli.py": text.replace(working, broken)})
    git(repo, "tag", f"v{VERSION}")
    return repo


@pytest.fixture
def good_dist(built_dist: Path) -> Path:
    """The wheel, sdist and SHA256SUMS of the project at v1.2.3 (shared: read-only)."""
    return built_dist


@pytest.fixture(scope="module")
def broken_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, sdist and SHA256SUMS of the broken project at v1.2.3."""
    base = tmp_path_factory.mktemp("broken")
    return build_dist(broken_project(base), base / "dist")


@pytest.fixture(scope="module")
def impostor_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel with the good wheel's exact file name but other bytes, written by hand."""
    directory = tmp_path_factory.mktemp("impostor")
    dist_info = f"agentops_accelerator-{VERSION}.dist-info"
    files = {
        "agentops/__init__.py": b"__version__ = 'not the real one'\n",
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {PROJECT}\nVersion: {VERSION}\n"
            "Summary: Other bytes under the same name.\n\n"
        ).encode(),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = [
        f"{path},sha256="
        f"{base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},"
        f"{len(data)}"
        for path, data in files.items()
    ]
    files[f"{dist_info}/RECORD"] = ("\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n").encode()
    wheel = directory / WHEEL
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


# --- a real pypiserver, and a scripted proxy in front of it -------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalIndex]:
    running = local_index.start_local_index(
        tmp_path / "packages", credentials=(USER, SECRET), log_file=tmp_path / "pypiserver.log"
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def proxy(server: LocalIndex) -> Iterator[ScriptedProxy]:
    scripted, stop = start_proxy(server.port)
    try:
        yield scripted
    finally:
        stop()


# --- running the helpers as the nox sessions do ------------------------------------------------


def release_env(password: str = SECRET) -> dict[str, str]:
    return helpers.release_env(USER, password)


def run(
    module: str,
    url: str,
    *args: str | Path,
    password: str = SECRET,
    extra_env: dict[str, str] | None = None,
) -> Run:
    """python -m scripts.MODULE local --local-url URL ARGS, from the project root."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", f"scripts.artifacts.{module}", "local", "--local-url", url]
        + [str(arg) for arg in args],
        cwd=ROOT,
        env={**release_env(password), **(extra_env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Whatever happened, the password never shows, in any run.
    for secret in (SECRET, password):
        assert secret not in result.stdout
        assert secret not in result.stderr
    return Run(result.returncode, result.stdout, result.stderr, time.monotonic() - started)


def one_line_error(result: Run, module: str = "publish") -> str:
    assert result.code == 1, result
    assert result.err.startswith(f"{module}: error: "), result.err
    assert result.err.count("\n") == 1, result.err
    return result.err.removeprefix(f"{module}: error: ").rstrip("\n")


def packages(server: LocalIndex) -> dict[str, str]:
    """What the index holds: the files in its packages folder, with their sha256."""
    return {path.name: sha256_file(path) for path in sorted(server.packages_dir.iterdir())}


def built(dist: Path, *names: str) -> dict[str, str]:
    return {name: sha256_file(dist / name) for name in names}


def seed(server: LocalIndex, *files: Path) -> None:
    """Upload FILES with twine directly, as an earlier (partial or other) release did."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "twine",
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
            "--repository-url",
            server.url,
            *files,
        ],
        env={**release_env(), "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(packages(server)) == sorted(file.name for file in files)


# --- publish ------------------------------------------------------------------------------------


def test_publish_uploads_both_files_then_skips_both(
    server: LocalIndex, proxy: ScriptedProxy, good_dist: Path
) -> None:
    first = run("publish", proxy.url, "--dist", good_dist)
    assert first.code == 0, first
    assert f"upload  {WHEEL}" in first.out
    assert f"upload  {SDIST}" in first.out
    assert packages(server) == built(good_dist, WHEEL, SDIST)
    assert index.list_files(server.simple_url, PROJECT, attempts=1) == built(
        good_dist, WHEEL, SDIST
    )
    assert proxy.count("POST") == 2

    proxy.reset()
    again = run("publish", proxy.url, "--dist", good_dist, "--require-nothing-new")
    assert again.code == 0, again
    assert f"skip    {WHEEL} (already on local, same sha256)" in again.out
    assert f"skip    {SDIST} (already on local, same sha256)" in again.out
    assert "published to local: 0 uploaded, 2 already there" in again.out
    assert proxy.count("POST") == 0
    assert proxy.count("GET") == 1  # the listing: the project is there, so no check of the root
    assert packages(server) == built(good_dist, WHEEL, SDIST)


def test_require_nothing_new_uploads_nothing(
    server: LocalIndex, proxy: ScriptedProxy, good_dist: Path
) -> None:
    result = run("publish", proxy.url, "--dist", good_dist, "--require-nothing-new")
    assert one_line_error(result) == (
        f"expected every file on local already, but {WHEEL}, {SDIST} missing; nothing uploaded"
    )
    assert proxy.count("POST") == 0
    assert packages(server) == {}


def test_same_version_from_other_bytes_is_a_conflict(
    server: LocalIndex, proxy: ScriptedProxy, good_dist: Path, impostor_wheel: Path
) -> None:
    seed(server, impostor_wheel)
    result = run("publish", proxy.url, "--dist", good_dist)
    assert one_line_error(result) == (
        f"{WHEEL} already on local with a different sha256: this version was already released "
        "from other bytes; release a new version instead"
    )
    assert proxy.count("POST") == 0
    assert packages(server) == {WHEEL: sha256_file(impostor_wheel)}


def test_a_partial_publish_is_completed(
    server: LocalIndex, proxy: ScriptedProxy, good_dist: Path
) -> None:
    seed(server, good_dist / WHEEL)
    result = run("publish", proxy.url, "--dist", good_dist)
    assert result.code == 0, result
    assert f"skip    {WHEEL}" in result.out
    assert f"upload  {SDIST}" in result.out
    assert "published to local: 1 uploaded, 1 already there" in result.out
    assert proxy.count("POST") == 1
    assert packages(server) == built(good_dist, WHEEL, SDIST)


@pytest.mark.parametrize("seeded", ["good", "impostor"])
def test_an_index_without_hashes_is_compared_by_download(
    server: LocalIndex,
    proxy: ScriptedProxy,
    good_dist: Path,
    impostor_wheel: Path,
    seeded: str,
) -> None:
    """No sha256 in the listing must not read as "other bytes": publish fetches and compares."""
    wheel = good_dist / WHEEL if seeded == "good" else impostor_wheel
    seed(server, wheel, good_dist / SDIST)
    proxy.strip_hashes = True
    assert index.list_files(f"{proxy.url}simple/", PROJECT, attempts=1) == {WHEEL: "", SDIST: ""}
    result = run("publish", proxy.url, "--dist", good_dist, "--require-nothing-new")
    assert f"{WHEEL} is listed without a sha256: downloading it to compare" in result.out
    if seeded == "good":
        assert result.code == 0, result
        assert "published to local: 0 uploaded, 2 already there" in result.out
    else:
        assert "already released from other bytes" in one_line_error(result)
    assert proxy.count("POST") == 0
    assert packages(server) == {WHEEL: sha256_file(wheel), SDIST: sha256_file(good_dist / SDIST)}


def test_an_index_that_is_down_fails_in_bounded_time(good_dist: Path) -> None:
    url = f"http://127.0.0.1:{local_index.free_port()}/"
    result = run("publish", url, "--dist", good_dist, "--attempts", "2")
    message = one_line_error(result)
    assert message.startswith(f"index {url}simple/{PROJECT}/ not reachable after 2 attempts: "), (
        message
    )
    assert "Connection refused" in message
    assert "retry 2/2 in 0.5 s" in result.out
    assert result.seconds < 5


@pytest.mark.parametrize(
    ("methods", "times", "retries", "posts"),
    [
        pytest.param(("GET",), 2, ["2/3 in 0.5 s", "3/3 in 1.0 s"], 2, id="listing"),
        # twine's Repository.upload posts again, at once, up to 5 times on a 5xx: one gets through.
        pytest.param(("POST",), 2, [], 4, id="upload-twine-retries"),
        # 5 x 503 wears out one upload; publish looks, waits, and uploads again.
        pytest.param(("POST",), 5, ["2/3 in 0.5 s"], 7, id="upload-publish-retries"),
    ],
)
def test_503_then_recovering_succeeds(
    server: LocalIndex,
    proxy: ScriptedProxy,
    good_dist: Path,
    methods: tuple[str],
    times: int,
    retries: list[str],
    posts: int,
) -> None:
    proxy.fail(503, methods=methods, times=times)
    result = run("publish", proxy.url, "--dist", good_dist, "--attempts", "3")
    assert result.code == 0, result
    assert [
        line.rpartition("retry ")[2] for line in result.out.splitlines() if "retry" in line
    ] == (retries)
    assert proxy.count("POST") == posts
    assert packages(server) == built(good_dist, WHEEL, SDIST)


@dataclass(frozen=True)
class Fault:
    status: int = 0
    slow: bool = False
    methods: tuple[str, ...] = ("GET", "POST")
    attempts: int = 2
    options: tuple[str, ...] = ()


@pytest.mark.parametrize(
    ("fault", "message", "gets", "posts", "under"),
    [
        pytest.param(
            Fault(503, methods=("GET",)),
            "index {url}simple/agentops-accelerator/ not reachable after 2 attempts: "
            "HTTP 503 Service Unavailable",
            2,
            0,
            5,
            id="503-listing",
        ),
        pytest.param(
            Fault(503, methods=("POST",)),
            f"upload of {WHEEL} to {{url}} failed after 2 attempts: HTTP 503 Service Unavailable",
            4,  # + the check of the simple API root: the first listing is empty
            10,  # 2 uploads, each posting 5 times
            10,
            id="503-upload",
        ),
        pytest.param(
            Fault(403, methods=("POST",)),
            f"local refused the upload of {WHEEL} (HTTP 403 Forbidden): check the credentials "
            "from TWINE_USERNAME/TWINE_PASSWORD",
            2,
            1,
            5,
            id="403-upload",
        ),
        pytest.param(
            Fault(403, methods=("GET",)),
            "{url}simple/agentops-accelerator/ refused: HTTP 403 Forbidden",
            1,
            0,
            5,
            id="403-listing",
        ),
        pytest.param(
            Fault(400, methods=("POST",)),
            f"local rejected the upload of {WHEEL} (HTTP 400 Bad Request): asking again cannot "
            "change that",
            4,  # with looks after the rejection: is the file there after all (a race)?
            1,
            5,
            id="400-upload",
        ),
        pytest.param(
            Fault(slow=True, methods=("GET",), options=("--timeout", "0.5")),
            "index {url}simple/agentops-accelerator/ not reachable after 2 attempts: timed out",
            2,
            0,
            6,
            id="slow-listing",
        ),
        pytest.param(
            Fault(slow=True, methods=("POST",), attempts=1, options=("--upload-timeout", "3")),
            f"upload of {WHEEL} to {{url}} failed after 1 attempt: no answer within 3 s",
            3,
            1,
            12,
            id="slow-upload",
        ),
    ],
)
def test_a_failing_index_ends_in_one_clear_line(
    server: LocalIndex,
    proxy: ScriptedProxy,
    good_dist: Path,
    fault: Fault,
    message: str,
    gets: int,
    posts: int,
    under: float,
) -> None:
    if fault.slow:
        proxy.be_slow(methods=fault.methods)
    else:
        proxy.fail(fault.status, methods=fault.methods)
    attempts = str(fault.attempts)
    result = run("publish", proxy.url, "--dist", good_dist, "--attempts", attempts, *fault.options)
    assert one_line_error(result) == message.format(url=proxy.url)
    assert (proxy.count("GET"), proxy.count("POST")) == (gets, posts)
    assert result.seconds < under
    assert packages(server) == {}


def test_a_wrong_password_is_refused_by_the_real_server(
    server: LocalIndex, good_dist: Path
) -> None:
    result = run("publish", server.url, "--dist", good_dist, password=WRONG_PASSWORD)
    assert one_line_error(result) == (
        f"local refused the upload of {WHEEL} (HTTP 403 Forbidden): check the credentials from "
        "TWINE_USERNAME/TWINE_PASSWORD"
    )
    assert packages(server) == {}
    assert index.list_files(server.simple_url, PROJECT, attempts=1) == {}


# --- verify ---------------------------------------------------------------------------------


def test_verify_a_version_that_never_appears(server: LocalIndex, tmp_path: Path) -> None:
    result = run("verify", server.url, "--dist", tmp_path, "--version", "9.9.9", "--deadline", "2")
    message = one_line_error(result, "verify")
    assert message == (
        f"not there yet: 2 file(s) never appeared on {server.simple_url}{PROJECT}/ within 2 s: "
        "agentops_accelerator-9.9.9-py3-none-any.whl, agentops_accelerator-9.9.9.tar.gz"
    )
    assert 2 <= result.seconds < 8


def test_verify_finds_other_bytes_than_were_built(
    server: LocalIndex, good_dist: Path, impostor_wheel: Path
) -> None:
    seed(server, impostor_wheel, good_dist / SDIST)
    result = run("verify", server.url, "--dist", good_dist, "--deadline", "5")
    message = one_line_error(result, "verify")
    assert message.startswith(f"local serves {WHEEL} with sha256 ")
    assert message.endswith("not the bytes that were built")
    assert result.seconds < 5


def test_verify_a_broken_package_fails_fast(server: LocalIndex, broken_dist: Path) -> None:
    published = run("publish", server.url, "--dist", broken_dist)
    assert published.code == 0, published
    result = run("verify", server.url, "--dist", broken_dist, "--deadline", "60")
    message = one_line_error(result, "verify")
    assert message == (
        "installed but broken: `agentops --version` exited 1: RuntimeError: broken on purpose "
        f"(expected 'agentops {VERSION}')"
    )
    assert result.seconds < 20


def test_verify_never_installs_a_cached_file_of_the_same_version(
    server: LocalIndex, good_dist: Path, broken_dist: Path, tmp_path: Path
) -> None:
    """A cache that holds other bytes under the same file name and index URL is not used."""
    cache = {"UV_CACHE_DIR": str(tmp_path / "uv-cache")}
    seed(server, *(broken_dist / name for name in (WHEEL, SDIST)))
    first = run("verify", server.url, "--dist", broken_dist, "--deadline", "30", extra_env=cache)
    assert "RuntimeError: broken on purpose" in one_line_error(first, "verify")
    unpacked = f"agentops_accelerator-{VERSION}.dist-info"
    assert list((tmp_path / "uv-cache").rglob(unpacked)), "the broken wheel should be cached now"
    for name in (WHEEL, SDIST):  # the index now serves the good bytes under the same names
        shutil.copy2(good_dist / name, server.packages_dir / name)
    second = run("verify", server.url, "--dist", good_dist, "--deadline", "30", extra_env=cache)
    assert second.code == 0, second
    assert f"verified {PROJECT}=={VERSION} from local" in second.out


def test_verify_takes_the_package_only_from_the_target_index(
    server: LocalIndex, good_dist: Path, broken_dist: Path, tmp_path: Path
) -> None:
    """The same name and version on another index, one uv asks first, is never installed."""
    for name in (WHEEL, SDIST):
        shutil.copy2(good_dist / name, server.packages_dir / name)
    elsewhere = local_index.start_local_index(tmp_path / "elsewhere")
    try:
        for name in (WHEEL, SDIST):
            shutil.copy2(broken_dist / name, elsewhere.packages_dir / name)
        # UV_INDEX comes before the default index: uv would take the broken one from there.
        result = run("verify", server.url, "--dist", good_dist, "--deadline", "30",
                     extra_env={"UV_INDEX": elsewhere.simple_url})  # fmt: skip
    finally:
        elsewhere.stop()
    assert result.code == 0, result
    assert f"verified {PROJECT}=={VERSION} from local" in result.out


def test_the_packages_folder_is_the_index(server: LocalIndex, good_dist: Path) -> None:
    """The assertions above read the packages folder: it is exactly what the index serves."""
    shutil.copy2(good_dist / SDIST, server.packages_dir / SDIST)
    assert index.list_files(server.simple_url, PROJECT, attempts=1) == packages(server)
