"""reproducible: what normalizing leaves of a machine in a wheel and an sdist (nothing)."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from scripts.artifacts.reproducible import normalize_sdist, normalize_wheel

EPOCH = 1_767_225_600  # 2026-01-01
FILES = {
    "agentops/__init__.py": (b"__version__ = '1'\n", 0o644),
    "agentops/run.sh": (b"#!/bin/sh\n", 0o755),
    "agentops-1.0.dist-info/METADATA": (b"Name: agentops\n", 0o644),
    "agentops-1.0.dist-info/RECORD": (b"agentops/__init__.py,,\n", 0o644),
}
SCM = b'{\n  "tag": "1.0",\n  "branch": "release/v1.0",\n  "node_date": "2026-01-01"\n}\n'


def wheel(path: Path, order: list[str], mode_mask: int, when: tuple[int, ...]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as out:
        for name in order:
            data, mode = FILES[name]
            info = zipfile.ZipInfo(name, date_time=when)  # type: ignore[arg-type]
            info.external_attr = (0o100000 | (mode & mode_mask)) << 16
            out.writestr(info, data)
    return path


def sdist(
    path: Path, order: list[str], mode_mask: int, mtime: int, owner: str, branch: str
) -> Path:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as out:
        contents = {name: data for name, (data, _) in FILES.items()}
        contents["a.egg-info/scm_version.json"] = SCM.replace(b"release/v1.0", branch.encode())
        for name in [*order, "a.egg-info/scm_version.json"]:
            info = tarfile.TarInfo(f"agentops-1.0/{name}")
            data = contents[name]
            info.size, info.mtime, info.uname, info.uid = len(data), mtime, owner, 1000
            info.mode = FILES.get(name, (b"", 0o644))[1] & mode_mask
            out.addfile(info, io.BytesIO(data))
    with gzip.GzipFile(str(path), "wb", mtime=mtime) as archive:
        archive.write(raw.getvalue())
    return path


def test_two_wheels_of_other_machines_become_identical(tmp_path: Path) -> None:
    names = list(FILES)
    first = wheel(tmp_path / "a.whl", names, 0o777, (2026, 12, 4, 10, 0, 0))
    second = wheel(tmp_path / "b.whl", names[::-1], 0o700, (2027, 1, 1, 0, 0, 0))
    assert first.read_bytes() != second.read_bytes()
    for path in (first, second):
        normalize_wheel(path, EPOCH)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as normalized:
        infos = normalized.infolist()
        assert [info.filename for info in infos][-1].endswith(".dist-info/RECORD")
        assert {info.filename: normalized.read(info) for info in infos} == {
            name: data for name, (data, _) in FILES.items()
        }
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in infos}
        assert modes["agentops/run.sh"] == 0o755 and modes["agentops/__init__.py"] == 0o644
        assert {info.date_time for info in infos} == {(2026, 1, 1, 0, 0, 0)}


@pytest.mark.parametrize("branch", ["main", "HEAD"])
def test_two_sdists_of_other_machines_and_branches_become_identical(
    tmp_path: Path, branch: str
) -> None:
    names = list(FILES)
    first = sdist(tmp_path / "a.tar.gz", names, 0o777, EPOCH + 99, "alice", "release/v1.0")
    second = sdist(tmp_path / "b.tar.gz", names[::-1], 0o700, EPOCH + 5, "runner", branch)
    for path in (first, second):
        normalize_sdist(path, EPOCH)
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(first) as normalized:
        members = normalized.getmembers()
        assert [m.name for m in members] == sorted(m.name for m in members)
        assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {
            (EPOCH, 0, 0, "", "")
        }
        modes = {m.name.split("/", 1)[1]: m.mode for m in members}
        assert modes["agentops/run.sh"] == 0o755 and modes["agentops/__init__.py"] == 0o644
        scm = normalized.extractfile("agentops-1.0/a.egg-info/scm_version.json")
        assert scm is not None
        assert scm.read() == SCM.replace(b'"release/v1.0"', b"null")
        init = normalized.extractfile("agentops-1.0/agentops/__init__.py")
        assert init is not None and init.read() == FILES["agentops/__init__.py"][0]
    assert first.read_bytes()[4:8] == EPOCH.to_bytes(4, "little")  # the gzip header's time
