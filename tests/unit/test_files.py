"""scripts.files: atomic replacement keeps the mode and never leaves a half-written file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from scripts.files import write_atomic


@pytest.mark.posix
@pytest.mark.parametrize(
    ("mode", "umask", "expected_mode"),
    [
        pytest.param(0o640, 0o022, 0o640, id="keeps-mode"),
        pytest.param(0o755, 0o077, 0o755, id="keeps-executable-mode"),
        pytest.param(None, 0o027, 0o640, id="new-file-follows-umask"),
    ],
)
def test_write_atomic(tmp_path: Path, mode: int | None, umask: int, expected_mode: int) -> None:
    path = tmp_path / "CHANGELOG.md"
    if mode is not None:
        path.write_text("old\n")
        path.chmod(mode)
    previous = os.umask(umask)
    try:
        write_atomic(path, "new\r\nline\n")
    finally:
        os.umask(previous)
    assert path.read_bytes() == b"new\r\nline\n"
    assert stat.S_IMODE(path.stat().st_mode) == expected_mode
    assert [p.name for p in tmp_path.iterdir()] == ["CHANGELOG.md"]


@pytest.mark.parametrize("broken", ["fsync", "replace"])
def test_write_atomic_leaves_the_original_when_the_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    path = tmp_path / "CHANGELOG.md"
    path.write_bytes(b"original\n")

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, broken, fail)
    with pytest.raises(OSError, match="No space left on device"):
        write_atomic(path, "new\n")
    monkeypatch.undo()
    assert path.read_bytes() == b"original\n"
    assert [p.name for p in tmp_path.iterdir()] == ["CHANGELOG.md"]
