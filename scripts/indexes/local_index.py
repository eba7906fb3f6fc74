"""A real local PyPI-compatible index (pypiserver) for publish and verify rehearsals and tests.

    python -m scripts.indexes.local_index serve DIR [--port N] [--username U --password P]

runs one in the foreground until Ctrl-C or SIGTERM; `start_local_index` starts one from Python.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from scripts import processes
from scripts.output import command_line

HOST = "127.0.0.1"
POLL_INTERVAL = 0.1
LOG_TAIL_LINES = 3
LOG_TAIL_CHARS = 400


class LocalIndexError(RuntimeError):
    """The local index could not be started."""


def ephemeral_start(ranges: Path = Path("/proc/sys/net/ipv4/ip_local_port_range")) -> int:
    """The first port the system hands out to a socket bound to port 0 (IANA's, elsewhere)."""
    try:
        return int(ranges.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 49152


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, below the ephemeral range:
    the ports other servers and every client get by binding port 0 come from that range, so
    none of them can take this one between now and when the server binds it."""
    start = ephemeral_start()
    for _ in range(100):
        port = secrets.choice(range(max(1024, start - 16384), start))
        if not _port_in_use(port):
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # all taken: any free one
        sock.bind((HOST, 0))
        found: int = sock.getsockname()[1]
        return found


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the server binds: a port left in TIME_WAIT by a stopped server counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return True
        return False


def write_htpasswd(path: Path, username: str, password: str) -> None:
    """Write an htpasswd file (mode 0o600) holding USERNAME with a {SHA} hash of PASSWORD."""
    if not username or any(char in username for char in ":\r\n"):
        raise ValueError(f"not a usable htpasswd user name: {username!r}")
    # {SHA} is the one htpasswd scheme the standard library can write and passlib checks; the
    # file guards a throwaway index on 127.0.0.1, nothing else.
    digest = hashlib.sha1(password.encode()).digest()  # noqa: S324
    line = f"{username}:{{SHA}}{base64.b64encode(digest).decode('ascii')}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(line)
        Path(name).chmod(0o600)
        Path(name).replace(path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


@dataclass(eq=False)
class LocalIndex(processes.Stoppable):
    """A running pypi-server on 127.0.0.1; stop() it, or use it as a context manager."""

    packages_dir: Path
    port: int
    process: subprocess.Popen[bytes]
    log_file: Path | None = field(default=None)
    scratch: Path | None = field(default=None)  # generated htpasswd (and log) until stop()

    url: str = field(init=False)  # the root URL, which is also where twine uploads
    simple_url: str = field(init=False)  # the simple API (PEP 503) of the index

    def __post_init__(self) -> None:
        self.url = f"http://{HOST}:{self.port}/"
        self.simple_url = f"{self.url}simple/"

    def stop(self) -> None:
        """Stop the server: terminate, wait up to 5 s, then kill. Safe to call again."""
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
        processes.stop(self.process)


def default_server_command() -> list[str]:
    """The pypi-server beside the running Python, else the one on PATH."""
    found = processes.find_tool("pypi-server")
    if found is None:
        raise LocalIndexError(
            f"pypi-server is neither beside {sys.executable} nor on PATH: "
            "install the release dependency group"
        )
    return [found]


def _log_tail(log_file: Path | None) -> str:
    if log_file is None or not log_file.is_file():
        return ""
    text = log_file.read_text(encoding="utf-8", errors="replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return f"; log {log_file} is empty"
    tail = " | ".join(lines[-LOG_TAIL_LINES:])
    if len(tail) > LOG_TAIL_CHARS:
        tail = "..." + tail[-LOG_TAIL_CHARS:]
    return f"; log {log_file}: {tail}"


def _spawn(command: list[str], log_file: Path | None) -> subprocess.Popen[bytes]:
    # The output goes to a file or nowhere: a pipe nobody reads would block the server.
    if log_file is None:
        return processes.start(command)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as output:
        return processes.start(command, output=output)


def answers(url: str) -> bool:
    """Whether anything answers at URL (an HTTP error counts), never through a proxy."""
    # Loopback only: never let an http_proxy from the environment answer for the server.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=1.0):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def _auth_options(htpasswd: Path | None) -> list[str]:
    """pypi-server's options for who may upload: the users of HTPASSWD, else anyone."""
    if htpasswd is None:
        return ["--passwords", ".", "--authenticate", "."]
    if not htpasswd.is_file():
        raise LocalIndexError(f"cannot start the local index: no htpasswd file at {htpasswd}")
    return ["--passwords", str(htpasswd.resolve()), "--authenticate", "update"]


def _wait_until_it_answers(index: LocalIndex, command: str, startup_timeout: float) -> None:
    """Return once INDEX's simple API answers; LocalIndexError (INDEX stopped) if it exits
    first or does not answer in time."""
    deadline = time.monotonic() + startup_timeout
    try:
        while index.process.poll() is None:
            if answers(index.simple_url) and index.process.poll() is None:
                return
            if time.monotonic() >= deadline:
                problem = f"{index.simple_url} did not answer within {startup_timeout:g} s"
                break
            time.sleep(POLL_INTERVAL)
        else:
            problem = f"{command} exited with status {index.process.returncode} at start"
    except BaseException:
        index.stop()
        raise
    tail = _log_tail(index.log_file)  # before stop(): the log may live in the scratch folder
    index.stop()
    raise LocalIndexError(f"the local index did not start: {problem}{tail}")


def start_local_index(
    packages_dir: Path,
    *,
    credentials: tuple[str, str] | None = None,
    htpasswd: Path | None = None,
    port: int | None = None,
    server_command: Sequence[str] | None = None,
    startup_timeout: float = 20.0,
    log_file: Path | None = None,
) -> LocalIndex:
    """Start pypi-server on 127.0.0.1 serving PACKAGES_DIR; return once its simple API answers.

    Uploads need CREDENTIALS (user, password; written to an htpasswd the index removes when it
    stops) or the users of an existing HTPASSWD file; with neither, anyone may upload.
    """
    if credentials is not None and htpasswd is not None:
        raise ValueError("give credentials or an htpasswd file, not both")
    packages_dir = packages_dir.resolve()
    packages_dir.mkdir(parents=True, exist_ok=True)
    if port is None:
        port = free_port()
    elif _port_in_use(port):
        raise LocalIndexError(f"cannot start the local index: port {port} on {HOST} is in use")
    scratch = None
    if credentials is not None:
        scratch = Path(tempfile.mkdtemp(prefix="local-index-"))
        htpasswd = scratch / "htpasswd"
        write_htpasswd(htpasswd, *credentials)
        log_file = log_file or scratch / "pypiserver.log"
    command = [
        *(server_command if server_command is not None else default_server_command()),
        "run", "--host", HOST, "--port", str(port), "--disable-fallback",
        "--hash-algo", "sha256", *_auth_options(htpasswd), str(packages_dir),
    ]  # fmt: skip
    try:
        process = _spawn(command, log_file)
    except OSError as error:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        raise LocalIndexError(f"cannot start the local index: {command[0]}: {error}") from None
    index = LocalIndex(packages_dir, port, process, log_file, scratch)
    _wait_until_it_answers(index, command[0], startup_timeout)
    return index


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: `serve DIR` runs a local index in the foreground."""
    parser = command_line(__spec__.name, "A local PyPI-compatible index.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve DIR on 127.0.0.1 until Ctrl-C or SIGTERM")
    serve.add_argument("directory", type=Path, help="where the uploaded files are kept")
    serve.add_argument("--port", type=int, default=None, help="default: a free port")
    serve.add_argument("--username", help="require this user for uploads (with --password)")
    serve.add_argument("--password", help="the password of --username")
    serve.add_argument("--log-file", type=Path, default=None, help="where the server logs")
    args = parser.parse_args(argv)
    if (args.username is None) != (args.password is None):
        serve.error("--username and --password go together")

    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        credentials = None if args.username is None else (args.username, args.password)
        try:
            index = start_local_index(
                args.directory, credentials=credentials, port=args.port, log_file=args.log_file
            )
        except LocalIndexError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        with index:
            auth = "uploads need a password" if credentials else "no authentication"
            try:
                # Printed inside the try: whoever reads this line may stop us at once.
                print(f"local index at {index.url} ({auth}); Ctrl-C stops it", flush=True)
                code = index.process.wait()
            except KeyboardInterrupt:
                return 0
            print(f"error: pypi-server stopped by itself (status {code})", file=sys.stderr)
            return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
