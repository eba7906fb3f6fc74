"""The workflows as data: the order of their jobs and the actions they pin, read with a parser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts import workflows

SHA_A = "a" * 40
SHA_B = "b" * 40


def jobs(**needs: list[str] | str | None) -> dict[str, Any]:
    return {
        "jobs": {job: ({"needs": need} if need is not None else {}) for job, need in needs.items()}
    }


@pytest.mark.parametrize(
    ("workflow", "expected"),
    [
        pytest.param(jobs(build=None, publish="build", verify=["publish"], lint=None),
                     ["build", "lint", "publish", "verify"], id="stages-then-file-order"),
        pytest.param(jobs(verify=["publish", "build"], publish="build", build=None),
                     ["build", "publish", "verify"], id="needs-listed-before-they-are-defined"),
        pytest.param(jobs(finish=["a", "b"], a=None, b="a"), ["a", "b", "finish"],
                     id="the-longest-chain-decides"),
    ],
)  # fmt: skip
def test_jobs_in_stages(workflow: dict[str, Any], expected: list[str]) -> None:
    assert workflows.jobs_in_stages(workflow) == expected


def test_jobs_that_need_each_other_are_refused() -> None:
    with pytest.raises(workflows.WorkflowError, match="in a circle: a -> b -> a"):
        workflows.jobs_in_stages(jobs(a="b", b="a"))


def test_pinned_actions_are_read_from_steps_jobs_and_composite_actions(tmp_path: Path) -> None:
    github = tmp_path / ".github"
    (github / "workflows").mkdir(parents=True)
    (github / "actions" / "setup").mkdir(parents=True)
    (github / "workflows" / "ci.yml").write_text(
        yaml.safe_dump({"on": "push", "jobs": {
            "lint": {"steps": [
                {"uses": f"actions/checkout@{SHA_A}"},
                {"uses": "./.github/actions/setup"},
                {"run": f"echo uses: not/a-step@{SHA_A}"},
                {"uses": f"github/codeql-action/init@{SHA_B}"},
                {"uses": "actions/cache@v4"},  # not pinned: act fetches nothing, nor does this
            ]},
            "build": {"uses": "./.github/workflows/_build.yml"},
        }})
    )  # fmt: skip
    (github / "actions" / "setup" / "action.yml").write_text(
        f"runs:\n  using: composite\n  steps:\n    - uses: actions/checkout@{SHA_B} # v4\n"
        f"    - uses: astral-sh/setup-uv@{SHA_B}\n"
    )
    assert workflows.pinned_actions(tmp_path) == {
        "actions/checkout": {SHA_A, SHA_B},
        "astral-sh/setup-uv": {SHA_B},
        "github/codeql-action": {SHA_B},
    }
