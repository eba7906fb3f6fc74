"""Install an exact version from an index into a fresh environment and smoke-test the CLI.

First it waits for the release's files to appear in the index's simple API (polling with backoff
up to a deadline), then it installs `agentops-accelerator==VERSION` into a new environment with
uv, the package taken only from the target index (never from uv's cache: a cached file of the same
version may hold other bytes) and its dependencies from PyPI or the cache, and runs `agentops
--version`, `agentops --help` and `agentops init`, each with a time limit. "Not there yet" (the
deadline passed) and "installed but broken" (fails at once) are different errors.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from packaging.version import InvalidVersion, Version

from scripts import COMMAND, PROJECT
from scripts.artifacts import manifest, reproducible
from scripts.artifacts.install_project import dependency_index, install_project
from scripts.indexes import attestations, index, index_targets, retrying, waiting
from scripts.indexes.simple_pages import FileLink, PackageIndexError
from scripts.output import command_line, fail, last_line, redact

WHEEL_TAG = "py3-none-any"
# The public contract of `agentops init`: what a user finds after it.
INIT_FILES = (".agentops/config.yaml", ".agentops/datasets/smoke.jsonl", ".agentops/.gitignore")
# Listings in a row that must agree before anything is installed: a CDN serves lagging and
# flapping listings for minutes after an upload (warehouse#11512, #15543, #12272).
AGREEING_LISTINGS = 3
# The line that says the files are on the index (the benchmark times its arrival).
FILES_LISTED = "all files listed"
INSTALL_ATTEMPTS = 3
# Seconds each smoke-test command may take: a CLI that hangs is broken, not slow.
SMOKE_TIMEOUT = 60.0


class VerifyError(Exception):
    """Verification failed; the message says how, in one line."""


class BrokenPackage(VerifyError):
    """The package installed, but does not work."""


def normalize_version(text: str) -> str:
    """TEXT as the PEP 440 normal form the file names carry (`v1.0-RC1` -> `1.0rc1`)."""
    try:
        return str(Version(text))
    except InvalidVersion:
        raise VerifyError(f"{text!r} is not a PEP 440 version") from None


def expected_files(version: str) -> list[str]:
    """The wheel and sdist file names a release of VERSION has."""
    stem = f"{PROJECT.replace('-', '_')}-{version}"
    return [f"{stem}-{WHEEL_TAG}.whl", f"{stem}.tar.gz"]


def _run(
    command: Sequence[str | Path],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float | None = None,
) -> tuple[int | None, str]:
    """COMMAND's exit status and output; None and a reason if it could not run or ran too long."""
    try:
        result = subprocess.run(
            [str(part) for part in command],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"did not finish within {timeout:g} s"
    except OSError as error:
        return None, f"could not run {command[0]}: {error.strerror or error}"
    return result.returncode, (result.stdout + result.stderr).strip()


def _clean_env(environ: Mapping[str, str]) -> dict[str, str]:
    # The throwaway project must not inherit the developer's project settings: UV_NO_SOURCES
    # would undo the pinning to the target index, UV_LOCKED/UV_FROZEN ask for a lock it has not.
    dropped = {
        "VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "UV_NO_SOURCES", "UV_LOCKED", "UV_FROZEN",
        "UV_NO_SYNC",
    }  # fmt: skip
    env = {k: v for k, v in environ.items() if k not in dropped}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["NO_COLOR"] = "1"  # typer colours --help under GITHUB_ACTIONS; the smoke test reads it
    return env


def install(
    version: str, target: index_targets.Target, workdir: Path, environ: Mapping[str, str]
) -> Path:
    """Install PROJECT==VERSION into a fresh environment in WORKDIR; return its bin folder."""
    project = workdir / "install"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        install_project(version, target.simple_url, dependency_index(environ)), encoding="utf-8"
    )
    command = [
        sys.executable,
        "-m",
        "uv",
        "sync",
        "--refresh-package",
        PROJECT,
        "--quiet",
        "--python",
        sys.executable,
    ]
    code, output = _run(command, cwd=project, env=_clean_env(environ))
    if code != 0:
        raise VerifyError(
            f"{PROJECT}=={version} is listed on {target.simple_url} but cannot be installed: "
            f"{output if code is None else last_line(output)}"
        )
    return project / ".venv" / ("Scripts" if os.name == "nt" else "bin")


