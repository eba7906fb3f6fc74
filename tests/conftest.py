"""Shared fixtures: real git repositories and copies of this project in temporary folders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import copy_project


@pytest.fixture
def project_repo(tmp_path: Path) -> Iterator[Path]:
    """A fresh git repository holding a copy of this project, one commit, no tags."""
    yield copy_project(tmp_path / "project")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """On Windows, skip what needs a POSIX host (marked posix), with the reason."""
    if os.name != "nt":
        return
    skip = pytest.mark.skip(reason="needs a POSIX host (marked posix); runs on the ubuntu cells")
    for item in items:
        if item.get_closest_marker("posix"):
            item.add_marker(skip)
