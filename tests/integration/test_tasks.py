"""The invoke tasks, run for real in temporary repositories with a bare origin and a gh stand-in."""

from __future__ import annotations

import datetime
import json
import shutil
import sys
from pathlib import Path

import pytest

from scripts.github_front.front import GitHubFront
from scripts.versioning import changelog
from scripts.versioning.versions import Release
from tests.helpers import commit, git, run_tool
from tests.integration.worlds import (
    World,
    assert_changelogs_true,
    assert_refused,
    changelog_on,
    run_agreeing_with_status,
)

pytestmark = pytest.mark.integration

BAD_VERSIONS = ["0.2", "release-0.2.0", "01.2.3", "0.2.0.dev1", "", "0.2.0; rm -rf ~", "vv0.2.0"]


# --- cut-release -------------------------------------------------------------------------------


def test_cut_release_branches_dates_the_changelog_pushes_and_opens_the_pr(world: World) -> None:
    unreleased = changelog.unreleased_entries((world.work / "CHANGELOG.md").read_text())
    code, output = world.invoke("cut-release", "v0.2.0")
    assert code == 0, output
    assert git(world.work, "branch", "--show-current") == "release/v0.2.0"
    assert git(world.work, "log", "-1", "--format=%s") == "chore: prepare release 0.2.0"
    assert git(world.origin, "rev-parse", "release/v0.2.0") == git(world.work, "rev-parse", "HEAD")
    assert git(world.work, "rev-parse", "HEAD~1") == git(world.origin, "rev-parse", "develop")
    text = (world.work / "CHANGELOG.md").read_text()
    assert changelog.unreleased_entries(text) == []
    today = datetime.datetime.now(tz=datetime.UTC).date().isoformat()
    assert f"## [0.2.0] - {today}" in text
    for entry in unreleased:
        assert entry in changelog.section_text(text, Release.parse("0.2.0"))
    assert "compare/v0.2.0...HEAD" in text
    [pull] = world.github().pulls
    assert (pull.base, pull.head, pull.title) == ("main", "release/v0.2.0", "Release v0.2.0")
    assert "Release v0.2.0 checklist" in pull.body
    assert git(world.work, "status", "--porcelain") == ""


def test_cut_release_dry_run_prints_every_step_and_changes_nothing(world: World) -> None:
    before = world.state()
    code, output = world.invoke("cut-release", "0.2.0", "--dry-run")
    assert code == 0, output
    for step in (
        "git switch --no-track -c release/v0.2.0",
        "git commit -m",
        "git push",
        "gh api --method POST 'repos/{owner}/{repo}/pulls' -f base=main -f head=release/v0.2.0",
    ):
        assert step in output
    assert "## [0.2.0] - " in output
    assert world.state() == before
    assert world.gh_calls() == []


# The others ("0.2", "01.2.0", "vv0.2.0", a shell command, "") are rows of tests/faults.
@pytest.mark.parametrize("version", ["release-0.2.0", "0.2.0.dev1"])
def test_cut_release_refuses_malformed_versions(world: World, version: str) -> None:
    assert_refused(world, ["cut-release", version], "expected X.Y.Z")


# --- tag --------------------------------------------------------------------------------------


def test_tag_creates_an_annotated_tag_from_the_changelog_and_pushes_it_alone(
    released: World,
) -> None:
    git(released.work, "tag", "scratch")  # a local tag that must not be pushed
    code, output = released.invoke("tag", "0.2.0")
    assert code == 0, output
    assert git(released.work, "cat-file", "-t", "v0.2.0") == "tag"
    message = git(released.work, "tag", "-l", "--format=%(contents)", "v0.2.0")
    section = changelog.section_text(
        (released.work / "CHANGELOG.md").read_text(), Release.parse("0.2.0")
    )
    assert message.startswith("Release 0.2.0")
    assert section in message
    remote_tags = git(released.origin, "tag", "--list").splitlines()
    assert remote_tags == ["v0.1.0", "v0.2.0"]


