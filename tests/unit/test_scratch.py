"""fresh_basetemp: an empty folder for a pytest run, the earlier runs' removed in the background."""

from __future__ import annotations

from pathlib import Path

from scripts import scratch
from scripts.scratch import fresh_basetemp


def removed(paths: list[Path]) -> bool:
    """Whether PATHS are gone once the background removers have finished."""
    for remover in scratch.REMOVERS:
        remover.wait(timeout=30)
    return not any(path.exists() for path in paths)


def leftovers(parent: Path) -> list[Path]:
    return list(parent.glob("*.old-*"))


def test_the_folder_is_empty_and_the_last_runs_files_are_removed(tmp_path: Path) -> None:
    checkout, parent = tmp_path / "checkout", tmp_path / "temp"
    checkout.mkdir()
    first = fresh_basetemp("machinery", checkout, parent)
    (first / "popen-gw0" / "project").mkdir(parents=True)
    (first / "popen-gw0" / "project" / "file").write_text("left by the last run")
    interrupted = parent / "agentops-machinery-0000.old-0000"  # a removal cut short
    (interrupted / "deep").mkdir(parents=True)
    (parent / "someone-elses").mkdir()

    second = fresh_basetemp("machinery", checkout, parent)

    assert second == first and list(second.iterdir()) == []
    assert removed(leftovers(parent)), list(parent.iterdir())
    names = sorted(path.name for path in parent.iterdir())
    assert names == [first.name, f"{first.name}.checkout", "someone-elses"]


def test_each_session_and_checkout_has_its_own_folder(tmp_path: Path) -> None:
    one, other = tmp_path / "one", tmp_path / "other"
    one.mkdir()
    other.mkdir()
    folders = {
        fresh_basetemp(session, checkout, tmp_path / "temp")
        for session in ("tests-3.11", "machinery")
        for checkout in (one, other)
    }
    assert len(folders) == 4 and all(folder.is_dir() for folder in folders)


def test_the_folders_of_a_checkout_that_is_gone_are_removed(tmp_path: Path) -> None:
    gone, kept, parent = tmp_path / "fresh-clone", tmp_path / "checkout", tmp_path / "temp"
    gone.mkdir()
    kept.mkdir()
    orphan = fresh_basetemp("machinery", gone, parent)
    (orphan / "file").write_text("a deleted clone's run")
    neighbour = fresh_basetemp("machinery", kept, parent)
    (neighbour / "file").write_text("a checkout that is still there")
    gone.rmdir()

    fresh_basetemp("tests-3.12", kept, parent)

    assert removed([*leftovers(parent), orphan]), list(parent.iterdir())
    assert not (parent / f"{orphan.name}.checkout").exists()
    assert (neighbour / "file").read_text() == "a checkout that is still there"


def test_a_first_run_makes_the_folder_and_its_parents(tmp_path: Path) -> None:
    folder = fresh_basetemp("tests-3.13", tmp_path, tmp_path / "not" / "yet")
    assert folder.is_dir() and list(folder.iterdir()) == []
