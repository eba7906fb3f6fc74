"""The release flow: cut the release branch, tag main, merge back, publish the GitHub Release."""

from __future__ import annotations

from pathlib import Path

from invoke.context import Context

from scripts import changelog, files, gitops, manifest

from .steps import (
    CHANGELOG,
    DEVELOP,
    MAIN,
    REMOTE,
    ROOT,
    Refused,
    StepFailed,
    Undo,
    failure,
    final_release,
    origin_refs,
    parse_release,
    quietly,
    require_clean,
    require_newer,
    run,
    switch_back,
    task,
    today,
)

CHECKLIST = ROOT / "docs" / "release-checklist.md"
VERSION_HELP = "the release, X.Y.Z (a leading v is accepted)"
TAG_HELP = "the release, X.Y.Z (on main) or a pre-release X.Y.ZrcN (on release/vX.Y.Z)"


def _checklist(version: str) -> str:
    return CHECKLIST.read_text(encoding="utf-8").replace("X.Y.Z", version)


@task(
    help={
        "version": VERSION_HELP,
        "dry_run": "print every step and the new CHANGELOG section; change nothing",
    }
)
def cut_release(c: Context, version: str, dry_run: bool = False) -> None:
    """Branch release/vX.Y.Z from origin/develop, date the CHANGELOG, push, open the PR."""
    release = final_release(version, "cut-release")
    branch = release.branch
    require_clean()
    if gitops.local_branch_exists(branch):
        raise Refused(f"branch {branch} already exists locally")
    origin = origin_refs()
    if f"refs/heads/{branch}" in origin:
        raise Refused(f"branch {branch} already exists on {REMOTE}")
    require_newer(release, origin)
    develop = origin.get(f"refs/heads/{DEVELOP}")
    if develop is None:
        raise Refused(f"{REMOTE} has no {DEVELOP} branch to release from")
    if not dry_run:
        try:
            run(c, ["git", "fetch", "--no-tags", REMOTE, DEVELOP], dry_run=False)
        except StepFailed as error:
            raise Refused(str(error)) from None
        develop = gitops.rev(f"{REMOTE}/{DEVELOP}") or develop
    elif not gitops.has_object(develop):
        print(f"note: {REMOTE}/{DEVELOP} has commits not fetched yet; the real run fetches them")
        develop = f"{REMOTE}/{DEVELOP}"
    text = gitops.show(develop, CHANGELOG)
    if text is None:
        raise Refused(f"{REMOTE}/{DEVELOP} has no {CHANGELOG}")
    try:
        new_text = changelog.release(text, release, today())
        section = changelog.section_text(new_text, release)
    except ValueError as error:
        raise Refused(f"{CHANGELOG} on {REMOTE}/{DEVELOP}: {error}") from None
    back = switch_back()
    if dry_run:
        print(f"The new section of {CHANGELOG}:\n\n## [{release}] - {today()}\n\n{section}\n")
    undo = Undo(c)
    try:
        run(c, ["git", "switch", "--no-track", "-c", branch, develop], dry_run=dry_run)
        undo.add(back, ["git", "branch", "-D", branch])
        if dry_run:
            print(f"(write {CHANGELOG}: [Unreleased] entries move under ## [{release}])")
        else:
            try:
                files.write_atomic(ROOT / CHANGELOG, new_text)
            except OSError as error:
                raise StepFailed(f"cannot write {CHANGELOG}: {error.strerror or error}") from None
        undo.add(["git", "checkout", "HEAD", "--", CHANGELOG])
        run(c, ["git", "add", CHANGELOG], dry_run=dry_run)
        run(c, ["git", "commit", "-m", f"chore: prepare release {release}"], dry_run=dry_run)
        run(c, ["git", "push", "--set-upstream", REMOTE, branch], dry_run=dry_run)
        undo.add_remote(f"branch {branch}", ["git", "push", REMOTE, "--delete", branch])
        run(
            c,
            [
                "gh", "pr", "create", "--base", MAIN, "--head", branch,
                "--title", f"Release {release.tag}", "--body", _checklist(str(release)),
            ],
            dry_run=dry_run,
        )  # fmt: skip
    except (StepFailed, OSError, KeyboardInterrupt) as error:
        raise Refused(f"{failure(error)}; {undo.rollback()}") from None
    if not dry_run:
        print(f"cut-release: {branch} pushed and the PR to {MAIN} opened")


@task(
    help={
        "version": TAG_HELP,
        "dry_run": "print the tag message and the commands; change nothing",
    }
)
def tag(c: Context, version: str, dry_run: bool = False) -> None:
    """Tag main as vX.Y.Z, or release/vX.Y.Z as X.Y.ZrcN (annotated, the CHANGELOG section as
    message), and push that tag alone."""
    release = parse_release(version)
    # A final is tagged on main; a pre-release on the release branch of its final, before merging.
    where = MAIN if release.kind == "final" else release.branch
    current = gitops.current_branch()
    if current != where:
        if release.kind == "final" and current == release.branch:
            raise Refused(
                f"a final is tagged on {MAIN}, after the release PR is merged; on {current} tag "
                f"a pre-release ({release}rc1)"
            )
        if release.kind != "final" and current == MAIN:
            raise Refused(f"a pre-release is tagged on {where}, not on {MAIN}")
        raise Refused(f"{release} is tagged on {where}: run `git switch {where}` first")
    require_clean()
    origin = origin_refs()
    if origin.get(f"refs/heads/{where}") != gitops.head():
        raise Refused(
            f"{where} is not level with {REMOTE}/{where}: run `git pull --ff-only` "
            "(or push your commits) first"
        )
    if release.tag in gitops.local_tags():
        raise Refused(f"tag {release.tag} already exists locally")
    if f"refs/tags/{release.tag}" in origin:
        raise Refused(f"tag {release.tag} already exists on {REMOTE}")
    require_newer(release, origin)
    hint = "merge the release PR first" if release.kind == "final" else "run cut-release first"
    if not (ROOT / CHANGELOG).is_file():
        raise Refused(f"{where} has no {CHANGELOG} ({hint})")
    text = (ROOT / CHANGELOG).read_text(encoding="utf-8")
    try:
        # A pre-release's notes are its final's section as it stands.
        section = changelog.section_text(text, release.final)
    except ValueError as error:
        raise Refused(f"{CHANGELOG}: {error} ({hint})") from None
    title = "Release" if release.kind == "final" else "Pre-release"
    message = f"{title} {release}\n\n{section}\n"
    undo = Undo(c)
    try:
        run(
            c,
            ["git", "tag", "--annotate", "--cleanup=verbatim", "-m", message, release.tag],
            dry_run=dry_run,
        )
        undo.add(["git", "tag", "--delete", release.tag])
        run(c, ["git", "push", REMOTE, f"refs/tags/{release.tag}"], dry_run=dry_run)
    except (StepFailed, KeyboardInterrupt) as error:
        raise Refused(f"{failure(error)}; {undo.rollback()}") from None
    if not dry_run:
        print(f"tag: {release.tag} pushed; the release workflow takes it from here")


