"""What a valid release version is, and how it relates to the release tags and lines: the one place
that rule lives.

A release version is exactly X.Y.Z, a final, or X.Y.ZaN, X.Y.ZbN or X.Y.ZrcN, a pre-release of
X.Y.Z (PEP 440's spelling; a leading `v` is allowed on input). It is parsed once, where it enters (a
task argument, a tag, a CHANGELOG heading), into a `Release`, which knows its kind, its tag and its
branch; everything after that takes the `Release`. Releases order as PEP 440 does: 1.4.0a1 <
1.4.0b1 < 1.4.0rc1 < 1.4.0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from packaging.version import InvalidVersion, Version

Kind = Literal["release", "pre-release", "dev", "local"]
ReleaseKind = Literal["final", "pre-release"]
PRE_RELEASE_FORMS = "X.Y.ZaN, X.Y.ZbN or X.Y.ZrcN"


class VersionError(ValueError):
    """A version or tag that is not acceptable; the message is meant for the user as is."""


@dataclass(frozen=True, order=True)
class Release:
    """One release version, X.Y.Z or a pre-release X.Y.ZrcN: its tag is vX.Y.ZrcN, its branch
    release/vX.Y.Z (a pre-release is tagged on the branch of its final)."""

    version: Version

    @classmethod
    def parse(cls, text: str) -> Release:
        """The release TEXT (X.Y.Z, X.Y.ZrcN, with or without v) names; VersionError else."""
        # repr() shows newlines and shell metacharacters harmlessly in the message.
        error = VersionError(
            f"invalid version {text!r}: expected X.Y.Z, for example 1.4.0, or a pre-release "
            f"{PRE_RELEASE_FORMS}, for example 1.4.0rc1 (a leading v is allowed)"
        )
        bare = text.removeprefix("v")
        try:
            version = Version(bare)
        except InvalidVersion:
            raise error from None
        # Version() tolerates whitespace, "V", leading zeros, epochs, `-rc.1` and post or dev
        # suffixes: only the exact canonical spelling of a final or a pre-release is accepted
        # (X.Y.Z and the pre-release part, nothing after them).
        base = ".".join(str(part) for part in version.release)
        pre = "".join(str(part) for part in version.pre) if version.pre else ""
        if len(version.release) != 3 or bare != base + pre:
            raise error
        return cls(version)

    def __str__(self) -> str:
        return str(self.version)

    @property
    def tag(self) -> str:
        """The git tag, vX.Y.Z."""
        return f"v{self}"

    @property
    def final(self) -> Release:
        """The final this release is of: X.Y.Z itself, or X.Y.Z for X.Y.ZrcN."""
        return Release(Version(".".join(str(part) for part in self.version.release)))

    @property
    def branch(self) -> str:
        """The release branch, release/vX.Y.Z (of the final, for a pre-release)."""
        return f"release/{self.final.tag}"

    @property
    def hotfix_branch(self) -> str:
        """The hotfix branch of a final, hotfix/vX.Y.Z (cut from main's latest final tag)."""
        return f"hotfix/{self.final.tag}"

    @property
    def line(self) -> Line:
        """The release line X.Y this release belongs to."""
        major, minor, _ = self.version.release
        return Line(major, minor)

    def next_patch(self) -> Release:
        """X.Y.(Z+1), the hotfix of final X.Y.Z."""
        major, minor, patch = self.final.version.release
        return Release(Version(f"{major}.{minor}.{patch + 1}"))

    @property
    def kind(self) -> ReleaseKind:
        """A final (X.Y.Z) or a pre-release (X.Y.ZaN, bN, rcN)."""
        return "pre-release" if self.version.pre else "final"


@dataclass(frozen=True, order=True)
class Line:
    """A release line X.Y: the releases X.Y.Z, maintained on support/X.Y once a newer line
    exists."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Line:
        """The line TEXT names (X.Y, vX.Y or support/X.Y); VersionError else."""
        bare = text.removeprefix("support/").removeprefix("v")
        major, dot, minor = bare.partition(".")
        if (
            not (dot and major.isdigit() and minor.isdigit())
            or bare != f"{int(major)}.{int(minor)}"
        ):
            raise VersionError(f"invalid release line {text!r}: expected X.Y, for example 1.3")
        return cls(int(major), int(minor))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def branch(self) -> str:
        """The maintenance branch, support/X.Y."""
        return f"support/{self}"


def maintained_line(branch: str | None) -> Line | None:
    """The line a maintenance branch support/X.Y maintains; None for any other BRANCH."""
    if branch is None or not branch.startswith("support/"):
        return None
    try:
        return Line.parse(branch)
    except VersionError:
        return None


def release_of(text: str) -> Release | None:
    """The Release that TEXT (a tag or heading) names exactly, or None."""
    try:
        return Release.parse(text)
    except VersionError:
        return None


def release_tags(tags: Iterable[str]) -> list[Release]:
    """The releases of the vX.Y.Z release tags among TAGS, oldest first; other tags are ignored."""
    found = (release_of(tag) for tag in tags if tag.startswith("v"))
    return sorted(release for release in found if release is not None)


def stray_tags(tags: Iterable[str]) -> list[str]:
    """The TAGS that name a version but are not release tags (0.2.0, vv0.2.0, v1.0rc1, v1.0.0.dev1).

    setuptools-scm reads a version from such a tag as readily as from a release tag (or fails on
    it), so one in the history would version builds from outside the release flow.
    """
    stray = []
    for tag in tags:
        if tag.startswith("v") and release_of(tag) is not None:
            continue
        try:
            Version(tag.removeprefix("v"))  # Version() itself allows one more leading v
        except InvalidVersion:
            continue
        stray.append(tag)
    return sorted(stray)


def latest_release(tags: Iterable[str]) -> Release | None:
    """The highest release tag (final or pre-release) among TAGS, or None if there is none."""
    found = release_tags(tags)
    return found[-1] if found else None


def of_line(line: Line, tags: Iterable[str]) -> list[str]:
    """The release tags among TAGS of LINE (vX.Y.Z and its pre-releases)."""
    return [tag for tag in tags if (found := release_of(tag)) and found.line == line]


def latest_final(tags: Iterable[str]) -> Release | None:
    """The highest final release (vX.Y.Z, no pre-release) among TAGS, or None."""
    finals = [release for release in release_tags(tags) if release.kind == "final"]
    return finals[-1] if finals else None


def require_newer(release: Release, tags: Iterable[str]) -> None:
    """Raise VersionError unless RELEASE is greater than every release tag in TAGS (so X.Y.Z
    follows its pre-releases, and X.Y.ZrcN never follows X.Y.Z)."""
    latest = latest_release(tags)
    if latest is not None and release <= latest:
        raise VersionError(f"version {release} is not greater than the latest tag {latest.tag}")


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
