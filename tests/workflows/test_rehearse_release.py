"""`invoke rehearse-release` end to end, in a copy of the project standing in for the user's.

The rehearsal runs staging.yml and release.yml under act, so these tests carry the act tests'
guards. The copies keep no tests: their build jobs still run the tests session on every Python
(each finds nothing to collect), and the ci.yml act run shows that session running tests under
act. A test slice here would cost about 35 CPU-seconds of per-Python pytest start-ups in two
builds, and the fault planted here is one no build test sees, as a real release-only fault slips
past a build's tests.
"""

from __future__ import annotations

import datetime
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts import processes
from scripts.artifacts import manifest, verify
from scripts.indexes.local_index import answers
from scripts.versioning import changelog
from scripts.versioning.versions import Release
from tasks.rehearsal_steps import github_state
from tasks.rehearsal_world import DESCRIPTION_VARIABLE
from tests.github_descriptions import rest_description
from tests.helpers import commit, git, untouched
from tests.workflows import model
from tests.workflows.copies import ACT_MARKS, once_and_with_every_python, project_copy

PROJECT = "agentops-accelerator"
VERSION_LINE = 'typer.echo(f"agentops {__version__}")'
# Final releases print a suffix: the staging build (a .dev version) passes its smoke test.
PLANTED = 'typer.echo(f"agentops {__version__}" + ("" if "dev" in __version__ else "-final"))'
FOLDER = re.compile(r"rehearse-release: v9\.9\.9 of HEAD in (?P<folder>\S+)")
IN_PROGRESS = re.compile(
    r"rehearse-release: v1\.0\.0 of release/v1\.0\.0 as it stands in (?P<folder>\S+)"
)
INDEX_URL = re.compile(r"(?:staging|production) (http://127\.0\.0\.1:\d+/)")

pytestmark = ACT_MARKS


@pytest.fixture(scope="module", autouse=True)
def _once_and_with_every_python() -> None:
    once_and_with_every_python()


def rehearse_command(*options: str, version: str = "9.9.9") -> list[str]:
    return [sys.executable, "-m", "invoke", "rehearse-release", version, *options]


def rehearsal_env(tmp_path: Path) -> dict[str, str]:
    """This environment, with the throwaway folder made under TMP_PATH (pytest removes it) and
    GitHub's published description for the rehearsal's GitHub front to check every call."""
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    description = str(rest_description())
    return {**os.environ, "TMPDIR": str(scratch), DESCRIPTION_VARIABLE: description}


