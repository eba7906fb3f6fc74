"""The GitHub front's state and checks, asked in-process (no gh, no HTTP): GitHub's published
description decides what a request may be, the front answers as GitHub does."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from scripts.github_front.described import Description
from scripts.github_front.front import GitHubFront
from scripts.github_front.model import Failure, route
from tests.helpers import git

REPO = "/api/v3/repos/octo/agentops-accelerator"
UPLOADS = "/api/uploads/repos/octo/agentops-accelerator"


@pytest.fixture
def front(tmp_path: Path, github_description: Description) -> GitHubFront:
    github = GitHubFront(tmp_path / "github", github_description)
    github.host = "127.0.0.1:1"
    return github


def ask(front: GitHubFront, method: str, path: str, body: object = None) -> tuple[int, object]:
    data = b"" if body is None else json.dumps(body).encode()
    return front.answer(method, path, "application/json", data)


def upload(front: GitHubFront, release_id: int, name: str, data: bytes) -> tuple[int, object]:
    path = f"{UPLOADS}/releases/{release_id}/assets?name={name}"
    return front.answer("POST", path, "application/octet-stream", data)


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("GET", "/repos/o/r/releases/tags/v1", "/repos/{owner}/{repo}/releases/tags/{tag}"),
        ("GET", "/repos/o/r/releases/12", "/repos/{owner}/{repo}/releases/{release_id}"),
        ("GET", "/repos/o/r/releases/latest", "/repos/{owner}/{repo}/releases/latest"),
        ("POST", "/repos/o/r/releases/12/assets",
         "/repos/{owner}/{repo}/releases/{release_id}/assets"),
        ("GET", "/repos/o/r/git/ref/tags/v1.0.0", "/repos/{owner}/{repo}/git/ref/{ref}"),
        ("PUT", "/repos/o/r/rulesets/7", "/repos/{owner}/{repo}/rulesets/{ruleset_id}"),
    ],
)  # fmt: skip
def test_a_path_is_the_operation_with_the_most_literal_parts(
    github_description: Description, method: str, path: str, template: str
) -> None:
    found = github_description.operation(method, path)
    assert not isinstance(found, str), found
    assert found[0].template == template


def test_what_github_has_not_is_said_in_one_line(github_description: Description) -> None:
    assert github_description.operation("GET", "/repos/o/r/release") == (
        "GitHub's REST API has no path /repos/o/r/release"
    )
    assert github_description.operation("POST", "/repos/o/r/releases/tags/v1") == (
        "/repos/{owner}/{repo}/releases/tags/{tag} takes GET, not POST"
    )


def test_the_front_routes_only_what_it_keeps() -> None:
    assert route("GET", "/repos/o/r/git/ref/tags/v1.0.0") == (
        "/repos/{owner}/{repo}/git/ref/{ref}",
        {"owner": "o", "repo": "r", "ref": "tags/v1.0.0"},
    )
    assert route("DELETE", "/repos/o/r/releases/assets/5") == (
        "/repos/{owner}/{repo}/releases/assets/{asset_id}",
        {"owner": "o", "repo": "r", "asset_id": "5"},
    )
    assert route("PUT", "/repos/o/r/releases/5") is None


def test_a_release_goes_from_draft_to_immutable(front: GitHubFront) -> None:
    status, made = ask(front, "POST", f"{REPO}/releases", {"tag_name": "v1.0.0", "draft": True})
    assert status == 201 and isinstance(made, dict)
    assert (made["draft"], made["immutable"], made["published_at"]) == (True, False, None)
    assert ask(front, "GET", f"{REPO}/releases/tags/v1.0.0")[0] == 404  # a draft is not by tag
    status, asset = upload(front, made["id"], "a.whl", b"wheel")
    assert status == 201 and isinstance(asset, dict)
    assert asset["digest"] == f"sha256:{hashlib.sha256(b'wheel').hexdigest()}"
    assert upload(front, made["id"], "a.whl", b"again")[0] == 422  # a name is taken once
    status, published = ask(front, "PATCH", f"{REPO}/releases/{made['id']}", {"draft": False})
    assert status == 200 and isinstance(published, dict)
    assert (published["draft"], published["immutable"]) == (False, True)
    assert upload(front, made["id"], "b.whl", b"late")[0] == 422
    assert ask(front, "DELETE", f"{REPO}/releases/assets/{asset['id']}")[0] == 422
    assert ask(front, "PATCH", f"{REPO}/releases/{made['id']}", {"draft": True})[0] == 422
    assert ask(front, "PATCH", f"{REPO}/releases/{made['id']}", {"body": "notes"})[0] == 200
    assert ask(front, "DELETE", f"{REPO}/releases/{made['id']}")[0] == 204
    status, refused = ask(front, "POST", f"{REPO}/releases", {"tag_name": "v1.0.0"})
    assert status == 422 and "immutable" in json.dumps(refused)
    assert front.problems == []


def test_without_immutable_releases_a_published_release_takes_assets(
    tmp_path: Path, github_description: Description
) -> None:
    front = GitHubFront(tmp_path, github_description, immutable_releases=False)
    made = ask(front, "POST", f"{REPO}/releases", {"tag_name": "v1.0.0"})[1]
    assert isinstance(made, dict) and made["immutable"] is False
    assert upload(front, made["id"], "late.txt", b"late")[0] == 201


def test_a_request_github_would_refuse_is_answered_422_and_kept(front: GitHubFront) -> None:
    status, answer = ask(front, "POST", f"{REPO}/releases", {"tag_name": "v1", "drafts": True})
    assert status == 422 and front.releases == []
    assert front.problems == [
        "POST /repos/{owner}/{repo}/releases: body: (the whole): Additional properties are not "
        "allowed ('drafts' was unexpected)"
    ]
    assert isinstance(answer, dict) and answer["message"] == front.problems[0]


def test_an_upload_needs_its_name(front: GitHubFront) -> None:
    made = ask(front, "POST", f"{REPO}/releases", {"tag_name": "v1", "draft": True})[1]
    assert isinstance(made, dict)
    path = f"{UPLOADS}/releases/{made['id']}/assets"
    assert front.answer("POST", path, "application/octet-stream", b"x")[0] == 422
    assert front.problems == [
        "POST /repos/{owner}/{repo}/releases/{release_id}/assets: the query parameter 'name' is "
        "required"
    ]


def test_graphql_and_another_repository_are_not_served(front: GitHubFront) -> None:
    assert ask(front, "POST", "/api/graphql", {"query": "{viewer{login}}"})[0] == 400
    assert front.problems == ["a GraphQL call: every gh call here goes through REST"]
    front.problems.clear()
    assert ask(front, "GET", "/api/v3/repos/someone/else/releases")[0] == 404


def test_a_failure_asked_for_is_answered_as_often_as_asked(front: GitHubFront) -> None:
    front.failures.append(Failure("GET", "/releases", 502, times=1))
    assert ask(front, "GET", f"{REPO}/releases")[0] == 502
    assert ask(front, "GET", f"{REPO}/releases") == (200, [])


def test_every_answer_has_the_documented_shape(front: GitHubFront) -> None:
    made = ask(front, "POST", f"{REPO}/releases", {"tag_name": "v1", "draft": True})[1]
    assert isinstance(made, dict)
    # The front keeps no reactions or mentions: the description requires none of them.
    assert {"author", "assets", "upload_url", "zipball_url"} <= set(made)
    assert made["author"]["login"] == "octo"
    listed = ask(front, "GET", f"{REPO}/releases?per_page=1&page=1")[1]
    assert isinstance(listed, list) and [r["tag_name"] for r in listed] == ["v1"]
    assert front.problems == []


def test_pull_requests_close_when_their_branch_is_deleted(
    tmp_path: Path, github_description: Description
) -> None:
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    work = tmp_path / "work"
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    git(work, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty",
        "-m", "one")  # fmt: skip
    git(work, "push", "-q", str(origin), "main", "main:feature")
    front = GitHubFront(tmp_path / "github", github_description, origin=origin)
    pull = {"title": "t", "head": "feature", "base": "main", "body": "b"}
    assert ask(front, "POST", f"{REPO}/pulls", pull)[0] == 201
    assert ask(front, "POST", f"{REPO}/pulls", pull)[0] == 422  # one open PR per head
    assert ask(front, "POST", f"{REPO}/pulls", {**pull, "head": "nowhere"})[0] == 422
    git(work, "push", "-q", str(origin), "--delete", "feature")
    identity = ["-c", "user.name=t", "-c", "user.email=t@t"]
    git(work, *identity, "commit", "-q", "--amend", "--allow-empty", "-m", "2")
    git(work, "push", "-q", str(origin), "main:feature")  # the branch again, from elsewhere
    listed = ask(front, "GET", f"{REPO}/pulls?head=octo:feature&state=all")[1]
    assert isinstance(listed, list) and [p["state"] for p in listed] == ["closed"]
    assert ask(front, "POST", f"{REPO}/pulls", pull)[0] == 201
    assert front.problems == []


def test_a_tag_is_read_from_origin(tmp_path: Path, github_description: Description) -> None:
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    work = tmp_path / "work"
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    identity = ["-c", "user.name=t", "-c", "user.email=t@t"]
    git(work, *identity, "commit", "-q", "--allow-empty", "-m", "one")
    git(work, *identity, "tag", "-a", "v1.0.0", "-m", "v1.0.0")
    git(work, "push", "-q", str(origin), "main", "v1.0.0")
    front = GitHubFront(tmp_path / "github", github_description, origin=origin)
    status, ref = ask(front, "GET", f"{REPO}/git/ref/tags/v1.0.0")
    assert status == 200 and isinstance(ref, dict)
    assert ref["object"] == {**ref["object"], "type": "tag", "sha": git(origin, "rev-parse",
                                                                        "v1.0.0")}  # fmt: skip
    assert ask(front, "GET", f"{REPO}/git/ref/tags/v2.0.0")[0] == 404


def test_the_state_is_saved_and_taken_up_whole(front: GitHubFront, tmp_path: Path) -> None:
    made = ask(front, "POST", f"{REPO}/releases", {"tag_name": "v1", "draft": True})[1]
    assert isinstance(made, dict)
    upload(front, made["id"], "a.whl", b"\x00wheel\xff")
    again = GitHubFront(tmp_path / "again")
    again.restore(json.loads(json.dumps(front.saved())))
    assert again.releases == front.releases and again.last_id == front.last_id
    assert again.releases[0].assets[0].data == b"\x00wheel\xff"


def test_the_settings_setup_github_makes_are_kept_as_github_keeps_them(front: GitHubFront) -> None:
    front.immutable_releases = False
    assert (
        ask(front, "PUT", f"{REPO}/environments/release", {"prevent_self_review": True})[0] == 200
    )
    policies = f"{REPO}/environments/release/deployment-branch-policies"
    status, made = ask(front, "POST", policies, {"name": "v*", "type": "tag"})
    assert status == 200 and isinstance(made, dict)
    assert ask(front, "POST", policies, {"name": "v*", "type": "tag"})[0] == 303  # there already
    listed = ask(front, "GET", policies)[1]
    assert isinstance(listed, dict) and listed["total_count"] == 1
    assert ask(front, "DELETE", f"{policies}/{made['id']}")[0] == 204
    assert ask(front, "DELETE", f"{policies}/{made['id']}")[0] == 404
    ruleset = {"name": "main", "enforcement": "active", "target": "branch"}
    status, kept = ask(front, "POST", f"{REPO}/rulesets", ruleset)
    assert status == 201 and isinstance(kept, dict)
    assert ask(front, "POST", f"{REPO}/rulesets", ruleset)[0] == 422  # names are unique
    changed = {**ruleset, "enforcement": "disabled"}
    assert ask(front, "PUT", f"{REPO}/rulesets/{kept['id']}", changed)[0] == 200
    assert [r["enforcement"] for r in front.rulesets] == ["disabled"]
    assert ask(front, "PUT", f"{REPO}/immutable-releases")[0] == 204
    assert ask(front, "GET", f"{REPO}/immutable-releases")[1] == {
        "enabled": True, "enforced_by_owner": False
    }  # fmt: skip
    assert ask(front, "GET", "/api/v3/users/octo")[0] == 200
    assert ask(front, "GET", "/api/v3/users/nobody")[0] == 404
    assert front.problems == []
