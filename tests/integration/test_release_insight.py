"""next-version, status and yank on real repositories with a bare origin, two real pypiservers
(staging and production) and the recording gh stand-in."""

from __future__ import annotations

import collections
import socket
import sys
from pathlib import Path

import pytest

from scripts.github_front.model import Failure
from scripts.versioning import changelog
from scripts.versioning.versions import Release
from tests.helpers import RecordingIndex, commit, git, run_tool
from tests.integration.worlds import (
    World,
    assert_changelogs_true,
    changelog_on,
    fake_dist,
    next_line,
    put,
    run_agreeing_with_status,
    state_of,
    status,
)

pytestmark = pytest.mark.integration

TODAY_HEADING = "## [0.2.0] - "


def test_next_version_says_which_and_why(world: World) -> None:
    code, output = world.invoke("next-version")
    assert code == 0, output
    version, reason = output.splitlines()
    assert version == "0.2.0"
    assert reason.startswith("minor: [Unreleased] has Added (")
    assert reason.endswith("after v0.1.0")
    before = world.state()
    code, output = world.invoke("cut-release", "next", "--dry-run")
    assert code == 0, output
    assert f"next version: 0.2.0 ({reason})" in output
    assert world.state() == before
    code, output = world.invoke("cut-support", "0.1")
    assert code == 0, output
    code, output = world.invoke("next-version")
    assert output.splitlines()[0] == "0.1.1", output
    assert output.splitlines()[1].startswith("patch: support/0.1 stays on its line (minor:")


def test_next_version_refuses_an_empty_unreleased(world: World) -> None:
    code, output = world.invoke("cut-release", "0.2.0")
    assert code == 0, output
    code, output = world.invoke("next-version")
    assert code == 1
    assert output.strip() == (
        "next-version: error: CHANGELOG.md: nothing to release: the [Unreleased] section has no "
        "'- ' entries"
    )


def test_a_release_walked_as_a_team_keeps_every_changelog_true_and_status_agrees(
    world: World, indexes: dict[str, Path | str]
) -> None:
    dist = world.work.parent / "dist"
    cut_entries = changelog.unreleased_entries((world.work / "CHANGELOG.md").read_text())
    lines, step = status(world, indexes, "--release", "0.2.0")
    assert step == "invoke cut-release 0.2.0"
    assert state_of(lines, "release branch ") == "missing"

    output, step = run_agreeing_with_status(world, indexes, "cut-release", "next")
    assert output.index("next version: 0.2.0") < output.index("git switch")
    assert TODAY_HEADING in (world.work / "CHANGELOG.md").read_text()
    lines, _ = status(world, indexes)  # the release in progress
    assert lines[0] == "v0.2.0 (release, into main)"
    assert step == "gh pr merge release/v0.2.0 --merge (once reviewed and green)"
    assert state_of(lines, "pull request") == "missing"

    # While the release branch is open, the team goes on: a change lands on develop.
    git(world.work, "switch", "-q", "develop")
    landed = "A change that landed while release/v0.2.0 was open."
    text = changelog.with_unreleased_entry((world.work / "CHANGELOG.md").read_text(), landed)
    commit(world.work, "feat: meanwhile", files={"CHANGELOG.md": text})
    git(world.work, "push", "-q", "origin", "develop")

    world.merge_release_into_main("0.2.0")
    lines, step = status(world, indexes)
    assert step == "git switch main && git pull --ff-only && invoke tag 0.2.0"

    output, step = run_agreeing_with_status(world, indexes, "tag", "0.2.0")
    lines, _ = status(world, indexes)  # tag pushed, nothing published
    assert step.startswith("gh run list --workflow release.yml --branch v0.2.0")
    assert [state_of(lines, label) for label in ("tag", "staging index")] == ["done", "missing"]

    fake_dist(dist, "0.2.0")
    put(dist, indexes["staging_dir"])
    lines, step = status(world, indexes)  # staging only
    assert "approve the `release` environment" in step
    assert "sha256 agree with SHA256SUMS" in next(line for line in lines if "staging" in line)

    put(dist, indexes["production_dir"])
    lines, step = status(world, indexes)  # production, but no GitHub Release
    assert step.startswith("invoke github-release 0.2.0")
    assert "agree with the staging index and SHA256SUMS" in lines[6]

    # As in release.yml, the indexes are the repository variables: the tasks after the upload
    # ask every system, as status does, for their `next:`.
    _, step = run_agreeing_with_status(world, indexes, "github-release", "0.2.0", "--dist",
                                       str(dist))  # fmt: skip
    assert step == "invoke finish-release 0.2.0"
    _, step = run_agreeing_with_status(world, indexes, "finish-release", "0.2.0", version="0.2.0")
    assert step == "nothing: v0.2.0 is released"
    lines, _ = status(world, indexes, "--release", "0.2.0")
    assert {state_of(lines, label) for label in ("release branch ", "tag", "GitHub Release")} == {
        "done"
    }
    # develop keeps what landed meanwhile unreleased; what was cut is released, and only there.
    assert_changelogs_true(world, {"main": [], "develop": [f"- {landed}"]})
    released = changelog.section_entries(changelog_on(world, "develop"), Release.parse("0.2.0"))
    assert released == cut_entries