@task(help={"version": VERSION_HELP, "dry_run": "print the commands; change nothing"})
def finish_release(c: Context, version: str, dry_run: bool = False) -> None:
    """After the tag: merge main back into develop, push it, delete release/vX.Y.Z."""
    release = final_release(version, "finish-release")
    branch = release.branch
    require_clean()
    origin = origin_refs()
    if f"refs/tags/{release.tag}" not in origin:
        raise Refused(f"tag {release.tag} is not on {REMOTE}: run `invoke tag {release}` first")
    for needed in (MAIN, DEVELOP):
        if f"refs/heads/{needed}" not in origin:
            raise Refused(f"{REMOTE} has no {needed} branch")
    back = switch_back()
    local_develop = gitops.rev(DEVELOP)
    undo = Undo(c)
    try:
        run(c, ["git", "fetch", "--no-tags", REMOTE, MAIN, DEVELOP], dry_run=dry_run)
        if local_develop is None:
            run(c, ["git", "switch", "-c", DEVELOP, f"{REMOTE}/{DEVELOP}"], dry_run=dry_run)
            undo.add(back, ["git", "branch", "-D", DEVELOP])
        else:
            run(c, ["git", "switch", DEVELOP], dry_run=dry_run)
            undo.add(["git", "reset", "--hard", local_develop], back)
            run(c, ["git", "merge", "--ff-only", f"{REMOTE}/{DEVELOP}"], dry_run=dry_run)
        try:
            run(
                c,
                [
                    "git", "merge", "--no-ff", "--no-edit", "-m",
                    f"chore: merge {MAIN} ({release.tag}) back into {DEVELOP}", f"{REMOTE}/{MAIN}",
                ],
                dry_run=dry_run,
            )  # fmt: skip
        except StepFailed:
            quietly(c, ["git", "merge", "--abort"])
            raise StepFailed(
                f"merging {MAIN} into {DEVELOP} conflicts: merge by hand in a PR to {DEVELOP}"
            ) from None
        run(c, ["git", "push", REMOTE, DEVELOP], dry_run=dry_run)
    except (StepFailed, KeyboardInterrupt) as error:
        raise Refused(f"{failure(error)}; {undo.rollback()}") from None
    # develop is on origin now: what follows is tidying, reported but not undone.
    tidying = []
    if gitops.local_branch_exists(branch):
        tidying.append(["git", "branch", "--delete", branch])
    if f"refs/heads/{branch}" in origin:
        tidying.append(["git", "push", REMOTE, "--delete", branch])
    problems = []
    for command in tidying:
        try:
            run(c, command, dry_run=dry_run)
        except StepFailed as error:
            problems.append(str(error))
    if problems:
        raise Refused(f"{DEVELOP} was merged and pushed, but: {'; '.join(problems)}")
    if not dry_run:
        print(f"finish-release: {MAIN} merged back into {DEVELOP}; {branch} deleted")


@task(
    help={
        "version": TAG_HELP,
        "dist": "the folder of built files (default: dist)",
        "dry_run": "print the gh command; change nothing",
    }
)
def github_release(c: Context, version: str, dist: str = "dist", dry_run: bool = False) -> None:
    """Create the GitHub Release of vX.Y.Z or vX.Y.ZrcN: the dist/ files, the CHANGELOG section."""
    release = parse_release(version)
    folder = Path(dist)
    try:
        sums = manifest.check_dist(folder)
        manifest.check_version(sums, str(release))
    except manifest.ManifestError as error:
        raise Refused(str(error)) from None
    text = (ROOT / CHANGELOG).read_text(encoding="utf-8") if (ROOT / CHANGELOG).exists() else ""
    try:
        notes = changelog.section_text(text, release.final)
    except ValueError as error:
        raise Refused(f"{CHANGELOG}: {error}") from None
    attached = [str(folder / filename) for filename in sorted(sums)]
    attached.append(str(folder / manifest.MANIFEST_NAME))
    # A pre-release is marked so, and never becomes the latest release.
    marks = ["--prerelease", "--latest=false"] if release.kind == "pre-release" else []
    try:
        run(
            c,
            [
                "gh", "release", "create", release.tag, "--verify-tag", "--title", release.tag,
                "--notes", notes, "--generate-notes", *marks, *attached,
            ],
            dry_run=dry_run,
        )  # fmt: skip
    except StepFailed as error:
        raise Refused(str(error)) from None
