"""How the rehearsal runs the workflows: each under act for the event GitHub would send, the
checks branch protection requires of the release PR, and the approval gate of release.yml.

Functions of a `Rehearsal` (rehearsal_world): they add the jobs' rows to its table and, when a
job fails, the commands that reproduce it.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import time
from pathlib import Path

from scripts import workflows

from . import act
from .rehearsal_steps import FAILED, NOT_RUN, PASSED, JobProgress, Step, job_output
from .rehearsal_world import USERNAME, Rehearsal, StepError, git
from .steps import repository

GATED_JOB = "publish-pypi"  # release.yml's job behind the `release` environment's approval
BEFORE_GATE = "verify-testpypi"  # release.yml's last job before it
GATE = "approval gate (environment release)"
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # nox colours its log lines


def options(rehearsal: Rehearsal) -> list[str]:
    """The repository variables the workflows get (the stand-in indexes, and --var's), and the
    repository GitHub's front holds as `github.repository` (act would make one of origin's
    path, which gh cannot take for GH_REPO)."""
    given = [word for name, value in rehearsal.variables.items()
             for word in ("--var", f"{name}={value}")]  # fmt: skip
    return [
        "--env", f"GITHUB_REPOSITORY={rehearsal.github.repository}",
        "--var", f"STAGING_INDEX={rehearsal.servers['staging'].url}",
        "--var", f"PRODUCTION_INDEX={rehearsal.servers['production'].url}",
        *given,
    ]  # fmt: skip


def release_workflow(rehearsal: Rehearsal) -> None:
    """release.yml for the tag, up to the approval gate or, approved, through it."""
    job = None if rehearsal.approve else BEFORE_GATE
    try:
        run_workflow(rehearsal, "release.yml", f"refs/tags/{rehearsal.release.tag}", job=job)
    finally:
        gate(rehearsal)


def run_workflow(
    rehearsal: Rehearsal,
    workflow: str,
    ref: str,
    *,
    job: str | None = None,
    pull_request: bool = False,
) -> None:
    """Run WORKFLOW under act for a push of REF (up to JOB and what it needs, or all), or,
    PULL_REQUEST, for the release PR (the clone has its head checked out)."""
    scratch = act.ActScratch(
        rehearsal.folder / "act" / workflow, rehearsal.origin, rehearsal.env_file
    )
    event_name = "pull_request" if pull_request else "push"
    event = event_file(rehearsal, workflow, ref, pull_request=pull_request)
    base = scratch.command(
        rehearsal.work, event_name, workflow, "-e", str(event), *options(rehearsal)
    )
    planned = workflows.jobs_in_stages(workflows.load(rehearsal.work, workflow))
    if job is not None and pull_request:
        planned = [job]  # the one check asked for (act runs what it needs too)
    command = [*base, *(["-j", job] if job else [])]
    progress = JobProgress(workflow)
    print(f"--- {workflow} under act: started ({', '.join(planned)})", flush=True)
    log = rehearsal.folder / f"act-{workflow}.log"
    error, run = None, None
    try:
        run = act.run_act(
            command, cwd=rehearsal.work, env=rehearsal.env, log=log, on_entry=progress
        )
    except act.ActError as problem:
        error = str(problem)
    rehearsal.steps.extend(progress.steps(planned))
    failed = progress.failed()
    if run is not None and not failed and run.returncode == 0:
        print(f"--- {workflow} under act: passed in {run.seconds:.1f} s", flush=True)
        return
    culprit = failed[0] if failed else None
    rehearsal.reproduce = reproducing(rehearsal, workflow, event_name, event, log, culprit)
    if run is not None:
        print(run.explain(), flush=True)
        error = f"job {culprit} failed" if culprit else f"act exited {run.returncode}"
    print(f"--- {workflow} under act: failed: {error}", flush=True)
    raise StepError(f"{workflow}: {error}; log {log}")


def event_file(rehearsal: Rehearsal, workflow: str, ref: str, *, pull_request: bool) -> Path:
    """The event act gives WORKFLOW: a push of REF, or the release PR (number 1) into the
    target, its head the clone's HEAD."""
    payload: dict[str, object] = {"ref": ref}
    if pull_request:
        head = {"ref": rehearsal.branch, "sha": git(rehearsal.work, "rev-parse", "HEAD")}
        pull = {"number": 1, "head": head, "base": {"ref": rehearsal.target}, "labels": []}
        payload = {"number": 1, "pull_request": pull}
    event = rehearsal.folder / f"event-{workflow}.json"
    event.write_text(json.dumps(payload))
    return event


