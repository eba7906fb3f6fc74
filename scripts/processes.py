"""Child processes that must not outlive their caller: start one, and stop it for sure."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Self

STOP_TIMEOUT = 5.0


class Stoppable:
    """Something that runs until `stop()`; as a context manager it is stopped on the way out."""

    def stop(self) -> None:
        """End it; safe to call again."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start(
    command: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    output: int | IO[Any] | None = subprocess.DEVNULL,
    own_group: bool = False,
    text: bool = False,
) -> subprocess.Popen[Any]:
    """Start COMMAND with no stdin; OUTPUT takes stdout and stderr (PIPE, a file, DEVNULL).

    With OWN_GROUP it leads a new process group, so `stop` ends whatever it started as well.
    """
    return subprocess.Popen(
        [str(part) for part in command],
        cwd=cwd,
        env=None if env is None else dict(env),
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        text=text,
        errors="replace" if text else None,
        start_new_session=own_group,
    )


def _leads_group(process: subprocess.Popen[Any]) -> bool:
    try:
        return os.getpgid(process.pid) == process.pid
    except ProcessLookupError:
        return False


def stop(process: subprocess.Popen[Any], *, timeout: float = STOP_TIMEOUT) -> int:
    """End PROCESS (its whole group if it leads one): SIGTERM, then SIGKILL after TIMEOUT seconds.

    Returns its exit status; safe to call again, and on a process that already ended.
    """
    if process.poll() is not None:
        return process.returncode
    group = _leads_group(process)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(process.pid, sig)
            else:
                process.send_signal(sig)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            continue
    return process.wait()


def find_tool(name: str) -> str | None:
    """Where tool NAME is: beside this Python (the environment's own, locked tools), else on
    PATH; None when it is nowhere."""
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)


# What a run started afresh (a job under act, a benchmark's contender) must not inherit from the
# process that starts it: its environments, the inputs that change what a session does, CI's
# settings and the credentials.
SCRUBBED = frozenset(
    {
        "VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT", "CONDA_PREFIX", "PYTHONHOME", "PYTHONPATH",
        "UV_PROJECT_ENVIRONMENT", "UV_PYTHON", "UV_NO_SYNC", "UV_FROZEN", "UV_LOCKED",
        "UV_RUN_RECURSION_DEPTH", "UV_INTERNAL__PARENT_INTERPRETER", "EXPECTED_VERSION",
        "SOURCE_DATE_EPOCH", "COVERAGE_FILE", "VERIFY_DEADLINE", "LOCAL_INDEX_URL",
        "TEST_PYPI_TOKEN", "PYPI_TOKEN", "PR_LABELS", "CI",
    }
)  # fmt: skip
SCRUBBED_PREFIXES = (
    "GITHUB_", "RUNNER_", "ACTIONS_", "NOX_", "PYTEST_", "COV_CORE_", "TWINE_",
    "GH_",  # gh's host, token, repository and config: the caller's GitHub, not the run's
)  # fmt: skip


def fresh_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """ENVIRON less what a run started afresh must not inherit (SCRUBBED, SCRUBBED_PREFIXES)."""
    return {
        key: value
        for key, value in environ.items()
        if key not in SCRUBBED and not key.startswith(SCRUBBED_PREFIXES)
    }
