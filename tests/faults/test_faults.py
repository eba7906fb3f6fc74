"""The fault catalogue: one table of scenarios, each run for real in a fresh world.

Every row names the command (the real entry point, as the sessions, tasks and users run it), the
fault its setup injects, the exit code, the text that exactly one line of the output must carry,
and what the state must be afterwards: unchanged (the default), or exactly the state after a
completed step. Every command runs with secret tokens in its environment, and no output or log
may show them. `nox -s faults` runs this table alone and prints the totals.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from agentops.workspace import init_workspace
from scripts import gitops
from scripts.artifacts.manifest import write_manifest
from scripts.github_front.model import Failure
from scripts.indexes.attestations import check_provenance
from scripts.versioning import changelog
from tests.faults.conftest import (
    INJECT,
    SDIST,
    SECRETS,
    USER,
    WHEEL,
    WRONG_PASSWORD,
    Run,
    State,
    World,
    _tree,
    leaked_secrets,
    run_cleanups,
)
from tests.warehouse_front import INVALID_PUBLISHER

pytestmark = pytest.mark.faults

Setup = Callable[[World], None]
After = Callable[[World, State], State]
Check = Callable[[World, Run], None]


@dataclass(frozen=True)
class Scenario:
    """One fault: where it is, how to cause it, and what must come of it."""

    id: str
    area: str
    argv: tuple[str, ...]  # {python}, {proxy}, {index}, {down}, {envdir}, {ws} are filled in
    fault: str
    setup: Setup
    code: int
    error: str  # exactly one line of stdout + stderr carries this text (placeholders filled in)
    after: After | None = None  # None: every part of the state is exactly as before
    check: Check | None = None  # anything else to assert (requests counted, time taken)
    env: dict[str, str] = field(default_factory=dict)  # added to the secrets; placeholders too


# --- commands ----------------------------------------------------------------------------------

PY = "{python}"


def invoke(*args: str) -> tuple[str, ...]:
    return (PY, "-m", "invoke", *args)


def publish(*args: str, url: str = "{proxy}") -> tuple[str, ...]:
    return (
        PY,
        "-m",
        "scripts.artifacts.publish",
        "local",
        "--local-url",
        url,
        "--dist",
        "dist",
        *args,
    )


def publish_to(target: str, *args: str) -> tuple[str, ...]:
    return (PY, "-m", "scripts.artifacts.publish", target, "--dist", "dist", *args)


def verify(*args: str, url: str = "{index}") -> tuple[str, ...]:
    return (PY, "-m", "scripts.artifacts.verify", "local", "--local-url", url, *args)


def nox(session: str, *args: str) -> tuple[str, ...]:
    return (PY, "-m", "nox", "--envdir", "{envdir}", "-s", session, "--", *args)


def init(*args: str) -> tuple[str, ...]:
    return (PY, "-m", "agentops", "init", *args)


SCM = (PY, "-m", "setuptools_scm")


# --- setups: each injects one fault into a fresh world ---------------------------------------


def nothing(world: World) -> None:
    """The fault is in the command line itself."""


def steps(*setups: Setup) -> Setup:
    def run(world: World) -> None:
        for setup in setups:
            setup(world)

    return run


def released(world: World) -> None:
    """release/v0.2.0 cut and merged into main, main checked out: ready for `invoke tag`."""
    world.release_merged("0.2.0")


def switch(branch: str) -> Setup:
    def run(world: World) -> None:
        world.git("switch", "-q", branch)

    return run


def branch_on_origin(branch: str, at: str) -> Setup:
    """BRANCH on origin only, at the commit AT names."""

    def run(world: World) -> None:
        world.git("push", "-q", "origin", f"{at}^{{commit}}:refs/heads/{branch}")

    return run


def branch_here_and_on_origin(branch: str, at: str) -> Setup:
    """BRANCH at AT, pushed to origin and checked out."""

    def run(world: World) -> None:
        branch_on_origin(branch, at)(world)
        world.git("switch", "-q", "-c", branch, at)

    return run


def dirty(world: World) -> None:
    (world.work / "README.md").write_text("edited, not committed\n")


def untracked(world: World) -> None:
    (world.work / "new-file.txt").write_text("not added\n")


def detached(world: World) -> None:
    world.git("switch", "-q", "--detach", "HEAD")


def local_commit(world: World) -> None:
    (world.work / "local.txt").write_text("local only\n")
    world.git("add", "local.txt")
    world.git("commit", "-q", "-m", "local only")


def tag(name: str, *, on_origin: bool = False) -> Setup:
    def run(world: World) -> None:
        world.git("tag", name)
        if on_origin:
            world.git("push", "-q", "origin", f"refs/tags/{name}")
            world.git("tag", "-d", name)

    return run


def drop_local_tags(world: World) -> None:
    """A clone that never fetched the tags (git clone --no-tags, or tags deleted)."""
    for name in world.git("tag", "--list").splitlines():
        world.git("tag", "-d", name)


def on_origin(ref: str, source: str = "HEAD") -> Setup:
    def run(world: World) -> None:
        world.git("push", "-q", "origin", f"{source}:{ref}")

    return run


def branch(name: str) -> Setup:
    def run(world: World) -> None:
        world.git("branch", name)

    return run


def origin_ahead(branch_name: str) -> Setup:
    return lambda world: world.push_from_elsewhere(branch_name)


def deny(pattern: str) -> Setup:
    return lambda world: world.deny_pushes(pattern)


def origin_unreachable(world: World) -> None:
    world.git("remote", "set-url", "origin", str(world.root / "gone.git"))


def develop_ahead_then_shallow(branch_name: str) -> Setup:
    """Two commits on develop after v0.1.0, pushed; then a --depth=1 clone of BRANCH."""

    def run(world: World) -> None:
        for number in (1, 2):
            world.commit_develop(f"change {number}", {f"change-{number}.txt": f"{number}\n"})
        world.shallow_clone(branch_name)

    return run


def develop_changelog(edit: Callable[[str], str | None]) -> Setup:
    """Commit EDIT(CHANGELOG text) on develop and push it (None deletes the file)."""

    def run(world: World) -> None:
        world.commit_develop("edit the changelog", {"CHANGELOG.md": edit(world.changelog_text())})

    return run


def without_unreleased(text: str) -> str:
    return text.replace("## [Unreleased]\n", "", 1)


def empty_unreleased(text: str) -> str:
    parsed = changelog.parse(text)
    unreleased, *older = parsed.sections
    emptied = changelog.Section(unreleased.title, None, "\n")
    return changelog.render(changelog.Changelog(parsed.preamble, [emptied, *older], parsed.tail))


def with_release_heading(heading: str) -> Callable[[str], str]:
    """TEXT with a release section under HEADING appended after [Unreleased]'s entries."""

    def edit(text: str) -> str:
        body, marker, links = text.partition("\n[Unreleased]: ")
        return f"{body.rstrip()}\n\n{heading}\n\n- An older change.\n{marker}{links}"

    return edit


