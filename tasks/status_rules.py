"""Where a release stands: what every system says of it, as rows, and the one command to run next.

Pure: `tasks.status` asks git, gh, dist/ and the two indexes once each and hands what they said
(`Seen`) to `rows`; the release flow's tasks name the step after theirs with `next_step`, the
same sentence `invoke status` ends with.

A row is `done`, `missing`, `wrong` (with why) or `unknown` (a system that could not be asked).
Rows run in the order a release does its stages; the next step is the first row that is missing
or wrong, except `dist` (files built here, which CI builds on its own), which only a mismatch
makes the next step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from scripts.versioning.versions import Release

State = Literal["done", "missing", "draft", "wrong", "unknown"]
Flow = Literal["release", "hotfix", "support", "pre-release"]
Files = Mapping[str, str]  # file name -> sha256 ("" when the index does not say)
UPLOAD_DAYS = 14  # an index takes a release's files for 14 days after its first
UNSERVING = ("quarantined", "archived")  # PEP 792 states in which an index takes no file
LABELS = {
    "branch": "release branch",
    "pr": "pull request",
    "tag": "tag",
    "dist": "build artifacts (dist/)",
    "staging": "staging index",
    "production": "production index",
    "github": "GitHub Release",
    "merged": "merged back into develop",
    "deleted": "release branch deleted",
}


@dataclass(frozen=True)
class Row:
    """One stage of a release, what state it is in, and the detail that says why."""

    stage: str
    state: State
    detail: str

    @property
    def label(self) -> str:
        return LABELS[self.stage]


@dataclass(frozen=True)
class Seen:
    """What each system said of one release; None where a system could not be asked (its
    reason in `why_unknown` under the stage's name)."""

    release: Release
    flow: Flow
    branch: str
    target: str
    branch_here: bool
    branch_on_origin: bool | None
    pr_state: str | None = None  # OPEN, MERGED, CLOSED, "" (no PR); None: gh not asked
    pr_number: int | None = None
    merged_in_git: bool | None = None  # the branch's tip is in the target on origin
    tag_on_origin: bool | None = None
    tag_annotated: bool | None = None
    tag_on_target: bool | None = None
    dist: Files = field(default_factory=dict)
    dist_problem: str | None = None
    sums: Files | None = None  # SHA256SUMS: dist's, or the GitHub Release's
    staging: Files | None = None
    production: Files | None = None
    github_assets: Files | None = None  # None: gh not asked; {} with github_exists False: none
    github_exists: bool | None = None
    github_prerelease: bool | None = None
    github_draft: bool | None = None  # not published yet: its assets can still change
    github_immutable: bool | None = None  # published, and never to change again
    # Each index's PEP 792 status of the project where not active, (status, reason), and the
    # version's first upload there (PEP 700): files come within 14 days of it, or never.
    project_status: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    first_upload: Mapping[str, str] = field(default_factory=dict)
    today: str = ""  # the date status asked on, ISO
    merged_back: bool | None = None
    yanked: str | None = None  # the reason, when the CHANGELOG marks the release [YANKED]
    why_unknown: Mapping[str, str] = field(default_factory=dict)


def _unknown(seen: Seen, stage: str) -> Row:
    return Row(stage, "unknown", seen.why_unknown.get(stage, "could not be asked"))


def _files(files: Files) -> str:
    return ", ".join(sorted(files)) or "no files"


def _compare(name: str, files: Files, reference: Files, reference_name: str) -> str | None:
    """Why FILES disagree with REFERENCE (the files both list), or None."""
    for filename in sorted(set(files) & set(reference)):
        if files[filename] and reference[filename] and files[filename] != reference[filename]:
            return (
                f"{filename} on {name} has other bytes than in {reference_name} "
                f"(sha256 {files[filename][:12]}… != {reference[filename][:12]}…)"
            )
    return None


def _index_row(seen: Seen, stage: str, files: Files | None, others: list[tuple[str, Files]]) -> Row:
    status, reason = seen.project_status.get(stage, ("active", ""))
    said = f"the project is {status} on the {LABELS[stage]}" + (f" ({reason})" if reason else "")
    if status == "quarantined":
        return Row(stage, "wrong", f"{said}: it serves and takes no file")
    if files is None:
        return _unknown(seen, stage)
    if not files:
        if status == "archived":
            return Row(stage, "wrong", f"no {seen.release} files, and {said}: it takes none")
        return Row(stage, "missing", f"no {seen.release} files")
    for name, reference in others:
        problem = _compare(LABELS[stage], files, reference, name)
        if problem:
            return Row(stage, "wrong", problem)
    wanted = 2  # one wheel, one sdist
    if len(files) < wanted:
        expected = f"only {_files(files)}: a wheel and an sdist are expected"
        return Row(stage, "wrong", expected + _last_upload_day(seen, stage))
    checked = [name for name, reference in others if set(reference) & set(files)]
    agree = f"; sha256 agree with {' and '.join(checked)}" if checked else ""
    marked = f"; {said}" if status != "active" else ""
    return Row(stage, "done", _files(files) + agree + marked)


def _last_upload_day(seen: Seen, stage: str) -> str:
    """When the release on STAGE's index takes its last file: 14 days after its first upload."""
    first = seen.first_upload.get(stage)
    if not first or not seen.today:
        return ""
    last = (date.fromisoformat(first[:10]) + timedelta(days=UPLOAD_DAYS)).isoformat()
    if seen.today <= last:
        return f"; files can be added until {last}"
    return f"; since {last} no file can be added: release a new version"


def _branch_row(seen: Seen) -> Row:
    if seen.branch_on_origin is None:
        return _unknown(seen, "branch")
    if seen.branch_on_origin:
        here = "here and on origin" if seen.branch_here else "on origin"
        return Row("branch", "done", f"{seen.branch} {here}")
    if seen.tag_on_origin:
        return Row("branch", "done", f"{seen.branch} was cut; {seen.release.tag} exists")
    return Row("branch", "missing", f"no {seen.branch} on origin")


def _pr_row(seen: Seen) -> Row:
    final, number = seen.flow != "pre-release", f"#{seen.pr_number}" if seen.pr_number else "the PR"
    if seen.pr_state == "MERGED" or seen.merged_in_git or (final and seen.tag_on_origin):
        return Row("pr", "done", f"{number} into {seen.target} merged")
    if seen.pr_state == "OPEN" and not final:
        return Row("pr", "done", f"{number} open (a pre-release is tagged before merging)")
    if seen.pr_state == "OPEN":
        return Row("pr", "missing", f"{number} into {seen.target} open, not merged yet")
    if seen.pr_state == "CLOSED":
        return Row("pr", "wrong", f"{number} was closed without merging")
    if seen.pr_state == "":
        return Row("pr", "missing", f"no PR from {seen.branch} into {seen.target}")
    return _unknown(seen, "pr")


def _tag_row(seen: Seen) -> Row:
    tag = seen.release.tag
    if seen.tag_on_origin is None:
        return _unknown(seen, "tag")
    if not seen.tag_on_origin:
        return Row("tag", "missing", f"no {tag} on origin")
    if seen.tag_annotated is False:
        return Row("tag", "wrong", f"{tag} is a lightweight tag, not annotated")
    if seen.tag_on_target is False:
        return Row("tag", "wrong", f"{tag} is not on {seen.target}")
    return Row("tag", "done", f"{tag} annotated, on {seen.target}")


def _dist_row(seen: Seen) -> Row:
    if seen.dist_problem:
        return Row("dist", "wrong", seen.dist_problem)
    if seen.dist:
        return Row("dist", "done", f"{_files(seen.dist)}, as SHA256SUMS says")
    return Row("dist", "missing", f"no {seen.release} files in dist/ here (CI builds them)")


def _merged_row(seen: Seen) -> Row:
    if seen.merged_back is None:
        return _unknown(seen, "merged")
    if seen.merged_back:
        return Row("merged", "done", f"{seen.release.tag} is in develop")
    return Row("merged", "missing", f"develop does not hold {seen.release.tag} yet")


def _deleted_row(seen: Seen) -> Row:
    if seen.branch_on_origin is None:
        return _unknown(seen, "deleted")
    if not seen.tag_on_origin:
        return Row("deleted", "missing", f"after {seen.release.tag}: not tagged yet")
    if seen.branch_on_origin or seen.branch_here:
        where = "on origin" if seen.branch_on_origin else "here"
        return Row("deleted", "missing", f"{seen.branch} is still {where}")
    return Row("deleted", "done", f"no {seen.branch} here or on origin")


def rows(seen: Seen) -> list[Row]:
    """Every stage of SEEN's release, in the order a release goes through them."""
    final = seen.flow != "pre-release"
    reference = [("SHA256SUMS", seen.sums)] if seen.sums else []
    staging = [("the staging index", seen.staging)] if seen.staging else []
    found = [
        _branch_row(seen), _pr_row(seen), _tag_row(seen), _dist_row(seen),
        _index_row(seen, "staging", seen.staging, reference),
        _index_row(seen, "production", seen.production, staging + reference),
        _github_row(seen),
    ]  # fmt: skip
    if final and seen.flow != "support":
        found.append(_merged_row(seen))
    if final:
        found.append(_deleted_row(seen))
    return found


def _github_row(seen: Seen) -> Row:
    release = seen.release
    if seen.github_exists is None or seen.github_assets is None:
        return _unknown(seen, "github")
    if not seen.github_exists:
        return Row("github", "missing", f"no GitHub Release {release.tag}")
    if seen.github_draft:
        count = len(seen.github_assets)
        return Row("github", "draft", f"{release.tag} is a draft ({count} assets), not published")
    prerelease = seen.flow == "pre-release"
    if seen.github_prerelease is not None and seen.github_prerelease != prerelease:
        marked = "marked pre-release" if seen.github_prerelease else "not marked pre-release"
        return Row("github", "wrong", f"{release.tag} is {marked}")
    artifacts = {name for name in seen.github_assets if name != "SHA256SUMS"}
    if len(artifacts) < 2 or "SHA256SUMS" not in seen.github_assets:
        return Row("github", "wrong", f"assets are {_files(seen.github_assets)}")
    served = seen.github_assets
    other = sorted(name for name in artifacts
                   if seen.sums and served[name] not in ("", seen.sums.get(name)))  # fmt: skip
    if other:
        return Row("github", "wrong", f"other bytes than SHA256SUMS for {', '.join(other)}")
    mark = ", pre-release" if prerelease else ""
    locked = ", immutable" if seen.github_immutable else ""
    return Row("github", "done", f"{len(seen.github_assets)} assets{mark}{locked}")


def release_flow(
    release: Release,
    *,
    hotfix_branch: bool,
    support_branch: bool,
    tag_on_main: bool | None = None,
    tag_on_support: bool | None = None,
    cut_from_support: bool = False,
    older_line: bool = False,
) -> Flow:
    """Which flow RELEASE goes through, from where its refs are.

    A pre-release is one; a final with a hotfix/vX.Y.Z branch (here or on origin) is a hotfix.
    With support/X.Y on origin, a final is the line's when its tag is on the line and not on main,
    or, untagged, when its release branch was cut from the line (the branch holds the line's tip,
    or the line the branch's once its PR is merged; develop does not), or, not cut yet, when its
    line X.Y is older than the latest release's.
    Everything else is a release from develop into main.
    """
    if release.kind != "final":
        return "pre-release"
    if hotfix_branch:
        return "hotfix"
    if not support_branch or tag_on_main:
        return "release"
    if tag_on_support is not None:
        return "support" if tag_on_support else "release"
    return "support" if cut_from_support or older_line else "release"


def branch_and_target(release: Release, flow: Flow) -> tuple[str, str]:
    """The branch FLOW takes RELEASE through, and the branch it goes into."""
    if flow == "pre-release":
        return release.branch, release.branch
    if flow == "support":
        return release.branch, release.line.branch
    if flow == "hotfix":
        return release.hotfix_branch, "main"
    return release.branch, "main"


def next_step(stage: str, release: Release, *, target: str, flow: Flow) -> str:
    """The one command that does STAGE of RELEASE (the first stage not done)."""
    runs = f"gh run list --workflow release.yml --branch {release.tag}"
    commands = {
        "branch": f"invoke cut-hotfix {release}" if flow == "hotfix" else
        f"git switch {target} && invoke cut-release {release}" if flow == "support" else
        f"invoke cut-release {release.final}",
        "pr": f"gh pr merge {release.hotfix_branch if flow == 'hotfix' else release.branch} "
        "--merge (once reviewed and green)",
        "tag": f"git switch {target} && git pull --ff-only && invoke tag {release}",
        "dist": "nox -s build",
        "staging": f"{runs} (release.yml publishes to staging on the tag; re-run it if it failed)",
        "production": f"{runs} (approve the `release` environment on the run's page)",
        "github": f"invoke github-release {release} (with the release run's dist/ files)",
        "merged": f"invoke finish-release {release}",
        "deleted": f"invoke finish-release {release}",
    }  # fmt: skip
    return commands[stage]


def wrong_step(row: Row, seen: Seen) -> str:
    """What to do about a wrong ROW of SEEN's release."""
    release, stated = seen.release, seen.project_status.get(row.stage)
    if row.stage in ("staging", "production") and stated and stated[0] in UNSERVING:
        return f"ask the index's maintainers (nothing here can fix it): {row.detail}"
    if row.stage in ("staging", "production"):
        return (
            f"stop the release: {row.detail}; `invoke yank {release} --reason '...'`, then fix "
            f"forward with `invoke cut-hotfix {release.next_patch()}`"
        )
    if row.stage == "github" and seen.github_immutable:
        return (
            f"the GitHub Release {release.tag} is immutable: {row.detail}; it can never change, "
            f"so release a new version (`invoke cut-hotfix {release.next_patch()}`)"
        )
    if row.stage == "github":  # the files on the indexes are as they should be
        return (
            f"mend the GitHub Release by hand: {row.detail} (`gh release upload {release.tag} "
            f"dist/*`, `gh release edit {release.tag}`)"
        )
    if row.stage == "tag":
        return f"fix the tag by hand before anything is published: {row.detail}"
    if row.stage == "dist":
        return "nox -s build (dist/ does not match its SHA256SUMS)"
    return f"fix by hand: {row.detail}"


def what_next(found: list[Row], seen: Seen) -> str:
    """The one next command for the rows FOUND of SEEN's release."""
    unknown = [row.label for row in found if row.state == "unknown"]
    for row in found:
        if row.state == "wrong":
            return wrong_step(row, seen)
        if row.state in ("missing", "draft") and row.stage != "dist":
            step = next_step(row.stage, seen.release, target=seen.target, flow=seen.flow)
            before = [r.label for r in found[: found.index(row)] if r.state == "unknown"]
            return step + (f" (not seen: {', '.join(before)})" if before else "")
    if seen.yanked is not None:
        return f"invoke cut-hotfix {seen.release.next_patch()} (the fix forward)"
    if unknown:
        return f"nothing seen left to do; not seen: {', '.join(unknown)}"
    return f"nothing: {seen.release.tag} is released"
