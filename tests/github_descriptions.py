"""GitHub's own description of its REST API, as npm's @octokit/openapi publishes it.

Fetched once with `npm pack` (the exact version, its integrity checked here) and kept in the user's
cache: only `generated/api.github.com.json`, 13 MB of the package's 29 MB.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from tests.helpers import locked

PACKAGE, VERSION = "@octokit/openapi", "23.0.2"
INTEGRITY = (  # `npm view @octokit/openapi@23.0.2 dist.integrity`
    "sha512-pV8M7L9GY23AybNvTmo2nyjmpmnt6+2sRE/tqr0ZLQcPS4lnw7u5eZGNmwRNkBC3D7gZXbFx5AHzLUVRBXGDhg=="
)
MEMBER = "package/generated/api.github.com.json"


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "agentops-accelerator" / f"octokit-openapi-{VERSION}"


def rest_description() -> Path:
    """The cached api.github.com.json, fetched through npm first if it is not there yet."""
    folder = cache_folder()
    kept = folder / "api.github.com.json"
    if kept.is_file():
        return kept
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            f"npm is needed once, to fetch GitHub's API description ({PACKAGE}@{VERSION}): "
            "install Node.js (apt install npm)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    with locked(folder / ".lock"), tempfile.TemporaryDirectory(dir=folder) as temporary:
        if kept.is_file():  # another worker fetched it meanwhile
            return kept
        subprocess.run(
            [npm, "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", temporary, "--silent"],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        (packed,) = Path(temporary).glob("*.tgz")
        digest = base64.b64encode(hashlib.sha512(packed.read_bytes()).digest()).decode()
        if f"sha512-{digest}" != INTEGRITY:
            raise RuntimeError(f"{packed.name} is not the {PACKAGE}@{VERSION} npm published")
        with tarfile.open(packed) as archive:
            source = archive.extractfile(MEMBER)
            assert source is not None
            partial = Path(temporary) / "api.github.com.json"
            partial.write_bytes(source.read())
        partial.replace(kept)
    return kept
