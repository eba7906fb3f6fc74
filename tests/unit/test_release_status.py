"""tasks.status_rules: the rows of a release from what each system said, and the next step."""

from __future__ import annotations

from dataclasses import replace

import pytest

from scripts.versioning.versions import Release
from tasks.status_rules import (
    Flow,
    Seen,
    branch_and_target,
    next_step,
    release_flow,
    rows,
    what_next,
)

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
        pytest.param(FINAL, {"hotfix_branch": False, "support_branch": True}, "release",
                     id="a-line-exists-nothing-ties-the-release-to-it"),
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
        ("pre-release", ("release/v0.1.1", "release/v0.1.1")),
    ],
)
def test_branch_and_target(flow: Flow, expected: tuple[str, str]) -> None:
    assert branch_and_target(FINAL, flow) == expected


SUMS_ONLY = {"SHA256SUMS": "c" * 64}
OTHER = {WHEEL: "d" * 64, SDIST: "b" * 64}


@pytest.mark.parametrize(
    ("changes", "stage", "state", "detail"),
    [
        ({"branch_on_origin": None}, "branch", "unknown", "could not be asked"),
        ({"branch_on_origin": None, "why_unknown": {"branch": "origin is silent"}}, "branch",
         "unknown", "origin is silent"),
        ({"branch_on_origin": True, "branch_here": True}, "branch", "done",
         "release/v1.5.0 here and on origin"),
        ({"branch_on_origin": True}, "branch", "done", "release/v1.5.0 on origin"),
        ({}, "branch", "done", "release/v1.5.0 was cut; v1.5.0 exists"),
        ({"tag_on_origin": False}, "branch", "missing", "no release/v1.5.0 on origin"),
        ({}, "pr", "done", "#7 into main merged"),
        ({"pr_state": "OPEN", "merged_in_git": True, "tag_on_origin": False}, "pr", "done",
         "#7 into main merged"),
        ({"pr_state": "", "pr_number": None}, "pr", "done", "the PR into main merged"),
        ({"pr_state": "OPEN", "tag_on_origin": False}, "pr", "missing",
         "#7 into main open, not merged yet"),
        ({"pr_state": "OPEN", "flow": "pre-release", "tag_on_origin": False}, "pr", "done",
         "#7 open (a pre-release is tagged before merging)"),
        ({"pr_state": "CLOSED", "tag_on_origin": False}, "pr", "wrong",
         "#7 was closed without merging"),
        ({"pr_state": "", "pr_number": None, "tag_on_origin": False}, "pr", "missing",
         "no PR from release/v1.5.0 into main"),
        ({"pr_state": None, "tag_on_origin": False}, "pr", "unknown", "could not be asked"),
        ({"tag_on_origin": None}, "tag", "unknown", "could not be asked"),
        ({"tag_on_origin": False}, "tag", "missing", "no v1.5.0 on origin"),
        ({"tag_annotated": False}, "tag", "wrong", "v1.5.0 is a lightweight tag, not annotated"),
        ({"tag_on_target": False}, "tag", "wrong", "v1.5.0 is not on main"),
        ({}, "tag", "done", "v1.5.0 annotated, on main"),
        ({"dist_problem": "dist/x changed"}, "dist", "wrong", "dist/x changed"),
        ({}, "dist", "done", f"{WHEEL}, {SDIST}, as SHA256SUMS says"),
        ({"dist": {}}, "dist", "missing", "no 1.5.0 files in dist/ here (CI builds them)"),
        ({"staging": None}, "staging", "unknown", "could not be asked"),
        ({"staging": {}}, "staging", "missing", "no 1.5.0 files"),
        ({"staging": OTHER}, "staging", "wrong",
         f"{WHEEL} on staging index has other bytes than in SHA256SUMS "
         f"(sha256 {'d' * 12}… != {'a' * 12}…)"),
        ({"staging": {WHEEL: ""}}, "staging", "wrong",
         f"only {WHEEL}: a wheel and an sdist are expected"),
        ({}, "staging", "done", f"{WHEEL}, {SDIST}; sha256 agree with SHA256SUMS"),
        ({"sums": None}, "staging", "done", f"{WHEEL}, {SDIST}"),
        ({"sums": {"agentops_accelerator-1.4.0.tar.gz": "e" * 64}}, "staging", "done",
         f"{WHEEL}, {SDIST}"),
        ({}, "production", "done",
         f"{WHEEL}, {SDIST}; sha256 agree with the staging index and SHA256SUMS"),
        ({"sums": None, "production": OTHER}, "production", "wrong",
         f"{WHEEL} on production index has other bytes than in the staging index "
         f"(sha256 {'d' * 12}… != {'a' * 12}…)"),
        ({"project_status": {"production": ("quarantined", "")}, "production": None},
         "production", "wrong",
         "the project is quarantined on the production index: it serves and takes no file"),
        ({"project_status": {"staging": ("archived", "no more releases")}, "staging": {}},
         "staging", "wrong", "no 1.5.0 files, and the project is archived on the staging index "
         "(no more releases): it takes none"),
        ({"project_status": {"staging": ("deprecated", "")}, "staging": {}}, "staging",
         "missing", "no 1.5.0 files"),
        ({"project_status": {"production": ("deprecated", "use other")}}, "production", "done",
         f"{WHEEL}, {SDIST}; sha256 agree with the staging index and SHA256SUMS; the project is "
         "deprecated on the production index (use other)"),
        ({"production": {WHEEL: "a" * 64}, "first_upload": {"production": "2026-11-20T10:00:00Z"},
          "today": "2026-12-04"}, "production", "wrong",
         f"only {WHEEL}: a wheel and an sdist are expected; files can be added until 2026-12-04"),
        ({"production": {WHEEL: "a" * 64}, "first_upload": {"production": "2026-11-20T10:00:00Z"},
          "today": "2026-12-05"}, "production", "wrong",
         f"only {WHEEL}: a wheel and an sdist are expected; since 2026-12-04 no file can be "
         "added: release a new version"),
        ({"production": {WHEEL: "a" * 64}, "first_upload": {"staging": "2026-11-20T10:00:00Z"},
          "today": "2026-12-05"}, "production", "wrong",
         f"only {WHEEL}: a wheel and an sdist are expected"),
        ({"production": {WHEEL: "a" * 64}, "first_upload": {"production": "2026-11-20T10:00:00Z"}},
         "production", "wrong", f"only {WHEEL}: a wheel and an sdist are expected"),
        ({"github_exists": None}, "github", "unknown", "could not be asked"),
        ({"github_exists": False, "github_assets": {}}, "github", "missing",
         "no GitHub Release v1.5.0"),
        ({"github_prerelease": True}, "github", "wrong", "v1.5.0 is marked pre-release"),
        ({"github_assets": {WHEEL: "", **SUMS_ONLY}}, "github", "wrong",
         f"assets are SHA256SUMS, {WHEEL}"),
        ({"github_assets": FILES}, "github", "wrong", f"assets are {WHEEL}, {SDIST}"),
        ({"github_assets": {}}, "github", "wrong", "assets are no files"),
        ({}, "github", "done", "3 assets"),
        ({"github_immutable": True}, "github", "done", "3 assets, immutable"),
        ({"github_draft": True, "github_assets": {WHEEL: "a" * 64}}, "github", "draft",
         "v1.5.0 is a draft (1 assets), not published"),
        ({"github_assets": {**FILES, WHEEL: "d" * 64, "SHA256SUMS": "c" * 64}}, "github",
         "wrong", f"other bytes than SHA256SUMS for {WHEEL}"),
        ({"sums": None, "github_assets": {**FILES, WHEEL: "d" * 64, "SHA256SUMS": "c" * 64}},
         "github", "done", "3 assets"),
        ({"github_assets": {WHEEL: "d" * 64, SDIST: "e" * 64, "SHA256SUMS": "c" * 64}},
         "github", "wrong", f"other bytes than SHA256SUMS for {WHEEL}, {SDIST}"),
        ({"github_assets": {**FILES, WHEEL: "", "SHA256SUMS": "c" * 64}}, "github", "done",
         "3 assets"),
        ({"merged_back": None}, "merged", "unknown", "could not be asked"),
        ({}, "merged", "done", "v1.5.0 is in develop"),
        ({"merged_back": False}, "merged", "missing", "develop does not hold v1.5.0 yet"),
        ({"branch_on_origin": None}, "deleted", "unknown", "could not be asked"),
        ({"tag_on_origin": False}, "deleted", "missing", "after v1.5.0: not tagged yet"),
        ({"branch_on_origin": True}, "deleted", "missing", "release/v1.5.0 is still on origin"),
        ({"branch_here": True}, "deleted", "missing", "release/v1.5.0 is still here"),
        ({}, "deleted", "done", "no release/v1.5.0 here or on origin"),
    ],
)  # fmt: skip
def test_each_row_says_why(changes: dict[str, object], stage: str, state: str, detail: str) -> None:
    found = {row.stage: (row.state, row.detail) for row in rows(replace(DONE, **changes))}  # type: ignore[arg-type]
    assert found[stage] == (state, detail)


