"""Same commit, same bytes: the wheel and sdist normalized, and checked by building twice.

    python -m scripts.artifacts.reproducible check [--ref REF]
    python -m scripts.artifacts.reproducible rebuild REF OUTDIR

The build backend leaves the machine in the archives: each entry's mode (the umask of the
checkout), owner and time, the gzip header's time, and the order the file system listed the
files in; setuptools ignores SOURCE_DATE_EPOCH for the sdist (pypa/setuptools#2133). So after
every build both archives are rewritten with the entries sorted (a wheel's .dist-info last, RECORD
at the very end), every time the commit's time, no owner, and modes 0644 or 0755 (executable).
The files themselves are not touched (the wheel's RECORD still holds), but for one:
setuptools-scm's `scm_version.json` in the sdist records the branch checked out (`main`, a
release branch, `HEAD` in a tag checkout), so the same commit built on two branches differed; its
branch is written as null (the version, node and date stay).

`check` builds REF (default HEAD) twice, in two clean clones under different paths, umasks and
time zones, and compares the bytes; `rebuild` builds REF in a clean clone into OUTDIR.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from scripts import gitops
from scripts.artifacts.manifest import write_manifest
from scripts.files import write_atomic
from scripts.output import command_line, fail

ROOT = Path(__file__).resolve().parents[2]
ZIP_EPOCH = 315532800  # 1980-01-01, the earliest time a zip entry can carry
# Two builds that share nothing a machine could leak: umask, time zone, path.
SCM_VERSION = ".egg-info/scm_version.json"
VARIANTS = ((0o022, "UTC"), (0o077, "Pacific/Kiritimati"))


def _mode(mode: int) -> int:
    return 0o755 if mode & 0o111 else 0o644


def normalize_wheel(path: Path, epoch: int) -> None:
    """Rewrite the wheel at PATH with its entries in a fixed order, time EPOCH and modes."""
    stamp = time.gmtime(max(epoch, ZIP_EPOCH))[:6]
    with zipfile.ZipFile(path) as wheel:
        entries = [(info, wheel.read(info)) for info in wheel.infolist() if not info.is_dir()]

    def order(item: tuple[zipfile.ZipInfo, bytes]) -> tuple[bool, bool, str]:
        name = item[0].filename
        return (".dist-info/" in name, name.endswith(".dist-info/RECORD"), name)

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for info, data in sorted(entries, key=order):
            normalized = zipfile.ZipInfo(info.filename, date_time=stamp)
            normalized.compress_type = zipfile.ZIP_DEFLATED
            normalized.create_system = 3  # unix, so the mode below is read
            normalized.external_attr = (0o100000 | _mode(info.external_attr >> 16)) << 16
            out.writestr(normalized, data, compresslevel=9)
    write_atomic(path, buffer.getvalue())


def normalize_sdist(path: Path, epoch: int) -> None:
    """Rewrite the sdist at PATH: entries sorted, time EPOCH, no owner, modes 0644/0755; the
    gzip header without a name and with time EPOCH."""
    with tarfile.open(path, "r:gz") as sdist:
        members = [
            (member, sdist.extractfile(member).read() if member.isfile() else None)  # type: ignore[union-attr]
            for member in sdist.getmembers()
        ]
    members = [
        (member, _without_branch(data) if member.name.endswith(SCM_VERSION) else data)
        for member, data in members
    ]
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.PAX_FORMAT) as out:
        for member, data in sorted(members, key=lambda item: item[0].name):
            member.mtime = epoch
            member.uid = member.gid = 0
            member.uname = member.gname = ""
            member.pax_headers = {}
            member.mode = 0o755 if member.isdir() else _mode(member.mode)
            member.size = len(data) if data is not None else 0
            out.addfile(member, io.BytesIO(data) if data is not None else None)
    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=epoch) as archive:
        archive.write(tar_bytes.getvalue())
    write_atomic(path, compressed.getvalue())


def _without_branch(data: bytes | None) -> bytes | None:
    """scm_version.json's DATA with the branch it was built on written as null."""
    if data is None:
        return None
    return re.sub(rb'"branch": "[^"]*"', b'"branch": null', data)


def normalize_dist(dist: Path, epoch: int) -> None:
    """Normalize every wheel and sdist in DIST."""
    for path in sorted(dist.iterdir()):
        if path.name.endswith(".whl"):
            normalize_wheel(path, epoch)
        elif path.name.endswith(".tar.gz"):
            normalize_sdist(path, epoch)


