"""Scratch copies of this project as real git repositories, for tests and the benchmark."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from scripts import processes

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

# fresh_basetemp's folders: PREFIX + session + checkout digest, and a marker file beside each.
BASETEMP_PREFIX = "agentops-"
BASETEMP_MARKER = ".checkout"
# The removers fresh_basetemp started, newest last (kept: a running Popen garbage-collected warns).
REMOVERS: list[subprocess.Popen[bytes]] = []


def git(repo: Path, *args: str) -> str:
    """Run git in REPO with a fixed identity; return its stripped output."""
    result = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_IDENTITY, "GIT_CONFIG_NOSYSTEM": "1"},
    )
    return result.stdout.strip()


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


def fresh_basetemp(session: str, checkout: Path, parent: Path | None = None) -> Path:
    """An empty folder for pytest's files in SESSION of CHECKOUT; older ones go in the background.

    A machinery run leaves about 80,000 files. Where pytest removed them itself, the next run
    waited 14 s for it; renamed aside, they are removed by a detached process while this run
    starts. Each folder has a marker naming its checkout beside it, and the folders of checkouts
    that no longer exist (fresh clones, since deleted) are removed too.
    """
    parent = parent or Path(tempfile.gettempdir())
    digest = hashlib.sha256(str(checkout.resolve()).encode()).hexdigest()[:8]
    folder = parent / f"{BASETEMP_PREFIX}{session}-{digest}"
    stale = [folder] if folder.exists() else []
    for marker in parent.glob(f"{BASETEMP_PREFIX}*{BASETEMP_MARKER}"):
        with contextlib.suppress(OSError):  # another run's cleaning it: theirs to finish
            if not Path(marker.read_text(encoding="utf-8")).exists():
                stale.append(parent / marker.name.removesuffix(BASETEMP_MARKER))
                marker.unlink()
    for path in stale:
        with contextlib.suppress(FileNotFoundError):
            path.rename(parent / f"{path.name}.old-{uuid.uuid4().hex[:8]}")
    old = [str(path) for path in parent.glob(f"{BASETEMP_PREFIX}*.old-*")]
    if old:
        # At the lowest priority: the run it overlaps comes first.
        remover = (
            "import os, shutil, sys\nif hasattr(os, 'nice'): os.nice(19)\n"
            "for path in sys.argv[1:]: shutil.rmtree(path, True)"
        )
        # Its own session: it outlives a Ctrl-C of the run that started it.
        REMOVERS.append(processes.start([sys.executable, "-c", remover, *old], own_group=True))
    folder.mkdir(parents=True)
    (parent / f"{folder.name}{BASETEMP_MARKER}").write_text(
        str(checkout.resolve()), encoding="utf-8"
    )
    return folder