def main_without_changelog(world: World) -> None:
    world.release_merged("0.2.0")
    world.git("rm", "-q", "CHANGELOG.md")
    world.git("commit", "-q", "-m", "drop the changelog")
    world.git("push", "-q", "origin", "main")


def serve(*seed: str, proxy: bool = True) -> Setup:
    """A real pypiserver (and the scripted proxy) holding SEED: built, impostor or nothing."""

    def run(world: World) -> None:
        files = {"wheel": world.built / WHEEL, "sdist": world.built / SDIST}
        files["impostor"] = world.impostor
        world.serve(*(files[name] for name in seed), proxy=proxy)

    return run


def as_warehouse(world: World) -> None:
    """pypiserver, reached as test.pypi.org through the warehouse front, in a job that may ask
    GitHub for an OIDC token."""
    world.serve_as_warehouse()


def mint_answers(*answers: tuple[int, object]) -> Setup:
    """warehouse's mint-token answers ANSWERS (status, body) before it mints a token."""

    def run(world: World) -> None:
        assert world.front is not None
        world.front.mint_failures.extend(answers)

    return run


def oidc_steps(*expected: str) -> Check:
    """The trusted-publishing exchange went through exactly EXPECTED, in order."""

    def check(world: World, result: Run) -> None:
        assert world.front is not None
        assert world.front.asked == list(expected), result

    return check


def attested_uploads(count: int) -> Check:
    """COUNT uploads reached the index, each with a PEP 740 attestation of exactly its bytes."""

    def check(world: World, result: Run) -> None:
        assert world.front is not None
        assert len(world.front.uploads) == count, world.front.uploads
        for name, sha256, attestations in world.front.uploads:
            assert attestations, f"{name} was uploaded without attestations\n{result}"
            bundle = {"publisher": {"kind": "GitHub", "repository": "o/r"}, "attestations":
                      attestations}  # fmt: skip
            provenance = {"version": 1, "attestation_bundles": [bundle]}
            check_provenance(provenance, name, sha256, None)

    return check


def with_dist(world: World) -> None:
    world.with_dist()


def proxy_fails(status: int, methods: tuple[str, ...], times: int | None = None) -> Setup:
    def run(world: World) -> None:
        assert world.proxy is not None
        world.proxy.fail(status, methods=methods, times=times)

    return run


def proxy_does(methods: tuple[str, ...], times: int | None = None, **behaviour: object) -> Setup:
    """A proxy rule of any kind (tests/proxy.py's Rule): drop, race, stale, reason, headers..."""

    def run(world: World) -> None:
        assert world.proxy is not None
        world.proxy.add(methods, times=times, **behaviour)

    return run


def strip_hashes(world: World) -> None:
    assert world.proxy is not None
    world.proxy.strip_hashes = True


def metadata_version(version: str) -> Callable[[World], None]:
    """The wheel in dist/ rewritten to declare Metadata-Version VERSION, SHA256SUMS to match."""

    def edit(world: World) -> None:
        wheel = world.work / "dist" / WHEEL
        entries = []
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                data = archive.read(info)
                if info.filename.endswith(".dist-info/METADATA"):
                    data = re.sub(rb"Metadata-Version: [0-9.]+", f"Metadata-Version: {version}"
                                  .encode(), data)  # fmt: skip
                entries.append((info, data))
        with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
            for info, data in entries:
                archive.writestr(info, data)
        write_manifest(world.work / "dist")

    return edit


def proxy_slow(methods: tuple[str, ...]) -> Setup:
    def run(world: World) -> None:
        assert world.proxy is not None
        world.proxy.be_slow(methods=methods)

    return run


def edit_dist(edit: Callable[[World], None]) -> Setup:
    def run(world: World) -> None:
        world.with_dist()
        edit(world)

    return run


def appended_to_sdist(world: World) -> None:
    with (world.work / "dist" / SDIST).open("ab") as handle:
        handle.write(b"\0")


def extra_wheel(world: World) -> None:
    shutil.copy2(world.built / WHEEL, world.work / "dist" / WHEEL.replace("1.2.3", "1.2.4"))


def missing_sdist(world: World) -> None:
    (world.work / "dist" / SDIST).unlink()


def missing_manifest(world: World) -> None:
    (world.work / "dist" / "SHA256SUMS").unlink()


def workspace_file(relative: str, text: str) -> Setup:
    def run(world: World) -> None:
        path = world.workspace / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    return run


def initialised(world: World) -> None:
    init_workspace(world.workspace)


def read_only_workspace(world: World) -> None:
    world.read_only(world.workspace)


def read_only_datasets(world: World) -> None:
    """.agentops/ writable, .agentops/datasets/ not: the second of three files cannot be written."""
    (world.workspace / ".agentops" / "datasets").mkdir(parents=True)
    world.read_only(world.workspace / ".agentops" / "datasets")


def inject(fault: str) -> dict[str, str]:
    """The environment that makes the command's own CHANGELOG write fail at its fsync
    (tests/faults/inject/sitecustomize.py): enospc, sigint or sigkill."""
    return {"PYTHONPATH": str(INJECT), "FAULTS_INJECT": fault}


def pr_cannot_be_opened(world: World) -> None:
    """GitHub answers 502 to opening the pull request."""
    world.github.failures.append(Failure("POST", "/pulls", 502))


# --- expected states after a completed step --------------------------------------------------


def index_holds_the_build(world: World, before: State) -> State:
    return {**before, "index": world.built_sums()}


def index_holds_the_wheel(world: World, before: State) -> State:
    return {**before, "index": {WHEEL: world.built_sums()[WHEEL]}}


def with_ref(refs: object, ref: str, sha: str) -> str:
    lines = [*str(refs).splitlines(), f"{ref} {sha}"]
    return "\n".join(sorted(lines, key=lambda line: line.partition(" ")[0]))


def tag_pushed(name: str) -> After:
    """The annotated tag NAME made here and pushed, nothing else: what `invoke tag` does."""

    def expected(world: World, before: State) -> State:
        sha = world.git("rev-parse", f"refs/tags/{name}")
        ref = f"refs/tags/{name}"
        return {
            **before,
            "work.refs": with_ref(before["work.refs"], ref, sha),
            "origin.refs": with_ref(before["origin.refs"], ref, sha),
        }

    return expected


def killed_after_switching(world: World, before: State) -> State:
    """Killed inside the CHANGELOG write: the branch step done, CHANGELOG.md still the old one,
    and only the new text's temporary file beside it (the process had no chance to remove it)."""
    develop = world.git("rev-parse", "origin/develop")
    [leftover] = list(world.work.glob(".CHANGELOG.md.*.tmp"))
    return {
        **before,
        "work.refs": with_ref(before["work.refs"], "refs/heads/release/v0.2.0", develop),
        "work.head": f"refs/heads/release/v0.2.0 {develop}",
        "work.status": f"?? {leftover.name}",
    }


