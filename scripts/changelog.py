"""Read, check and release a Keep a Changelog 1.1.0 file (https://keepachangelog.com/en/1.1.0/).

    python -m scripts.changelog section VERSION [--file CHANGELOG.md]
    python -m scripts.changelog check FILE

The file is a preamble, then `## [Unreleased]` and `## [X.Y.Z] - YYYY-MM-DD` sections, newest
first, then the link reference definitions (`[X.Y.Z]: URL`) that end the file.

Strict where it writes, tolerant where it reads. What it writes is canonical: `## [Unreleased]`
and the new `## [X.Y.Z] - YYYY-MM-DD` section. What it reads may be written as people write
changelogs that GitHub renders fine: `[UNRELEASED]` or `## Unreleased`, a linked heading
(`## [Unreleased](URL)`, `## [1.0.0](URL) - DATE`), any PEP 440 version (`1.2.0rc2`,
`2.0.0.dev5`), trailing spaces, CRLF, a date missing or malformed, a stray `## Changed` among the
releases, sections out of order. Every line it does not write is kept byte for byte, and a
problem in the history is a warning (`Changelog.warnings`, printed by `check`), never an error
that stops a release. Errors are kept for where it writes: no `[Unreleased]` section, one that
is not the first, one with something after its heading, or a version that is already released.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import InvalidVersion, Version

from scripts.output import command_line, fail
from scripts.versions import Release, VersionError, release_of

UNRELEASED = "Unreleased"
YANKED = "[YANKED]"
BULLETS = ("- ", "* ", "+ ")
DASHES = ("-", "\u2013", "\u2014")  # "-", and the en and em dashes people type
HEADING_FORMS = "expected '## [Unreleased]' or '## [X.Y.Z] - YYYY-MM-DD'"


class ChangelogError(ValueError):
    """A changelog that cannot be read or released; the message is meant for the user as is."""


def _version_of(title: str) -> Version | None:
    try:
        return Version(title)
    except InvalidVersion:
        return None


@dataclass(frozen=True)
class Section:
    """One `## ` section: its title (Unreleased, or the version as written), date, the text below
    its heading, and the heading line as read (None: a section this module writes)."""

    title: str
    date: str | None
    body: str
    yanked: bool = False
    heading: str | None = None
    version: Version | None = field(init=False, compare=False, repr=False)
    release: Release | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # The heading is where a version enters: parsed here, once.
        version = None if self.title == UNRELEASED else _version_of(self.title)
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "release", release_of(self.title))

    def heading_line(self, newline: str = "\n") -> str:
        """The heading as read, or written canonically."""
        if self.heading is not None:
            return self.heading
        if self.date is None:
            return f"## [{self.title}]{newline}"
        yanked = f" {YANKED}" if self.yanked else ""
        return f"## [{self.title}] - {self.date}{yanked}{newline}"


@dataclass(frozen=True)
class Changelog:
    """A whole changelog: the text above the first section, the sections, the trailing block of
    link definitions as read, and the problems found in the history."""

    preamble: str
    sections: list[Section]
    tail: str = ""
    warnings: list[str] = field(default_factory=list, compare=False)

    @property
    def links(self) -> dict[str, str]:
        """The link definitions of the tail, by label (the first of a label wins)."""
        found: dict[str, str] = {}
        for line in _lines(self.tail):
            link = _link(line)
            if link is not None:
                found.setdefault(link[0], link[1])
        return found


def _lines(text: str) -> list[str]:
    # Split on "\n" only (str.splitlines also splits on form feeds and Unicode separators).
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def _link(line: str) -> tuple[str, str] | None:
    """The (label, url) of a `[label]: url` link reference definition line, else None."""
    if not line.startswith("["):
        return None
    label, sep, url = line.rstrip()[1:].partition("]: ")
    url = url.strip()
    if not sep or not label or "[" in label or "]" in label or len(url.split()) != 1:
        return None
    return label, url


def _is_release(text: str) -> bool:
    release = release_of(text)
    return release is not None and str(release) == text


@dataclass(frozen=True)
class _Heading:
    """What a `## ` line says: a section (with its warning, if any), or None (a stray heading)."""

    section: Section | None
    warning: str | None = None


def _read_heading(line: str, number: int) -> _Heading:
    """Read level-2 heading LINE (at line NUMBER) leniently; ChangelogError only for an
    [Unreleased] heading this module could not write under."""
    shown = repr(line.rstrip("\r\n"))
    rest = line[3:].strip()
    if rest.lower() == UNRELEASED.lower():  # ## Unreleased, without brackets
        return _Heading(Section(UNRELEASED, None, "", heading=line))
    title, closed, after = rest.removeprefix("[").partition("]")
    if not rest.startswith("[") or not closed:
        return _Heading(None, f"line {number}: {shown} is not a release heading ({HEADING_FORMS})")
    if after.startswith("("):  # a linked heading: ## [1.0.0](URL) - DATE
        _, closed, after = after.partition(")")
        if not closed:
            return _Heading(None, f"line {number}: {shown} has an unclosed link")
    after = after.strip()
    if title.lower() == UNRELEASED.lower():
        if after:
            raise ChangelogError(
                f"line {number}: malformed heading {shown}: expected '## [Unreleased]' alone"
            )
        return _Heading(Section(UNRELEASED, None, "", heading=line))
    if _version_of(title) is None:
        return _Heading(
            None, f"line {number}: {shown} is not a release heading ({title!r} is not a version)"
        )
    yanked = after.upper().endswith(YANKED)
    if yanked:
        after = after[: -len(YANKED)].rstrip()
    if not after.startswith(DASHES):
        problem = "no date" if not after else f"{after!r} where ' - YYYY-MM-DD' belongs"
        undated = Section(title, None, "", yanked, heading=line)
        return _Heading(undated, f"line {number}: [{title}] has {problem}")
    date = after[1:].strip()
    try:
        valid = datetime.date.fromisoformat(date).isoformat() == date
    except ValueError:
        valid = False
    warning = None if valid else f"line {number}: [{title}] has the date {date!r}: not YYYY-MM-DD"
    return _Heading(Section(title, date if valid else None, "", yanked, heading=line), warning)


def parse(text: str) -> Changelog:
    """The Changelog in TEXT: every problem of its history a warning; ChangelogError only when
    there is no [Unreleased] section to write under."""
    lines = _lines(text)
    # The tail is the trailing run of link definitions and blank lines, kept as it is.
    end = len(lines)
    while end and (_link(lines[end - 1]) or not lines[end - 1].strip()):
        end -= 1
    while end < len(lines) and not lines[end].strip():
        end += 1
    warnings: list[str] = []
    seen_links: dict[str, int] = {}
    for number, line in enumerate(lines[end:], start=end + 1):
        found = _link(line)
        if found is None:
            continue
        if found[0].lower() in seen_links:
            warnings.append(
                f"line {number}: duplicate link definition [{found[0]}] (the first is at line "
                f"{seen_links[found[0].lower()]})"
            )
        seen_links.setdefault(found[0].lower(), number)

    preamble: list[str] = []
    bodies: list[list[str]] = []
    sections: list[Section] = []
    numbers: list[int] = []
    for number, line in enumerate(lines[:end], start=1):
        if line.startswith("## "):
            heading = _read_heading(line, number)
            if heading.warning:
                warnings.append(heading.warning)
            if heading.section is not None:
                sections.append(heading.section)
                numbers.append(number)
                bodies.append([])
                continue
        (bodies[-1] if bodies else preamble).append(line)
    sections = [
        Section(s.title, s.date, "".join(body), s.yanked, s.heading)
        for s, body in zip(sections, bodies, strict=True)
    ]
    titles = [s.title for s in sections]
    if UNRELEASED not in titles:
        raise ChangelogError(
            "no [Unreleased] section: add '## [Unreleased]' above the first release section"
        )
    if titles[0] != UNRELEASED:
        raise ChangelogError(
            f"line {numbers[titles.index(UNRELEASED)]}: [Unreleased] must be the first section"
        )
    if titles.count(UNRELEASED) > 1:
        raise ChangelogError(
            f"line {numbers[titles.index(UNRELEASED, 1)]}: duplicate section [Unreleased] "
            f"(the first is at line {numbers[0]})"
        )
    warnings += _history_warnings(sections, numbers)
    warnings.sort(key=lambda warning: int(warning.split(":")[0].removeprefix("line ")))
    return Changelog("".join(preamble), sections, "".join(lines[end:]), warnings)


def _history_warnings(sections: list[Section], numbers: list[int]) -> list[str]:
    """Duplicate versions, and versions not listed newest first."""
    warnings = []
    first: dict[Version, int] = {}
    above: Section | None = None
    for section, number in zip(sections, numbers, strict=True):
        if section.version is None:
            continue
        if section.version in first:
            warnings.append(
                f"line {number}: duplicate section [{section.title}] (the first is at line "
                f"{first[section.version]})"
            )
        first.setdefault(section.version, number)
        if above is not None and above.version is not None and section.version > above.version:
            warnings.append(
                f"line {number}: [{section.title}] comes after the older [{above.title}]: "
                "releases are listed newest first"
            )
        above = section
    return warnings


def render(changelog: Changelog) -> str:
    """The text of CHANGELOG: what was read exactly as it was, what was written canonically."""
    parts = [changelog.preamble]
    for section in changelog.sections:
        parts += [section.heading_line(), section.body]
    parts.append(changelog.tail)
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
    sections = [Section(UNRELEASED, None, body, heading=unreleased.heading), *older]
    return render(Changelog(changelog.preamble, sections, changelog.tail))


def with_section_entry(text: str, version: Release, entry: str, heading: str = "### Fixed") -> str:
    """TEXT with ENTRY as a `- ` line under HEADING of its VERSION section (added if missing)."""
    changelog = parse(text)
    sections = list(changelog.sections)
    index = next((i for i, s in enumerate(sections) if s.version == version.version), None)
    if index is None:
        raise ChangelogError(f"the changelog has no [{version}] section")
    section = sections[index]
    lines = _lines(section.body)
    at = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    if at is None:
        lines += ["\n", f"{heading}\n", "\n"]
        at = len(lines) - 2
    # After the heading and its blank line, behind the entries already there (and their
    # continuation lines).
    end = at + 1
    if end < len(lines) and not lines[end].strip():
        end += 1
    while end < len(lines) and (lines[end].startswith(BULLETS) or lines[end].startswith("  ")):
        end += 1
    lines.insert(end, f"- {entry}\n")
    if end + 1 == len(lines) and index + 1 < len(sections):
        lines.append("\n")
    sections[index] = Section(
        section.title, section.date, "".join(lines), section.yanked, section.heading
    )
    return render(Changelog(changelog.preamble, sections, changelog.tail))


def _repository(links: dict[str, str]) -> str | None:
    """https://github.com/OWNER/REPO as read from the [Unreleased] link, if there is one."""
    url = next((url for label, url in links.items() if label.lower() == "unreleased"), None)
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
    """TEXT with its [Unreleased] entries moved to a new VERSION section dated DATE.

    Only what is written changes: the [Unreleased] heading (canonical), the new section's heading,
    and the [Unreleased] and VERSION link definitions; every other line stays as it was.
    """
    changelog = parse(text)
    if not _entries(changelog.sections[0]):
        raise ChangelogError("nothing to release: the [Unreleased] section has no '- ' entries")
    return _with_section(changelog, version, date, repo_url, moved=True)


