"""verify: file names, versions, the install project, the smoke test, and bad input."""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.artifacts import verify
from scripts.artifacts.install_project import dependency_index, install_project
from scripts.artifacts.manifest import MANIFEST_NAME, write_manifest
from scripts.artifacts.verify import (
    BrokenPackage,
    VerifyError,
    built_version,
    expected_files,
    normalize_version,
    smoke_test,
)
from tests.helpers import RecordingIndex

PYPI_SIMPLE = "https://pypi.org/simple/"
INDEX_VARIABLES = ("UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_INDEX_URL")


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        pytest.param(
            "1.2.3",
            ["agentops_accelerator-1.2.3-py3-none-any.whl", "agentops_accelerator-1.2.3.tar.gz"],
            id="release",
        ),
        pytest.param(
            "0.1.dev4",
            [
                "agentops_accelerator-0.1.dev4-py3-none-any.whl",
                "agentops_accelerator-0.1.dev4.tar.gz",
            ],
            id="dev",
        ),
        pytest.param(
            "2.0rc1",
            ["agentops_accelerator-2.0rc1-py3-none-any.whl", "agentops_accelerator-2.0rc1.tar.gz"],
            id="pre-release",
        ),
    ],
)
def test_expected_files(version: str, expected: list[str]) -> None:
    assert expected_files(version) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("1.2.3", "1.2.3", id="plain"),
        pytest.param("v1.2.3", "1.2.3", id="tag-prefix"),
        pytest.param("1.0-RC1", "1.0rc1", id="pre-release-spelling"),
        pytest.param("1.0.dev-4", "1.0.dev4", id="dev-spelling"),
        pytest.param("1.0.0", "1.0.0", id="trailing-zero-kept"),
    ],
)
def test_normalize_version(text: str, expected: str) -> None:
    assert normalize_version(text) == expected


@pytest.mark.parametrize("text", ["", "latest", '1.0"', "1.0 ; rm -rf"])
def test_normalize_version_refuses(text: str) -> None:
    with pytest.raises(VerifyError, match="is not a PEP 440 version"):
        normalize_version(text)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({}, PYPI_SIMPLE, id="nothing-means-pypi"),
        pytest.param({"PIP_INDEX_URL": "https://pip.example/simple"}, "https://pip.example/simple"),
        pytest.param(
            {"PIP_INDEX_URL": "https://pip.example/simple", "UV_INDEX_URL": "https://uv.example/"},
            "https://uv.example/",
            id="uv-index-url-over-pip",
        ),
        pytest.param(
            {
                "PIP_INDEX_URL": "https://pip.example/simple",
                "UV_INDEX_URL": "https://uv.example/",
                "UV_DEFAULT_INDEX": "https://default.example/",
            },
            "https://default.example/",
            id="uv-default-index-first",
        ),
        pytest.param(
            {"UV_DEFAULT_INDEX": "", "UV_INDEX_URL": "https://uv.example/"},
            "https://uv.example/",
            id="empty-is-unset",
        ),
        pytest.param(
            {"UV_EXTRA_INDEX_URL": "https://extra.example/"}, PYPI_SIMPLE, id="extra-is-not-default"
        ),
    ],
)
def test_dependency_index(environ: dict[str, str], expected: str) -> None:
    assert dependency_index(environ) == expected


@pytest.mark.parametrize(
    ("target", "dependencies"),
    [
        pytest.param("http://127.0.0.1:8080/simple/", PYPI_SIMPLE, id="local"),
        pytest.param("https://test.pypi.org/simple/", "https://mirror.example/pypi/simple/"),
        pytest.param(
            'https://odd.example/"quoted"\\path/simple/', PYPI_SIMPLE, id="quote-and-backslash"
        ),
    ],
)
def test_install_project_pins_the_package_to_the_target(target: str, dependencies: str) -> None:
    data = tomllib.loads(install_project("1.2.3", target, dependencies))
    assert data["project"]["dependencies"] == ["agentops-accelerator==1.2.3"]
    assert data["tool"]["uv"]["package"] is False
    assert data["tool"]["uv"]["sources"] == {"agentops-accelerator": {"index": "target"}}
    assert data["tool"]["uv"]["index"] == [
        {"name": "target", "url": target, "explicit": True},
        {"name": "dependencies", "url": dependencies, "default": True},
    ]


def make_dist(tmp_path: Path, *names: str) -> Path:
    dist = tmp_path / "dist"
    dist.mkdir()
    for name in names:
        (dist / name).write_bytes(name.encode())
    write_manifest(dist)
    return dist


def test_built_version(tmp_path: Path) -> None:
    dist = make_dist(tmp_path, *expected_files("1.2.3"))
    version, sums = built_version(dist)
    assert version == "1.2.3"
    assert sorted(sums) == expected_files("1.2.3")


def test_built_version_refuses_a_mixed_manifest(tmp_path: Path) -> None:
    dist = make_dist(tmp_path, *expected_files("1.2.3"), expected_files("1.2.4")[1])
    with pytest.raises(VerifyError, match=r"lists several versions: \['1.2.3', '1.2.4'\]"):
        built_version(dist)


# --- the smoke test against stand-in `agentops` commands ---------------------------------------

