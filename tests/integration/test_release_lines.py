"""Release lines beside develop's, run for real: hotfixes of main's latest release and maintenance
lines support/X.Y, in repositories with a bare origin and the gh stand-in."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import pytest

from scripts.github_front.model import Failure
from scripts.versioning import changelog
from scripts.versioning.versions import Release
from tests.helpers import commit, git, run_tool
from tests.integration.worlds import (
    World,
    assert_changelogs_true,
    assert_refused,
    changelog_on,
    fake_dist,
    run_agreeing_with_status,
    status,
)

pytestmark = pytest.mark.integration

TODAY = datetime.datetime.now(tz=datetime.UTC).date().isoformat()


def last_pull(world: World) -> tuple[str, str, str, str]:
    """The pull request opened last on GitHub: its base, head, title and body."""
    pull = world.github().pulls[-1]
    return pull.base, pull.head, pull.title, pull.body


def fix_with_entry(world: World, branch: str, version: str, entry: str) -> None:
    """Commit a fix on BRANCH with ENTRY under the started [VERSION] section, and push it."""
    git(world.work, "switch", "-q", branch)
    text = (world.work / "CHANGELOG.md").read_text()
    heading = f"## [{version}] - {TODAY}\n\n### Fixed\n\n"
    assert heading in text
    files = {
        "CHANGELOG.md": text.replace(heading, f"{heading}- {entry}\n", 1),
        "src/agentops/fixed.txt": "the fix\n",
    }
    commit(world.work, f"fix: {entry}", files=files)
    git(world.work, "push", "-q", "origin", branch)


def merge_into(world: World, branch: str, target: str) -> None:
    """What merging BRANCH's PR into TARGET on GitHub does; TARGET is left checked out."""
    git(world.work, "switch", "-q", target)
    git(world.work, "pull", "-q", "--ff-only", "origin", target)
    git(world.work, "merge", "-q", "--no-ff", "--no-edit", branch)
    git(world.work, "push", "-q", "origin", target)


def release_on_develop(world: World, version: str) -> None:
    """The usual release of VERSION: cut from develop, merged, tagged on main, finished."""
    git(world.work, "switch", "-q", "develop")
    text = changelog.with_unreleased_entry(
        (world.work / "CHANGELOG.md").read_text(), f"Work for {version}."
    )
    commit(world.work, f"feat: work for {version}", files={"CHANGELOG.md": text})
    git(world.work, "push", "-q", "origin", "develop")
    for args in (["cut-release", version],):
        code, output = world.invoke(*args)
        assert code == 0, output
    world.merge_release_into_main(version)
    for args in (["tag", version], ["finish-release", version]):
        code, output = world.invoke(*args)
        assert code == 0, output


# --- hotfixes ----------------------------------------------------------------------------------


