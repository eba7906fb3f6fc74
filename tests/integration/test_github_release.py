"""`invoke github-release` with the real gh against the GitHub front: a draft, every asset, the
digests checked, published last; re-runs, and a published release never touched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from scripts.artifacts import manifest
from scripts.github_front.front import GitHubFront
from scripts.github_front.model import Failure
from scripts.versioning import changelog
from scripts.versioning.versions import Release
from tests.integration.worlds import World, fake_dist, next_line

ASSET_UPLOADS = "/assets"  # the upload path's end: POST .../releases/ID/assets?name=NAME


@pytest.fixture
def tagged(released: World, github_front: GitHubFront) -> World:
    """A world where v0.2.0 is tagged on origin, its dist/ built, GitHub's front knowing origin."""
    code, output = released.invoke("tag", "0.2.0")
    assert code == 0, output
    fake_dist(released.work / "dist", "0.2.0")
    github_front.requests.clear()  # what cut-release asked (its pull request) is not this test's
    return released


def sha256s(dist: Path) -> dict[str, str]:
    """Each dist/ file's sha256, SHA256SUMS included, computed here."""
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in dist.iterdir()}


def assets_of(front: GitHubFront, tag: str) -> dict[str, str]:
    (release,) = [r for r in front.releases if r.tag_name == tag]
    return {asset.name: hashlib.sha256(asset.data).hexdigest() for asset in release.assets}


def writes(front: GitHubFront) -> list[str]:
    """The requests that changed GitHub, as METHOD and the path's last two parts."""
    return [f"{r['method']} {'/'.join(r['path'].split('/')[-2:])}"
            for r in front.requests if r["method"] != "GET"]  # fmt: skip


def patched(front: GitHubFront) -> object:
    """The body of the one PATCH (the publishing) the front was sent."""
    (body,) = [r["body"] for r in front.requests if r["method"] == "PATCH"]
    return body


def test_a_first_run_uploads_to_a_draft_and_publishes_last(
    tagged: World, github_front: GitHubFront, real_gh: dict[str, str]
) -> None:
    code, output = tagged.invoke("github-release", "0.2.0", **real_gh)
    assert code == 0, output
    (release,) = github_front.releases
    assert (release.tag_name, release.draft, release.immutable) == ("v0.2.0", False, True)
    assert assets_of(github_front, "v0.2.0") == sha256s(tagged.work / "dist")
    assert release.body == changelog.section_text(
        (tagged.work / "CHANGELOG.md").read_text(), Release.parse("0.2.0")
    )
    assert writes(github_front) == [
        "POST agentops-accelerator/releases",
        *["POST 1/assets"] * 3,
        "PATCH releases/1",
    ]
    created = github_front.requests[[r["method"] for r in github_front.requests].index("POST")]
    assert created["body"]["draft"] is True and created["body"]["prerelease"] is False
    assert patched(github_front) == {"draft": False, "make_latest": "true"}


def test_a_re_run_after_a_failed_upload_reuses_the_draft_and_uploads_only_what_is_missing(
    tagged: World, github_front: GitHubFront, real_gh: dict[str, str]
) -> None:
    github_front.failures.append(Failure("POST", ASSET_UPLOADS, 502, times=1))
    code, output = tagged.invoke("github-release", "0.2.0", **real_gh)
    assert code == 1, output
    (release,) = github_front.releases
    assert release.draft and not release.assets, "a failed upload leaves the draft unpublished"
    code, output = tagged.invoke("status", "--release", "0.2.0", "--staging", "http://127.0.0.1:9/",
                                 "--production", "http://127.0.0.1:9/", **real_gh)  # fmt: skip
    assert code == 0, output
    assert "v0.2.0 is a draft (0 assets), not published" in output
    assert next_line(output).startswith("invoke github-release 0.2.0 ")
    github_front.requests.clear()
    code, output = tagged.invoke("github-release", "0.2.0", **real_gh)
    assert code == 0, output
    assert "reusing its draft" in output
    assert writes(github_front) == [*["POST 1/assets"] * 3, "PATCH releases/1"]
    assert not release.draft and assets_of(github_front, "v0.2.0") == sha256s(tagged.work / "dist")


def test_a_draft_holding_other_bytes_loses_them_before_it_is_published(
    tagged: World, github_front: GitHubFront, real_gh: dict[str, str]
) -> None:
    github_front.failures.append(Failure("PATCH", "/releases/1", 502, times=1))
    assert tagged.invoke("github-release", "0.2.0", **real_gh)[0] == 1
    (release,) = github_front.releases
    wheel = next(asset for asset in release.assets if asset.name.endswith(".whl"))
    wheel.data = b"bytes of another build"
    github_front.requests.clear()
    code, output = tagged.invoke("github-release", "0.2.0", **real_gh)
    assert code == 0, output
    assert writes(github_front) == [
        f"DELETE assets/{wheel.id}",
        "POST 1/assets",
        "PATCH releases/1",
    ]
    assert assets_of(github_front, "v0.2.0") == sha256s(tagged.work / "dist")


