"""The release world of the task tests: a work repository on develop with a bare origin (main
tagged v0.1.0, develop, both pushed) and the recording gh stand-in; what the tests assert on it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from scripts import manifest
from tests.helpers import deny_pushes, git, release_world, repo_state, run_tool


class World:
    """A work repository on develop, its bare origin, and the gh stand-in's record."""

    def __init__(self, root: Path) -> None:
        self.work, self.origin = release_world(root)
        self.record = root / "gh.jsonl"

    def invoke(self, *args: str, **env: str) -> tuple[int, str]:
        """Run `invoke ARGS` in the work repository; return its exit code and all its output."""
        result = run_tool(
            self.work,
            sys.executable,
            "-m",
            "invoke",
            *args,
            env={"GH_RECORD": str(self.record), **env},
        )
        return result.returncode, result.stdout + result.stderr

    def gh_calls(self) -> list[dict[str, object]]:
        """What the gh stand-in was asked, in order."""
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]

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