def test_tag_dry_run_changes_nothing(released: World) -> None:
    before = released.state()
    code, output = released.invoke("tag", "0.2.0", "--dry-run")
    assert code == 0, output
    assert "git push origin refs/tags/v0.2.0" in output
    assert released.state() == before


@pytest.mark.parametrize("version", [v for v in BAD_VERSIONS if v != "vv0.2.0"])  # a faults row
def test_tag_refuses_malformed_versions(released: World, version: str) -> None:
    assert_refused(released, ["tag", version], "expected X.Y.Z")


def test_tag_refuses_off_main(released: World) -> None:
    git(released.work, "switch", "-q", "develop")
    assert_refused(released, ["tag", "0.2.0"], "0.2.0 is tagged on main: run `git switch main`")


# --- pre-releases ------------------------------------------------------------------------------


def test_a_pre_release_is_tagged_on_its_release_branch_with_its_finals_notes(
    cut: World, indexes: dict[str, Path | str]
) -> None:
    _, step = run_agreeing_with_status(cut, indexes, "tag", "0.2.0rc1", version="0.2.0rc1")
    assert step.startswith("gh run list --workflow release.yml --branch v0.2.0rc1")
    assert git(cut.origin, "cat-file", "-t", "v0.2.0rc1") == "tag"
    assert git(cut.origin, "rev-parse", "v0.2.0rc1^{commit}") == git(
        cut.origin, "rev-parse", "release/v0.2.0"
    )
    message = git(cut.work, "tag", "-l", "--format=%(contents)", "v0.2.0rc1")
    release = Release.parse("0.2.0")
    section = changelog.section_text((cut.work / "CHANGELOG.md").read_text(), release)
    assert message.startswith("Pre-release 0.2.0rc1") and section in message
    # The rc shows a bug: its fix, with its entry, goes into the release's own section.
    text = changelog.with_section_entry(
        (cut.work / "CHANGELOG.md").read_text(), release, "Found in 0.2.0rc1."
    )
    commit(cut.work, "fix: found in rc1", files={"CHANGELOG.md": text})
    git(cut.work, "push", "-q", "origin", "release/v0.2.0")
    # The next pre-release, then the final on main after the merge, follow it.
    run_agreeing_with_status(cut, indexes, "tag", "0.2.0rc2", version="0.2.0rc2")
    rc2 = git(cut.work, "tag", "-l", "--format=%(contents)", "v0.2.0rc2")
    assert "- Found in 0.2.0rc1." in rc2
    cut.merge_release_into_main("0.2.0")
    run_agreeing_with_status(cut, indexes, "tag", "0.2.0", version="0.2.0")
    assert git(cut.origin, "tag", "--list").splitlines() == [
        "v0.1.0", "v0.2.0", "v0.2.0rc1", "v0.2.0rc2",
    ]  # fmt: skip
    run_agreeing_with_status(cut, indexes, "finish-release", "0.2.0", version="0.2.0")
    assert_changelogs_true(cut, {"main": [], "develop": []})
    released = changelog.section_entries(changelog_on(cut, "develop"), release)
    assert "- Found in 0.2.0rc1." in released


@pytest.mark.parametrize("task", ["cut-release", "finish-release"])
def test_tasks_of_finals_refuse_a_pre_release(world: World, task: str) -> None:
    assert_refused(
        world, [task, "0.3.0rc1"], f"{task}: error: this task takes the final X.Y.Z (0.3.0)"
    )


# --- finish-release ---------------------------------------------------------------------------


def test_finish_release_merges_main_into_develop_and_deletes_the_branch(released: World) -> None:
    code, output = released.invoke("tag", "0.2.0")
    assert code == 0, output
    code, output = released.invoke("finish-release", "0.2.0")
    assert code == 0, output
    develop = git(released.origin, "rev-parse", "develop")
    assert git(released.work, "merge-base", "--is-ancestor", "v0.2.0", develop) == ""
    assert "release/v0.2.0" not in git(released.origin, "branch", "--list")
    assert "release/v0.2.0" not in git(released.work, "branch", "--list")