def rehearse(
    project: Path, tmp_path: Path, *options: str, version: str = "9.9.9"
) -> tuple[int, str]:
    """Run the rehearsal in PROJECT to its end: its exit code and its output."""
    result = subprocess.run(
        rehearse_command(*options, version=version),
        cwd=project,
        env=rehearsal_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    return result.returncode, result.stdout + result.stderr


def left_running(folder: Path) -> list[str]:
    """Processes that still name FOLDER or work in it (act, its jobs, the servers)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            line = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = str((proc / "cwd").readlink())
        except OSError:
            continue
        if str(folder) in line or cwd.startswith(str(folder)):
            found.append(f"{proc.name}: {line}")
    return found


ROW = re.compile(r"^(\S.*?)\s{2,}(passed|failed|not run|approved|rejected)\b", re.M)
KEPT = re.compile(r"rehearse-release: v\S+ of HEAD in (?P<folder>\S+)")


def table_of(output: str) -> dict[str, str]:
    """The rehearsal's table, as printed: {step: its result}."""
    return dict(ROW.findall(output))


def stored(folder: Path, index: str) -> dict[str, str]:
    """What the stand-in index INDEX (staging, production) of FOLDER stores: {name: sha256}."""
    return {path.name: manifest.sha256_file(path)
            for path in (folder / index / "packages").iterdir()}  # fmt: skip


def gh_of(folder: Path, endpoint: str) -> str:
    """What the real gh answers `gh api ENDPOINT` from the running rehearsal of FOLDER's GitHub
    (its jobs.env says where it is, with its token and CA)."""
    values = dict(
        (name, value.strip('"'))
        for name, _, value in (line.partition("=") for line in
                               (folder / "jobs.env").read_text().splitlines())
        if name.startswith(("GH_", "SSL_"))
    )  # fmt: skip
    gh = processes.find_tool("gh")
    assert gh is not None
    result = subprocess.run([gh, "api", endpoint], env={**os.environ, **values},
                            capture_output=True, text=True, check=True, timeout=30)  # fmt: skip
    return result.stdout


def pulls_on_github(folder: Path) -> list[tuple[str, str, str]]:
    """The pull requests the kept FOLDER's GitHub holds: head, base, state."""
    return [(pull.head, pull.base, pull.state)
            for pull in github_state(folder / "github.json").pulls]  # fmt: skip


def releases_on_github(folder: Path) -> list[tuple[str, bool, bool, str | None]]:
    """The GitHub Releases the kept FOLDER's GitHub holds: tag, draft, pre-release, latest."""
    return [(r.tag_name, r.draft, r.prerelease, r.make_latest)
            for r in github_state(folder / "github.json").releases]  # fmt: skip


def test_an_approved_release_reaches_production_and_github_and_is_finished(
    tmp_path: Path,
) -> None:
    project = project_copy(tmp_path / "project", ())
    assert not (project / "tests" / "unit").exists()
    before = untouched(project)
    returncode, output = rehearse(project, tmp_path, "--approve", "--keep")
    assert returncode == 0, output
    rows = [
        "prepare", "cut-release", "staging.yml build", "staging.yml publish", "staging.yml verify",
        "a commit lands on develop", "ci.yml lint", "the checks main requires",
        "merge the release PR", "tag", "release.yml build", "release.yml publish-testpypi",
        "release.yml verify-testpypi", "release.yml publish-pypi", "release.yml verify-pypi",
        "release.yml github-release", "finish-release",
    ]  # fmt: skip
    table = re.findall(r"^(\S.*?)\s{2,}(passed|failed|not run|approved)\s", output, re.M)
    assert [name for name, result in table if result != "approved"] == rows, output
    for row in rows:
        assert re.search(rf"^{re.escape(row)}\s+passed\s+\d+\.\d", output, re.M), row
    assert re.search(r"^approval gate \(environment release\)\s+approved", output, re.M)
    # Merged only once what protection requires of a PR into main had passed on its head.
    assert re.search(
        r"^the checks main requires\s+passed\s+\S+\s+Lint \(ci\.yml lint\), "
        r"Verify from the staging index \(staging\.yml verify\)$", output, re.M
    )  # fmt: skip
    checks = re.findall(r"^(ok|FAIL)  +(.*)$", output, re.M)
    assert [what for verdict, what in checks if verdict != "ok"] == [], output
    # The build's provenance, both stand-ins (staging twice: its own build and the release),
    # assets, notes, a final, the annotated tag, both verifies told of the token upload, main
    # and develop, the branch gone, develop's CHANGELOG (the change that landed meanwhile
    # unreleased, the section the tag's, nothing twice, no conflict), invoke status after each
    # of the eight steps and every task's `next:` with it, the repository as it was.
    assert len(checks) == 22, checks
    assert "invoke status named the step that follows, after each of 8" in output
    assert "ok    verify-pypi verified a token upload without requiring attestations" in output
    assert "ok    develop's [Unreleased] holds the change that landed during the release" in output
    assert "--- invoke status after tag: next: gh run list --workflow release.yml" in output
    # Kept (--keep): the world the checks read is there to read again.
    match = FOLDER.search(output)
    assert match, output
    folder = Path(match["folder"])
    built = manifest.check_dist(folder / "act" / "release.yml" / "artifacts" / "dist")
    for store in ("staging", "production"):
        for name, sha256 in built.items():
            assert manifest.sha256_file(folder / store / "packages" / name) == sha256
    assert (
        manifest.read_manifest(folder / "act" / "release.yml" / "artifacts" / "build-provenance")
        == built
    )
    assert releases_on_github(folder) == [("v9.9.9", False, False, "true")]
    for url in INDEX_URL.findall(output):
        assert not answers(url), f"{url} still answers"
    assert left_running(folder) == []
    assert untouched(project) == before


@pytest.mark.rehearsals  # the test command keeps an approved and a rejected release
def test_a_pre_release_only_smoke_failure_stops_at_verify_testpypi(tmp_path: Path) -> None:
    # A pre-release, tagged on its release branch before any merge: staging.yml builds the
    # branch (a .dev version, whose smoke test passes), release.yml the tag (whose does not).
    # Rehearsed from another release's branch, whose CHANGELOG has no [Unreleased] entry left.
    project = project_copy(tmp_path / "project", ())
    git(project, "switch", "--quiet", "-c", "release/v1.0.0")
    text = (project / "CHANGELOG.md").read_text()
    dated = changelog.release(text, Release.parse("1.0.0"), datetime.date(2026, 12, 1))
    cli = project / "src" / "agentops" / "cli.py"
    assert VERSION_LINE in cli.read_text()
    planted = cli.read_text().replace(VERSION_LINE, PLANTED)
    commit(project, "fix: report the version",
           files={"src/agentops/cli.py": planted, "CHANGELOG.md": dated})  # fmt: skip
    before = untouched(project)

    # Approved: still nothing may reach production.
    returncode, output = rehearse(project, tmp_path, "--approve", version="9.10.0rc1")
    assert returncode == 1, output
    assert "+1 commit on develop: [Unreleased] had no entry" in output, output
    assert "release.yml under act: failed: job verify-testpypi failed" in output, output
    assert "agentops 9.10.0rc1-final (expected 'agentops 9.10.0rc1')" in output, output
    # The table: staging passed, the rc tagged on its branch (no PR merged, so no checks asked),
    # the release stopped at verify-testpypi, the gate never opened.
    assert "merge the release PR" not in output and "the checks main requires" not in output
    for row in (
        r"cut-release\s+passed",
        r"staging\.yml verify\s+passed",
        r"tag\s+passed\s+\S+\s+next: gh run list --workflow release\.yml --branch v9\.10\.0rc1",
        r"release\.yml publish-testpypi\s+passed",
        r"release\.yml verify-testpypi\s+failed",
        r"approval gate \(environment release\)\s+not run\s+not reached",
        r"release\.yml publish-pypi\s+not run",
        r"release\.yml github-release\s+not run",
    ):
        assert re.search(row, output), f"no row {row!r} in:\n{output}"
    # The commands that reproduce it: the act job, and the session inside it.
    assert re.search(r"cd \S+/work && \S*act push -W \.github/workflows/release\.yml", output)
    assert "-j verify-testpypi" in output, output
    assert "nox -s verify -- http://127.0.0.1:" in output, output

    match = re.search(r"rehearse-release: v9\.10\.0rc1 of HEAD in (?P<folder>\S+)", output)
    assert match, output
    folder = Path(match["folder"])  # kept, for the reproducing commands
    tagged = ["git", "-C", str(folder / "origin.git"), "rev-parse", "v9.10.0rc1^{commit}"]
    branch = ["git", "-C", str(folder / "origin.git"), "rev-parse", "release/v9.10.0"]
    assert subprocess.run(tagged, capture_output=True, text=True, check=True).stdout == (
        subprocess.run(branch, capture_output=True, text=True, check=True).stdout
    )  # the rc is on its release branch
    password = re.search(r'^TWINE_PASSWORD="(.+)"$', (folder / "jobs.env").read_text(), re.M)
    assert password and password[1] not in output  # the indexes' password is never printed
    assert list((folder / "production" / "packages").iterdir()) == []
    staged = sorted(path.name for path in (folder / "staging" / "packages").iterdir())
    built = manifest.check_dist(folder / "act" / "release.yml" / "artifacts" / "dist")
    assert set(built) <= set(staged), staged
    assert pulls_on_github(folder) == [("release/v9.10.0", "main", "open")]
    assert releases_on_github(folder) == []
    # staging.yml's build ran the tests session on every Python (nothing to collect in this
    # copy), not the machinery, and staged the very bytes it built.
    log = (folder / "act-staging.yml.log").read_text(encoding="utf-8")
    for python in model.noxfile_pythons():
        assert f"Session tests-{python} was successful" in log, python
    assert log.count("no test folder of unit in this checkout: nothing to run") == len(
        model.noxfile_pythons()
    )
    assert "Running session machinery" not in log
    staging_dist = folder / "act" / "staging.yml" / "artifacts" / "dist"
    staging_version, staging_sums = verify.built_version(staging_dist)
    assert ".dev" in staging_version
    for name, sha256 in staging_sums.items():
        assert manifest.sha256_file(folder / "staging" / "packages" / name) == sha256
    # Nothing outlives the rehearsal, and the user's repository is as it was.
    for url in INDEX_URL.findall(output):
        assert not answers(url), f"{url} still answers"
    assert left_running(folder) == []
    assert untouched(project) == before


def test_a_release_in_progress_is_rehearsed_as_it_stands_and_ctrl_c_stops_it(
    tmp_path: Path,
) -> None:
    # On release/v1.0.0, cut from develop: no version given, the rehearsal takes that release
    # from where it stands (no cut-release) into main and develop as the repository has them.
    project = project_copy(tmp_path / "project", ())
    git(project, "branch", "develop")
    git(project, "switch", "--quiet", "-c", "release/v1.0.0")
    text = (project / "CHANGELOG.md").read_text()
    dated = changelog.release(text, Release.parse("1.0.0"), datetime.date(2026, 12, 1))
    commit(project, "chore: prepare release 1.0.0", files={"CHANGELOG.md": dated})
    heads = {name: git(project, "rev-parse", name) for name in ("main", "develop", "HEAD")}
    before = untouched(project)
    # Ctrl-C as in a terminal, even where this suite runs in the background (a shell starts
    # background jobs with SIGINT ignored, and Python then raises no KeyboardInterrupt).
    command = [sys.executable, "-m", "invoke", "rehearse-release", "next", "--approve"]
    process = subprocess.Popen(
        command,
        cwd=project,
        env=rehearsal_env(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout or ()])
    reader.start()
    seen: list[str] = []
    deadline = time.monotonic() + 120
    try:
        while not any("staging.yml build: started" in line for line in seen):
            assert time.monotonic() < deadline, "".join(seen)
            seen.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
        # The throwaway origin holds the branches as the repository has them, and the PR.
        match = IN_PROGRESS.search("".join(seen))
        assert match, "".join(seen)
        folder = Path(match["folder"])
        origin = folder / "origin.git"
        for name, ref in (("main", "main"), ("develop", "develop"), ("HEAD", "release/v1.0.0")):
            assert git(origin, "rev-parse", ref) == heads[name], ref
        pulls = json.loads(gh_of(folder, "repos/{owner}/{repo}/pulls?state=all"))
        assert [(p["head"]["ref"], p["base"]["ref"], p["state"]) for p in pulls] == [
            ("release/v1.0.0", "main", "open")
        ]
        process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        returncode = process.wait(timeout=60)
    finally:
        processes.stop(process)
    reader.join(timeout=10)
    process.stdout.close()
    while not lines.empty():
        seen.append(lines.get())
    output = "".join(seen)
    assert returncode == 1, output
    assert "cut-release" not in output  # the branch is cut already
    assert "--- the PR of release/v1.0.0: passed" in output, output
    assert "interrupted: the servers were stopped and the throwaway folder removed" in output
    assert not folder.exists()
    for url in INDEX_URL.findall(output):
        assert not answers(url), f"{url} still answers"
    assert left_running(folder) == []
    assert untouched(project) == before


def test_a_rejected_release_stops_at_the_gate_and_nothing_reaches_production(
    tmp_path: Path,
) -> None:
    project = project_copy(tmp_path / "project", ())
    before = untouched(project)
    returncode, output = rehearse(project, tmp_path, "--keep")  # --reject is the default
    assert returncode == 0, output
    passed = [
        "prepare", "cut-release", "staging.yml build", "staging.yml publish", "staging.yml verify",
        "a commit lands on develop", "ci.yml lint", "the checks main requires",
        "merge the release PR", "tag", "release.yml build", "release.yml publish-testpypi",
        "release.yml verify-testpypi",
    ]  # fmt: skip
    assert table_of(output) == {
        **dict.fromkeys(passed, "passed"),
        "approval gate (environment release)": "rejected",
        **dict.fromkeys(
            ["release.yml publish-pypi", "release.yml verify-pypi", "release.yml github-release"],
            "not run",
        ),
    }, output
    assert "rehearse-release: v9.9.9 rehearsed (rejected)" in output
    match = KEPT.search(output)
    assert match, output
    folder = Path(match["folder"])
    built = manifest.check_dist(folder / "act" / "release.yml" / "artifacts" / "dist")
    assert sorted(built) == [f"agentops_accelerator-9.9.9{end}"
                             for end in ("-py3-none-any.whl", ".tar.gz")]  # fmt: skip
    staging = stored(folder, "staging")
    assert {name: staging.get(name) for name in built} == built  # the tag's build, staged
    assert stored(folder, "production") == {}
    assert pulls_on_github(folder) == [("release/v9.9.9", "main", "closed")]  # merged
    assert releases_on_github(folder) == []
    origin = folder / "origin.git"
    assert git(origin, "rev-parse", "v9.9.9^{commit}") == git(origin, "rev-parse", "main")
    assert git(origin, "branch", "--list", "release/v9.9.9")  # finish-release did not run
    for url in INDEX_URL.findall(output):
        assert not answers(url), f"{url} still answers"
    assert untouched(project) == before


STAGED = ["staging.yml build", "staging.yml publish", "staging.yml verify"]
TO_THE_GATE = ["tag", "release.yml build", "release.yml publish-testpypi",
               "release.yml verify-testpypi"]  # fmt: skip
PRODUCTION = ["release.yml publish-pypi", "release.yml verify-pypi", "release.yml github-release"]
APPROVED = {"approval gate (environment release)": "approved"}


@dataclass(frozen=True)
class Variant:
    """A rehearsal of another kind of release, and what it must leave in its world."""

    version: str
    options: tuple[str, ...]
    passed: list[str]  # the table's rows that passed, in order (the gate apart)
    not_run: list[str]
    marks: tuple[bool, str] | None  # the GitHub Release's pre-release and make_latest; None: none
    tag_on: dict[str, bool]  # origin's branches that contain the tag, or do not
    branch_left: str | None  # the release (or hotfix) branch still on origin afterwards
    branch_gone: str | None


VARIANTS = {
    "pre-release": Variant(
        "9.9.9rc1", ("--approve",), ["prepare", "cut-release", *STAGED, *TO_THE_GATE, *PRODUCTION],
        [], (True, "false"), {"release/v9.9.9": True, "main": False},
        "release/v9.9.9", None,
    ),
    "pre-release-kept-off-production": Variant(
        "9.9.9rc1", ("--approve", "--var", "PRERELEASES_TO_PRODUCTION=false"),
        ["prepare", "cut-release", *STAGED, *TO_THE_GATE], PRODUCTION, None,
        {"release/v9.9.9": True, "main": False}, "release/v9.9.9", None,
    ),
    "hotfix": Variant(
        "9.9.1", ("--hotfix", "--approve"),
        ["prepare", "cut-hotfix", "the fix", *STAGED, "a commit lands on develop", "ci.yml lint",
         "the checks main requires", "merge the hotfix PR", *TO_THE_GATE, *PRODUCTION,
         "finish-release"],
        [], (False, "true"), {"main": True, "develop": True}, None, "hotfix/v9.9.1",
    ),
    "support": Variant(
        "9.9.1", ("--support", "--approve"),
        ["prepare", "cut-support", "the fix", "cut-release", *STAGED,
         "the checks support/9.9 requires", "merge the release PR", *TO_THE_GATE, *PRODUCTION,
         "finish-release"],
        [], (False, "false"), {"support/9.9": True, "main": False, "develop": False}, None,
        "release/v9.9.1",
    ),
}  # fmt: skip


@pytest.mark.rehearsals
@pytest.mark.parametrize("name", VARIANTS)
def test_a_variant_of_the_release_is_rehearsed_to_its_end(tmp_path: Path, name: str) -> None:
    variant = VARIANTS[name]
    project = project_copy(tmp_path / "project", ())
    before = untouched(project)
    returncode, output = rehearse(
        project, tmp_path, *variant.options, "--keep", version=variant.version
    )
    assert returncode == 0, output
    rows = table_of(output)
    assert [row for row, result in rows.items() if result == "passed"] == variant.passed, output
    assert {row: result for row, result in rows.items() if result != "passed"} == {
        **APPROVED,
        **dict.fromkeys(variant.not_run, "not run"),
    }, output
    match = re.search(rf"rehearse-release: v{re.escape(variant.version)} of HEAD in (\S+)", output)
    assert match, output
    folder = Path(match[1])
    built = manifest.check_dist(folder / "act" / "release.yml" / "artifacts" / "dist")
    assert all(f"-{variant.version}" in name for name in built), built
    staging = stored(folder, "staging")
    assert {name: staging.get(name) for name in built} == built
    published = "release.yml publish-pypi" in variant.passed
    assert stored(folder, "production") == (built if published else {})
    expected = [] if variant.marks is None else [(f"v{variant.version}", False, *variant.marks)]
    assert releases_on_github(folder) == expected
    origin = folder / "origin.git"
    for branch, contains in variant.tag_on.items():
        ancestor = ["merge-base", "--is-ancestor", f"v{variant.version}", branch]
        found = subprocess.run(["git", "-C", str(origin), *ancestor], check=False).returncode == 0
        assert found is contains, f"{branch} {'lacks' if contains else 'holds'} the tag"
    if variant.branch_left:
        assert git(origin, "branch", "--list", variant.branch_left)
    if variant.branch_gone:
        assert not git(origin, "branch", "--list", variant.branch_gone)
    assert "FAIL" not in output, output
    assert untouched(project) == before
