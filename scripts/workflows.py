"""The GitHub workflows as data: their jobs and the names GitHub reports them by.

Read with a YAML parser from `.github/workflows/`, never matched as text. GitHub names the check a
job reports by the job's `name:` (its id when it has none); that name is what branch protection
and rulesets require.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

WORKFLOWS = Path(".github") / "workflows"


class WorkflowError(ValueError):
    """A workflow file that cannot be read, or lacks what is asked of it."""


def load(root: Path, workflow: str) -> dict[str, Any]:
    """The workflow file WORKFLOW (for example ci.yml) of the repository at ROOT, parsed."""
    path = root / WORKFLOWS / workflow
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise WorkflowError(f"cannot read {path}: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), dict):
        raise WorkflowError(f"{path} is not a workflow (no jobs)")
    return data


def job_name(workflow: dict[str, Any], job: str) -> str:
    """The name GitHub reports JOB of WORKFLOW by: its `name:`, else its id."""
    jobs = workflow["jobs"]
    if job not in jobs:
        raise WorkflowError(f"no job {job!r} (jobs: {', '.join(jobs)})")
    return str(jobs[job].get("name") or job)


def jobs_in_stages(workflow: dict[str, Any]) -> list[str]:
    """WORKFLOW's job ids in the order they can run: every job after the jobs it `needs:`
    (the stages act and GitHub run them in), the file's order within a stage."""
    jobs = workflow["jobs"]
    stage: dict[str, int] = {}

    def stage_of(job: str, seen: tuple[str, ...] = ()) -> int:
        if job in seen:
            raise WorkflowError(f"jobs need each other in a circle: {' -> '.join([*seen, job])}")
        if job not in stage:
            needs = jobs[job].get("needs") or []
            needs = [needs] if isinstance(needs, str) else needs
            stage[job] = 1 + max((stage_of(need, (*seen, job)) for need in needs), default=-1)
        return stage[job]

    return sorted(jobs, key=stage_of)


def uses(document: dict[str, Any]) -> list[str]:
    """Every `uses:` of a workflow's jobs and steps, or of a composite action's steps."""
    found = []
    for job in (document.get("jobs") or {}).values():
        found += [job["uses"]] if "uses" in job else []
        found += [step["uses"] for step in job.get("steps") or [] if "uses" in step]
    steps = (document.get("runs") or {}).get("steps") or []
    return found + [step["uses"] for step in steps if "uses" in step]


def pinned_actions(root: Path) -> dict[str, set[str]]:
    """{owner/repo: {sha, ...}} of every action the workflows and local actions of the
    repository at ROOT use pinned to a full commit sha (`owner/repo[/path]@<40 hex>`)."""
    github = root / ".github"
    paths = sorted((github / "workflows").glob("*.y*ml")) + sorted(
        github.glob("actions/*/action.y*ml")
    )
    found: dict[str, set[str]] = {}
    for path in paths:
        for used in uses(yaml.safe_load(path.read_text(encoding="utf-8")) or {}):
            action, _, ref = used.partition("@")
            parts = action.split("/")
            if len(parts) >= 2 and not action.startswith(("./", "docker:")) and _is_sha(ref):
                found.setdefault("/".join(parts[:2]), set()).add(ref)
    return found


def _is_sha(ref: str) -> bool:
    return len(ref) == 40 and all(char in "0123456789abcdef" for char in ref)
