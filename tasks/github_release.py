"""`invoke github-release`: the GitHub Release of a tag, safe with immutable releases.

Once published, an immutable release takes no new asset and its tag never moves, so the order
is: a draft, every asset (the wheel, the sdist, SHA256SUMS) uploaded to it, each asset's digest
compared with SHA256SUMS, and publishing last. A re-run finds the draft and uploads only what is
missing or differs; a published release is checked and never modified. Every call is REST through
`gh api`, so one published description of GitHub's API covers them all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from invoke.context import Context

from scripts import gitops
from scripts.artifacts import manifest
from scripts.versioning import changelog, versions

from .gh import gh_api
from .release import TAG_HELP
from .status import where_next
from .steps import CHANGELOG, Refused, StepFailed, parse_release, repository, run, task

RELEASES = "repos/{owner}/{repo}/releases"
DRY_RUN_ID = "RELEASE_ID"  # what a dry run names the draft it would create


def assets_to_mend(
    assets: Sequence[Mapping[str, Any]], expected: Mapping[str, str]
) -> tuple[list[int], list[str]]:
    """The ids of the ASSETS a draft must lose (other bytes than EXPECTED's sha256, or not
    expected at all) and the EXPECTED names it must then get."""
    kept = {
        asset["name"]
        for asset in assets
        if expected.get(asset["name"]) is not None
        and asset.get("digest") == f"sha256:{expected[asset['name']]}"
    }
    dropped = [int(asset["id"]) for asset in assets if asset["name"] not in kept]
    return dropped, sorted(name for name in expected if name not in kept)


def published_differences(
    assets: Sequence[Mapping[str, Any]], expected: Mapping[str, str]
) -> list[str]:
    """How a published release's ASSETS differ from EXPECTED, in words (none: they match)."""
    served = {asset["name"]: str(asset.get("digest") or "") for asset in assets}
    missing = [f"no {name}" for name in sorted(expected) if name not in served]
    other = [f"other bytes for {name}" for name in sorted(expected)
             if name in served and served[name] != f"sha256:{expected[name]}"]  # fmt: skip
    extra = [
        f"{name}, which dist/ does not have" for name in sorted(served) if name not in expected
    ]
    return missing + other + extra


def latest_mark(release: versions.Release, tags: Sequence[str]) -> str:
    """`make_latest` for RELEASE: never a pre-release, nor a final below the newest."""
    newest = versions.latest_final(tags)
    below = newest is not None and newest > release
    return "false" if release.kind == "pre-release" or below else "true"


def find_release(tag: str) -> dict[str, Any] | None:
    """The release of TAG on GitHub, draft or published (drafts are only in the list)."""
    answer = gh_api(f"{RELEASES}?per_page=100")
    if answer.status != 200 or not isinstance(answer.body, list):
        why = answer.why or f"HTTP {answer.status}"
        raise Refused(f"cannot list the GitHub Releases: {why}")
    found = [release for release in answer.body if release.get("tag_name") == tag]
    return found[0] if found else None


def expected_assets(folder: Path, version: versions.Release) -> dict[str, str]:
    """{file name: sha256} of the release's assets: SHA256SUMS's files and SHA256SUMS itself."""
    try:
        sums = manifest.check_dist(folder)
        manifest.check_version(sums, str(version))
    except manifest.ManifestError as error:
        raise Refused(str(error)) from None
    listing = (folder / manifest.MANIFEST_NAME).read_bytes()
    return {**sums, manifest.MANIFEST_NAME: hashlib.sha256(listing).hexdigest()}


def gh_write(c: Context, args: list[str], *, dry_run: bool) -> dict[str, Any]:
    """Run `gh api ARGS` (printed; only printed with DRY_RUN): GitHub's JSON answer."""
    try:
        output = run(c, ["gh", "api", *args], dry_run=dry_run)
    except StepFailed as error:
        raise Refused(str(error)) from None
    answer = json.loads(output) if output.strip() and not dry_run else {}
    return answer if isinstance(answer, dict) else {}


