"""The release worlds the task tests start from, each one step further along the release."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import git
from tests.integration.worlds import World


@pytest.fixture
def world(tmp_path: Path) -> World:
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