def test_a_pre_release_on_github_says_so() -> None:
    seen = replace(DONE, release=Release.parse("1.5.0rc1"), flow="pre-release",
                   github_prerelease=True)  # fmt: skip
    assert [row.detail for row in rows(seen) if row.stage == "github"] == ["3 assets, pre-release"]
    assert [row.label for row in rows(DONE)] == [
        "release branch", "pull request", "tag", "build artifacts (dist/)", "staging index",
        "production index", "GitHub Release", "merged back into develop", "release branch deleted",
    ]  # fmt: skip


RUNS = "gh run list --workflow release.yml --branch v1.5.0"


@pytest.mark.parametrize(
    ("stage", "flow", "target", "command"),
    [
        ("branch", "release", "main", "invoke cut-release 1.5.0"),
        ("branch", "hotfix", "main", "invoke cut-hotfix 1.5.0"),
        ("branch", "support", "support/1.5", "git switch support/1.5 && invoke cut-release 1.5.0"),
        ("pr", "release", "main", "gh pr merge release/v1.5.0 --merge (once reviewed and green)"),
        ("pr", "hotfix", "main", "gh pr merge hotfix/v1.5.0 --merge (once reviewed and green)"),
        ("tag", "support", "support/1.5",
         "git switch support/1.5 && git pull --ff-only && invoke tag 1.5.0"),
        ("dist", "release", "main", "nox -s build"),
        ("staging", "release", "main",
         f"{RUNS} (release.yml publishes to staging on the tag; re-run it if it failed)"),
        ("production", "release", "main",
         f"{RUNS} (approve the `release` environment on the run's page)"),
        ("github", "release", "main",
         "invoke github-release 1.5.0 (with the release run's dist/ files)"),
        ("merged", "release", "main", "invoke finish-release 1.5.0"),
        ("deleted", "release", "main", "invoke finish-release 1.5.0"),
    ],
)  # fmt: skip
def test_next_step_names_one_command(stage: str, flow: Flow, target: str, command: str) -> None:
    assert next_step(stage, RELEASE, target=target, flow=flow) == command


