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
