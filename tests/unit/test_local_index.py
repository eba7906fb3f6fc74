"""The local index: a real pypi-server on 127.0.0.1, real twine uploads, and its failures."""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from passlib.apache import HtpasswdFile  # type: ignore[import-untyped]

from scripts.indexes import index, local_index
from scripts.indexes.local_index import LocalIndex, LocalIndexError

USER = "rehearsal"
PASSWORD = "s3cret:with spaces"
PROJECT = "agentops-rehearsal-demo"


def test_free_port_can_be_bound() -> None:
    port = local_index.free_port()
    assert 1024 <= port <= 65535
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_write_htpasswd_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "auth" / "htpasswd"
    local_index.write_htpasswd(path, USER, PASSWORD)
    digest = base64.b64encode(hashlib.sha1(PASSWORD.encode()).digest()).decode()  # noqa: S324
    assert path.read_text() == f"{USER}:{{SHA}}{digest}\n"
    assert path.stat().st_mode & 0o777 == 0o600
    htpasswd = HtpasswdFile(str(path))
    assert htpasswd.users() == [USER]
    assert htpasswd.check_password(USER, PASSWORD) is True
    assert htpasswd.check_password(USER, "wrong") is False
    assert list(path.parent.iterdir()) == [path]


@pytest.mark.parametrize("username", ["", "a:b", "a\nb"])
def test_write_htpasswd_refuses_unusable_names(tmp_path: Path, username: str) -> None:
    with pytest.raises(ValueError, match="htpasswd user name"):
        local_index.write_htpasswd(tmp_path / "htpasswd", username, "x")
    assert list(tmp_path.iterdir()) == []


def build_wheel(
    directory: Path, name: str = "agentops_rehearsal_demo", version: str = "0.1.0"
) -> Path:
    """A minimal valid pure-Python wheel, written by hand."""
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": b"VALUE = 1\n",
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: A rehearsal.\n\n"
        ).encode(),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = [
        f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"
        for path, data in files.items()
    ]
    files[f"{dist_info}/RECORD"] = ("\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n").encode()
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


def twine_upload(url: str, password: str, wheel: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TWINE_")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "twine",
            "upload",
            "--repository-url",
            url,
            "-u",
            USER,
            "-p",
            password,
            "--non-interactive",
            "--disable-progress-bar",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalIndex]:
    running = local_index.start_local_index(
        tmp_path / "packages", credentials=(USER, PASSWORD), log_file=tmp_path / "server.log"
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.integration
def test_an_uploaded_wheel_is_listed_with_its_sha256(server: LocalIndex, tmp_path: Path) -> None:
    assert index.list_files(server.simple_url, PROJECT) == {}
    wheel = build_wheel(tmp_path)
    result = twine_upload(server.url, PASSWORD, wheel)
    assert result.returncode == 0, result.stdout + result.stderr
    expected = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert index.list_files(server.simple_url, PROJECT) == {wheel.name: expected}
    assert (server.packages_dir / wheel.name).read_bytes() == wheel.read_bytes()
    link = index.list_links(server.simple_url, PROJECT)[wheel.name]
    assert link.url.startswith(server.url)
    assert index.download(link.url, tmp_path / "back" / wheel.name) == expected


@pytest.mark.integration
def test_a_wrong_password_is_refused(server: LocalIndex, tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    result = twine_upload(server.url, "wrong", wheel)
    assert result.returncode != 0
    assert index.list_files(server.simple_url, PROJECT) == {}
    assert list(server.packages_dir.iterdir()) == []


@pytest.mark.integration
def test_stop_leaves_no_process_and_can_be_repeated(tmp_path: Path) -> None:
    with local_index.start_local_index(tmp_path / "packages") as running:
        assert running.url == f"http://127.0.0.1:{running.port}/"
        assert running.simple_url == f"{running.url}simple/"
        assert index.list_files(running.simple_url, PROJECT, attempts=1) == {}
        assert running.process.poll() is None
    assert running.process.poll() is not None
    running.stop()
    assert running.process.poll() is not None
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", running.port), timeout=1).close()


def one_line_error(packages: Path, elapsed_under: float = 5.0, **options: Any) -> LocalIndexError:
    started = time.monotonic()
    with pytest.raises(LocalIndexError) as caught:
        local_index.start_local_index(packages, **options)
    assert time.monotonic() - started < elapsed_under
    assert "\n" not in str(caught.value)
    return caught.value


def test_a_server_that_exits_at_once_is_an_error(tmp_path: Path) -> None:
    error = one_line_error(tmp_path / "packages", server_command=["false"])
    assert "the local index did not start: false exited with status 1 at start" in str(error)


def test_the_error_carries_the_tail_of_the_log(tmp_path: Path) -> None:
    script = (
        "import sys; print('line one'); print('boom: no such flag', file=sys.stderr); sys.exit(3)"
    )
    log = tmp_path / "server.log"
    error = one_line_error(
        tmp_path / "packages", server_command=[sys.executable, "-c", script], log_file=log
    )
    assert str(error).endswith(
        f"exited with status 3 at start; log {log}: line one | boom: no such flag"
    )


def test_a_server_that_never_answers_is_stopped(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    script = (
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    )
    error = one_line_error(
        tmp_path / "packages",
        server_command=[sys.executable, "-c", script],
        startup_timeout=0.5,
    )
    assert "/simple/ did not answer within 0.5 s" in str(error)
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_port_in_use_is_an_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        error = one_line_error(tmp_path / "packages", port=port)
    assert f"port {port} on 127.0.0.1 is in use" in str(error)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"server_command": ["/nonexistent/pypi-server"]}, "cannot start the local index: "),
        ({"htpasswd": Path("/nonexistent/htpasswd")}, "no htpasswd file at /nonexistent/htpasswd"),
    ],
)
def test_bad_settings_are_errors(tmp_path: Path, options: dict[str, Any], message: str) -> None:
    assert message in str(one_line_error(tmp_path / "packages", **options))


