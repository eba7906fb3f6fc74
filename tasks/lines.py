"""Release lines beside develop's: a hotfix of main's latest release, and maintenance lines.

A hotfix branches from the latest final tag on main (its next patch, nothing else), starts its
CHANGELOG section, and goes through a PR into main, then `tag` and `finish-release` as a release
does. A maintenance line `support/X.Y` starts at the latest `vX.Y.*` tag; on it, `cut-release`
cuts from and merges into the line, and `tag` tags it, while a newer line goes on elsewhere.
"""

from __future__ import annotations

from invoke.context import Context

from scripts import gitops
from scripts.versioning import changelog, versions

from .preconditions import fetch, origin_refs, refuse_existing_branch, require_clean, require_newer
from .release import cut_branch, release_cut
from .steps import (
    CHANGELOG,
    MAIN,
    REMOTE,
    Refused,
    final_release,
    run,
    switch_back,
    task,
    today,
    undone_on_failure,
)


@task(
    help={
        "version": "the hotfix, X.Y.Z: the next patch of the latest release on main",
        "dry_run": "print every step and the started CHANGELOG section; change nothing",
    }
)
def cut_hotfix(c: Context, version: str, dry_run: bool = False) -> None:
    """Branch hotfix/vX.Y.Z from main's latest release, start its CHANGELOG section, open the PR."""
    release = final_release(version)
    branch = release.hotfix_branch
    require_clean()
    origin = origin_refs()
    refuse_existing_branch(branch, origin)
    if f"refs/heads/{MAIN}" not in origin:
        raise Refused(f"{REMOTE} has no {MAIN} branch to fix")
    if not dry_run:
        fetch(c, "--tags", REMOTE, MAIN)
    main = f"{REMOTE}/{MAIN}" if gitops.rev(f"{REMOTE}/{MAIN}") else MAIN
    latest = versions.latest_final(gitops.tags_merged(main))
    if latest is None:
        raise Refused(f"{main} has no release tag to fix: release it first")
    if release != latest.next_patch():
        raise Refused(
            f"a hotfix is the next patch of {main}'s latest release {latest.tag}: "
            f"{latest.next_patch()}, not {release}"
        )
    require_newer(release, origin, within=[])
    text = gitops.show(latest.tag, CHANGELOG)
    if text is None:
        raise Refused(f"{latest.tag} has no {CHANGELOG}")
    try:
        new_text = changelog.start_section(text, release, today())
    except ValueError as error:
        raise Refused(f"{CHANGELOG} at {latest.tag}: {error}") from None
    if dry_run:
        print(f"The started section of {CHANGELOG}:\n\n## [{release}] - {today()}\n\n### Fixed\n")
    said = f"## [{release}] started under [Unreleased]"
    cut = release_cut("Hotfix", release, latest.tag, MAIN, new_text, said)
    cut_branch(c, cut, dry_run=dry_run)
    if not dry_run:
        print(
            f"cut-hotfix: {branch} pushed from {latest.tag} and the PR to {MAIN} opened; commit "
            f"the fix with its entry under ## [{release}] ### Fixed"
        )


@task(
    help={
        "line": "the release line to maintain, X.Y (from its latest vX.Y.Z tag)",
        "dry_run": "print the commands; change nothing",
    }
)
def cut_support(c: Context, line: str, dry_run: bool = False) -> None:
    """Start the maintenance line support/X.Y at the latest vX.Y.Z tag and push it."""
    try:
        maintained = versions.Line.parse(line)
    except versions.VersionError as error:
        raise Refused(str(error)) from None
    branch = maintained.branch
    require_clean()
    origin = origin_refs()
    refuse_existing_branch(branch, origin)
    tags = set(gitops.local_tags()) | set(gitops.remote_tags(origin))
    latest = versions.latest_final(versions.of_line(maintained, tags))
    if latest is None:
        raise Refused(f"no v{maintained}.Z release to maintain: the line starts at a final tag")
    if latest.tag not in gitops.local_tags():
        raise Refused(f"tag {latest.tag} is on {REMOTE} only: run `git fetch --tags` first")
    back = switch_back()
    with undone_on_failure(c) as undo:
        run(c, ["git", "switch", "--no-track", "-c", branch, latest.tag], dry_run=dry_run)
        undo.add(back, ["git", "branch", "-D", branch])
        run(c, ["git", "push", "--set-upstream", REMOTE, branch], dry_run=dry_run)
    if not dry_run:
        print(
            f"cut-support: {branch} pushed from {latest.tag}; its releases: `invoke cut-release "
            f"{latest.next_patch()}` on it, then `invoke tag {latest.next_patch()}` on it"
        )
