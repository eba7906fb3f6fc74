"""The release flow: cut the release branch, tag it (the GitHub Release: github_release)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from invoke.context import Context

from scripts import files, gitops
from scripts.versioning import bump, changelog, versions

from .preconditions import fetch, origin_refs, refuse_existing_branch, require_clean, require_newer
from .status_rules import Flow, next_step
from .steps import (
    CHANGELOG,
    DEVELOP,
    MAIN,
    NEXT,
    REMOTE,
    Refused,
    StepFailed,
    final_release,
    parse_release,
    repository,
    run,
    switch_back,
    task,
    today,
    undone_on_failure,
)

CHECKLIST = Path("docs") / "release-checklist.md"
VERSION_HELP = "the release, X.Y.Z (a leading v is accepted)"
TAG_HELP = "the release, X.Y.Z (on main) or a pre-release X.Y.ZrcN (on release/vX.Y.Z)"


def checklist(release: versions.Release, branch: str, target: str) -> str:
    """The release checklist, for the PR of BRANCH into TARGET."""
    text = (repository() / CHECKLIST).read_text(encoding="utf-8")
    text = text.replace("release/vX.Y.Z", branch).replace(
        f"git switch {MAIN}", f"git switch {target}"
    )
    return text.replace("X.Y.Z", str(release))


@dataclass(frozen=True)
class BranchCut:
    """A branch cut from START, CHANGELOG.md replaced by TEXT (SAID of it in a dry run) in one
    commit (MESSAGE), pushed, and its pull request (TITLE, BODY) opened into TARGET; THEN: the
    commands run after."""

    branch: str
    start: str
    target: str
    text: str
    said: str
    message: str
    title: str
    body: str
    then: tuple[list[str], ...] = ()


def release_cut(
    kind: str, release: versions.Release, start: str, target: str, text: str, said: str
) -> BranchCut:
    """The cut of RELEASE's branch from START into TARGET, for a release (KIND "Release") or a
    hotfix ("Hotfix"): the release checklist is its pull request's description."""
    branch = release.hotfix_branch if kind == "Hotfix" else release.branch
    verb = {"Release": "prepare release", "Hotfix": "start hotfix"}[kind]
    return BranchCut(
        branch, start, target, text, said, message=f"chore: {verb} {release}",
        title=f"{kind} {release.tag}", body=checklist(release, branch, target),
    )  # fmt: skip


def cut_branch(c: Context, cut: BranchCut, *, dry_run: bool) -> None:
    """What cut-release, cut-hotfix and yank do alike: the CUT, undone (saying what reached
    origin) when a step fails."""
    back = switch_back()
    with undone_on_failure(c) as undo:
        run(c, ["git", "switch", "--no-track", "-c", cut.branch, cut.start], dry_run=dry_run)
        undo.add(back, ["git", "branch", "-D", cut.branch])
        if dry_run:
            print(f"(write {CHANGELOG}: {cut.said})")
        else:
            try:
                files.write_atomic(repository() / CHANGELOG, cut.text)
            except OSError as error:
                raise StepFailed(f"cannot write {CHANGELOG}: {error.strerror or error}") from None
        undo.add(["git", "checkout", "HEAD", "--", CHANGELOG])
        run(c, ["git", "add", CHANGELOG], dry_run=dry_run)
        run(c, ["git", "commit", "-m", cut.message], dry_run=dry_run)
        run(c, ["git", "push", "--set-upstream", REMOTE, cut.branch], dry_run=dry_run)
        undo.add_remote(f"branch {cut.branch}", ["git", "push", REMOTE, "--delete", cut.branch])
        pulls = ["gh", "api", "--method", "POST", "repos/{owner}/{repo}/pulls"]
        fields = {"base": cut.target, "head": cut.branch, "title": cut.title, "body": cut.body}
        pairs = [word for key, value in fields.items() for word in ("-f", f"{key}={value}")]
        run(c, [*pulls, *pairs], dry_run=dry_run)
        for command in cut.then:
            run(c, command, dry_run=dry_run)


