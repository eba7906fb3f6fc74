"""The agentops command line: --version, --help and init, including its refusals."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

import agentops
from agentops.cli import app
from agentops.config import WorkspaceConfig, load_config

runner = CliRunner()
EXPECTED = {".agentops/config.yaml", ".agentops/datasets/smoke.jsonl", ".agentops/.gitignore"}


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file below ROOT with its bytes, to prove that nothing changed."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_version_comes_from_the_installed_metadata() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"agentops {version('agentops-accelerator')}\n"
    assert agentops.__version__ == version("agentops-accelerator")


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    # typer colours its help where GITHUB_ACTIONS is set: compare the text without the styling.
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.output)
    assert "init" in text
    assert "--version" in text


def test_version_and_help_leave_the_workspace_machinery_unloaded() -> None:
    # pydantic and ruamel.yaml are for `init` alone; loading them doubled every other start-up.
    probe = (
        "import sys; from typer.testing import CliRunner; from agentops.cli import app;"
        "[CliRunner().invoke(app, [flag]) for flag in ('--version', '--help')];"
        "heavy = ('pydantic', 'ruamel.yaml', 'agentops.workspace');"
        "print(sorted(name for name in heavy if name in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert loaded.stdout == "[]\n", loaded.stdout + loaded.stderr


def test_init_creates_the_workspace_and_says_so(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert set(snapshot(tmp_path)) == EXPECTED
    for name in EXPECTED:
        assert f"created  {tmp_path / name}" in result.output
    config = load_config(tmp_path / ".agentops/config.yaml")
    assert config == WorkspaceConfig(project=tmp_path.name)
    dataset = (tmp_path / ".agentops" / config.evaluation.dataset).read_text().splitlines()
    assert len(dataset) == 3
    assert "results/" in (tmp_path / ".agentops/.gitignore").read_text().splitlines()


def test_init_defaults_to_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert set(snapshot(tmp_path)) == EXPECTED


def test_init_twice_changes_nothing(tmp_path: Path) -> None:
    runner.invoke(app, ["init", str(tmp_path)])
    before = snapshot(tmp_path)
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 0
    assert "already initialised; nothing changed" in result.output
    assert snapshot(tmp_path) == before


def test_init_refuses_to_overwrite_other_content(tmp_path: Path) -> None:
    runner.invoke(app, ["init", str(tmp_path)])
    (tmp_path / ".agentops/config.yaml").write_text("project: mine\n")
    (tmp_path / ".agentops/.gitignore").write_text("mine\n")
    before = snapshot(tmp_path)
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 1
    assert "config.yaml" in result.output
    assert ".gitignore" in result.output
    assert "--force" in result.output
    assert snapshot(tmp_path) == before


def test_force_replaces_and_keeps_the_old_content(tmp_path: Path) -> None:
    runner.invoke(app, ["init", str(tmp_path)])
    config = tmp_path / ".agentops/config.yaml"
    config.write_text("project: mine\n")
    (tmp_path / ".agentops/notes.txt").write_text("a user's file\n")
    result = runner.invoke(app, ["init", str(tmp_path), "--force"])
    assert result.exit_code == 0, result.output
    assert "replaced" in result.output
    assert (tmp_path / ".agentops/config.yaml.bak").read_text() == "project: mine\n"
    assert (tmp_path / ".agentops/notes.txt").read_text() == "a user's file\n"
    assert load_config(config).project == tmp_path.name
    # a second --force keeps the first backup too
    config.write_text("project: again\n")
    runner.invoke(app, ["init", str(tmp_path), "--force"])
    assert (tmp_path / ".agentops/config.yaml.bak").read_text() == "project: mine\n"
    assert (tmp_path / ".agentops/config.yaml.bak.1").read_text() == "project: again\n"


def _file(path: Path) -> Path:
    path.write_text("x")
    return path


def _below_a_file(path: Path) -> Path:
    return _file(path) / "sub"


def _workspace_is_a_file(path: Path) -> Path:
    path.mkdir()
    _file(path / ".agentops")
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(_file, "is not a directory", id="target-is-a-file"),
        pytest.param(_below_a_file, "is not a directory", id="parent-is-a-file"),
        pytest.param(
            _workspace_is_a_file,
            ".agentops exists and is not a directory",
            id="workspace-is-a-file",
        ),
    ],
)
def test_init_on_a_file_is_a_one_line_error(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    target = make(tmp_path / "target")
    before = snapshot(tmp_path)
    result = runner.invoke(app, ["init", str(target)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert message in result.output
    assert snapshot(tmp_path) == before


def test_init_where_a_planned_file_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / ".agentops/config.yaml").mkdir(parents=True)
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 2
    assert "is a directory, expected a file" in result.output


def _read_only_runner(folder: Path) -> list[str]:
    """A command prefix that runs with FOLDER read-only, also for root (which ignores modes)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return []
    if shutil.which("unshare") is None:
        pytest.skip("running as root without unshare: cannot make a folder read-only")
    # A read-only bind mount in a private mount namespace binds root as well.
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && shift && exec "$@"'
    return ["unshare", "--map-root-user", "--mount", "sh", "-c", script, str(folder), "--"]


@pytest.mark.posix
def test_init_in_a_read_only_folder_is_a_one_line_error(tmp_path: Path) -> None:
    folder = tmp_path / "readonly"
    folder.mkdir()
    prefix = _read_only_runner(folder)
    try:
        result = subprocess.run(
            [*prefix, sys.executable, "-m", "agentops", "init", str(folder)],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        folder.chmod(0o755)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("agentops: error: cannot write ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert list(folder.iterdir()) == []


def test_config_comments_survive_an_edit(tmp_path: Path) -> None:
    runner.invoke(app, ["init", str(tmp_path)])
    path = tmp_path / ".agentops/config.yaml"
    yaml = YAML()
    document = yaml.load(path)
    document["evaluation"]["threshold"] = 0.5
    with path.open("w") as handle:
        yaml.dump(document, handle)
    text = path.read_text()
    assert "# the lowest passing score, from 0 to 1" in text
    assert "# agentops workspace configuration" in text
    assert load_config(path).evaluation.threshold == 0.5


def test_init_writes_the_same_bytes_in_every_process(tmp_path: Path) -> None:
    # Two processes with other hash seeds (set and dict orders) and other clocks.
    written = []
    for seed in ("1", "2"):
        folder = tmp_path / seed / "demo"
        folder.mkdir(parents=True)
        subprocess.run(
            [sys.executable, "-m", "agentops", "init"], cwd=folder, check=True,
            env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True,
        )  # fmt: skip
        written.append(snapshot(folder))
    assert set(written[0]) == EXPECTED
    assert written[0] == written[1]