def test_a_hotfix_goes_from_mains_latest_release_to_its_tag_while_develop_moves_on(
    world: World, indexes: dict[str, Path | str]
) -> None:
    # develop holds unreleased work, and release/v0.2.0 is already tagged 0.2.0rc1 elsewhere.
    code, output = world.invoke("cut-release", "0.2.0")
    assert code == 0, output
    code, output = world.invoke("tag", "0.2.0rc1")
    assert code == 0, output
    git(world.work, "switch", "-q", "develop")

    code, output = world.invoke("cut-hotfix", "0.1.1")
    assert code == 0, output
    assert git(world.work, "branch", "--show-current") == "hotfix/v0.1.1"
    assert git(world.work, "rev-parse", "HEAD~1") == git(world.work, "rev-parse", "v0.1.0^{}")
    assert git(world.origin, "rev-parse", "hotfix/v0.1.1") == git(world.work, "rev-parse", "HEAD")
    text = (world.work / "CHANGELOG.md").read_text()
    assert f"## [0.1.1] - {TODAY}\n\n### Fixed\n\n" in text
    base, head, title, body = last_pull(world)
    assert (base, head, title) == ("main", "hotfix/v0.1.1", "Hotfix v0.1.1")
    assert "hotfix/v0.1.1" in body

    # No entry yet: the tag says so. With the fix and its entry merged into main, it is tagged.
    merge_into(world, "hotfix/v0.1.1", "main")
    assert_refused(world, ["tag", "0.1.1"], "the [0.1.1] section has no '- ' entries")
    fix_with_entry(world, "hotfix/v0.1.1", "0.1.1", "The config is read again.")
    git(world.work, "switch", "-q", "hotfix/v0.1.1")
    assert_refused(world, ["tag", "0.1.1"], "a hotfix is tagged on main, after its PR is merged")
    merge_into(world, "hotfix/v0.1.1", "main")
    code, output = world.invoke("tag", "0.1.1")
    assert code == 0, output
    assert git(world.origin, "cat-file", "-t", "v0.1.1") == "tag"
    message = git(world.work, "tag", "-l", "--format=%(contents)", "v0.1.1")
    assert "- The config is read again." in message

    # Meanwhile develop has unreleased work of its own, and gains one more entry: merging main
    # back, git puts the hotfix's lines and develop's side by side in the CHANGELOG.
    git(world.work, "switch", "-q", "develop")
    unreleased = changelog.unreleased_entries((world.work / "CHANGELOG.md").read_text())
    assert unreleased  # the world's develop holds unreleased work
    text = changelog.with_unreleased_entry((world.work / "CHANGELOG.md").read_text(), "Later.")
    commit(world.work, "feat: later", files={"CHANGELOG.md": text})
    git(world.work, "push", "-q", "origin", "develop")
    git(world.work, "switch", "-q", "main")

    # main goes back into develop (which changed no file the hotfix changed); the branch goes.
    _, step = run_agreeing_with_status(world, indexes, "finish-release", "0.1.1", version="0.1.1")
    assert step.startswith("gh run list --workflow release.yml --branch v0.1.1")  # not published
    assert git(world.work, "merge-base", "--is-ancestor", "v0.1.1", "origin/develop") == ""
    assert "hotfix/v0.1.1" not in git(world.origin, "branch", "--list")
    assert "hotfix/v0.1.1" not in git(world.work, "branch", "--list")
    assert_changelogs_true(
        world,
        {"main": unreleased, "develop": ["- Later.", *unreleased], "release/v0.2.0": []},
    )


def test_a_merge_back_conflict_stops_names_the_commands_and_finishes_when_run_again(
    world: World,
) -> None:
    code, output = world.invoke("cut-hotfix", "0.1.1")
    assert code == 0, output
    fix_with_entry(world, "hotfix/v0.1.1", "0.1.1", "The config is read again.")
    merge_into(world, "hotfix/v0.1.1", "main")
    code, output = world.invoke("tag", "0.1.1")
    assert code == 0, output
    # develop changed the lines the fix changed, and has unreleased work of its own, written
    # where the hotfix put its section: git conflicts on both files.
    git(world.work, "switch", "-q", "develop")
    text = (
        (world.work / "CHANGELOG.md")
        .read_text()
        .replace(
            "\n[Unreleased]: ", "\n### Security\n\n- Reworked the fixed file.\n\n[Unreleased]: ", 1
        )
    )
    commit(world.work, "feat: rework", files={"src/agentops/fixed.txt": "reworked\n",
                                             "CHANGELOG.md": text})  # fmt: skip
    git(world.work, "push", "-q", "origin", "develop")
    git(world.work, "switch", "-q", "main")
    before = world.state()
    code, output = world.invoke("finish-release", "0.1.1")
    assert code == 1, output
    [error] = [line for line in output.splitlines() if ": error: " in line]
    assert error == (
        "finish-release: error: merging main into develop conflicts in src/agentops/fixed.txt: "
        "finish it by hand: `git switch develop && git merge origin/main`, resolve those files "
        "and `git add` them (leave CHANGELOG.md to this task), then run `invoke finish-release "
        "0.1.1` again; nothing reached origin; local changes were undone"
    )
    assert world.state() == before

    # The commands it named, by hand: git leaves both files conflicted; only the code is fixed.
    git(world.work, "switch", "-q", "develop")
    merged = run_tool(world.work, "git", "merge", "origin/main")
    assert merged.returncode == 1, merged.stdout
    unmerged = git(world.work, "diff", "--name-only", "--diff-filter=U").splitlines()
    assert unmerged == ["CHANGELOG.md", "src/agentops/fixed.txt"]
    (world.work / "src/agentops/fixed.txt").write_text("reworked, with the fix\n")
    git(world.work, "add", "src/agentops/fixed.txt")
    code, output = world.invoke("finish-release", "0.1.1")
    assert code == 0, output
    assert git(world.work, "merge-base", "--is-ancestor", "v0.1.1", "origin/develop") == ""
    develop = git(world.origin, "show", "develop:CHANGELOG.md")
    tagged = git(world.origin, "show", "v0.1.1:CHANGELOG.md")
    assert changelog.unreleased_entries(develop)[-1] == "- Reworked the fixed file."
    release = Release.parse("0.1.1")
    assert changelog.section_text(develop, release) == changelog.section_text(tagged, release)
    assert "<<<<<<<" not in develop and ">>>>>>>" not in develop
    assert git(world.origin, "show", "develop:src/agentops/fixed.txt") == "reworked, with the fix"
    assert "hotfix/v0.1.1" not in git(world.origin, "branch", "--list")
    assert git(world.work, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["cut-hotfix", "0.2.0"],
                     "a hotfix is the next patch of origin/main's latest release v0.1.0: 0.1.1, "
                     "not 0.2.0", id="a-minor"),
        pytest.param(["cut-hotfix", "0.1.1rc1"],
                     "cut-hotfix: error: this task takes the final X.Y.Z (0.1.1)",
                     id="a-pre-release"),
        pytest.param(["cut-hotfix", "0.1"], "invalid version '0.1'", id="malformed"),
    ],
)  # fmt: skip
def test_cut_hotfix_refuses(world: World, args: list[str], message: str) -> None:
    assert_refused(world, args, message)


