"""Shared fixtures: real git repositories and copies of this project in temporary folders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import helpers
from tests.helpers import BUILT_VERSION, built_once, copy_project, shared_dir

# No test asks the real TestPyPI or PyPI: the tasks that say what comes next (finish-release,
# github-release) ask the indexes these name, as `invoke status` does; a test that wants them
# answered starts its own (tests/integration's `indexes`). Nothing listens on port 9.
for _variable in ("STAGING_INDEX", "PRODUCTION_INDEX"):
    os.environ.setdefault(_variable, "http://127.0.0.1:9/")


@pytest.fixture
def project_repo(tmp_path: Path) -> Iterator[Path]:
    """A fresh git repository holding a copy of this project, one commit, no tags."""
    yield copy_project(tmp_path / "project")


@pytest.fixture(scope="session")
def built_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, sdist and SHA256SUMS of this project tagged v1.2.3, built once for the run
    (every suite and xdist worker shares them: treat them as read-only)."""
    dist = built_once(shared_dir(tmp_path_factory.getbasetemp()))
    stem = f"agentops_accelerator-{BUILT_VERSION}"
    assert sorted(p.name for p in dist.iterdir()) == sorted(
        ["SHA256SUMS", f"{stem}.tar.gz", f"{stem}-py3-none-any.whl"]
    )
    return dist


@pytest.fixture(scope="session")
def built_project(built_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository, tagged v1.2.3, that `built_dist` was built from (read-only)."""
    return helpers.built_project(shared_dir(tmp_path_factory.getbasetemp()))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """On Windows, skip what needs a POSIX host (marked posix), with the reason."""
    if os.name != "nt":
        return
    skip = pytest.mark.skip(reason="needs a POSIX host (marked posix); runs on the ubuntu cells")
    for item in items:
        if item.get_closest_marker("posix"):
            item.add_marker(skip)
