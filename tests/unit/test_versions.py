"""versions: what a valid release version is, and how it compares with the tags."""

from __future__ import annotations

import pytest

from scripts.versioning import versions
from scripts.versioning.versions import (
    Line,
    Release,
    VersionError,
    describe_version,
    latest_final,
    latest_release,
    maintained_line,
    of_line,
    release_tags,
    require_newer,
)

HINT = (
    "expected X.Y.Z, for example 1.4.0, or a pre-release X.Y.ZaN, X.Y.ZbN or X.Y.ZrcN, "
    "for example 1.4.0rc1 (a leading v is allowed)"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("1.4.0", "1.4.0", id="plain"),
        pytest.param("v1.4.0", "1.4.0", id="leading-v"),
        pytest.param("0.0.0", "0.0.0", id="zeros"),
        pytest.param("10.20.30", "10.20.30", id="multi-digit"),
        pytest.param("v0.2.0", "0.2.0", id="zero-major"),
        pytest.param("1.4.0rc1", "1.4.0rc1", id="rc"),
        pytest.param("v1.4.0a2", "1.4.0a2", id="alpha"),
        pytest.param("1.4.0b10", "1.4.0b10", id="beta"),
    ],
)
def test_parse_release_accepts(text: str, expected: str) -> None:
    assert str(Release.parse(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("0.2", id="two-parts"),
        pytest.param("1.2.3.4", id="four-parts"),
        pytest.param("release-0.2.0", id="prefix"),
        pytest.param("01.2.3", id="leading-zero-major"),
        pytest.param("1.02.3", id="leading-zero-minor"),
        pytest.param("0.2.0.dev1", id="dev"),
        pytest.param("0.2.0-rc.1", id="semver-pre-release"),
        pytest.param("0.2.0.rc1", id="dotted-rc"),
        pytest.param("0.2.0RC1", id="uppercase-rc"),
        pytest.param("0.2.0c1", id="c-spelling"),
        pytest.param("0.2.0rc", id="rc-without-number"),
        pytest.param("0.2.0rc1.dev1", id="dev-of-rc"),
        pytest.param("0.2.0rc1.post1", id="post-of-rc"),
        pytest.param("0.2rc1", id="two-part-rc"),
        pytest.param("0.2.0.post1", id="post"),
        pytest.param("1.0.0+local", id="local"),
        pytest.param("1!1.0.0", id="epoch"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("v", id="only-v"),
        pytest.param("0.2.0; rm -rf ~", id="shell"),
        pytest.param("0.2.0\nrm -rf ~", id="newline"),
        pytest.param("vv0.2.0", id="double-v"),
        pytest.param("V0.2.0", id="uppercase-V"),
        pytest.param("0.2.0 ", id="trailing-space"),
        pytest.param(" 0.2.0", id="leading-space"),
        pytest.param("v 0.2.0", id="space-after-v"),
        pytest.param("\u0661.\u0662.\u0663", id="arabic-indic-digits"),
        pytest.param("1.2.-3", id="negative"),
    ],
)
def test_parse_release_refuses(text: str) -> None:
    with pytest.raises(VersionError) as caught:
        Release.parse(text)
    assert str(caught.value) == f"invalid version {text!r}: {HINT}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "0.2.0; rm -rf ~", f"invalid version '0.2.0; rm -rf ~': {HINT}", id="shell-quoted"
        ),
        pytest.param("0.2.0\nrm", f"invalid version '0.2.0\\nrm': {HINT}", id="newline-escaped"),
        pytest.param("it's", f'invalid version "it\'s": {HINT}', id="quote-in-text"),
    ],
)
def test_parse_release_message_is_one_harmless_line(text: str, message: str) -> None:
    with pytest.raises(VersionError) as caught:
        Release.parse(text)
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "tag", "branch"),
    [
        pytest.param("1.4.0", "v1.4.0", "release/v1.4.0", id="plain"),
        pytest.param("v0.10.2", "v0.10.2", "release/v0.10.2", id="leading-v"),
        pytest.param("1.4.0rc2", "v1.4.0rc2", "release/v1.4.0", id="pre-release-on-its-final"),
    ],
)
def test_tag_and_branch(text: str, tag: str, branch: str) -> None:
    release = Release.parse(text)
    assert (release.tag, release.branch) == (tag, branch)


def test_a_release_is_one_frozen_value() -> None:
    release = Release.parse("v1.4.0")
    assert release == Release.parse("1.4.0")
    assert release.kind == "final"
    assert Release.parse("0.9.0") < Release.parse("0.10.0")
    with pytest.raises(AttributeError):
        release.version = Release.parse("2.0.0").version  # type: ignore[misc]


