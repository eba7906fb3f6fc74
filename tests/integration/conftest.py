"""The release worlds the task tests start from, each one step further along the release."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.github_front.front import GitHubFront
from scripts.indexes import local_index
from tests.helpers import git
from tests.integration.worlds import World


@pytest.fixture
def world(tmp_path: Path, github_front: GitHubFront, real_gh: dict[str, str]) -> World:
    """A release world whose GitHub is the front, checked, reached by the real gh."""
    return World(tmp_path, github_front, real_gh)


@pytest.fixture
def stand_in_world(tmp_path: Path) -> World:
    """A release world whose `gh` is the recording stand-in: for what the front does not serve
    (a reader's `gh run list`, and `gh pr merge` through GraphQL)."""
    return World(tmp_path)


@pytest.fixture
def released(world: World) -> World:
    """A world where release/v0.2.0 was cut and merged into main (main checked out)."""
    code, output = world.invoke("cut-release", "0.2.0")
    assert code == 0, output
    world.merge_release_into_main("0.2.0")
    return world


@pytest.fixture
def cut(world: World) -> World:
    """A world where release/v0.2.0 was cut (and is checked out), not yet merged."""
    code, output = world.invoke("cut-release", "0.2.0")
    assert code == 0, output
    assert git(world.work, "branch", "--show-current") == "release/v0.2.0"
    return world


@pytest.fixture
def indexes(tmp_path: Path) -> Iterator[dict[str, Path | str]]:
    """Two pypiservers: their package folders (a file put there is served) and URLs."""
    started = {}
    try:
        for name in ("staging", "production"):
            started[name] = local_index.start_local_index(tmp_path / name)
        yield {
            **{name: server.url for name, server in started.items()},
            **{f"{name}_dir": tmp_path / name for name in started},
        }
    finally:
        for server in started.values():
            server.stop()