def test_status_says_when_the_indexes_hold_other_bytes(
    released: World, indexes: dict[str, Path | str], tmp_path: Path
) -> None:
    code, output = released.invoke("tag", "0.2.0")
    assert code == 0, output
    fake_dist(tmp_path / "dist", "0.2.0")
    put(tmp_path / "dist", indexes["staging_dir"])
    other = tmp_path / "other"
    other.mkdir()
    (other / "agentops_accelerator-0.2.0-py3-none-any.whl").write_bytes(b"other wheel")
    put(other, indexes["production_dir"])
    lines, step = status(released, indexes)
    assert state_of(lines, "production index") == "wrong"
    assert "agentops_accelerator-0.2.0-py3-none-any.whl on production index has other bytes " in (
        step
    )
    assert step.startswith("stop the release: ")
    assert "invoke yank 0.2.0 --reason" in step


def test_status_without_gh_or_an_index_says_unknown(released: World) -> None:
    code, output = released.invoke(
        "status", "--staging", "http://127.0.0.1:9/", "--production", "http://127.0.0.1:9/",
        PATH="/usr/bin:/bin",
    )  # fmt: skip
    assert code == 0, output
    lines = output.splitlines()
    assert state_of(lines, "GitHub Release") == "unknown"
    assert "gh is not installed" in output
    assert {state_of(lines, label) for label in ("staging index", "production index")} == {
        "unknown"
    }
    assert next_line(output) == "git switch main && git pull --ff-only && invoke tag 0.2.0"


def test_status_says_unknown_when_gh_answers_nothing(released: World, tmp_path: Path) -> None:
    # A gh that exits 0 and prints nothing (a wrapper, a broken install): no traceback.
    silent = tmp_path / "silent-gh"
    silent.mkdir()
    (silent / "gh").write_text("#!/bin/sh\nexit 0\n")
    (silent / "gh").chmod(0o755)
    code, output = released.invoke(
        "status", "--staging", "http://127.0.0.1:9/", "--production", "http://127.0.0.1:9/",
        PATH=f"{silent}:/usr/bin:/bin",
    )  # fmt: skip
    assert code == 0, output
    assert "Traceback" not in output
    lines = output.splitlines()
    assert state_of(lines, "pull request") == "done"  # merged in git: gh is not needed for it
    row = next(line for line in lines if "GitHub Release" in line)
    assert row.split()[2:] == ["unknown", "gh", "answered", "nothing"]
    assert next_line(output) == "git switch main && git pull --ff-only && invoke tag 0.2.0"


def test_status_names_a_hotfix_a_hotfix_while_a_support_line_exists(
    world: World, indexes: dict[str, Path | str]
) -> None:
    code, output = world.invoke("cut-support", "0.1")
    assert code == 0, output
    git(world.work, "switch", "-q", "develop")
    code, output = world.invoke("cut-hotfix", "0.1.1")
    assert code == 0, output
    lines, step = status(world, indexes)
    assert lines[0] == "v0.1.1 (hotfix, into main)"
    assert step == "gh pr merge hotfix/v0.1.1 --merge (once reviewed and green)"


def release_all(world: World, dist: Path) -> None:
    """Tag the merged 0.2.0, create its GitHub Release and finish it."""
    fake_dist(dist, "0.2.0")
    for args in (("tag", "0.2.0"), ("github-release", "0.2.0", "--dist", str(dist))):
        code, output = world.invoke(*args)
        assert code == 0, output
    code, output = world.invoke("finish-release", "0.2.0")
    assert code == 0, output


def test_yank_rolls_back_then_marks_the_changelog_in_a_pr_and_the_github_notes(
    released: World, tmp_path: Path
) -> None:
    release_all(released, tmp_path / "dist")
    before = released.state()
    notes_before = released.github().releases[0].body
    assert released.front is not None
    released.front.failures.append(Failure("PATCH", "/releases/1", 502))
    code, output = released.invoke("yank", "0.2.0", "--reason", "broken")
    assert code == 1, output
    error = next(line for line in output.splitlines() if ": error: " in line)
    assert error.startswith(
        "yank: error: `gh api --method PATCH 'repos/{owner}/{repo}/releases/1' -f ...` failed"
    )
    assert "branch yank/v0.2.0 reached origin and was removed again" in error
    assert released.state() == before

    code, output = released.invoke("yank", "0.2.0", "--reason", "the wheel misses a module")
    assert code == 0, output
    text = git(released.origin, "show", "yank/v0.2.0:CHANGELOG.md")
    heading = next(line for line in text.splitlines() if line.startswith(TODAY_HEADING))
    assert heading.endswith(" [YANKED]")
    assert f"{heading}\n\n**Yanked:** the wheel misses a module\n\n### " in text
    github = released.github()
    (pull,) = [pull for pull in github.pulls if pull.head == "yank/v0.2.0" and pull.state == "open"]
    assert pull.base == "develop"
    (release,) = github.releases
    assert release.tag_name == "v0.2.0"
    assert release.body == f"**Yanked:** the wheel misses a module\n\n{notes_before}"
    assert "https://pypi.org/manage/project/agentops-accelerator/release/0.2.0/" in output
    assert next_line(output) == "invoke cut-hotfix 0.2.1 (the fix forward)"
    code, output = released.invoke(
        "status", "--release", "0.2.0", "--staging", "x", "--production", "y"
    )
    assert output.splitlines()[0].endswith(": YANKED (the wheel misses a module)"), output