def forced(world: World, before: State) -> State:
    """--force: the user's files, then what `agentops init` makes in an empty folder of the same
    name over them, and the user's old config.yaml as config.yaml.bak."""
    fresh = world.root / "fresh" / world.workspace.name
    fresh.mkdir(parents=True)
    subprocess.run(
        [world.vars["python"], "-m", "agentops", "init"], cwd=fresh, check=True,
        capture_output=True,
    )  # fmt: skip
    made = {path.relative_to(fresh).as_posix() for path in fresh.rglob("*") if path.is_file()}
    assert made == {".agentops/config.yaml", ".agentops/datasets/smoke.jsonl",
                    ".agentops/.gitignore"}  # fmt: skip
    config = (fresh / ".agentops" / "config.yaml").read_text(encoding="utf-8").splitlines()
    assert f"project: {world.workspace.name}" in config
    kept: dict[str, str] = dict(before["workspace"])  # type: ignore[call-overload]
    tree = {**kept, **_tree(fresh), ".agentops/config.yaml.bak": kept[".agentops/config.yaml"]}
    return {**before, "workspace": dict(sorted(tree.items()))}


# --- extra checks -------------------------------------------------------------------------------


def requests(gets: int | None = None, posts: int | None = None) -> Check:
    def check(world: World, result: Run) -> None:
        assert world.proxy is not None
        counted = (world.proxy.count("GET"), world.proxy.count("POST"))
        wanted = (counted[0] if gets is None else gets, counted[1] if posts is None else posts)
        assert counted == wanted, f"(GET, POST) reaching the index: {counted}, expected {wanted}"

    return check


def retries(count: int) -> Check:
    def check(world: World, result: Run) -> None:
        lines = [line for line in result.out.splitlines() if " retry " in line]
        assert len(lines) == count, result

    return check


def contains(text: str) -> Check:
    def check(world: World, result: Run) -> None:
        assert text in result.output, result

    return check


def within(low: float, high: float) -> Check:
    def check(world: World, result: Run) -> None:
        assert low <= result.seconds < high, f"took {result.seconds:.1f} s"

    return check


def all_of(*checks: Check) -> Check:
    def check(world: World, result: Run) -> None:
        for each in checks:
            each(world, result)

    return check


def no_file_named(name: str) -> Check:
    def check(world: World, result: Run) -> None:
        assert not list(world.root.rglob(name)), f"{name} was created: the shell ran the input"

    return check


def not_in_output(*texts: str) -> Check:
    def check(world: World, result: Run) -> None:
        for text in texts:
            assert text not in result.output, result

    return check


def starts_with(prefix: str) -> Check:
    """The line carrying the error starts with PREFIX (the program's `NAME: error: ...`)."""

    def check(world: World, result: Run) -> None:
        [line] = [line for line in result.output.splitlines() if world.expected_error in line]
        assert line.startswith(prefix), f"{line!r} does not start with {prefix!r}"

    return check


def stdout_is(text: str) -> Check:
    def check(world: World, result: Run) -> None:
        assert result.out.strip() == text, result

    return check


# --- the table ----------------------------------------------------------------------------------

CUT = "cut-release: error: "
TAG = "tag: error: "
PUB = "publish: error: "
# Trusted publishing alone: no password, no API token for the index.
NO_TOKENS = {"TWINE_PASSWORD": "", "TEST_PYPI_TOKEN": ""}
INVALID = "invalid version {!r}: expected X.Y.Z"
STRAY = "names a version but is not a vX.Y.Z release tag"
WARNS_ON_DEVELOP = "cut-release: warning: CHANGELOG.md on origin/develop: line "
NOT_THE_TAG = (
    f"{WHEEL} and {SDIST} carry version 1.2.3, not the expected 0.2.0: was the release tag on the "
    "commit that was built?"
)
# A failed step is one line too: the PR body (many lines) is elided from the command shown
# (braces doubled: the expected line is formatted with the world's names).
PR_FAILED = (
    "`gh api --method POST 'repos/{{owner}}/{{repo}}/pulls' -f base=main -f head=release/v0.2.0 -f "
    "'title=Release v0.2.0' -f ...` failed: gh: a failure the test asked for (HTTP 502); branch "
    "release/v0.2.0 reached origin and was removed again; local changes were undone"
)
PUSH_DENIED = (
    "error: failed to push some refs to '{origin}'; nothing reached origin; local changes were "
    "undone"
)

