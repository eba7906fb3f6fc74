"""After the tag: `invoke finish-release` merges main back into develop, with the CHANGELOG merged
as data, and deletes the release or hotfix branch (a maintenance release: only the branch).

A conflict in any file but CHANGELOG.md stops it before anything is pushed, with the commands to
finish by hand; run again during that merge, it completes the rest.
"""

from __future__ import annotations

import shlex

from invoke.context import Context

from scripts import files, gitops
from scripts.output import last_line
from scripts.versioning import changelog_merge, versions

from .preconditions import first_few, origin_refs, require_clean
from .release import VERSION_HELP
from .status import where_next
from .steps import (
    CHANGELOG,
    DEVELOP,
    MAIN,
    REMOTE,
    Refused,
    StepFailed,
    final_release,
    repository,
    run,
    shown,
    switch_back,
    task,
    undone_on_failure,
)


@task(help={"version": VERSION_HELP, "dry_run": "print the commands; change nothing"})
def finish_release(c: Context, version: str, dry_run: bool = False) -> None:
    """After the tag: merge main back into develop, delete the release or hotfix branch."""
    release = final_release(version)
    if gitops.merge_in_progress():
        _finish_merge_by_hand(c, release, dry_run=dry_run)
        return
    require_clean()
    origin = origin_refs()
    tagged = origin.get(f"refs/tags/{release.tag}")
    if tagged is None:
        raise Refused(f"tag {release.tag} is not on {REMOTE}: run `invoke tag {release}` first")
    branches = _branches_of(release, origin)
    if _released_on_support(release, origin, tagged):
        # A maintenance release went into support/X.Y; develop has its own line.
        _tidy(c, release, branches, origin, dry_run=dry_run)
        if not dry_run:
            print(
                f"finish-release: {release.tag} is a release of {release.line.branch}: nothing "
                f"merged into {DEVELOP}; {', '.join(branches) or 'no branch'} deleted"
            )
            print(f"next: {where_next(release)}")
        return
    for needed in (MAIN, DEVELOP):
        if f"refs/heads/{needed}" not in origin:
            raise Refused(f"{REMOTE} has no {needed} branch")
    develop = origin[f"refs/heads/{DEVELOP}"]
    if gitops.has_object(develop) and gitops.is_ancestor(tagged, develop):
        print(f"finish-release: {DEVELOP} on {REMOTE} already holds {release.tag}")
    else:
        _merge_back(c, release, dry_run=dry_run)
    _finish(c, release, branches, origin, dry_run=dry_run)


def _branches_of(release: versions.Release, origin: dict[str, str]) -> list[str]:
    """RELEASE's release and hotfix branches that exist, here or on ORIGIN."""
    return [
        name
        for name in (release.branch, release.hotfix_branch)
        if gitops.local_branch_exists(name) or f"refs/heads/{name}" in origin
    ]


def _finish(
    c: Context,
    release: versions.Release,
    branches: list[str],
    origin: dict[str, str],
    *,
    dry_run: bool,
) -> None:
    """After develop holds the release on origin: delete BRANCHES, say so and what comes next."""
    # develop is on origin now: what follows is tidying, reported but not undone.
    _tidy(c, release, branches, origin, dry_run=dry_run, merged=True)
    if not dry_run:
        gone = ", ".join(branches) or "no branch left to delete"
        print(f"finish-release: {MAIN} merged back into {DEVELOP}; {gone} deleted")
        print(f"next: {where_next(release)}")


class MergeConflict(Exception):
    """Merging main into develop left files (other than CHANGELOG.md) conflicted."""


def _merge_back(c: Context, release: versions.Release, *, dry_run: bool) -> None:
    """Merge origin/main into develop, CHANGELOG.md resolved as data, and push develop; undone,
    saying what reached origin, when a step fails."""
    back = switch_back()
    local_develop = gitops.rev(DEVELOP)
    with undone_on_failure(c) as undo:
        try:
            run(c, ["git", "fetch", "--no-tags", REMOTE, MAIN, DEVELOP], dry_run=dry_run)
            if local_develop is None:
                run(c, ["git", "switch", "-c", DEVELOP, f"{REMOTE}/{DEVELOP}"], dry_run=dry_run)
                undo.add(["git", "merge", "--abort"], back, ["git", "branch", "-D", DEVELOP])
            else:
                run(c, ["git", "switch", DEVELOP], dry_run=dry_run)
                undo.add(
                    ["git", "merge", "--abort"], ["git", "reset", "--hard", local_develop], back
                )
                run(c, ["git", "merge", "--ff-only", f"{REMOTE}/{DEVELOP}"], dry_run=dry_run)
            message = f"chore: merge {MAIN} ({release.tag}) back into {DEVELOP}"
            merge = ["git", "merge", "--no-ff", "--no-commit", "-m", message, f"{REMOTE}/{MAIN}"]
            merged = c.run(
                shlex.join(merge), dry=dry_run, echo=True, warn=True, hide="both", pty=False
            )
            if dry_run:
                print(f"(resolve {CHANGELOG}: the released sections from {MAIN}, [Unreleased] from "
                      f"{DEVELOP}; stop on any other conflict)")  # fmt: skip
                run(c, ["git", "commit", "--no-edit"], dry_run=True)
            elif gitops.merge_in_progress():
                _commit_merge(c)
            elif merged is None or not merged.ok:
                output = (merged.stderr or merged.stdout) if merged is not None else ""
                raise StepFailed(f"`{shown(merge)}` failed: {last_line(output)}")
            # else: develop held main already (a merge committed by an earlier run, not pushed)
            run(c, ["git", "push", REMOTE, DEVELOP], dry_run=dry_run)
        except MergeConflict as conflict:
            raise Refused(f"{_by_hand(str(conflict), release)}; {undo.rollback()}") from None


