"""Where a release stands, and what comes next: `next-version` and `status`. Neither changes
anything.

`status` asks each system once, with a short timeout: origin (one `git ls-remote`), GitHub (the
PR and the Release, through gh), dist/ here, and the staging and production indexes (their simple
API). What cannot be asked is `unknown`, and the rest still shows. The rows and the next step
are decided in tasks.status_rules.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from invoke.context import Context

from scripts import PROJECT, gitops
from scripts.artifacts import manifest
from scripts.indexes.index_targets import resolve_target
from scripts.versioning import bump, changelog, versions

from . import status_rules
from .gh import TIMEOUT, Answer, gh_api, release_endpoint
from .steps import CHANGELOG, DEVELOP, MAIN, REMOTE, Refused, parse_release, repository, task


@task
def next_version(c: Context) -> None:
    """Print the next release version from CHANGELOG [Unreleased] and the latest tag, and why."""
    line = versions.maintained_line(gitops.current_branch())
    try:
        text = (repository() / CHANGELOG).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Refused(f"no {CHANGELOG} here") from None
    refs, _ = _origin()
    tags = set(gitops.local_tags()) | set(gitops.remote_tags(refs or {}))
    try:
        found = bump.next_after_tags(text, tags, line)
    except ValueError as error:
        raise Refused(f"{CHANGELOG}: {error}") from None
    print(found.release)
    print(found.reason)


def _origin() -> tuple[dict[str, str] | None, set[str]]:
    """Origin's refs and annotated tags; (None, set()) when it cannot be read in time."""
    try:
        return gitops.remote_listing(REMOTE, repository(), timeout=TIMEOUT)
    except gitops.GitError:
        return None, set()


def _index_files(spec: str, version: str) -> tuple[dict[str, Any], str]:
    """What the index SPEC names holds of VERSION: {file: sha256} (None if it could not be
    asked, and why), the project's PEP 792 status when not active, and the version's first
    upload time (PEP 700, where the index gives it)."""
    # Only here: its HTTP modules slowed every other task's start-up.
    from scripts.indexes import index, simple_pages

    try:
        target = resolve_target(spec, local_url=spec)
        links, state = index.list_page(target.simple_url, PROJECT, timeout=TIMEOUT, attempts=1)
    except (ValueError, simple_pages.PackageIndexError) as error:
        return {"files": None}, str(error)
    files, times = {}, []
    for name, link in links.items():
        try:
            if manifest.artifact_version(name)[1] == version:
                files[name] = link.sha256
                times += [link.upload_time] if link.upload_time else []
        except manifest.ManifestError:
            continue
    status = (state.status, state.reason) if state.status != "active" else None
    return {"files": files, "status": status, "first": min(times, default="")}, ""


def _dist(folder: Path, version: str) -> tuple[dict[str, str], dict[str, str] | None, str | None]:
    """dist/'s files of VERSION, its SHA256SUMS, and what is wrong with them (a dist/ of
    another version is none of this release's business)."""
    try:
        listed = manifest.read_manifest(folder)
        if not any(manifest.artifact_version(name)[1] == version for name in listed):
            return {}, None, None
        sums = manifest.check_dist(folder)
        manifest.check_version(sums, version)
    except manifest.ManifestError as error:
        return {}, None, None if not (folder / manifest.MANIFEST_NAME).is_file() else str(error)
    return dict(sums), dict(sums), None


def release_in_progress(refs: dict[str, str], tags: set[str]) -> versions.Release | None:
    """The release in progress: the current branch's, when it is release/vX.Y.Z or
    hotfix/vX.Y.Z; else the highest such branch not tagged yet; else the highest one tagged but
    not merged back into develop (a maintenance release before finish-release); else the latest
    release tag."""
    names = [ref.removeprefix("refs/heads/") for ref in refs if ref.startswith("refs/heads/")]
    names += gitops.git("branch", "--format=%(refname:short)").splitlines()
    current = gitops.current_branch()
    cut = [
        found
        for name in names
        if name.startswith(("release/", "hotfix/"))
        and (found := versions.release_of(name.partition("/")[2])) is not None
    ]
    develop = refs.get(f"refs/heads/{DEVELOP}") or gitops.rev(DEVELOP)
    mine = [found for found in cut if current in (found.branch, found.hotfix_branch)]
    untagged = [found for found in cut if found.tag not in tags]
    unfinished = [
        found
        for found in cut
        if found.tag in tags
        and not (develop and gitops.has_object(develop) and gitops.is_ancestor(found.tag, develop))
    ]
    for candidates in (mine, untagged, unfinished):
        if candidates:
            return max(candidates)
    return versions.latest_release(tags)


def _contains(ancestor: str | None, ref: str | None, *, origin_read: bool) -> bool | None:
    """Whether commit REF contains ANCESTOR; None when that cannot be told here (origin
    unread, or a commit not fetched)."""
    if ancestor is None or ref is None:
        return False if origin_read else None
    if not (gitops.has_object(ancestor) and gitops.has_object(ref)):
        return None
    return gitops.is_ancestor(ancestor, ref)