SCENARIOS = [
    # versions --------------------------------------------------------------------------------
    Scenario("version-malformed", "versions", invoke("cut-release", "0.2"),
             "two-part version", nothing, 1, CUT + INVALID.format("0.2")),
    Scenario("version-empty", "versions", invoke("cut-release", ""),
             "an empty version (an unset \"$VERSION\")", nothing, 1, CUT + INVALID.format("")),
    Scenario("version-omitted", "versions", invoke("cut-release"),
             "no version at all", nothing, 1,
             "'cut-release' did not receive required positional arguments: 'version'"),
    Scenario("version-leading-zero", "versions", invoke("cut-release", "01.2.0"),
             "a leading zero", nothing, 1, CUT + INVALID.format("01.2.0")),
    Scenario("version-equal-to-latest-tag", "versions", invoke("cut-release", "0.1.0"),
             "the version of the latest tag", nothing, 1,
             CUT + "version 0.1.0 is not greater than the latest tag v0.1.0"),
    Scenario("version-below-latest-tag", "versions", invoke("cut-release", "0.0.9"),
             "a version below the latest tag", nothing, 1,
             CUT + "version 0.0.9 is not greater than the latest tag v0.1.0"),
    Scenario("version-prerelease-for-final", "versions", invoke("cut-release", "0.2.0rc1"),
             "a pre-release where a final release is cut", nothing, 1,
             CUT + "this task takes the final X.Y.Z (0.2.0); a pre-release is tagged on "
             "release/v0.2.0: `invoke tag 0.2.0rc1`"),
    Scenario("version-prerelease-tag", "versions", invoke("tag", "v0.2.0rc1"),
             "a pre-release tag on main", released, 1,
             TAG + "a pre-release is tagged on release/v0.2.0, not on main"),
    Scenario("version-shell-semicolon", "versions", invoke("cut-release", "0.2.0; touch pwned"),
             "shell metacharacters (;)", nothing, 1, CUT + INVALID.format("0.2.0; touch pwned"),
             check=no_file_named("pwned")),
    Scenario("version-shell-substitution", "versions", invoke("tag", "$(touch pwned)0.2.0"),
             "shell metacharacters ($())", released, 1,
             TAG + INVALID.format("$(touch pwned)0.2.0"), check=no_file_named("pwned")),
    Scenario("version-double-v", "versions", invoke("cut-release", "vv0.2.0"),
             "a double-v version", nothing, 1, CUT + INVALID.format("vv0.2.0")),
    Scenario("version-double-v-tag", "versions", invoke("tag", "vv0.2.0"),
             "a double-v tag name", released, 1, TAG + INVALID.format("vv0.2.0")),
    Scenario("version-v-less-input-makes-v-tag", "versions", invoke("tag", "0.2.0"),
             "a v-less version given to tag (completes: the tag is v0.2.0)", released, 0,
             "tag: v0.2.0 pushed", after=tag_pushed("v0.2.0")),
    Scenario("version-v-less-tag-on-origin", "versions", invoke("cut-release", "0.2.0"),
             "a v-less tag 0.2.0 on origin (setuptools-scm reads it)",
             tag("0.2.0", on_origin=True), 1, CUT + "tag 0.2.0 " + STRAY),
    Scenario("version-double-v-tag-in-repo", "versions", invoke("tag", "0.2.0"),
             "a double-v tag vv0.3.0 in the repository", steps(released, tag("vv0.3.0")), 1,
             TAG + "tag vv0.3.0 " + STRAY),
    # git ---------------------------------------------------------------------------------------
    Scenario("git-dirty-tree", "git", invoke("cut-release", "0.2.0"),
             "an uncommitted change", dirty, 1,
             CUT + "the working tree has uncommitted changes (README.md)"),
    Scenario("git-untracked-file", "git", invoke("tag", "0.2.0"),
             "an untracked file on main", steps(released, untracked), 1,
             TAG + "the working tree has uncommitted changes (new-file.txt)"),
    Scenario("git-detached-head-tag", "git", invoke("tag", "0.2.0"),
             "a detached HEAD", steps(released, detached), 1,
             TAG + "0.2.0 is tagged on main: run `git switch main` first"),
    Scenario("git-detached-head-rollback", "git", invoke("cut-release", "0.2.0"),
             "a detached HEAD, then the PR cannot be opened",
             steps(detached, pr_cannot_be_opened), 1, CUT + PR_FAILED),
    Scenario("git-shallow-setuptools-scm", "git", SCM,
             "a --depth=1 clone of develop, 2 commits after the tag",
             develop_ahead_then_shallow("develop"), 1,
             # "ValueError: <path>": Python 3.13 also shows the source line that raised it
             'ValueError: {shallow} is shallow, please correct with "git fetch --unshallow"',
             check=not_in_output("0.1.dev1", "0.1.1.dev", "(dev)")),
    Scenario("git-shallow-doctor", "git", invoke("doctor"),
             "a --depth=1 clone of develop, 2 commits after the tag",
             develop_ahead_then_shallow("develop"), 1,
             "doctor: error: blocked by: full history, version",
             check=not_in_output("0.1.dev1", "0.1.1.dev", "(dev)")),
    Scenario("git-shallow-build", "git", nox("build"),
             "`nox -s build` in a --depth=1 clone of develop, 2 commits after the tag",
             develop_ahead_then_shallow("develop"), 1,
             "shallow clone: the tags are cut off, so the version would be wrong; "
             "run `git fetch --unshallow --tags` first"),
    Scenario("git-shallow-on-the-tag", "git", SCM,
             "a --depth=1 clone of main, exactly on v0.1.0 (completes: the right version)",
             develop_ahead_then_shallow("main"), 0, "0.1.0", check=stdout_is("0.1.0")),
    Scenario("git-missing-tags-cut-release", "git", invoke("cut-release", "0.1.0"),
             "no local tags (origin still has v0.1.0)", drop_local_tags, 1,
             CUT + "version 0.1.0 is not greater than the latest tag v0.1.0"),
    Scenario("git-missing-tags-doctor", "git", invoke("doctor"),
             "no local tags: the version would be 0.1.devN", drop_local_tags, 0,
             "warn  no vX.Y.Z tag: the version is 0.1.devN"),
    Scenario("git-branch-on-origin", "git", invoke("cut-release", "0.2.0"),
             "release/v0.2.0 already on origin", on_origin("refs/heads/release/v0.2.0"), 1,
             CUT + "branch release/v0.2.0 already exists on origin"),
    Scenario("git-branch-local", "git", invoke("cut-release", "0.2.0"),
             "release/v0.2.0 already a local branch", branch("release/v0.2.0"), 1,
             CUT + "branch release/v0.2.0 already exists locally"),
    Scenario("git-tag-on-origin", "git", invoke("tag", "0.2.0"),
             "v0.2.0 already on origin", steps(released, on_origin("refs/tags/v0.2.0")), 1,
             TAG + "tag v0.2.0 already exists on origin"),
    Scenario("git-tag-local", "git", invoke("tag", "0.2.0"),
             "v0.2.0 already a local tag", steps(released, tag("v0.2.0")), 1,
             TAG + "tag v0.2.0 already exists locally"),
    Scenario("git-origin-ahead", "git", invoke("tag", "0.2.0"),
             "origin/main has a commit this clone lacks", steps(released, origin_ahead("main")), 1,
             TAG + "main is not level with origin/main"),
    Scenario("git-local-ahead", "git", invoke("tag", "0.2.0"),
             "main has a commit origin lacks", steps(released, local_commit), 1,
             TAG + "main is not level with origin/main"),
    Scenario("git-origin-unreachable", "git", invoke("cut-release", "0.2.0"),
             "origin's URL leads nowhere", origin_unreachable, 1, CUT + "cannot read origin: "),
    Scenario("git-push-rejected-cut-release", "git", invoke("cut-release", "0.2.0"),
             "origin rejects the release branch after the local commit",
             deny("refs/heads/release/*"), 1,
             CUT + "`git push --set-upstream origin release/v0.2.0` failed: " + PUSH_DENIED),
    Scenario("git-pr-fails-after-push", "git", invoke("cut-release", "0.2.0"),
             "the branch is pushed, then the PR cannot be opened", pr_cannot_be_opened, 1,
             CUT + PR_FAILED),
    Scenario("git-push-rejected-tag", "git", invoke("tag", "0.2.0"),
             "origin rejects the tag after it was made locally",
             steps(released, deny("refs/tags/*")), 1,
             TAG + "`git push origin refs/tags/v0.2.0` failed: " + PUSH_DENIED),
    # CHANGELOG ---------------------------------------------------------------------------------
    # release lines -------------------------------------------------------------------------
    Scenario("lines-final-on-release-branch", "lines", invoke("tag", "0.2.0"),
             "a final tagged on its release branch", steps(released, switch("release/v0.2.0")), 1,
             TAG + "a final is tagged on main, after the release PR is merged; on release/v0.2.0 "
             "tag a pre-release (0.2.0rc1)"),
    Scenario("lines-prerelease-after-final", "lines", invoke("tag", "0.2.0rc1"),
             "0.2.0rc1 after 0.2.0",
             steps(released, tag("v0.2.0", on_origin=True), switch("release/v0.2.0")), 1,
             TAG + "version 0.2.0rc1 is not greater than the latest tag v0.2.0"),
    Scenario("lines-hotfix-not-next-patch", "lines", invoke("cut-hotfix", "0.1.2"),
             "a hotfix that is not the next patch of main's release", nothing, 1,
             "cut-hotfix: error: a hotfix is the next patch of origin/main's latest release "
             "v0.1.0: 0.1.1, not 0.1.2"),
    Scenario("lines-hotfix-tagged-on-its-branch", "lines", invoke("tag", "0.1.1"),
             "a hotfix tagged on its branch, before the merge",
             branch_here_and_on_origin("hotfix/v0.1.1", "v0.1.0"), 1,
             TAG + "a hotfix is tagged on main, after its PR is merged"),
    Scenario("lines-support-exists", "lines", invoke("cut-support", "0.1"),
             "a maintenance line that exists on origin", branch_on_origin("support/0.1", "v0.1.0"),
             1, "cut-support: error: branch support/0.1 already exists on origin"),
    Scenario("lines-support-without-release", "lines", invoke("cut-support", "0.3"),
             "a maintenance line with no release to start from", nothing, 1,
             "cut-support: error: no v0.3.Z release to maintain: the line starts at a final tag"),
    Scenario("lines-support-other-line", "lines", invoke("cut-release", "0.2.0"),
             "a release of another line cut on support/0.1",
             branch_here_and_on_origin("support/0.1", "v0.1.0"), 1,
             CUT + "support/0.1 releases 0.1.Z versions, not 0.2.0"),
    # where a release stands, and a bad one ---------------------------------------------------
    Scenario("insight-next-version-empty", "insight", invoke("next-version"),
             "next-version with nothing under [Unreleased]", develop_changelog(empty_unreleased),
             1, "next-version: error: CHANGELOG.md: nothing to release: the [Unreleased] section "
             "has no '- ' entries"),
    Scenario("insight-cut-next-unknown-heading", "insight", invoke("cut-release", "next"),
             "cut-release without a version, [Unreleased] under a heading that is no change type",
             develop_changelog(lambda text: text.replace("### Added", "### Misc", 1)), 1,
             CUT + "CHANGELOG.md on origin/develop: [Unreleased] has '### Misc', not a change "
             "type (Added, Changed, Deprecated, Removed, Fixed, Security): rename it, or give "
             "the version"),
    Scenario("insight-status-bad-version", "insight", invoke("status", "--release", "1.2"),
             "status of a version that is not a release", nothing, 1,
             "status: error: invalid version '1.2': expected X.Y.Z"),
    Scenario("insight-yank-without-reason", "insight", invoke("yank", "0.1.0"),
             "a yank that says not why", nothing, 1,
             "yank: error: --reason TEXT is required: one line saying what is wrong"),
    Scenario("insight-yank-pre-release", "insight",
             invoke("yank", "0.1.0rc1", "--reason", "x"), "a yank of a pre-release", nothing, 1,
             "yank: error: this task takes the final X.Y.Z (0.1.0)"),
    Scenario("insight-yank-blank-reason", "insight", invoke("yank", "0.1.0", "--reason", "  "),
             "a reason of spaces only", nothing, 1, "yank: error: --reason TEXT is required"),
    Scenario("insight-yank-not-released", "insight", invoke("yank", "0.3.0", "--reason", "x"),
             "a yank of a version never tagged", nothing, 1,
             "yank: error: tag v0.3.0 is not on origin: only a release is yanked"),
    Scenario("insight-yank-no-section", "insight", invoke("yank", "0.1.0", "--reason", "x"),
             "a yank of a release the CHANGELOG does not list", nothing, 1,
             "yank: error: no CHANGELOG.md on develop has a [0.1.0] section"),
    Scenario("changelog-missing", "changelog", invoke("cut-release", "0.2.0"),
             "no CHANGELOG.md on origin/develop", develop_changelog(lambda text: None), 1,
             CUT + "origin/develop has no CHANGELOG.md"),
    Scenario("changelog-missing-on-main", "changelog", invoke("tag", "0.2.0"),
             "no CHANGELOG.md on main", main_without_changelog, 1,
             TAG + "main has no CHANGELOG.md"),
    Scenario("changelog-no-unreleased", "changelog", invoke("cut-release", "0.2.0"),
             "no [Unreleased] section", develop_changelog(without_unreleased), 1,
             CUT + "CHANGELOG.md on origin/develop: no [Unreleased] section: add '## [Unreleased]' "
             "above the first release section"),
    Scenario("changelog-empty-unreleased", "changelog", invoke("cut-release", "0.2.0"),
             "an [Unreleased] section without entries", develop_changelog(empty_unreleased), 1,
             CUT + "CHANGELOG.md on origin/develop: nothing to release: the [Unreleased] section "
             "has no '- ' entries"),
    # Problems in the history are warnings: the release goes ahead (here, a dry run of it).
    Scenario("changelog-malformed-heading", "changelog",
             invoke("cut-release", "0.2.0", "--dry-run"), "a heading naming no version",
             develop_changelog(with_release_heading("## Release 0.1.0 - 2024-05-01")), 0,
             "'## Release 0.1.0 - 2024-05-01' is not a release heading (expected "
             "'## [Unreleased]' or '## [X.Y.Z] - YYYY-MM-DD')",
             check=starts_with(WARNS_ON_DEVELOP)),
    Scenario("changelog-bad-date", "changelog", invoke("cut-release", "0.2.0", "--dry-run"),
             "a heading with an impossible date in history",
             develop_changelog(with_release_heading("## [0.1.0] - 2024-13-01")), 0,
             "[0.1.0] has the date '2024-13-01': not YYYY-MM-DD",
             check=starts_with(WARNS_ON_DEVELOP)),
    Scenario("changelog-no-section-for-tag", "changelog", invoke("tag", "0.3.0"),
             "tagging a version whose release PR was not merged", released, 1,
             TAG + "CHANGELOG.md: the changelog has no [0.3.0] section (merge the release PR"),
    Scenario("changelog-write-disk-full", "changelog", invoke("cut-release", "0.2.0"),
             "the CHANGELOG write fails (ENOSPC) before the rename", nothing, 1,
             CUT + "cannot write CHANGELOG.md: No space left on device; nothing reached origin; "
             "local changes were undone", env=inject("enospc")),
    Scenario("changelog-write-interrupted", "changelog", invoke("cut-release", "0.2.0"),
             "Ctrl-C during the CHANGELOG write", nothing, 1,
             CUT + "interrupted; nothing reached origin; local changes were undone",
             env=inject("sigint")),
    Scenario("changelog-write-killed", "changelog", invoke("cut-release", "0.2.0"),
             "SIGKILL during the CHANGELOG write (completes: the branch step only)",
             nothing, -9, "git switch --no-track -c release/v0.2.0", after=killed_after_switching,
             check=not_in_output("git add CHANGELOG.md"), env=inject("sigkill")),
    # index -------------------------------------------------------------------------------------
    Scenario("index-down", "index", publish("--attempts", "2", url="{down}"),
             "nothing listens at the index URL", with_dist, 1,
             PUB + "index {down}simple/agentops-accelerator/ not reachable after 2 attempts: ",
             check=within(0, 10)),
    Scenario("index-slow", "index", publish("--attempts", "2", "--timeout", "0.5"),
             "the index never answers (timeout)", steps(with_dist, serve(), proxy_slow(("GET",))),
             1, PUB + "index {proxy}simple/agentops-accelerator/ not reachable after 2 attempts: "
             "timed out", check=all_of(within(0, 10), requests(gets=2, posts=0))),
    Scenario("index-5xx-listing-recovers", "index", publish("--attempts", "3"),
             "503 twice on the listing, then answers (completes: both uploaded)",
             steps(with_dist, serve(), proxy_fails(503, ("GET",), times=2)), 0,
             "published to local: 2 uploaded, 0 already there", after=index_holds_the_build,
             check=all_of(retries(2), requests(posts=2))),
    Scenario("index-5xx-upload-recovers", "index", publish("--attempts", "3"),
             "503 on five uploads, then accepts (completes: both uploaded)",
             steps(with_dist, serve(), proxy_fails(503, ("POST",), times=5)), 0,
             "published to local: 2 uploaded, 0 already there", after=index_holds_the_build,
             check=all_of(retries(1), requests(posts=7))),
    Scenario("index-5xx-never-recovers", "index", publish("--attempts", "2"),
             "503 on every listing", steps(with_dist, serve(), proxy_fails(503, ("GET",))), 1,
             PUB + "index {proxy}simple/agentops-accelerator/ not reachable after 2 attempts: "
             "HTTP 503 Service Unavailable", check=requests(gets=2, posts=0)),
    Scenario("index-403-wrong-credentials", "index", publish("--attempts", "3"),
             "a wrong password: the real server answers 403", steps(with_dist, serve()), 1,
             PUB + f"local refused the upload of {WHEEL} (HTTP 403 Forbidden): check the "
             "credentials from "
             "TWINE_USERNAME/TWINE_PASSWORD", check=requests(posts=1),
             env={"TWINE_PASSWORD": WRONG_PASSWORD}),
    Scenario("index-403-listing", "index", publish("--attempts", "3"),
             "the listing answers 403", steps(with_dist, serve(), proxy_fails(403, ("GET",))), 1,
             PUB + "{proxy}simple/agentops-accelerator/ refused: HTTP 403 Forbidden",
             check=requests(gets=1, posts=0)),
    Scenario("index-other-bytes", "index", publish(),
             "the wheel's name already on the index with other bytes",
             steps(with_dist, serve("impostor")), 1,
             PUB + f"{WHEEL} already on local with a different sha256: this version was already "
             "released from other bytes", check=requests(posts=0)),
    Scenario("index-partial-publish-completed", "index", publish(),
             "an earlier run uploaded the wheel only (completes: the sdist follows)",
             steps(with_dist, serve("wheel")), 0,
             "published to local: 1 uploaded, 1 already there", after=index_holds_the_build,
             check=requests(posts=1)),
    Scenario("index-partial-publish-completed-nox", "index", nox("publish", "local"),
             "as above, through the real `nox -s publish -- local`",
             steps(with_dist, serve("wheel")), 0,
             "published to local: 1 uploaded, 1 already there", after=index_holds_the_build,
             check=requests(posts=1), env={"LOCAL_INDEX_URL": "{proxy}"}),
    Scenario("index-require-nothing-new", "index", publish("--require-nothing-new"),
             "a re-run that must find everything there, after a partial publish",
             steps(with_dist, serve("wheel")), 1,
             PUB + f"expected every file on local already, but {SDIST} missing; nothing uploaded",
             check=requests(posts=0)),
    Scenario("index-version-never-appears", "index",
             verify("--version", "9.9.9", "--deadline", "2"),
             "the version is never listed (verify's deadline)", serve(proxy=False), 1,
             "verify: error: not there yet: 2 file(s) never appeared on "
             "{index}simple/agentops-accelerator/ within 2 s", check=within(2, 10)),
    Scenario("index-serves-other-bytes", "index", verify("--deadline", "5"),
             "the index serves other bytes than were built",
             steps(with_dist, serve("impostor", "sdist", proxy=False)), 1,
             f"verify: error: local serves {WHEEL} with sha256 "),
    # what real indexes and their CDNs do ------------------------------------------------------
    Scenario("index-answer-lost-after-upload", "index", publish("--attempts", "3"),
             "the wheel lands but its answer is lost (completes: looked, never posted again)",
             steps(with_dist, serve(), proxy_does(("POST",), times=1, drop=True)), 0,
             f"{WHEEL} is on local with the built sha256: done, not posted again",
             after=index_holds_the_build, check=requests(posts=2)),
    Scenario("index-racing-identical-publish", "index", publish("--attempts", "3"),
             "a second publisher's identical wheel lands first: 409 (completes)",
             steps(with_dist, serve(), proxy_does(("POST",), times=1, race=True)), 0,
             f"{WHEEL} is on local with the built sha256: done, not posted again",
             after=index_holds_the_build, check=requests(posts=2)),
    Scenario("index-listing-lags-after-upload", "index", publish("--attempts", "3"),
             "the listing stays as it was before the upload, three times (completes)",
             steps(with_dist, serve(), proxy_does(("GET",), times=3, stale=True)), 0,
             "published to local: 2 uploaded, 0 already there", after=index_holds_the_build,
             check=requests(posts=2)),
    Scenario("index-listing-flaps-for-verify", "index", verify("--deadline", "30"),
             "every other listing answers 404, four times: verify waits for 3 agreeing",
             steps(with_dist, serve("wheel", "sdist"),
                   proxy_does(("GET",), times=4, status=404, every=2)), 0,
             "all files listed, 3 listings in a row agreeing", after=index_holds_the_build,
             env={"LOCAL_INDEX_URL": "{proxy}"}),
    Scenario("index-429-retry-after", "index", publish("--attempts", "3"),
             "the listing answers 429 with Retry-After: 1 (completes after waiting 1 s)",
             steps(with_dist, serve(),
                   proxy_does(("GET",), times=1, status=429, headers=(("Retry-After", "1"),))),
             0, "index not answering (HTTP 429 Too Many Requests (Retry-After: 1 s)); retry 2/3 "
             "in 1.0 s", after=index_holds_the_build, check=within(1, 30)),
    Scenario("index-warehouse-deleted-file-name", "index", publish("--attempts", "3"),
             "warehouse's 400 for the name of a deleted file",
             steps(with_dist, serve(), proxy_does(("POST",), status=400, reason=(
                 "This filename has already been used, use a different version. See "
                 "https://pypi.org/help/#file-name-reuse for more information."))), 1,
             PUB + f"local rejected the upload of {WHEEL} (HTTP 400 This filename has already "
             "been used",
             check=all_of(requests(posts=1), contains(
                 "PyPI keeps the name of a deleted file forever: release a new version"))),
    Scenario("index-warehouse-second-sdist", "index", publish("--attempts", "3"),
             "warehouse's 400 for a second sdist of a release (the wheel went in)",
             steps(with_dist, serve(), proxy_does(("POST",), status=400, path_contains=".tar.gz",
                   reason="Only one sdist may be uploaded per release.")), 1,
             PUB + f"local rejected the upload of {SDIST} (HTTP 400 Only one sdist may be "
             "uploaded per release.", after=index_holds_the_wheel,
             check=all_of(requests(posts=2), contains("build one sdist, of this version's tag"))),
    Scenario("index-warehouse-digest-mismatch", "index", publish("--attempts", "3"),
             "warehouse's 400 for bytes damaged on the way, once (completes: sent again)",
             steps(with_dist, serve(), proxy_does(("POST",), times=1, status=400, reason=(
                 "The digest supplied does not match a digest calculated from the uploaded "
                 "file."))), 0,
             "published to local: 2 uploaded, 0 already there", after=index_holds_the_build,
             check=all_of(retries(1), requests(posts=3))),
    Scenario("index-twine-metadata-too-new", "index", publish(),
             "the wheel declares a metadata version the locked twine does not know",
             steps(serve(), edit_dist(metadata_version("9.9"))), 1,
             PUB + f"twine cannot read the metadata of {WHEEL} (InvalidDistribution: Invalid "
             "distribution metadata: '9.9' is not a valid metadata version): the build backend "
             "writes a metadata version this twine does not know", check=requests(posts=0)),
    Scenario("index-listing-without-hashes", "index", verify("--deadline", "10"),
             "the listing gives no sha256 and the index serves other bytes: verify hashes them",
             steps(with_dist, serve("impostor", "sdist"), strip_hashes), 1,
             f"verify: error: local serves {WHEEL} with sha256 ",
             env={"LOCAL_INDEX_URL": "{proxy}"}),
    Scenario("index-warehouse-release-too-old", "index", publish("--attempts", "3"),
             "warehouse's 400 for a new file in a release older than 14 days",
             steps(with_dist, serve(), proxy_does(("POST",), status=400, reason=(
                 "Uploading new files to releases older than 14 days is not allowed."))), 1,
             PUB + f"local rejected the upload of {WHEEL} (HTTP 400 Uploading new files to "
             "releases older than 14 days",
             check=all_of(requests(posts=1), contains("release a new version"))),
    Scenario("index-trusted-publishing-invalid-publisher", "index",
             publish_to("testpypi", "--attempts", "3"),
             "warehouse mints no token: no trusted publisher names this workflow, no API token",
             steps(with_dist, as_warehouse, mint_answers(*[(422, INVALID_PUBLISHER)] * 6)), 1,
             PUB + "testpypi minted no token for trusted publishing (invalid-publisher: valid "
             "token, but no corresponding publisher (Publisher with matching claims was not "
             "found)): add this repository's workflow as a trusted publisher", env=NO_TOKENS,
             check=all_of(requests(posts=0), oidc_steps("audience", "github-token", "mint-token"))),
    Scenario("index-trusted-publishing-falls-back-to-token", "index",
             publish_to("testpypi", "--attempts", "3"),
             "no trusted publisher for this workflow, TEST_PYPI_TOKEN set (completes with it)",
             steps(with_dist, as_warehouse, mint_answers(*[(422, INVALID_PUBLISHER)] * 4)), 0,
             "published to testpypi: 2 uploaded, 0 already there",
             env={"TWINE_PASSWORD": ""}, after=index_holds_the_build,
             check=all_of(requests(posts=2), oidc_steps("audience", "github-token", "mint-token"),
                          contains("trusted publishing failed (invalid-publisher: valid token, "
                                   "but no corresponding publisher"))),
    Scenario("index-trusted-publishing-mint-token-5xx", "index",
             publish_to("testpypi", "--attempts", "3"),
             "warehouse's mint-token answers 503 once (completes: asked again)",
             steps(with_dist, as_warehouse, mint_answers((503, "<html>503 Service Unavailable"
                   "</html>"))), 0,
             "published to testpypi: 2 uploaded, 0 already there", env=NO_TOKENS,
             after=index_holds_the_build, check=all_of(requests(posts=2), attested_uploads(2))),
    Scenario("index-trusted-publishing-no-id-token", "index",
             publish_to("testpypi", "--attempts", "3"),
             "a job without `id-token: write`: GitHub gave it no OIDC request token",
             steps(with_dist, as_warehouse), 1, PUB + "no credentials for testpypi: set "
             "TEST_PYPI_TOKEN or TWINE_USERNAME/TWINE_PASSWORD or trusted publishing (id-token: "
             "write in GitHub Actions)",
             env={**NO_TOKENS, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "",
                  "ACTIONS_ID_TOKEN_REQUEST_URL": ""},
             check=all_of(requests(gets=0, posts=0), oidc_steps())),
    # artifacts ---------------------------------------------------------------------------------
    Scenario("dist-edited-after-build", "artifacts", publish(),
             "the sdist changed after the build", steps(serve(), edit_dist(appended_to_sdist)), 1,
             PUB + f"dist/{SDIST} changed after the build", check=requests(gets=0, posts=0)),
    Scenario("dist-extra-file", "artifacts", publish(),
             "a wheel the build did not make", steps(serve(), edit_dist(extra_wheel)), 1,
             PUB + "dist/agentops_accelerator-1.2.4-py3-none-any.whl is not listed in SHA256SUMS: "
             "rebuild with `nox -s build`",
             check=requests(gets=0, posts=0)),
    Scenario("dist-missing-file", "artifacts", publish(),
             "the sdist removed after the build", steps(serve(), edit_dist(missing_sdist)), 1,
             PUB + f"dist/{SDIST} is listed in SHA256SUMS but missing: rebuild with `nox -s build`",
             check=requests(gets=0, posts=0)),
    Scenario("dist-no-manifest", "artifacts", publish(),
             "SHA256SUMS removed", steps(serve(), edit_dist(missing_manifest)), 1,
             PUB + "dist/SHA256SUMS not found: run `nox -s build` first",
             check=requests(gets=0, posts=0)),
    Scenario("dist-version-not-the-tag", "artifacts", invoke("github-release", "0.2.0"),
             "dist/ holds 1.2.3, the release is 0.2.0", with_dist, 1,
             "github-release: error: " + NOT_THE_TAG),
    Scenario("dist-version-not-the-tag-manifest", "artifacts",
             (PY, "-m", "scripts.artifacts.manifest", "check", "dist", "--expected-version",
              "v0.2.0"),
             "dist/ holds 1.2.3, the build expected v0.2.0", with_dist, 1,
             NOT_THE_TAG, check=starts_with(NOT_THE_TAG)),
    Scenario("dist-edited-github-release", "artifacts", invoke("github-release", "1.2.3"),
             "the sdist changed before the GitHub release", edit_dist(appended_to_sdist), 1,
             f"github-release: error: dist/{SDIST} changed after the build"),
    # secrets -----------------------------------------------------------------------------------
    Scenario("secret-nox-publish-refused", "secrets", nox("publish", "local"),
             "the real `nox -s publish` fails on a wrong password (the session's failure path)",
             steps(with_dist, serve()), 1, PUB + f"local refused the upload of {WHEEL}",
             check=requests(posts=1),
             env={"LOCAL_INDEX_URL": "{proxy}", "TWINE_PASSWORD": WRONG_PASSWORD}),
    Scenario("secret-in-index-url-verify", "secrets",
             verify("--version", "9.9.9", "--deadline", "1",
                    url=f"http://{USER}:{SECRETS['TWINE_PASSWORD']}@127.0.0.1:9/"),
             "the token inside the index URL, verify fails", nothing, 1,
             f"verify: error: not there yet: 2 file(s) never appeared on http://{USER}:***@"),
    Scenario("secret-in-index-url-publish", "secrets",
             publish("--attempts", "1",
                     url=f"http://{USER}:{SECRETS['TWINE_PASSWORD']}@127.0.0.1:9/"),
             "the token inside the index URL, publish fails", with_dist, 1,
             PUB + f"index http://{USER}:***@127.0.0.1:9/simple/agentops-accelerator/ not "
             "reachable after 1 attempt"),
    # One attempt: the scenario is the redaction, not the backoff (5 attempts sleep 7.5 s).
    Scenario("secret-in-index-url-nox", "secrets", nox("publish", "local", "--attempts", "1"),
             "the token inside LOCAL_INDEX_URL, the session fails and prints how to reproduce",
             with_dist, 1,
             f"reproduce locally: LOCAL_INDEX_URL=http://{USER}:***@127.0.0.1:9/ python3 -m uv "
             "run nox -s publish -- local --attempts 1",
             env={"LOCAL_INDEX_URL": f"http://{USER}:{SECRETS['TWINE_PASSWORD']}@127.0.0.1:9/"}),
    Scenario("secret-doctor", "secrets", invoke("doctor"),
             "doctor reports the credentials it finds", nothing, 0,
             "set: TEST_PYPI_TOKEN, PYPI_TOKEN, TWINE_PASSWORD"),
    # agentops init -----------------------------------------------------------------------------
    Scenario("init-existing-other-content", "init", init("{ws}"),
             "config.yaml exists with the user's content",
             workspace_file(".agentops/config.yaml", "project: mine\n"), 1,
             "agentops: error: {ws}/.agentops/config.yaml already exists with other content; use "
             "--force to replace"),
    Scenario("init-already-initialised", "init", init("{ws}"),
             "run a second time", initialised, 0,
             "{ws}/.agentops is already initialised; nothing changed"),
    Scenario("init-read-only-folder", "init", init("{ws}"),
             "the target folder is read-only", read_only_workspace, 2,
             "agentops: error: cannot write {ws}/.agentops/config.yaml: {denied}; nothing was "
             "changed"),
    Scenario("init-read-only-subfolder", "init", init("{ws}"),
             "the first file can be written, the second not", read_only_datasets, 2,
             "agentops: error: cannot write {ws}/.agentops/datasets/smoke.jsonl: {denied}; "
             "nothing was changed"),
    Scenario("init-file-where-the-folder-goes", "init", init("{ws}"),
             ".agentops is a file", workspace_file(".agentops", "a file\n"), 2,
             "agentops: error: {ws}/.agentops exists and is not a directory"),
    Scenario("init-target-is-a-file", "init", init("{ws}/notes.txt"),
             "the target itself is a file", workspace_file("notes.txt", "a file\n"), 2,
             "agentops: error: {ws}/notes.txt is not a directory"),
    Scenario("init-force", "init", init("{ws}", "--force"),
             "--force over the user's config.yaml (completes: old content kept as .bak)",
             workspace_file(".agentops/config.yaml", "project: mine\n"), 0,
             "replaced {ws}/.agentops/config.yaml (old content kept in "
             "{ws}/.agentops/config.yaml.bak)", after=forced),
]  # fmt: skip