def test_cut_hotfix_refuses_a_branch_that_exists(world: World) -> None:
    git(world.work, "push", "-q", "origin", "v0.1.0^{commit}:refs/heads/hotfix/v0.1.1")
    assert_refused(world, ["cut-hotfix", "0.1.1"], "branch hotfix/v0.1.1 already exists on origin")


def test_cut_hotfix_dry_run_prints_every_step_and_changes_nothing(world: World) -> None:
    before = world.state()
    code, output = world.invoke("cut-hotfix", "0.1.1", "--dry-run")
    assert code == 0, output
    opening = "gh api --method POST 'repos/{owner}/{repo}/pulls' -f base=main -f head=hotfix/v0.1.1"
    for step in ("git switch --no-track -c hotfix/v0.1.1 v0.1.0", "git push", opening):
        assert step in output
    assert world.state() == before
    assert world.gh_calls() == []


def test_cut_hotfix_rolls_back_when_the_pr_cannot_be_opened(world: World) -> None:
    before = world.state()
    assert world.front is not None
    world.front.failures.append(Failure("POST", "/pulls", 502))  # GitHub fails to open it
    code, output = world.invoke("cut-hotfix", "0.1.1")
    assert code == 1, output
    assert "branch hotfix/v0.1.1 reached origin and was removed again" in output
    assert world.state() == before


# --- maintenance lines -------------------------------------------------------------------------


