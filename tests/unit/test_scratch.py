"""fresh_basetemp: an empty folder for a pytest run, the earlier runs' removed in the background."""

from __future__ import annotations

import time
from pathlib import Path

from scripts.scratch import fresh_basetemp


def gone_within(paths: list[Path], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while any(path.exists() for path in paths):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)  # polling a removal made by another process: nothing to wait on
    return True


def test_the_folder_is_empty_and_the_last_runs_files_are_removed(tmp_path: Path) -> None:
    first = fresh_basetemp("run", tmp_path)
    (first / "popen-gw0" / "project").mkdir(parents=True)
    (first / "popen-gw0" / "project" / "file").write_text("left by the last run")
    interrupted = tmp_path / "run.old-0000"  # a removal cut short (the machine went down)
    (interrupted / "deep").mkdir(parents=True)
    neighbour = tmp_path / "other-run"
    neighbour.mkdir()

    second = fresh_basetemp("run", tmp_path)

    assert second == first and list(second.iterdir()) == []
    assert gone_within(list(tmp_path.glob("run.old-*")), 30), list(tmp_path.iterdir())
    assert sorted(path.name for path in tmp_path.iterdir()) == ["other-run", "run"]


def test_a_first_run_makes_the_folder_and_its_parents(tmp_path: Path) -> None:
    folder = fresh_basetemp("run", tmp_path / "not" / "yet")
    assert folder.is_dir() and list(folder.iterdir()) == []
