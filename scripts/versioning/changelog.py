"""Read, check and release a Keep a Changelog 1.1.0 file (https://keepachangelog.com/en/1.1.0/).

    python -m scripts.versioning.changelog section VERSION [--file CHANGELOG.md]
    python -m scripts.versioning.changelog check FILE

The file is a preamble, then `## [Unreleased]` and `## [X.Y.Z] - YYYY-MM-DD` sections, newest
first, then the link reference definitions (`[X.Y.Z]: URL`) that end the file.

Strict where it writes, tolerant where it reads (changelog_read). What it writes follows
the file: the new section's heading is written as the latest release's is (brackets or none, a v
or none, an inline compare link, the date's form; `## [X.Y.Z] - YYYY-MM-DD` in a file without
one), the [Unreleased] heading keeps its spelling (its inline compare link moves on), and the
`[Unreleased]` and `[X.Y.Z]` link definitions are updated; every other line is kept byte for byte.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Sequence
from pathlib import Path

from scripts.output import command_line, fail
from scripts.versioning.changelog_read import (
    BULLETS,
    UNRELEASED,
    YANKED,
    Changelog,
    ChangelogError,
    Section,
    date_text,
    definition_at,
    entries_of,
    parse,
    render,
    split_heading,
    text_lines,
    version_of,
    without_yank_mark,
)
from scripts.versioning.versions import Release, VersionError

__all__ = ["YANKED", "Changelog", "ChangelogError", "Section", "parse", "render"]
YANKED_NOTE = "**Yanked:** "  # how a yanked release's section, and its GitHub notes, begin
# The forms of a heading's date this module writes again in the same form (else ISO 8601).
DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%d.%m.%Y",
    "%d %B %Y",
    "%B %d, %Y",
    "%d %b %Y",
    "%b %d, %Y",
)


def unreleased_entries(text: str) -> list[str]:
    """The bullet lines (without their newline) of the [Unreleased] section of TEXT."""
    return [line.removesuffix("\n") for line in entries_of(parse(text).sections[0])]


def with_unreleased_entry(text: str, entry: str, heading: str = "### Changed") -> str:
    """TEXT with ENTRY as a `- ` line under HEADING of its [Unreleased] section."""
    changelog = parse(text)
    unreleased, *older = changelog.sections
    rest = unreleased.body.lstrip("\n")  # the entries there, after a blank line
    body = f"\n{heading}\n\n- {entry}\n" + (f"\n{rest}" if rest else "")
    body = body if body.endswith("\n\n") or not older else body + "\n"
    sections = [Section(UNRELEASED, None, body, heading=unreleased.heading), *older]
    return render(Changelog(changelog.preamble, sections, changelog.tail))


def _section_index(sections: list[Section], version: Release) -> int:
    """Where the VERSION section is among SECTIONS; ChangelogError if there is none."""
    index = next((i for i, s in enumerate(sections) if s.version == version.version), None)
    if index is None:
        raise ChangelogError(f"the changelog has no [{version}] section")
    return index


def with_section_entry(text: str, version: Release, entry: str, heading: str = "### Fixed") -> str:
    """TEXT with ENTRY as a `- ` line under HEADING of its VERSION section (added if missing)."""
    changelog = parse(text)
    sections = list(changelog.sections)
    index = _section_index(sections, version)
    section = sections[index]
    lines = text_lines(section.body)
    at = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    if at is None:
        while lines and not lines[-1].strip():  # one blank line before the new heading
            lines.pop()
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
        repository, found, _ = url.rpartition(marker)  # the last: a repository may be "compare"
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
    if not entries_of(changelog.sections[0]):
        raise ChangelogError("nothing to release: the [Unreleased] section has no '- ' entries")
    return _with_section(changelog, version, date, repo_url, moved=True)


def start_section(text: str, version: Release, date: datetime.date) -> str:
    """TEXT with an empty VERSION section dated DATE below [Unreleased], whose entries stay: a
    hotfix's section, started where its fix is made (`### Fixed`, an entry to add)."""
    return _with_section(parse(text), version, date, None, moved=False)


