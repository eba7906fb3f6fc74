"""What CI runs, run here: the session list, the test matrix and the CHANGELOG gate of PRs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from invoke.context import Context

from scripts import changelog, gitops

from .steps import CHANGELOG, DEVELOP, REMOTE, ROOT, Refused, first_few, task

SHIPPED = ("src/", "pyproject.toml")
NO_CHANGELOG_LABEL = "no-changelog"


def _nox_json(*args: str) -> list[dict[str, object]]:
    result = subprocess.run(
        [sys.executable, "-m", "nox", "--list", "--json", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    sessions: list[dict[str, object]] = json.loads(result.stdout)
    return sessions


@task
def ci_matrix(c: Context) -> None:
    """Print the Python versions of the test matrix (and write them to $GITHUB_OUTPUT in CI)."""
    pythons = [str(s["python"]) for s in _nox_json("--sessions", "tests")]
    line = json.dumps(pythons)
    print(line)
    if output := os.environ.get("GITHUB_OUTPUT"):
        with Path(output).open("a", encoding="utf-8") as handle:
            handle.write(f"python={line}\n")


@task
def ci(c: Context) -> None:
    """Run the CI workflow's sessions locally, in order; stop at the first failure."""
    sessions = [str(s["session"]) for s in _nox_json("--tags", "ci")]
    for session in sessions:
        result = c.run(f"nox -s {session}", warn=True, pty=False)
        if result is None or not result.ok:
            raise Refused(f"{session} failed; reproduce it with: nox -s {session}")
    print(f"ci: {len(sessions)} sessions passed: {', '.join(sessions)}")


@task(
    help={
        "base": "the branch the change goes into (default: origin/develop)",
        "labels": "the PR's labels, comma-separated (default: $PR_LABELS)",
    }
)
def check_changelog(c: Context, base: str = f"{REMOTE}/{DEVELOP}", labels: str = "") -> None:
    """Fail when a change to src/ or pyproject.toml adds no CHANGELOG entry (PR gate)."""
    given = labels or os.environ.get("PR_LABELS", "")
    if NO_CHANGELOG_LABEL in {label.strip() for label in given.split(",")}:
        print(f"check-changelog: skipped (labelled {NO_CHANGELOG_LABEL})")
        return
    try:
        merge_base = gitops.git("merge-base", base, "HEAD")
        changed = gitops.changed_files(base)
    except gitops.GitError as error:
        raise Refused(str(error)) from None
    shipped = [name for name in changed if name.startswith(SHIPPED)]
    if not shipped:
        print("check-changelog: no shipped file changed; no entry needed")
        return
    before = gitops.show(merge_base, CHANGELOG)
    after = gitops.show("HEAD", CHANGELOG)
    try:
        old = set(changelog.unreleased_entries(before)) if before else set()
        new = [e for e in changelog.unreleased_entries(after or "") if e not in old]
    except changelog.ChangelogError as error:
        raise Refused(f"{CHANGELOG}: {error}") from None
    if not new:
        raise Refused(
            f"this change touches {first_few(shipped)} but adds no entry under [Unreleased] in "
            f"{CHANGELOG} (or label the PR {NO_CHANGELOG_LABEL}); reproduce with: "
            f"invoke check-changelog --base {base}"
        )
    print(
        f"check-changelog: {len(new)} new entr{'y' if len(new) == 1 else 'ies'} under [Unreleased]"
    )
