"""`python -m invoke ARGS` for the tests, run in this process through invoke's public `Program`.

The tasks act on the git repository of the working directory, so a test runs them in its own
temporary repository: for the run, the working directory, the environment, standard input (empty)
and standard output and error (file descriptors 1 and 2, so the output of the commands a task
starts is caught too) are those of the run, and all are restored after it. Anything else, and an
invoke run asked for in its OWN_PROCESS (a fault injected as the interpreter starts, a signal),
runs as a subprocess.
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from invoke.program import Program

INVOKE = [sys.executable, "-m", "invoke"]


def run(
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    timeout: float | None = None,
    *,
    own_process: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ARGV in CWD with ENV (stdin empty), stdout and stderr as text, as subprocess.run
    would; `python -m invoke ...` with this interpreter in this process unless OWN_PROCESS."""
    if argv[:3] != INVOKE or own_process:
        return subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
            timeout=timeout, check=False,
        )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="invoke-run-") as folder:
        out, err = Path(folder) / "stdout", Path(folder) / "stderr"
        with _swapped(cwd, env, out, err):
            try:
                _program().run(["invoke", *argv[3:]])
                code = 0
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
        return subprocess.CompletedProcess(argv, code, out.read_text(), err.read_text())


@functools.cache
def _program() -> Program:
    from tasks import ns

    # As invoke's own entry point names itself, so usage lines read the same.
    return Program(namespace=ns, name="Invoke", binary="inv[oke]", binary_names=["invoke", "inv"])


@contextlib.contextmanager
def _swapped(cwd: Path, env: dict[str, str], out: Path, err: Path) -> Iterator[None]:
    """Run in CWD with ENV, stdin empty, fds 1 and 2 (and sys.stdout, sys.stderr) into OUT and
    ERR; everything as it was afterwards."""
    saved_env, saved_cwd = dict(os.environ), Path.cwd()
    with contextlib.ExitStack() as stack:
        for path, fd, name in ((out, 1, "stdout"), (err, 2, "stderr")):
            sys_stream = getattr(sys, name)
            sys_stream.flush()
            saved_fd = os.dup(fd)
            stream = stack.enter_context(path.open("w", encoding="utf-8", buffering=1))
            os.dup2(stream.fileno(), fd)
            stack.callback(os.close, saved_fd)
            stack.callback(os.dup2, saved_fd, fd)
            stack.callback(setattr, sys, name, sys_stream)
            stack.callback(stream.flush)
            setattr(sys, name, stream)
        stack.callback(setattr, sys, "stdin", sys.stdin)
        sys.stdin = stack.enter_context(Path(os.devnull).open(encoding="utf-8"))
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)
        try:
            yield
        finally:
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
