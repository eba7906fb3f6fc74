"""Read a CHANGELOG as people write it: the tolerant half of scripts.versioning.changelog.

What it reads may be written as people write changelogs that GitHub renders fine: `[UNRELEASED]`
or `## Unreleased`, a linked heading (`## [Unreleased](URL)`, `## [1.0.0](URL) - DATE`), headings
without brackets (`## 1.2.0 (2024-01-02)`), any PEP 440 version (`1.2.0rc2`, `2.0.0.dev5`),
trailing spaces, an en dash, CRLF, a date missing or malformed, link definitions whose URL is on
the next line, a stray `## Changed` among the releases, sections out of order. Every line is kept as
read (`render(parse(text)) == text`), and a problem in the history is a warning
(`Changelog.warnings`), never an error. Errors are kept for where changelog writes: no
`[Unreleased]` section, one that is not the first, repeated, or with something after its heading.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from packaging.version import InvalidVersion, Version

from scripts.versioning.versions import Release, release_of

UNRELEASED = "Unreleased"
YANKED = "[YANKED]"
BULLETS = ("- ", "* ", "+ ")
DASHES = ("-", "\u2013", "\u2014")  # "-", and the en and em dashes people type
HEADING_FORMS = "expected '## [Unreleased]' or '## [X.Y.Z] - YYYY-MM-DD'"


class ChangelogError(ValueError):
    """A changelog that cannot be read or released; the message is meant for the user as is."""


def version_of(title: str) -> Version | None:
    """The PEP 440 version TITLE names, or None."""
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
        version = version_of(self.title)  # None for Unreleased
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
        for definition in definitions(text_lines(self.tail)):
            found.setdefault(definition.label, definition.url)
        return found


def text_lines(text: str) -> list[str]:
    """TEXT's lines, each with its newline."""
    # Split on "\n" only (str.splitlines also splits on form feeds and Unicode separators).
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def link_definition(line: str) -> tuple[str, str] | None:
    """The (label, url) of a `[label]: url` link reference definition line, else None."""
    if not line.startswith("["):
        return None
    label, sep, url = line.rstrip()[1:].partition("]: ")
    url = url.strip()
    if not sep or not label or "[" in label or "]" in label or len(url.split()) != 1:
        return None
    return label, url


@dataclass(frozen=True)
class Definition:
    """A link reference definition: LINES[start:stop] of the lines it was read from (two when
    the URL is on the next line, indented), its label as written and its URL."""

    start: int
    stop: int
    label: str
    url: str


def definition_at(lines: list[str], index: int) -> Definition | None:
    """The link reference definition that starts at LINES[INDEX], else None."""
    found = link_definition(lines[index])
    if found is not None:
        return Definition(index, index + 1, *found)
    label = lines[index].rstrip()
    following = lines[index + 1] if index + 1 < len(lines) else ""
    url = following.strip()
    # An indented URL alone on the next line; link_definition checks that LABEL ends in "]:".
    if following[:1] in (" ", "\t") and len(url.split()) == 1:
        found = link_definition(f"{label} {url}")
        if found is not None:
            return Definition(index, index + 2, *found)
    return None


def definitions(lines: list[str]) -> list[Definition]:
    """Every link reference definition of LINES, in order."""
    found, index = [], 0
    while index < len(lines):
        definition = definition_at(lines, index)
        found += [definition] if definition else []
        index = definition.stop if definition else index + 1
    return found


def tail_start(lines: list[str]) -> int:
    """Where the trailing run of link definitions and blank lines of LINES begins."""
    start = len(lines)
    while start:
        one_line = definition_at(lines, start - 1)
        wrapped = definition_at(lines, start - 2) if start > 1 else None
        if not lines[start - 1].strip() or (one_line and one_line.stop == start):
            start -= 1
        elif wrapped is not None and wrapped.stop == start:
            start -= 2
        else:
            break
    while start < len(lines) and not lines[start].strip():
        start += 1
    return start


def split_heading(rest: str) -> tuple[str, str | None, str, bool]:
    """A `## ` heading's text after the hashes, split: its title, its inline link's URL (if
    any), what follows them, and whether the title was in brackets. The title is "" when the
    brackets are not closed."""
    if not rest.startswith("["):
        title, _, after = rest.partition(" ")
        return title, None, after, False
    title, closed, after = rest[1:].partition("]")
    if not closed:
        return "", None, rest, True
    url = None
    if after.startswith("("):
        url, closed, after = after[1:].partition(")")
        if not closed:
            return "", None, rest, True
    return title, url, after, True


def without_yank_mark(after: str) -> str:
    """AFTER (what follows a heading's title) stripped, less a `[YANKED]` mark in any case."""
    after = after.strip()
    return after[: -len(YANKED)].rstrip() if after.upper().endswith(YANKED) else after


def date_text(after: str) -> str | None:
    """The date as written after a heading's title: ` - DATE`, ` (DATE)`; None if neither."""
    after = without_yank_mark(after)
    if after.startswith(DASHES):
        return after[1:].strip() or None
    if after.startswith("(") and after.endswith(")"):
        return after[1:-1].strip() or None
    return None


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
    title, _, after, bracketed = split_heading(rest)
    if not title:
        return _Heading(None, f"line {number}: {shown} is not a release heading ({HEADING_FORMS})")
    if title.lower() == UNRELEASED.lower() and bracketed:
        if after.strip():
            raise ChangelogError(
                f"line {number}: malformed heading {shown}: expected '## [Unreleased]' alone"
            )
        return _Heading(Section(UNRELEASED, None, "", heading=line))
    if version_of(title) is None or (not bracketed and "." not in title):  # not `## 2024 plans`
        why = f"{title!r} is not a version" if bracketed else HEADING_FORMS
        return _Heading(None, f"line {number}: {shown} is not a release heading ({why})")
    yanked = after.strip().upper().endswith(YANKED)
    date = date_text(after)
    if date is None:
        after = without_yank_mark(after)
        problem = "no date" if not after else f"{after!r} where ' - YYYY-MM-DD' belongs"
        undated = Section(title, None, "", yanked, heading=line)
        return _Heading(undated, f"line {number}: [{title}] has {problem}")
    try:
        valid = datetime.date.fromisoformat(date).isoformat() == date
    except ValueError:
        valid = False
    warning = None if valid else f"line {number}: [{title}] has the date {date!r}: not YYYY-MM-DD"
    return _Heading(Section(title, date if valid else None, "", yanked, heading=line), warning)


def parse(text: str) -> Changelog:
    """The Changelog in TEXT: every problem of its history a warning; ChangelogError only when
    there is no [Unreleased] section to write under."""
    lines = text_lines(text)
    # The tail is the trailing run of link definitions and blank lines, kept as it is.
    end = tail_start(lines)
    warnings: list[str] = []
    seen_links: dict[str, int] = {}
    for definition in definitions(lines[end:]):
        label, number = definition.label, end + definition.start + 1
        if label.lower() in seen_links:
            warnings.append(
                f"line {number}: duplicate link definition [{label}] (the first is at line "
                f"{seen_links[label.lower()]})"
            )
        seen_links.setdefault(label.lower(), number)

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


def entries_of(section: Section) -> list[str]:
    """The bullet lines of SECTION, with their newlines."""
    return [line for line in text_lines(section.body) if line.startswith(BULLETS)]