def test_finish_release_refuses_before_the_tag(released: World) -> None:
    assert_refused(released, ["finish-release", "0.2.0"], "tag v0.2.0 is not on origin")


def test_finish_release_rolls_back_when_develop_cannot_be_pushed(released: World) -> None:
    assert released.invoke("tag", "0.2.0")[0] == 0
    git(released.work, "fetch", "-q", "--no-tags", "origin")
    released.deny_pushes("refs/heads/develop")
    before = released.state()
    code, output = released.invoke("finish-release", "0.2.0")
    assert code == 1
    assert "nothing reached origin" in output
    assert released.state() == before


# --- check-changelog --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "labels", "code", "message"),
    [
        pytest.param({"src/agentops/x.py": "x = 1\n"}, "", 1, "adds no entry", id="src-no-entry"),
        pytest.param({"pyproject.toml": "# edited\n"}, "", 1, "pyproject.toml", id="pyproject"),
        pytest.param(
            {"src/agentops/x.py": "x = 1\n"}, "bug,no-changelog", 0, "skipped", id="label"
        ),
        pytest.param({"docs/notes.md": "x\n"}, "", 0, "no shipped file changed", id="docs-only"),
    ],
)
def test_check_changelog(
    world: World, files: dict[str, str], labels: str, code: int, message: str
) -> None:
    if "pyproject.toml" in files:
        files = {
            "pyproject.toml": (world.work / "pyproject.toml").read_text() + files["pyproject.toml"]
        }
    git(world.work, "switch", "-q", "-c", "feature/x")
    commit(world.work, "a change", files=files)
    result, output = world.invoke("check-changelog", "--base", "origin/develop", "--labels", labels)
    assert result == code, output
    assert message in output


def test_check_changelog_accepts_a_new_entry(world: World) -> None:
    git(world.work, "switch", "-q", "-c", "feature/x")
    path = world.work / "CHANGELOG.md"
    text = path.read_text().replace(
        "## [Unreleased]\n\n### Added\n\n", "## [Unreleased]\n\n### Added\n\n- `x`.\n", 1
    )
    commit(world.work, "a change", files={"src/agentops/x.py": "x = 1\n", "CHANGELOG.md": text})
    code, output = world.invoke("check-changelog")
    assert code == 0, output
    assert "1 new entry" in output


def test_check_changelog_warns_about_the_history_and_passes(world: World) -> None:
    git(world.work, "switch", "-q", "-c", "feature/x")
    path = world.work / "CHANGELOG.md"
    text = path.read_text().replace(
        "## [Unreleased]\n\n### Added\n\n", "## [Unreleased]\n\n### Added\n\n- `x`.\n", 1
    )
    text = text.replace(
        "\n[Unreleased]: ", "\n## [0.0.1] 2020-01-01\n\n- Old.\n\n[Unreleased]: ", 1
    )
    commit(world.work, "a change", files={"src/agentops/x.py": "x = 1\n", "CHANGELOG.md": text})
    code, output = world.invoke("check-changelog")
    assert code == 0, output
    [warning] = [line for line in output.splitlines() if "warning" in line]
    assert warning.startswith("check-changelog: warning: CHANGELOG.md: line ")
    assert warning.endswith("[0.0.1] has '2020-01-01' where ' - YYYY-MM-DD' belongs")
    # `x`, and `Old.`: a release's section the base (no release yet) did not have.
    assert "2 new entries" in output


# --- doctor, setup-github, ci-matrix ----------------------------------------------------------


def test_doctor_reports_a_healthy_repository(world: World) -> None:
    code, output = world.invoke("doctor")
    assert code == 0, output
    assert "gh auth" in output and "authenticated" in output  # `gh api user` answered
    assert "release tags" in output
    assert "latest v0.1.0" in output
    assert "0.1.0 (release)" in output
    commit(world.work, "one more")
    code, output = world.invoke("doctor")
    assert "0.1.1.dev1 (dev)" in output


