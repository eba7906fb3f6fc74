"""Fault injection inside a command under test: put this folder on PYTHONPATH and set FAULTS_INJECT.

Python imports `sitecustomize` at start-up, so the real entry point (`python -m invoke ...`) runs
unchanged except for the one call the fault targets: `os.fsync` of a file whose path contains
$FAULTS_INJECT_PATH (default `.CHANGELOG.md.`, the temporary file of an atomic CHANGELOG write),
which is the moment after the new text was written and before it replaces the old file.

FAULTS_INJECT=enospc   the write fails: OSError(ENOSPC), as on a full disk
FAULTS_INJECT=sigint   Ctrl-C arrives: KeyboardInterrupt
FAULTS_INJECT=sigkill  the process is killed outright: no cleanup code runs
"""

import os
from pathlib import Path

_FAULT = os.environ.get("FAULTS_INJECT", "")

if _FAULT:
    import errno
    import signal

    _real_fsync = os.fsync
    _marker = os.environ.get("FAULTS_INJECT_PATH", ".CHANGELOG.md.")

    def _path_of(descriptor: int) -> str:
        try:
            return str(Path(f"/proc/self/fd/{descriptor}").readlink())
        except OSError:  # no /proc: every fsync is the target
            return _marker

    def _faulty_fsync(descriptor: int) -> None:
        if _marker in _path_of(descriptor):
            if _FAULT == "enospc":
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            if _FAULT == "sigint":
                raise KeyboardInterrupt
            if _FAULT == "sigkill":
                os.kill(os.getpid(), signal.SIGKILL)
        _real_fsync(descriptor)

    os.fsync = _faulty_fsync  # type: ignore[assignment]