GOOD_CLI = """
import pathlib, sys
args = sys.argv[1:]
if args == ["--version"]:
    print("agentops 1.2.3")
elif args == ["--help"]:
    print("Usage: agentops [OPTIONS] COMMAND\\n\\nCommands:\\n  init  Create the workspace.")
elif args == ["init"]:
    for name in (".agentops/config.yaml", ".agentops/datasets/smoke.jsonl", ".agentops/.gitignore"):
        path = pathlib.Path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
"""


def fake_cli(bin_dir: Path, body: str) -> None:
    bin_dir.mkdir()
    script = bin_dir / "agentops"
    script.write_text(f"#!{sys.executable}\n{body}")
    script.chmod(0o755)


@pytest.mark.posix
@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            GOOD_CLI.replace("agentops 1.2.3", "agentops 1.2.2"),
            "installed but broken: `agentops --version` exited 0: agentops 1.2.2 "
            "(expected 'agentops 1.2.3')",
            id="wrong-version",
        ),
        pytest.param(
            "raise RuntimeError('boom')",
            "installed but broken: `agentops --version` exited 1: RuntimeError: boom",
            id="raises",
        ),
        pytest.param(
            GOOD_CLI.replace("init  Create", "make  Create"),
            "installed but broken: `agentops --help` exited 0: make  Create the workspace. "
            "(expected a help text naming init)",
            id="help-without-init",
        ),
        pytest.param(
            GOOD_CLI.replace('path.write_text("x")', "pass"),
            "installed but broken: `agentops init` exited 0: no output (missing "
            ".agentops/config.yaml, .agentops/datasets/smoke.jsonl, .agentops/.gitignore)",
            id="init-writes-nothing",
        ),
        pytest.param(
            GOOD_CLI + "\nif args == ['init']: sys.exit(3)",
            "installed but broken: `agentops init` exited 3: no output (missing nothing)",
            id="init-fails",
        ),
        pytest.param(
            "input()",
            "installed but broken: `agentops --version` exited 1: "
            "EOFError: EOF when reading a line",
            id="waits-for-input",
        ),
        pytest.param(
            "import time; time.sleep(30)",
            "installed but broken: `agentops --version` did not finish within 0.5 s",
            id="hangs",
        ),
    ],
)
def test_smoke_test_finds_a_broken_cli(tmp_path: Path, body: str, message: str) -> None:
    fake_cli(tmp_path / "bin", body)
    with pytest.raises(BrokenPackage) as caught:
        smoke_test(tmp_path / "bin", "1.2.3", tmp_path, timeout=0.5)
    assert str(caught.value).startswith(message), str(caught.value)
    assert "\n" not in str(caught.value)


def test_smoke_test_without_the_command(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    with pytest.raises(BrokenPackage, match=r"`agentops --version` could not run .*agentops: "):
        smoke_test(tmp_path / "bin", "1.2.3", tmp_path)


@pytest.mark.posix
def test_smoke_test_passes_a_working_cli(tmp_path: Path) -> None:
    fake_cli(tmp_path / "bin", GOOD_CLI)
    assert smoke_test(tmp_path / "bin", "1.2.3", tmp_path, timeout=10) == [
        "agentops --version",
        "agentops --help",
        "agentops init",
    ]


# --- main() and bad input ----------------------------------------------------------------------


@pytest.fixture
def recording_index(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingIndex]:
    monkeypatch.delenv("VERIFY_DEADLINE", raising=False)
    with RecordingIndex() as running:
        yield running


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(
            [],
            "verify: error: no version given and no {tmp}/dist/SHA256SUMS: pass --version",
            id="no-version-no-manifest",
        ),
        pytest.param(
            ["--version", "latest"],
            "verify: error: 'latest' is not a PEP 440 version",
            id="not-a-version",
        ),
    ],
)
def test_main_bad_input_is_one_line_and_asks_nothing(
    capsys: pytest.CaptureFixture[str],
    recording_index: RecordingIndex,
    tmp_path: Path,
    extra: list[str],
    message: str,
) -> None:
    (tmp_path / "dist").mkdir()
    code = verify.main(
        ["local", "--dist", str(tmp_path / "dist"), "--local-url", recording_index.url, *extra]
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert err == message.format(tmp=tmp_path) + "\n"
    assert out == ""
    assert recording_index.requests == []


def test_main_with_a_malformed_manifest(
    capsys: pytest.CaptureFixture[str], recording_index: RecordingIndex, tmp_path: Path
) -> None:
    (tmp_path / MANIFEST_NAME).write_text("not a manifest line\n")
    code = verify.main(["local", "--dist", str(tmp_path), "--local-url", recording_index.url])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"verify: error: {tmp_path / MANIFEST_NAME}: line 1 is malformed")
    assert err.count("\n") == 1
    assert recording_index.requests == []


def test_main_refuses_a_bad_verify_deadline(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERIFY_DEADLINE", "ten minutes")
    with pytest.raises(SystemExit) as caught:
        verify.main(["local", "--version", "1.2.3"])
    assert caught.value.code == 2
    assert "argument --deadline: invalid float value: 'ten minutes'" in capsys.readouterr().err
