"""The scratch project every contender runs in, and the warm-ups that prepare it."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

from scripts import processes
from scripts.artifacts import manifest
from scripts.scratch import commit, copy_project, copy_working_tree, git

from .commands import (
    HATCH_DATA,
    child_env,
    hatch,
    logged_command,
    logged_commands,
    nox,
    timed,
    tox,
)
from .model import Bench, BenchError

# Two tox-uv flavours over the same lock and dependency group as the tests session.
TOX_INI = """\
[tox]
env_list = lock, plain

[testenv]
base_python = python{python}
dependency_groups = test
commands = pytest {{posargs}}

[testenv:lock]
runner = uv-venv-lock-runner

[testenv:plain]
runner = uv-venv-runner
package = editable
"""

# hatch over the same dependency group, with uv as its installer; the project in dev mode.
HATCH_TOML = """\
[envs.bench]
installer = "uv"
python = "{python}"
dependency-groups = ["test"]
"""
LINT_TOOLS = ("ruff", "mypy", "check-jsonschema", "zizmor")

# The one line of src/agentops/cli.py the broken copy changes: --version then prints a lie.
VERSION_ECHO = 'typer.echo(f"agentops {__version__}")'
BROKEN_ECHO = 'typer.echo("agentops 0.0.0")'
BROKEN_VERSION = "9.9.9"


def default_python(project: Path, env: dict[str, str]) -> str:
    """The Python of the first tests session, as the noxfile lists it."""
    run = timed([sys.executable, "-m", "nox", "--list", "--json"], cwd=project, env=env)
    listing = json.loads(run.text()[run.text().index("[") :])
    for entry in listing:
        if entry["name"] == "tests" and entry.get("python"):
            return str(entry["python"])
    raise BenchError("the noxfile lists no tests session with a Python")


def make_bench(scratch: Path, suite: list[str]) -> Bench:
    """The scratch project with a tox.ini for the tox contenders, committed."""
    project = copy_working_tree(scratch / "project")
    env = child_env(project)
    python = default_python(project, env)
    files = {
        "tox.ini": TOX_INI.format(python=python),
        "hatch.toml": HATCH_TOML.format(python=python),
    }
    commit(project, "benchmark: tox.ini and hatch.toml", files=files)
    uv = processes.find_tool("uv")
    if uv:  # hatch's own uv would be installed from PyPI into an internal environment
        env["HATCH_ENV_TYPE_VIRTUAL_UV_PATH"] = uv
    env["HATCH_DATA_DIR"] = str(scratch / HATCH_DATA)  # its environments go below, in env/
    return Bench(scratch, project, python, suite, env)


def prepare_tests(bench: Bench) -> None:
    """Make the tests environment and learn the exact pytest command line the session runs."""
    run = nox(bench, "-s", f"tests-{bench.python}", "--", *bench.suite)
    bench.pytest_args = logged_command(run, "pytest")[1:]


def prepare_tox(bench: Bench) -> None:
    """Check tox and tox-uv are here and fill uv's cache for both tox environments once."""
    if not (importlib.util.find_spec("tox") and importlib.util.find_spec("tox_uv")):
        raise BenchError("tox and tox-uv are not installed here: run it as `nox -s bench`")
    if not bench.pytest_args:
        raise BenchError("needs the tests warm-up, which failed")
    for name in ("lock", "plain"):
        tox(bench, name)


def prepare_hatch(bench: Bench) -> None:
    """Check hatch is here and fill uv's cache for its environment once."""
    if not importlib.util.find_spec("hatch"):
        raise BenchError("hatch is not installed here: run it as `nox -s bench`")
    if not bench.pytest_args:
        raise BenchError("needs the tests warm-up, which failed")
    hatch(bench)


def prepare_lint(bench: Bench) -> None:
    """Make the lint environment and its caches (ruff, mypy); learn each tool's command line."""
    run = nox(bench, "-s", "lint")
    bench.lint_commands = logged_commands(run, LINT_TOOLS)


def prepare_readme(bench: Bench) -> None:
    """Nothing to warm: the README's command runs in a fresh clone, uv's cache already warm."""
    if shutil.which("git") is None:
        raise BenchError("git is not on PATH")


def prepare_build(bench: Bench) -> None:
    """Make the build environment, learn its build command, keep its dist for verify."""
    run = nox(bench, "-s", "build")
    bench.build_args = logged_command(run, "python -m build")[1:]
    bench.release_dist = bench.scratch / "release-dist"
    shutil.copytree(bench.project / "dist", bench.release_dist)


def prepare_rehearse(bench: Bench) -> None:
    """Make the rehearse environment."""
    nox(bench, "-s", "rehearse")


def prepare_verify(bench: Bench) -> None:
    """Build a copy tagged v9.9.9 whose CLI prints a wrong version."""
    if bench.release_dist is None:
        raise BenchError("needs the build warm-up, which failed")
    copy = copy_project(bench.scratch / "broken")
    cli = copy / "src" / "agentops" / "cli.py"
    source = cli.read_text(encoding="utf-8")
    if VERSION_ECHO not in source:
        raise BenchError(f"cannot break the copy: {VERSION_ECHO!r} is not in src/agentops/cli.py")
    commit(
        copy,
        "break --version",
        files={"src/agentops/cli.py": source.replace(VERSION_ECHO, BROKEN_ECHO)},
    )
    git(copy, "tag", f"v{BROKEN_VERSION}")
    dist = copy / "dist"
    command = [sys.executable, "-m", "build", "--quiet", "--no-isolation", "--outdir", str(dist)]
    timed(command, cwd=copy, env=child_env(copy))
    manifest.write_manifest(dist)
    bench.broken_dist = dist
