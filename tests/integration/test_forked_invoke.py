"""The tests' forked `python -m invoke` makes the same run as a new process would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import forked_invoke
from tests.helpers import release_world, run_tool

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the fork server needs fork()")

PROBE = '''

from invoke import Exit as _Exit
from invoke import task as _probe_task


@_probe_task
def probe(c, nap=0.0):
    """Say where this run's tasks and helpers come from."""
    import os
    import time

    import scripts

    print(f"helpers {scripts.__file__}")
    print(f"folder {os.getcwd()}")
    print(f"value {os.environ.get('PROBE_VALUE')}")
    print(f"parent {os.getppid()}", file=sys.stderr)
    c.run("git rev-parse --show-toplevel")
    time.sleep(nap)
    raise _Exit("probe: error: done", code=3)


ns.add_task(probe)
'''


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A release world whose tasks have one more: `probe`."""
    work, _ = release_world(tmp_path)
    with (work / "tasks" / "__init__.py").open("a", encoding="utf-8") as tasks:
        tasks.write(PROBE)
    return work


def without_parent(text: str) -> tuple[str, list[str]]:
    lines = text.splitlines(keepends=True)
    parents = [line.split()[1] for line in lines if line.startswith("parent ")]
    return "".join(line for line in lines if not line.startswith("parent ")), parents


def test_a_forked_run_is_the_run_a_new_process_makes(work: Path) -> None:
    forked = run_tool(work, sys.executable, "-m", "invoke", "probe", env={"PROBE_VALUE": "42"})
    env = {**os.environ, "PROBE_VALUE": "42"}
    fresh = subprocess.run(
        [sys.executable, "-m", "invoke", "probe"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (forked.returncode, fresh.returncode) == (3, 3), forked.stderr
    assert forked.stdout == fresh.stdout
    assert forked.stdout.splitlines() == [
        f"helpers {work / 'scripts' / '__init__.py'}",  # the copy's, not this checkout's
        f"folder {work}",
        "value 42",
        str(work),  # what the task's own child process printed
    ]
    forked_err, forked_parent = without_parent(forked.stderr)
    fresh_err, fresh_parent = without_parent(fresh.stderr)
    assert forked_err == fresh_err == "probe: error: done\n"
    assert forked_parent == [str(forked_invoke._server().process.pid)]  # it did go through a fork
    assert fresh_parent == [str(os.getpid())]


def test_a_different_interpreter_setting_gets_a_new_process(work: Path) -> None:
    result = run_tool(
        work, sys.executable, "-m", "invoke", "probe", env={"PYTHONWARNINGS": "ignore"}
    )
    assert result.returncode == 3, result.stderr
    assert without_parent(result.stderr)[1] == [str(os.getpid())]


def test_a_run_out_of_time_is_stopped(work: Path) -> None:
    with pytest.raises(subprocess.TimeoutExpired):
        forked_invoke.run(
            [sys.executable, "-m", "invoke", "probe", "--nap", "60"], work, dict(os.environ), 0.5
        )
    # The server took the next run as usual.
    result = run_tool(work, sys.executable, "-m", "invoke", "probe")
    assert result.returncode == 3, result.stderr
