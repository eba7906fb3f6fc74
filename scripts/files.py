"""Replace files atomically: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def _new_file_mode() -> int:
    # umask can only be read by setting it; set it straight back.
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(path: Path, text: str | bytes) -> None:
    """Replace PATH with TEXT (or bytes) atomically, keeping its mode; on failure PATH is left
    untouched."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = _new_file_mode()
    binary = isinstance(text, bytes)
    temporary = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, kept on success)
        mode="wb" if binary else "w",
        encoding=None if binary else "utf-8",
        newline=None if binary else "",
        dir=path.parent,
        prefix=f".{path.name}.",
        suffix=".tmp",
        delete=False,
    )
    try:
        with temporary:
            temporary.write(text)
            temporary.flush()
            os.fsync(temporary.fileno())
        Path(temporary.name).chmod(mode)
        Path(temporary.name).replace(path)
    except BaseException:
        Path(temporary.name).unlink(missing_ok=True)
        raise
