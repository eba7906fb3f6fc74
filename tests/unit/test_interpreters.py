"""Finding the matrix's interpreters in PATH and in pyenv-style installs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scripts.interpreters import (
    choose_versions,
    find_interpreter,
    pyenv_selection,
    supported_versions,
)

pytestmark = pytest.mark.posix


def fake_python(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    executable = folder / name
    executable.write_text("#!/bin/sh\necho fake\n")
    executable.chmod(0o755)
    return executable


@pytest.fixture
def world(tmp_path: Path) -> dict[str, str]:
    """A pyenv root with 3.12.1, 3.12.10 and 3.13.0, a shims folder, and a system bin."""
    pyenv = tmp_path / "pyenv"
    for version in ("3.12.1", "3.12.10", "3.13.0"):
        fake_python(pyenv / "versions" / version / "bin", f"python{version[:4]}")
    fake_python(pyenv / "shims", "python3.12")
    fake_python(pyenv / "shims", "python3.14")
    fake_python(tmp_path / "system", "python3.11")
    path = os.pathsep.join([str(pyenv / "shims"), str(tmp_path / "system")])
    return {"PATH": path, "PYENV_ROOT": str(pyenv), "HOME": str(tmp_path / "home")}


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        pytest.param("3.11", "system/python3.11", id="real-interpreter-on-path"),
        pytest.param("3.12", "pyenv/versions/3.12.10/bin/python3.12", id="newest-patch-not-shim"),
        pytest.param("3.13", "pyenv/versions/3.13.0/bin/python3.13", id="pyenv-only"),
        pytest.param("3.14", None, id="only-a-shim-is-missing"),
        pytest.param("3.9", None, id="nowhere"),
    ],
)
def test_find_interpreter(
    tmp_path: Path, world: dict[str, str], version: str, expected: str | None
) -> None:
    found = find_interpreter(version, world)
    assert found == (tmp_path / expected if expected else None)


@pytest.mark.parametrize(
    ("active", "expected"),
    [
        pytest.param({}, "system:3.12.10:3.13.0", id="global-file-missing-system"),
        pytest.param({"global": "3.11.7\n"}, "3.11.7:3.12.10:3.13.0", id="global-version"),
        pytest.param({"global": "3.12.1\n"}, "3.12.1:3.13.0", id="a-matrix-version-active"),
        pytest.param({"local": "# mine\n3.13.0\n3.12.1\n"}, None, id="local-file-has-both"),
        pytest.param({"local": "3.12.1\n", "global": "3.13.0\n"}, "3.12.1:3.13.0",
                     id="local-file-before-global"),
        pytest.param({"PYENV_VERSION": "3.13.0"}, "3.13.0:3.12.10", id="shell-choice-kept-first"),
    ],
)  # fmt: skip
def test_pyenv_selection_adds_the_matrix_after_the_active_versions(
    tmp_path: Path, world: dict[str, str], active: dict[str, str], expected: str | None
) -> None:
    pyenv, project = Path(world["PYENV_ROOT"]), tmp_path / "project" / "sub"
    project.mkdir(parents=True)
    if "global" in active:
        (pyenv / "version").write_text(active["global"])
    if "local" in active:
        (project.parent / ".python-version").write_text(active["local"])
    environ = {
        **world,
        **({"PYENV_VERSION": active["PYENV_VERSION"]} if "PYENV_VERSION" in active else {}),
    }
    # 3.11 is a real interpreter on PATH and 3.14 only a shim: neither is added.
    assert pyenv_selection(["3.11", "3.12", "3.13", "3.14"], environ, project) == expected


def test_pyenv_selection_without_pyenv(tmp_path: Path) -> None:
    environ = {"PATH": str(tmp_path), "HOME": str(tmp_path / "home")}
    assert pyenv_selection(["3.12"], environ, tmp_path) is None


@pytest.mark.parametrize(
    ("classifiers", "expected"),
    [
        pytest.param(
            [
                "Programming Language :: Python :: 3",
                "Programming Language :: Python :: 3.13",
                "Programming Language :: Python :: 3.9",
                "Programming Language :: Python :: 3.11",
                "Programming Language :: Python :: 3 :: Only",
                "Programming Language :: Python :: Implementation :: CPython",
                "Typing :: Typed",
            ],
            ["3.9", "3.11", "3.13"],
            id="minor-versions-only-numerically-sorted",
        ),
        pytest.param(["Typing :: Typed"], [], id="none-promised"),
    ],
)
def test_supported_versions(tmp_path: Path, classifiers: list[str], expected: list[str]) -> None:
    pyproject = tmp_path / "pyproject.toml"
    listed = ", ".join(f'"{c}"' for c in classifiers)
    pyproject.write_text(f'[project]\nname = "x"\nclassifiers = [{listed}]\n')
    assert supported_versions(pyproject) == expected


MATRIX = ["3.11", "3.12", "3.13"]


@pytest.mark.parametrize(
    ("choice", "chosen"),
    [
        pytest.param("all", MATRIX, id="all"),
        pytest.param("default", ["3.11"], id="default-is-the-first"),
        pytest.param("newest", ["3.13"], id="newest-is-the-last"),
        pytest.param("none", [], id="none"),
        pytest.param("3.12", ["3.12"], id="one-of-the-matrix"),
    ],
)
def test_choose_versions(choice: str, chosen: list[str]) -> None:
    assert choose_versions(MATRIX, choice) == chosen


@pytest.mark.parametrize("choice", ["3.9", "", "latest", "3.12\n3.13"])
def test_choose_versions_refuses_what_the_matrix_lacks(choice: str) -> None:
    with pytest.raises(ValueError) as caught:
        choose_versions(MATRIX, choice)
    assert str(caught.value) == (
        f"--python must be all, default, newest, none or one of 3.11, 3.12, 3.13; got {choice!r}"
    )