def test_tag_of_an_invalid_version_is_never_made() -> None:
    with pytest.raises(VersionError) as caught:
        Release.parse("1.4")
    assert str(caught.value) == f"invalid version '1.4': {HINT}"


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        pytest.param([], [], id="none"),
        pytest.param(
            ["v0.10.0", "v0.2.0", "v0.1.0"], ["0.1.0", "0.2.0", "0.10.0"], id="numeric-order"
        ),
        pytest.param(
            ["v1.0.0", "0.9.0", "v1.1.0rc1", "release-2.0.0", "v01.0.0", "vv3.0.0", "V4.0.0"],
            ["1.0.0", "1.1.0rc1"],
            id="others-ignored",
        ),
        pytest.param(["latest", "nightly"], [], id="no-release-tag"),
    ],
)
def test_release_tags(tags: list[str], expected: list[str]) -> None:
    assert release_tags(tags) == [Release.parse(version) for version in expected]


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        pytest.param([], None, id="none"),
        pytest.param(["v0.9.0", "v0.10.0", "v0.2.0"], Release.parse("0.10.0"), id="numeric-max"),
        pytest.param(["v2.0.0rc1", "v1.0.0"], Release.parse("2.0.0rc1"), id="pre-release-counts"),
        pytest.param(["v2.0.0rc1", "v2.0.0"], Release.parse("2.0.0"), id="final-after-its-rc"),
        pytest.param(["2.0.0", "v1.0.0"], Release.parse("1.0.0"), id="tag-without-v-ignored"),
    ],
)
def test_latest_release(tags: list[str], expected: Release | None) -> None:
    assert latest_release(tags) == expected


@pytest.mark.parametrize(
    ("version", "tags"),
    [
        pytest.param("0.1.0", [], id="first-release"),
        pytest.param("0.3.0", ["v0.1.0", "v0.2.0"], id="next-minor"),
        pytest.param("0.10.0", ["v0.9.0"], id="numeric-not-lexical"),
        pytest.param("1.0.0", ["v0.2.0", "v1.0.0rc1"], id="final-after-its-rc"),
        pytest.param("1.0.0rc2", ["v1.0.0rc1"], id="next-rc"),
        pytest.param("1.0.0rc1", ["v1.0.0b3"], id="rc-after-beta"),
    ],
)
def test_require_newer_accepts(version: str, tags: list[str]) -> None:
    require_newer(Release.parse(version), tags)


@pytest.mark.parametrize(
    ("version", "tags", "message"),
    [
        pytest.param(
            "0.2.0",
            ["v0.1.0", "v0.3.0"],
            "version 0.2.0 is not greater than the latest tag v0.3.0",
            id="older",
        ),
        pytest.param(
            "v0.3.0",
            ["v0.3.0"],
            "version 0.3.0 is not greater than the latest tag v0.3.0",
            id="equal",
        ),
        pytest.param(
            "0.9.0",
            ["v0.10.0"],
            "version 0.9.0 is not greater than the latest tag v0.10.0",
            id="numeric-not-lexical",
        ),
        pytest.param(
            "1.4.0rc1",
            ["v1.4.0"],
            "version 1.4.0rc1 is not greater than the latest tag v1.4.0",
            id="rc-after-its-final",
        ),
        pytest.param(
            "1.4.0rc1",
            ["v1.4.0rc2"],
            "version 1.4.0rc1 is not greater than the latest tag v1.4.0rc2",
            id="older-rc",
        ),
    ],
)
def test_require_newer_refuses(version: str, tags: list[str], message: str) -> None:
    with pytest.raises(VersionError) as caught:
        require_newer(Release.parse(version), tags)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("version", "kind"),
    [
        pytest.param("1.0.0", "release", id="release"),
        pytest.param("1.0", "release", id="two-part-release"),
        pytest.param("1.0.0.post1", "release", id="post"),
        pytest.param("1.0.0a1", "pre-release", id="alpha"),
        pytest.param("1.0.0b2", "pre-release", id="beta"),
        pytest.param("1.0.0rc1", "pre-release", id="rc"),
        pytest.param("1.0.0.dev3", "dev", id="dev"),
        pytest.param("1.0.0rc1.dev3", "dev", id="dev-of-pre-release"),
        pytest.param("1.0.0+g1a2b3c", "local", id="local"),
        pytest.param("1.0.1.dev3+g1a2b3c", "local", id="dev-with-local"),
    ],
)
def test_describe_version(version: str, kind: str) -> None:
    assert describe_version(version) == kind