def test_a_draft_whose_uploads_arrived_damaged_is_not_published(
    tagged: World, github_front: GitHubFront, real_gh: dict[str, str]
) -> None:
    github_front.damaged.add("SHA256SUMS")
    code, output = tagged.invoke("github-release", "0.2.0", **real_gh)
    assert code == 1
    assert (
        "github-release: error: the draft of v0.2.0 has other bytes for SHA256SUMS: left as a "
        "draft; run github-release again" in output
    )
    (release,) = github_front.releases
    assert release.draft and "PATCH releases/1" not in writes(github_front)
    github_front.damaged.clear()
    assert tagged.invoke("github-release", "0.2.0", **real_gh)[0] == 0
    assert not release.draft and assets_of(github_front, "v0.2.0") == sha256s(tagged.work / "dist")


def test_a_draft_that_cannot_be_read_back_is_not_published(
    tagged: World, github_front: GitHubFront, real_gh: dict[str, str]
) -> None:
    github_front.failures.append(Failure("GET", "/releases/1", 503, times=1))
    code, output = tagged.invoke("github-release", "0.2.0", **real_gh)
    assert code == 1
    assert (
        "github-release: error: cannot read the draft of v0.2.0 back (HTTP 503): left as a "
        "draft; run github-release again" in output
    )
    (release,) = github_front.releases
    assert release.draft and "PATCH releases/1" not in writes(github_front)


def test_a_re_run_after_publishing_checks_and_changes_nothing(
    tagged: World, github_front: GitHubFront, real_gh: dict[str, str]
) -> None:
    assert tagged.invoke("github-release", "0.2.0", **real_gh)[0] == 0
    github_front.requests.clear()
    code, output = tagged.invoke("github-release", "0.2.0", **real_gh)
    assert code == 0, output
    assert "v0.2.0 is published, every asset matching SHA256SUMS: nothing to do" in output
    assert writes(github_front) == []


def test_a_published_release_with_other_bytes_is_refused_and_names_the_fix(
    tagged: World, github_front: GitHubFront, real_gh: dict[str, str]
) -> None:
    assert tagged.invoke("github-release", "0.2.0", **real_gh)[0] == 0
    dist = tagged.work / "dist"
    for path in dist.iterdir():
        path.unlink()
    (dist / "agentops_accelerator-0.2.0-py3-none-any.whl").write_bytes(b"a rebuilt wheel")
    (dist / "agentops_accelerator-0.2.0.tar.gz").write_bytes(b"sdist")
    manifest.write_manifest(dist)
    github_front.requests.clear()
    code, output = tagged.invoke("github-release", "0.2.0", **real_gh)
    assert code == 1
    errors = [line for line in output.splitlines() if ": error: " in line]
    assert errors == [
        "github-release: error: v0.2.0 is published with other bytes for SHA256SUMS; other bytes "
        "for agentops_accelerator-0.2.0-py3-none-any.whl: a published release never changes "
        "(immutable); release a new version"
    ]
    assert writes(github_front) == []


def test_a_pre_release_is_marked_and_never_made_latest(
    cut: World, github_front: GitHubFront, real_gh: dict[str, str]
) -> None:
    assert cut.invoke("tag", "0.2.0rc1")[0] == 0
    fake_dist(cut.work / "dist", "0.2.0rc1")
    github_front.requests.clear()
    code, output = cut.invoke("github-release", "0.2.0rc1", **real_gh)
    assert code == 0, output
    created = next(r for r in github_front.requests if r["method"] == "POST")
    assert created["body"]["prerelease"] is True
    assert patched(github_front) == {"draft": False, "make_latest": "false"}
    (release,) = github_front.releases
    assert release.prerelease and release.tag_name == "v0.2.0rc1"


def test_a_tag_github_does_not_have_is_refused_before_any_change(
    released: World, github_front: GitHubFront, real_gh: dict[str, str]
) -> None:
    fake_dist(released.work / "dist", "0.2.0")
    github_front.requests.clear()
    code, output = released.invoke("github-release", "0.2.0", **real_gh)
    assert code == 1
    assert "github-release: error: GitHub has no tag v0.2.0: push it first" in output
    assert writes(github_front) == [] and github_front.releases == []


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        pytest.param("tamper", "changed after the build", id="a-tampered-dist"),
        pytest.param("another-version", "0.2.1", id="another-version"),
    ],
)
def test_a_dist_that_is_not_the_release_is_refused_before_github_is_asked(
    tagged: World, github_front: GitHubFront, real_gh: dict[str, str], spoil: str, message: str
) -> None:
    dist = tagged.work / "dist"
    if spoil == "tamper":
        (dist / "agentops_accelerator-0.2.0.tar.gz").write_bytes(b"other")
    else:
        for path in dist.iterdir():
            path.unlink()
        dist.rmdir()
        fake_dist(dist, "0.2.1")
    code, output = tagged.invoke("github-release", "0.2.0", **real_gh)
    assert code == 1 and message in output
    assert github_front.requests == []