def _git_probe(
    release: versions.Release, refs: dict[str, str] | None, annotated: set[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """What git here and on origin (REFS, its ANNOTATED tags) says of RELEASE: Seen's git
    fields, and why any of them is unknown."""
    origin, read = refs or {}, refs is not None
    why = {} if read else dict.fromkeys(
        ("branch", "tag", "merged", "deleted"), f"cannot read {REMOTE} within {TIMEOUT:.0f} s"
    )  # fmt: skip

    def head(name: str) -> str | None:
        return origin.get(f"refs/heads/{name}")

    def contains(ancestor: str | None, ref: str | None) -> bool | None:
        return _contains(ancestor, ref, origin_read=read)

    tag_sha = origin.get(f"refs/tags/{release.tag}")
    support_sha, develop_sha = head(release.line.branch), head(DEVELOP)
    release_sha = head(release.branch) or gitops.rev(release.branch)
    tags = set(gitops.local_tags()) | set(gitops.remote_tags(origin))
    flow = status_rules.release_flow(
        release,
        hotfix_branch=head(release.hotfix_branch) is not None
        or gitops.local_branch_exists(release.hotfix_branch),
        support_branch=support_sha is not None,
        tag_on_support=contains(tag_sha, support_sha) if tag_sha else None,
        tag_on_main=contains(tag_sha, head(MAIN)) if tag_sha else None,
        # Cut from the line: the branch holds the line's tip (or, its PR merged, the line holds
        # the branch's), and develop does not.
        cut_from_support=bool(
            contains(support_sha, release_sha) or contains(release_sha, support_sha)
        )
        and contains(support_sha, develop_sha) is False,
        older_line=release_sha is None and _older_line(release, tags),
    )
    branch, target = status_rules.branch_and_target(release, flow)
    on_target = contains(tag_sha, head(target)) if tag_sha else None
    if tag_sha and on_target is None:
        why["tag"] = f"{release.tag} or {target} not fetched here: run `git fetch --tags`"
    merged_back = contains(tag_sha, develop_sha) if tag_sha else (None if not read else False)
    if tag_sha and merged_back is None:
        why["merged"] = f"{DEVELOP} not fetched here: run `git fetch`"
    branch_sha = head(branch)
    return {
        "flow": flow, "branch": branch, "target": target, "merged_back": merged_back,
        "branch_here": gitops.local_branch_exists(branch),
        "branch_on_origin": branch_sha is not None if read else None,
        "merged_in_git": contains(branch_sha, head(target)) if branch_sha else None,
        "tag_on_origin": tag_sha is not None if read else None,
        "tag_annotated": release.tag in annotated if tag_sha else None,
        "tag_on_target": on_target,
    }, why  # fmt: skip


def _pr_probe(branch: str, target: str) -> tuple[dict[str, Any], dict[str, str]]:
    """What GitHub says of the pull request from BRANCH into TARGET (REST: open, closed, or
    closed with a merge time, which is merged)."""
    answer = gh_api(
        f"repos/{{owner}}/{{repo}}/pulls?head={{owner}}:{branch}&base={target}&state=all&per_page=1"
    )
    if answer.status != 200 or not isinstance(answer.body, list):
        why = answer.why or f"GitHub answered HTTP {answer.status}, not a list of pull requests"
        return {}, {"pr": why}
    found = answer.body[0] if answer.body else None
    if found is None:
        return {"pr_state": "", "pr_number": None}, {}
    state = "MERGED" if found.get("merged_at") else str(found.get("state", "")).upper()
    return {"pr_state": state, "pr_number": int(found["number"])}, {}


def _github_probe(tag: str) -> tuple[dict[str, Any], dict[str, str]]:
    """What GitHub says of the GitHub Release of TAG: whether it exists, is a draft (only the
    list shows drafts) or immutable, its assets' digests, its pre-release mark (and its notes,
    for the yank mark)."""
    answer = gh_api(release_endpoint(tag))
    if answer.status == 404:
        answer = gh_api("repos/{owner}/{repo}/releases?per_page=100")
        drafts = [r for r in answer.body if r.get("tag_name") == tag and r.get("draft")] if (
            answer.status == 200 and isinstance(answer.body, list)) else None  # fmt: skip
        if drafts is None:
            why = answer.why or f"GitHub answered HTTP {answer.status}, not a list of releases"
            return {}, {"github": why}
        if not drafts:
            return {"github_exists": False, "github_assets": {}}, {}
        answer = Answer(200, drafts[0])
    if answer.status != 200 or not isinstance(answer.body, dict):
        why = answer.why or f"GitHub answered HTTP {answer.status}, not a release"
        return {}, {"github": why}
    assets = answer.body.get("assets", [])
    return {
        "github_exists": True,
        "github_draft": bool(answer.body.get("draft")),
        "github_immutable": bool(answer.body.get("immutable")),
        "github_prerelease": bool(answer.body.get("prerelease")),
        "github_assets": {
            str(asset["name"]): str(asset.get("digest") or "").removeprefix("sha256:")
            for asset in assets
        },
        "notes": str(answer.body.get("body") or ""),
    }, {}


def seen_of(
    release: versions.Release,
    staging: str,
    production: str,
    dist: Path,
    origin: tuple[dict[str, str] | None, set[str]] | None = None,
) -> status_rules.Seen:
    """What git, gh, dist/ and the two indexes say of RELEASE, asking each once (ORIGIN: what
    `_origin` read already, if it did)."""
    refs, annotated = origin or _origin()
    fields, why = _git_probe(release, refs, annotated)
    for found, unknown in (
        _pr_probe(fields["branch"], fields["target"]),
        _github_probe(release.tag),
    ):
        fields.update(found)
        why.update(unknown)
    fields["project_status"], fields["first_upload"] = {}, {}
    for stage, spec in (("staging", staging), ("production", production)):
        held, why[stage] = _index_files(spec, str(release))
        fields[stage] = held["files"]
        if held.get("status"):
            fields["project_status"][stage] = held["status"]
        if held.get("first"):
            fields["first_upload"][stage] = held["first"]
    fields["today"] = datetime.now(UTC).date().isoformat()
    fields["dist"], fields["sums"], fields["dist_problem"] = _dist(dist, str(release))
    yanked = _yanked(release, refs or {}, fields.pop("notes", ""))
    return status_rules.Seen(release=release, yanked=yanked, why_unknown=why, **fields)


def _older_line(release: versions.Release, tags: set[str]) -> bool:
    """Whether RELEASE's line X.Y is below the latest final release's among TAGS."""
    latest = versions.latest_final(tags)
    return latest is not None and latest.line > release.line


def _indexes(staging: str, production: str) -> tuple[str, str]:
    """The staging and production indexes: as given, else $STAGING_INDEX and $PRODUCTION_INDEX,
    else TestPyPI and PyPI."""
    return (
        staging or os.environ.get("STAGING_INDEX") or "testpypi",
        production or os.environ.get("PRODUCTION_INDEX") or "pypi",
    )


def where_next(release: versions.Release, dist: str = "dist") -> str:
    """The one next command for RELEASE, as `invoke status` names it (asking every system)."""
    seen = seen_of(release, *_indexes("", ""), Path(dist))
    return status_rules.what_next(status_rules.rows(seen), seen)


def _yanked(release: versions.Release, origin: dict[str, str], notes: str) -> str | None:
    """The reason RELEASE was yanked, from a CHANGELOG on origin or the GitHub Release's notes."""
    for branch in (DEVELOP, release.line.branch, MAIN):
        sha = origin.get(f"refs/heads/{branch}")
        text = gitops.show(sha, CHANGELOG) if sha and gitops.has_object(sha) else None
        if text is None:
            continue
        try:
            parsed = changelog.parse(text)
        except ValueError:
            continue
        for section in parsed.sections:
            if section.release == release and section.yanked:
                return changelog.yank_reason(section) or "marked [YANKED] in the CHANGELOG"
    if notes.startswith(changelog.YANKED_NOTE):
        return notes.removeprefix(changelog.YANKED_NOTE).split("\n", 1)[0].strip()
    return None


@task(
    help={
        "release": "the release, X.Y.Z or X.Y.ZrcN (default: the one in progress, else the latest)",
        "staging": "the staging index (default: $STAGING_INDEX, else testpypi)",
        "production": "the production index (default: $PRODUCTION_INDEX, else pypi)",
        "dist": "the folder of built files (default: dist)",
    },
)
def status(
    c: Context, release: str = "", staging: str = "", production: str = "", dist: str = "dist"
) -> None:
    """Show every stage of a release (git, PR, tag, files, indexes, GitHub) and the next step."""
    chosen = parse_release(release) if release else None
    origin = None
    if chosen is None:
        origin = _origin()
        refs = origin[0] or {}
        chosen = release_in_progress(refs, set(gitops.local_tags()) | set(gitops.remote_tags(refs)))
        if chosen is None:
            raise Refused("no release branch and no release tag: give --release X.Y.Z")
    seen = seen_of(chosen, *_indexes(staging, production), Path(dist), origin)
    found_rows = status_rules.rows(seen)
    heading = f"{chosen.tag} ({seen.flow}, into {seen.target})"
    if seen.yanked is not None:
        heading += f": YANKED ({seen.yanked})"
    print(heading)
    width = max(len(row.label) for row in found_rows)
    for row in found_rows:
        print(f"  {row.label:<{width}}  {row.state:<7}  {row.detail}")
    print(f"next: {status_rules.what_next(found_rows, seen)}")
