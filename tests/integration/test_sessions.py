"""The real nox sessions, run in a temporary copy of the project against a real local index."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.artifacts import manifest
from scripts.indexes import index
from scripts.indexes.local_index import start_local_index
from tests.helpers import ROOT, copy_project, git

pytestmark = pytest.mark.integration

PASSWORD = "rehearsal-Secret-4242"


def run_nox(
    project: Path, envdir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `nox ARGS` in PROJECT, sharing environments through ENVDIR."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TWINE_", "LOCAL_INDEX"))}
    for name in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "EXPECTED_VERSION"):
        base.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "nox", "--envdir", str(envdir), *args],
        cwd=project,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def envdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Session environments shared by the copies (they hold only locked tools)."""
    return tmp_path_factory.mktemp("nox-envs")


@pytest.fixture(scope="module")
def tagged_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project tagged v1.2.3."""
    project = copy_project(tmp_path_factory.mktemp("sessions") / "project")
    git(project, "tag", "-a", "v1.2.3", "-m", "Release 1.2.3")
    return project


@pytest.fixture(scope="module")
def built(tagged_project: Path, envdir: Path) -> Path:
    """The project copy after a successful `nox -s build`."""
    result = run_nox(tagged_project, envdir, "-s", "build")
    assert result.returncode == 0, result.stdout + result.stderr
    return tagged_project


@pytest.fixture
def local_pypi(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A real pypiserver with upload authentication; yields the environment that targets it."""
    with start_local_index(tmp_path / "packages", credentials=("tester", PASSWORD)) as server:
        yield {
            "LOCAL_INDEX_URL": server.url,
            "TWINE_USERNAME": "tester",
            "TWINE_PASSWORD": PASSWORD,
        }


def test_menu_lists_every_session_with_a_docstring() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nox", "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    # Lines read "* name [tags] -> docstring" (selected) or "- name ..." (not by default).
    menu = {
        line[2:].split(" ")[0]: line.partition(" -> ")[2]
        for line in result.stdout.splitlines()
        if line[:2] in ("* ", "- ")
    }
    expected = {"lint", "coverage", "build", "publish", "verify", "rehearse"}
    assert expected | {"tests-3.11", "tests-3.12", "tests-3.13"} <= set(menu)
    assert all(menu.values()), [name for name, doc in menu.items() if not doc]
    selected = {line[2:].split(" ")[0] for line in result.stdout.splitlines() if line[:2] == "* "}
    assert not {"publish", "publish_testpypi", "rehearse"} & selected


def listing(folder: Path) -> list[str]:
    return sorted(
        str(path.relative_to(folder)) for path in folder.rglob("*") if ".git" not in path.parts
    )


def test_what_each_selection_runs_and_listing_makes_no_file(
    project_repo: Path, envdir: Path
) -> None:
    before = listing(project_repo)
    selections = {
        ("-s", "tests"): ["tests-3.11", "tests-3.12", "tests-3.13"],
        ("-t", "tests"): ["tests-3.11", "tests-3.12", "tests-3.13", "machinery"],
        ("-t", "ci"): ["lint", "tests-3.11", "tests-3.12", "tests-3.13", "machinery", "coverage",
                       "rehearsals", "build"],
    }  # fmt: skip
    for selection, expected in selections.items():
        # Python's own bytecode cache aside: noxfile.py itself must write nothing.
        result = run_nox(project_repo, envdir, *selection, "--list", "--json",
                         env={"PYTHONDONTWRITEBYTECODE": "1"})  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert [row["session"] for row in json.loads(result.stdout)] == expected, selection
    assert listing(project_repo) == before


def test_lint_fails_on_a_type_error(project_repo: Path, envdir: Path) -> None:
    # mypy checks benchmarks/ too, which the copy leaves out.
    shutil.copytree(ROOT / "benchmarks", project_repo / "benchmarks")
    helper = project_repo / "scripts" / "files.py"
    helper.write_text(helper.read_text() + "\n\ndef answer() -> int:\n    return str(42)\n")
    result = run_nox(project_repo, envdir, "-s", "lint")
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'Incompatible return value type (got "str", expected "int")' in result.stdout


