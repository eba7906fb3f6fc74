"""The dist/ manifest: the sha256 of every wheel and sdist built, which every later step checks.

    python -m scripts.artifacts.manifest write DIST
    python -m scripts.artifacts.manifest check DIST [--expected-version V]

The manifest is DIST/SHA256SUMS in GNU sha256sum format, so `sha256sum -c SHA256SUMS` run in DIST
checks it too.
"""

from __future__ import annotations

import hashlib
import string
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from scripts.files import write_atomic
from scripts.output import command_line, fail

MANIFEST_NAME = "SHA256SUMS"
ARTIFACT_SUFFIXES = (".whl", ".tar.gz")
REBUILD = "run `nox -s build` first"


class ManifestError(ValueError):
    """A dist/ folder or manifest that does not hold; the message is meant for the user as is."""


def sha256_file(path: Path) -> str:
    """The hex sha256 of the file at PATH, read in chunks."""
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _artifacts(dist: Path) -> list[str]:
    """The names of the wheels and sdists in DIST, sorted; ManifestError if DIST is missing."""
    if not dist.is_dir():
        raise ManifestError(f"no {dist}/ folder: {REBUILD}")
    return sorted(
        path.name
        for path in dist.iterdir()
        if path.name.endswith(ARTIFACT_SUFFIXES) and path.is_file()
    )


def write_manifest(dist: Path) -> dict[str, str]:
    """Hash every wheel and sdist in DIST into DIST/SHA256SUMS; return {file name: sha256}."""
    names = _artifacts(dist)
    if not names:
        raise ManifestError(f"no wheel or sdist in {dist}/: {REBUILD}")
    sums = {name: sha256_file(dist / name) for name in names}
    write_atomic(dist / MANIFEST_NAME, "".join(f"{sha}  {name}\n" for name, sha in sums.items()))
    return sums


def _entry(line: str) -> tuple[str, str] | None:
    """The (file name, sha256) of a `<sha256>  <file name>` manifest line, else None."""
    sha, separator, name = line[:64], line[64:66], line[66:]
    if separator not in ("  ", " *") or len(sha) != 64 or not set(sha) <= set(string.hexdigits):
        return None
    # Only plain artifact names: a path could point the checks outside dist/.
    if Path(name).name != name or not name.endswith(ARTIFACT_SUFFIXES):
        return None
    return name, sha.lower()


def read_manifest(dist: Path) -> dict[str, str]:
    """The {file name: sha256} entries of DIST/SHA256SUMS."""
    path = dist / MANIFEST_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(f"{path} not found: {REBUILD}") from None
    except UnicodeDecodeError:
        raise ManifestError(f"{path} is not a text file: {REBUILD}") from None
    sums: dict[str, str] = {}
    lines = text.removesuffix("\n").split("\n") if text else []
    for number, line in enumerate(lines, start=1):
        entry = _entry(line)
        if entry is None:
            raise ManifestError(
                f"{path}: line {number} is malformed: {line!r} "
                "(expected '<sha256>  <wheel or sdist file name>')"
            )
        if entry[0] in sums:
            raise ManifestError(f"{path}: line {number} lists {entry[0]} a second time")
        sums[entry[0]] = entry[1]
    if not sums:
        raise ManifestError(f"{path} lists no artifacts: {REBUILD}")
    return sums


def check_dist(dist: Path) -> dict[str, str]:
    """DIST's manifest entries, after checking that DIST holds exactly those files, unchanged."""
    present = _artifacts(dist)
    sums = read_manifest(dist)
    problems = []
    for name, listed in sums.items():
        path = dist / name
        if not path.is_file():
            problems.append(f"{path} is listed in {MANIFEST_NAME} but missing")
            continue
        actual = sha256_file(path)
        if actual != listed:
            problems.append(
                f"{path} changed after the build "
                f"(sha256 {actual[:12]}… != {listed[:12]}… in {MANIFEST_NAME})"
            )
    problems.extend(
        f"{dist / name} is not listed in {MANIFEST_NAME}" for name in present if name not in sums
    )
    if problems:
        raise ManifestError("; ".join(problems) + ": rebuild with `nox -s build`")
    return sums


def artifact_version(filename: str) -> tuple[str, str]:
    """The (canonical project name, version) that wheel or sdist FILENAME carries."""
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
        elif filename.endswith(".tar.gz"):
            name, version = parse_sdist_filename(filename)
        else:
            raise ManifestError(f"{filename!r} is neither a wheel (.whl) nor an sdist (.tar.gz)")
    except (InvalidWheelFilename, InvalidSdistFilename) as error:
        raise ManifestError(f"invalid artifact name {filename!r}: {error}") from None
    return str(name), str(version)


def expected_version(expected: str) -> Version:
    """EXPECTED (`1.2.3` or the tag `v1.2.3`: PEP 440 allows the v) as a Version; ManifestError
    if it is not PEP 440."""
    try:
        return Version(expected)
    except InvalidVersion:
        raise ManifestError(
            f"invalid expected version {expected!r}: not a PEP 440 version"
        ) from None


def check_version(filenames: Iterable[str], expected: str) -> None:
    """Raise ManifestError unless FILENAMES are one wheel and one sdist of version EXPECTED."""
    wanted = expected_version(expected)
    found = {name: artifact_version(name) for name in sorted(filenames)}
    wheels = [name for name in found if name.endswith(".whl")]
    sdists = [name for name in found if name.endswith(".tar.gz")]
    if len(wheels) != 1 or len(sdists) != 1:
        raise ManifestError(
            f"expected one wheel and one sdist, found {len(wheels)} wheel(s) and "
            f"{len(sdists)} sdist(s): {', '.join(found) or 'nothing'}"
        )
    projects = {project for project, _ in found.values()}
    versions = {Version(version) for _, version in found.values()}
    if len(projects) != 1 or len(versions) != 1:
        shown = ", ".join(
            f"{name} is {project} {version}" for name, (project, version) in found.items()
        )
        raise ManifestError(f"the artifacts disagree: {shown}")
    (version,) = versions
    if version != wanted:
        raise ManifestError(
            f"{' and '.join(found)} carry version {version}, not the expected {wanted}: "
            "was the release tag on the commit that was built?"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write or check the manifest of a dist/ folder."""
    parser = command_line(__spec__.name, __doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser(
        "write", help=f"hash the wheels and sdists of DIST into {MANIFEST_NAME}"
    )
    write.add_argument("dist", metavar="DIST", type=Path)
    check = commands.add_parser("check", help=f"check DIST against its {MANIFEST_NAME}")
    check.add_argument("dist", metavar="DIST", type=Path)
    check.add_argument(
        "--expected-version", metavar="V", help="the version every artifact must carry"
    )
    args = parser.parse_args(argv)

    dist: Path = args.dist
    try:
        if args.command == "write":
            sums = write_manifest(dist)
            print(f"wrote {dist / MANIFEST_NAME}: {', '.join(sums)}")
        else:
            sums = check_dist(dist)
            if args.expected_version is not None:
                check_version(sums, args.expected_version)
            print(f"{dist / MANIFEST_NAME} matches {', '.join(sums)}")
    except (ManifestError, OSError) as error:
        return fail(str(error))
    return 0


if __name__ == "__main__":
    sys.exit(main())