def install_with_retries(
    version: str,
    target: index_targets.Target,
    workdir: Path,
    environ: Mapping[str, str],
    say: Callable[[str], None],
    attempts: int = INSTALL_ATTEMPTS,
) -> Path:
    """install(), again after a pause when uv could not fetch: a listing that agreed may still
    flap under uv for a while (a broken package is not retried: that is a smoke-test failure)."""
    for attempt in range(1, attempts + 1):
        folder = workdir / f"install-{attempt}"
        folder.mkdir()
        try:
            return install(version, target, folder, environ)
        except VerifyError as error:
            if attempt == attempts:
                raise
            delay = retrying.backoff(attempt - 1, 1.0)
            say(f"{error}; install {attempt + 1}/{attempts} in {delay:.1f} s")
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _broken(command: str, code: int | None, output: str, detail: str = "") -> BrokenPackage:
    """The BrokenPackage error for COMMAND that exited CODE (None: did not run or finish)."""
    what = output if code is None else f"exited {code}: {last_line(output)}"
    return BrokenPackage(f"installed but broken: `{command}` {what}{detail}")


def smoke_test(
    bin_dir: Path, version: str, workdir: Path, *, timeout: float = SMOKE_TIMEOUT
) -> list[str]:
    """Run the installed CLI: --version, --help and init; return what passed, raise if broken."""
    cli = bin_dir / (f"{COMMAND}.exe" if os.name == "nt" else COMMAND)
    env = _clean_env(os.environ)
    expected = f"{COMMAND} {version}"
    code, output = _run([cli, "--version"], cwd=workdir, env=env, timeout=timeout)
    if code != 0 or output != expected:
        raise _broken(f"{COMMAND} --version", code, output, f" (expected {expected!r})")
    code, output = _run([cli, "--help"], cwd=workdir, env=env, timeout=timeout)
    if code != 0 or "init" not in output:
        raise _broken(f"{COMMAND} --help", code, output, " (expected a help text naming init)")
    empty = workdir / "empty"
    empty.mkdir()
    code, output = _run([cli, "init"], cwd=empty, env=env, timeout=timeout)
    missing = [name for name in INIT_FILES if not (empty / name).is_file()]
    if code != 0 or missing:
        raise _broken(
            f"{COMMAND} init", code, output, f" (missing {', '.join(missing) or 'nothing'})"
        )
    return [f"{COMMAND} --version", f"{COMMAND} --help", f"{COMMAND} init"]


def built_version(dist: Path) -> tuple[str, dict[str, str]]:
    """The version and sha256 of the files listed in DIST's manifest."""
    sums = manifest.read_manifest(dist)
    versions = {manifest.artifact_version(name)[1] for name in sums}
    if len(versions) != 1:
        raise VerifyError(
            f"{dist / manifest.MANIFEST_NAME} lists several versions: {sorted(versions)}"
        )
    return versions.pop(), sums


