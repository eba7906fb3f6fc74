"""The release world of the task tests: a work repository on develop with a bare origin (main
tagged v0.1.0, develop, both pushed) and the recording gh stand-in; what the tests assert on it."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from scripts.artifacts import manifest
from scripts.github_front.front import GitHubFront
from scripts.versioning import changelog
from scripts.versioning.versions import release_of
from tasks.rehearsal_steps import github_state
from tests.helpers import deny_pushes, git, release_world, repo_state, run_tool


class World:
    """A work repository on develop, its bare origin, and GitHub: the served front the real gh
    reaches (GH, an environment for it), or else the recording stand-in."""

    def __init__(
        self, root: Path, front: GitHubFront | None = None, gh: dict[str, str] | None = None
    ) -> None:
        self.work, self.origin = release_world(root)
        self.record = root / "gh.jsonl"
        self.front, self.gh_env = front, gh or {}
        if front is not None:
            front.origin = self.origin

    def invoke(self, *args: str, **env: str) -> tuple[int, str]:
        """Run `invoke ARGS` in the work repository; return its exit code and all its output."""
        result = run_tool(
            self.work,
            sys.executable,
            "-m",
            "invoke",
            *args,
            env={"GH_RECORD": str(self.record), **self.gh_env, **env},
        )
        return result.returncode, result.stdout + result.stderr

    def gh_calls(self) -> list[dict[str, object]]:
        """What GitHub was asked, in order: the front's requests, or the stand-in's calls."""
        if self.front is not None:
            return list(self.front.requests)
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]

    def github(self) -> GitHubFront:
        """GitHub as it stands: the front, or what the gh stand-in's calls left."""
        if self.front is not None:
            return self.front
        return github_state(self.record.with_suffix(".github.json"))

    def state(self) -> dict[str, object]:
        """The repository, origin and CHANGELOG as they are now."""
        return repo_state(self.work, self.origin)

    def deny_pushes(self, pattern: str) -> None:
        """Make origin reject pushes of refs matching PATTERN (a shell case pattern)."""
        deny_pushes(self.origin, pattern)

    def merge_release_into_main(self, version: str) -> None:
        """Do what merging the release PR on GitHub does, and leave main checked out."""
        git(self.work, "switch", "-q", "main")
        git(self.work, "merge", "-q", "--no-ff", "--no-edit", f"release/v{version}")
        git(self.work, "push", "-q", "origin", "main")


def assert_refused(world: World, args: list[str], message: str, **env: str) -> None:
    before, calls = world.state(), world.gh_calls()
    code, output = world.invoke(*args, **env)
    assert code == 1, output
    errors = [line for line in output.splitlines() if ": error: " in line]
    assert len(errors) == 1, output
    assert message in errors[0]
    assert world.state() == before
    assert world.gh_calls() == calls


def fake_dist(folder: Path, version: str) -> None:
    folder.mkdir()
    (folder / f"agentops_accelerator-{version}-py3-none-any.whl").write_bytes(b"wheel")
    (folder / f"agentops_accelerator-{version}.tar.gz").write_bytes(b"sdist")
    manifest.write_manifest(folder)


def put(dist: Path, folder: Path | str) -> None:
    """What an upload leaves on an index: DIST's files in its package FOLDER."""
    for path in dist.iterdir():
        if path.name != "SHA256SUMS":
            shutil.copy(path, folder)


def as_variables(indexes: dict[str, Path | str]) -> dict[str, str]:
    """The indexes as release.yml's repository variables name them, for the tasks' `next:`."""
    staging, production = str(indexes["staging"]), str(indexes["production"])
    return {"STAGING_INDEX": staging, "PRODUCTION_INDEX": production}


def status(world: World, indexes: dict[str, Path | str], *args: str) -> tuple[list[str], str]:
    """The rows (label, state) lines and the next step of `invoke status ARGS`."""
    code, output = world.invoke(
        "status", *args, "--staging", str(indexes["staging"]),
        "--production", str(indexes["production"]), "--dist", str(world.work.parent / "dist"),
    )  # fmt: skip
    assert code == 0, output
    lines = output.splitlines()
    assert lines[-1].startswith("next: "), output
    return lines, lines[-1].removeprefix("next: ")


def state_of(lines: list[str], label: str) -> str:
    row = next(line for line in lines if line.strip().startswith(label))
    return row.strip().removeprefix(label).split()[0]


def next_line(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("next: "))[6:]


def run_agreeing_with_status(
    world: World, indexes: dict[str, Path | str], *args: str, version: str = ""
) -> tuple[str, str]:
    """Run the task ARGS (it must pass), then `invoke status` (of VERSION, else the release in
    progress): both name the same next step. The task's output, and that step."""
    code, output = world.invoke(*args, **as_variables(indexes))
    assert code == 0, output
    _, step = status(world, indexes, *(["--release", version] if version else []))
    assert next_line(output) == step, f"{args[0]} said {next_line(output)!r}, status {step!r}"
    return output, step


def changelog_on(world: World, ref: str) -> str:
    """CHANGELOG.md as origin holds it at REF."""
    return git(world.origin, "show", f"{ref}:CHANGELOG.md") + "\n"


def assert_changelogs_true(world: World, unreleased: dict[str, list[str]]) -> None:
    """Every branch of origin (UNRELEASED's keys) has a true CHANGELOG: no conflict marker, its
    [Unreleased] entries exactly as given, and the section of every release it holds exactly
    as that release's tag has it."""
    for branch, entries in unreleased.items():
        text = changelog_on(world, branch)
        marks = [line for line in text.splitlines() if line.startswith(("<<<<<<<", ">>>>>>>"))]
        assert not marks, f"{branch}: {marks}"
        assert changelog.unreleased_entries(text) == entries, branch
        for tag in git(world.origin, "tag", "--merged", branch).splitlines():
            release = release_of(tag)
            tagged = changelog_on(world, tag)
            if (
                release is None
                or release.kind != "final"
                or not changelog.has_section(tagged, release)
            ):
                continue  # a pre-release's notes are its final's section as it then stood
            assert changelog.section_text(text, release) == changelog.section_text(
                tagged, release
            ), f"{branch}: [{release}] is not as {tag} has it"
