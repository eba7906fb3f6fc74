"""The rehearsal's pure parts: its table, act's plan and progress, the checks' comparisons."""

from __future__ import annotations

import json
from pathlib import Path

from tasks.rehearsal_steps import (
    FAILED,
    NOT_RUN,
    PASSED,
    JobProgress,
    Step,
    github_state,
    release_of,
    same_files,
    table,
    token_verifications,
)
from tasks.rehearsal_world import repository_state
from tests.helpers import commit, git


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_job_progress_says_each_start_and_end_and_keeps_the_times() -> None:
    said: list[str] = []
    clock = Clock()
    progress = JobProgress("release.yml", say=said.append, clock=clock)
    progress({"msg": "a line without a job"})
    progress({"jobID": "build", "msg": "Run step"})
    clock.now = 130.5
    progress({"jobID": "build", "msg": "more"})
    progress({"jobID": "build", "jobResult": "success"})
    progress({"jobID": "publish-testpypi", "msg": "Run step"})
    clock.now = 135.0
    progress({"jobID": "publish-testpypi", "jobResult": "failure"})
    assert said == [
        "  release.yml build: started",
        "  release.yml build: success in 30.5 s",
        "  release.yml publish-testpypi: started",
        "  release.yml publish-testpypi: failure in 4.5 s",
    ]
    assert progress.failed() == ["publish-testpypi"]
    assert progress.steps(["build", "publish-testpypi", "verify-testpypi"]) == [
        Step("release.yml build", PASSED, 30.5),
        Step("release.yml publish-testpypi", FAILED, 4.5, "failure"),
        Step("release.yml verify-testpypi", NOT_RUN),
    ]


def test_a_job_that_never_ended_failed() -> None:
    clock = Clock()
    progress = JobProgress("staging.yml", say=lambda _: None, clock=clock)
    progress({"jobID": "build", "msg": "Run step"})
    clock.now = 102.0
    assert progress.failed() == ["build"]
    assert progress.steps([]) == [Step("staging.yml build", FAILED, 2.0, "did not end")]


def test_the_table_aligns_its_columns() -> None:
    text = table([Step("prepare", PASSED, 1.04, "HEAD abc"), Step("release.yml verify-pypi")])
    assert text.splitlines() == [
        "step                     result    seconds  detail",
        "prepare                  passed        1.0  HEAD abc",
        "release.yml verify-pypi  not run",
    ]


def test_same_files_names_what_differs() -> None:
    built = {"a.whl": "1" * 64, "a.tar.gz": "2" * 64}
    assert same_files("staging", dict(built), built) is None
    assert same_files("staging", {"a.whl": "1" * 64}, built) == "staging lacks a.tar.gz"
    assert same_files("pypi", {**built, "b.whl": "3"}, built) == (
        "pypi has files the build did not make: b.whl"
    )
    assert same_files("assets", {**built, "a.whl": "f" * 64}, built) == (
        "assets has other bytes than the build for a.whl"
    )
    assert same_files("production", {}, {}) is None


def test_github_state_is_read_from_a_saved_front(tmp_path: Path) -> None:
    saved_file = tmp_path / "gh.github.json"
    assert github_state(saved_file).releases == []
    saved = {"last_id": 2, "pulls": [], "blocked_tags": [], "releases": [
        {"id": 1, "tag_name": "v1.0.0", "name": "v1.0.0", "body": "- fixed", "draft": False,
         "prerelease": False, "created_at": "t", "published_at": "t", "immutable": True,
         "make_latest": "true", "assets": [{"id": 2, "name": "a.whl", "data": "d2hlZWw=",
                                            "content_type": "x", "created_at": "t"}]}]}  # fmt: skip
    saved_file.write_text(json.dumps(saved))
    github = github_state(saved_file)
    found = release_of(github, "v1.0.0")
    assert found is not None and found.body == "- fixed" and found.assets[0].data == b"wheel"
    assert release_of(github, "v2.0.0") is None


TOLD = "verify: published with an API token: PEP 740 attestations come only with trusted ..."


def test_each_verify_that_passed_must_have_been_told_of_the_token_upload() -> None:
    said = {"verify-testpypi": f"installing\n{TOLD}", "verify-pypi": "installing"}
    rejected = [
        Step("release.yml verify-testpypi", PASSED, 5.0),
        Step("release.yml publish-pypi", NOT_RUN),
        Step("release.yml verify-pypi", NOT_RUN),  # behind the rejected gate: nothing to say
    ]
    assert token_verifications(rejected, said.__getitem__) == [
        ("verify-testpypi verified a token upload without requiring attestations", None)
    ]
    approved = [*rejected[:1], Step("release.yml verify-pypi", PASSED, 5.0)]
    assert token_verifications(approved, said.__getitem__)[1] == (
        "verify-pypi verified a token upload without requiring attestations",
        "it did not say it was verifying one",
    )
    failed = [Step("release.yml verify-testpypi", FAILED, 5.0)]
    assert token_verifications(failed, said.__getitem__) == []


def test_the_repository_is_not_as_it_was_on_another_branch_at_the_same_commit(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    git(tmp_path, "init", "--quiet", "--initial-branch", "main", str(repo))
    commit(repo, "first", files={"README.md": "one\n"})
    git(repo, "branch", "--quiet", "elsewhere")  # at the same commit
    before = repository_state(repo)
    git(repo, "switch", "--quiet", "elsewhere")
    assert repository_state(repo) != before
    git(repo, "switch", "--quiet", "main")
    assert repository_state(repo) == before
