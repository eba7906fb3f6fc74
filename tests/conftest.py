"""Shared fixtures: real git repositories and copies of this project in temporary folders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import copy_project


@pytest.fixture
def project_repo(tmp_path: Path) -> Iterator[Path]:
    """A fresh git repository holding a copy of this project, one commit, no tags."""
    yield copy_project(tmp_path / "project")