# --- the test -----------------------------------------------------------------------------------


def describe_difference(actual: State, expected: State) -> str:
    lines = []
    for key in sorted(set(actual) | set(expected)):
        if actual.get(key) != expected.get(key):
            lines.append(f"{key}:\n  expected {expected.get(key)!r}\n  found {actual.get(key)!r}")
    return "\n".join(lines)


def broken(scenario: Scenario, how: str) -> Scenario:
    """SCENARIO with one deliberately wrong expectation (FAULTS_BREAK=code|error|state)."""
    if how == "code":
        return Scenario(**{**scenario.__dict__, "code": scenario.code + 1})
    if how == "error":
        return Scenario(**{**scenario.__dict__, "error": scenario.error + " (not said)"})
    if how == "state":
        after = scenario.after or (lambda world, before: before)

        def moved(world: World, before: State) -> State:
            return {**after(world, before), "origin.refs": "refs/heads/phantom 0"}

        return Scenario(**{**scenario.__dict__, "after": moved})
    raise ValueError(f"FAULTS_BREAK must be code, error or state, not {how!r}")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.id for scenario in SCENARIOS])
def test_fault(scenario: Scenario, world: World, faults_entry: dict[str, object]) -> None:
    if os.environ.get("FAULTS_BREAK"):
        scenario = broken(scenario, os.environ["FAULTS_BREAK"])
    world.env.update(scenario.env)
    scenario.setup(world)
    before = world.snapshot()
    result = world.run(scenario.argv)
    after = world.snapshot()
    expected = scenario.after(world, before) if scenario.after else before
    faults_entry["state_changed"] = after != expected

    leaks = {
        source: found
        for source, text in [("stdout", result.out), ("stderr", result.err)]
        + [(str(log), log.read_text(errors="replace")) for log in world.logs if log.exists()]
        if (found := leaked_secrets(text))
    }
    assert not leaks, f"secrets shown in {leaks}\n{result}"
    assert result.code == scenario.code, result
    error = world.expected_error = scenario.error.format(**world.vars)
    carrying = [line for line in result.output.splitlines() if error in line]
    assert len(carrying) == 1, f"{len(carrying)} lines carry {error!r}\n{result}"
    assert after == expected, f"state changed:\n{describe_difference(after, expected)}\n{result}"
    if scenario.check is not None:
        scenario.check(world, result)


