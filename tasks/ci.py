"""What CI runs, run here: the session list, the test matrix and the CHANGELOG gate of PRs."""

from __future__ import annotations

import json
import os
from pathlib import Path

from invoke.context import Context

from scripts import gitops, interpreters
from scripts.versioning import changelog, changelog_merge

from .preconditions import first_few
from .steps import CHANGELOG, DEVELOP, REMOTE, Refused, parse_release, repository, task

SHIPPED = ("src/", "pyproject.toml")
NO_CHANGELOG_LABEL = "no-changelog"
# Ends the multi-line `install` output in $GITHUB_OUTPUT.
OUTPUT_END = "END_OF_VERSIONS"


@task(
    help={
        "python": "also write `install` (one version a line) to $GITHUB_OUTPUT: all, default "
        "(the first), newest, none or one X.Y of the matrix"
    }
)
def ci_matrix(c: Context, python: str = "") -> None:
    """Print the Python versions of the test matrix (and write them to $GITHUB_OUTPUT in CI)."""
    # The noxfile's own source (its PYTHON_VERSIONS), read without starting nox: every CI job
    # runs this, and `nox --list` took a second of it. The static tests hold the two equal.
    pythons = interpreters.supported_versions(repository() / "pyproject.toml")
    try:
        install = interpreters.choose_versions(pythons, python) if python else None
    except ValueError as error:
        raise Refused(str(error)) from None
    line = json.dumps(pythons)
    print(line)
    if output := os.environ.get("GITHUB_OUTPUT"):
        with Path(output).open("a", encoding="utf-8") as handle:
            handle.write(f"python={line}\n")
            if install is not None:
                handle.write(f"install<<{OUTPUT_END}\n" + "".join(f"{v}\n" for v in install))
                handle.write(f"{OUTPUT_END}\n")


@task(help={"tag": "the release tag, vX.Y.Z or vX.Y.ZrcN"})
def ci_release_kind(c: Context, tag: str) -> None:
    """Print whether TAG is a final or a pre-release (and write kind= to $GITHUB_OUTPUT in CI)."""
    kind = parse_release(tag).kind
    print(kind)
    if output := os.environ.get("GITHUB_OUTPUT"):
        with Path(output).open("a", encoding="utf-8") as handle:
            handle.write(f"kind={kind}\n")


@task
def ci(c: Context) -> None:
    """Run the CI workflow's sessions locally, in order: `nox -t ci --stop-on-first-error`."""
    result = c.run("nox -t ci --stop-on-first-error", warn=True, pty=False)
    if result is None or not result.ok:
        raise Refused("a session failed: nox printed the command that reproduces it above")


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
        new = changelog_merge.new_entries(before, after) if after else []
        warnings = changelog.parse(after).warnings if after else []
    except changelog.ChangelogError as error:
        raise Refused(f"{CHANGELOG}: {error}") from None
    for warning in warnings:  # the history's problems: said, never a failure
        print(f"check-changelog: warning: {CHANGELOG}: {warning}")
    if not new:
        raise Refused(
            f"this change touches {first_few(shipped)} but adds no entry under [Unreleased] "
            f"(nor a release's section) in {CHANGELOG} (or label the PR {NO_CHANGELOG_LABEL}); "
            "reproduce with: "
            f"invoke check-changelog --base {base}"
        )
    print(f"check-changelog: {len(new)} new entr{'y' if len(new) == 1 else 'ies'}")