def check_listings(
    target: index_targets.Target,
    files: list[str],
    sums: Mapping[str, str],
    *,
    deadline: float,
    say: Callable[[str], None],
) -> tuple[index_targets.Target, dict[str, FileLink]]:
    """Wait until FILES are listed AGREEING_LISTINGS times in a row and every one of SUMS is
    served with its built sha256 (hashing the bytes where the listing gives none): what verify
    checks before it installs. TARGET with its simple API settled, and the links."""
    started = time.perf_counter()
    project_state(target, say)
    say(f"waiting for {', '.join(files)} on {target.simple_url} (deadline {deadline:g} s)")
    located = [target]

    def locate() -> str:  # nothing listed yet: is this the simple API at all?
        located[0] = index.locate_simple_api(target, report=say)
        return located[0].simple_url

    try:
        links = waiting.wait_for_files(
            target.simple_url,
            PROJECT,
            files,
            deadline=deadline,
            report=say,
            locate=locate if target.candidates else None,
            agreeing=AGREEING_LISTINGS,
        )
    except waiting.NotThereYet as error:
        raise VerifyError(f"not there yet: {error}") from None
    except index.IndexRefused as error:
        raise VerifyError(str(error)) from None
    target = located[0]
    say(
        f"{FILES_LISTED}, {AGREEING_LISTINGS} listings in a row agreeing, after "
        f"{time.perf_counter() - started:.1f} s"
    )
    require_served(
        target, links, sums, ("the build produced", "not the bytes that were built"), say
    )
    if sums:
        say(f"sha256 of {', '.join(sorted(sums))} match dist/{manifest.MANIFEST_NAME}")
    return target, links


# What each PEP 792 status means for a release being verified.
STATE_MEANINGS = {
    "archived": "it takes no new file: the release cannot be completed there until a maintainer "
    "unarchives the project",
    "deprecated": "installers may warn about it; the release goes on",
}


def project_state(target: index_targets.Target, say: Callable[[str], None]) -> None:
    """Say the project's PEP 792 status on TARGET when it is not active; VerifyError when it is
    quarantined (the index serves none of its files: there is nothing to wait for)."""
    try:
        found = index.list_page(target.simple_url, PROJECT, attempts=2)[1]
    except PackageIndexError:
        return  # the wait that follows says what is wrong with the index
    why = f" ({found.reason})" if found.reason else ""
    if found.status == "quarantined":
        raise VerifyError(
            f"{PROJECT} is quarantined on {target.name}{why}: the index serves none of its files "
            "and takes none; only the index's administrators can lift it"
        )
    if found.status != "active":
        meaning = STATE_MEANINGS.get(found.status, "a status this verify does not know")
        say(f"note: {PROJECT} is {found.status} on {target.name}{why}: {meaning}")


def verify(
    target: index_targets.Target,
    version: str | None,
    dist: Path,
    *,
    deadline: float,
    environ: Mapping[str, str],
    say: Callable[[str], None] = print,
    rebuild_from: Path | None = None,
    publisher: attestations.Publisher | None = None,
    published_with: str = "",
) -> None:
    """Wait for the files, check their sha256 against the build (and, with REBUILD_FROM, against
    the tag rebuilt from that repository) and the attestations the index serves, install, and
    smoke-test."""
    sums: dict[str, str] = {}
    if version is not None:
        version = normalize_version(version)
    if (dist / manifest.MANIFEST_NAME).exists():
        built, built_sums = built_version(dist)
        version = version or built
        if version == built:
            sums = built_sums
    if not version:
        raise VerifyError(
            f"no version given and no {dist / manifest.MANIFEST_NAME}: pass --version"
        )
    files = sorted(sums) or expected_files(version)
    target, links = check_listings(target, files, sums, deadline=deadline, say=say)
    served = sums or {name: links[name].sha256 for name in files if links[name].sha256}
    try:
        attestations.check_on_index(
            target, served, publisher, published_with=published_with, say=say
        )
    except attestations.AttestationError as error:
        raise VerifyError(str(error)) from None
    with tempfile.TemporaryDirectory(prefix="agentops-verify-") as temporary:
        workdir = Path(temporary)
        if rebuild_from is not None:
            compare_with_tag(target, version, links, rebuild_from, workdir, say)
        started = time.perf_counter()
        bin_dir = install_with_retries(version, target, workdir, environ, say)
        elapsed = time.perf_counter() - started
        say(f"installed {PROJECT}=={version} into a fresh environment in {elapsed:.1f} s")
        for check in smoke_test(bin_dir, version, workdir):
            say(f"ok      {check}")
    say(f"verified {PROJECT}=={version} from {target.name}")


