"""What a finished rehearsal must show: the same bytes on both stand-in indexes, among the GitHub
Release's assets and in the build's SHA256SUMS, the notes, the marks, and where the refs stand."""

from __future__ import annotations

import hashlib
import subprocess

from scripts import PROJECT
from scripts.artifacts import manifest, verify
from scripts.github_front.model import Release
from scripts.indexes import index
from scripts.versioning import changelog

from .rehearsal_steps import (
    job_output,
    release_of,
    same_files,
    token_verifications,
)
from .rehearsal_world import TEAM_ENTRY, Rehearsal, git
from .steps import DEVELOP, MAIN

Result = tuple[str, str | None]  # what must hold, and None or the problem


def checks(rehearsal: Rehearsal) -> list[Result]:
    """(what, None or the problem) for everything a finished rehearsal must show."""
    tag = rehearsal.release.tag
    dist = rehearsal.folder / "act" / "release.yml" / "artifacts" / "dist"
    try:
        built = manifest.check_dist(dist)
    except manifest.ManifestError as error:
        return [("the build's SHA256SUMS", str(error))]
    results = build_checks(rehearsal, built) + index_checks(rehearsal, built)
    created = release_of(rehearsal.github, tag)
    if rehearsal.github.description is not None:
        problems = "; ".join(rehearsal.github.problems) or None
        results.append(("every call to GitHub fits its published description", problems))
    if not rehearsal.to_production:
        results.append(("no GitHub Release", f"{tag} was created" if created else None))
        return results + token_checks(rehearsal)
    if created is None:
        return [*results, ("the GitHub Release", f"GitHub has no release of {tag}")]
    sums = {**built, manifest.MANIFEST_NAME: manifest.sha256_file(dist / "SHA256SUMS")}
    return [
        *results,
        *github_checks(rehearsal, created, sums),
        *token_checks(rehearsal),
        *ref_checks(rehearsal),
        *changelog_checks(rehearsal),
    ]


def build_checks(rehearsal: Rehearsal, built: dict[str, str]) -> list[Result]:
    """The build's provenance names exactly BUILT; staging.yml's own build was staged as built."""
    results: list[Result] = []
    dist = rehearsal.folder / "act" / "release.yml" / "artifacts" / "dist"
    # The actions/attest stand-in records the subjects it would have attested.
    try:
        attested = manifest.read_manifest(dist.parent / "build-provenance")
    except manifest.ManifestError as error:
        results.append(("the build's provenance", str(error)))
    else:
        problem = same_files("the attested subjects", attested, built)
        results.append(("the build's provenance attests exactly its files", problem))
    # staging.yml's build of the release branch (a .dev version) was staged as it was built.
    staged = rehearsal.folder / "act" / "staging.yml" / "artifacts" / "dist"
    try:
        staged_sums = manifest.check_dist(staged)
        staged_version = verify.built_version(staged)[0]
    except (manifest.ManifestError, verify.VerifyError) as error:
        results.append(("staging.yml's build", str(error)))
    else:
        listed = index.list_files(rehearsal.servers["staging"].simple_url, PROJECT)
        served = _of_version(listed, staged_version)
        problem = same_files("staging (served)", served, staged_sums)
        results.append(
            (f"the staging stand-in holds staging.yml's build {staged_version}", problem)
        )
    return results


def index_checks(rehearsal: Rehearsal, built: dict[str, str]) -> list[Result]:
    """Each stand-in index serves and stores exactly BUILT (production: nothing, rejected)."""
    release = rehearsal.release
    results: list[Result] = []
    for name, server in rehearsal.servers.items():
        expected = built if name == "staging" or rehearsal.to_production else {}
        served = _of_version(index.list_files(server.simple_url, PROJECT), str(release))
        stored = _of_version(
            {path.name: manifest.sha256_file(path) for path in server.packages_dir.iterdir()},
            str(release),
        )
        problem = same_files(f"{name} (served)", served, expected) or same_files(
            f"{name} (stored)", stored, expected
        )
        if expected:
            results.append((f"the {name} stand-in holds the build's SHA256SUMS", problem))
        else:
            results.append((f"the {name} stand-in has nothing of {release}", problem))
    return results


def github_checks(rehearsal: Rehearsal, created: Release, sums: dict[str, str]) -> list[Result]:
    """The GitHub Release CREATED: published, its assets SUMS, its notes the section, its marks,
    the tag."""
    release, tag = rehearsal.release, rehearsal.release.tag
    assets = {asset.name: hashlib.sha256(asset.data).hexdigest() for asset in created.assets}
    results: list[Result] = [
        ("the GitHub Release is published", "it is a draft" if created.draft else None),
        ("the GitHub Release's assets are the build's files and SHA256SUMS",
         same_files("the release's assets", assets, sums)),
    ]  # fmt: skip
    text = git(rehearsal.origin, "show", f"{tag}:CHANGELOG.md")
    section = changelog.section_text(text, release.final)
    differ = None if created.body == section else f"the notes differ: {created.body!r:.80}"
    results.append(("the release notes are the CHANGELOG section", differ))
    marks = {"pre-release": created.prerelease, "latest": created.make_latest == "true"}
    if release.kind == "pre-release":
        wanted, what = {"pre-release": True, "latest": False}, "a pre-release, not latest"
    elif rehearsal.flow == "support":  # a newer line exists
        wanted, what = {"pre-release": False, "latest": False}, "a final, not latest"
    else:
        wanted, what = {"pre-release": False, "latest": True}, "a final, latest"
    results.append((f"the GitHub Release is {what}", None if marks == wanted else f"it is {marks}"))
    kind = git(rehearsal.origin, "cat-file", "-t", f"refs/tags/{tag}")
    results.append((f"{tag} is an annotated tag", None if kind == "tag" else f"a {kind}"))
    return results