@pytest.mark.parametrize(
    "version",
    [
        pytest.param("", id="empty"),
        pytest.param("not-a-version", id="words"),
        pytest.param("1.0.0-", id="dangling-dash"),
    ],
)
def test_describe_version_refuses_non_pep440(version: str) -> None:
    with pytest.raises(VersionError) as caught:
        describe_version(version)
    assert str(caught.value) == f"invalid version {version!r}: not a PEP 440 version"


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        pytest.param(["v0.1.0", "v1.2.3"], [], id="release-tags-only"),
        pytest.param(["v0.1.0", "0.2.0"], ["0.2.0"], id="v-less"),
        pytest.param(["vv0.3.0", "v0.1.0"], ["vv0.3.0"], id="double-v"),
        pytest.param(["v1.0rc1", "v1.0.0.dev1"], ["v1.0.0.dev1", "v1.0rc1"], id="pre-and-dev"),
        pytest.param(["v1.0.0rc1", "v1.0.0b2", "v1.0.0"], [], id="pre-release-tags-are-releases"),
        pytest.param(["1.0.0rc1", "v1.0.0-rc.1"], ["1.0.0rc1", "v1.0.0-rc.1"], id="rc-misspelt"),
        pytest.param(["nightly", "deploy-prod", "v-next"], [], id="not-versions"),
        pytest.param(["nightly", "0.2.0"], ["0.2.0"], id="after-a-tag-that-names-no-version"),
    ],
)
def test_stray_tags(tags: list[str], expected: list[str]) -> None:
    assert versions.stray_tags(tags) == expected


@pytest.mark.parametrize(
    ("text", "kind", "final"),
    [
        pytest.param("1.4.0", "final", "1.4.0", id="final"),
        pytest.param("1.4.0a1", "pre-release", "1.4.0", id="alpha"),
        pytest.param("1.4.0rc3", "pre-release", "1.4.0", id="rc"),
    ],
)
def test_a_release_knows_its_kind_and_its_final(text: str, kind: str, final: str) -> None:
    release = Release.parse(text)
    assert (release.kind, str(release.final)) == (kind, final)
    assert release.final.kind == "final"
    assert (release < release.final) is (kind == "pre-release")


def test_pre_releases_order_before_their_final() -> None:
    order = ["1.4.0a1", "1.4.0a2", "1.4.0b1", "1.4.0rc1", "1.4.0rc10", "1.4.0", "1.4.1a1"]
    parsed = [Release.parse(text) for text in order]
    assert sorted(reversed(parsed)) == parsed


@pytest.mark.parametrize(
    ("text", "line"),
    [("1.3", Line(1, 3)), ("v1.3", Line(1, 3)), ("support/0.10", Line(0, 10)),
     ("1", None), ("1.3.0", None), ("01.3", None), ("1.x", None), ("1.3 ", None), ("", None)],
)  # fmt: skip
def test_line_parse(text: str, line: Line | None) -> None:
    if line is None:
        with pytest.raises(VersionError, match=r"invalid release line .*: expected X.Y"):
            Line.parse(text)
    else:
        assert Line.parse(text) == line
        assert line.branch == f"support/{line.major}.{line.minor}"


@pytest.mark.parametrize(
    ("branch", "line"),
    [("support/1.3", Line(1, 3)), ("support/1.3.0", None), ("support/x", None),
     ("release/v1.3.0", None), ("main", None), (None, None)],
)  # fmt: skip
def test_maintained_line(branch: str | None, line: Line | None) -> None:
    assert maintained_line(branch) == line


@pytest.mark.parametrize(
    ("version", "line", "next_patch", "hotfix_branch"),
    [("1.4.0", Line(1, 4), "1.4.1", "hotfix/v1.4.0"),
     ("1.4.2rc1", Line(1, 4), "1.4.3", "hotfix/v1.4.2"),
     ("0.9.9", Line(0, 9), "0.9.10", "hotfix/v0.9.9")],
)  # fmt: skip
def test_a_release_knows_its_line_and_next_patch(
    version: str, line: Line, next_patch: str, hotfix_branch: str
) -> None:
    release = Release.parse(version)
    assert release.line == line
    assert str(release.next_patch()) == next_patch
    assert release.hotfix_branch == hotfix_branch


TAGS = ["v1.3.4", "v1.4.0", "v1.4.1rc1", "v1.5.0rc1", "1.6.0", "vnext", "v1.3.10"]


def test_of_line_and_latest_final() -> None:
    assert sorted(of_line(Line(1, 4), TAGS)) == ["v1.4.0", "v1.4.1rc1"]
    assert sorted(of_line(Line(1, 3), TAGS)) == ["v1.3.10", "v1.3.4"]
    assert of_line(Line(2, 0), TAGS) == []
    latest = latest_final(TAGS)
    assert latest is not None and latest.tag == "v1.4.0"  # not the rc, not the stray 1.6.0
    assert latest_final(of_line(Line(1, 3), TAGS)) == Release.parse("1.3.10")
    assert latest_final(["v1.5.0rc1"]) is None