@pytest.mark.parametrize(
    ("allowed", "state", "detail"),
    [
        (True, "ok", "acme/agentops: cut-release.yml can open the release PR"),
        (False, "warn", "acme/agentops: GitHub Actions may not create pull requests, so "
         "cut-release.yml cannot open the release PR  fix: invoke setup-github (or Settings > "
         "Actions > General > Allow GitHub Actions to create and approve pull requests)"),
    ],
    ids=["allowed", "not-allowed"],
)  # fmt: skip
def test_doctor_checks_that_actions_may_open_the_release_pr(
    world: World, allowed: bool, state: str, detail: str
) -> None:
    assert world.front is not None
    world.front.repository = "acme/agentops"  # what origin's URL names, below
    world.gh_env["GH_REPO"] = f"{world.front.host}/acme/agentops"
    world.front.workflow_permissions = {
        "default_workflow_permissions": "read", "can_approve_pull_request_reviews": allowed,
    }  # fmt: skip
    git(world.work, "remote", "set-url", "origin", "https://github.com/acme/agentops.git")
    code, output = world.invoke("doctor")
    assert code == 0, output
    [row] = [line for line in output.splitlines() if line.startswith("actions may open PRs")]
    assert row.split()[4] == state
    assert " ".join(row.split()[5:]) == " ".join(detail.split())
    asked = [r["path"] for r in world.front.requests]
    assert "/repos/acme/agentops/actions/permissions/workflow" in asked


def test_doctor_runs_where_the_project_cannot_be_installed(world: World, tmp_path: Path) -> None:
    # In a shallow clone `uv run` cannot build the project (setuptools-scm refuses to guess its
    # version): the guide's doctor command needs only the runners, and says what is wrong.
    commit(world.work, "one more on develop")  # a shallow clone of it cannot see v0.1.0
    git(world.work, "push", "-q", "origin", "develop")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth=1", "--branch", "develop", f"file://{world.origin}",
        str(shallow))  # fmt: skip
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or "uv"
    result = run_tool(shallow, uv, "run", "--only-group", "runners", "invoke", "doctor")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    rows = {line.split("  ")[0]: line for line in output.splitlines()}
    assert (
        "FAIL" in rows["full history"]
        and "fix: git fetch --unshallow --tags" in rows["full history"]
    )
    assert "fix: git fetch --unshallow --tags" in rows["version"]
    assert output.rstrip().endswith("doctor: error: blocked by: full history, version")


def test_setup_github_dry_run_prints_each_call_with_its_payload(world: World) -> None:
    code, output = world.invoke(
        "setup-github", "--repo", "acme/agentops", "--reviewers", "alice", "--dry-run"
    )
    assert code == 0, output
    assert world.gh_calls() == []
    assert "gh api --method PUT repos/acme/agentops/environments/release --input -" in output
    assert "gh api --method POST repos/acme/agentops/rulesets --input -" in output
    assert "refs/heads/release/*" in output and "refs/tags/v*" in output
    assert "gh api --method PUT repos/acme/agentops/immutable-releases" in output
    assert '"type": "non_fast_forward"' in output


