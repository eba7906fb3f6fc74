"""changelog on CHANGELOGs as people write them (tests/unit/changelogs, written here):
each is read without an error, its history's problems are warnings, and a release moves exactly
the [Unreleased] entries and changes no line but the ones it writes, in the file's own style."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from scripts.versioning import changelog_read
from scripts.versioning.changelog import parse, release, section_text, unreleased_entries
from scripts.versioning.versions import Release

FIXTURES = Path(__file__).parent / "changelogs"
DAY = datetime.date(2026, 12, 4)
NEW = Release.parse("99.0.0")
NOT_A_HEADING = "is not a release heading (expected '## [Unreleased]' or '## [X.Y.Z] - YYYY-MM-DD')"


def without(text: str, lines: list[str]) -> tuple[list[str], list[str]]:
    """TEXT's lines less the first occurrence of each of LINES (in order, each after the one
    before), and the lines taken out."""
    rest, taken, start = text.splitlines(keepends=True), [], 0
    for line in lines:
        if line in rest[start:]:
            start = rest.index(line, start)
            taken.append(rest.pop(start))
    return rest, taken


GADGET = "https://github.com/example-org/gadget"
WIDGET = "https://github.com/example-org/widget"
SPROCKET = "https://github.com/example-org/sprocket"
COG = "https://github.com/example-org/cog"
LEVER = "https://github.com/example-org/lever"
RATCHET = "https://github.com/example-org/ratchet"


@dataclass
class Expected:
    """What releasing 99.0.0 on DAY must do to a fixture: the lines it replaces, in the file's
    order, and what it writes, in the new file's order (the [Unreleased] heading first, then the
    blank line and the new heading it adds); the warnings before and after."""

    replaced: list[str]
    written: list[str]
    warnings: list[str] = field(default_factory=list)
    warnings_after: list[str] = field(default_factory=list)


CASES = {
    "prerelease-sections.md": Expected(
        ["## [Unreleased]\n", f"[Unreleased]: {WIDGET}/compare/v1.2.0...HEAD\n"],
        ["## [Unreleased]\n", "\n", "## [99.0.0] - 2026-12-04\n",
         f"[Unreleased]: {WIDGET}/compare/v99.0.0...HEAD\n",
         f"[99.0.0]: {WIDGET}/compare/v1.2.0...v99.0.0\n"],
        ["line 30: [2.0.0.dev5] comes after the older [1.2.0rc1]: releases are listed newest "
         "first"],
        ["line 32: [2.0.0.dev5] comes after the older [1.2.0rc1]: releases are listed newest "
         "first"],
    ),
    "linked-headings.md": Expected(
        [f"## [Unreleased]({GADGET}/compare/26.1.0...HEAD)\n"],
        [f"## [Unreleased]({GADGET}/compare/99.0.0...HEAD)\n", "\n",
         f"## [99.0.0]({GADGET}/compare/26.1.0...99.0.0) - 2026-12-04\n"],
    ),
    "capitals-and-spaces.md": Expected(
        ["## [UNRELEASED]\n", f"[unreleased]: {SPROCKET}/compare/v3.4.1...HEAD\n"],
        ["## [UNRELEASED]\n", "\n", "## [99.0.0] - 2026-12-04\n",
         f"[unreleased]: {SPROCKET}/compare/v99.0.0...HEAD\n",
         f"[99.0.0]: {SPROCKET}/compare/v3.4.1...v99.0.0\n"],
    ),
    "stray-heading-deep-in-history.md": Expected(
        ["## [Unreleased]\n", f"[Unreleased]: {COG}/compare/v0.110.0...HEAD\n"],
        ["## [Unreleased]\n", "\n", "## [99.0.0] - 2026-12-04\n",
         f"[Unreleased]: {COG}/compare/v99.0.0...HEAD\n",
         f"[99.0.0]: {COG}/compare/v0.110.0...v99.0.0\n"],
        [f"line 718: '## Changed' {NOT_A_HEADING}"],
        [f"line 720: '## Changed' {NOT_A_HEADING}"],
    ),
    "unbracketed-dates-in-parentheses.md": Expected(
        ["## Unreleased\n"], ["## Unreleased\n", "\n", "## 99.0.0 (2026-12-04)\n"]
    ),
    "inline-links-to-main-no-dates.md": Expected(
        [f"## [unreleased]({LEVER}/compare/v2.0.0...main)\n"],
        [f"## [unreleased]({LEVER}/compare/v99.0.0...main)\n", "\n",
         f"## [v99.0.0]({LEVER}/compare/v2.0.0...v99.0.0)\n"],
        ["line 7: [v2.0.0] has no date", "line 11: [v1.9.0] has no date"],
        ["line 5: [v99.0.0] has no date", "line 9: [v2.0.0] has no date",
         "line 13: [v1.9.0] has no date"],
    ),
    "wrapped-link-definitions.md": Expected(
        ["## [Unreleased]\n", f"    {RATCHET}/compare/v0.4.0a2...HEAD\n"],
        ["## [Unreleased]\n", "\n", "## [99.0.0] - 4 December 2026\n",
         f"    {RATCHET}/compare/v99.0.0...HEAD\n",
         f"[99.0.0]: {RATCHET}/compare/v0.4.0a2...v99.0.0\n"],
        ["line 11: [0.4.0a2] has the date '8 March 2025': not YYYY-MM-DD",
         "line 17: [0.4.0a1] has the date '1 February 2025': not YYYY-MM-DD"],
        ["line 7: [99.0.0] has the date '4 December 2026': not YYYY-MM-DD",
         "line 13: [0.4.0a2] has the date '8 March 2025': not YYYY-MM-DD",
         "line 19: [0.4.0a1] has the date '1 February 2025': not YYYY-MM-DD"],
    ),
}  # fmt: skip


def test_every_fixture_has_a_case() -> None:
    assert sorted(CASES) == sorted(path.name for path in FIXTURES.glob("*.md"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_changelog_as_written_is_released_in_its_own_style(name: str) -> None:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    expected = CASES[name]
    assert parse(text).warnings == expected.warnings
    entries = unreleased_entries(text)
    assert entries

    after = release(text, NEW, DAY)

    # Take out of each side the lines a release writes: what is left is the same, in order.
    kept_before, replaced = without(text, expected.replaced)
    kept_after, wrote = without(after, expected.written)
    assert replaced == expected.replaced
    assert wrote == expected.written
    assert kept_after == kept_before
    # The entries moved under the new section, in their order; the history reads as before.
    assert unreleased_entries(after) == []
    notes = section_text(after, NEW)
    assert [line for line in notes.splitlines() if line.startswith("- ")] == entries
    assert parse(after).warnings == expected.warnings_after


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("[x]: https://e.example/", ("x", "https://e.example/")),
        ("[x]: https://e.example/   ", ("x", "https://e.example/")),
        ("[a[b]: https://e.example/", None),
        ("[a]b]: https://e.example/", None),
        ("[]: https://e.example/", None),
        ("[x]: two words", None),
        ("x: https://e.example/", None),
    ],
    ids=["plain", "trailing-spaces", "bracket-in-label", "closing-bracket-in-label",
         "empty-label", "not-one-url", "no-bracket"],
)  # fmt: skip
def test_link_definition(line: str, expected: tuple[str, str] | None) -> None:
    assert changelog_read.link_definition(line) == expected


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (" - 2024-01-02", "2024-01-02"),
        ("-2024-01-02", "2024-01-02"),
        (" (2024-01-02)", "2024-01-02"),
        (" (2024-01-02", None),
        (" - 2024-01-02 [YANKED]", "2024-01-02"),
        (" (2024-01-02) [yanked]", "2024-01-02"),
        (" 2024-01-02", None),
        (" -", None),
        (" ( )", None),
    ],
    ids=["dash", "dash-no-space", "parentheses", "one-parenthesis", "yanked", "parentheses-yanked",
         "bare", "a-dash-alone", "empty-parentheses"],
)  # fmt: skip
def test_date_text(after: str, expected: str | None) -> None:
    assert changelog_read.date_text(after) == expected


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["text\n", "[a]: https://a\n", "\n", "[b]:\n", "\thttps://b\n", "[c]: https://c"],
         [(1, 2, "a", "https://a"), (3, 5, "b", "https://b"), (5, 6, "c", "https://c")]),
        (["[a]:\n", "https://a\n"], []),
        (["[a]: https://a\n", "  more text\n"], [(0, 1, "a", "https://a")]),
    ],
    ids=["between-other-lines-one-wrapped-by-a-tab", "a-url-below-not-indented",
         "an-indented-line-after-a-definition"],
)  # fmt: skip
def test_definitions(lines: list[str], expected: list[tuple[int, int, str, str]]) -> None:
    found = changelog_read.definitions(lines)
    assert [(d.start, d.stop, d.label, d.url) for d in found] == expected


def test_a_tail_may_begin_with_a_wrapped_definition() -> None:
    assert changelog_read.tail_start(["[a]:\n", "  https://a\n", "\n"]) == 0


def test_a_definition_wrapped_onto_the_last_line_is_read() -> None:
    lines = ["## [1.0.0] - 2024-01-02\n", "\n", "[1.0.0]:\n", "  https://e.example/v1.0.0\n"]
    assert changelog_read.definitions(lines) == [
        changelog_read.Definition(2, 4, "1.0.0", "https://e.example/v1.0.0")
    ]
    assert changelog_read.definitions(["[1.0.0]:\n"]) == []  # nothing follows: no URL


@pytest.mark.parametrize(
    ("rest", "expected"),
    [
        ("[1.0.0] - 2024-01-02", ("1.0.0", None, " - 2024-01-02", True)),
        ("1.0.0 (2024-01-02)", ("1.0.0", None, "(2024-01-02)", False)),
        ("[1.0.0](https://e.example/) - x", ("1.0.0", "https://e.example/", " - x", True)),
        ("[1.0.0 - 2024-01-02", ("", None, "[1.0.0 - 2024-01-02", True)),
        ("[1.0.0](https://e.example/ - x", ("", None, "[1.0.0](https://e.example/ - x", True)),
        ("[1.0.0](https://e.example/) (2024-01-02)",
         ("1.0.0", "https://e.example/", " (2024-01-02)", True)),
    ],
    ids=["brackets", "bare", "inline-link", "unclosed-bracket",
         "unclosed-link", "inline-link-then-parentheses"],
)  # fmt: skip
def test_split_heading(rest: str, expected: tuple[str, str | None, str, bool]) -> None:
    assert changelog_read.split_heading(rest) == expected


def test_each_section_knows_its_release() -> None:
    text = "# C\n\n## [Unreleased]\n\n## [1.1.0rc1] - 2024-02-01\n\n## [1.0.0] - 2024-01-02\n"
    found = [(s.title, s.release) for s in parse(text).sections]
    assert found == [("Unreleased", None), ("1.1.0rc1", Release.parse("1.1.0rc1")),
                     ("1.0.0", Release.parse("1.0.0"))]  # fmt: skip
