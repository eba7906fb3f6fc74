"""scripts.versioning.bump: the next version from what [Unreleased] says, rule by rule."""

from __future__ import annotations

import pytest

from scripts.versioning.bump import next_after_tags, next_version
from scripts.versioning.changelog_read import ChangelogError
from scripts.versioning.versions import Line, Release

HEAD = "# Changelog\n\n## [Unreleased]\n"
OLDER = "\n## [1.4.2] - 2026-01-02\n\n### Fixed\n\n- An old fix.\n"


def changelog(*groups: tuple[str, list[str]]) -> str:
    body = "".join(
        f"\n### {kind}\n\n" + "".join(f"- {entry}\n" for entry in entries)
        for kind, entries in groups
    )
    return HEAD + body + OLDER


@pytest.mark.parametrize(
    ("groups", "after", "expected", "reason"),
    [
        pytest.param(
            [("Added", ["a", "b"])], "1.4.2", "1.5.0", "minor: [Unreleased] has Added (2 entries)",
            id="added-minor",
        ),
        pytest.param([("Changed", ["a"])], "1.4.2", "1.5.0", "Changed (1 entry)", id="changed"),
        pytest.param([("Deprecated", ["a"])], "1.4.2", "1.5.0", "minor:", id="deprecated"),
        pytest.param([("Removed", ["a"])], "1.4.2", "2.0.0", "major: [Unreleased] has Removed",
                     id="removed-major"),
        pytest.param([("Fixed", ["a"])], "1.4.2", "1.4.3", "patch: [Unreleased] has Fixed",
                     id="fixed-patch"),
        pytest.param([("Security", ["a"])], "1.4.2", "1.4.3", "Security (1 entry)", id="security"),
        pytest.param(
            [("Fixed", ["a"]), ("Added", ["b"])], "1.4.2", "1.5.0",
            "minor: [Unreleased] has Added (1 entry); also Fixed (1 entry)", id="highest-wins",
        ),
        pytest.param(
            [("Fixed", ["**Breaking:** the config moves"])], "1.4.2", "2.0.0",
            "major: [Unreleased] has breaking (marked) (1 entry); also Fixed", id="marked-bold",
        ),
        pytest.param(
            [("Changed", ["BREAKING: drop 3.10"])], "1.4.2", "2.0.0", "major:", id="marked-caps",
        ),
        pytest.param(
            [("Changed", ["Not breaking anything, faster"])], "1.4.2", "1.5.0", "minor:",
            id="breaking-in-a-sentence-is-not-a-mark",
        ),
        pytest.param(
            [("Removed", ["a"])], "0.4.2", "0.5.0", "below 1.0.0 a major is a minor",
            id="zero-major-is-minor",
        ),
        pytest.param([("Fixed", ["a"])], "0.4.2", "0.4.3", "patch:", id="zero-patch"),
        pytest.param([("added", ["a"])], "1.4.2", "1.5.0", "Added (1 entry)", id="any-case"),
        pytest.param([("Added", ["a"])], None, "0.1.0", "after no release tag (0.0.0)",
                     id="no-release-yet"),
        pytest.param(
            [("Fixed", ["a"])], "1.5.0rc1", "1.5.1", "1.5.0 is in progress (v1.5.0rc1)",
            id="after-a-pre-release-its-final",
        ),
    ],
)  # fmt: skip
def test_next_version_by_change_type(
    groups: list[tuple[str, list[str]]], after: str | None, expected: str, reason: str
) -> None:
    found = next_version(changelog(*groups), Release.parse(after) if after else None)
    assert str(found.release) == expected
    assert reason in found.reason
    assert found.reason.endswith(f"after v{after}" if after else "after no release tag (0.0.0)")


@pytest.mark.parametrize(
    ("groups", "after", "expected", "reason"),
    [
        pytest.param(
            [("Added", ["a"]), ("Changed", ["b", "c"]), ("Fixed", ["d"]), ("Security", ["e"])],
            "1.4.2", "1.5.0",
            "minor: [Unreleased] has Added (1 entry), Changed (2 entries); also Fixed (1 entry), "
            "Security (1 entry); after v1.4.2",
            id="every-kind-named",
        ),
        pytest.param(
            [("Changed", ["BREAKING: one", "**Breaking:** two"])], "0.4.2", "0.5.0",
            "major: [Unreleased] has breaking (marked) (2 entries); also Changed (2 entries); "
            "below 1.0.0 a major is a minor; after v0.4.2",
            id="two-breaking-below-1.0.0",
        ),
        pytest.param(
            [("Fixed", ["a"])], "1.5.0rc1", "1.5.1",
            "patch: [Unreleased] has Fixed (1 entry); 1.5.0 is in progress (v1.5.0rc1); "
            "after v1.5.0rc1",
            id="in-progress",
        ),
        pytest.param([("Fixed", ["a"])], None, "0.0.1",
                     "patch: [Unreleased] has Fixed (1 entry); after no release tag (0.0.0)",
                     id="a-first-fix"),
    ],
)  # fmt: skip
def test_next_version_says_why_in_one_line(
    groups: list[tuple[str, list[str]]], after: str | None, expected: str, reason: str
) -> None:
    release = Release.parse(after) if after else None
    found = next_version(changelog(*groups), release)
    assert (str(found.release), found.reason, found.after) == (expected, reason, release)


def test_a_maintenance_line_stays_on_its_line() -> None:
    text = changelog(("Added", ["a"]), ("Removed", ["b"]))
    tags = ["v1.3.4", "v1.3.5", "v1.4.0", "v2.0.0rc1"]
    found = next_after_tags(text, tags, Line(1, 3))
    assert str(found.release) == "1.3.6"
    assert found.bump == "patch"
    assert found.reason.startswith("patch: support/1.3 stays on its line (major: [Unreleased] has")
    assert found.reason.endswith("a major elsewhere); after v1.3.5")


def test_a_fix_on_a_maintenance_line_says_only_why() -> None:
    found = next_after_tags(changelog(("Fixed", ["a"])), ["v1.3.5", "v1.4.0"], Line(1, 3))
    assert (str(found.release), found.reason) == (
        "1.3.6",
        "patch: [Unreleased] has Fixed (1 entry); after v1.3.5",
    )


def test_develop_follows_the_newest_tag_of_any_line() -> None:
    text = changelog(("Fixed", ["a"]))
    found = next_after_tags(text, ["v1.3.9", "v1.4.0", "v0.9.0", "not-a-version"])
    assert str(found.release) == "1.4.1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(HEAD + OLDER,
                     "nothing to release: the [Unreleased] section has no '- ' entries",
                     id="empty"),
        pytest.param(HEAD + "\n### Misc\n\n- a\n" + OLDER,
                     "[Unreleased] has '### Misc', not a change type (Added, Changed, "
                     "Deprecated, Removed, Fixed, Security): rename it, or give the version",
                     id="unknown-heading"),
        pytest.param(HEAD + "\n- a\n" + OLDER,
                     "[Unreleased] has an entry outside a change-type heading: '- a'",
                     id="no-heading"),
    ],
)  # fmt: skip
def test_what_cannot_be_counted_is_an_error(text: str, message: str) -> None:
    with pytest.raises(ChangelogError) as raised:
        next_version(text, Release.parse("1.4.2"))
    assert str(raised.value) == message