def test_lint_fails_on_a_workflow_actionlint_refuses(project_repo: Path, envdir: Path) -> None:
    shutil.copytree(ROOT / "benchmarks", project_repo / "benchmarks")
    workflow = project_repo / ".github" / "workflows" / "ci.yml"
    text = workflow.read_text(encoding="utf-8")
    job = "\n  lint:\n"
    assert job in text
    workflow.write_text(text.replace(job, f"{job}    needs: [no-such-job]\n", 1), encoding="utf-8")
    result = run_nox(project_repo, envdir, "-s", "lint")
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'job "lint" needs job "no-such-job" which does not exist' in result.stdout
    assert "[job-needs]" in result.stdout


def test_invoke_ci_runs_ci_in_order_and_stops_at_the_first_failure(project_repo: Path) -> None:
    helper = project_repo / "scripts" / "files.py"
    helper.write_text(helper.read_text() + "\nimport os\n")  # unused: ruff check fails
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CI")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "ci"], cwd=project_repo, env=env, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    sessions = re.findall(r"nox > Running session (\S+)", output)
    assert sessions == ["lint"], output  # the first of `nox -t ci`, and nothing after it
    assert "reproduce locally: python3 -m uv run nox -s lint" in output
    assert output.rstrip().splitlines()[-1].startswith("ci: error: a session failed")


