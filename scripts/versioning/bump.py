"""The next release version, from what `[Unreleased]` says is coming: the one place that rule lives.

Keep a Changelog's change types map onto SemVer: `Removed`, or an entry marked breaking (its text
starts with "breaking", bold or not, or holds "BREAKING CHANGE"), is a major; `Added`, `Changed`,
`Deprecated` a minor; `Fixed`, `Security` a patch. Below 1.0.0 a major becomes a minor (SemVer's
0.y.z: anything may change). On a maintenance line the next release stays on the line: always a
patch. An empty `[Unreleased]`, an entry outside a change-type heading, or an unknown heading is
a `ChangelogError`: the maintainer says what kind of change it is, or gives the version.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from packaging.version import Version

from scripts.versioning import versions
from scripts.versioning.changelog_read import BULLETS, ChangelogError, entries_of, parse, text_lines
from scripts.versioning.versions import Line, Release

Bump = Literal["major", "minor", "patch"]
BUMP_OF: dict[str, Bump] = {  # in Keep a Changelog's order
    "Added": "minor",
    "Changed": "minor",
    "Deprecated": "minor",
    "Removed": "major",
    "Fixed": "patch",
    "Security": "patch",
}
ORDER: tuple[Bump, ...] = ("patch", "minor", "major")
BREAKING = "breaking (marked)"
_MARKED_BREAKING = re.compile(r"^[*_\s]*breaking\b|BREAKING CHANGE", re.IGNORECASE)


@dataclass(frozen=True)
class NextVersion:
    """The next release, the bump that made it, the tag it follows, and why, in words."""

    release: Release
    bump: Bump
    after: Release | None
    reason: str


def change_counts(text: str) -> Counter[str]:
    """How many `[Unreleased]` entries of CHANGELOG TEXT each change type has (BREAKING: those
    marked breaking, counted besides their type); ChangelogError for what cannot be counted."""
    unreleased = parse(text).sections[0]
    if not entries_of(unreleased):
        raise ChangelogError("nothing to release: the [Unreleased] section has no '- ' entries")
    counts: Counter[str] = Counter()
    kind: str | None = None
    for line in text_lines(unreleased.body):
        if line.startswith("### "):
            title = line[4:].strip()
            kind = next((name for name in BUMP_OF if name.lower() == title.lower()), None)
            if kind is None:
                raise ChangelogError(
                    f"[Unreleased] has '### {title}', not a change type "
                    f"({', '.join(BUMP_OF)}): rename it, or give the version"
                )
        elif line.startswith(BULLETS):
            if kind is None:
                raise ChangelogError(
                    f"[Unreleased] has an entry outside a change-type heading: {line.strip()!r}"
                )
            counts[kind] += 1
            if _MARKED_BREAKING.search(line[2:]):
                counts[BREAKING] += 1
    return counts


def _entries(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'}"


def next_version(text: str, after: Release | None, line: Line | None = None) -> NextVersion:
    """The release that follows AFTER (None: no release yet, 0.0.0) given CHANGELOG TEXT; on a
    maintenance LINE, AFTER's next patch whatever the entries say."""
    counts = change_counts(text)
    bump = max(("major" if kind == BREAKING else BUMP_OF[kind] for kind in counts), key=ORDER.index)
    deciding = [kind for kind in (*BUMP_OF, BREAKING) if counts[kind] and _bump(kind) == bump]
    others = [kind for kind in BUMP_OF if counts[kind] and kind not in deciding]
    said = ", ".join(f"{kind} ({_entries(counts[kind])})" for kind in deciding)
    reason = f"{bump}: [Unreleased] has {said}"
    if others:
        reason += "; also " + ", ".join(f"{kind} ({_entries(counts[kind])})" for kind in others)
    base = after.final.version.release if after is not None else (0, 0, 0)
    major, minor, patch = base
    if line is not None:
        if bump != "patch":
            reason = f"patch: {line.branch} stays on its line ({reason}, a {bump} elsewhere)"
        bump = "patch"
    elif bump == "major" and major == 0:
        reason += "; below 1.0.0 a major is a minor"
        bump = "minor"
    if after is not None and after.kind == "pre-release":
        # Its final is on its way on its own branch: what comes next follows that final.
        reason += f"; {after.final} is in progress ({after.tag})"
    if bump == "major":
        following = f"{major + 1}.0.0"
    elif bump == "minor":
        following = f"{major}.{minor + 1}.0"
    else:
        following = f"{major}.{minor}.{patch + 1}"
    reason += f"; after {after.tag if after is not None else 'no release tag (0.0.0)'}"
    return NextVersion(Release(Version(following)), bump, after, reason)


def _bump(kind: str) -> Bump:
    return "major" if kind == BREAKING else BUMP_OF[kind]


def next_after_tags(text: str, tags: Iterable[str], line: Line | None = None) -> NextVersion:
    """The next release of CHANGELOG TEXT after the latest release among TAGS (of LINE only, on
    a maintenance line)."""
    own = versions.of_line(line, tags) if line is not None else list(tags)
    return next_version(text, versions.latest_release(own), line)