def start_section(text: str, version: Release, date: datetime.date) -> str:
    """TEXT with an empty VERSION section dated DATE below [Unreleased], whose entries stay: a
    hotfix's section, started where its fix is made (`### Fixed`, an entry to add)."""
    return _with_section(parse(text), version, date, None, moved=False)


def _with_section(
    changelog: Changelog,
    version: Release,
    date: datetime.date,
    repo_url: str | None,
    *,
    moved: bool,
) -> str:
    unreleased, *older = changelog.sections
    if any(section.version == version.version for section in older):
        raise ChangelogError(f"the changelog already has a [{version}] section")
    highest = max((s.version for s in older if s.version is not None), default=None)
    if highest is not None and version.version <= highest:
        raise ChangelogError(
            f"version {version} is not greater than the latest section [{highest}]"
        )
    # The new section compares with the release listed right below it, the one before it in time.
    previous = next((s.title for s in older if s.version is not None), None)
    newline = "\r\n" if (unreleased.heading or "").endswith("\r\n") else "\n"
    if moved:
        sections = [
            Section(UNRELEASED, None, newline),
            Section(str(version), date.isoformat(), unreleased.body),
        ]
    else:
        body = unreleased.body
        if body.strip() and not body.endswith(newline * 2):
            body += newline  # a blank line between its entries and the new heading
        started = f"{newline}### Fixed{newline}{newline}"
        sections = [
            Section(UNRELEASED, None, body, heading=unreleased.heading),
            Section(str(version), date.isoformat(), started),
        ]
    sections += older
    tail = changelog.tail
    repository = repo_url.rstrip("/") if repo_url else _repository(changelog.links)
    if repository is not None:
        if previous is None:
            version_url = f"{repository}/releases/tag/{version.tag}"
        else:
            version_url = f"{repository}/compare/v{previous.removeprefix('v')}...{version.tag}"
        tail = _with_release_links(tail, repository, version, version_url, newline)
        # A definition right after a list item would be read as part of it: keep a blank line.
        if not changelog.links:
            last = sections[-1]
            body = last.body.rstrip("\r\n") + newline * 2
            sections[-1] = Section(last.title, last.date, body, last.yanked, last.heading)
    return render(Changelog(changelog.preamble, sections, tail))