def _by_hand(conflicted: str, release: versions.Release) -> str:
    """How to finish a merge back that conflicts in CONFLICTED files other than CHANGELOG.md."""
    return (
        f"merging {MAIN} into {DEVELOP} conflicts in {conflicted}: finish it by hand: `git switch "
        f"{DEVELOP} && git merge {REMOTE}/{MAIN}`, resolve those files and `git add` them (leave "
        f"{CHANGELOG} to this task), then run `invoke finish-release {release}` again"
    )


def _commit_merge(c: Context) -> None:
    """Resolve CHANGELOG.md of the merge in progress as data, then commit the merge; raise
    MergeConflict naming the files left conflicted."""
    unresolved = set(gitops.unmerged_files())
    problem = _resolve_changelog(c)
    if problem is None:
        unresolved.discard(CHANGELOG)
    else:
        print(f"finish-release: {CHANGELOG} cannot be merged as data: {problem}")
        unresolved.add(CHANGELOG)
    if unresolved:
        raise MergeConflict(first_few(sorted(unresolved)))
    run(c, ["git", "commit", "--no-edit"], dry_run=False)


def _resolve_changelog(c: Context) -> str | None:
    """Write and stage CHANGELOG.md for the merge in progress: the released sections from the
    branch merged in, [Unreleased] from this one (changelog_merge.merge_back); None, or why it
    could not be done."""
    base = gitops.git("merge-base", "HEAD", "MERGE_HEAD")
    texts = [gitops.show(ref, CHANGELOG) for ref in (base, "HEAD", "MERGE_HEAD")]
    if texts[1] is None or texts[2] is None:
        return None if texts[1] == texts[2] else f"only one side has a {CHANGELOG}"
    try:
        merged = changelog_merge.merge_back(texts[0] or texts[1], texts[1], texts[2])
    except ValueError as error:
        return str(error)
    files.write_atomic(repository() / CHANGELOG, merged)
    run(c, ["git", "add", CHANGELOG], dry_run=False)
    return None


def _finish_merge_by_hand(c: Context, release: versions.Release, *, dry_run: bool) -> None:
    """finish-release run again on develop while the merge it stopped is resolved by hand:
    CHANGELOG.md as data, the commit, the push, then the tidying."""
    merging = gitops.merge_in_progress()
    tag = gitops.rev(release.tag)
    if gitops.current_branch() != DEVELOP or tag is None or merging is None:
        raise Refused(
            "a merge is in progress here: finish it (`git commit`) or abort it (`git merge "
            "--abort`) first"
        )
    if not gitops.is_ancestor(tag, merging):
        raise Refused(
            f"the merge in progress does not bring {release.tag} into {DEVELOP}: finish it "
            "(`git commit`) or abort it (`git merge --abort`) first"
        )
    if dry_run:
        print(f"(resolve {CHANGELOG}: the released sections from {MAIN}, [Unreleased] from "
              f"{DEVELOP})")  # fmt: skip
        run(c, ["git", "commit", "--no-edit"], dry_run=True)
        run(c, ["git", "push", REMOTE, DEVELOP], dry_run=True)
        return
    try:
        _commit_merge(c)
    except MergeConflict as conflict:
        raise Refused(
            f"still conflicted: {conflict}: resolve and `git add` them, then run "
            f"`invoke finish-release {release}` again"
        ) from None
    except StepFailed as error:
        raise Refused(str(error)) from None
    try:
        run(c, ["git", "push", REMOTE, DEVELOP], dry_run=False)
    except StepFailed as error:
        raise Refused(
            f"{error}; the merge is committed on {DEVELOP} here: run `invoke finish-release "
            f"{release}` again to push it"
        ) from None
    origin = origin_refs()
    _finish(c, release, _branches_of(release, origin), origin, dry_run=False)


def _released_on_support(release: versions.Release, origin: dict[str, str], tagged: str) -> bool:
    """Whether RELEASE's tag (at TAGGED) is on its line's support branch and not on main."""
    main = origin.get(f"refs/heads/{MAIN}")
    if f"refs/heads/{release.line.branch}" not in origin or main is None:
        return False
    if not (gitops.has_object(tagged) and gitops.has_object(main)):
        return False  # not fetched: main's flow, whose merge fetches and says what is wrong
    return not gitops.is_ancestor(tagged, main)


def _tidy(
    c: Context,
    release: versions.Release,
    branches: list[str],
    origin: dict[str, str],
    *,
    dry_run: bool,
    merged: bool = False,
) -> None:
    """Delete BRANCHES here and on origin; refuse, saying what was done, when one cannot be."""
    commands = []
    for name in branches:
        if gitops.local_branch_exists(name):
            # Its commits are in the tag (merged on GitHub): safe to drop even if this clone
            # never merged it; otherwise git's own check stays.
            safe = gitops.is_ancestor(name, release.tag)
            commands.append(["git", "branch", "--delete", *(["--force"] if safe else []), name])
        if f"refs/heads/{name}" in origin:
            commands.append(["git", "push", REMOTE, "--delete", name])
    problems = []
    for command in commands:
        try:
            run(c, command, dry_run=dry_run)
        except StepFailed as error:
            problems.append(str(error))
    if problems:
        done = f"{DEVELOP} was merged and pushed" if merged else f"{release.tag} is released"
        raise Refused(f"{done}, but: {'; '.join(problems)}")
