"""The GitHub workflows as data, for the static checks and the act run.

The workflows are read with PyYAML; `uses:` pins are checked on the raw text, where the version
comment lives. The menus the workflows may call come from the real `nox --list` and
`invoke --list` of this checkout.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tasks.act import STAND_INS

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
# The composite action every job sets up with, and its definition.
SETUP = "./.github/actions/setup"
SETUP_ACTION = ROOT / ".github" / "actions" / "setup" / "action.yml"
NAMES = ("ci.yml", "_build.yml", "staging.yml", "release.yml", "cut-release.yml", "mutants.yml")

SHA_PIN = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+)@(?P<sha>[0-9a-f]{40})$")
VERSION_COMMENT = re.compile(r"#\s*v\d+(\.\d+)*\s*$")
EXPRESSION = re.compile(r"\$\{\{\s*(?P<body>.*?)\s*\}\}", re.DOTALL)
# What a shell would treat as more than one simple command (pipes, lists, redirections,
# substitutions), or a line continuation that hides a second line.
SHELL_LOGIC = ("|", "&", ";", ">", "<", "`", "$(", "\\")
FIXED_TARGETS = ("testpypi", "pypi")


def load(name: str) -> dict[str, Any]:
    """Workflow NAME as a mapping; the `on:` key stays `on` (PyYAML would read it as True)."""
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{name} is not a mapping"
    if True in data:
        data["on"] = data.pop(True)
    return data


def workflow_names() -> list[str]:
    """Every workflow file in .github/workflows."""
    return sorted(path.name for path in WORKFLOWS.glob("*.y*ml"))


def triggers(workflow: Mapping[str, Any]) -> dict[str, Any]:
    """The `on:` section as {event: settings or None}."""
    on = workflow["on"]
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on)


@dataclass(frozen=True)
class Step:
    """One step of one job of one workflow, with the env it sees (workflow < job < step)."""

    workflow: str
    job: str
    index: int
    data: Mapping[str, Any]
    env: Mapping[str, str]

    @property
    def where(self) -> str:
        """Where the step is, for messages."""
        name = self.data.get("name") or self.data.get("id") or self.data.get("uses") or ""
        return f"{self.workflow} job {self.job} step {self.index + 1} ({name})"

    @property
    def run(self) -> str | None:
        """The step's shell command, if it is a run step."""
        run = self.data.get("run")
        return None if run is None else str(run)

    @property
    def uses(self) -> str | None:
        """The action the step uses, if any."""
        uses = self.data.get("uses")
        return None if uses is None else str(uses)