def source_date_epoch(project: Path, environ: Mapping[str, str]) -> int | None:
    """The one time a build's archives carry: SOURCE_DATE_EPOCH as ENVIRON gives it, else the
    committer time of PROJECT's HEAD; None outside a git checkout (an unpacked sdist)."""
    if environ.get("SOURCE_DATE_EPOCH"):
        return int(environ["SOURCE_DATE_EPOCH"])
    try:
        return int(gitops.git("log", "-1", "--format=%ct", cwd=project))
    except gitops.GitError:
        return None


def build(project: Path, outdir: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """Build PROJECT's sdist and wheel into OUTDIR (the backend installed here, no isolation),
    normalized to its commit's time, with SHA256SUMS; return {file name: sha256}."""
    environ = {**os.environ, **(env or {})}
    epoch = source_date_epoch(project, environ)
    if epoch is not None:
        environ["SOURCE_DATE_EPOCH"] = str(epoch)
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--quiet", "--outdir", str(outdir),
         str(project)],
        capture_output=True, text=True, env=environ, check=False, timeout=600,
    )  # fmt: skip
    if result.returncode != 0:
        sys.stderr.write(result.stderr or result.stdout)
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:]
        raise RuntimeError(f"the build of {project} failed: {' '.join(tail) or 'no output'}")
    if epoch is not None:  # same commit, same bytes: nothing of this machine or this hour
        normalize_dist(outdir, epoch)
    return write_manifest(outdir)


def rebuild(
    ref: str, outdir: Path, *, source: Path = ROOT, umask: int = 0o022, tz: str = "UTC"
) -> dict[str, str]:
    """Build REF of the repository SOURCE in a clean clone (under UMASK and TZ) into OUTDIR."""
    with tempfile.TemporaryDirectory(prefix="rebuild-") as scratch:
        clone = Path(scratch) / "clone"
        env = {**os.environ, "TZ": tz}
        for args in (
            ["clone", "--quiet", "--no-hardlinks", "--no-checkout", str(source), str(clone)],
            ["-C", str(clone), "-c", "advice.detachedHead=false", "checkout", "--quiet", ref],
        ):
            # The checkout's file modes follow the umask: set in a shell, not in this process.
            subprocess.run(
                ["sh", "-c", f'umask {umask:03o} && exec "$@"', "sh", "git", *args],
                check=True, capture_output=True, env=env,
            )  # fmt: skip
        # The clone has the tags of SOURCE: setuptools-scm reads the same version.
        return build(clone, outdir, env={"TZ": tz})


def check(ref: str = "HEAD", source: Path = ROOT) -> list[str]:
    """Build REF twice under VARIANTS; the differences found (none: reproducible)."""
    commit = gitops.git("rev-parse", "--verify", f"{ref}^{{commit}}", cwd=source)
    builds = []
    with tempfile.TemporaryDirectory(prefix="reproducible-") as scratch:
        for number, (umask, tz) in enumerate(VARIANTS):
            outdir = Path(scratch) / ("a" * (number + 1)) / "dist"
            builds.append(rebuild(commit, outdir, source=source, umask=umask, tz=tz))
    first, second = builds
    problems = [
        f"{name}: {first.get(name, 'missing')[:12]} != {second.get(name, 'missing')[:12]}"
        for name in sorted(set(first) | set(second))
        if first.get(name) != second.get(name)
    ]
    for name, digest in sorted(first.items()):
        same = "same" if second.get(name) == digest else "DIFFERENT"
        print(f"{name}  {digest}  {same}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: check that a commit builds the same bytes twice, or rebuild one."""
    parser = command_line(__spec__.name, __doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    checking = commands.add_parser("check", help="build REF twice, apart, and compare")
    checking.add_argument("--ref", default="HEAD")
    rebuilding = commands.add_parser("rebuild", help="build REF in a clean clone into OUTDIR")
    rebuilding.add_argument("ref")
    rebuilding.add_argument("outdir", type=Path)
    building = commands.add_parser("build", help="build the checkout here into OUTDIR")
    building.add_argument("outdir", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            sums = build(Path.cwd(), args.outdir)
            print(f"built {', '.join(sorted(sums))}")
            return 0
        if args.command == "rebuild":
            sums = rebuild(args.ref, args.outdir)
            print(f"rebuilt {args.ref}: {', '.join(sorted(sums))}")
            return 0
        problems = check(args.ref)
    except (RuntimeError, subprocess.CalledProcessError, gitops.GitError) as error:
        return fail(f"reproducible: error: {error}")
    if problems:
        return fail(f"reproducible: error: two builds of {args.ref} differ: {'; '.join(problems)}")
    umasks = " and ".join(f"umask {umask:03o} TZ={tz}" for umask, tz in VARIANTS)
    print(f"reproducible: two builds of {args.ref} ({umasks}) are byte-identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
