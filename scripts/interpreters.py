"""Find the CPython interpreters the test matrix needs, wherever pyenv or the system put them.

pyenv puts a `pythonX.Y` shim on PATH for every installed version, but a shim fails unless that
version is active, and prepending a whole `versions/X.Y.Z/bin` would also change what plain
`python` means. pyenv's own answer is a list of active versions (`pyenv shell 3.11.7 3.12.1`):
`pyenv_selection` is that list, with the matrix's versions added after the user's own.
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path


def _path_without_shims(environ: Mapping[str, str]) -> str:
    parts = environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(part for part in parts if Path(part).name != "shims")


def _version_key(folder: Path) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in folder.name.split("."))


def pyenv_roots(environ: Mapping[str, str]) -> list[Path]:
    """Folders whose `versions/` may hold pyenv installs, PYENV_ROOT first."""
    roots = [Path(environ["PYENV_ROOT"])] if environ.get("PYENV_ROOT") else []
    home = environ.get("HOME") or environ.get("USERPROFILE")
    return [*roots, Path(home) / ".pyenv"] if home else roots


def find_interpreter(version: str, environ: Mapping[str, str]) -> Path | None:
    """The executable of CPython VERSION (X.Y): a real one on PATH, else the newest pyenv one."""
    name = f"python{version}"
    on_path = shutil.which(name, path=_path_without_shims(environ))
    if on_path:
        return Path(on_path)
    for root in pyenv_roots(environ):
        installs = sorted((root / "versions").glob(f"{version}.*"), key=_version_key, reverse=True)
        for install in installs:
            if (install / "bin" / name).is_file():
                return install / "bin" / name
    return None


def active_versions(root: Path, environ: Mapping[str, str], cwd: Path) -> list[str]:
    """The versions pyenv (at ROOT) has active, as pyenv decides: PYENV_VERSION, else the nearest
    .python-version from CWD up, else its global version file, else the system's Python."""
    if environ.get("PYENV_VERSION"):
        return environ["PYENV_VERSION"].split(":")
    files = [folder / ".python-version" for folder in (cwd, *cwd.parents)] + [root / "version"]
    for file in files:
        if file.is_file():
            names = [line.strip() for line in file.read_text(errors="replace").splitlines()]
            if named := [name for name in names if name and not name.startswith("#")]:
                return named
    return ["system"]


def pyenv_selection(versions: Iterable[str], environ: Mapping[str, str], cwd: Path) -> str | None:
    """The PYENV_VERSION under which pyenv's shims also serve each of VERSIONS that pyenv has
    installed but not active and that PATH lacks: the active versions first, then the newest
    install of each; None when there is nothing to add (or no pyenv)."""
    roots = [root for root in pyenv_roots(environ) if (root / "versions").is_dir()]
    if not roots:
        return None
    active = active_versions(roots[0], environ, cwd)
    added = []
    for version in versions:
        if any(name == version or name.startswith(f"{version}.") for name in active):
            continue
        if shutil.which(f"python{version}", path=_path_without_shims(environ)):
            continue
        found = find_interpreter(version, environ)
        if found is not None and found.parent.parent.parent.name == "versions":
            added.append(found.parent.parent.name)
    return ":".join([*active, *added]) if added else None


def supported_versions(pyproject: Path) -> list[str]:
    """The X.Y versions PYPROJECT's classifiers promise, oldest first: the test matrix."""
    with pyproject.open("rb") as handle:
        classifiers = tomllib.load(handle).get("project", {}).get("classifiers", [])
    prefix = "Programming Language :: Python :: "
    found = {c.removeprefix(prefix) for c in classifiers if c.startswith(prefix)}
    minors = [v for v in found if re.fullmatch(r"\d+\.\d+", v)]
    return sorted(minors, key=lambda v: tuple(int(part) for part in v.split(".")))


def choose_versions(versions: list[str], choice: str) -> list[str]:
    """What a CI job installs of the matrix VERSIONS: all, default (first), newest, none or X.Y."""
    picks = {"all": versions, "default": versions[:1], "newest": versions[-1:], "none": []}
    if choice in picks:
        return list(picks[choice])
    if choice in versions:
        return [choice]
    raise ValueError(
        f"--python must be all, default, newest, none or one of {', '.join(versions)}; "
        f"got {choice!r}"
    )
