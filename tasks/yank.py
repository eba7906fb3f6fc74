"""A bad release: `invoke yank X.Y.Z --reason TEXT` says so everywhere this project can, and
names what it cannot do (PyPI has no yank API: its web page does it) and the fix forward."""

from __future__ import annotations

from invoke.context import Context

from scripts import PROJECT, gitops
from scripts.versioning import changelog, versions

from .gh import gh_api, release_endpoint
from .preconditions import fetch, origin_refs, refuse_existing_branch, require_clean
from .release import BranchCut, cut_branch
from .steps import CHANGELOG, DEVELOP, REMOTE, Refused, final_release, task


def _github_notes(tag: str) -> tuple[int, str] | None:
    """The id and notes of the GitHub Release of TAG; None when there is none; refuse when gh
    fails."""
    answer = gh_api(release_endpoint(tag))
    if answer.status == 200 and isinstance(answer.body, dict):
        return int(answer.body["id"]), str(answer.body.get("body") or "")
    if answer.status == 404:
        return None
    why = answer.why or f"GitHub answered HTTP {answer.status}"
    raise Refused(f"cannot read the GitHub Release {tag}: {why}")


def _changelog_holding(
    c: Context, release: versions.Release, origin: dict[str, str], *, dry_run: bool
) -> tuple[str, str, str]:
    """The branch whose CHANGELOG has RELEASE's section (develop's, unless it is of a
    maintenance line), its tip on origin and that CHANGELOG; refuse when none has."""
    bases = [b for b in (DEVELOP, release.line.branch) if f"refs/heads/{b}" in origin]
    if not bases:
        raise Refused(f"{REMOTE} has neither {DEVELOP} nor {release.line.branch}")
    if not dry_run:
        fetch(c, "--no-tags", REMOTE, *bases)
    for base in bases:
        tip = gitops.rev(f"{REMOTE}/{base}") or origin[f"refs/heads/{base}"]
        text = gitops.show(tip, CHANGELOG) if gitops.has_object(tip) else None
        if text is not None and changelog.has_section(text, release):
            return base, tip, text
    raise Refused(f"no {CHANGELOG} on {' or '.join(bases)} has a [{release}] section")


@task(
    help={
        "version": "the release to yank, X.Y.Z (its tag is on origin)",
        "reason": "what is wrong with it, one line: it heads the CHANGELOG section and the notes",
        "dry_run": "print every step, the CHANGELOG change and the notes; change nothing",
    }
)
def yank(c: Context, version: str, reason: str = "", dry_run: bool = False) -> None:
    """Mark vX.Y.Z yanked: [YANKED] in the CHANGELOG (a PR to develop), the GitHub Release notes."""
    release = final_release(version)
    reason = reason.strip()
    if not reason or "\n" in reason:
        raise Refused("--reason TEXT is required: one line saying what is wrong with the release")
    require_clean()
    origin = origin_refs()
    if f"refs/tags/{release.tag}" not in origin:
        raise Refused(f"tag {release.tag} is not on {REMOTE}: only a release is yanked")
    branch = f"yank/{release.tag}"
    refuse_existing_branch(branch, origin)
    base, tip, text = _changelog_holding(c, release, origin, dry_run=dry_run)
    try:
        new_text = changelog.yank(text, release, reason)
    except ValueError as error:
        raise Refused(f"{CHANGELOG} on {REMOTE}/{base}: {error}") from None
    fix_forward = (
        f"invoke cut-hotfix {release.next_patch()}"
        if base == DEVELOP
        else f"git switch {base} && invoke cut-release {release.next_patch()}"
    )
    notes = _github_notes(release.tag)
    then: tuple[list[str], ...] = ()
    if notes is not None:  # an immutable release's notes may still change
        release_id, text_before = notes
        new_notes = f"{changelog.YANKED_NOTE}{reason}\n\n{text_before}"
        endpoint = f"repos/{{owner}}/{{repo}}/releases/{release_id}"
        then = (["gh", "api", "--method", "PATCH", endpoint, "-f", f"body={new_notes}"],)
    if dry_run:
        print(f"The [{release}] heading of {CHANGELOG} gets {changelog.YANKED}; its first line:")
        print(f"\n{changelog.YANKED_NOTE}{reason}\n")
    cut = BranchCut(
        branch, tip, base, new_text, said=f"[{release}] marked {changelog.YANKED}, the reason as "
        "its first line", message=f"docs: yank {release}: {reason}", title=f"Yank {release.tag}",
        body=f"{release.tag} is yanked: {reason}\n\nFix forward: `{fix_forward}`.", then=then,
    )  # fmt: skip
    cut_branch(c, cut, dry_run=dry_run)
    if not dry_run:
        github = "notes begin with the reason" if notes is not None else "none to edit"
        print(f"yank: {branch} pushed and its PR to {base} opened; GitHub Release: {github}")
    pypi = f"https://pypi.org/manage/project/{PROJECT}/release/{release}/"
    print(f"by hand: PyPI has no yank API: open {pypi}, Options > Yank, reason: {reason}")
    print(f"next: {fix_forward} (the fix forward)")