@task(
    help={
        "version": TAG_HELP,
        "dist": "the folder of built files (default: dist)",
        "dry_run": "print the gh calls that would change GitHub; change nothing",
    }
)
def github_release(c: Context, version: str, dist: str = "dist", dry_run: bool = False) -> None:
    """Publish the GitHub Release of vX.Y.Z(rcN): a draft, every dist/ file checked, then public."""
    release = parse_release(version)
    tag, folder = release.tag, Path(dist)
    expected = expected_assets(folder, release)
    path = repository() / CHANGELOG
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    try:
        notes = changelog.section_text(text, release.final)
    except ValueError as error:
        raise Refused(f"{CHANGELOG}: {error}") from None
    tagged = gh_api(f"repos/{{owner}}/{{repo}}/git/ref/tags/{tag}")
    if tagged.status is None:
        raise Refused(f"cannot ask GitHub for the tag {tag}: {tagged.why}")
    if tagged.status != 200:
        raise Refused(f"GitHub has no tag {tag}: push it first (`invoke tag {release}`)")
    found = find_release(tag)
    if found is not None and not found.get("draft"):
        differences = published_differences(found.get("assets", []), expected)
        if differences:
            raise Refused(
                f"{tag} is published with {'; '.join(differences)}: a published release never "
                f"changes (immutable); release a new version"
            )
        print(f"{tag} is published, every asset matching {manifest.MANIFEST_NAME}: nothing to do")
    else:
        publish_draft(c, release, found, notes, expected, folder, dry_run=dry_run)
    if not dry_run:
        print(f"next: {where_next(release, dist)}")


def publish_draft(
    c: Context,
    release: versions.Release,
    found: dict[str, Any] | None,
    notes: str,
    expected: Mapping[str, str],
    folder: Path,
    *,
    dry_run: bool,
) -> None:
    """Make (or reuse) the draft of RELEASE, give it exactly the EXPECTED assets, check them,
    publish it."""
    tag = release.tag
    if found is None:
        found = gh_write(c, [
            "--method", "POST", RELEASES, "-f", f"tag_name={tag}", "-f", f"name={tag}",
            "-f", f"body={notes}", "-F", "draft=true", "-F", "generate_release_notes=true",
            "-F", f"prerelease={str(release.kind == 'pre-release').lower()}",
        ], dry_run=dry_run) or {"id": DRY_RUN_ID, "assets": []}  # fmt: skip
    else:
        print(f"{tag}: reusing its draft (release {found['id']})")
    dropped, missing = assets_to_mend(found.get("assets", []), expected)
    for asset_id in dropped:
        gh_write(c, ["--method", "DELETE", f"{RELEASES}/assets/{asset_id}"], dry_run=dry_run)
    upload_url = str(found.get("upload_url", f"UPLOAD_URL_OF_{DRY_RUN_ID}")).split("{")[0]
    for name in missing:
        gh_write(c, [
            "--method", "POST", f"{upload_url}?name={name}", "--input", str(folder / name),
            "-H", "Content-Type: application/octet-stream",
        ], dry_run=dry_run)  # fmt: skip
    if not dry_run:
        answer = gh_api(f"{RELEASES}/{found['id']}")
        if answer.status != 200 or not isinstance(answer.body, dict):
            why = answer.why or f"HTTP {answer.status}"
            raise Refused(f"cannot read the draft of {tag} back ({why}): left as a draft; run "
                          "github-release again")  # fmt: skip
        assets = answer.body.get("assets", [])
        differences = published_differences(assets, expected)
        if differences:
            raise Refused(
                f"the draft of {tag} has {'; '.join(differences)}: left as a draft; run "
                "github-release again"
            )
        print(f"{tag}: the draft's {len(assets)} assets match {manifest.MANIFEST_NAME}")
    latest = latest_mark(release, gitops.local_tags())
    gh_write(c, ["--method", "PATCH", f"{RELEASES}/{found['id']}", "-F", "draft=false",
                 "-f", f"make_latest={latest}"], dry_run=dry_run)  # fmt: skip
    if not dry_run:
        print(f"{tag}: published")
