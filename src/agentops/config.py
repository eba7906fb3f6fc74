"""The workspace configuration: its schema (pydantic) and its commented YAML form (ruamel.yaml)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

CONFIG_HEADER = """\
agentops workspace configuration (created by `agentops init`).
Edit it freely: agentops keeps your comments when it updates this file."""


Metric = Literal["exact_match", "contains", "latency"]


def _default_metrics() -> list[Metric]:
    return ["exact_match"]


class EvaluationConfig(BaseModel):
    """What to evaluate and when a run passes."""

    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(default="datasets/smoke.jsonl", min_length=1)
    metrics: list[Metric] = Field(default_factory=_default_metrics, min_length=1)
    threshold: float = Field(default=0.8, ge=0.0, le=1.0)


class WorkspaceConfig(BaseModel):
    """The schema of `.agentops/config.yaml`."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    project: str = Field(min_length=1)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    results_dir: str = Field(default="results", min_length=1)


_COMMENTS: dict[str, str] = {
    "version": "schema version of this file",
    "project": "a name shown in reports",
    "evaluation": "what to evaluate and when a run passes",
    "results_dir": "where runs are written, relative to .agentops/ (ignored by git)",
}
_EVALUATION_COMMENTS: dict[str, str] = {
    "dataset": 'JSON Lines: one {"input": ..., "expected": ...} object per line',
    "metrics": "any of: exact_match, contains, latency",
    "threshold": "the lowest passing score, from 0 to 1",
}


def _yaml() -> YAML:
    yaml = YAML()  # round-trip mode: comments and key order survive a load and dump
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _commented(data: dict[str, Any], comments: dict[str, str], indent: int) -> CommentedMap:
    mapping = CommentedMap()
    for key, value in data.items():
        mapping[key] = CommentedSeq(value) if isinstance(value, list) else value
        if key in comments:
            mapping.yaml_set_comment_before_after_key(key, before=comments[key], indent=indent)
    return mapping


def render_config(config: WorkspaceConfig) -> str:
    """The commented YAML text of a configuration."""
    data = config.model_dump(mode="json")
    data["evaluation"] = _commented(data["evaluation"], _EVALUATION_COMMENTS, indent=2)
    document = _commented(data, _COMMENTS, indent=0)
    document.yaml_set_start_comment(CONFIG_HEADER)
    buffer = io.StringIO()
    _yaml().dump(document, buffer)
    return buffer.getvalue()


def load_config(path: Path) -> WorkspaceConfig:
    """Read and validate a configuration file."""
    return WorkspaceConfig.model_validate(_yaml().load(path.read_text(encoding="utf-8")))
