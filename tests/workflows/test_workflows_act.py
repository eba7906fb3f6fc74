"""End to end: the workflows run by act on this machine, in a temporary git copy of the project.

Every job runs on the host (`-P ubuntu-latest=-self-hosted`), every action is a local stand-in
from scripts/stand-ins (`--local-repository`), and nothing is fetched from GitHub. The
runs: ci.yml on a push (matrix, lint, one tests cell, coverage, and the dev release to a real
pypiserver on 127.0.0.1, `--var STAGING_INDEX=URL`), ci.yml's CHANGELOG gate on pull_request
events, and cut-release.yml pushing to a bare origin and opening its pull request with the real
gh at GitHub's front (checked against GitHub's description). staging.yml and
release.yml run in test_rehearse_release.py, inside the whole release. The assertions are on the
world afterwards: job results, artifacts, the index's files, refs.

Inside act the project's own test suite runs (the tests cell, the build's `nox -s tests`); it
must not run act again, so AGENTOPS_INSIDE_ACT=1 is given to act and this module skips itself.
The jobs test a slice of the suite (the outer run has run all of it): each test step still runs
for real and must pass, on what its job's checked reports need.
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from scripts.artifacts import manifest
from scripts.github_front.front import GitHubFront
from scripts.indexes import index
from scripts.indexes.local_index import LocalIndex, start_local_index
from scripts.versioning import changelog
from tasks import act
from tests.helpers import ROOT, commit, git, release_world
from tests.workflows import model
from tests.workflows.copies import (
    ACT,
    ACT_MARKS,
    BUILD_SLICE,
    CI_SLICE,
    once_and_with_every_python,
    project_copy,
)

PROJECT = "agentops-accelerator"
pytestmark = ACT_MARKS


@pytest.fixture(scope="module", autouse=True)
def _once_and_with_every_python() -> None:
    once_and_with_every_python()


# --- running act ------------------------------------------------------------------------------


def run_act(
    project: Path,
    scratch: Path,
    event: str,
    workflow: str,
    job: str | None,
    *options: str,
    repository: Path | None = None,
    path_prefix: Path | None = None,
    env_file: Path | None = None,
) -> act.ActRun:
    """Run `act EVENT -W .github/workflows/WORKFLOW [-j JOB] OPTIONS` in PROJECT, offline.

    REPOSITORY is what the checkout stand-in clones when act does not copy PROJECT itself
    (default: PROJECT); PATH_PREFIX goes first on the host's PATH (tools of the runner image);
    ENV_FILE holds variables every job gets (credentials stay off the command line).
    """
    env = act.host_environment(ROOT)
    if path_prefix is not None:
        env["PATH"] = os.pathsep.join([str(path_prefix), env["PATH"]])
    log = scratch / f"act-{workflow}-{job or 'all'}-{time.monotonic_ns()}.log"
    try:
        command = act.ActScratch(scratch, repository or project, env_file).command(
            project, event, workflow, *(["-j", job] if job else []), *options
        )
        return act.run_act(command, cwd=project, env=env, log=log)
    except act.ActError as error:
        pytest.fail(str(error))


def assert_succeeded(run: act.ActRun, expected: Mapping[str, int]) -> None:
    """Act exited 0 and exactly the EXPECTED jobs (id -> number of cells) succeeded."""
    assert run.returncode == 0, run.explain()
    succeeded = {job: len(results) for job, results in run.results.items()}
    assert succeeded == dict(expected), run.explain()
    assert all(r == "success" for rs in run.results.values() for r in rs), run.explain()


# --- the project copy and the index -----------------------------------------------------------


@pytest.fixture
def staging_index(tmp_path: Path) -> Iterator[tuple[LocalIndex, str, str]]:
    """A pypiserver on 127.0.0.1 that takes uploads with a generated password; always stopped."""
    password = secrets.token_urlsafe(18)
    server = start_local_index(
        tmp_path / "index" / "packages",
        credentials=("staging", password),
        log_file=tmp_path / "index" / "server.log",
    )
    try:
        yield server, "staging", password
    finally:
        server.stop()


# --- the runs ---------------------------------------------------------------------------------


def test_act_reads_every_workflow(tmp_path: Path) -> None:
    assert ACT is not None, "act is not installed: run `python3 -m uv sync` (the test group)"
    project = project_copy(tmp_path / "project", BUILD_SLICE)
    result = subprocess.run(
        [ACT, "--list", "-W", ".github/workflows/", "--action-cache-path", str(tmp_path / "c")],
        cwd=project,
        env=act.host_environment(ROOT),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    listed = {line.split()[1] for line in result.stdout.splitlines()[1:] if line.strip()}
    expected = {job for name in model.NAMES for job in model.jobs(model.load(name))}
    assert expected <= listed, result.stdout


def test_ci_on_develop_runs_lint_a_tests_cell_coverage_and_the_dev_release(
    tmp_path: Path, staging_index: tuple[LocalIndex, str, str]
) -> None:
    server, username, password = staging_index
    project = project_copy(tmp_path / "project", CI_SLICE)
    git(project, "switch", "-q", "-c", "develop")  # a push to develop: the dev release runs too
    event = tmp_path / "push.json"  # github.ref comes from the event, not from the checkout
    event.write_text(json.dumps({"ref": "refs/heads/develop"}))
    python = model.noxfile_pythons()[0]
    run = run_act(
        project,
        tmp_path,
        "push",
        "ci.yml",
        "verify-dev",  # and every job it needs, with the matrix cut to one cell
        "-e",
        str(event),
        "--matrix",
        "os:ubuntu-latest",
        "--matrix",
        f"python:{python}",
        "--var",
        f"STAGING_INDEX={server.url}",
        "--env",
        f"TWINE_USERNAME={username}",
        "--env",
        f"TWINE_PASSWORD={password}",
    )
    assert_succeeded(
        run,
        {
            "matrix": 1,
            "lint": 1,
            "tests": 1,
            "machinery": 1,
            "coverage": 1,
            "build-dev": 1,
            "publish-dev": 1,
            "verify-dev": 1,
        },
    )
    assert run.matrices["tests"] == [{"os": "ubuntu-latest", "python": python}]
    log = run.log.read_text(encoding="utf-8")

    artifacts = tmp_path / "artifacts"
    assert sorted(path.name for path in artifacts.iterdir()) == [
        "coverage",
        f"coverage-data-{python}",
        "coverage-data-machinery",
        "dist",
        "junit-machinery",
        f"junit-ubuntu-latest-{python}",
    ]
    report = artifacts / f"junit-ubuntu-latest-{python}" / f"junit-{python}.xml"
    root = ET.parse(report).getroot()  # noqa: S314 (our own job's report)
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None
    assert int(suite.get("tests", "0")) > 0
    assert (suite.get("failures"), suite.get("errors")) == ("0", "0")
    # The recursion guard held: inside act, the machinery job collected this module and skipped it.
    machinery = ET.parse(artifacts / "junit-machinery" / "junit-machinery.xml").getroot()  # noqa: S314
    inner = [
        case
        for case in machinery.iter("testcase")
        if "test_workflows_act" in case.get("classname", "")
    ]
    assert inner and all(case.find("skipped") is not None for case in inner)
    # That slice holds one test module: its pytest ran in-process, starting no worker.
    assert "pytest -n 0 --dist worksteal" in log, run.explain()
    # Coverage combined the data of the tests cell and machinery, running no test itself.
    coverage = ET.parse(artifacts / "coverage" / "coverage.xml").getroot()  # noqa: S314
    assert coverage.tag == "coverage" and float(coverage.get("line-rate", "0")) > 0
    assert f"combining coverage-{python}.data, coverage-machinery.data" in log, run.explain()
    # The dev release: built once, and exactly those bytes are on the index.
    built = manifest.check_dist(artifacts / "dist")
    versions = {manifest.artifact_version(name)[1] for name in built}
    assert len(built) == 2 and len(versions) == 1, built
    assert ".dev" in versions.pop()
    assert index.list_files(server.simple_url, PROJECT) == built
    # The jobs' temporary files stayed in the act run's own folder: pytest's (its own folders,
    # under TMPDIR) are there.
    assert list((tmp_path / "tmp").glob("pytest-of-*")), sorted((tmp_path / "tmp").iterdir())
    print(f"act ci.yml push to develop, through verify-dev: {run.seconds:.0f} s")


@pytest.mark.parametrize(
    ("labels", "succeeds"),
    [([], False), (["documentation", "no-changelog"], True)],
)
def test_ci_changelog_gate_reads_base_and_labels_from_the_pull_request(
    tmp_path: Path, labels: list[str], succeeds: bool
) -> None:
    work, _origin = release_world(tmp_path / "world")
    git(work, "switch", "-q", "-c", "feature/shout")
    commit(work, "feat: shout", files={"src/agentops/shout.py": "LOUD = True\n"})
    event = tmp_path / "pull_request.json"
    event.write_text(
        json.dumps(
            {
                "action": "synchronize",
                "number": 7,
                "pull_request": {
                    "number": 7,
                    "base": {"ref": "develop"},
                    "head": {"ref": "feature/shout"},
                    "labels": [{"name": name} for name in labels],
                },
            }
        )
    )
    run = run_act(work, tmp_path, "pull_request", "ci.yml", "changelog", "-e", str(event))
    log = run.log.read_text(encoding="utf-8")
    if succeeds:
        assert_succeeded(run, {"changelog": 1})
        assert "check-changelog: skipped (labelled no-changelog)" in log, run.explain()
    else:
        assert run.returncode != 0, run.explain()
        assert run.results == {"changelog": ["failure"]}, run.explain()
        assert "touches src/agentops/shout.py but adds no entry" in log, run.explain()
        assert "--base origin/develop" in log, run.explain()


def test_cut_release_pushes_the_branch_and_opens_the_pr(
    tmp_path: Path, github_front: GitHubFront, real_gh: dict[str, str]
) -> None:
    work, origin = release_world(tmp_path / "world")
    github_front.origin = origin
    # The job's gh is the real one, at GitHub's front (its token in the env file, not on the
    # command line); act's github.repository is the front's repository.
    env_file = tmp_path / "jobs.env"
    env_file.write_text("".join(f'{k}="{v}"\n' for k, v in github_front.env().items()))
    run = run_act(
        work,
        tmp_path,
        "workflow_dispatch",
        "cut-release.yml",
        "cut-release",
        "--input",
        "version=0.2.0",
        "--env",
        f"GITHUB_REPOSITORY={github_front.repository}",
        repository=origin,  # the job clones origin, as on GitHub, and pushes back to it
        path_prefix=Path(real_gh["PATH"].split(os.pathsep)[0]),  # the runner image's gh
        env_file=env_file,
    )
    assert_succeeded(run, {"cut-release": 1})
    branch = "release/v0.2.0"
    assert git(origin, "rev-parse", f"{branch}~1") == git(origin, "rev-parse", "develop")
    author = git(origin, "log", "-1", "--format=%an <%ae>", branch)
    assert author == "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
    text = git(origin, "show", f"{branch}:CHANGELOG.md")
    today = datetime.datetime.now(tz=datetime.UTC).date().isoformat()
    assert f"## [0.2.0] - {today}" in text
    assert changelog.unreleased_entries(text) == []
    (pull,) = github_front.pulls
    assert (pull.base, pull.head, pull.title) == ("main", branch, "Release v0.2.0")