AREAS = {
    "versions",
    "lines",
    "insight",
    "git",
    "changelog",
    "index",
    "artifacts",
    "secrets",
    "init",
}


def test_the_table_is_well_formed() -> None:
    ids = [scenario.id for scenario in SCENARIOS]
    assert len(ids) == len(set(ids)), "scenario ids must be unique"
    assert {scenario.area for scenario in SCENARIOS} == AREAS
    for scenario in SCENARIOS:
        assert scenario.error, f"{scenario.id}: say which line the command must print"
        assert "\n" not in scenario.error, f"{scenario.id}: the expected error is one line"


@pytest.mark.parametrize(
    ("clone", "problem"),
    [("develop", True), ("main", False), (None, False)],
    ids=["shallow-off-tag", "shallow-on-tag", "full"],
)
def test_the_shallow_guard_for_the_build_session(
    world: World, clone: str | None, problem: bool
) -> None:
    """scripts.gitops.shallow_problem, the guard `nox -s build` is to call before building."""
    if clone is not None:
        develop_ahead_then_shallow(clone)(world)
    found = gitops.shallow_problem(world.cwd)
    assert (found is not None) == problem, found
    if found:
        assert "\n" not in found
        assert "git fetch --unshallow --tags" in found


def test_every_cleanup_runs_and_a_failed_one_is_reported() -> None:
    ran: list[str] = []

    def stop_server() -> None:
        ran.append("server")
        raise OSError("pypiserver did not stop")

    with pytest.raises(RuntimeError, match=r"cleanup failed: .*stop_server: OSError\('pypiserver"):
        run_cleanups([stop_server, lambda: ran.append("proxy")])
    assert ran == ["server", "proxy"]