def require_served(
    target: index_targets.Target,
    links: Mapping[str, FileLink],
    expected: Mapping[str, str],
    source: tuple[str, str],
    say: Callable[[str], None],
) -> None:
    """VerifyError unless TARGET's LINKS serve each file of EXPECTED with its sha256; SOURCE:
    what made those bytes ("the build produced") and the verdict when they differ."""
    made, verdict = source
    for name, served in index.served_otherwise(links, expected, report=say).items():
        if not served:
            raise VerifyError(f"{target.name} does not serve {name}: {verdict}")
        raise VerifyError(
            f"{target.name} serves {name} with sha256 {served[:12]}…, but {made} "
            f"{expected[name][:12]}…: {verdict}"
        )


def compare_with_tag(
    target: index_targets.Target,
    version: str,
    links: Mapping[str, FileLink],
    repository: Path,
    workdir: Path,
    say: Callable[[str], None],
) -> None:
    """Rebuild vVERSION from REPOSITORY in a clean clone; VerifyError unless TARGET serves
    exactly those bytes."""
    tag = f"v{version}"
    started = time.perf_counter()
    try:
        rebuilt = reproducible.rebuild(tag, workdir / "rebuilt", source=repository)
    except (RuntimeError, subprocess.CalledProcessError) as error:
        raise VerifyError(f"cannot rebuild {tag} from {repository}: {error}") from None
    say(f"rebuilt {tag} from {repository} in {time.perf_counter() - started:.1f} s")
    require_served(target, links, rebuilt, (f"{tag} rebuilds to", "not what the tag builds"), say)
    say(f"sha256 of {', '.join(sorted(rebuilt))} match {tag} rebuilt")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: python -m scripts.artifacts.verify TARGET [--version V] [--deadline S]."""
    parser = command_line(__spec__.name, __doc__)
    index_targets.add_target_arguments(parser)
    parser.add_argument("--version", help="default: the version in dist/SHA256SUMS")
    parser.add_argument(
        "--deadline",
        type=float,
        default=os.environ.get("VERIFY_DEADLINE", "600"),
        help="seconds to wait for the files to appear (default: 600 or $VERIFY_DEADLINE)",
    )
    parser.add_argument(
        "--rebuild-from-tag",
        action="store_true",
        help="rebuild the version's tag in a clean clone and require the index's bytes to match",
    )
    parser.add_argument(
        "--repository",
        type=Path,
        default=Path.cwd(),
        help="the git repository to rebuild from (default: here)",
    )
    parser.add_argument(
        "--attested-by",
        help="OWNER/REPO whose workflows must have attested the files, where the index serves "
        "attestations (default: $GITHUB_REPOSITORY when it names a GitHub repository)",
    )
    parser.add_argument(
        "--published-with",
        choices=attestations.PUBLISHED_WITH,
        default="",
        help="how publish uploaded the files (it says so, and writes it for the workflows): "
        f"{attestations.TRUSTED} requires a PEP 740 attestation of every file, "
        f"{attestations.TOKEN} none; not given: the attestations served are checked, none required",
    )
    args = parser.parse_args(argv)
    environ = dict(os.environ)

    def say(message: str) -> None:
        print(redact(message, environ), flush=True)  # an index URL may carry a token

    try:
        target = index_targets.target_of(args)
        publisher = attestations.publisher_from(
            args.attested_by or attestations.github_repository(environ),
            attestations.ATTESTING_WORKFLOWS.get(target.name, ()),
        )
        verify(
            target, args.version, args.dist, deadline=args.deadline, environ=environ, say=say,
            rebuild_from=args.repository if args.rebuild_from_tag else None,
            publisher=publisher, published_with=args.published_with,
        )  # fmt: skip
    except (VerifyError, manifest.ManifestError, PackageIndexError, ValueError) as error:
        return fail(f"verify: error: {redact(str(error), environ)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