@pytest.mark.posix
@pytest.mark.integration
def test_serve_runs_until_sigterm(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "scripts.indexes.local_index",
        "serve",
        str(tmp_path / "packages"),
    ]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2]
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line.startswith("local index at http://127.0.0.1:"), line
            url = line.split()[3]
            assert index.list_files(f"{url}simple/", PROJECT, attempts=1) == {}
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
            port = int(url.rstrip("/").rsplit(":", 1)[1])
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
        finally:
            if process.poll() is None:
                process.kill()


def test_serve_needs_both_username_and_password(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        local_index.main(["serve", "dir", "--username", "u"])
    assert caught.value.code == 2
    assert "--username and --password go together" in capsys.readouterr().err


@pytest.mark.integration
def test_generated_credentials_guard_uploads_and_vanish_with_the_server(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    server = local_index.start_local_index(tmp_path / "packages", credentials=(USER, PASSWORD))
    with server:
        assert server.scratch is not None
        htpasswd = server.scratch / "htpasswd"
        assert htpasswd.read_text().startswith(f"{USER}:{{SHA}}")
        assert twine_upload(server.url, "wrong", wheel).returncode != 0
        assert twine_upload(server.url, PASSWORD, wheel).returncode == 0
        assert wheel.name in index.list_files(server.simple_url, PROJECT)
    assert not server.scratch.exists()
    with pytest.raises(ValueError, match="not both"):
        local_index.start_local_index(
            tmp_path / "packages", credentials=(USER, PASSWORD), htpasswd=htpasswd
        )


@pytest.mark.parametrize(
    ("text", "expected"),
    [("32768\t60999\n", 32768), ("1024 65535", 1024), ("", 49152), (None, 49152)],
    ids=["linux-default", "widened", "empty", "no-such-file"],
)
def test_the_ephemeral_range_starts_where_the_system_says(
    tmp_path: Path, text: str | None, expected: int
) -> None:
    ranges = tmp_path / "ip_local_port_range"
    if text is not None:
        ranges.write_text(text)
    assert local_index.ephemeral_start(ranges) == expected


def test_a_free_port_is_never_one_a_server_binding_port_0_could_take() -> None:
    start = local_index.ephemeral_start()
    ports = {local_index.free_port() for _ in range(20)}
    assert all(1024 <= port < start for port in ports), ports
