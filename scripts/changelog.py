"""Read, check and release a Keep a Changelog 1.1.0 file (https://keepachangelog.com/en/1.1.0/).

    python -m scripts.changelog section VERSION [--file CHANGELOG.md]
    python -m scripts.changelog check FILE

The file is a preamble, then `## [Unreleased]` and `## [X.Y.Z] - YYYY-MM-DD` sections, newest
first, then the link reference definitions (`[X.Y.Z]: URL`) that end the file.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from scripts.output import command_line, fail
from scripts.versions import Release, VersionError, release_of

UNRELEASED = "Unreleased"
YANKED = " [YANKED]"
BULLETS = ("- ", "* ", "+ ")
HEADING_FORMS = "expected '## [Unreleased]' or '## [X.Y.Z] - YYYY-MM-DD'"


class ChangelogError(ValueError):
    """A changelog that cannot be read or released; the message is meant for the user as is."""


@dataclass(frozen=True)
class Section:
    """One `## ` section: title (Unreleased or X.Y.Z), date, and the text below its heading."""

    title: str
    date: str | None
    body: str
    yanked: bool = False
    release: Release | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # The heading is where a release enters: parsed here, once.
        object.__setattr__(self, "release", release_of(self.title))


@dataclass(frozen=True)
class Changelog:
    """A whole changelog: the text above the first section, the sections, the link definitions."""

    preamble: str
    sections: list[Section]
    links: dict[str, str]


def _lines(text: str) -> list[str]:
    # Split on "\n" only (str.splitlines also splits on form feeds and Unicode separators).
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def _link(line: str) -> tuple[str, str] | None:
    """The (label, url) of a `[label]: url` link reference definition line, else None."""
    if not line.startswith("["):
        return None
    label, sep, url = line.removesuffix("\n")[1:].partition("]: ")
    if not sep or not label or "[" in label or "]" in label or url.split() != [url]:
        return None
    return label, url


def _is_release(text: str) -> bool:
    release = release_of(text)
    return release is not None and str(release) == text


def _heading(line: str, number: int) -> Section:
    """The title, date and yanked mark of level-2 heading LINE (its body left empty)."""
    shown = repr(line.removesuffix("\n"))
    title, closed, rest = line.removesuffix("\n").removeprefix("## [").partition("]")
    if not line.startswith("## [") or not closed:
        raise ChangelogError(f"line {number}: malformed heading {shown}: {HEADING_FORMS}")
    if title == UNRELEASED:
        if rest:
            raise ChangelogError(
                f"line {number}: malformed heading {shown}: expected '## [Unreleased]' alone"
            )
        return Section(UNRELEASED, None, "")
    if not _is_release(title):
        raise ChangelogError(
            f"line {number}: invalid version {title!r} in heading {shown}: expected X.Y.Z, "
            "for example '## [1.4.0] - 2024-05-01'"
        )
    if not rest.startswith(" - "):
        raise ChangelogError(
            f"line {number}: malformed heading {shown}: expected ' - YYYY-MM-DD' after [{title}]"
        )
    date = rest.removeprefix(" - ")
    yanked = date.endswith(YANKED)
    date = date.removesuffix(YANKED)
    try:
        valid = datetime.date.fromisoformat(date).isoformat() == date
    except ValueError:
        valid = False
    if not valid:
        raise ChangelogError(
            f"line {number}: invalid date {date!r} in heading {shown}: expected YYYY-MM-DD"
        )
    return Section(title, date, "", yanked)


def parse(text: str) -> Changelog:
    """The Changelog in TEXT; ChangelogError naming the line of the first malformed heading."""
    lines = _lines(text)
    # The link definitions are the trailing run of definition lines; blank lines among or after
    # them are dropped (render() writes the canonical form).
    end = len(lines)
    while end and (_link(lines[end - 1]) or not lines[end - 1].strip()):
        end -= 1
    while end < len(lines) and not lines[end].strip():
        end += 1
    links: dict[str, str] = {}
    for number, line in enumerate(lines[end:], start=end + 1):
        found = _link(line)
        if found is None:
            continue
        if found[0] in links:
            raise ChangelogError(f"line {number}: duplicate link definition [{found[0]}]")
        links[found[0]] = found[1]

    starts = [index for index, line in enumerate(lines[:end]) if line.startswith("## ")]
    sections: list[Section] = []
    seen: dict[str, int] = {}
    for start, stop in pairwise([*starts, end]):
        number = start + 1
        section = _heading(lines[start], number)
        if section.title in seen:
            raise ChangelogError(
                f"line {number}: duplicate section [{section.title}] "
                f"(the first is at line {seen[section.title]})"
            )
        if section.title == UNRELEASED and sections:
            raise ChangelogError(f"line {number}: [Unreleased] must be the first section")
        above = sections[-1].release if sections else None
        if above is not None and section.release is not None and section.release > above:
            raise ChangelogError(
                f"line {number}: [{section.title}] comes after the older [{above}]: "
                "releases must be listed newest first"
            )
        seen[section.title] = number
        body = "".join(lines[start + 1 : stop])
        sections.append(Section(section.title, section.date, body, section.yanked))
    if UNRELEASED not in seen:
        raise ChangelogError(
            "no [Unreleased] section: add '## [Unreleased]' above the first release section"
        )
    preamble = "".join(lines[: starts[0]])
    return Changelog(preamble, sections, links)


def render(changelog: Changelog) -> str:
    """The text of CHANGELOG, as parse() reads it."""
    parts = [changelog.preamble]
    for section in changelog.sections:
        if section.date is None:
            parts.append(f"## [{section.title}]\n")
        else:
            parts.append(
                f"## [{section.title}] - {section.date}{YANKED if section.yanked else ''}\n"
            )
        parts.append(section.body)
    parts.extend(f"[{label}]: {url}\n" for label, url in changelog.links.items())
    return "".join(parts)


def _entries(section: Section) -> list[str]:
    return [line for line in _lines(section.body) if line.startswith(BULLETS)]


def unreleased_entries(text: str) -> list[str]:
    """The bullet lines (without their newline) of the [Unreleased] section of TEXT."""
    return [line.removesuffix("\n") for line in _entries(parse(text).sections[0])]


def with_unreleased_entry(text: str, entry: str, heading: str = "### Changed") -> str:
    """TEXT with ENTRY as a `- ` line under HEADING of its [Unreleased] section."""
    changelog = parse(text)
    unreleased, *older = changelog.sections
    body = f"\n{heading}\n\n- {entry}\n" + unreleased.body.lstrip("\n")
    body = body if body.endswith("\n\n") or not older else body + "\n"
    sections = [Section(UNRELEASED, None, body), *older]
    return render(Changelog(changelog.preamble, sections, changelog.links))


def _repository(links: dict[str, str]) -> str | None:
    """https://github.com/OWNER/REPO as read from the [Unreleased] link, if there is one."""
    url = links.get(UNRELEASED)
    if url is None:
        return None
    for marker in ("/compare/", "/commits/", "/tree/"):
        repository, found, _ = url.partition(marker)
        if found:
            return repository
    raise ChangelogError(
        f"cannot tell the repository from the [Unreleased] link {url!r}: "
        "expected https://github.com/OWNER/REPO/compare/vX.Y.Z...HEAD"
    )