@task(
    help={
        "version": "the release, X.Y.Z, or `next`: the version `invoke next-version` names",
        "dry_run": "print every step and the new CHANGELOG section; change nothing",
    },
)
def cut_release(c: Context, version: str, dry_run: bool = False) -> None:
    """Branch release/vX.Y.Z from develop (or support/X.Y), date the CHANGELOG, open the PR."""
    given = None if version == NEXT else final_release(version)
    require_clean()
    # On a maintenance branch the release is of its line: cut from it, merged back into it.
    line = versions.maintained_line(gitops.current_branch())
    base, target = (line.branch, line.branch) if line else (DEVELOP, MAIN)
    if line is not None and given is not None and given.line != line:
        raise Refused(f"{line.branch} releases {line}.Z versions, not {given}")
    origin = origin_refs()
    tip = origin.get(f"refs/heads/{base}")
    if tip is None:
        raise Refused(f"{REMOTE} has no {base} branch to release from")
    if not dry_run:
        fetch(c, "--no-tags", REMOTE, base)
        tip = gitops.rev(f"{REMOTE}/{base}") or tip
    elif not gitops.has_object(tip):
        print(f"note: {REMOTE}/{base} has commits not fetched yet; the real run fetches them")
        tip = f"{REMOTE}/{base}"
    text = gitops.show(tip, CHANGELOG)
    if text is None:
        raise Refused(f"{REMOTE}/{base} has no {CHANGELOG}")
    release = given or inferred_release(text, line, origin, f"{CHANGELOG} on {REMOTE}/{base}")
    branch = release.branch
    refuse_existing_branch(branch, origin)
    require_newer(release, origin, within=[] if line else None)
    try:
        new_text = changelog.release(text, release, today())
        section = changelog.section_text(new_text, release)
    except ValueError as error:
        raise Refused(f"{CHANGELOG} on {REMOTE}/{base}: {error}") from None
    # The history's problems do not stop a release: they are said, and kept as they are.
    for warning in changelog.parse(text).warnings:
        print(f"cut-release: warning: {CHANGELOG} on {REMOTE}/{base}: {warning}")
    if dry_run:
        print(f"The new section of {CHANGELOG}:\n\n## [{release}] - {today()}\n\n{section}\n")
    said = f"[Unreleased] entries move under ## [{release}]"
    cut = release_cut("Release", release, tip, target, new_text, said)
    cut_branch(c, cut, dry_run=dry_run)
    if not dry_run:
        print(f"cut-release: {branch} pushed and the PR to {target} opened")
        flow: Flow = "support" if target != "main" else "release"
        print(f"next: {next_step('pr', release, target=target, flow=flow)}")


def inferred_release(
    text: str, line: versions.Line | None, origin: dict[str, str], where: str
) -> versions.Release:
    """The next release TEXT's [Unreleased] calls for (said first), after the latest release tag
    here or on origin (of LINE, on a maintenance line)."""
    tags = set(gitops.local_tags()) | set(gitops.remote_tags(origin))
    try:
        found = bump.next_after_tags(text, tags, line)
    except ValueError as error:
        raise Refused(f"{where}: {error}") from None
    print(f"next version: {found.release} ({found.reason})", flush=True)
    return found.release


def branch_to_tag(release: versions.Release, current: str | None) -> str:
    """The branch RELEASE is tagged on, which must be CURRENT: a final on main, or on the
    support branch of its line; a pre-release on the release branch of its final, before the
    merge. Refused, saying where, when CURRENT is another."""
    if release.kind != "final":
        where = release.branch
    elif versions.maintained_line(current) == release.line:
        where = release.line.branch
    else:
        where = MAIN
    if current == where:
        return where
    if release.kind == "final" and current == release.branch:
        raise Refused(
            f"a final is tagged on {MAIN}, after the release PR is merged; on {current} tag "
            f"a pre-release ({release}rc1)"
        )
    if release.kind == "final" and current == release.hotfix_branch:
        raise Refused(
            f"a hotfix is tagged on {MAIN}, after its PR is merged: merge it, then "
            f"`git switch {MAIN} && git pull --ff-only`"
        )
    if release.kind != "final" and current == MAIN:
        raise Refused(f"a pre-release is tagged on {where}, not on {MAIN}")
    raise Refused(f"{release} is tagged on {where}: run `git switch {where}` first")


@task(
    help={
        "version": TAG_HELP,
        "dry_run": "print the tag message and the commands; change nothing",
    }
)
def tag(c: Context, version: str, dry_run: bool = False) -> None:
    """Tag main or support/X.Y as vX.Y.Z, or release/vX.Y.Z as vX.Y.ZrcN; push the tag alone."""
    release = parse_release(version)
    where = branch_to_tag(release, gitops.current_branch())
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
    # Above every release this branch holds and every one of its line: not every tag anywhere.
    require_newer(release, origin, within=gitops.tags_merged("HEAD"))
    hint = "merge the release PR first" if release.kind == "final" else "run cut-release first"
    path = repository() / CHANGELOG
    if not path.is_file():
        raise Refused(f"{where} has no {CHANGELOG} ({hint})")
    text = path.read_text(encoding="utf-8")
    try:
        # A pre-release's notes are its final's section as it stands.
        section = changelog.section_text(text, release.final)
        entries = changelog.section_entries(text, release.final)
    except ValueError as error:
        raise Refused(f"{CHANGELOG}: {error} ({hint})") from None
    if not entries:
        raise Refused(
            f"{CHANGELOG}: the [{release.final}] section has no '- ' entries: say what the "
            "release changes"
        )
    title = "Release" if release.kind == "final" else "Pre-release"
    message = f"{title} {release}\n\n{section}\n"
    with undone_on_failure(c) as undo:
        annotated = ["git", "tag", "--annotate", "--cleanup=verbatim", "-m", message, release.tag]
        run(c, annotated, dry_run=dry_run)
        undo.add(["git", "tag", "--delete", release.tag])
        run(c, ["git", "push", REMOTE, f"refs/tags/{release.tag}"], dry_run=dry_run)
    if not dry_run:
        print(f"tag: {release.tag} pushed; the release workflow takes it from here")
        # The same step for every flow: release.yml, started by the tag.
        print(f"next: {next_step('staging', release, target=where, flow='release')}")
