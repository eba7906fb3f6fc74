"""`python -m invoke ARGS` for the tests, without paying for `import invoke` at every run.

The tests start invoke about 230 times a run, and importing invoke is two thirds of each start
(0.11 of 0.16 CPU-s: `unittest.mock`, `importlib.metadata`, its vendored yaml). So each test
process keeps one server that has imported invoke and nothing else (no tasks, no scripts), and
forks it once per run. The child takes the run's folder, environment, arguments and pipes, then
runs invoke's own entry point (`invoke/__main__.py`) with `sys.path[0]` set to the folder, as
`python -m invoke` does: the tasks, the scripts they import and every process they start come
fresh from the folder. Output is read from pipes to their end and the exit code is the child's,
as with `subprocess.run(capture_output=True, text=True)`.

`run` takes any command line (the tests' helpers send every command through it): anything but
`python -m invoke` with this interpreter is a plain `subprocess.run`. So is an invoke run whose
environment differs from the server's in a variable an interpreter reads only as it starts
(`PYTHONPATH` and the other `PYTHON...` settings, the locale), and every run where there is no
fork.
"""

from __future__ import annotations

import atexit
import functools
import json
import locale
import os
import re
import selectors
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

INVOKE = ("-m", "invoke")
_HEADER = struct.Struct("!Q")


def run(
    argv: list[str], cwd: Path, env: dict[str, str], timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ARGV in CWD with ENV (stdin empty), stdout and stderr as text; `python -m invoke ...`
    with this interpreter goes through the fork server when it can."""
    invoke_args = argv[3:] if argv[:3] == [sys.executable, *INVOKE] else None
    server = _server() if invoke_args is not None and hasattr(os, "fork") else None
    if server is None or _startup_variables(env) != server.startup:
        return subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    request = {"args": invoke_args, "cwd": str(cwd), "env": env, "timeout": timeout}
    code, out, err = server.run(request)
    if code is None:
        raise subprocess.TimeoutExpired(argv, timeout or 0, _text(out), _text(err))
    return subprocess.CompletedProcess(argv, code, _text(out), _text(err))


# What an interpreter reads from its environment as it starts (not what libraries read later, such
# as PYTHON_KEYRING_BACKEND): CPython's PYTHONxxx and PYTHON_xxx settings, and the locale.
_STARTUP = re.compile(
    r"PYTHON[A-Z]*|PYTHON_(?:GIL|CPU_COUNT|FROZEN_MODULES|PERF_JIT_SUPPORT|PRESITE|COLORS)"
    r"|LANG|LC_ALL|LC_CTYPE"
)


def _startup_variables(env: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in env.items() if _STARTUP.fullmatch(name)}


def _text(data: bytes) -> str:
    # What text=True makes of a pipe's bytes: the locale's encoding, universal newlines.
    decoded = data.decode(locale.getpreferredencoding(False))
    return decoded.replace("\r\n", "\n").replace("\r", "\n")


class _Server:
    """One forking server process per test process; one request at a time."""

    def __init__(self) -> None:
        self.startup = _startup_variables(dict(os.environ))
        self.process = subprocess.Popen(
            [sys.executable, __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=Path(__file__).parent,
        )
        self.lock = threading.Lock()
        atexit.register(self.stop)

    def run(self, request: dict[str, object]) -> tuple[int | None, bytes, bytes]:
        assert self.process.stdin is not None and self.process.stdout is not None
        with self.lock:
            _send(self.process.stdin, json.dumps(request).encode())
            answer = json.loads(_receive(self.process.stdout))
            out, err = _receive(self.process.stdout), _receive(self.process.stdout)
        return answer["code"], out, err

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()  # the server ends at the end of its input
            self.process.wait()


@functools.cache
def _server() -> _Server:
    return _Server()


def _send(stream: IO[bytes], data: bytes) -> None:
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> bytes:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise RuntimeError("the invoke fork server ended")
    (size,) = _HEADER.unpack(header)
    return stream.read(size)


# --- the server: runs as `python tests/forked_invoke.py`, talks on its stdin and stdout ----------


def _serve() -> None:
    import invoke.main  # noqa: F401  # the one import the children share

    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            request = json.loads(_receive(requests))
        except RuntimeError:
            return
        code, out, err = _fork_and_collect(request)
        _send(answers, json.dumps({"code": code}).encode())
        _send(answers, out)
        _send(answers, err)


def _fork_and_collect(request: dict[str, object]) -> tuple[int | None, bytes, bytes]:
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child never returns into the server's loop, whatever happens
        code = 70
        try:
            os.close(out_read)
            os.close(err_read)
            code = _run_in_child(request, out_write, err_write)
        finally:
            os._exit(code)
    os.close(out_write)
    os.close(err_write)
    chunks: dict[int, list[bytes]] = {out_read: [], err_read: []}
    timeout = request["timeout"]
    deadline = time.monotonic() + timeout if isinstance(timeout, (int, float)) else None
    with selectors.DefaultSelector() as selector:
        for fd in chunks:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready = selector.select(left)
            if not ready:  # out of time: stopped, as subprocess.run(timeout=...) stops it
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                for fd in list(selector.get_map()):
                    selector.unregister(fd)
                    os.close(fd)
                return None, b"".join(chunks[out_read]), b"".join(chunks[err_read])
            for key, _ in ready:
                data = os.read(key.fd, 65536)
                if data:
                    chunks[key.fd].append(data)
                else:
                    selector.unregister(key.fd)
                    os.close(key.fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks[out_read]), b"".join(chunks[err_read])


def _run_in_child(request: dict[str, object], out: int, err: int) -> int:
    import runpy
    import traceback

    stdin = os.open(os.devnull, os.O_RDONLY)
    for fd, target in ((stdin, 0), (out, 1), (err, 2)):
        os.dup2(fd, target)
        os.close(fd)
    cwd = str(request["cwd"])
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(request["env"])  # type: ignore[arg-type]
    sys.path[0] = cwd  # what `python -m` puts first
    sys.argv = ["invoke", *request["args"]]  # type: ignore[misc]  # [0] becomes __main__'s path
    code = 0
    try:
        runpy.run_module("invoke", run_name="__main__", alter_sys=True)
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            code = stop.code or 0
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    except BaseException:  # what the interpreter prints and returns for an uncaught exception
        traceback.print_exc()
        code = 1
    finally:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    return code


if __name__ == "__main__":
    _serve()
