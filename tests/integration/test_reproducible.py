"""Same commit, same bytes: a rebuild elsewhere matches, and verify holds an index to it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from scripts.artifacts import manifest, reproducible
from scripts.indexes import local_index
from tests import helpers
from tests.helpers import BUILT_VERSION

pytestmark = pytest.mark.integration


def test_two_builds_under_other_umask_tz_path_and_hour_are_byte_identical(
    built_dist: Path, built_project: Path, tmp_path: Path
) -> None:
    # built_dist: built in the repository itself (umask 022, TZ unset), minutes ago.
    rebuilt = reproducible.rebuild(
        f"v{BUILT_VERSION}", tmp_path / "elsewhere" / "dist", source=built_project,
        umask=0o077, tz="Pacific/Kiritimati",
    )  # fmt: skip
    assert rebuilt == manifest.read_manifest(built_dist)


def test_verify_rebuild_from_tag_refuses_bytes_the_tag_does_not_build(
    built_project: Path, tmp_path: Path
) -> None:
    packages = tmp_path / "packages"
    packages.mkdir()
    stem = f"agentops_accelerator-{BUILT_VERSION}"
    for name in (f"{stem}-py3-none-any.whl", f"{stem}.tar.gz"):
        (packages / name).write_bytes(b"not what the tag builds")
    server = local_index.start_local_index(packages)
    try:
        result = helpers.run_tool(
            tmp_path, sys.executable, "-m", "scripts.artifacts.verify", server.url,
            "--version", BUILT_VERSION, "--rebuild-from-tag", "--repository", str(built_project),
            "--deadline", "10", env={"PYTHONPATH": str(helpers.ROOT)},
        )  # fmt: skip
    finally:
        server.stop()
    assert result.returncode == 1, result
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1, result
    assert errors[0].startswith(f"verify: error: {server.url}")
    assert f"serves {stem}-py3-none-any.whl with sha256 " in errors[0]
    assert f"but v{BUILT_VERSION} rebuilds to " in errors[0]
    assert errors[0].endswith("…: not what the tag builds")
    assert "installed" not in result.stdout  # nothing was installed