def changes_on_github(world: World) -> list[str]:
    """The requests that changed something on GitHub (reads left out), as METHOD PATH."""
    return [f"{r['method']} {r['path']}" for r in world.gh_calls() if r["method"] != "GET"]


@pytest.mark.parametrize(
    ("after", "args", "printed"),
    [
        pytest.param(
            "tagged", ["github-release", "0.2.0", "--dist", "{dist}"],
            ["gh api --method POST 'repos/{owner}/{repo}/releases' -f tag_name=v0.2.0",
             "name=agentops_accelerator-0.2.0.tar.gz", "-F draft=false"],
            id="github-release",
        ),
        pytest.param(
            "github", ["finish-release", "0.2.0"],
            ["git merge", "git push origin develop", "git push origin --delete release/v0.2.0"],
            id="finish-release",
        ),
        pytest.param(
            "finished", ["yank", "0.2.0", "--reason", "broken"],
            ["git push", "gh api --method POST 'repos/{owner}/{repo}/pulls' -f base=develop",
             "gh api --method PATCH 'repos/{owner}/{repo}/releases/1' -f 'body=**Yanked:** broken"],
            id="yank",
        ),
        pytest.param(
            "merged", ["cut-support", "0.1"],
            ["git switch --no-track -c support/0.1", "git push"],
            id="cut-support",
        ),
    ],
)  # fmt: skip
def test_dry_run_prints_the_commands_and_changes_nothing(
    released: World, tmp_path: Path, after: str, args: list[str], printed: list[str]
) -> None:
    dist = tmp_path / "dist"
    fake_dist(dist, "0.2.0")
    steps = {
        "tagged": [("tag", "0.2.0")],
        "github": [("tag", "0.2.0"), ("github-release", "0.2.0", "--dist", str(dist))],
        "finished": [("tag", "0.2.0"), ("github-release", "0.2.0", "--dist", str(dist)),
                     ("finish-release", "0.2.0")],
        "merged": [],
    }  # fmt: skip
    for step in steps[after]:
        code, output = released.invoke(*step)
        assert code == 0, output
    before, changed = released.state(), changes_on_github(released)
    code, output = released.invoke(*[arg.format(dist=dist) for arg in args], "--dry-run")
    assert code == 0, output
    for command in printed:
        assert command in output, output
    assert released.state() == before
    assert changes_on_github(released) == changed


def test_status_changes_nothing_and_asks_each_system_once(released: World, tmp_path: Path) -> None:
    code, output = released.invoke("tag", "0.2.0")
    assert code == 0, output
    before, calls = released.state(), len(released.gh_calls())
    trace = tmp_path / "git-trace"
    staging, production = RecordingIndex(), RecordingIndex()
    try:
        code, output = released.invoke(
            "status", "--staging", staging.url, "--production", production.url,
            GIT_TRACE=str(trace),
        )  # fmt: skip
    finally:
        staging.stop()
        production.stop()
    assert code == 0, output
    assert released.state() == before
    asked = [f"{r['method']} {r['path']} {r['query']}" for r in released.gh_calls()[calls:]]
    assert asked, "gh was not asked"
    assert [call for call, count in collections.Counter(asked).items() if count > 1] == []
    for server in (staging, production):
        assert server.requests == [("GET", "/simple/agentops-accelerator/")]
    # origin is read once: one upload-pack (ls-remote) in all the git processes status ran.
    assert trace.read_text().count("git-upload-pack") == 1


def test_status_gives_up_on_an_index_that_never_answers(released: World) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        # In a process of its own, stopped after 60 s: a status that hangs fails the test.
        result = run_tool(
            released.work, sys.executable, "-m", "invoke", "status", "--staging", url,
            "--production", url, own_process=True, timeout=60,
        )  # fmt: skip
    code, output = result.returncode, result.stdout + result.stderr
    assert code == 0, output
    lines = output.splitlines()
    assert {state_of(lines, label) for label in ("staging index", "production index")} == {
        "unknown"
    }
    assert "timed out" in next(line for line in lines if "staging index" in line), output
