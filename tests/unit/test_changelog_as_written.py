"""scripts.changelog on CHANGELOGs as people write them (tests/unit/changelogs, written here):
each is read without an error, its history's problems are warnings, and a release changes no line
but the ones it writes."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from scripts.changelog import parse, release, section_text, unreleased_entries
from scripts.versions import Release

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


@pytest.mark.parametrize(
    ("name", "warnings", "links"),
    [
        pytest.param(
            "prerelease-sections.md",
            ["line 30: [2.0.0.dev5] comes after the older [1.2.0rc1]: releases are listed "
             "newest first"],
            (
                "[Unreleased]: https://github.com/example-org/widget/compare/v99.0.0...HEAD\n",
                "[99.0.0]: https://github.com/example-org/widget/compare/v1.2.0...v99.0.0\n",
            ),
            id="pre-release-and-dev-sections",
        ),
        pytest.param("linked-headings.md", [], (), id="linked-headings-no-definitions"),
        pytest.param(
            "capitals-and-spaces.md",
            [],
            (
                "[Unreleased]: https://github.com/example-org/sprocket/compare/v99.0.0...HEAD\n",
                "[99.0.0]: https://github.com/example-org/sprocket/compare/v3.4.1...v99.0.0\n",
            ),
            id="capitals-trailing-spaces-en-dash-lowercase-link",
        ),
        pytest.param(
            "stray-heading-deep-in-history.md",
            [f"line 718: '## Changed' {NOT_A_HEADING}"],
            (
                "[Unreleased]: https://github.com/example-org/cog/compare/v99.0.0...HEAD\n",
                "[99.0.0]: https://github.com/example-org/cog/compare/v0.110.0...v99.0.0\n",
            ),
            id="stray-heading-700-lines-down",
        ),
    ],
)  # fmt: skip
def test_a_changelog_as_written_is_released_changing_only_what_is_written(
    name: str, warnings: list[str], links: tuple[str, ...]
) -> None:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    before = parse(text)
    assert before.warnings == warnings
    entries = unreleased_entries(text)
    assert entries

    after = release(text, NEW, DAY)

    # Take out of each side the lines a release writes: what is left is the same, in order.
    unreleased_heading = before.sections[0].heading
    stale_links = [
        line for line in text.splitlines(True) if line.lower().startswith("[unreleased]:")
    ]
    written = ["## [Unreleased]\n", "\n", "## [99.0.0] - 2026-12-04\n", *links]
    kept_before, replaced = without(text, [unreleased_heading, *stale_links])
    kept_after, wrote = without(after, written)
    assert replaced == [unreleased_heading, *stale_links]
    assert wrote == written
    assert kept_after == kept_before
    # The entries moved under the new section, in their order; the history reads as before.
    assert unreleased_entries(after) == []
    notes = section_text(after, NEW)
    assert [line for line in notes.splitlines() if line.startswith("- ")] == entries
    assert parse(after).warnings == [
        warning.replace(warning.split(":")[0], f"line {int(warning.split()[1][:-1]) + 2}")
        for warning in warnings
    ]