def jobs(workflow: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The workflow's jobs by id."""
    return dict(workflow.get("jobs") or {})


def steps(name: str, workflow: Mapping[str, Any] | None = None) -> Iterator[Step]:
    """Every step of workflow NAME."""
    workflow = workflow if workflow is not None else load(name)
    for job_id, job in jobs(workflow).items():
        for index, data in enumerate(job.get("steps") or []):
            env = {
                **(workflow.get("env") or {}),
                **(job.get("env") or {}),
                **(data.get("env") or {}),
            }
            yield Step(name, job_id, index, data, {k: str(v) for k, v in env.items()})


def load_action() -> dict[str, Any]:
    """The setup composite action as a mapping."""
    data = yaml.safe_load(SETUP_ACTION.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{SETUP_ACTION} is not a mapping"
    return data


def action_steps() -> Iterator[Step]:
    """Every step of the setup action, as the job `setup` of `action.yml`."""
    for index, data in enumerate(load_action()["runs"]["steps"]):
        env = {k: str(v) for k, v in (data.get("env") or {}).items()}
        yield Step("actions/setup/action.yml", "setup", index, data, env)


def every_step() -> Iterator[Step]:
    """Every step of every workflow and of the setup action."""
    for name in workflow_names():
        yield from steps(name)
    yield from action_steps()


def needs(job: Mapping[str, Any]) -> set[str]:
    """The ids a job needs."""
    value = job.get("needs") or []
    return {value} if isinstance(value, str) else set(value)


@functools.cache
def nox_sessions() -> frozenset[str]:
    """What `nox -s` accepts: the names the real `nox --list` prints (lines starting `* ` or
    `- `), and the name of a session parametrized over Pythons (`tests` for `tests-3.11`...)."""
    output = _run(sys.executable, "-m", "nox", "--list")
    names = {line.split()[1] for line in output.splitlines() if line.startswith(("* ", "- "))}
    assert names, f"nox --list printed no sessions:\n{output}"
    suffixes = tuple(f"-{python}" for python in noxfile_pythons())
    names |= {name.rsplit("-", 1)[0] for name in names if name.endswith(suffixes)}
    return frozenset(names)


@functools.cache
def invoke_tasks() -> frozenset[str]:
    """Task names (and aliases) from the real `invoke --list`."""
    listing = json.loads(_run(sys.executable, "-m", "invoke", "--list", "--list-format=json"))
    names = set()
    for entry in listing["tasks"]:
        names.add(entry["name"])
        names.update(entry.get("aliases") or [])
    assert names, "invoke --list printed no tasks"
    return frozenset(names)


@functools.cache
def noxfile_pythons() -> tuple[str, ...]:
    """The Python versions of the noxfile's test sessions, from `nox --list --json -s tests`."""
    sessions = json.loads(_run(sys.executable, "-m", "nox", "--list", "--json", "-s", "tests"))
    return tuple(str(session["python"]) for session in sessions)


def _run(*command: str) -> str:
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, f"{shlex.join(command)} failed:\n{result.stderr}"
    return result.stdout


def expand(value: str, substitutions: Mapping[str, str]) -> str:
    """VALUE with each `${{ EXPR }}` replaced by substitutions[EXPR] (KeyError if unknown)."""
    return EXPRESSION.sub(lambda match: substitutions[match["body"]], value)


def run_step_problems(
    run: str,
    env: Mapping[str, str],
    sessions: frozenset[str],
    tasks: frozenset[str],
    matrix_values: Mapping[str, tuple[str, ...]],
) -> list[str]:
    """What is wrong with a `run:` (empty when it is one call of uv, nox or invoke)."""
    if "${{" in run:
        return ["has a ${{ }} expression: pass values through env instead"]
    command = run.strip()
    if "\n" in command:
        return ["is more than one line: one call per step"]
    logic = [token for token in SHELL_LOGIC if token in command]
    if logic:
        return [f"has shell logic ({' '.join(logic)}): one call per step"]
    words = shlex.split(command)
    if not words or words[0] != "uv":
        return ["is not a call of uv (uv run nox / uv run invoke / uv ...)"]
    if words[1:2] != ["run"]:
        return []  # another uv command: uv sync, uv build, ...
    tool, args = (words[2], words[3:]) if len(words) > 2 else ("", [])
    if tool == "nox":
        return _nox_problems(args, env, sessions, matrix_values)
    if tool == "invoke":
        if not args or args[0].startswith("-"):
            return ["runs invoke without a task"]
        if args[0] not in tasks:
            return [f"calls invoke task {args[0]!r}, which `invoke --list` does not have"]
        return []
    return [f"runs {tool!r} through uv run: only nox and invoke"]


def _nox_problems(
    args: list[str],
    env: Mapping[str, str],
    sessions: frozenset[str],
    matrix_values: Mapping[str, tuple[str, ...]],
) -> list[str]:
    if len(args) < 2 or args[0] != "-s" or (len(args) > 2 and args[2] != "--"):
        return ["is not `uv run nox -s SESSION [-- ARGS]`"]
    names = _session_names(args[1], env, matrix_values)
    if isinstance(names, str):
        return [names]
    missing = sorted(set(names) - sessions)
    if missing:
        return [f"calls nox session(s) {', '.join(missing)}, which `nox --list` does not have"]
    return []


def _session_names(
    word: str, env: Mapping[str, str], matrix_values: Mapping[str, tuple[str, ...]]
) -> list[str] | str:
    """The session names WORD can stand for: itself, or $VAR from env with matrix values."""
    if not word.startswith("$"):
        return [word]
    variable = word.removeprefix("$").strip("{}")
    if variable not in env:
        return f"uses ${variable}, which the step's env does not set"
    value = env[variable]
    keys = [match["body"] for match in EXPRESSION.finditer(value)]
    if not keys:
        return [value]
    if len(keys) != 1 or keys[0] not in matrix_values:
        return f"${variable} = {value!r}: only one matrix value may vary a session name"
    return [expand(value, {keys[0]: option}) for option in matrix_values[keys[0]]]


def pinned_uses_problems(text: str) -> list[str]:
    """`uses:` lines of workflow TEXT that are not `owner/repo@<40 hex> # vX.Y.Z` (or local)."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip().removeprefix("- ").strip()
        if not stripped.startswith("uses:"):
            continue
        value, _, comment = stripped.removeprefix("uses:").partition("#")
        target = value.strip().strip("'\"")
        if target.startswith("./"):
            local = ROOT / target
            if not (local.is_file() or (local / "action.yml").is_file()):
                problems.append(f"line {number}: {target} does not exist")
            continue
        if not SHA_PIN.match(target):
            problems.append(f"line {number}: {target} is not pinned to a full commit SHA")
        elif not VERSION_COMMENT.search("#" + comment):
            problems.append(f"line {number}: {target} has no `# vX.Y.Z` comment")
    return problems


def pinned_actions() -> dict[str, set[str]]:
    """{owner/repo: {sha, ...}} over every workflow and the setup action."""
    found: dict[str, set[str]] = {}
    for step in every_step():
        match = SHA_PIN.match(step.uses or "")
        if match:
            found.setdefault(match["action"], set()).add(match["sha"])
    return found


def stand_in(action: str) -> Path:
    """The folder of the local stand-in for ACTION (owner/repo)."""
    return STAND_INS / action
