"""changelog.merge_back: the CHANGELOG after main (or a support line) is merged back into
develop, decided from the three files as data, never from where git put the lines."""

from __future__ import annotations

import pytest

from scripts.versioning.changelog_merge import merge_back, new_entries
from scripts.versioning.changelog_read import ChangelogError

TOP = "# Changelog\n\nAll notable changes.\n\n"
LINKS_010 = (
    "[Unreleased]: https://github.com/o/r/compare/v0.1.0...HEAD\n"
    "[0.1.0]: https://github.com/o/r/releases/tag/v0.1.0\n"
)
LINKS_020 = (
    "[Unreleased]: https://github.com/o/r/compare/v0.2.0...HEAD\n"
    "[0.2.0]: https://github.com/o/r/compare/v0.1.0...v0.2.0\n"
    "[0.1.0]: https://github.com/o/r/releases/tag/v0.1.0\n"
)
LINKS_011 = (
    "[Unreleased]: https://github.com/o/r/compare/v0.1.1...HEAD\n"
    "[0.1.1]: https://github.com/o/r/compare/v0.1.0...v0.1.1\n"
    "[0.1.0]: https://github.com/o/r/releases/tag/v0.1.0\n"
)
U = TOP + "## [Unreleased]\n\n"
V010 = "## [0.1.0] - 2026-01-05\n\n### Added\n\n- The CLI.\n\n"

# A release: develop had A and B when release/v0.2.0 was cut; while the branch was open, develop
# gained C, and the branch gained R (a release fix) under [0.2.0].
CUT = TOP + "## [Unreleased]\n\n### Added\n\n- A.\n- B.\n\n" + V010 + LINKS_010
RELEASED_020 = (
    TOP
    + "## [Unreleased]\n\n## [0.2.0] - 2026-02-01\n\n### Added\n\n- A.\n- B.\n\n"
    + "### Fixed\n\n- R.\n\n"
    + V010
    + LINKS_020
)
DEVELOP_WITH_C = TOP + "## [Unreleased]\n\n### Added\n\n- C.\n- A.\n- B.\n\n" + V010 + LINKS_010
EXPECTED_RELEASE = (
    TOP
    + "## [Unreleased]\n\n### Added\n\n- C.\n\n"
    + "## [0.2.0] - 2026-02-01\n\n### Added\n\n- A.\n- B.\n\n"
    + "### Fixed\n\n- R.\n\n"
    + V010
    + LINKS_020
)

# A hotfix: v0.1.0 on main, hotfix/v0.1.1 from it; develop holds unreleased work N (and Y, which
# wraps onto a second line).
AT_010 = TOP + "## [Unreleased]\n\n" + V010 + LINKS_010
HOTFIXED = (
    TOP
    + "## [Unreleased]\n\n## [0.1.1] - 2026-01-20\n\n### Fixed\n\n- The config is read again.\n\n"
    + V010
    + LINKS_011
)
DEVELOP_WORK = (
    TOP + "## [Unreleased]\n\n### Added\n\n- N.\n- Y, which is\n  long.\n\n" + V010 + LINKS_010
)
EXPECTED_HOTFIX = (
    TOP
    + "## [Unreleased]\n\n### Added\n\n- N.\n- Y, which is\n  long.\n\n"
    + "## [0.1.1] - 2026-01-20\n\n### Fixed\n\n- The config is read again.\n\n"
    + V010
    + LINKS_011
)
# develop yanked 0.1.0 (invoke yank's PR) while the hotfix went out: the mark stays.
YANKED_010 = (
    "## [0.1.0] - 2026-01-05 [YANKED]\n\n**Yanked:** broken wheel\n\n### Added\n\n- The CLI.\n\n"
)
DEVELOP_YANKED = TOP + "## [Unreleased]\n\n### Added\n\n- N.\n\n" + YANKED_010 + LINKS_010
EXPECTED_YANKED = (
    TOP
    + "## [Unreleased]\n\n### Added\n\n- N.\n\n"
    + "## [0.1.1] - 2026-01-20\n\n### Fixed\n\n- The config is read again.\n\n"
    + YANKED_010
    + LINKS_011
)


