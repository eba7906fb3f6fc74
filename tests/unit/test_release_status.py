"""tasks.status_rules: the rows of a release from what each system said, and the next step."""

from __future__ import annotations

from dataclasses import replace

import pytest

from scripts.versioning.versions import Release
from tasks.status_rules import Flow, Seen, branch_and_target, release_flow, rows, what_next

RELEASE = Release.parse("1.5.0")
WHEEL, SDIST = "agentops_accelerator-1.5.0-py3-none-any.whl", "agentops_accelerator-1.5.0.tar.gz"
FILES = {WHEEL: "a" * 64, SDIST: "b" * 64}
DONE = Seen(
    release=RELEASE,
    flow="release",
    branch="release/v1.5.0",
    target="main",
    branch_here=False,
    branch_on_origin=False,
    pr_state="MERGED",
    pr_number=7,
    tag_on_origin=True,
    tag_annotated=True,
    tag_on_target=True,
    dist=FILES,
    sums=FILES,
    staging=FILES,
    production=FILES,
    github_assets={**FILES, "SHA256SUMS": "c" * 64},
    github_exists=True,
    github_prerelease=False,
    merged_back=True,
)
NOT_STARTED = replace(
    DONE, pr_state="", pr_number=None, tag_on_origin=False, tag_annotated=None,
    tag_on_target=None, dist={}, sums=None, staging={}, production={}, github_assets={},
    github_exists=False, merged_back=False,
)  # fmt: skip


def states(seen: Seen) -> dict[str, str]:
    return {row.stage: row.state for row in rows(seen)}


@pytest.mark.parametrize(
    ("seen", "not_done", "next_step"),
    [
        pytest.param(DONE, {}, "nothing: v1.5.0 is released", id="released"),
        pytest.param(NOT_STARTED, {"branch": "missing"}, "invoke cut-release 1.5.0",
                     id="not-started"),
        pytest.param(replace(NOT_STARTED, branch_on_origin=True, pr_state="OPEN", pr_number=3),
                     {"pr": "missing"}, "gh pr merge release/v1.5.0 --merge", id="pr-open"),
        pytest.param(replace(DONE, staging={}, production={}, github_assets={},
                             github_exists=False, branch_on_origin=True, merged_back=False),
                     {"staging": "missing", "production": "missing", "github": "missing",
                      "merged": "missing", "deleted": "missing"},
                     "gh run list --workflow release.yml --branch v1.5.0",
                     id="tag-pushed-nothing-published"),
        pytest.param(replace(DONE, production={}, github_assets={}, github_exists=False),
                     {"production": "missing", "github": "missing"},
                     "approve the `release` environment",
                     id="staging-only"),
        pytest.param(replace(DONE, github_assets={}, github_exists=False),
                     {"github": "missing"}, "invoke github-release 1.5.0",
                     id="production-but-no-github-release"),
        pytest.param(replace(DONE, production={WHEEL: "d" * 64, SDIST: "b" * 64}),
                     {"production": "wrong"}, "stop the release: agentops_accelerator-1.5.0-py3-",
                     id="conflicting-bytes"),
        pytest.param(replace(DONE, tag_annotated=False), {"tag": "wrong"},
                     "fix the tag by hand before anything is published", id="lightweight-tag"),
        pytest.param(replace(DONE, merged_back=False, branch_on_origin=True),
                     {"merged": "missing", "deleted": "missing"}, "invoke finish-release 1.5.0",
                     id="not-finished"),
        pytest.param(replace(DONE, github_assets=None, github_exists=None,
                             why_unknown={"github": "gh is not installed"}),
                     {"github": "unknown"}, "nothing seen left to do; not seen: GitHub Release",
                     id="no-gh"),
        pytest.param(replace(DONE, yanked="broken wheel"), {},
                     "invoke cut-hotfix 1.5.1 (the fix forward)", id="yanked"),
    ],
)  # fmt: skip
def test_rows_and_the_next_step(seen: Seen, not_done: dict[str, str], next_step: str) -> None:
    found = states(seen)
    assert not_done.items() <= found.items()
    if seen.flow == "release" and seen.tag_on_origin:  # one stage along from DONE: the rest done
        assert {stage: state for stage, state in found.items() if state != "done"} == not_done
    assert next_step in what_next(rows(seen), seen)


def test_a_pre_release_has_no_merge_back_and_its_pr_stays_open() -> None:
    seen = replace(
        DONE, release=Release.parse("1.5.0rc1"), flow="pre-release", target="release/v1.5.0",
        pr_state="OPEN", branch_on_origin=True, github_prerelease=True,
    )  # fmt: skip
    found = states(seen)
    assert "merged" not in found and "deleted" not in found
    assert found["pr"] == "done" and found["github"] == "done"
    marked = replace(seen, github_prerelease=False)
    assert [row.detail for row in rows(marked) if row.stage == "github"] == [
        "v1.5.0rc1 is not marked pre-release"
    ]


def test_a_support_release_has_no_merge_back_into_develop() -> None:
    seen = replace(DONE, release=Release.parse("1.3.6"), flow="support", target="support/1.3")
    assert "merged" not in states(seen)


FINAL, RC = Release.parse("0.1.1"), Release.parse("0.2.0rc1")


@pytest.mark.parametrize(
    ("release", "refs", "flow"),
    [
        pytest.param(RC, {"hotfix_branch": False, "support_branch": True}, "pre-release",
                     id="a-pre-release"),
        pytest.param(FINAL, {"hotfix_branch": False, "support_branch": False}, "release",
                     id="no-line-no-hotfix"),
        pytest.param(FINAL, {"hotfix_branch": True, "support_branch": True}, "hotfix",
                     id="a-hotfix-while-support/0.1-exists"),
        pytest.param(FINAL, {"hotfix_branch": False, "support_branch": True,
                             "tag_on_main": True, "tag_on_support": True}, "release",
                     id="tagged-on-main-a-finished-hotfix"),
        pytest.param(FINAL, {"hotfix_branch": False, "support_branch": True,
                             "tag_on_main": False, "tag_on_support": True}, "support",
                     id="tagged-on-the-line-only"),
        pytest.param(FINAL, {"hotfix_branch": False, "support_branch": True,
                             "tag_on_main": False, "tag_on_support": False}, "release",
                     id="tagged-elsewhere"),
        pytest.param(FINAL, {"hotfix_branch": False, "support_branch": True,
                             "cut_from_support": True}, "support", id="cut-from-the-line"),
        pytest.param(FINAL, {"hotfix_branch": False, "support_branch": True,
                             "cut_from_support": False}, "release", id="cut-from-develop"),
        pytest.param(FINAL, {"hotfix_branch": False, "support_branch": True,
                             "older_line": True}, "support", id="not-cut-of-an-older-line"),
    ],
)  # fmt: skip
def test_release_flow(release: Release, refs: dict[str, bool], flow: str) -> None:
    assert release_flow(release, **refs) == flow


@pytest.mark.parametrize(
    ("flow", "expected"),
    [
        ("release", ("release/v0.1.1", "main")),
        ("hotfix", ("hotfix/v0.1.1", "main")),
        ("support", ("release/v0.1.1", "support/0.1")),
    ],
)
def test_branch_and_target(flow: Flow, expected: tuple[str, str]) -> None:
    assert branch_and_target(FINAL, flow) == expected
