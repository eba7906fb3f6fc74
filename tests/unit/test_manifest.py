"""manifest: write, read and check dist/SHA256SUMS; the version the artifacts carry."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from scripts.artifacts.manifest import (
    MANIFEST_NAME,
    ManifestError,
    artifact_version,
    check_dist,
    check_version,
    main,
    read_manifest,
    sha256_file,
    write_manifest,
)
from tests.helpers import help_shows

ROOT = Path(__file__).resolve().parents[2]
WHEEL = "agentops_accelerator-1.2.3-py3-none-any.whl"
EVERY_HEX_DIGIT = ("0123456789abcdefABCDEF" * 3)[:64]
SDIST = "agentops_accelerator-1.2.3.tar.gz"
CONTENT = {WHEEL: b"PK\x03\x04 a wheel", SDIST: b"\x1f\x8b an sdist"}
SUMS = {name: hashlib.sha256(data).hexdigest() for name, data in CONTENT.items()}
REBUILD = "rebuild with `nox -s build`"


def built(tmp_path: Path) -> Path:
    """A dist/ folder holding a fake wheel and sdist, and a file that is not an artifact."""
    dist = tmp_path / "dist"
    dist.mkdir()
    for name, data in CONTENT.items():
        (dist / name).write_bytes(data)
    (dist / "notes.txt").write_text("not an artifact\n")
    return dist


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", id="empty"
        ),
        pytest.param(
            b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", id="abc"
        ),
        pytest.param(
            b"a" * 3_000_000,
            hashlib.sha256(b"a" * 3_000_000).hexdigest(),
            id="larger-than-a-chunk",
        ),
    ],
)
def test_sha256_file(tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "file"
    path.write_bytes(data)
    assert sha256_file(path) == expected


def test_write_read_check_round_trip(tmp_path: Path) -> None:
    dist = built(tmp_path)
    assert write_manifest(dist) == SUMS
    # GNU sha256sum format, sorted by file name, artifacts only.
    assert (dist / MANIFEST_NAME).read_text() == (
        f"{SUMS[WHEEL]}  {WHEEL}\n{SUMS[SDIST]}  {SDIST}\n"
    )
    assert read_manifest(dist) == SUMS
    assert check_dist(dist) == SUMS
    assert sorted(p.name for p in dist.iterdir()) == sorted([*CONTENT, "notes.txt", MANIFEST_NAME])


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        pytest.param(
            lambda dist: None,
            "no {dist}/ folder: run `nox -s build` first",
            id="no-dist",
        ),
        pytest.param(
            lambda dist: dist.mkdir(),
            "no wheel or sdist in {dist}/: run `nox -s build` first",
            id="empty-dist",
        ),
        pytest.param(
            lambda dist: (dist.mkdir(), (dist / "x.zip").write_bytes(b"zip")),
            "no wheel or sdist in {dist}/: run `nox -s build` first",
            id="no-artifact",
        ),
    ],
)
def test_write_manifest_refuses(
    tmp_path: Path, prepare: Callable[[Path], object], message: str
) -> None:
    dist = tmp_path / "dist"
    prepare(dist)
    with pytest.raises(ManifestError) as caught:
        write_manifest(dist)
    assert str(caught.value) == message.format(dist=dist)
    assert not (dist / MANIFEST_NAME).exists()


def test_check_dist_needs_a_dist_folder(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as caught:
        check_dist(tmp_path / "dist")
    assert str(caught.value) == f"no {tmp_path / 'dist'}/ folder: run `nox -s build` first"


def change(dist: Path) -> None:
    (dist / WHEEL).write_bytes(b"tampered")


def remove(dist: Path) -> None:
    (dist / SDIST).unlink()


def add(dist: Path) -> None:
    (dist / "agentops_accelerator-1.2.4-py3-none-any.whl").write_bytes(b"extra")


def everything(dist: Path) -> None:
    change(dist)
    remove(dist)
    add(dist)


TAMPERED = hashlib.sha256(b"tampered").hexdigest()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        pytest.param(
            change,
            f"{{dist}}/{WHEEL} changed after the build "
            f"(sha256 {TAMPERED[:12]}… != {SUMS[WHEEL][:12]}… in SHA256SUMS): {REBUILD}",
            id="changed",
        ),
        pytest.param(
            remove,
            f"{{dist}}/{SDIST} is listed in SHA256SUMS but missing: {REBUILD}",
            id="missing",
        ),
        pytest.param(
            add,
            "{dist}/agentops_accelerator-1.2.4-py3-none-any.whl is not listed in SHA256SUMS: "
            f"{REBUILD}",
            id="extra",
        ),
        pytest.param(
            everything,
            f"{{dist}}/{WHEEL} changed after the build "
            f"(sha256 {TAMPERED[:12]}… != {SUMS[WHEEL][:12]}… in SHA256SUMS); "
            f"{{dist}}/{SDIST} is listed in SHA256SUMS but missing; "
            "{dist}/agentops_accelerator-1.2.4-py3-none-any.whl is not listed in SHA256SUMS: "
            f"{REBUILD}",
            id="all-at-once",
        ),
        pytest.param(
            lambda dist: (dist / MANIFEST_NAME).unlink(),
            "{dist}/SHA256SUMS not found: run `nox -s build` first",
            id="no-manifest",
        ),
    ],
)
def test_check_dist_refuses(tmp_path: Path, mutate: Callable[[Path], None], message: str) -> None:
    dist = built(tmp_path)
    write_manifest(dist)
    mutate(dist)
    with pytest.raises(ManifestError) as caught:
        check_dist(dist)
    assert str(caught.value) == message.format(dist=dist)


def test_only_wheel_and_sdist_files_count(tmp_path: Path) -> None:
    dist = built(tmp_path)
    (dist / "unpacked.whl").mkdir()
    assert write_manifest(dist) == SUMS
    (dist / "notes.txt").write_text("changed\n")
    (dist / "build.log").write_text("new\n")
    assert check_dist(dist) == SUMS


HEX = "a" * 64
EXPECTED_LINE = "(expected '<sha256>  <wheel or sdist file name>')"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            f"{HEX}  {WHEEL}\n{HEX} {SDIST}\n",
            f"{{path}}: line 2 is malformed: '{HEX} {SDIST}' {EXPECTED_LINE}",
            id="one-space",
        ),
        pytest.param(
            f"{HEX[:-1]}  {WHEEL}\n",
            f"{{path}}: line 1 is malformed: '{HEX[:-1]}  {WHEEL}' {EXPECTED_LINE}",
            id="short-hash",
        ),
        pytest.param(
            f"{'g' * 64}  {WHEEL}\n",
            f"{{path}}: line 1 is malformed: '{'g' * 64}  {WHEEL}' {EXPECTED_LINE}",
            id="not-hex",
        ),
        pytest.param(
            f"{HEX}  ../{WHEEL}\n",
            f"{{path}}: line 1 is malformed: '{HEX}  ../{WHEEL}' {EXPECTED_LINE}",
            id="path-outside-dist",
        ),
        pytest.param(
            f"{HEX}  sub/{WHEEL}\n",
            f"{{path}}: line 1 is malformed: '{HEX}  sub/{WHEEL}' {EXPECTED_LINE}",
            id="path-in-subfolder",
        ),
        pytest.param(
            f"{HEX}  notes.txt\n",
            f"{{path}}: line 1 is malformed: '{HEX}  notes.txt' {EXPECTED_LINE}",
            id="not-an-artifact",
        ),
        pytest.param(
            f"{HEX}  {WHEEL}\n\n",
            f"{{path}}: line 2 is malformed: '' {EXPECTED_LINE}",
            id="blank-line",
        ),
        pytest.param(
            f"{HEX}  {WHEEL}\n{HEX}  {WHEEL}\n",
            f"{{path}}: line 2 lists {WHEEL} a second time",
            id="duplicate",
        ),
        pytest.param("", "{path} lists no artifacts: run `nox -s build` first", id="empty"),
    ],
)
def test_read_manifest_refuses_malformed(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / MANIFEST_NAME).write_text(text)
    with pytest.raises(ManifestError) as caught:
        read_manifest(tmp_path)
    assert str(caught.value) == message.format(path=tmp_path / MANIFEST_NAME)


def test_read_manifest_refuses_a_binary_file(tmp_path: Path) -> None:
    (tmp_path / MANIFEST_NAME).write_bytes(b"\xff\xfe not text")
    with pytest.raises(ManifestError) as caught:
        read_manifest(tmp_path)
    expected = f"{tmp_path / MANIFEST_NAME} is not a text file: run `nox -s build` first"
    assert str(caught.value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(f"{HEX}  {WHEEL}\n", {WHEEL: HEX}, id="text-mode"),
        pytest.param(f"{HEX} *{WHEEL}", {WHEEL: HEX}, id="binary-mode-no-final-newline"),
        pytest.param(f"{HEX.upper()}  {SDIST}\n", {SDIST: HEX}, id="uppercase-hex"),
        pytest.param(
            f"{EVERY_HEX_DIGIT}  {SDIST}\n",
            {SDIST: EVERY_HEX_DIGIT.lower()},
            id="every-hex-digit-in-both-cases",
        ),
    ],
)
def test_read_manifest_accepts_gnu_forms(
    tmp_path: Path, text: str, expected: dict[str, str]
) -> None:
    (tmp_path / MANIFEST_NAME).write_text(text)
    assert read_manifest(tmp_path) == expected


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        pytest.param(WHEEL, ("agentops-accelerator", "1.2.3"), id="wheel"),
        pytest.param(SDIST, ("agentops-accelerator", "1.2.3"), id="sdist"),
        pytest.param(
            "agentops_accelerator-1.2.4.dev3-py3-none-any.whl",
            ("agentops-accelerator", "1.2.4.dev3"),
            id="dev-wheel",
        ),
        pytest.param(
            "Agentops.Accelerator-1.0.tar.gz", ("agentops-accelerator", "1.0"), id="canonical-name"
        ),
    ],
)
def test_artifact_version(filename: str, expected: tuple[str, str]) -> None:
    assert artifact_version(filename) == expected


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        pytest.param(
            "agentops_accelerator-1.2.3.zip",
            "'agentops_accelerator-1.2.3.zip' is neither a wheel (.whl) nor an sdist (.tar.gz)",
            id="zip",
        ),
        pytest.param(
            "SHA256SUMS",
            "'SHA256SUMS' is neither a wheel (.whl) nor an sdist (.tar.gz)",
            id="other",
        ),
        pytest.param(
            "agentops.whl",
            "invalid artifact name 'agentops.whl': "
            "Invalid wheel filename (wrong number of parts): 'agentops'",
            id="bad-wheel",
        ),
        pytest.param(
            "agentops_accelerator-latest.tar.gz",
            "invalid artifact name 'agentops_accelerator-latest.tar.gz': "
            "Invalid sdist filename (invalid version): 'agentops_accelerator-latest.tar.gz'",
            id="bad-sdist",
        ),
    ],
)
def test_artifact_version_refuses(filename: str, message: str) -> None:
    with pytest.raises(ManifestError) as caught:
        artifact_version(filename)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "expected",
    [
        pytest.param("1.2.3", id="plain"),
        pytest.param("v1.2.3", id="v"),
        pytest.param("1.2.3.0", id="equal-as-version"),
    ],
)
def test_check_version_accepts(expected: str) -> None:
    check_version([WHEEL, SDIST], expected)


@pytest.mark.parametrize(
    ("filenames", "expected", "message"),
    [
        pytest.param(
            [WHEEL, SDIST],
            "1.2.4",
            f"{WHEEL} and {SDIST} carry version 1.2.3, not the expected 1.2.4: "
            "was the release tag on the commit that was built?",
            id="wrong-version",
        ),
        pytest.param(
            [
                "agentops_accelerator-1.2.4.dev1-py3-none-any.whl",
                "agentops_accelerator-1.2.4.dev1.tar.gz",
            ],
            "v1.2.4",
            "agentops_accelerator-1.2.4.dev1-py3-none-any.whl and "
            "agentops_accelerator-1.2.4.dev1.tar.gz carry version 1.2.4.dev1, not the expected "
            "1.2.4: was the release tag on the commit that was built?",
            id="dev-build",
        ),
        pytest.param(
            [WHEEL, "agentops_accelerator-1.2.4.tar.gz"],
            "1.2.3",
            f"the artifacts disagree: {WHEEL} is agentops-accelerator 1.2.3, "
            "agentops_accelerator-1.2.4.tar.gz is agentops-accelerator 1.2.4",
            id="versions-disagree",
        ),
        pytest.param(
            [WHEEL, "other-1.2.3.tar.gz"],
            "1.2.3",
            f"the artifacts disagree: {WHEEL} is agentops-accelerator 1.2.3, "
            "other-1.2.3.tar.gz is other 1.2.3",
            id="projects-disagree",
        ),
        pytest.param(
            [WHEEL],
            "1.2.3",
            f"expected one wheel and one sdist, found 1 wheel(s) and 0 sdist(s): {WHEEL}",
            id="no-sdist",
        ),
        pytest.param(
            [WHEEL, "agentops_accelerator-1.2.3-cp311-cp311-linux_x86_64.whl", SDIST],
            "1.2.3",
            "expected one wheel and one sdist, found 2 wheel(s) and 1 sdist(s): "
            f"agentops_accelerator-1.2.3-cp311-cp311-linux_x86_64.whl, {WHEEL}, {SDIST}",
            id="two-wheels",
        ),
        pytest.param(
            [],
            "1.2.3",
            "expected one wheel and one sdist, found 0 wheel(s) and 0 sdist(s): nothing",
            id="nothing",
        ),
        pytest.param(
            [WHEEL, SDIST],
            "release-1",
            "invalid expected version 'release-1': not a PEP 440 version",
            id="invalid-expected",
        ),
    ],
)
def test_check_version_refuses(filenames: list[str], expected: str, message: str) -> None:
    with pytest.raises(ManifestError) as caught:
        check_version(filenames, expected)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("mutate", "argv", "code", "out", "err"),
    [
        pytest.param(
            None,
            ["write", "{dist}"],
            0,
            f"wrote {{dist}}/SHA256SUMS: {WHEEL}, {SDIST}\n",
            "",
            id="write",
        ),
        pytest.param(
            None,
            ["check", "{dist}", "--expected-version", "v1.2.3"],
            0,
            f"{{dist}}/SHA256SUMS matches {WHEEL}, {SDIST}\n",
            "",
            id="check",
        ),
        pytest.param(
            change,
            ["check", "{dist}"],
            1,
            "",
            f"{{dist}}/{WHEEL} changed after the build "
            f"(sha256 {TAMPERED[:12]}… != {SUMS[WHEEL][:12]}… in SHA256SUMS): {REBUILD}\n",
            id="check-changed",
        ),
        pytest.param(
            None,
            ["check", "{dist}", "--expected-version", "1.3.0"],
            1,
            "",
            f"{WHEEL} and {SDIST} carry version 1.2.3, not the expected 1.3.0: "
            "was the release tag on the commit that was built?\n",
            id="check-wrong-version",
        ),
        pytest.param(
            lambda dist: [(dist / name).unlink() for name in (WHEEL, SDIST)],
            ["check", "{dist}"],
            1,
            "",
            f"{{dist}}/{WHEEL} is listed in SHA256SUMS but missing; {{dist}}/{SDIST} is listed in "
            f"SHA256SUMS but missing: {REBUILD}\n",
            id="check-both-missing",
        ),
        pytest.param(
            lambda dist: (dist / MANIFEST_NAME).unlink(),
            ["check", "{dist}"],
            1,
            "",
            "{dist}/SHA256SUMS not found: run `nox -s build` first\n",
            id="check-no-manifest",
        ),
    ],
)
def test_main(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    mutate: Callable[[Path], object] | None,
    argv: list[str],
    code: int,
    out: str,
    err: str,
) -> None:
    dist = built(tmp_path)
    if argv[0] == "check":
        write_manifest(dist)
    if mutate is not None:
        mutate(dist)
    assert main([arg.format(dist=dist) for arg in argv]) == code
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (out.format(dist=dist), err.format(dist=dist))


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        (["--help"], ["usage: python -m scripts.artifacts.manifest [-h] {write,check}",
                      "The dist/ manifest: the sha256 of every wheel and sdist built, which every "
                      "later step checks.",
                      "hash the wheels and sdists of DIST into SHA256SUMS",
                      "check DIST against its SHA256SUMS"]),
        (["write", "--help"], ["usage: python -m scripts.artifacts.manifest write [-h] DIST"]),
        (["check", "--help"],
         ["usage: python -m scripts.artifacts.manifest check [-h] [--expected-version V] DIST",
          "the version every artifact must carry"]),
    ],
)  # fmt: skip
def test_the_command_line_explains_itself(
    capsys: pytest.CaptureFixture[str], argv: list[str], shown: list[str]
) -> None:
    help_shows(main, argv, capsys, shown)


def test_the_command_line_needs_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([])
    assert stopped.value.code == 2
    assert "the following arguments are required: command" in capsys.readouterr().err


def test_module_runs_as_a_script(tmp_path: Path) -> None:
    dist = built(tmp_path)
    write_manifest(dist)
    (dist / SDIST).unlink()
    result = subprocess.run(
        [sys.executable, "-m", "scripts.artifacts.manifest", "check", "dist"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "",
        f"dist/{SDIST} is listed in SHA256SUMS but missing: {REBUILD}\n",
    )