# A section only develop has (a release made from it that main never saw): it keeps its place
# among main's, by version, between newer and older ones or after all of them.
V005 = "## [0.0.5] - 2025-12-01\n\n### Added\n\n- A preview.\n\n"
V015 = "## [0.1.5] - 2026-01-25\n\n### Fixed\n\n- Only on develop.\n\n"
DEVELOP_WITH_015 = TOP + "## [Unreleased]\n\n### Added\n\n- A.\n- B.\n\n" + V015 + V010 + LINKS_010
DEVELOP_WITH_005 = TOP + "## [Unreleased]\n\n### Added\n\n- A.\n- B.\n\n" + V010 + V005 + LINKS_010
RELEASED_020_WITH = (
    TOP
    + "## [Unreleased]\n\n## [0.2.0] - 2026-02-01\n\n### Added\n\n- A.\n- B.\n\n"
    + "### Fixed\n\n- R.\n\n{middle}"
    + V010
    + "{after}"
    + LINKS_020
)


# Two kinds of entries released at once (one continued on a tab-indented line, as some editors
# write): the headings develop is left with no entry under go.
TWO_KINDS = (
    TOP
    + "## [Unreleased]\n\n### Added\n\n- A.\n\n### Fixed\n\n- F, which\n\tgoes on.\n\n"
    + "### Removed\n\n- Z.\n\n"
    + V010
    + LINKS_010
)
TWO_KINDS_RELEASED = (
    TOP
    + "## [Unreleased]\n\n## [0.2.0] - 2026-02-01\n\n### Added\n\n- A.\n\n"
    + "### Fixed\n\n- F, which\n\tgoes on.\n\n### Removed\n\n- Z.\n\n"
    + V010
    + LINKS_020
)