def test_setup_github_makes_rulesets_and_the_release_environment_through_the_real_gh(
    world: World, github_front: GitHubFront, real_gh: dict[str, str]
) -> None:
    front, repo = github_front, github_front.repository
    front.users.update({"alice": 1001, "bob": 1002})
    front.immutable_releases = False
    # What an older setup left: a deployment policy of main, a ruleset of the release branches.
    front.environments["release"] = {"name": "release", "id": 90}
    front.policies["release"] = [{"id": 91, "name": "main", "type": "branch"}]
    front.rulesets.append({"id": 92, "name": "release branches", "enforcement": "active"})
    code, output = world.invoke("setup-github", "--repo", repo, "--reviewers", "alice,bob",
                                **real_gh)  # fmt: skip
    assert code == 0, output
    release = front.environments["release"]
    assert release["reviewers"] == [{"type": "User", "id": 1001}, {"type": "User", "id": 1002}]
    assert release["prevent_self_review"] is True
    assert "self-review refused" in output
    assert [(p["name"], p["type"]) for p in front.policies["release"]] == [("v*", "tag")]
    rulesets = {ruleset["name"]: ruleset for ruleset in front.rulesets}
    assert sorted(rulesets) == ["develop", "main", "release branches", "release tags"]
    assert rulesets["release branches"]["id"] == 92  # updated, not made twice
    rules = {rule["type"]: rule.get("parameters") for rule in rulesets["main"]["rules"]}
    assert [c["context"] for c in rules["required_status_checks"]["required_status_checks"]] == [
        "Lint", "Verify from the staging index"
    ]  # fmt: skip
    assert rules["pull_request"]["required_approving_review_count"] == 1
    assert set(rules) >= {"deletion", "non_fast_forward"}
    tags = rulesets["release tags"]
    assert tags["conditions"]["ref_name"]["include"] == ["refs/tags/v*"]
    assert {rule["type"] for rule in tags["rules"]} == {"creation", "update", "deletion"}
    assert [actor["actor_id"] for actor in tags["bypass_actors"]] == [4, 5]  # maintain, admin
    assert front.immutable_releases is True
    assert front.workflow_permissions["can_approve_pull_request_reviews"] is True
    assert "setup-github: main requires Lint, Verify from the staging index" in output
    before = (dict(front.environments), list(front.rulesets), dict(front.policies))
    code, output = world.invoke("setup-github", "--repo", repo, "--reviewers", "alice", **real_gh)
    assert code == 0, output
    assert [r["id"] for r in front.rulesets] == [r["id"] for r in before[1]]
    assert front.policies == before[2]
    assert front.environments["release"]["prevent_self_review"] is False
    assert "self-review allowed: name two or more --reviewers to refuse it" in output


def test_setup_github_refuses_a_malformed_repo(world: World) -> None:
    assert_refused(world, ["setup-github", "--repo", "acme", "--dry-run"], "OWNER/NAME")


def test_ci_matrix_prints_the_noxfile_versions(world: World, tmp_path: Path) -> None:
    output_file = tmp_path / "github_output"
    code, output = world.invoke("ci-matrix", GITHUB_OUTPUT=str(output_file))
    assert code == 0, output
    assert json.loads(output.strip().splitlines()[-1]) == ["3.11", "3.12", "3.13"]
    assert output_file.read_text() == 'python=["3.11", "3.12", "3.13"]\n'


# --- the command line ------------------------------------------------------------------------


def test_h_is_help_for_every_task_never_an_option() -> None:
    from tasks import ns

    for context in ns.to_contexts():
        assert "-h" not in context.flags, f"{context.name} gives -h to an option"


@pytest.mark.parametrize(
    "args",
    [
        ["rehearse-release", "9.9.9", "-h"],  # -h used to mean --hotfix here
        ["rehearse-release", "-h"],  # where invoke would take it for the version
        ["tag", "--help"],
        ["doctor", "-h"],
    ],
    ids=["after-the-version", "in-the-version's-place", "long", "no-arguments"],
)
def test_h_shows_the_tasks_help(world: World, args: list[str]) -> None:
    before = world.state()
    code, output = world.invoke(*args)
    assert code == 0, output
    assert output.startswith(f"Usage: inv[oke] [--core-opts] {args[0]} ")
    assert "Docstring:" in output
    assert world.state() == before


def test_check_changelog_takes_a_release_pr_into_main(cut: World) -> None:
    # The release PR moves [Unreleased] into its section: what it brings into main is there.
    commit(cut.work, "fix: a release fix", files={"src/agentops/x.py": "x = 1\n"})
    code, output = cut.invoke("check-changelog", "--base", "origin/main")
    assert code == 0, output
    entries = changelog.section_entries(
        (cut.work / "CHANGELOG.md").read_text(), Release.parse("0.2.0")
    )
    assert f"check-changelog: {len(entries)} new entries" in output


def test_publish_says_where_to_upload_or_refuses(world: World) -> None:
    assert_refused(world, ["publish"], "say where to upload: --target testpypi, pypi, local")
