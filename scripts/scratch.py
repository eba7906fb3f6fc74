"""Scratch copies of this project as real git repositories, for tests and the benchmark."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from scripts import gitops

ROOT = Path(__file__).resolve().parents[1]
# What a copy of the project needs to build, version and run its sessions and tasks.
PROJECT_FILES = (
    "pyproject.toml",
    "uv.lock",
    "README.md",
    "CHANGELOG.md",
    "LICENSE",
    "noxfile.py",
    ".gitignore",
)
PROJECT_DIRS = ("src", "scripts", "tasks", "docs", ".github")
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


def git(repo: Path, *args: str) -> str:
    """Run git in REPO with a fixed identity (the copies' commits); GitError if it fails."""
    return gitops.git(*args, cwd=repo, env={**GIT_IDENTITY, "GIT_CONFIG_NOSYSTEM": "1"})


def commit(repo: Path, message: str, *, files: dict[str, str] | None = None) -> None:
    """Write FILES (or touch a counter file) and commit everything."""
    for name, text in (files or {"counter.txt": message}).items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def copy_project(destination: Path) -> Path:
    """Copy the project's working tree (committed or not) to DESTINATION as a new git repo."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, destination / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".nox", "dist")
    for name in PROJECT_DIRS:
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, destination / name, ignore=ignore)
    git(destination, "init", "-q", "-b", "main")
    git(destination, "config", "commit.gpgsign", "false")
    git(destination, "config", "tag.gpgsign", "false")
    commit(destination, "initial import", files={})
    return destination


def working_tree_files() -> list[str]:
    """Every file of the working tree git would track (committed or not, ignored excluded)."""
    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    return [name for name in listed.split("\0") if name]


def copy_working_tree(destination: Path, keep: Callable[[str], bool] = lambda _: True) -> Path:
    """copy_project, plus every other working-tree file KEEP accepts (tests, documents), committed.

    What a checkout holds: the copy's own test suite may read any file of the repository.
    """
    project = copy_project(destination)
    for name in working_tree_files():
        source, target = ROOT / name, project / name
        if keep(name) and source.is_file() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "the rest of the working tree")
    return project
