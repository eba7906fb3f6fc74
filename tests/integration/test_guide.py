"""docs/releasing.md's final-release procedure, followed as a newcomer would: every command of its
console blocks runs, in order, in a fresh release world (a project copy with a bare origin, the
gh stand-in, two pypiservers as the staging and production indexes), and every sample output
line it shows must be printed.

What happens on GitHub is done here as GitHub would do it: `gh pr merge` merges the PR with git,
`gh run watch` stands for release.yml's run after the approval (the files on both indexes, then
its github-release job). In a sample, `...` is any text (a line of it alone: any lines), and
YYYY-MM-DD is today.
"""

from __future__ import annotations

import datetime
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scripts.versioning.versions import latest_release
from tests.helpers import ROOT, STAND_IN_BIN, git
from tests.integration.worlds import World, as_variables, fake_dist, put

pytestmark = pytest.mark.integration

GUIDE = ROOT / "docs" / "releasing.md"
PROCEDURE = "### A final release"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
TODAY = datetime.datetime.now(tz=datetime.UTC).date().isoformat()


def console_blocks(text: str, heading: str) -> list[tuple[str, list[str]]]:
    """(command, sample output lines) of each `$ ` line in the console blocks under HEADING."""
    start = text.index(f"\n{heading}\n")
    end = min(
        (i for i in (text.find("\n### ", start + 1), text.find("\n## ", start + 1)) if i > 0),
        default=len(text),
    )
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", text[start:end], re.DOTALL):
        for line in textwrap.dedent(block).splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                assert steps, f"output before any command in:\n{block}"
                steps[-1][1].append(line)
    return steps


def matches(sample: str, line: str) -> bool:
    """Whether LINE is what SAMPLE shows (`...` any text, YYYY-MM-DD today)."""
    pattern = ".*".join(re.escape(part) for part in sample.split("..."))
    return re.fullmatch(pattern.replace("YYYY\\-MM\\-DD", TODAY), line.rstrip()) is not None


def shows(samples: list[str], output: str) -> str | None:
    """None when OUTPUT's lines hold SAMPLES in order (a `...` line skips any), else why not."""
    lines = ANSI.sub("", output).splitlines()  # invoke shows the commands it runs in bold
    at = 0
    for sample in samples:
        if sample.strip() == "...":
            continue
        found = next((i for i in range(at, len(lines)) if matches(sample, lines[i])), None)
        if found is None:
            return f"no line like {sample!r} after line {at} of:\n{output}"
        at = found + 1
    return None


def on_github(world: World, command: str, dist: Path, indexes: dict[str, Path | str]) -> bool:
    """Do what COMMAND does on GitHub, if it is one this walk stands in for; whether it was."""
    words = shlex.split(command)
    if words[:3] == ["gh", "pr", "merge"]:  # the reviewed, green release PR is merged
        world.merge_release_into_main(words[3].removeprefix("release/v"))
        return True
    if words[:3] == ["gh", "run", "watch"]:  # release.yml of the newest tag, approved
        version = str(latest_release(git(world.origin, "tag", "--list").splitlines()))
        fake_dist(dist, version)
        put(dist, indexes["staging_dir"])
        put(dist, indexes["production_dir"])
        code, output = world.invoke(
            "github-release", version, "--dist", str(dist), **as_variables(indexes)
        )
        assert code == 0, output
        return True
    return False


def run(world: World, command: str, indexes: dict[str, Path | str]) -> tuple[int, str]:
    """COMMAND as the guide's reader types it, in the world's clone (prefixes as in the guide)."""
    venv = Path(sys.executable).parent
    env = {
        **{k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"},
        "PATH": os.pathsep.join([str(STAND_IN_BIN), str(venv), os.environ.get("PATH", "")]),
        "GH_RECORD": str(world.record),
        "GIT_CONFIG_NOSYSTEM": "1",
        **as_variables(indexes),
    }
    result = subprocess.run(
        ["bash", "-c", command], cwd=world.work, env=env, capture_output=True, text=True,
        check=False, timeout=120,
    )  # fmt: skip
    return result.returncode, result.stdout + result.stderr


def test_the_final_release_procedure_does_what_it_says(
    stand_in_world: World, indexes: dict[str, Path | str]
) -> None:
    # The reader also types `gh pr merge` (GraphQL) and `gh run list`: GitHub's front serves
    # neither, so the guide is walked with the recording gh.
    world = stand_in_world
    steps = console_blocks(GUIDE.read_text(encoding="utf-8"), PROCEDURE)
    assert len(steps) >= 10, steps
    dist = world.work.parent / "dist"
    for command, samples in steps:
        if on_github(world, command, dist, indexes):
            assert samples == [], f"{command}: GitHub's own output is not the guide's to show"
            continue
        code, output = run(world, command, indexes)
        assert code == 0, f"$ {command}\n{output}"
        problem = shows(samples, output)
        assert problem is None, f"$ {command}: {problem}"


@pytest.mark.parametrize(
    ("samples", "output", "ok"),
    [
        (["next: invoke tag 0.2.0"], "a\nnext: invoke tag 0.2.0\n", True),
        (["next: invoke tag 0.2.1"], "next: invoke tag 0.2.0\n", False),
        (["b", "a"], "a\nb\n", False),  # in order
        (["## [0.2.0] - YYYY-MM-DD"], f"## [0.2.0] - {TODAY}\n", True),
        (["## [0.2.0] - YYYY-MM-DD"], "## [0.2.0] - 1999-01-01\n", False),
        (["minor: ..., after v0.1.0"], "minor: [Unreleased] has Added (3), after v0.1.0\n", True),
    ],
)
def test_a_sample_that_the_output_does_not_show_is_caught(
    samples: list[str], output: str, ok: bool
) -> None:
    assert (shows(samples, output) is None) == ok
