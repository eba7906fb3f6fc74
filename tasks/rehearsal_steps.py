"""The parts of `invoke rehearse-release` that hold no process: its table, the jobs' progress
as act reports them, and the checks of what the release left on the indexes and on "GitHub"."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.github_front.front import GitHubFront
from scripts.github_front.model import Release
from scripts.indexes.attestations import TOKEN_UPLOAD

PASSED, FAILED, NOT_RUN = "passed", "failed", "not run"


@dataclass
class Step:
    """One row of the rehearsal's table."""

    name: str
    result: str = NOT_RUN
    seconds: float | None = None
    detail: str = ""


def table(steps: list[Step]) -> str:
    """STEPS as an aligned text table: step, result, seconds, detail."""
    width = max([len("step"), *(len(step.name) for step in steps)])
    lines = [f"{'step':<{width}}  {'result':<8}  {'seconds':>7}  detail"]
    for step in steps:
        seconds = "" if step.seconds is None else f"{step.seconds:.1f}"
        lines.append(
            f"{step.name:<{width}}  {step.result:<8}  {seconds:>7}  {step.detail}".rstrip()
        )
    return "\n".join(lines)


@dataclass
class JobProgress:
    """Turns act's --json log entries into one line per job as it starts and as it ends, and
    keeps each job's result and wall time (measured here, as the entries arrive)."""

    workflow: str
    say: Callable[[str], None] = print
    clock: Callable[[], float] = time.monotonic
    started: dict[str, float] = field(default_factory=dict)
    results: dict[str, tuple[str, float]] = field(default_factory=dict)  # job -> (result, s)

    def __call__(self, entry: Mapping[str, Any]) -> None:
        job = entry.get("jobID")
        if not isinstance(job, str) or not job:
            return
        if job not in self.started:
            self.started[job] = self.clock()
            self.say(f"  {self.workflow} {job}: started")
        if "jobResult" in entry:
            result = str(entry["jobResult"])
            seconds = self.clock() - self.started[job]
            self.results[job] = (result, seconds)
            self.say(f"  {self.workflow} {job}: {result} in {seconds:.1f} s")

    def steps(self, planned: list[str]) -> list[Step]:
        """A row per PLANNED job (then any other that ran): its result, or not run."""
        rows = []
        for job in [*planned, *(job for job in self.started if job not in planned)]:
            name = f"{self.workflow} {job}"
            if job in self.results:
                result, seconds = self.results[job]
                ok = result == "success"
                rows.append(Step(name, PASSED if ok else FAILED, seconds, "" if ok else result))
            elif job in self.started:
                rows.append(Step(name, FAILED, self.clock() - self.started[job], "did not end"))
            else:
                rows.append(Step(name))
        return rows

    def failed(self) -> list[str]:
        """The jobs that ended with another result than success, or never ended."""
        return [
            job
            for job in self.started
            if self.results.get(job, ("unfinished", 0.0))[0] != "success"
        ]


def job_output(log: Path, job: str) -> str:
    """What JOB printed, from act's --json LOG (its entries' messages, one per line)."""
    lines = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and entry.get("jobID") == job:
            lines.append(str(entry.get("msg", "")))
    return "\n".join(lines)


def token_verifications(
    steps: list[Step], output: Callable[[str], str], workflow: str = "release.yml"
) -> list[tuple[str, str | None]]:
    """For each verify job of WORKFLOW that passed among STEPS: (what, None or the problem) of
    its having been told of a token upload (what it printed: OUTPUT(job))."""
    return [
        (
            f"{job} verified a token upload without requiring attestations",
            None if TOKEN_UPLOAD in output(job) else "it did not say it was verifying one",
        )
        for step in steps
        if step.result == PASSED
        and step.name.startswith(f"{workflow} verify")
        and (job := step.name.removeprefix(f"{workflow} "))
    ]


def github_state(saved: Path) -> GitHubFront:
    """GitHub as SAVED (a front's state: the gh stand-in's beside its record, a rehearsal's in
    its folder's github.json) holds it."""
    github = GitHubFront(saved.parent)
    if saved.is_file():
        github.restore(json.loads(saved.read_text(encoding="utf-8")))
    return github


def release_of(github: GitHubFront, tag: str) -> Release | None:
    """The GitHub Release of TAG, draft or published, if there is one."""
    return next((release for release in github.releases if release.tag_name == tag), None)


def same_files(what: str, found: Mapping[str, str], built: Mapping[str, str]) -> str | None:
    """None when FOUND ({name: sha256}) holds exactly the BUILT files and bytes, else why not."""
    missing = sorted(set(built) - set(found))
    if missing:
        return f"{what} lacks {', '.join(missing)}"
    extra = sorted(set(found) - set(built))
    if extra:
        return f"{what} has files the build did not make: {', '.join(extra)}"
    differing = sorted(name for name in built if found[name] != built[name])
    if differing:
        return f"{what} has other bytes than the build for {', '.join(differing)}"
    return None
