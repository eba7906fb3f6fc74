"""The real gh against the GitHub front: what it sends is checked against GitHub's description."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from scripts.github_front.described import Description
from scripts.github_front.front import GitHubFront

RELEASES = "repos/{owner}/{repo}/releases"


def gh(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["gh", *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip


def test_a_release_made_through_gh_api_is_read_back_as_github_answers(
    real_gh: dict[str, str], github_front: GitHubFront, tmp_path: Path
) -> None:
    made = gh(real_gh, "api", "--method", "POST", RELEASES, "-f", "tag_name=v1.0.0",
              "-F", "draft=true", "-f", "body=notes")  # fmt: skip
    assert made.returncode == 0, made.stderr
    release = json.loads(made.stdout)
    assert (release["tag_name"], release["draft"], release["body"]) == ("v1.0.0", True, "notes")
    wheel = tmp_path / "a-1.0.0-py3-none-any.whl"
    wheel.write_bytes(b"wheel bytes")
    upload = release["upload_url"].split("{")[0] + f"?name={wheel.name}"
    uploaded = gh(real_gh, "api", "--method", "POST", upload, "--input", str(wheel),
                  "-H", "Content-Type: application/octet-stream")  # fmt: skip
    assert uploaded.returncode == 0, uploaded.stderr
    # computed apart: `printf 'wheel bytes' | sha256sum`
    digest = "sha256:67c0d8f7de19e30c2d5891030a0b37cbfcdd240852b53055c0b28290ad52290b"
    assert json.loads(uploaded.stdout)["digest"] == digest
    assert [r["method"] for r in github_front.requests] == ["POST", "POST"]
    assert github_front.requests[1]["body"] == {"bytes": len(b"wheel bytes")}
    published = gh(real_gh, "api", "--method", "PATCH", f"{RELEASES}/{release['id']}",
                   "-F", "draft=false")  # fmt: skip
    assert published.returncode == 0, published.stderr
    by_tag = json.loads(gh(real_gh, "api", f"{RELEASES}/tags/v1.0.0").stdout)
    assert by_tag["immutable"] is True and by_tag["published_at"]
    assert [(a["name"], a["digest"]) for a in by_tag["assets"]] == [(wheel.name, digest)]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        pytest.param(["-F", "draft=true"], "'tag_name' is a required property",
                     id="a-required-property-missing"),
        pytest.param(["-f", "tag_name=v1", "-F", "prereleas=true"], "'prereleas' was unexpected",
                     id="an-unknown-field"),
        pytest.param(["-f", "tag_name=v1", "-f", "make_latest=yes"],
                     "'yes' is not one of ['true', 'false', 'legacy']", id="a-value-not-allowed"),
        pytest.param(["-f", "tag_name=v1", "-f", "draft=true"], "'true' is not of type 'boolean'",
                     id="a-boolean-sent-as-a-string"),
    ],
)  # fmt: skip
def test_the_front_refuses_a_body_github_would_refuse(
    real_gh: dict[str, str], github_front: GitHubFront, args: list[str], problem: str
) -> None:
    result = gh(real_gh, "api", "--method", "POST", RELEASES, *args)
    assert result.returncode != 0
    assert len(github_front.problems) == 1 and problem in github_front.problems[0]
    assert "POST /repos/{owner}/{repo}/releases: body:" in github_front.problems[0]
    assert github_front.releases == []
    github_front.problems.clear()


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        pytest.param(["--method", "PUT", RELEASES],
                     "/repos/{owner}/{repo}/releases takes GET, POST, not PUT", id="a-method"),
        pytest.param([f"{RELEASES}/latest/notes"], "GitHub's REST API has no path", id="a-path"),
        pytest.param([f"{RELEASES}?per_page=10&draft=true"], "no query parameter 'draft'",
                     id="a-query-parameter"),
        pytest.param([f"{RELEASES}/first"], "release_id='first': not an integer",
                     id="a-path-parameter-of-another-type"),
    ],
)  # fmt: skip
def test_the_front_refuses_what_github_does_not_have(
    real_gh: dict[str, str], github_front: GitHubFront, args: list[str], problem: str
) -> None:
    result = gh(real_gh, "api", *args)
    assert result.returncode != 0
    assert [problem in found for found in github_front.problems] == [True]
    github_front.problems.clear()


def test_an_unknown_flag_never_reaches_github(
    real_gh: dict[str, str], github_front: GitHubFront
) -> None:
    result = gh(real_gh, "release", "create", "v1.0.0", "--immutable")
    assert result.returncode != 0 and "--immutable" in result.stderr
    assert github_front.requests == []


def test_an_immutable_release_takes_no_new_asset_and_keeps_its_tag(
    real_gh: dict[str, str], github_front: GitHubFront, tmp_path: Path
) -> None:
    made = json.loads(gh(real_gh, "api", "--method", "POST", RELEASES, "-f",
                         "tag_name=v2.0.0").stdout)  # fmt: skip
    assert made["immutable"] is True and made["draft"] is False
    late = tmp_path / "late.txt"
    late.write_text("late")
    upload = made["upload_url"].split("{")[0] + "?name=late.txt"
    refused = gh(real_gh, "api", "--method", "POST", upload, "--input", str(late),
                 "-H", "Content-Type: application/octet-stream")  # fmt: skip
    assert refused.returncode != 0 and "(HTTP 422)" in refused.stderr
    moved = gh(real_gh, "api", "--method", "PATCH", f"{RELEASES}/{made['id']}",
               "-f", "tag_name=v2.0.1")  # fmt: skip
    assert moved.returncode != 0
    assert gh(real_gh, "api", "--method", "DELETE", f"{RELEASES}/{made['id']}").returncode == 0
    again = gh(real_gh, "api", "--method", "POST", RELEASES, "-f", "tag_name=v2.0.0")
    assert again.returncode != 0, "a deleted immutable release's tag can never be used again"
    assert github_front.releases == []


def test_the_description_reads_nullable_fields_as_github_means_them(
    github_description: Description,
) -> None:
    found = github_description.operation("GET", "/repos/o/r/releases/assets/7")
    assert not isinstance(found, str)
    operation, values = found
    assert (operation.template, values) == (
        "/repos/{owner}/{repo}/releases/assets/{asset_id}",
        {"owner": "o", "repo": "r", "asset_id": "7"},
    )
    asset = {"url": "u", "browser_download_url": "b", "id": 7, "node_id": "n", "name": "a",
             "label": None, "state": "uploaded", "content_type": "t", "size": 1,
             "digest": None, "download_count": 0, "created_at": "2026-01-01T00:00:00Z",
             "updated_at": "2026-01-01T00:00:00Z", "uploader": None}  # fmt: skip
    assert github_description.answer_problems(operation, 200, asset) == []
    assert github_description.answer_problems(operation, 200, {**asset, "size": None}) == [
        "GET /repos/{owner}/{repo}/releases/assets/{asset_id} answered 200: size: None is not "
        "of type 'integer'"
    ]
