"""Comparing and merging CHANGELOGs as data: the entries a change adds (the CHANGELOG gate), and
the CHANGELOG after a release is merged back into develop or its line (finish-release)."""

from __future__ import annotations

from scripts.versioning.changelog_read import (
    BULLETS,
    UNRELEASED,
    Changelog,
    ChangelogError,
    Section,
    link_definition,
    parse,
    render,
    text_lines,
)


def new_entries(before: str | None, after: str) -> list[str]:
    """The entries of AFTER that BEFORE lacks: new under [Unreleased], or in the section of a
    release newer than any BEFORE has (a release or hotfix PR brings its section into main)."""
    old = parse(before) if before else None
    latest = max((s.version for s in old.sections[1:] if s.version), default=None) if old else None
    known = set(_entries(old.sections[0])) if old else set()
    unreleased, *sections = parse(after).sections
    found = [entry for entry in _entries(unreleased) if entry not in known]
    for section in sections:
        if latest is None or (section.version is not None and section.version > latest):
            found += _entries(section)  # a release: its entries, wherever they were before
    return found


def _blocks(body: str) -> list[list[str]]:
    """BODY's lines grouped: each entry (a bullet line with the indented lines that continue it)
    one group, every other line a group of its own."""
    blocks: list[list[str]] = []
    for line in text_lines(body):
        continues = line[:1] in (" ", "\t") and line.strip() and blocks
        if continues and blocks[-1][0].startswith(BULLETS):
            blocks[-1].append(line)
        else:
            blocks.append([line])
    return blocks


def _entry_key(block: list[str]) -> str:
    """An entry as compared across branches: its text, whatever the line endings."""
    return "\n".join(line.rstrip() for line in block)


def _entries(section: Section) -> list[str]:
    return [_entry_key(b) for b in _blocks(section.body) if b[0].startswith(BULLETS)]


def _without_entries(body: str, gone: set[str]) -> str:
    """BODY without the entries in GONE, and without the `###` headings left empty."""
    kept = [b for b in _blocks(body) if not (b[0].startswith(BULLETS) and _entry_key(b) in gone)]
    lines: list[str] = []
    for i, block in enumerate(kept):
        if block[0].startswith("### "):
            following = next(
                (b for b in kept[i + 1 :] if b[0].strip()), None
            )  # the next line that is not blank: an entry, or another heading
            if following is None or not following[0].startswith(BULLETS):
                continue
        if not block[0].strip() and lines and not lines[-1].strip():
            continue  # one blank line where entries or headings were taken out
        lines.extend(block)
    return "".join(lines)


def _with_entries(body: str, added: list[list[str]], newline: str) -> str:
    """BODY with the entries ADDED (groups of lines) at its end."""
    text = body.rstrip("\r\n")
    lines = "".join(line for block in added for line in block)
    return f"{text}{newline}{newline if text else ''}{lines}{newline}"


def _three_way(base: object, ours: object, theirs: object, what: str) -> object:
    """What a merge of one part keeps: the side that changed it; ChangelogError if both did."""
    if ours in (base, theirs):
        return theirs
    if theirs == base:
        return ours
    raise ChangelogError(f"both branches changed {what}: merge it by hand")


def merge_back(base: str, ours: str, theirs: str) -> str:
    """The CHANGELOG of a merge of THEIRS (main, or the branch a release went out from) back into
    OURS (develop), BASE being their common ancestor's: the released sections as THEIRS has
    them (unless only OURS changed one, a yank say), and [Unreleased] as OURS has it, without
    the entries THEIRS released from it and with any THEIRS added to it.

    ChangelogError where both changed one part (the preamble, one release's section).
    """
    if ours in (base, theirs):
        return theirs
    if theirs == base:
        return ours
    old, mine, released = parse(base), parse(ours), parse(theirs)
    unreleased = [c.sections[0] for c in (old, mine, released)]
    before, now, after = (set(_entries(s)) for s in unreleased)
    gone = before - after  # moved into a release by THEIRS
    added = [
        b
        for b in _blocks(unreleased[2].body)
        if b[0].startswith(BULLETS) and _entry_key(b) not in before | now
    ]
    newline = "\r\n" if unreleased[1].heading_line().endswith("\r\n") else "\n"
    body = _without_entries(unreleased[1].body, gone)
    if added:
        body = _with_entries(body, added, newline)
    if not any(line.startswith(BULLETS) for line in text_lines(body)):
        body = unreleased[2].body  # nothing unreleased left: as THEIRS writes an empty one
    elif len(released.sections) > 1 and not body.endswith(newline * 2):
        body += newline  # a blank line before the release headings that follow
    heading = _three_way(
        unreleased[0].heading, unreleased[1].heading, unreleased[2].heading,
        "the [Unreleased] heading",
    )  # fmt: skip
    sections = [Section(UNRELEASED, None, body, heading=str(heading))]
    by_version = [{s.version: s for s in c.sections[1:]} for c in (old, mine, released)]
    order = [s.version for s in released.sections[1:]]
    for section in mine.sections[1:]:  # a section only OURS has, where its version belongs
        if section.version is None:
            continue
        if section.version not in by_version[2] and section.version not in by_version[0]:
            at = next((i for i, v in enumerate(order) if v is not None and v < section.version
                       ), len(order))  # fmt: skip
            order.insert(at, section.version)
    for version in order:
        b, o, t = (sections_of.get(version) for sections_of in by_version)
        kept = _three_way(b, o, t, f"the [{version}] section")
        if kept is not None:
            assert isinstance(kept, Section)
            sections.append(kept)
    for version, section in by_version[1].items():  # OURS changed a section THEIRS removed
        if version not in by_version[2] and version in by_version[0]:
            _three_way(by_version[0][version], section, None, f"the [{version}] section")
    preamble = _three_way(old.preamble, mine.preamble, released.preamble, "the preamble")
    tail = _merged_links(old.tail, mine.tail, released.tail)
    return render(Changelog(str(preamble), sections, tail))


def _merged_links(base: str, ours: str, theirs: str) -> str:
    """The link definitions after the merge: THEIRS', and those OURS added (newest first)."""
    if ours in (base, theirs):
        return theirs
    if theirs == base:
        return ours
    labels = {link[0].lower() for line in text_lines(theirs) if (link := link_definition(line))}
    known = {link[0].lower() for line in text_lines(base) if (link := link_definition(line))}
    extra = [
        line
        for line in text_lines(ours)
        if (link := link_definition(line)) and link[0].lower() not in labels | known
    ]
    return theirs + "".join(line if line.endswith("\n") else line + "\n" for line in extra)