def _date_like(written: str, date: datetime.date) -> str:
    """DATE in the form WRITTEN is in (ISO 8601 when WRITTEN is in none of DATE_FORMATS)."""
    for form in DATE_FORMATS:
        try:
            day = datetime.datetime.strptime(written, form).day
        except ValueError:
            continue
        if f"{day:02}" not in written:  # the day as written: 8 March, not 08 March
            form = form.replace("%d", str(date.day))
        return date.strftime(form)
    return date.isoformat()


def _ref_like(ref: str, version: Release) -> str:
    """VERSION written as REF is: with the leading v or without."""
    return f"v{version}" if ref.startswith("v") else str(version)


def _moved_on(url: str, version: Release, *, unreleased: bool) -> str:
    """URL for when VERSION is released: [Unreleased]'s compare/A...TARGET becomes
    compare/VERSION...TARGET; a release's compare/A...B becomes compare/B...VERSION and its
    tag/B or tree/B names VERSION. Anything else is kept."""
    base, found, refs = url.rpartition("/compare/")  # the last: a repository may be "compare"
    start, dots, end = refs.partition("...")
    if found and dots:
        if unreleased:
            return f"{base}/compare/{_ref_like(start, version)}...{end}"
        return f"{base}/compare/{end}...{_ref_like(end, version)}"
    for marker in ("/releases/tag/", "/tree/"):
        base, found, ref = url.rpartition(marker)
        if found and not unreleased:
            return f"{base}{marker}{_ref_like(ref, version)}"
    return url


def _unreleased_heading(heading: str | None, version: Release) -> str | None:
    """The [Unreleased] HEADING as written, its inline compare link now from VERSION."""
    if heading is None:
        return None
    title, url, _, _ = split_heading(heading[3:].strip())
    if url is None:
        return heading
    newline = heading[len(heading.rstrip("\r\n")) :]
    return f"## [{title}]({_moved_on(url, version, unreleased=True)}){newline}"


def _heading_like(
    template: Section | None, version: Release, date: datetime.date, newline: str
) -> str | None:
    """The heading of VERSION's new section dated DATE, written as TEMPLATE's (the latest
    release's) is; None (the canonical one) without a TEMPLATE or one whose date is unclear."""
    if template is None or template.heading is None:
        return None
    title, url, after, bracketed = split_heading(template.heading[3:].strip())
    after = without_yank_mark(after)
    written = date_text(after)
    if written is None and after:
        return None
    if written is not None:
        after = after.replace(written, _date_like(written, date), 1)
    name = _ref_like(title, version)
    if url is not None:
        name = f"[{name}]({_moved_on(url, version, unreleased=False)})"
    elif bracketed:
        name = f"[{name}]"
    return f"## {name}{' ' if after else ''}{after}{newline}"


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
    newline = "\r\n" if unreleased.heading_line().endswith("\r\n") else "\n"
    latest = next((s for s in older if s.version is not None), None)
    heading = _heading_like(latest, version, date, newline)
    if moved:
        sections = [
            Section(
                UNRELEASED, None, newline, heading=_unreleased_heading(unreleased.heading, version)
            ),
            Section(str(version), date.isoformat(), unreleased.body, heading=heading),
        ]
    else:
        body = unreleased.body
        if body.strip() and not body.endswith(newline * 2):
            body += newline  # a blank line between its entries and the new heading
        started = f"{newline}### Fixed{newline}{newline}"
        sections = [
            Section(UNRELEASED, None, body, heading=unreleased.heading),
            Section(str(version), date.isoformat(), started, heading=heading),
        ]
    sections += older
    tail = changelog.tail
    repository = repo_url.rstrip("/") if repo_url else _repository(changelog.links)
    if repository is not None:
        if previous is None:
            version_url = f"{repository}/releases/tag/{version.tag}"
        else:
            version_url = f"{repository}/compare/v{previous.removeprefix('v')}...{version.tag}"
        label = _ref_like(latest.title, version) if latest is not None else str(version)
        tail = _with_release_links(tail, repository, version, version_url, newline, label)
        # A definition right after a list item would be read as part of it: keep a blank line.
        if not changelog.links:
            last = sections[-1]
            body = last.body.rstrip("\r\n") + newline * 2
            sections[-1] = Section(last.title, last.date, body, last.yanked, last.heading)
    return render(Changelog(changelog.preamble, sections, tail))