def test_python_versions_are_the_classifiers() -> None:
    import tomllib

    classifiers = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["classifiers"]
    prefix = "Programming Language :: Python :: 3."
    declared = sorted(c.rsplit(":: ", 1)[1] for c in classifiers if c.startswith(prefix))
    result = subprocess.run(
        [sys.executable, "-m", "nox", "--list", "--json", "-s", "tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    matrix = sorted(session["python"] for session in json.loads(result.stdout))
    assert matrix == declared == ["3.11", "3.12", "3.13"]


def test_build_writes_checked_artifacts_and_a_manifest(built: Path) -> None:
    dist = built / "dist"
    sums = manifest.check_dist(dist)
    assert sorted(sums) == [
        "agentops_accelerator-1.2.3-py3-none-any.whl",
        "agentops_accelerator-1.2.3.tar.gz",
    ]
    assert sorted(p.name for p in dist.iterdir()) == sorted([*sums, "SHA256SUMS"])


def test_build_removes_stale_files(built: Path, envdir: Path) -> None:
    stale = built / "dist" / "agentops_accelerator-0.0.1-py3-none-any.whl"
    stale.write_text("old")
    result = run_nox(built, envdir, "-s", "build")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not stale.exists()
    manifest.check_dist(built / "dist")


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_build_refuses_an_unexpected_version(built: Path, envdir: Path, how: str) -> None:
    before = manifest.check_dist(built / "dist")
    if how == "argument":
        result = run_nox(built, envdir, "-s", "build", "--", "--expected-version", "1.2.4")
    else:
        result = run_nox(built, envdir, "-s", "build", env={"EXPECTED_VERSION": "v1.2.4"})
    assert result.returncode == 1
    assert "the checkout is at version 1.2.3 (setuptools-scm), not the expected 1.2.4" in (
        result.stderr
    )
    assert "Nothing was built; dist/ is as it was" in result.stderr
    assert manifest.check_dist(built / "dist") == before  # the last good build is untouched


def test_build_accepts_the_tag_version(built: Path, envdir: Path) -> None:
    result = run_nox(built, envdir, "-s", "build", env={"EXPECTED_VERSION": "v1.2.3"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_build_checks_that_two_clean_builds_are_the_same_bytes(built: Path, envdir: Path) -> None:
    result = run_nox(built, envdir, "-s", "build", "--", "--reproducible-check")
    assert result.returncode == 0, result.stdout + result.stderr
    sums = manifest.read_manifest(built / "dist")
    # Each file of the second build compared with the first, as both were built from HEAD.
    for name, digest in sums.items():
        assert f"{name}  {digest}  same" in result.stdout
    assert "reproducible: two builds of HEAD (umask " in result.stdout


def test_publish_and_verify_against_a_local_index(
    built: Path, envdir: Path, local_pypi: dict[str, str]
) -> None:
    result = run_nox(built, envdir, "-s", "publish", "--", "local", env=local_pypi)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 uploaded" in result.stdout
    on_index = index.list_files(local_pypi["LOCAL_INDEX_URL"] + "simple/", "agentops-accelerator")
    assert on_index == manifest.read_manifest(built / "dist")
    result = run_nox(built, envdir, "-s", "verify", "--", "local", env=local_pypi)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified agentops-accelerator==1.2.3 from local" in result.stdout
    again = run_nox(built, envdir, "-s", "publish", "--", "local", env=local_pypi)
    assert again.returncode == 0
    assert "0 uploaded, 2 already there" in again.stdout
    for output in (result.stdout, result.stderr, again.stdout, again.stderr):
        assert PASSWORD not in output


USAGE = "Usage: nox -s publish -- testpypi|pypi|local|INDEX-NAME|URL [--simple-url URL] [...]"


@pytest.mark.parametrize(
    ("args", "said"),
    [(["--", "prod"], USAGE), ([], f"{USAGE} (no target given: say where to upload)")],
    ids=["an-unknown-target", "no-target"],
)
def test_publish_refuses_an_unknown_or_missing_target(
    built: Path, envdir: Path, args: list[str], said: str
) -> None:
    result = run_nox(built, envdir, "-s", "publish", *args)
    assert result.returncode == 1
    assert f"Session publish aborted: {said}.\n" in result.stderr
    assert "upload " not in result.stdout  # never to the local index by default


def test_publish_without_credentials_fails_before_any_upload(built: Path, envdir: Path) -> None:
    env = {"TEST_PYPI_TOKEN": "", "ACTIONS_ID_TOKEN_REQUEST_URL": ""}
    result = run_nox(built, envdir, "-s", "publish_testpypi", env=env)
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "publish: error: no credentials for testpypi: set TEST_PYPI_TOKEN" in output
    assert "upload " not in output


def test_publish_without_dist_is_refused(project_repo: Path, envdir: Path) -> None:
    result = run_nox(project_repo, envdir, "-s", "publish", "--", "local")
    assert result.returncode == 1
    assert "publish: error: no dist/ folder" in result.stdout + result.stderr


def test_coverage_without_data_names_the_command_to_run_first(
    project_repo: Path, envdir: Path
) -> None:
    result = run_nox(project_repo, envdir, "-s", "coverage")
    assert result.returncode == 1
    assert "no coverage data in reports/: run `nox -s tests`" in result.stderr
    assert not (project_repo / "reports" / "coverage.xml").exists()


def test_coverage_fails_under_its_threshold(project_repo: Path, envdir: Path) -> None:
    # One test session's data, of a run that touched a few modules: far under the threshold.
    reports = project_repo / "reports"
    reports.mkdir()
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "--data-file", str(reports / "coverage-x.data"),
         "-m", "scripts.artifacts.reproducible", "--help"],
        cwd=project_repo, check=True, capture_output=True,
    )  # fmt: skip
    result = run_nox(project_repo, envdir, "-s", "coverage")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "fail-under=85" in result.stdout + result.stderr
    assert "TOTAL" in result.stdout  # the table of what is missing is shown, not cut short
    assert (reports / "coverage.xml").is_file()  # the report is written all the same


def test_rehearse_runs_the_whole_staging_path(tagged_project: Path, envdir: Path) -> None:
    result = run_nox(tagged_project, envdir, "-s", "rehearse")
    assert result.returncode == 0, result.stdout + result.stderr
    log = result.stderr
    for step in ("build", "publish local", "verify local", "publish again (must skip)", "total"):
        assert f"  {step}" in log
    assert "verified agentops-accelerator==1.2.3 from local" in result.stdout
    assert "0 uploaded, 2 already there" in result.stdout


@pytest.mark.parametrize(("ci", "code"), [("", 0), ("true", 1)])
def test_a_missing_interpreter_is_skipped_locally_and_an_error_in_ci(
    project_repo: Path, envdir: Path, tmp_path: Path, ci: str, code: int
) -> None:
    # Not the Python running this test (nox may find itself), nor 3.11 (the system has one).
    missing = "3.12" if sys.version_info[:2] == (3, 13) else "3.13"
    # A machine without it: no pyenv under HOME, only the system's folders on PATH.
    env = {"HOME": str(tmp_path), "PYENV_ROOT": "", "PATH": "/usr/bin:/bin", "CI": ci}
    # Should the session run after all, it only collects one small file: no recursion.
    args = ("-s", f"tests-{missing}", "--", "--co", "-q", "tests/unit/test_interpreters.py")
    result = run_nox(project_repo, envdir, *args, env=env)
    assert result.returncode == code, result.stdout + result.stderr
    assert f"Python interpreter {missing} not found" in result.stderr
