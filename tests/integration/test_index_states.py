"""What an index says of a project besides its files, read from a real pypiserver behind the
scripted proxy: PEP 792's status (HTML meta tags, or PEP 691 JSON) and PEP 700's upload times,
as verify and status use them."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.indexes import local_index
from scripts.indexes.local_index import LocalIndex
from tasks.status import _index_files
from tests import helpers
from tests.proxy import ScriptedProxy, start_proxy

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
VERSION, WHEEL, SDIST = helpers.BUILT_VERSION, helpers.BUILT_WHEEL, helpers.BUILT_SDIST
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[LocalIndex, ScriptedProxy]]:
    server = local_index.start_local_index(tmp_path / "packages")
    scripted, stop = start_proxy(server.port)
    try:
        yield server, scripted
    finally:
        stop()
        server.stop()


def with_status(status: str, reason: str = "") -> object:
    """A rewrite of HTML pages: the PEP 792 meta tags of STATUS (and REASON) in the head."""
    tags = f'<meta name="pypi:project-status" content="{status}">'
    if reason:
        tags += f'<meta name="pypi:project-status-reason" content="{reason}">'

    def rewrite(content_type: str, body: bytes) -> tuple[str, bytes]:
        return content_type, body.replace(b"<head>", f"<head>{tags}".encode(), 1)

    return rewrite


def as_json(status: str, upload_times: dict[str, str]) -> object:
    """A rewrite of a project page into PEP 691 JSON, as PyPI serves it: each listed file with
    its PEP 700 upload-time, and the project's PEP 792 status."""

    def rewrite(content_type: str, body: bytes) -> tuple[str, bytes]:
        if b"<a " not in body:
            return content_type, body
        anchors = re.findall(rb'<a href="([^"#]+)#sha256=([0-9a-f]{64})"[^>]*>([^<]+)</a>', body)
        files = [{"filename": name.decode(), "url": href.decode(),
                  "hashes": {"sha256": digest.decode()},
                  "upload-time": upload_times.get(name.decode())}
                 for href, digest, name in anchors]  # fmt: skip
        page = {"meta": {"api-version": "1.4"}, "name": "agentops-accelerator",
                "project-status": {"status": status}, "files": files}  # fmt: skip
        return JSON_TYPE, json.dumps(page).encode()

    return rewrite


def verify(url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.artifacts.verify", "local", "--local-url", url,
         "--dist", str(tmp_path), "--version", "9.9.9", "--deadline", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_verify_stops_at_once_on_a_quarantined_project(
    proxied: tuple[LocalIndex, ScriptedProxy], tmp_path: Path, built_dist: Path
) -> None:
    server, proxy = proxied
    shutil.copy(built_dist / WHEEL, server.packages_dir)  # the project's page exists
    proxy.rewrite = with_status("quarantined", "malware report")  # type: ignore[assignment]
    result = verify(proxy.url, tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        "verify: error: agentops-accelerator is quarantined on local (malware report): the index "
        "serves none of its files and takes none; only the index's administrators can lift it\n"
    )
    assert "waiting for" not in result.stdout  # nothing to wait for


def test_verify_says_an_archived_project_cannot_be_completed(
    proxied: tuple[LocalIndex, ScriptedProxy], tmp_path: Path, built_dist: Path
) -> None:
    server, proxy = proxied
    shutil.copy(built_dist / WHEEL, server.packages_dir)
    proxy.rewrite = with_status("archived")  # type: ignore[assignment]
    result = verify(proxy.url, tmp_path)
    assert (
        "note: agentops-accelerator is archived on local: it takes no new file: the release "
        "cannot be completed there until a maintainer unarchives the project" in result.stdout
    )
    assert result.returncode == 1 and "not there yet" in result.stderr


def test_status_reads_the_project_status_and_the_first_upload_from_the_json_listing(
    proxied: tuple[LocalIndex, ScriptedProxy], built_dist: Path
) -> None:
    server, proxy = proxied
    shutil.copy(built_dist / WHEEL, server.packages_dir)  # a release half uploaded
    times = {WHEEL: "2026-11-20T10:00:00.000000Z"}
    proxy.rewrite = as_json("archived", times)  # type: ignore[assignment]
    held, why = _index_files(proxy.url, VERSION)
    assert why == ""
    assert held["files"] == {WHEEL: hashlib.sha256((built_dist / WHEEL).read_bytes()).hexdigest()}
    assert (held["status"], held["first"]) == (("archived", ""), "2026-11-20T10:00:00.000000Z")
    proxy.rewrite = with_status("active")  # type: ignore[assignment]
    held, _ = _index_files(proxy.url, VERSION)
    assert (held["status"], held["first"]) == (None, "")  # HTML: no upload times
