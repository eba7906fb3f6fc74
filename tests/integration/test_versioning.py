"""Versions come only from git tags: setuptools-scm in real temporary repositories."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import commit, copy_project, git, venv_bin

pytestmark = pytest.mark.integration


def scm_version(repo: Path) -> str:
    """The version `python -m setuptools_scm` computes for REPO."""
    result = subprocess.run(
        [sys.executable, "-m", "setuptools_scm"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def tagged_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project tagged v0.2.0 on its only commit."""
    repo = copy_project(tmp_path_factory.mktemp("versioning") / "project")
    git(repo, "tag", "-a", "v0.2.0", "-m", "Release 0.2.0")
    return repo


def test_pyproject_has_no_static_version() -> None:
    import tomllib

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["tool"]["setuptools_scm"]["local_scheme"] == "no-local-version"


def test_exactly_on_a_tag_the_version_is_the_tag(tagged_repo: Path) -> None:
    assert scm_version(tagged_repo) == "0.2.0"


def test_commits_after_a_tag_give_the_next_dev_version(tmp_path: Path) -> None:
    repo = copy_project(tmp_path / "project")
    git(repo, "tag", "-a", "v0.2.0", "-m", "Release 0.2.0")
    for number in range(3):
        commit(repo, f"change {number}")
    assert scm_version(repo) == "0.2.1.dev3"
    (repo / "counter.txt").write_text("uncommitted\n")  # a dirty tree must not add +g<hash>
    version = scm_version(repo)
    assert version == "0.2.1.dev3"
    assert "+" not in version


def test_lightweight_and_untagged_repositories(tmp_path: Path) -> None:
    repo = copy_project(tmp_path / "project")
    assert scm_version(repo) == "0.1.dev1"
    git(repo, "tag", "v1.4.0")
    assert scm_version(repo) == "1.4.0"


def test_installed_cli_metadata_and_setuptools_scm_agree(tagged_repo: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    uv = [sys.executable, "-m", "uv"]
    subprocess.run([*uv, "venv", "-q", "-p", sys.executable, str(venv)], check=True, env=env)
    python = venv_bin(venv, "python")
    subprocess.run(
        [*uv, "pip", "install", "-q", "-p", str(python), str(tagged_repo)], check=True, env=env
    )
    cli = subprocess.run(
        [venv_bin(venv, "agentops"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    metadata = subprocess.run(
        [python, "-c", "import importlib.metadata as m; print(m.version('agentops-accelerator'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = subprocess.run(
        [python, "-c", "import agentops; print(agentops.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert cli == "agentops 0.2.0\n"
    assert metadata.strip() == module.strip() == scm_version(tagged_repo) == "0.2.0"