def token_checks(rehearsal: Rehearsal) -> list[tuple[str, str | None]]:
    """The rehearsal publishes with a password, as a token fallback does: each verify that ran
    must have been told so, and passed without PEP 740 attestations (only trusted publishing
    makes them)."""
    log = rehearsal.folder / "act-release.yml.log"
    return token_verifications(rehearsal.steps, lambda job: job_output(log, job))


def changelog_checks(rehearsal: Rehearsal) -> list[tuple[str, str | None]]:
    """develop's CHANGELOG after the merge back: the change that landed during the release is
    still unreleased, the released section is the tag's, nothing is in both, no conflict mark."""
    release, tag = rehearsal.release, rehearsal.release.tag
    if release.kind != "final" or rehearsal.flow == "support":
        return []  # nothing is merged into develop
    develop = git(rehearsal.origin, "show", f"{DEVELOP}:CHANGELOG.md")
    tagged = git(rehearsal.origin, "show", f"{tag}:CHANGELOG.md")
    unreleased = changelog.unreleased_entries(develop)
    landed = f"- {TEAM_ENTRY}" in unreleased
    mine, theirs = (changelog.section_text(text, release) for text in (develop, tagged))
    twice = set(changelog.section_entries(tagged, release)) & set(unreleased)
    marks = [line for line in develop.splitlines() if line.startswith(("<<<<<<<", ">>>>>>>"))]
    return [
        (f"{DEVELOP}'s [Unreleased] holds the change that landed during the release",
         None if landed else f"[Unreleased] holds {unreleased}"),
        (f"{DEVELOP}'s [{release}] section is the tag's",
         None if mine == theirs else f"it reads {mine!r:.80}"),
        (f"nothing of {tag} is left under {DEVELOP}'s [Unreleased]",
         None if not twice else f"{', '.join(sorted(twice))} is there too"),
        (f"{DEVELOP}'s CHANGELOG has no conflict marker",
         None if not marks else f"{len(marks)} lines like {marks[0]!r}"),
    ]  # fmt: skip


def status_checks(rehearsal: Rehearsal) -> list[tuple[str, str | None]]:
    """Whether `invoke status`, asked after each step, named the step that follows."""
    wrong = [
        f"after {step} it said {said!r}, not {expected!r}"
        for step, said, expected in rehearsal.statuses
        if expected not in said
    ]
    what = f"invoke status named the step that follows, after each of {len(rehearsal.statuses)}"
    # A task that ends with `next:` names the step status names right after it. Not cut-release
    # before a pre-release: it cuts the final's branch and names the final's next step (the
    # merge), while status, asked of the rc, names the rc's tag, the maintainer's choice.
    cut_for_an_rc = "cut-release" if rehearsal.release.kind != "final" else None
    said_by_task = {step.name: step.detail.removeprefix("next: ") for step in rehearsal.steps
                    if step.detail.startswith("next: ") and step.name != cut_for_an_rc}  # fmt: skip
    disagree = [
        f"after {step} the task said {said_by_task[step]!r}, status {said!r}"
        for step, said, _ in rehearsal.statuses
        if step in said_by_task and said_by_task[step] != said
    ]
    agreeing = f"every task's `next:` is what status named ({', '.join(said_by_task)})"
    return [(what, "; ".join(wrong) or None), (agreeing, "; ".join(disagree) or None)]


def ref_checks(rehearsal: Rehearsal) -> list[tuple[str, str | None]]:
    """Where the refs stand: a final on main, merged into develop, its branch gone; a
    line's release on support/X.Y alone; a pre-release on its release branch, which goes
    on, and not on main."""
    tag, branch = rehearsal.release.tag, rehearsal.branch
    results: list[tuple[str, str | None]] = []
    final = rehearsal.release.kind == "final"
    if not final:
        expected = {branch: True, MAIN: False}
    elif rehearsal.flow == "support":
        expected = {rehearsal.target: True, MAIN: False, DEVELOP: False}
    else:
        expected = {MAIN: True, DEVELOP: True}
    for name, wanted in expected.items():
        ancestor = ["git", "-C", str(rehearsal.origin), "merge-base", "--is-ancestor", tag, name]
        contains = subprocess.run(ancestor, check=False).returncode == 0
        what = f"{name} {'contains' if wanted else 'does not contain'} {tag}"
        results.append((what, None if contains == wanted else "it is the other way round"))
    left = bool(git(rehearsal.origin, "for-each-ref", f"refs/heads/{branch}"))
    what = f"{branch} is {'gone from' if final else 'still on'} origin"
    results.append((what, None if left != final else "it is the other way round"))
    return results


def _of_version(files: dict[str, str], version: str) -> dict[str, str]:
    """The FILES ({name: sha256}) of VERSION."""
    return {
        name: digest
        for name, digest in files.items()
        if manifest.artifact_version(name)[1] == version
    }