@pytest.mark.parametrize(
    ("base", "ours", "theirs", "expected"),
    [
        pytest.param(CUT, DEVELOP_WITH_C, RELEASED_020, EXPECTED_RELEASE,
                     id="an-entry-landed-on-develop-during-the-release-stays-unreleased"),
        pytest.param(CUT, CUT, RELEASED_020, RELEASED_020, id="develop-changed-nothing"),
        pytest.param(AT_010, DEVELOP_WORK, HOTFIXED, EXPECTED_HOTFIX,
                     id="a-hotfix-while-develop-has-unreleased-work"),
        pytest.param(AT_010, DEVELOP_YANKED, HOTFIXED, EXPECTED_YANKED,
                     id="a-yank-made-on-develop-is-kept"),
        pytest.param(AT_010, DEVELOP_WORK, AT_010, DEVELOP_WORK, id="main-changed-nothing"),
        pytest.param(CUT, TOP + "## [Unreleased]\n\n### Added\n\n- A.\n- B, reworded.\n\n" + V010
                     + LINKS_010, RELEASED_020,
                     TOP + "## [Unreleased]\n\n### Added\n\n- B, reworded.\n\n"
                     + "## [0.2.0] - 2026-02-01\n\n### Added\n\n- A.\n- B.\n\n### Fixed\n\n- R.\n\n"
                     + V010 + LINKS_020,
                     id="an-entry-reworded-on-develop-after-the-cut-is-not-what-was-released"),
        pytest.param(CUT.replace("\n", "\r\n"), DEVELOP_WITH_C.replace("\n", "\r\n"),
                     RELEASED_020.replace("\n", "\r\n"), EXPECTED_RELEASE.replace("\n", "\r\n"),
                     id="crlf"),
        pytest.param(CUT, CUT.replace(LINKS_010, LINKS_010 + "[docs]: https://docs.example/\n"),
                     RELEASED_020, RELEASED_020 + "[docs]: https://docs.example/\n",
                     id="a-link-develop-added-is-kept"),
        pytest.param(CUT, DEVELOP_WITH_C,
                     RELEASED_020.replace("## [Unreleased]\n\n",
                                          "## [Unreleased]\n\n- M.\n- N.\n\n"),
                     EXPECTED_RELEASE.replace("- C.\n\n", "- C.\n\n- M.\n- N.\n\n", 1),
                     id="entries-main-added-to-unreleased-join-develop's"),
        pytest.param(AT_010, AT_010 + "[docs]: https://docs.example/\n",
                     AT_010.replace("## [Unreleased]\n\n", "## [Unreleased]\n\n- M.\n\n"),
                     AT_010.replace("## [Unreleased]\n\n", "## [Unreleased]\n\n- M.\n\n")
                     + "[docs]: https://docs.example/\n",
                     id="an-entry-main-added-while-develop-has-none"),
        pytest.param(CUT, CUT.replace(LINKS_010, LINKS_010 + "[Docs]: https://docs.example/\n"
                                      "[api]: https://api.example/"),
                     RELEASED_020.replace(LINKS_020, LINKS_020 + "[docs]: https://d.example/\n"),
                     RELEASED_020 + "[docs]: https://d.example/\n[api]: https://api.example/\n",
                     id="links-develop-added-but-not-those-main-has-in-any-case"),
        pytest.param(CUT, CUT.replace("[0.1.0]: https://github.com/o/r/releases/tag/v0.1.0",
                                      "[0.1.0]: https://github.com/o/r/tree/v0.1.0"),
                     RELEASED_020, RELEASED_020,
                     id="a-link-develop-changed-that-main-has-is-main's"),
        pytest.param(
            TWO_KINDS, TWO_KINDS.replace("- A.\n", "- A.\n- C.\n"), TWO_KINDS_RELEASED,
            TWO_KINDS_RELEASED.replace("## [Unreleased]\n\n", "## [Unreleased]\n\n### Added\n\n"
                                       "- C.\n\n"),
            id="headings-left-empty-go-and-a-tab-continued-entry-is-one"),
        pytest.param(CUT + "[Old]: https://old.example/\n",
                     DEVELOP_WITH_C + "[Old]: https://old.example/\n[new]: https://new.example/\n",
                     RELEASED_020, EXPECTED_RELEASE + "[new]: https://new.example/\n",
                     id="a-link-main-dropped-stays-dropped-one-develop-added-comes"),
        pytest.param(CUT, DEVELOP_WITH_C.replace("All notable", "Every"), RELEASED_020,
                     EXPECTED_RELEASE.replace("All notable", "Every"),
                     id="a-preamble-only-develop-changed-is-kept"),
        pytest.param(CUT, DEVELOP_WITH_015, RELEASED_020,
                     RELEASED_020_WITH.format(middle=V015, after=""),
                     id="a-section-only-develop-has-between-newer-and-older"),
        pytest.param(CUT, DEVELOP_WITH_005, RELEASED_020,
                     RELEASED_020_WITH.format(middle="", after=V005),
                     id="a-section-only-develop-has-after-all"),
        pytest.param(U + "### Added\n\n- A.\n", U + "### Added\n\n- A.\n- C.\n",
                     U + "## [0.1.0] - 2026-01-05\n\n### Added\n\n- A.\n",
                     U + "### Added\n\n- C.\n\n## [0.1.0] - 2026-01-05\n\n### Added\n\n- A.\n",
                     id="the-first-release-a-blank-line-before-its-heading"),
        pytest.param(U + "- A.\n", U + "- A.\n- C.\n", U.replace("All", "Each") + "- A.\n",
                     U.replace("All", "Each") + "- A.\n- C.\n",
                     id="no-release-yet-no-blank-line-at-the-end"),
        pytest.param(U + "### Added\n- A.\n\n" + V010 + LINKS_010,
                     U + "### Added\n- A.\n- C.\n\n### Fixed\n- D.\n\n" + V010 + LINKS_010,
                     U + "## [0.2.0] - 2026-02-01\n\n### Added\n- A.\n\n" + V010 + LINKS_020,
                     U + "### Added\n- C.\n\n### Fixed\n- D.\n\n"
                     + "## [0.2.0] - 2026-02-01\n\n### Added\n- A.\n\n" + V010 + LINKS_020,
                     id="headings-right-above-their-entries"),
        pytest.param(U + "### Added\n\n- A.\n\n" + V010 + LINKS_010,
                     U + "### Added\n\n- A.\n\n### Fixed\n\n- C.\n\n" + V010 + LINKS_010,
                     U + "## [0.2.0] - 2026-02-01\n\n### Added\n\n- A.\n\n" + V010 + LINKS_020,
                     U + "### Fixed\n\n- C.\n\n## [0.2.0] - 2026-02-01\n\n### Added\n\n- A.\n\n"
                     + V010 + LINKS_020,
                     id="the-first-heading-left-empty-goes-the-next-stays"),
        pytest.param(U + "- A.\n\n" + V010 + LINKS_010, AT_010,
                     U + "- A.\n- M.\n\n" + V010 + LINKS_010,
                     U + "- M.\n\n" + V010 + LINKS_010,
                     id="an-entry-develop-removed-stays-removed-as-main-adds-one"),
        pytest.param(CUT, DEVELOP_WITH_C.replace("- C.\n", "- C.\n- M.\n"),
                     RELEASED_020.replace("## [Unreleased]\n\n", "## [Unreleased]\n\n- M.\n\n"),
                     EXPECTED_RELEASE.replace("- C.\n", "- C.\n- M.\n"),
                     id="an-entry-both-added-is-there-once"),
        pytest.param(CUT, EXPECTED_RELEASE, RELEASED_020, EXPECTED_RELEASE,
                     id="develop-already-has-the-release-merged"),
        pytest.param(CUT, CUT.replace("## [Unreleased]", "## Unreleased"), RELEASED_020,
                     RELEASED_020.replace("## [Unreleased]", "## Unreleased"),
                     id="the-unreleased-heading-as-develop-respelled-it"),
        pytest.param(CUT, CUT + "[a]: https://a.example/\n[b]: https://b.example/\n", RELEASED_020,
                     RELEASED_020 + "[a]: https://a.example/\n[b]: https://b.example/\n",
                     id="two-links-develop-added"),
    ],
)  # fmt: skip
def test_merge_back(base: str, ours: str, theirs: str, expected: str) -> None:
    merged = merge_back(base, ours, theirs)
    assert merged == expected
    assert "<<<<<<<" not in merged and ">>>>>>>" not in merged