def reproducing(
    rehearsal: Rehearsal, workflow: str, event_name: str, event: Path, log: Path, job: str | None
) -> list[str]:
    """The commands that run the failed JOB of WORKFLOW again, and the sessions inside it."""
    # A fresh folder for the re-run: the artifacts of this run stay as they are.
    again = act.ActScratch(
        rehearsal.folder / "act" / f"{workflow}-again", rehearsal.origin, rehearsal.env_file
    )
    rerun = again.command(
        rehearsal.work, event_name, workflow, "-e", str(event), *options(rehearsal)
    )
    rerun += ["-j", job] if job else []
    return [
        *restart_hint(rehearsal),  # the job needs the stand-in indexes up again
        f"cd {rehearsal.work} && {act.shown_command(rerun)}",
        *_session_lines(log, job),
    ]


def check_the_pr(rehearsal: Rehearsal, name: str) -> None:
    """Run what branch protection requires of the PR into the target (setup-github's
    checks): staging.yml's jobs must have passed on the branch, ci.yml's run here for the
    pull_request event; StepError naming a check that did not pass or that nothing runs."""
    from .github import REQUIRED_JOBS, required_checks

    if rehearsal.target not in REQUIRED_JOBS:
        rehearsal.steps.append(
            Step(name, PASSED, 0.0, f"none: {rehearsal.target} is not protected")
        )
        return
    started = time.monotonic()
    names = required_checks(rehearsal.work, rehearsal.target)
    required = zip(REQUIRED_JOBS[rehearsal.target], names, strict=True)
    ran: dict[str, str] = {}
    for (workflow, job), check in required:
        rows = {step.name: step.result for step in rehearsal.steps}
        if workflow == "ci.yml" and f"ci.yml {job}" not in rows:
            # A failure is in the job's row; the check is named below.
            with contextlib.suppress(StepError):
                run_workflow(rehearsal, "ci.yml", "", job=job, pull_request=True)
            rows = {step.name: step.result for step in rehearsal.steps}
        if rows.get(f"{workflow} {job}") != PASSED:
            why = "did not pass" if f"{workflow} {job}" in rows else "was not run"
            rehearsal.steps.append(Step(name, FAILED, time.monotonic() - started,
                                   f"{check!r} ({workflow} {job}) {why}"))  # fmt: skip
            print(f"--- {name}: failed: {check!r} ({workflow} {job}) {why}", flush=True)
            raise StepError(f"{rehearsal.target} requires the check {check!r}, which {why}")
        ran[check] = f"{workflow} {job}"
    if rehearsal.machinery:
        run_workflow(rehearsal, "ci.yml", "", job="machinery", pull_request=True)
        ran["machinery"] = "ci.yml machinery"
    passed = ", ".join(f"{check} ({where})" for check, where in ran.items())
    rehearsal.steps.append(Step(name, PASSED, time.monotonic() - started, passed))
    print(f"--- {name}: passed ({passed})", flush=True)


def gate(rehearsal: Rehearsal) -> None:
    """The approval gate's row, before the gated job's (act has no environments to wait in:
    the decision is --approve or --reject, given up front)."""
    rows = [step.name for step in rehearsal.steps]
    gated = f"release.yml {GATED_JOB}"
    if gated not in rows:
        return
    before = rehearsal.steps[rows.index(f"release.yml {BEFORE_GATE}")]
    if before.result != PASSED:
        verdict = Step(GATE, NOT_RUN, None, f"not reached: {BEFORE_GATE} did not pass")
    elif rehearsal.approve and not rehearsal.to_production:
        kept = "--approve; PRERELEASES_TO_PRODUCTION=false keeps the pre-release off it"
        verdict = Step(GATE, "approved", None, kept)
    elif rehearsal.approve:
        verdict = Step(GATE, "approved", None, "--approve")
    else:
        verdict = Step(GATE, "rejected", None, "--reject: the production jobs do not run")
    rehearsal.steps.insert(rows.index(gated), verdict)


def restart_hint(rehearsal: Rehearsal) -> list[str]:
    """How to bring the stand-in indexes back, empty and on their ports, for the re-run.

    Empty: the re-run builds again, and the kept stores stay as they were, for reading.
    """
    password = f'"$(sed -n \'s/^TWINE_PASSWORD="\\(.*\\)"$/\\1/p\' {rehearsal.env_file})"'
    return [
        f"(cd {repository()} && {sys.executable} -m scripts.indexes.local_index serve "
        f"{rehearsal.folder / f'{name}-again'} --port {server.port} --username {USERNAME} "
        f"--password {password}) &"
        for name, server in rehearsal.servers.items()
    ]


def _session_lines(log: Path, job: str | None) -> list[str]:
    """The `reproduce locally:` lines the failing JOB's sessions printed into act's LOG."""
    if job is None:
        return []
    return [
        ANSI_ESCAPE.sub("", line.split("reproduce locally:", 1)[1]).strip()
        for line in job_output(log, job).splitlines()
        if "reproduce locally:" in line
    ]
