"""Upload exactly the files listed in dist/SHA256SUMS to an index, idempotently.

Before uploading, it asks the index which files it already has: a file there with the same
sha256 is skipped, one there with other bytes stops everything (that version was already released
from different bytes, and an index never lets a file be replaced), missing ones are uploaded
through twine's package and repository layer (twine_upload), each outcome read from the HTTP
response. Run it as `python -m scripts.artifacts.publish TARGET` where twine is installed.

Every request is bounded: `--attempts` tries per listing and per upload, `--timeout` seconds per
answer from the simple API, `--upload-timeout` seconds per upload, `--listing-deadline`
seconds for an uploaded file to be listed. A refusal (401/403) or a rejection (another 4xx) is
never retried; after any failure but a refusal the index is asked before anything is posted
again: a file there with the built sha256 is done (an answer lost on the way, or a second
publisher's identical upload), so no file is ever posted twice once it is listed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scripts import PROJECT
from scripts.artifacts import manifest
from scripts.artifacts.twine_upload import (
    TRUSTED_PUBLISHING,
    PublishError,
    credentials_for,
    sign_attestations,
)
from scripts.artifacts.uploading import Limits, Uploader, digests_on_index
from scripts.indexes import index, index_targets, simple_pages, waiting
from scripts.output import command_line, fail, redact

# The command line's options of Limits: option, type, what it bounds.
LIMIT_OPTIONS = (
    ("--attempts", int, "tries per index listing and per file upload"),
    ("--timeout", float, "seconds to wait for each answer of the simple API"),
    ("--upload-timeout", float, "seconds one upload may take to be answered"),
    ("--listing-deadline", float, "seconds an uploaded file may take to be listed, as CDNs lag"),
)


@dataclass
class UploadPlan:
    """What to do with each file of the manifest, given what the index holds."""

    upload: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    uploaded_with: dict[str, str] = field(default_factory=dict)  # file -> credentials used


def published_with(plan: UploadPlan) -> str:
    """How PLAN's uploads were authenticated, for verify: `trusted-publishing` (every file, so
    every file carries PEP 740 attestations), `token` (any by an API token or a password), or ""
    (nothing uploaded: every file was there already)."""
    sources = set(plan.uploaded_with.values())
    if not sources:
        return ""
    return "trusted-publishing" if sources == {TRUSTED_PUBLISHING} else "token"


def plan_upload(built: Mapping[str, str], on_index: Mapping[str, str]) -> UploadPlan:
    """Compare the built files' sha256 with the index's: skip, upload or conflict, per file."""
    plan = UploadPlan()
    for name, digest in sorted(built.items()):
        if name not in on_index:
            plan.upload.append(name)
        elif on_index[name] == digest:
            plan.skip.append(name)
        else:
            plan.conflicts.append(name)
    return plan


def _plan(
    built: Mapping[str, str],
    target: index_targets.Target,
    *,
    limits: Limits,
    require_nothing_new: bool,
    say: Callable[[str], None],
) -> tuple[index_targets.Target, UploadPlan]:
    """TARGET with its simple API settled, and the plan for the BUILT files; PublishError for
    a file there with other bytes, or (REQUIRE_NOTHING_NEW) one missing."""
    try:
        # Before any upload: a wrong simple URL must not become "uploaded, but not listed".
        target, digests = digests_on_index(target, built, limits=limits, say=say)
    except simple_pages.PackageIndexError as error:
        raise PublishError(str(error)) from None
    plan = plan_upload(built, digests)
    if plan.conflicts:
        raise PublishError(
            f"{', '.join(plan.conflicts)} already on {target.name} with a different sha256: this "
            "version was already released from other bytes; release a new version instead"
        )
    if require_nothing_new and plan.upload:
        raise PublishError(
            f"expected every file on {target.name} already, but {', '.join(plan.upload)} "
            "missing; nothing uploaded"
        )
    return target, plan


def _signed_copies(
    dist: Path,
    names: list[str],
    built: Mapping[str, str],
    folder: Path,
    environ: Mapping[str, str],
    limits: Limits,
) -> Path:
    """FOLDER with a copy of each of NAMES and its PEP 740 attestation, signed by the identity
    that may publish: dist/ stays as the build left it."""
    for name in names:
        shutil.copy2(dist / name, folder / name)
        if manifest.sha256_file(folder / name) != built[name]:
            raise PublishError(f"dist/{name} changed while it was being published")
    sign_attestations([folder / name for name in names], environ, limits.upload_timeout)
    return folder


def publish(
    dist: Path,
    target: index_targets.Target,
    environ: Mapping[str, str],
    *,
    limits: Limits | None = None,
    require_nothing_new: bool = False,
    say: Callable[[str], None] = print,
) -> UploadPlan:
    """Check dist/ against its manifest, then upload what the index lacks; return the plan.

    With REQUIRE_NOTHING_NEW, a file missing from the index is an error and nothing is uploaded.
    """
    limits = limits or Limits()
    try:
        built = manifest.check_dist(dist)
    except manifest.ManifestError as error:
        raise PublishError(str(error)) from None
    options = credentials_for(target, environ)
    target, plan = _plan(
        built, target, limits=limits, require_nothing_new=require_nothing_new, say=say
    )
    for name in plan.skip:
        say(f"skip    {name} (already on {target.name}, same sha256)")
    with tempfile.TemporaryDirectory(prefix="agentops-publish-") as scratch:
        source = dist
        if plan.upload and options[0].source == TRUSTED_PUBLISHING:
            source = _signed_copies(dist, plan.upload, built, Path(scratch), environ, limits)
            say(f"signed  PEP 740 attestations of {', '.join(plan.upload)}")
        uploader = Uploader(target, options, environ, limits, say)
        for name in plan.upload:
            say(f"upload  {name} -> {target.upload_url} (credentials: {options[0].source})")
            uploader.upload(source / name, built[name])
            plan.uploaded_with[name] = options[0].source  # trusted publishing may have failed
    # A CDN may list an upload minutes late, or flap: wait for one listing with every file.
    try:
        wrong = index.served_otherwise(
            waiting.wait_for_files(
                target.simple_url, PROJECT, plan.upload, deadline=limits.listing_deadline,
                report=say,
            ) if plan.upload else {},
            {name: built[name] for name in plan.upload},
            timeout=limits.timeout, attempts=limits.attempts, report=say,
        )  # fmt: skip
    except waiting.NotThereYet as error:
        raise PublishError(f"uploaded, but {error}") from None
    except simple_pages.PackageIndexError as error:
        raise PublishError(f"uploaded, but could not check the index: {error}") from None
    if wrong:
        raise PublishError(
            f"uploaded, but {', '.join(wrong)} listed by {target.simple_url} with another "
            "sha256 than built"
        )
    say(f"published to {target.name}: {len(plan.upload)} uploaded, {len(plan.skip)} already there")
    return plan


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
        return value

    return parse


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: python -m scripts.artifacts.publish TARGET [--dist DIR] [--local-url URL]."""
    parser = command_line(__spec__.name, __doc__)
    index_targets.add_target_arguments(parser)
    defaults = Limits()
    for option, kind, what in LIMIT_OPTIONS:
        default = getattr(defaults, option.removeprefix("--").replace("-", "_"))
        parser.add_argument(
            option, type=_positive(kind), default=default, help=f"{what} (default: {default:g})"
        )
    parser.add_argument(
        "--require-nothing-new",
        action="store_true",
        help="fail, uploading nothing, unless every file is on the index already",
    )
    args = parser.parse_args(argv)
    environ = dict(os.environ)

    def say(message: str) -> None:
        print(redact(message, environ), flush=True)

    limits = Limits(int(args.attempts), args.timeout, args.upload_timeout, args.listing_deadline)
    try:
        target = index_targets.target_of(args)
        plan = publish(
            args.dist,
            target,
            environ,
            limits=limits,
            require_nothing_new=args.require_nothing_new,
            say=say,
        )
    except (PublishError, simple_pages.PackageIndexError, ValueError) as error:
        return fail(f"publish: error: {redact(str(error), environ)}")
    tell_how(plan, environ, say)
    return 0


def tell_how(plan: UploadPlan, environ: Mapping[str, str], say: Callable[[str], None]) -> None:
    """Say how PLAN's files were published and, in GitHub Actions, write it as the step's output
    `published-with`: the verify job is told whether to require PEP 740 attestations."""
    how = published_with(plan)
    say(f"published with: {how or 'nothing (every file was there already)'}")
    if output := environ.get("GITHUB_OUTPUT"):
        with Path(output).open("a", encoding="utf-8") as handle:
            handle.write(f"published-with={how}\n")


if __name__ == "__main__":
    sys.exit(main())