def _with_release_links(
    tail: str, repository: str, version: Release, version_url: str, newline: str
) -> str:
    """TAIL with [Unreleased] comparing from VERSION and [VERSION] defined above the older
    versions' definitions (or after [Unreleased]'s); every other line as it was."""
    unreleased = f"[{UNRELEASED}]: {repository}/compare/{version.tag}...HEAD{newline}"
    mine = f"[{version}]: {version_url}{newline}"
    lines: list[str] = []
    for line in _lines(tail):
        link = _link(line)
        if link is not None and link[0].lower() == UNRELEASED.lower():
            line = unreleased
        elif link is not None and link[0].removeprefix("v") == str(version):
            continue  # a stale definition: replaced
        elif mine and link is not None:
            older = _version_of(link[0].removeprefix("v"))
            if older is not None and older < version.version:
                lines.append(mine)
                mine = ""
        lines.append(line)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += newline
    if unreleased not in lines:
        first = next((i for i, line in enumerate(lines) if _link(line)), len(lines))
        lines.insert(first, unreleased)
    if mine:
        lines.insert(lines.index(unreleased) + 1, mine)
    return "".join(lines)


def _section(text: str, version: Release) -> Section | None:
    return next((s for s in parse(text).sections if s.version == version.version), None)


def section_text(text: str, version: Release) -> str:
    """The body of the VERSION section of TEXT, stripped: the release notes."""
    section = _section(text, version)
    if section is None:
        raise ChangelogError(f"the changelog has no [{version}] section")
    return section.body.strip()


def section_entries(text: str, version: Release) -> list[str]:
    """The bullet lines (without their newline) of the VERSION section of TEXT."""
    section = _section(text, version)
    if section is None:
        raise ChangelogError(f"the changelog has no [{version}] section")
    return [line.rstrip("\r\n") for line in _entries(section)]


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
            for warning in changelog.warnings:
                print(f"{path}: warning: {warning}")
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