@pytest.mark.parametrize(
    ("ours", "theirs", "message"),
    [
        pytest.param(CUT.replace("All notable changes.", "Every change."), RELEASED_020.replace(
            "All notable changes.", "What changed."), "both branches changed the preamble",
            id="the-preamble"),
        pytest.param(CUT.replace("- The CLI.", "- The agentops CLI."), RELEASED_020.replace(
            "- The CLI.", "- The CLI, at last."), "both branches changed the [0.1.0] section",
            id="one-release's-section"),
        pytest.param(CUT.replace("## [Unreleased]", "## Unreleased"), RELEASED_020.replace(
            "## [Unreleased]", "## [UNRELEASED]"), "both branches changed the [Unreleased] heading",
            id="the-unreleased-heading"),
    ],
)  # fmt: skip
def test_merge_back_refuses_what_both_changed(ours: str, theirs: str, message: str) -> None:
    with pytest.raises(ChangelogError, match=message.replace("[", r"\[").replace("]", r"\]")):
        merge_back(CUT, ours, theirs)


def test_merge_back_refuses_a_section_develop_changed_and_main_removed() -> None:
    removed = RELEASED_020.replace(V010, "")
    with pytest.raises(ChangelogError) as caught:
        merge_back(CUT, CUT.replace("- The CLI.", "- The agentops CLI."), removed)
    assert str(caught.value) == "both branches changed the [0.1.0] section: merge it by hand"


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        pytest.param(AT_010, DEVELOP_WORK, ["- N.", "- Y, which is\n  long."],
                     id="a-feature-pr-into-develop"),
        pytest.param(CUT, DEVELOP_WITH_C, ["- C."], id="only-what-is-new-under-unreleased"),
        pytest.param(AT_010, RELEASED_020, ["- A.", "- B.", "- R."],
                     id="a-release-pr-into-main-brings-its-section"),
        pytest.param(CUT, RELEASED_020, ["- A.", "- B.", "- R."],
                     id="entries-moved-out-of-unreleased-into-the-release-count"),
        pytest.param(AT_010, HOTFIXED, ["- The config is read again."],
                     id="a-hotfix-pr-into-main-brings-its-section"),
        pytest.param(AT_010, AT_010.replace("- The CLI.", "- The CLI, reworded."), [],
                     id="an-old-release-reworded-is-no-entry"),
        pytest.param(None, TOP + "## [Unreleased]\n\n- First.\n", ["- First."],
                     id="no-changelog-before"),
        pytest.param(U + "- A.\n", U + "- B.\n\n## [0.1.0] - 2026-01-05\n\n- A.\n",
                     ["- B.", "- A."], id="the-first-release-and-a-new-entry"),
    ],
)  # fmt: skip
def test_new_entries(before: str | None, after: str, expected: list[str]) -> None:
    assert new_entries(before, after) == expected


@pytest.mark.parametrize("last", ["- C, on Python 3.X", "- C, with a hard break.  "])
def test_develop_keeps_its_last_entry_as_written_when_main_adds_one(last: str) -> None:
    ours = DEVELOP_WITH_C.replace("- A.\n- B.\n", "").replace("- C.", last)
    theirs = RELEASED_020.replace("## [Unreleased]\n\n", "## [Unreleased]\n\n- M.\n\n")
    expected = EXPECTED_RELEASE.replace("- C.\n", f"{last}\n\n- M.\n")
    assert merge_back(CUT, ours, theirs) == expected


def test_develops_line_endings_join_the_entries_main_added() -> None:
    ours = DEVELOP_WITH_C.replace("\n", "\r\n")
    theirs = RELEASED_020.replace("## [Unreleased]\n\n", "## [Unreleased]\n\n- M.\n\n")
    assert "- C.\r\n\r\n- M." in merge_back(CUT, ours, theirs)
