"""scripts.gitops: read-only questions about a real repository and its origin."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import gitops
from tests.helpers import commit, git, release_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A work repository on develop with a bare origin; main tagged v0.1.0."""
    return release_world(tmp_path_factory.mktemp("gitops"))


def test_branch_head_and_refs(world: tuple[Path, Path]) -> None:
    work, origin = world
    assert gitops.is_repository(work)
    assert gitops.current_branch(work) == "develop"
    assert gitops.head(work) == git(work, "rev-parse", "HEAD")
    assert gitops.rev("main", work) == git(work, "rev-parse", "main")
    assert gitops.rev("no-such-ref", work) is None
    assert gitops.local_branch_exists("main", work)
    assert not gitops.local_branch_exists("release/v9.9.9", work)
    assert gitops.local_tags(work) == ["v0.1.0"]
    assert gitops.remote_url("origin", work) == str(origin)
    assert gitops.remote_url("upstream", work) is None
    assert not gitops.is_shallow(work)


def test_remote_refs_peel_annotated_tags(world: tuple[Path, Path]) -> None:
    work, _ = world
    refs = gitops.remote_refs("origin", work)
    assert refs["refs/heads/develop"] == git(work, "rev-parse", "develop")
    assert refs["refs/tags/v0.1.0"] == git(work, "rev-parse", "v0.1.0^{commit}")
    assert gitops.remote_tags(refs) == ["v0.1.0"]


def test_show_and_has_object(world: tuple[Path, Path]) -> None:
    work, _ = world
    assert gitops.show("HEAD", "CHANGELOG.md", work) == (work / "CHANGELOG.md").read_text()
    assert gitops.show("HEAD", "no-such-file", work) is None
    assert gitops.has_object(gitops.head(work), work)
    assert not gitops.has_object("0" * 40, work)


def test_dirty_files_keep_the_first_column(tmp_path: Path) -> None:
    work, _ = release_world(tmp_path)
    assert gitops.dirty_files(work) == []
    (work / "README.md").write_text("changed\n")  # " M README.md": the leading space matters
    (work / "new.txt").write_text("new\n")
    assert gitops.dirty_files(work) == ["README.md", "new.txt"]


def test_changed_files_since_the_merge_base(tmp_path: Path) -> None:
    work, _ = release_world(tmp_path)
    git(work, "switch", "-q", "-c", "feature/x")
    commit(work, "change", files={"src/agentops/x.py": "x = 1\n"})
    assert gitops.changed_files("origin/develop", work) == ["src/agentops/x.py"]


def test_a_failing_command_raises_with_gits_last_line(tmp_path: Path) -> None:
    with pytest.raises(gitops.GitError, match="not a git repository"):
        gitops.git("status", cwd=tmp_path)
    assert not gitops.is_repository(tmp_path)
    assert gitops.current_branch(tmp_path) is None


def test_shallow_problem_only_off_a_tag(tmp_path: Path) -> None:
    work, origin = release_world(tmp_path)
    assert gitops.shallow_problem(work) is None  # a full clone
    commit(work, "after the tag")
    git(work, "push", "-q", "origin", "develop")
    off_tag = tmp_path / "off-tag"
    git(tmp_path, "clone", "-q", "--depth=1", "-b", "develop", f"file://{origin}", str(off_tag))
    problem = gitops.shallow_problem(off_tag)
    assert problem is not None
    assert "git fetch --unshallow --tags" in problem
    on_tag = tmp_path / "on-tag"
    git(tmp_path, "clone", "-q", "--depth=1", "-b", "v0.1.0", f"file://{origin}", str(on_tag))
    assert gitops.is_shallow(on_tag)
    assert gitops.shallow_problem(on_tag) is None
