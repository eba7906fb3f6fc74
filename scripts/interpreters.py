"""Find the CPython interpreters the test matrix needs, wherever pyenv or the system put them.

pyenv puts a `pythonX.Y` shim on PATH for every installed version, but a shim fails unless that
version is activated, and prepending a whole `versions/X.Y.Z/bin` would also change what plain
`python` means. So the interpreters found are linked, by their versioned name only, into one
folder that goes first on PATH.
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


def link_interpreters(
    versions: Iterable[str], folder: Path, environ: Mapping[str, str] | None = None
) -> dict[str, Path | None]:
    """Link `pythonX.Y` for each found VERSION into FOLDER; map each version to what was found."""
    environ = os.environ if environ is None else environ
    found = {version: find_interpreter(version, environ) for version in versions}
    folder.mkdir(parents=True, exist_ok=True)
    for version, executable in found.items():
        link = folder / f"python{version}"
        if executable is None or shutil.which(link.name, path=_path_without_shims(environ)):
            continue  # missing, or already runnable from PATH as it is
        if link.is_symlink() and link.resolve() == executable.resolve():
            continue
        link.unlink(missing_ok=True)
        link.symlink_to(executable)
    return found


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
