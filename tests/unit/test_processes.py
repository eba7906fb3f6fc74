"""Starting and stopping child processes: the stubborn, the obedient and their children."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.processes import start, stop

pytestmark = pytest.mark.posix

# Prints its pid (and its child's, when asked), then waits; IGNORE makes it shrug off SIGTERM.
SLEEPER = """
import os, signal, subprocess, sys, time
if "ignore" in sys.argv:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = None
if "child" in sys.argv:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
print(os.getpid(), child.pid if child else "", flush=True)
time.sleep(120)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def ends_soon(pid: int, within: float = 10.0) -> bool:
    """Whether PID is gone within WITHIN seconds (a signalled grandchild dies on its own time)."""
    deadline = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@contextlib.contextmanager
def sleeper(
    *flags: str, own_group: bool = False
) -> Iterator[tuple[subprocess.Popen[str], list[int]]]:
    """The SLEEPER running, with its pids; killed and its pipe closed afterwards."""
    process = start(
        [sys.executable, "-c", SLEEPER, *flags],
        output=subprocess.PIPE,
        own_group=own_group,
        text=True,
    )
    assert process.stdout is not None
    with process.stdout:
        pids = [int(word) for word in process.stdout.readline().split()]
        try:
            yield process, pids
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.mark.parametrize(
    ("flags", "code"),
    [
        pytest.param((), -15, id="obeys-sigterm"),
        pytest.param(("ignore",), -9, id="ignores-sigterm-killed"),
    ],
)
def test_stop(flags: tuple[str, ...], code: int) -> None:
    with sleeper(*flags) as (process, [pid]):
        assert stop(process, timeout=0.5) == code
        assert not alive(pid)
        assert stop(process) == code  # again: nothing left to do


def test_stop_ends_the_whole_group_of_a_group_leader() -> None:
    with sleeper("child", own_group=True) as (process, [pid, child]):
        stop(process, timeout=2)
        assert not alive(pid)
        assert ends_soon(child)


def test_stop_leaves_children_of_a_process_that_shares_our_group() -> None:
    with sleeper("child") as (process, [pid, child]):
        try:
            stop(process, timeout=2)
            assert not alive(pid)
            assert alive(child)
        finally:
            os.kill(child, signal.SIGKILL)


def test_start_sends_output_to_a_file(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with log.open("w") as output:
        process = start(
            [sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr)"],
            output=output,
        )
        assert process.wait(timeout=30) == 0
    assert sorted(log.read_text().split()) == ["err", "out"]