def test_the_next_step_of_a_pre_release_cuts_its_final() -> None:
    step = next_step("branch", Release.parse("1.5.0rc1"), target="main", flow="pre-release")
    assert step == "invoke cut-release 1.5.0"


def test_what_next_names_the_hotfix_branch_of_a_hotfix() -> None:
    seen = replace(NOT_STARTED, flow="hotfix", branch="hotfix/v1.5.0", branch_on_origin=True,
                   pr_state="OPEN", pr_number=3)  # fmt: skip
    assert what_next(rows(seen), seen) == (
        "gh pr merge hotfix/v1.5.0 --merge (once reviewed and green)"
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"production": OTHER},
         f"stop the release: {WHEEL} on production index has other bytes than in the staging index "
         f"(sha256 {'d' * 12}… != {'a' * 12}…); `invoke yank 1.5.0 --reason '...'`, then fix "
         "forward with `invoke cut-hotfix 1.5.1`"),
        ({"tag_on_target": False},
         "fix the tag by hand before anything is published: v1.5.0 is not on main"),
        ({"dist_problem": "dist/x changed"},
         "nox -s build (dist/ does not match its SHA256SUMS)"),
        ({"pr_state": "CLOSED", "tag_on_origin": False, "branch_on_origin": True},
         "fix by hand: #7 was closed without merging"),
        ({"tag_on_origin": None, "branch_on_origin": True},
         "invoke finish-release 1.5.0 (not seen: tag)"),
        ({"merged_back": None}, "nothing seen left to do; not seen: merged back into develop"),
        ({"staging": None, "production": {}},
         f"{RUNS} (approve the `release` environment on the run's page) (not seen: staging index)"),
        ({"dist": {}}, "nothing: v1.5.0 is released"),
        ({"tag_on_origin": None, "staging": None, "branch_on_origin": True},
         "invoke finish-release 1.5.0 (not seen: tag, staging index)"),
        ({"merged_back": None, "staging": None},
         "nothing seen left to do; not seen: staging index, merged back into develop"),
        ({"staging": OTHER},
         f"stop the release: {WHEEL} on staging index has other bytes than in SHA256SUMS "
         f"(sha256 {'d' * 12}… != {'a' * 12}…); `invoke yank 1.5.0 --reason '...'`, then fix "
         "forward with `invoke cut-hotfix 1.5.1`"),
        ({"github_assets": FILES},
         f"mend the GitHub Release by hand: assets are {WHEEL}, {SDIST} (`gh release upload "
         "v1.5.0 dist/*`, `gh release edit v1.5.0`)"),
        ({"github_prerelease": True},
         "mend the GitHub Release by hand: v1.5.0 is marked pre-release (`gh release upload "
         "v1.5.0 dist/*`, `gh release edit v1.5.0`)"),
        ({"github_prerelease": True, "github_immutable": True},
         "the GitHub Release v1.5.0 is immutable: v1.5.0 is marked pre-release; it can never "
         "change, so release a new version (`invoke cut-hotfix 1.5.1`)"),
        ({"project_status": {"production": ("quarantined", "malware")}},
         "ask the index's maintainers (nothing here can fix it): the project is quarantined on "
         "the production index (malware): it serves and takes no file"),
        ({"project_status": {"staging": ("archived", "")}, "staging": {}},
         "ask the index's maintainers (nothing here can fix it): no 1.5.0 files, and the project "
         "is archived on the staging index: it takes none"),
        ({"github_draft": True, "merged_back": False},
         "invoke github-release 1.5.0 (with the release run's dist/ files)"),
        ({"flow": "support", "target": "support/1.5", "tag_on_origin": False,
          "tag_annotated": None, "tag_on_target": None},
         "git switch support/1.5 && invoke cut-release 1.5.0"),
    ],
)  # fmt: skip
def test_what_next_says_the_first_thing_to_do(changes: dict[str, object], expected: str) -> None:
    seen = replace(DONE, **changes)  # type: ignore[arg-type]
    assert what_next(rows(seen), seen) == expected
