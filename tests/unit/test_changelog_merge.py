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
    ],
)  # fmt: skip
def test_merge_back_refuses_what_both_changed(ours: str, theirs: str, message: str) -> None:
    with pytest.raises(ChangelogError, match=message.replace("[", r"\[").replace("]", r"\]")):
        merge_back(CUT, ours, theirs)


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
    ],
)  # fmt: skip
def test_new_entries(before: str | None, after: str, expected: list[str]) -> None:
    assert new_entries(before, after) == expected
