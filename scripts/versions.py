"""What a valid release version is, and how it relates to the release tags: the one place that rule
lives.

A release version is exactly X.Y.Z (a leading `v` is allowed on input); its tag is vX.Y.Z.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from packaging.version import InvalidVersion, Version

Kind = Literal["release", "pre-release", "dev", "local"]


class VersionError(ValueError):
    """A version or tag that is not acceptable; the message is meant for the user as is."""


def parse_release_version(text: str) -> str:
    """The X.Y.Z that TEXT (X.Y.Z or vX.Y.Z) names; VersionError for anything else."""
    # repr() shows newlines and shell metacharacters harmlessly in the message.
    error = VersionError(
        f"invalid version {text!r}: expected X.Y.Z, for example 1.4.0 (a leading v is allowed)"
    )
    bare = text.removeprefix("v")
    try:
        version = Version(bare)
    except InvalidVersion:
        raise error from None
    # Version() tolerates whitespace, "V", leading zeros, epochs and suffixes: only the exact
    # canonical three-part release spelling is accepted.
    canonical = ".".join(str(part) for part in version.release)
    if len(version.release) != 3 or bare != canonical:
        raise error
    return canonical


def tag_name(version: str) -> str:
    """The git tag (vX.Y.Z) of release VERSION (X.Y.Z or vX.Y.Z)."""
    return "v" + parse_release_version(version)


def release_tags(tags: Iterable[str]) -> list[Version]:
    """The versions of the vX.Y.Z release tags among TAGS, oldest first; other tags are ignored."""
    found = []
    for tag in tags:
        if not tag.startswith("v"):
            continue
        try:
            found.append(Version(parse_release_version(tag)))
        except VersionError:
            continue
    return sorted(found)


def stray_tags(tags: Iterable[str]) -> list[str]:
    """The TAGS that name a version but are not vX.Y.Z release tags (0.2.0, vv0.2.0, v1.0rc1).

    setuptools-scm reads a version from such a tag as readily as from a release tag (or fails on
    it), so one in the history would version builds from outside the release flow.
    """
    stray = []
    for tag in tags:
        if tag.startswith("v"):
            try:
                parse_release_version(tag)
                continue  # a release tag
            except VersionError:
                pass
        try:
            Version(tag.removeprefix("v"))  # Version() itself allows one more leading v
        except InvalidVersion:
            continue
        stray.append(tag)
    return sorted(stray)


def latest_release(tags: Iterable[str]) -> Version | None:
    """The highest vX.Y.Z release tag among TAGS as a Version, or None if there is none."""
    found = release_tags(tags)
    return found[-1] if found else None


def require_newer(version: str, tags: Iterable[str]) -> None:
    """Raise VersionError unless release VERSION is greater than every vX.Y.Z tag in TAGS."""
    wanted = parse_release_version(version)
    latest = latest_release(tags)
    if latest is not None and Version(wanted) <= latest:
        raise VersionError(
            f"version {wanted} is not greater than the latest tag {tag_name(str(latest))}"
        )


def describe_version(version: str) -> Kind:
    """Whether PEP 440 VERSION is a release, a pre-release, a dev or a local version."""
    try:
        parsed = Version(version)
    except InvalidVersion:
        raise VersionError(f"invalid version {version!r}: not a PEP 440 version") from None
    if parsed.local is not None:
        return "local"
    if parsed.is_devrelease:
        return "dev"
    if parsed.pre is not None:
        return "pre-release"
    return "release"
