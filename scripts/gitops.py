"""Read-only questions about the git repository and its origin, asked with plain git commands.

Everything here only reads; the tasks that change refs run their git commands themselves
(through invoke, so that --dry-run prints them).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path


class GitError(Exception):
    """A git command failed; the message is git's own last line."""


def git(
    *args: str,
    cwd: Path | None = None,
    strip: bool = True,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run git ARGS (with ENV over this environment) and return its output (stripped unless
    told not to), or raise GitError (also when it takes longer than TIMEOUT seconds, never
    prompting for credentials then)."""
    env = {**os.environ, **(env or {})}
    if timeout is not None:
        env["GIT_TERMINAL_PROMPT"] = "0"
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, env=env,
            timeout=timeout,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise GitError(f"git {' '.join(args)}: no answer within {timeout:g} s") from None
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        raise GitError(f"git {' '.join(args)}: {lines[-1] if lines else 'failed'}")
    return result.stdout.strip() if strip else result.stdout


def _succeeds(*args: str, cwd: Path | None = None) -> bool:
    try:
        git(*args, cwd=cwd)
    except GitError:
        return False
    return True


def toplevel(cwd: Path | None = None) -> Path:
    """The root folder of the git work tree CWD (the working directory) is in; GitError if none."""
    return Path(git("rev-parse", "--show-toplevel", cwd=cwd))


def is_repository(cwd: Path | None = None) -> bool:
    """Whether CWD is inside a git work tree."""
    return _succeeds("rev-parse", "--is-inside-work-tree", cwd=cwd)


def current_branch(cwd: Path | None = None) -> str | None:
    """The checked-out branch, or None on a detached HEAD."""
    try:
        return git("symbolic-ref", "--quiet", "--short", "HEAD", cwd=cwd)
    except GitError:
        return None


def head(cwd: Path | None = None) -> str:
    """The commit HEAD points at."""
    return git("rev-parse", "HEAD", cwd=cwd)


def dirty_files(cwd: Path | None = None) -> list[str]:
    """Changed, staged or untracked files (git status --porcelain), empty when clean."""
    # Not stripped: the first column of a porcelain line may be a space.
    output = git("status", "--porcelain", "--untracked-files=normal", cwd=cwd, strip=False)
    return [line[3:] for line in output.splitlines() if line]


def rev(ref: str, cwd: Path | None = None) -> str | None:
    """The commit REF names, or None if it does not exist."""
    try:
        return git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=cwd)
    except GitError:
        return None


def has_object(sha: str, cwd: Path | None = None) -> bool:
    """Whether the commit SHA is in the local object store."""
    return _succeeds("cat-file", "-e", f"{sha}^{{commit}}", cwd=cwd)


def local_branch_exists(name: str, cwd: Path | None = None) -> bool:
    """Whether refs/heads/NAME exists."""
    return _succeeds("show-ref", "--verify", "--quiet", f"refs/heads/{name}", cwd=cwd)


def local_tags(cwd: Path | None = None) -> list[str]:
    """The names of all local tags."""
    return git("tag", "--list", cwd=cwd).splitlines()


def remote_refs(
    remote: str = "origin", cwd: Path | None = None, timeout: float | None = None
) -> dict[str, str]:
    """Every ref the remote advertises (git ls-remote), peeled tags folded in: {ref: sha}."""
    return remote_listing(remote, cwd, timeout)[0]


def remote_listing(
    remote: str = "origin", cwd: Path | None = None, timeout: float | None = None
) -> tuple[dict[str, str], set[str]]:
    """The remote's refs as remote_refs gives them, and the names of its annotated tags (those
    it advertises peeled, `^{}`)."""
    refs: dict[str, str] = {}
    annotated = set()
    for line in git("ls-remote", remote, cwd=cwd, timeout=timeout).splitlines():
        sha, _, ref = line.partition("\t")
        if ref.endswith("^{}"):
            annotated.add(ref.removeprefix("refs/tags/").removesuffix("^{}"))
        refs[ref.removesuffix("^{}")] = sha  # the peeled ^{} line comes last: the commit wins
    return refs, annotated


def remote_tags(refs: dict[str, str]) -> list[str]:
    """Tag names among REFS (from remote_refs)."""
    return [ref.removeprefix("refs/tags/") for ref in refs if ref.startswith("refs/tags/")]


def remote_url(remote: str = "origin", cwd: Path | None = None) -> str | None:
    """The URL of REMOTE, or None if there is no such remote."""
    try:
        return git("remote", "get-url", remote, cwd=cwd)
    except GitError:
        return None


def is_shallow(cwd: Path | None = None) -> bool:
    """Whether the clone is shallow (its history, and so its tags, cut off)."""
    return git("rev-parse", "--is-shallow-repository", cwd=cwd) == "true"


def shallow_problem(cwd: Path | None = None) -> str | None:
    """Why the version cannot be trusted here (a shallow clone, HEAD on no tag), else None.

    The cut-off history hides the tags, so setuptools-scm would count from nothing; exactly on
    a tag the version is still right (setuptools-scm's fail_on_shallow draws the same line).
    """
    if not is_shallow(cwd) or git("tag", "--points-at", "HEAD", cwd=cwd):
        return None
    return (
        "shallow clone: the tags are cut off, so the version would be wrong; "
        "run `git fetch --unshallow --tags` first"
    )


def show(ref: str, path: str, cwd: Path | None = None) -> str | None:
    """The content of PATH at REF, or None if it is not there."""
    try:
        return git("show", f"{ref}:{path}", cwd=cwd, strip=False)
    except GitError:
        return None


def merge_in_progress(cwd: Path | None = None) -> str | None:
    """The commit being merged (MERGE_HEAD) while a merge waits to be committed, else None."""
    return rev("MERGE_HEAD", cwd)


def unmerged_files(cwd: Path | None = None) -> list[str]:
    """The files a merge in progress left conflicted (not yet `git add`-ed)."""
    return git("diff", "--name-only", "--diff-filter=U", cwd=cwd).splitlines()


def changed_files(base: str, cwd: Path | None = None) -> list[str]:
    """Files changed between the merge base of BASE and HEAD, and HEAD."""
    return git("diff", "--name-only", f"{base}...HEAD", cwd=cwd).splitlines()


def tags_merged(ref: str, cwd: Path | None = None) -> list[str]:
    """The tags whose commits REF contains (the releases already on that branch)."""
    return git("tag", "--merged", ref, cwd=cwd).splitlines()


def is_ancestor(ancestor: str, ref: str, cwd: Path | None = None) -> bool:
    """Whether REF contains ANCESTOR."""
    return _succeeds("merge-base", "--is-ancestor", ancestor, ref, cwd=cwd)