def _with_release_links(
    tail: str, repository: str, version: Release, version_url: str, newline: str, label: str
) -> str:
    """TAIL with [Unreleased] comparing from VERSION (its label, target and wrapping as written)
    and [LABEL] (VERSION as its heading writes it) defined above the older versions' definitions
    (or after [Unreleased]'s); every other line as it was."""
    lines, kept, index = text_lines(tail), [], 0
    mine = [f"[{label}]: {version_url}{newline}"]
    unreleased = [f"[{UNRELEASED}]: {repository}/compare/{version.tag}...HEAD{newline}"]
    while index < len(lines):
        definition = definition_at(lines, index)
        index = definition.stop if definition else index + 1
        if definition is None:
            kept.append(lines[index - 1])
            continue
        written = lines[definition.start : definition.stop]
        older = version_of(definition.label)  # PEP 440 reads a leading v
        if definition.label.lower() == UNRELEASED.lower():
            _, dots, target = definition.url.partition("...")
            url = f"{repository}/compare/{version.tag}...{target if dots else 'HEAD'}"
            written[-1] = written[-1].replace(definition.url, url)
            if len(written) == 1:
                written = [f"[{definition.label}]: {url}{newline}"]
            unreleased = []
        elif older == version.version:
            continue  # a stale definition: replaced
        elif mine and older is not None and older < version.version:
            kept += mine
            mine = []
        kept += written
    if kept and not kept[-1].endswith("\n"):
        kept[-1] += newline
    first = next((i for i in range(len(kept)) if definition_at(kept, i)), 0)
    kept[first:first] = unreleased
    if mine:
        stop = next(
            found.stop
            for found in (definition_at(kept, i) for i in range(len(kept)))
            if found is not None and found.label.lower() == UNRELEASED.lower()
        )
        kept[stop:stop] = mine
    return "".join(kept)


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
    return [line.rstrip("\r\n") for line in entries_of(section)]


def yank(text: str, version: Release, reason: str) -> str:
    """TEXT with the VERSION section marked `[YANKED]` and REASON as its first line."""
    changelog = parse(text)
    sections = list(changelog.sections)
    index = _section_index(sections, version)
    section = sections[index]
    if section.yanked:
        raise ChangelogError(f"[{version}] is already marked {YANKED}")
    # The heading as written gets the mark; the lines added end as the heading's do (a CRLF
    # file stays CRLF).
    written = section.heading_line()
    newline = "\r\n" if written.endswith("\r\n") else "\n"
    heading = f"{written.rstrip()} {YANKED}{newline}"
    body = section.body if section.body.startswith(("\n", "\r\n")) else newline + section.body
    body = f"{newline}{YANKED_NOTE}{reason}{newline}" + body
    sections[index] = Section(section.title, section.date, body, True, heading)
    return render(Changelog(changelog.preamble, sections, changelog.tail))


def yank_reason(section: Section) -> str | None:
    """The reason a yanked SECTION gives on its `**Yanked:** ...` line, if it has one."""
    for line in text_lines(section.body):
        if line.startswith(YANKED_NOTE):
            return line.removeprefix(YANKED_NOTE).strip()
    return None


def has_section(text: str, version: Release) -> bool:
    """Whether TEXT has a section for release VERSION."""
    return _section(text, version) is not None


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print a release's notes, or check a changelog file."""
    parser = command_line(__spec__.name, __doc__)
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
            entries = len(entries_of(changelog.sections[0]))
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
