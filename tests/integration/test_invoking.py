"""The tests' in-process `python -m invoke` makes the run a new process makes, and leaves this
process as it was."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.helpers import deny_pushes, release_world, run_tool

INVOKE = (sys.executable, "-m", "invoke")


@pytest.mark.parametrize(
    "args",
    [
        ["next-version"],
        ["cut-release", "next", "--dry-run"],  # the commands c.run echoes
        ["cut-release", "0.0.9"],  # refused: exit 1, one line on stderr
        ["cut-release"],  # invoke's own parse error
        ["cut-release", "0.2.0"],  # the push fails in git: what git said, and the undo
        ["tag", "--help"],
        ["rehearse-release", "-h"],  # help printed by a child process, on fd 1
    ],
)
def test_a_run_in_process_is_the_run_a_new_process_makes(tmp_path: Path, args: list[str]) -> None:
    runs = []
    for own_process in (False, True):
        work, origin = release_world(tmp_path / str(own_process))
        deny_pushes(origin, "refs/heads/release/*")
        runs.append(run_tool(work, *INVOKE, *args, own_process=own_process))
    inside, outside = runs
    assert (inside.returncode, inside.stdout, inside.stderr) == (
        outside.returncode,
        outside.stdout.replace(str(tmp_path / "True"), str(tmp_path / "False")),
        outside.stderr.replace(str(tmp_path / "True"), str(tmp_path / "False")),
    )


def test_a_run_in_process_leaves_this_process_as_it_was(tmp_path: Path) -> None:
    work, _ = release_world(tmp_path)
    before = (Path.cwd(), dict(os.environ), sys.stdout, sys.stderr, sys.stdin)
    result = run_tool(work, *INVOKE, "cut-release", "0.0.9", env={"ONLY_IN_THE_RUN": "1"})
    assert result.returncode == 1
    assert (Path.cwd(), dict(os.environ), sys.stdout, sys.stderr, sys.stdin) == before
    print("still captured by pytest")  # fd 1 is pytest's again, not the run's file