def test_a_support_line_releases_its_next_patch_after_a_newer_line(
    world: World, indexes: dict[str, Path | str]
) -> None:
    release_on_develop(world, "0.2.0")
    code, output = world.invoke("cut-support", "0.1")
    assert code == 0, output
    assert git(world.origin, "rev-parse", "support/0.1") == git(
        world.work, "rev-parse", "v0.1.0^{commit}"
    )
    # setuptools-scm gives the line its own dev versions.
    text = changelog.with_unreleased_entry(
        (world.work / "CHANGELOG.md").read_text(),
        "The old line reads the config again.",
        "### Fixed",
    )
    commit(world.work, "fix: read the config", files={"CHANGELOG.md": text})
    git(world.work, "push", "-q", "origin", "support/0.1")
    result = run_tool(world.work, sys.executable, "-m", "setuptools_scm")
    assert result.stdout.strip().splitlines()[-1].startswith("0.1.1.dev1"), result.stdout

    # Not a version of another line.
    assert_refused(
        world, ["cut-release", "0.2.1"], "support/0.1 releases 0.1.Z versions, not 0.2.1"
    )
    _, step = run_agreeing_with_status(world, indexes, "cut-release", "0.1.1")
    assert step == "gh pr merge release/v0.1.1 --merge (once reviewed and green)"
    assert last_pull(world)[:2] == ("support/0.1", "release/v0.1.1")
    assert git(world.work, "rev-parse", "HEAD~1") == git(world.origin, "rev-parse", "support/0.1")
    merge_into(world, "release/v0.1.1", "support/0.1")
    # The PR merged into the line (a merge commit on it): what comes next is the tag.
    _, step = status(world, indexes, "--release", "0.1.1")
    assert step == "git switch support/0.1 && git pull --ff-only && invoke tag 0.1.1"

    run_agreeing_with_status(world, indexes, "tag", "0.1.1")  # though v0.2.0 exists
    lines, _ = status(world, indexes, "--release", "0.1.1")
    assert lines[0] == "v0.1.1 (support, into support/0.1)"
    assert git(world.origin, "merge-base", "--is-ancestor", "v0.1.1", "support/0.1") == ""
    assert git(world.origin, "tag", "--contains", "v0.1.1").splitlines() == ["v0.1.1"]
    fake_dist(world.work / "dist", "0.1.1")
    code, output = world.invoke("github-release", "0.1.1")
    assert code == 0, output
    (release,) = [r for r in world.github().releases if r.tag_name == "v0.1.1"]
    assert (release.make_latest, release.prerelease, release.draft) == ("false", False, False)

    develop = git(world.origin, "rev-parse", "develop")
    output, _ = run_agreeing_with_status(world, indexes, "finish-release", "0.1.1", version="0.1.1")
    assert "nothing merged into develop" in output
    assert git(world.origin, "rev-parse", "develop") == develop
    assert "release/v0.1.1" not in git(world.origin, "branch", "--list")
    assert_changelogs_true(world, {"support/0.1": [], "main": [], "develop": []})
    fixed = changelog.section_entries(changelog_on(world, "support/0.1"), Release.parse("0.1.1"))
    assert fixed[0] == "- The old line reads the config again."  # then what v0.1.0 left unreleased


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["cut-support", "0.1.0"], "invalid release line '0.1.0': expected X.Y",
                     id="a-version"),
        pytest.param(["cut-support", "support/x"], "invalid release line 'support/x'",
                     id="malformed"),
    ],
)  # fmt: skip
def test_cut_support_refuses(world: World, args: list[str], message: str) -> None:
    assert_refused(world, args, message)


def test_a_release_of_the_newest_line_is_latest_on_github(world: World) -> None:
    release_on_develop(world, "0.2.0")
    fake_dist(world.work / "dist", "0.2.0")
    code, output = world.invoke("github-release", "0.2.0")
    assert code == 0, output
    (release,) = world.github().releases
    assert (release.tag_name, release.make_latest, release.draft) == ("v0.2.0", "true", False)


@pytest.mark.parametrize(
    ("tag", "kind"), [("v1.4.0", "final"), ("v1.4.0rc1", "pre-release"), ("1.4.0b2", "pre-release")]
)
def test_ci_release_kind_tells_release_yml_what_it_releases(
    world: World, tmp_path: Path, tag: str, kind: str
) -> None:
    output_file = tmp_path / "github-output"
    code, output = world.invoke("ci-release-kind", tag, GITHUB_OUTPUT=str(output_file))
    assert code == 0, output
    assert output.strip() == kind
    assert output_file.read_text() == f"kind={kind}\n"


def test_ci_release_kind_refuses_what_is_not_a_release_tag(world: World) -> None:
    assert_refused(world, ["ci-release-kind", "v1.4"], "invalid version 'v1.4'")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["9.9.1", "--hotfix", "--support"], "give --hotfix or --support, not both",
                     id="two-flows"),
        pytest.param(["9.9.0", "--hotfix"], "a hotfix release is a patch X.Y.Z with Z above 0",
                     id="hotfix-of-nothing"),
        pytest.param(["9.9.1rc1", "--support"],
                     "a support release is a patch X.Y.Z with Z above 0, not 9.9.1rc1",
                     id="support-pre-release"),
        pytest.param(["9.9.9", "--var", "STAGING_INDEX=pypi"],
                     "STAGING_INDEX is the rehearsal's own", id="own-variable"),
        pytest.param(["9.9.9", "--var", "NOEQUALS"], "--var takes NAME=VALUE, not 'NOEQUALS'",
                     id="malformed-variable"),
        pytest.param(["next", "--approve"], "give the version to rehearse (for example 9.9.9): "
                     "`next` is the release of the release/vX.Y.Z or hotfix/vX.Y.Z branch checked "
                     "out", id="next-off-a-release-branch"),
        pytest.param(["", "--approve"], "invalid version ''", id="empty-version"),
    ],
)  # fmt: skip
def test_rehearse_release_refuses_a_flow_it_cannot_rehearse(
    world: World, args: list[str], message: str
) -> None:
    assert_refused(world, ["rehearse-release", *args], message)
