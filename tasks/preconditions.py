"""What a task checks before it changes anything: a clean tree, origin's refs, a free branch
name, a version above every tag; each refuses with one line (`Refused`)."""

from __future__ import annotations

from invoke.context import Context

from scripts import gitops
from scripts.versioning import versions

from .steps import REMOTE, Refused, StepFailed, run


def first_few(names: list[str]) -> str:
    """Up to three NAMES for a one-line message, `...` when there are more."""
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def require_clean() -> None:
    """Refuse when the working tree has uncommitted changes."""
    dirty = gitops.dirty_files()
    if dirty:
        raise Refused(
            f"the working tree has uncommitted changes ({first_few(dirty)}): commit or stash"
        )


def origin_refs() -> dict[str, str]:
    """Every ref on origin, or refuse when origin cannot be read."""
    try:
        return gitops.remote_refs(REMOTE)
    except gitops.GitError as error:
        raise Refused(f"cannot read {REMOTE}: {error}") from None


def refuse_existing_branch(branch: str, origin: dict[str, str]) -> None:
    """Refuse when BRANCH exists here or on origin (ORIGIN: origin's refs)."""
    if gitops.local_branch_exists(branch):
        raise Refused(f"branch {branch} already exists locally")
    if f"refs/heads/{branch}" in origin:
        raise Refused(f"branch {branch} already exists on {REMOTE}")


def fetch(c: Context, *args: str) -> None:
    """`git fetch ARGS` before a task reads origin's branches; refuse when it fails."""
    try:
        run(c, ["git", "fetch", *args], dry_run=False)
    except StepFailed as error:
        raise Refused(str(error)) from None


def require_newer(
    release: versions.Release, origin: dict[str, str], *, within: list[str] | None = None
) -> None:
    """Refuse unless RELEASE is above every release tag, here and on origin, and no tag is stray.

    WITHIN (the tags a branch already contains) narrows "every release tag" to those and the tags
    of RELEASE's own line: a hotfix of 1.4 or a release of support/1.3 goes on while 1.5.0rc1 or
    2.0.0 exist elsewhere, and 1.4.0rc1 still never follows 1.4.0.
    """
    local, remote = set(gitops.local_tags()), set(gitops.remote_tags(origin))
    stray = versions.stray_tags(local | remote)
    if stray:
        raise Refused(
            f"tag {', '.join(stray)} names a version but is not a vX.Y.Z release tag, and "
            f"setuptools-scm would read it: delete it first (`git tag -d {stray[0]}`, "
            f"`git push {REMOTE} --delete refs/tags/{stray[0]}`)"
        )
    tags = local | remote
    if within is not None:
        tags = set(versions.of_line(release.line, tags)) | set(within)
    try:
        versions.require_newer(release, tags)
    except versions.VersionError as error:
        raise Refused(str(error)) from None