def release(text: str, version: Release, date: datetime.date, repo_url: str | None = None) -> str:
    """TEXT with its [Unreleased] entries moved to a new VERSION section dated DATE."""
    changelog = parse(text)
    unreleased, *older = changelog.sections
    if not _entries(unreleased):
        raise ChangelogError("nothing to release: the [Unreleased] section has no '- ' entries")
    if any(section.release == version for section in older):
        raise ChangelogError(f"the changelog already has a [{version}] section")
    previous = max((s.release for s in older if s.release is not None), default=None)
    if previous is not None and version <= previous:
        raise ChangelogError(
            f"version {version} is not greater than the latest section [{previous}]"
        )
    sections = [
        Section(UNRELEASED, None, "\n"),
        Section(str(version), date.isoformat(), unreleased.body),
        *older,
    ]
    links = changelog.links
    repository = repo_url.rstrip("/") if repo_url else _repository(links)
    if repository is not None:
        if previous is None:
            version_url = f"{repository}/releases/tag/{version.tag}"
        else:
            version_url = f"{repository}/compare/{previous.tag}...{version.tag}"
        links = _with_release_links(links, repository, version, version_url)
        # A definition right after a list item would be read as part of it: keep a blank line.
        if not changelog.links:
            last = sections[-1]
            body = last.body.rstrip("\n") + "\n\n"
            sections[-1] = Section(last.title, last.date, body, last.yanked)
    return render(Changelog(changelog.preamble, sections, links))


def _with_release_links(
    links: dict[str, str], repository: str, version: Release, version_url: str
) -> dict[str, str]:
    """LINKS with [Unreleased] comparing from VERSION and [VERSION] placed among the versions."""
    label_of_version = str(version)
    result = {} if UNRELEASED in links else {UNRELEASED: ""}
    for label, url in links.items():
        if label == label_of_version:
            continue  # a stale definition: replaced below
        older = _is_release(label) and Release.parse(label) < version
        if label_of_version not in result and older:
            result[label_of_version] = version_url
        result[label] = url
    result.setdefault(label_of_version, version_url)
    result[UNRELEASED] = f"{repository}/compare/{version.tag}...HEAD"
    return result


def _section(text: str, version: Release) -> Section | None:
    return next((s for s in parse(text).sections if s.release == version), None)


def section_text(text: str, version: Release) -> str:
    """The body of the VERSION section of TEXT, stripped: the release notes."""
    section = _section(text, version)
    if section is None:
        raise ChangelogError(f"the changelog has no [{version}] section")
    return section.body.strip()


def has_section(text: str, version: Release) -> bool:
    """Whether TEXT has a section for release VERSION."""
    return _section(text, version) is not None


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print a release's notes, or check a changelog file."""
    parser = command_line("changelog", __doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    section = commands.add_parser("section", help="print the notes of release VERSION")
    section.add_argument("version", metavar="VERSION")
    section.add_argument("--file", type=Path, default=Path("CHANGELOG.md"), help="the changelog")
    check = commands.add_parser("check", help="check that FILE is a well-formed changelog")
    check.add_argument("file", metavar="FILE", type=Path)
    args = parser.parse_args(argv)

    path: Path = args.file
    try:
        text = path.read_text(encoding="utf-8")
        if args.command == "section":
            print(section_text(text, Release.parse(args.version)))
        else:
            changelog = parse(text)
            entries = len(_entries(changelog.sections[0]))
            print(
                f"{path}: ok ({len(changelog.sections) - 1} releases, {entries} unreleased entries)"
            )
    except (ChangelogError, VersionError) as error:
        return fail(f"{path}: {error}")
    except (OSError, UnicodeDecodeError) as error:
        return fail(f"cannot read {path}: {getattr(error, 'strerror', None) or error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
