"""changelog: parse, render, release and check Keep a Changelog files; write atomically."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.versioning import changelog
from scripts.versioning.changelog import (
    Changelog,
    ChangelogError,
    Section,
    has_section,
    main,
    parse,
    release,
    render,
    section_entries,
    section_text,
    start_section,
    unreleased_entries,
    with_section_entry,
    with_unreleased_entry,
)
from scripts.versioning.versions import Release
from tests.helpers import help_shows

ROOT = Path(__file__).resolve().parents[2]
REPO = "https://github.com/agentops-accelerator/agentops-accelerator"
PREAMBLE = """\
# Changelog

All notable changes to this project will be documented in this file.

The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/),
and this project adheres to [Semantic Versioning](https://semver.org/spec/v2.0.0.html).

"""
REALISTIC = (
    PREAMBLE
    + f"""\
## [Unreleased]

### Added

- `agentops run --parallel` runs the evaluations concurrently.
- `agentops init --force` replaces an existing workspace.

### Fixed

- `agentops init` no longer overwrites an existing config.

## [0.2.0] - 2024-05-02

### Changed

- The config file moved to `.agentops/config.yaml`.

### Removed

- The `--legacy` flag.

## [0.1.0] - 2024-03-15

### Added

- The `agentops` CLI with `init`.

[Unreleased]: {REPO}/compare/v0.2.0...HEAD
[0.2.0]: {REPO}/compare/v0.1.0...v0.2.0
[0.1.0]: {REPO}/releases/tag/v0.1.0
"""
)
RELEASED = (
    PREAMBLE
    + f"""\
## [Unreleased]

## [0.3.0] - 2024-06-01

### Added

- `agentops run --parallel` runs the evaluations concurrently.
- `agentops init --force` replaces an existing workspace.

### Fixed

- `agentops init` no longer overwrites an existing config.

## [0.2.0] - 2024-05-02

### Changed

- The config file moved to `.agentops/config.yaml`.

### Removed

- The `--legacy` flag.

## [0.1.0] - 2024-03-15

### Added

- The `agentops` CLI with `init`.

[Unreleased]: {REPO}/compare/v0.3.0...HEAD
[0.3.0]: {REPO}/compare/v0.2.0...v0.3.0
[0.2.0]: {REPO}/compare/v0.1.0...v0.2.0
[0.1.0]: {REPO}/releases/tag/v0.1.0
"""
)
FIRST = PREAMBLE + "## [Unreleased]\n\n### Added\n\n- The `agentops` CLI.\n"
DAY = datetime.date(2024, 6, 1)


def with_unreleased(*lines: str) -> str:
    """A small changelog whose [Unreleased] holds one entry, then LINES (from line 7 on)."""
    return "# Changelog\n\n## [Unreleased]\n\n- An entry.\n\n" + "".join(f"{x}\n" for x in lines)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(REALISTIC, id="two-releases"),
        pytest.param(RELEASED, id="three-releases-empty-unreleased"),
        pytest.param(FIRST, id="unreleased-only-no-links"),
        pytest.param(
            with_unreleased("## [0.0.5] - 2014-12-13 [YANKED]", "", "- Broken."), id="yanked"
        ),
        pytest.param(
            with_unreleased("## [1.0.0] - 2024-01-01", "- No final newline")[:-1], id="eof"
        ),
        pytest.param(
            with_unreleased("## [1.0.0] - 2024-01-01", "", "[1.0.0]: not-at-the-end", "- Entry."),
            id="definition-inside-a-section",
        ),
        pytest.param("## [Unreleased]\n[Unreleased]: https://x/compare/v1.0.0...HEAD\n", id="bare"),
    ],
)
def test_render_parse_round_trip(text: str) -> None:
    assert render(parse(text)) == text


def test_parse_reads_the_model() -> None:
    changelog = parse(REALISTIC)
    assert changelog.preamble == PREAMBLE
    assert [(s.title, s.date) for s in changelog.sections] == [
        ("Unreleased", None),
        ("0.2.0", "2024-05-02"),
        ("0.1.0", "2024-03-15"),
    ]
    assert changelog.sections[2].body == "\n### Added\n\n- The `agentops` CLI with `init`.\n\n"
    assert changelog.links == {
        "Unreleased": f"{REPO}/compare/v0.2.0...HEAD",
        "0.2.0": f"{REPO}/compare/v0.1.0...v0.2.0",
        "0.1.0": f"{REPO}/releases/tag/v0.1.0",
    }


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("## [Unreleased]\n\n[Unreleased]: u\n\n\n", id="blank-lines-after-links"),
        pytest.param("## [Unreleased]\n\n[Unreleased]: u\n\n[1.0.0]: v", id="blank-among-links"),
        pytest.param("# Changelog\r\n\r\n## [Unreleased]\r\n\r\n- x\r\n", id="crlf"),
    ],
)
def test_what_is_read_is_kept_byte_for_byte(text: str) -> None:
    assert render(parse(text)) == text


def test_render_writes_new_sections_canonically() -> None:
    changelog = Changelog(
        "# Log\n\n",
        [Section("Unreleased", None, "\n"), Section("1.0.0", "2024-01-02", "\n- A.\n\n", True)],
        "[1.0.0]: https://x/releases/tag/v1.0.0\n",
    )
    assert render(changelog) == (
        "# Log\n\n## [Unreleased]\n\n## [1.0.0] - 2024-01-02 [YANKED]\n\n- A.\n\n"
        "[1.0.0]: https://x/releases/tag/v1.0.0\n"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            with_unreleased("## [unreleased]"),
            "line 7: duplicate section [Unreleased] (the first is at line 3)",
            id="duplicate-unreleased-in-lowercase",
        ),
        pytest.param(
            with_unreleased("## [Unreleased]"),
            "line 7: duplicate section [Unreleased] (the first is at line 3)",
            id="duplicate-unreleased",
        ),
        pytest.param(
            "# Changelog\n\n## [1.0.0] - 2024-01-01\n\n- x\n",
            "no [Unreleased] section: add '## [Unreleased]' above the first release section",
            id="no-unreleased",
        ),
        pytest.param(
            "# Changelog\n",
            "no [Unreleased] section: add '## [Unreleased]' above the first release section",
            id="no-sections",
        ),
        pytest.param(
            "# Changelog\n\n## [1.0.0] - 2024-01-01\n\n## [Unreleased]\n",
            "line 5: [Unreleased] must be the first section",
            id="unreleased-below-a-release",
        ),
        pytest.param(
            with_unreleased("## [Unreleased] - 2024-01-01"),
            "line 7: malformed heading '## [Unreleased] - 2024-01-01': "
            "expected '## [Unreleased]' alone",
            id="dated-unreleased",
        ),
    ],
)
def test_parse_refuses_where_it_would_write(text: str, message: str) -> None:
    with pytest.raises(ChangelogError) as caught:
        parse(text)
    assert str(caught.value) == message


NOT_A_HEADING = "is not a release heading (expected '## [Unreleased]' or '## [X.Y.Z] - YYYY-MM-DD')"


@pytest.mark.parametrize(
    ("text", "warnings"),
    [
        pytest.param(
            with_unreleased("## [1.0.0] - 2024-01-01", "- A.", "", "## Changed", "", "- B."),
            [f"line 10: '## Changed' {NOT_A_HEADING}"],
            id="stray-heading-in-history",
        ),
        pytest.param(
            with_unreleased("## 2024 plans"),
            [f"line 7: '## 2024 plans' {NOT_A_HEADING}"],
            id="a-number-is-no-release-without-brackets",
        ),
        pytest.param(
            with_unreleased("## [1.0.0 - 2024-01-01"),
            [f"line 7: '## [1.0.0 - 2024-01-01' {NOT_A_HEADING}"],
            id="unclosed-bracket",
        ),
        pytest.param(
            with_unreleased("## [one] - 2024-01-01"),
            ["line 7: '## [one] - 2024-01-01' is not a release heading ('one' is not a version)"],
            id="not-a-version",
        ),
        pytest.param(
            with_unreleased("## [1.0.0] 2024-01-01"),
            ["line 7: [1.0.0] has '2024-01-01' where ' - YYYY-MM-DD' belongs"],
            id="no-dash",
        ),
        pytest.param(with_unreleased("## [1.0.0]"), ["line 7: [1.0.0] has no date"], id="no-date"),
        pytest.param(
            with_unreleased("## [1.0.0] - 2024-13-01"),
            ["line 7: [1.0.0] has the date '2024-13-01': not YYYY-MM-DD"],
            id="month-13",
        ),
        pytest.param(
            with_unreleased("## [1.0.0] - 20240101"),
            ["line 7: [1.0.0] has the date '20240101': not YYYY-MM-DD"],
            id="basic-iso-date",
        ),
        pytest.param(
            with_unreleased("## [1.0.0] - 2024-01-01 (yanked)"),
            ["line 7: [1.0.0] has the date '2024-01-01 (yanked)': not YYYY-MM-DD"],
            id="text-after-date",
        ),
        pytest.param(
            with_unreleased("## [1.0.0] - 2024-01-01", "- A.", "## [1.0.0] - 2024-01-01"),
            ["line 9: duplicate section [1.0.0] (the first is at line 7)"],
            id="duplicate-version",
        ),
        pytest.param(
            with_unreleased("## [0.9.0] - 2024-01-01", "## [0.10.0] - 2024-02-01"),
            ["line 8: [0.10.0] comes after the older [0.9.0]: releases are listed newest first"],
            id="out-of-order",
        ),
        pytest.param(
            with_unreleased("[Unreleased]: https://a", "[unreleased]: https://b"),
            ["line 8: duplicate link definition [unreleased] (the first is at line 7)"],
            id="duplicate-link-any-case",
        ),
        pytest.param(
            with_unreleased("## [1.0.0]", "## Notes", "## [0.9.0] - 2024-01-01 "),
            ["line 7: [1.0.0] has no date", f"line 8: '## Notes' {NOT_A_HEADING}"],
            id="several-in-line-order",
        ),
        pytest.param(
            with_unreleased("## Plans for X  ", "## Notes on X"),
            [
                f"line 7: '## Plans for X  ' {NOT_A_HEADING}",
                f"line 8: '## Notes on X' {NOT_A_HEADING}",
            ],
            id="a-stray-heading-shown-as-written",
        ),
        pytest.param(
            with_unreleased("## [1.0.0] [yanked]", "## [0.9.0] soon", "## [0.8.0] beta  [YANKED]"),
            [
                "line 7: [1.0.0] has no date",
                "line 8: [0.9.0] has 'soon' where ' - YYYY-MM-DD' belongs",
                "line 9: [0.8.0] has 'beta' where ' - YYYY-MM-DD' belongs",
            ],
            id="undated-the-yank-mark-apart",
        ),
    ],
)
def test_problems_in_the_history_are_warnings(text: str, warnings: list[str]) -> None:
    changelog = parse(text)
    assert changelog.warnings == warnings
    assert render(changelog) == text


@pytest.mark.parametrize(
    ("heading", "title", "date", "yanked"),
    [
        pytest.param("## [Unreleased]", "Unreleased", None, False, id="canonical-unreleased"),
        pytest.param("## [UNRELEASED]", "Unreleased", None, False, id="capitals"),
        pytest.param("## Unreleased", "Unreleased", None, False, id="no-brackets"),
        pytest.param(
            "## [Unreleased](https://github.com/o/r/compare/26.1.0...HEAD)", "Unreleased", None,
            False, id="linked-unreleased",
        ),
        pytest.param("## [1.2.0rc2] - 2022-08-26", "1.2.0rc2", "2022-08-26", False,
                     id="pre-release"),
        pytest.param("## [2.0.0.dev5] - 2021-01-02", "2.0.0.dev5", "2021-01-02", False,
                     id="dev-release"),
        pytest.param("## [1.0.0](https://x/releases/1.0.0) - 2020-02-03", "1.0.0", "2020-02-03",
                     False, id="linked-release"),
        pytest.param("## [1.0.0] - 2020-02-03 ", "1.0.0", "2020-02-03", False,
                     id="trailing-space"),
        pytest.param("## [1.0.0] \u2013 2020-02-03", "1.0.0", "2020-02-03", False, id="en-dash"),
        pytest.param("## [0.0.5] - 2014-12-13 [YANKED]", "0.0.5", "2014-12-13", True,
                     id="yanked"),
        pytest.param("## [1.0] - 2020-02-03", "1.0", "2020-02-03", False, id="two-part-version"),
        pytest.param("## [v1.0.0] - 2020-02-03", "v1.0.0", "2020-02-03", False, id="v-prefix"),
        pytest.param("## 1.2.0 (2024-01-02)", "1.2.0", "2024-01-02", False, id="no-brackets"),
        pytest.param("## v1.2.0 - 2024-01-02", "v1.2.0", "2024-01-02", False,
                     id="no-brackets-v-prefix"),
        pytest.param("## 1.2.0 - 2024-01-02 [YANKED]", "1.2.0", "2024-01-02", True,
                     id="no-brackets-yanked"),
    ],
)  # fmt: skip
def test_headings_as_people_write_them(
    heading: str, title: str, date: str | None, yanked: bool
) -> None:
    if title == "Unreleased":
        text = f"# Changelog\n\n{heading}\n\n- An entry.\n"
        index = 0
    else:
        text = with_unreleased(heading, "", "- Shipped.")
        index = 1
    changelog = parse(text)
    assert changelog.warnings == []
    section = changelog.sections[index]
    assert (section.title, section.date, section.yanked) == (title, date, yanked)
    assert section.heading == heading + "\n"
    assert render(changelog) == text


@pytest.mark.parametrize(
    ("text", "entries"),
    [
        pytest.param(
            REALISTIC,
            [
                "- `agentops run --parallel` runs the evaluations concurrently.",
                "- `agentops init --force` replaces an existing workspace.",
                "- `agentops init` no longer overwrites an existing config.",
            ],
            id="realistic",
        ),
        pytest.param(RELEASED, [], id="empty"),
        pytest.param(
            "## [Unreleased]\n\n### Added\n\n* Star.\n+ Plus.\n  - Nested.\ntext\n",
            ["* Star.", "+ Plus."],
            id="other-markers-top-level-only",
        ),
    ],
)
def test_unreleased_entries(text: str, entries: list[str]) -> None:
    assert unreleased_entries(text) == entries


def test_release_moves_unreleased_into_a_new_section() -> None:
    assert release(REALISTIC, Release.parse("0.3.0"), DAY) == RELEASED


@pytest.mark.parametrize(
    ("text", "version", "repo_url", "expected"),
    [
        pytest.param(
            FIRST,
            "0.1.0",
            None,
            PREAMBLE + "## [Unreleased]\n\n## [0.1.0] - 2024-06-01\n\n### Added\n\n"
            "- The `agentops` CLI.\n",
            id="first-no-links",
        ),
        pytest.param(
            FIRST,
            "v0.1.0",
            "https://github.com/o/r/",
            PREAMBLE + "## [Unreleased]\n\n## [0.1.0] - 2024-06-01\n\n### Added\n\n"
            "- The `agentops` CLI.\n\n"
            "[Unreleased]: https://github.com/o/r/compare/v0.1.0...HEAD\n"
            "[0.1.0]: https://github.com/o/r/releases/tag/v0.1.0\n",
            id="first-with-repo-url",
        ),
        pytest.param(
            FIRST + "\n[Unreleased]: https://github.com/o/r/commits/main\n",
            "1.0.0",
            None,
            PREAMBLE + "## [Unreleased]\n\n## [1.0.0] - 2024-06-01\n\n### Added\n\n"
            "- The `agentops` CLI.\n\n"
            "[Unreleased]: https://github.com/o/r/compare/v1.0.0...HEAD\n"
            "[1.0.0]: https://github.com/o/r/releases/tag/v1.0.0\n",
            id="first-repo-from-unreleased-link",
        ),
        pytest.param(
            with_unreleased("## [0.9.0] - 2024-01-01", "", "- Old.", "", "[0.9.0]: https://x/0.9"),
            "0.10.0",
            "https://github.com/o/r",
            "# Changelog\n\n## [Unreleased]\n\n## [0.10.0] - 2024-06-01\n\n- An entry.\n\n"
            "## [0.9.0] - 2024-01-01\n\n- Old.\n\n"
            "[Unreleased]: https://github.com/o/r/compare/v0.10.0...HEAD\n"
            "[0.10.0]: https://github.com/o/r/compare/v0.9.0...v0.10.0\n"
            "[0.9.0]: https://x/0.9\n",
            id="unreleased-link-added-first",
        ),
        pytest.param(
            with_unreleased("## [0.2.0] - 2024-01-01", "", "- Old.", "", "[0.3.0]: stale"),
            "0.3.0",
            "https://github.com/o/r",
            "# Changelog\n\n## [Unreleased]\n\n## [0.3.0] - 2024-06-01\n\n- An entry.\n\n"
            "## [0.2.0] - 2024-01-01\n\n- Old.\n\n"
            "[Unreleased]: https://github.com/o/r/compare/v0.3.0...HEAD\n"
            "[0.3.0]: https://github.com/o/r/compare/v0.2.0...v0.3.0\n",
            id="stale-link-replaced",
        ),
        pytest.param(
            "## [Unreleased]\n- Tight.",
            "0.1.0",
            "https://github.com/o/r",
            "## [Unreleased]\n\n## [0.1.0] - 2024-06-01\n- Tight.\n\n"
            "[Unreleased]: https://github.com/o/r/compare/v0.1.0...HEAD\n"
            "[0.1.0]: https://github.com/o/r/releases/tag/v0.1.0\n",
            id="blank-line-before-new-links",
        ),
    ],
)
def test_release(text: str, version: str, repo_url: str | None, expected: str) -> None:
    assert release(text, Release.parse(version), DAY, repo_url) == expected


@pytest.mark.parametrize(
    ("text", "version", "error", "message"),
    [
        pytest.param(
            RELEASED,
            "0.4.0",
            ChangelogError,
            "nothing to release: the [Unreleased] section has no '- ' entries",
            id="empty-unreleased",
        ),
        pytest.param(
            PREAMBLE + "## [Unreleased]\n\n### Added\n\n### Fixed\n",
            "0.1.0",
            ChangelogError,
            "nothing to release: the [Unreleased] section has no '- ' entries",
            id="only-subsection-headings",
        ),
        pytest.param(
            REALISTIC,
            "0.2.0",
            ChangelogError,
            "the changelog already has a [0.2.0] section",
            id="existing-version",
        ),
        pytest.param(
            REALISTIC,
            "0.1.5",
            ChangelogError,
            "version 0.1.5 is not greater than the latest section [0.2.0]",
            id="older-version",
        ),
        pytest.param(
            FIRST + "\n[Unreleased]: https://example.org/changes\n",
            "0.1.0",
            ChangelogError,
            "cannot tell the repository from the [Unreleased] link 'https://example.org/changes': "
            "expected https://github.com/OWNER/REPO/compare/vX.Y.Z...HEAD",
            id="unknown-unreleased-link",
        ),
        pytest.param(
            "## [Unreleased] - 2024-01-01\n- x\n",
            "0.1.0",
            ChangelogError,
            "line 1: malformed heading '## [Unreleased] - 2024-01-01': "
            "expected '## [Unreleased]' alone",
            id="malformed-unreleased",
        ),
        pytest.param(
            with_unreleased("## [0.1.0rc1] - 2024-01-01", "", "## [0.1.0](url) - 2023-01-01"),
            "0.1.0",
            ChangelogError,
            "the changelog already has a [0.1.0] section",
            id="released-under-a-linked-heading",
        ),
    ],
)
def test_release_refuses(text: str, version: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        release(text, Release.parse(version), DAY)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("version", "notes"),
    [
        pytest.param(
            "0.2.0",
            "### Changed\n\n- The config file moved to `.agentops/config.yaml`.\n\n"
            "### Removed\n\n- The `--legacy` flag.",
            id="middle",
        ),
        pytest.param("v0.1.0", "### Added\n\n- The `agentops` CLI with `init`.", id="last-v"),
    ],
)
def test_section_text(version: str, notes: str) -> None:
    assert section_text(REALISTIC, Release.parse(version)) == notes
    assert has_section(REALISTIC, Release.parse(version))


@pytest.mark.parametrize(
    ("version", "error", "message"),
    [
        pytest.param("0.3.0", ChangelogError, "the changelog has no [0.3.0] section", id="absent"),
    ],
)
def test_section_text_refuses(version: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        section_text(REALISTIC, Release.parse(version))
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "version", "expected"),
    [
        pytest.param(REALISTIC, "0.2.0", True, id="present"),
        pytest.param(REALISTIC, "0.3.0", False, id="absent"),
        pytest.param(RELEASED, "0.3.0", True, id="after-release"),
    ],
)
def test_has_section(text: str, version: str, expected: bool) -> None:
    assert has_section(text, Release.parse(version)) is expected


@pytest.mark.parametrize(
    ("content", "argv", "code", "out", "err"),
    [
        pytest.param(
            REALISTIC,
            ["section", "0.2.0", "--file", "{file}"],
            0,
            "### Changed\n\n- The config file moved to `.agentops/config.yaml`.\n\n"
            "### Removed\n\n- The `--legacy` flag.\n",
            "",
            id="section",
        ),
        pytest.param(
            REALISTIC,
            ["section", "0.9.0", "--file", "{file}"],
            1,
            "",
            "{file}: the changelog has no [0.9.0] section\n",
            id="section-absent",
        ),
        pytest.param(
            REALISTIC,
            ["check", "{file}"],
            0,
            "{file}: ok (2 releases, 3 unreleased entries)\n",
            "",
            id="check-ok",
        ),
        pytest.param(
            with_unreleased("## [1.0.0] - 2024-13-01"),
            ["check", "{file}"],
            0,
            "{file}: warning: line 7: [1.0.0] has the date '2024-13-01': not YYYY-MM-DD\n"
            "{file}: ok (1 releases, 1 unreleased entries)\n",
            "",
            id="check-warns-about-history",
        ),
        pytest.param(
            "## [1.0.0] - 2024-01-01\n",
            ["check", "{file}"],
            1,
            "",
            "{file}: no [Unreleased] section: add '## [Unreleased]' above the first release "
            "section\n",
            id="check-refuses-without-unreleased",
        ),
        pytest.param(
            None,
            ["check", "{file}"],
            1,
            "",
            "cannot read {file}: No such file or directory\n",
            id="check-missing-file",
        ),
        pytest.param(
            b"## [Unreleased]\n\xff\n",
            ["check", "{file}"],
            1,
            "",
            "cannot read {file}: 'utf-8' codec can't decode byte 0xff in position 16: invalid "
            "start byte\n",
            id="check-not-utf-8",
        ),
    ],
)
def test_main(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | bytes | None,
    argv: list[str],
    code: int,
    out: str,
    err: str,
) -> None:
    file = tmp_path / "CHANGELOG.md"
    if isinstance(content, bytes):
        file.write_bytes(content)
    elif content is not None:
        file.write_text(content)
    assert main([arg.format(file=file) for arg in argv]) == code
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (out.format(file=file), err.format(file=file))


def test_section_prints_the_notes_of_the_changelog_here_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "CHANGELOG.md").write_text(REALISTIC)
    monkeypatch.chdir(tmp_path)
    assert main(["section", "0.1.0"]) == 0
    assert capsys.readouterr().out == "### Added\n\n- The `agentops` CLI with `init`.\n"


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        (["--help"], ["usage: python -m scripts.versioning.changelog [-h] {section,check}",
                      "Read, check and release a Keep a Changelog 1.1.0 file",
                      "print the notes of release VERSION",
                      "check that FILE is a well-formed changelog"]),
        (["section", "--help"], ["usage: python -m scripts.versioning.changelog section [-h] "
                                 "[--file FILE] VERSION", "--file FILE the changelog"]),
        (["check", "--help"], ["usage: python -m scripts.versioning.changelog check [-h] FILE"]),
    ],
)  # fmt: skip
def test_the_cli_explains_itself(
    capsys: pytest.CaptureFixture[str], argv: list[str], shown: list[str]
) -> None:
    help_shows(main, argv, capsys, shown)
    with pytest.raises(SystemExit) as stopped:
        main([])
    assert stopped.value.code == 2


@pytest.mark.parametrize(
    ("text", "version", "expected"),
    [
        (REALISTIC, "0.2.0", ["- The config file moved to `.agentops/config.yaml`.",
                              "- The `--legacy` flag."]),
        (REALISTIC.replace("\n", "\r\n"), "0.1.0", ["- The `agentops` CLI with `init`."]),
    ],
    ids=["bullets-of-every-kind", "crlf"],
)  # fmt: skip
def test_section_entries(text: str, version: str, expected: list[str]) -> None:
    assert section_entries(text, Release.parse(version)) == expected
    with pytest.raises(ChangelogError, match=r"^the changelog has no \[9.9.9\] section$"):
        section_entries(text, Release.parse("9.9.9"))


def test_module_runs_as_a_script(tmp_path: Path) -> None:
    (tmp_path / "CHANGELOG.md").write_text(REALISTIC)
    result = subprocess.run(
        [sys.executable, "-m", "scripts.versioning.changelog", "section", "v0.1.0"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "### Added\n\n- The `agentops` CLI with `init`.\n",
        "",
    )


@pytest.mark.parametrize("text", [RELEASED, FIRST, PREAMBLE + "## [Unreleased]\n"])
def test_an_unreleased_entry_is_added_and_the_rest_kept(text: str) -> None:
    added = with_unreleased_entry(text, "Rehearsed.")
    assert unreleased_entries(added) == ["- Rehearsed.", *unreleased_entries(text)]
    assert parse(added).sections[1:] == parse(text).sections[1:]
    assert parse(added).links == parse(text).links
    released = release(added, Release.parse("9.9.9"), datetime.date(2026, 1, 1))
    assert "- Rehearsed." in section_text(released, Release.parse("9.9.9"))


ONE = "## [1.0.0] - 2024-01-01\n\n- One.\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(f"# C\n\n## [Unreleased]\n\n{ONE}",
                     f"# C\n\n## [Unreleased]\n\n### Fixed\n\n- X.\n\n{ONE}", id="empty"),
        pytest.param(f"# C\n\n## [Unreleased]\n\n### Added\n\n- A.\n\n{ONE}",
                     f"# C\n\n## [Unreleased]\n\n### Fixed\n\n- X.\n\n### Added\n\n- A.\n\n{ONE}",
                     id="before-the-entries-there"),
        pytest.param("# C\n\n## Unreleased\n", "# C\n\n## Unreleased\n\n### Fixed\n\n- X.\n",
                     id="nothing-older-heading-as-written"),
    ],
)  # fmt: skip
def test_with_unreleased_entry(text: str, expected: str) -> None:
    assert with_unreleased_entry(text, "X.", "### Fixed") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "# C\n\n## [Unreleased]\n\n## [1.0.0] - 2024-01-01\n\n- One.\n",
            "# C\n\n## [Unreleased]\n\n## [1.0.1] - 2024-06-01\n\n### Fixed\n\n"
            "## [1.0.0] - 2024-01-01\n\n- One.\n",
            id="empty-unreleased",
        ),
        pytest.param(
            "# C\n\n## [UNRELEASED]\n\n- Pending.\n## [1.0.0] - 2024-01-01\n\n- One.\n",
            "# C\n\n## [UNRELEASED]\n\n- Pending.\n\n## [1.0.1] - 2024-06-01\n\n### Fixed\n\n"
            "## [1.0.0] - 2024-01-01\n\n- One.\n",
            id="unreleased-entries-stay-heading-as-read",
        ),
        pytest.param(
            "# C\n\n## [Unreleased]\n\n## [1.0.0] - 2024-01-01\n\n- One.\n\n"
            "[Unreleased]: https://github.com/o/r/compare/v1.0.0...HEAD\n",
            "# C\n\n## [Unreleased]\n\n## [1.0.1] - 2024-06-01\n\n### Fixed\n\n"
            "## [1.0.0] - 2024-01-01\n\n- One.\n\n"
            "[Unreleased]: https://github.com/o/r/compare/v1.0.1...HEAD\n"
            "[1.0.1]: https://github.com/o/r/compare/v1.0.0...v1.0.1\n",
            id="links",
        ),
        pytest.param(
            "# C\n\n## Unreleased\n\n## 1.0.0 (2024-01-01)\n\n- One.\n",
            "# C\n\n## Unreleased\n\n## 1.0.1 (2024-06-01)\n\n### Fixed\n\n"
            "## 1.0.0 (2024-01-01)\n\n- One.\n",
            id="the-file's-heading-style",
        ),
        pytest.param(
            "# C\n\n## [Unreleased]\n\n- Pending.\n\n## [1.0.0] - 2024-01-01\n\n- One.\n",
            "# C\n\n## [Unreleased]\n\n- Pending.\n\n## [1.0.1] - 2024-06-01\n\n### Fixed\n\n"
            "## [1.0.0] - 2024-01-01\n\n- One.\n",
            id="unreleased-entries-and-their-blank-line-stay",
        ),
        pytest.param(
            "# C\n\n## [Unreleased]\n\n- Pending.\n",
            "# C\n\n## [Unreleased]\n\n- Pending.\n\n## [1.0.1] - 2024-06-01\n\n### Fixed\n\n",
            id="no-release-yet-the-canonical-heading",
        ),
    ],
)
def test_start_section_begins_a_hotfix_section(text: str, expected: str) -> None:
    assert start_section(text, Release.parse("1.0.1"), DAY) == expected


def test_start_section_refuses_a_released_version() -> None:
    with pytest.raises(ChangelogError, match=r"already has a \[0.2.0\] section"):
        start_section(REALISTIC, Release.parse("0.2.0"), DAY)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param("\n### Fixed\n\n", "\n### Fixed\n\n- New.\n", id="started"),
        pytest.param("\n### Fixed\n\n- Old.\n  more of it\n\n### Added\n\n- A.\n",
                     "\n### Fixed\n\n- Old.\n  more of it\n- New.\n\n### Added\n\n- A.\n",
                     id="behind-the-entries-there"),
        pytest.param("\n### Added\n\n- A.\n", "\n### Added\n\n- A.\n\n### Fixed\n\n- New.\n",
                     id="heading-added"),
    ],
)  # fmt: skip
def test_with_section_entry(body: str, expected: str) -> None:
    text = f"# C\n\n## [Unreleased]\n\n## [1.0.1] - 2024-06-01\n{body}"
    after = with_section_entry(text, Release.parse("1.0.1"), "New.")
    assert after == f"# C\n\n## [Unreleased]\n\n## [1.0.1] - 2024-06-01\n{expected}"
    with pytest.raises(ChangelogError, match=r"no \[9.9.9\] section"):
        with_section_entry(text, Release.parse("9.9.9"), "New.")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param("\n### Fixed\n\n", "\n### Fixed\n\n- New.\n\n", id="started"),
        pytest.param("\n### Added\n\n- A.\n\n", "\n### Added\n\n- A.\n\n### Fixed\n\n- New.\n\n",
                     id="heading-added"),
        pytest.param("", "\n### Fixed\n\n- New.\n\n", id="no-body"),
        pytest.param("\n### Fixed\n- Old.\n\n", "\n### Fixed\n- Old.\n- New.\n\n",
                     id="no-blank-line-after-the-heading"),
    ],
)  # fmt: skip
def test_with_section_entry_in_a_section_others_follow(body: str, expected: str) -> None:
    def changelog(section_body: str) -> str:
        return (
            "# C\n\n## [Unreleased]\n\n## [1.0.1] - 2024-06-01 [YANKED]\n"
            f"{section_body}## [1.0.0] - 2024-01-01\n\n- One.\n\n[1.0.0]: https://e.example/\n"
        )

    assert with_section_entry(changelog(body), Release.parse("1.0.1"), "New.") == changelog(
        expected
    )


YANKABLE = (
    "# Changelog\n\n## [Unreleased]\n\n## [1.2.0] - 2026-03-04\n\n### Added\n\n- A thing.\n\n"
    "## [1.1.0]\n\n### Fixed\n\n- A fix.\n"
)


def test_yank_marks_the_heading_and_puts_the_reason_first() -> None:
    text = changelog.yank(YANKABLE, Release.parse("1.2.0"), "the wheel misses a module")
    assert text == YANKABLE.replace(
        "## [1.2.0] - 2026-03-04\n\n",
        "## [1.2.0] - 2026-03-04 [YANKED]\n\n**Yanked:** the wheel misses a module\n\n",
    )
    section = changelog.parse(text).sections[1]
    assert section.yanked
    assert changelog.yank_reason(section) == "the wheel misses a module"


def test_yank_keeps_an_undated_heading_as_written() -> None:
    text = changelog.yank(YANKABLE, Release.parse("1.1.0"), "broken")
    assert "## [1.1.0] [YANKED]\n\n**Yanked:** broken\n\n### Fixed\n" in text
    assert changelog.parse(text).sections[2].yanked


@pytest.mark.parametrize(
    ("version", "message"),
    [
        pytest.param("1.3.0", "the changelog has no [1.3.0] section", id="no-section"),
        pytest.param("1.0.0", "[1.0.0] is already marked [YANKED]", id="already"),
    ],
)
def test_yank_refuses(version: str, message: str) -> None:
    text = YANKABLE + "\n## [1.0.0] - 2026-01-01 [YANKED]\n\n- Old.\n"
    with pytest.raises(changelog.ChangelogError) as raised:
        changelog.yank(text, Release.parse(version), "why")
    assert str(raised.value) == message


R = "https://github.com/o/r"
COMPARE = "https://github.com/o/compare"  # a repository whose name is a word of GitHub's URLs
HEAD_OF_FILE = "# C\n\n## [Unreleased]\n\n- New.\n\n## [1.0.0] - 2024-01-01\n\n- One.\n\n"
RELEASED_HEAD = (
    "# C\n\n## [Unreleased]\n\n## [1.1.0] - 2024-06-01\n\n- New.\n\n"
    "## [1.0.0] - 2024-01-01\n\n- One.\n\n"
)


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        pytest.param(
            f"[Unreleased]: {R}/compare/v1.0.0...HEAD\n[v1.0.0]: {R}/releases/tag/v1.0.0\n"
            "[1.1.0]: https://stale.example/\n[docs]: https://docs.example/",
            f"[Unreleased]: {R}/compare/v1.1.0...HEAD\n[1.1.0]: {R}/compare/v1.0.0...v1.1.0\n"
            f"[v1.0.0]: {R}/releases/tag/v1.0.0\n[docs]: https://docs.example/\n",
            id="a-v-label-a-stale-definition-a-last-line-without-newline",
        ),
        pytest.param(
            f"[Unreleased]:\n  {R}/compare/v1.0.0...main\n",
            f"[Unreleased]:\n  {R}/compare/v1.1.0...main\n[1.1.0]: {R}/compare/v1.0.0...v1.1.0\n",
            id="a-wrapped-unreleased-definition-and-no-older-one",
        ),
        pytest.param(
            f"[unreleased]: {R}/commits/main\n",
            f"[unreleased]: {R}/compare/v1.1.0...HEAD\n[1.1.0]: {R}/compare/v1.0.0...v1.1.0\n",
            id="unreleased-without-a-compare",
        ),
        pytest.param(
            f"[unreleased]: {R}/tree/main\n",
            f"[unreleased]: {R}/compare/v1.1.0...HEAD\n[1.1.0]: {R}/compare/v1.0.0...v1.1.0\n",
            id="unreleased-on-a-tree",
        ),
        pytest.param(
            f"[Unreleased]: {R}/compare/v1.0.0...HEAD\n[docs]: https://docs.example/\n"
            f"[1.0.0]: {R}/releases/tag/v1.0.0\n",
            f"[Unreleased]: {R}/compare/v1.1.0...HEAD\n[docs]: https://docs.example/\n"
            f"[1.1.0]: {R}/compare/v1.0.0...v1.1.0\n[1.0.0]: {R}/releases/tag/v1.0.0\n",
            id="the-new-version-above-the-older-versions-not-above-another-link",
        ),
        pytest.param(
            f"[Unreleased]: {COMPARE}/compare/v1.0.0...HEAD\n",
            f"[Unreleased]: {COMPARE}/compare/v1.1.0...HEAD\n"
            f"[1.1.0]: {COMPARE}/compare/v1.0.0...v1.1.0\n",
            id="a-repository-named-compare",
        ),
        pytest.param(
            f"[docs]: https://docs.example/\n\n[Unreleased]: {R}/compare/v1.0.0...HEAD\n",
            f"[docs]: https://docs.example/\n\n[Unreleased]: {R}/compare/v1.1.0...HEAD\n"
            f"[1.1.0]: {R}/compare/v1.0.0...v1.1.0\n",
            id="the-new-version-right-below-unreleased-wherever-it-is",
        ),
    ],
)  # fmt: skip
def test_release_moves_the_link_definitions_on(tail: str, expected: str) -> None:
    released = release(HEAD_OF_FILE + tail, Release.parse("1.1.0"), DAY)
    assert released == RELEASED_HEAD + expected


def test_definitions_start_the_tail_when_the_only_one_was_stale() -> None:
    text = HEAD_OF_FILE + "[1.1.0]: https://stale.example/\n\n"
    assert release(text, Release.parse("1.1.0"), DAY, R) == RELEASED_HEAD + (
        f"[Unreleased]: {R}/compare/v1.1.0...HEAD\n[1.1.0]: {R}/compare/v1.0.0...v1.1.0\n\n"
    )


def test_a_v_heading_gets_a_v_definition() -> None:
    text = (
        "# C\n\n## [Unreleased]\n\n- New.\n\n## [v1.0.0] - 2024-01-01\n\n- One.\n\n"
        f"[Unreleased]: {R}/compare/v1.0.0...HEAD\n[v1.0.0]: {R}/releases/tag/v1.0.0\n"
    )
    assert release(text, Release.parse("1.1.0"), DAY) == (
        "# C\n\n## [Unreleased]\n\n## [v1.1.0] - 2024-06-01\n\n- New.\n\n"
        "## [v1.0.0] - 2024-01-01\n\n- One.\n\n"
        f"[Unreleased]: {R}/compare/v1.1.0...HEAD\n[v1.1.0]: {R}/compare/v1.0.0...v1.1.0\n"
        f"[v1.0.0]: {R}/releases/tag/v1.0.0\n"
    )


@pytest.mark.parametrize(
    ("link", "moved"),
    [
        (f"{R}/releases/tag/v1.0.0", f"{R}/releases/tag/v1.1.0"),
        (f"{R}/tree/1.0.0", f"{R}/tree/1.1.0"),
        (f"{R}/compare/0.9.0...1.0.0", f"{R}/compare/1.0.0...1.1.0"),
        ("https://pypi.org/project/x/1.0.0/", "https://pypi.org/project/x/1.0.0/"),
        (f"{R}/compare/1.0.0", f"{R}/compare/1.0.0"),
        (f"{COMPARE}/compare/0.9.0...1.0.0", f"{COMPARE}/compare/1.0.0...1.1.0"),
        ("https://github.com/o/tree/tree/1.0.0", "https://github.com/o/tree/tree/1.1.0"),
    ],
    ids=["release-tag", "tree", "compare", "another-kind-kept", "a-compare-of-one-ref-kept",
         "a-repository-named-compare", "a-repository-named-tree"],
)  # fmt: skip
def test_release_moves_the_inline_link_of_the_latest_heading_on(link: str, moved: str) -> None:
    text = f"# C\n\n## [Unreleased]\n\n- New.\n\n## [1.0.0]({link}) - 2024-01-01\n\n- One.\n"
    assert release(text, Release.parse("1.1.0"), DAY) == (
        f"# C\n\n## [Unreleased]\n\n## [1.1.0]({moved}) - 2024-06-01\n\n- New.\n\n"
        f"## [1.0.0]({link}) - 2024-01-01\n\n- One.\n"
    )


@pytest.mark.parametrize(
    ("link", "moved"),
    [
        (f"{R}/compare/v1.0.0...main", f"{R}/compare/v1.1.0...main"),
        (f"{R}/tree/main", f"{R}/tree/main"),
    ],
    ids=["compare", "not-a-compare-kept"],
)  # fmt: skip
def test_release_moves_the_inline_link_of_unreleased_on(link: str, moved: str) -> None:
    text = f"# C\n\n## [Unreleased]({link})\n\n- New.\n\n## [1.0.0] - 2024-01-01\n\n- One.\n"
    released = release(text, Release.parse("1.1.0"), DAY)
    assert released.startswith(f"# C\n\n## [Unreleased]({moved})\n\n## [1.1.0]")


def test_with_section_entry_keeps_the_heading_as_written_and_a_heading_on_the_last_line() -> None:
    text = "# C\n\n## Unreleased\n\n## 1.0.1 (2024-06-01)\n\n### Fixed\n"
    assert with_section_entry(text, Release.parse("1.0.1"), "New.") == (
        "# C\n\n## Unreleased\n\n## 1.0.1 (2024-06-01)\n\n### Fixed\n- New.\n"
    )


@pytest.mark.parametrize("mark", ["[YANKED]", "[yanked]"])
def test_a_release_after_a_yanked_one_is_not_marked(mark: str) -> None:
    text = f"# C\n\n## [Unreleased]\n\n- New.\n\n## [1.0.0] - 2024-01-01 {mark}\n\n- One.\n"
    assert release(text, Release.parse("1.1.0"), DAY) == (
        "# C\n\n## [Unreleased]\n\n## [1.1.0] - 2024-06-01\n\n- New.\n\n"
        f"## [1.0.0] - 2024-01-01 {mark}\n\n- One.\n"
    )
    own_style = f"# C\n\n## Unreleased\n\n- New.\n\n## 1.0.0 (2024-01-01) {mark}\n\n- One.\n"
    assert release(own_style, Release.parse("1.1.0"), DAY) == (
        "# C\n\n## Unreleased\n\n## 1.1.0 (2024-06-01)\n\n- New.\n\n"
        f"## 1.0.0 (2024-01-01) {mark}\n\n- One.\n"
    )


def test_a_crlf_file_is_released_in_crlf() -> None:
    text = (
        "# C\r\n\r\n## [Unreleased]\r\n\r\n- New.\r\n\r\n## [1.0.0] - 2024-01-01\r\n\r\n"
        f"- One.\r\n\r\n[Unreleased]: {R}/compare/v1.0.0...HEAD\r\n"
    )
    assert release(text, Release.parse("1.1.0"), DAY) == (
        "# C\r\n\r\n## [Unreleased]\r\n\r\n## [1.1.0] - 2024-06-01\r\n\r\n- New.\r\n\r\n"
        "## [1.0.0] - 2024-01-01\r\n\r\n- One.\r\n\r\n"
        f"[Unreleased]: {R}/compare/v1.1.0...HEAD\r\n[1.1.0]: {R}/compare/v1.0.0...v1.1.0\r\n"
    )


@pytest.mark.parametrize(
    "last_entry",
    ["- Works on Python 3.X", "- A line that ends in a hard break.  ", "- Tabbed.\t"],
)
def test_the_first_links_keep_the_last_entry_as_written(last_entry: str) -> None:
    text = f"# C\n\n## Unreleased\n\n- New.\n\n## 1.0.0 (2024-01-01)\n\n- One.\n{last_entry}\n"
    assert release(text, Release.parse("1.1.0"), DAY, R) == (
        "# C\n\n## Unreleased\n\n## 1.1.0 (2024-06-01)\n\n- New.\n\n## 1.0.0 (2024-01-01)\n\n"
        f"- One.\n{last_entry}\n\n"
        f"[Unreleased]: {R}/compare/v1.1.0...HEAD\n[1.1.0]: {R}/compare/v1.0.0...v1.1.0\n"
    )


def test_section_entries_are_the_lines_as_written() -> None:
    text = "# C\n\n## [Unreleased]\n\n- On Python 3.X\n- A hard break.  \n"
    released = release(text, Release.parse("1.0.0"), DAY)
    assert changelog.section_entries(released, Release.parse("1.0.0")) == [
        "- On Python 3.X",
        "- A hard break.  ",
    ]


@pytest.mark.parametrize("written", ["Xenial notes.", "  An indented note."])
def test_an_unreleased_entry_goes_under_changed_unless_told(written: str) -> None:
    text = f"# C\n\n## [Unreleased]\n\n{written}\n"
    assert with_unreleased_entry(text, "New.") == (
        f"# C\n\n## [Unreleased]\n\n### Changed\n\n- New.\n\n{written}\n"
    )


def test_a_repository_url_is_used_as_given_less_its_slash() -> None:
    released = release(FIRST, Release.parse("0.1.0"), DAY, "https://github.com/o/X/")
    assert released.endswith("[0.1.0]: https://github.com/o/X/releases/tag/v0.1.0\n")


def test_yank_keeps_the_link_definitions() -> None:
    yanked = changelog.yank(RELEASED, Release.parse("0.2.0"), "broken")
    assert yanked.endswith(RELEASED[RELEASED.index("[Unreleased]: ") :])


def test_yank_marks_an_undated_heading_as_written_in_a_crlf_file() -> None:
    text = "# C\r\n\r\n## [Unreleased]\r\n\r\n## 1.0.0\r\n- One.\r\n"
    assert changelog.yank(text, Release.parse("1.0.0"), "broken") == (
        "# C\r\n\r\n## [Unreleased]\r\n\r\n## 1.0.0 [YANKED]\r\n\r\n**Yanked:** broken\r\n\r\n"
        "- One.\r\n"
    )


def test_yank_marks_a_heading_in_its_own_style() -> None:
    text = "# C\n\n## Unreleased\n\n## 1.0.0 (2024-01-01)\n\n- One.\n"
    assert changelog.yank(text, Release.parse("1.0.0"), "broken") == (
        "# C\n\n## Unreleased\n\n## 1.0.0 (2024-01-01) [YANKED]\n\n**Yanked:** broken\n\n- One.\n"
    )


def test_yank_marks_a_dated_heading_in_a_crlf_file() -> None:
    text = "# C\r\n\r\n## [Unreleased]\r\n\r\n## [1.0.0] - 2024-01-01\r\n\r\n- One.\r\n"
    assert changelog.yank(text, Release.parse("1.0.0"), "broken") == (
        "# C\r\n\r\n## [Unreleased]\r\n\r\n## [1.0.0] - 2024-01-01 [YANKED]\r\n\r\n"
        "**Yanked:** broken\r\n\r\n- One.\r\n"
    )
