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
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scripts import PROJECT
from scripts.artifacts import manifest
from scripts.artifacts.twine_upload import (
    TOKEN_USERNAME,
    TOKEN_VARIABLES,
    TRUSTED_PUBLISHING,
    WAREHOUSE_REJECTIONS,
    Answer,
    Credentials,
    MintFailed,
    PublishError,
    attestation_of,
    credentials_for,
    mint_token,
    post,
    sign_attestations,
    username_and_password,
)
from scripts.indexes import index, index_targets
from scripts.output import command_line, fail, redact

EXISTS = dict(WAREHOUSE_REJECTIONS)["File already exists"]  # a 4xx worth looking again after

__all__ = [
    "Credentials", "Limits", "PublishError", "UploadPlan", "credentials_for", "plan_upload",
    "publish", "published_with",
]  # fmt: skip

# The command line's options of Limits: option, type, what it bounds.
LIMIT_OPTIONS = (
    ("--attempts", int, "tries per index listing and per file upload"),
    ("--timeout", float, "seconds to wait for each answer of the simple API"),
    ("--upload-timeout", float, "seconds one upload may take to be answered"),
    ("--listing-deadline", float, "seconds an uploaded file may take to be listed, as CDNs lag"),
)
# The first wait after the index asked to slow down (429).
SLOW_DOWN = 4.0


@dataclass(frozen=True)
class Limits:
    """How long publish may keep trying: tries per request, and seconds per answer."""

    attempts: int = 5
    timeout: float = 10.0
    upload_timeout: float = 600.0
    listing_deadline: float = 120.0  # how long an upload may take to be listed (a CDN's lag)


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


def digests_on_index(
    target: index_targets.Target,
    wanted: Collection[str],
    *,
    limits: Limits,
    attempts: int | None = None,
    say: Callable[[str], None],
) -> tuple[index_targets.Target, dict[str, str]]:
    """TARGET with its simple API settled, and {file name: sha256} of what the index lists;
    WANTED files it lists without one are hashed.

    An index that gives no sha256 in its listing is asked for the file itself: "no hash" must
    never read as "other bytes".
    """
    tries = limits.attempts if attempts is None else attempts
    target, links = index.list_on_target(
        target, PROJECT, timeout=limits.timeout, attempts=tries, report=say
    )
    digests = {name: link.sha256 for name, link in links.items()}
    for name in sorted(wanted):
        if digests.get(name) == "":
            digests[name] = index.sha256_of(
                links[name], timeout=limits.timeout, attempts=tries, report=say
            )
    return target, digests


def _listed_digest(
    target: index_targets.Target, name: str, *, limits: Limits, say: Callable[[str], None]
) -> str | None:
    """The sha256 the index lists NAME with (one look), or None."""
    try:
        _, listed = digests_on_index(target, [name], limits=limits, attempts=1, say=say)
    except index.PackageIndexError:
        return None
    return listed.get(name)


def _login(
    credentials: list[Credentials],
    target: index_targets.Target,
    environ: Mapping[str, str],
    limits: Limits,
) -> tuple[str, str]:
    """The user name and password of CREDENTIALS[0]; under trusted publishing a token minted
    once, kept in CREDENTIALS[0] for the files after this one. MintFailed if none was minted."""
    if credentials[0].source == TRUSTED_PUBLISHING and "TWINE_PASSWORD" not in credentials[0].env:
        token = mint_token(target, environ, timeout=limits.timeout)
        credentials[0] = Credentials(
            TRUSTED_PUBLISHING, {"TWINE_USERNAME": TOKEN_USERNAME, "TWINE_PASSWORD": token}
        )
    return username_and_password(credentials[0], environ)


def _no_token(failure: MintFailed, target: index_targets.Target) -> PublishError:
    variable = TOKEN_VARIABLES.get(target.name, "TWINE_PASSWORD")
    return PublishError(
        f"{target.name} minted no token for trusted publishing ({failure}): add this "
        f"repository's workflow as a trusted publisher of {PROJECT} there (workflow file and "
        f"environment as in docs/releasing.md), or set {variable}"
    )


def _done_on_index(
    answer: Answer,
    path: Path,
    digest: str,
    target: index_targets.Target,
    *,
    limits: Limits,
    say: Callable[[str], None],
    sleep: Callable[[float], None],
) -> bool:
    """After a failed upload, ask the index: True when it lists PATH with the built DIGEST (the
    answer was lost, or an identical upload came first); PublishError when it lists other bytes
    or rejected the upload for good; False when posting again may help."""
    listed = _listed_digest(target, path.name, limits=limits, say=say)
    if answer.rejected and answer.verdict() in (None, EXISTS):
        # Maybe a racing publisher's identical file, not listed yet: look, never post again.
        for look in range(1, limits.attempts if listed is None else 1):
            delay = index.backoff(look - 1)
            say(f"{path.name} exists on {target.name} but is not listed yet; next look in "
                f"{delay:.1f} s")  # fmt: skip
            sleep(delay)
            listed = _listed_digest(target, path.name, limits=limits, say=say)
            if listed is not None:
                break
    if listed == digest:
        say(f"{path.name} is on {target.name} with the built sha256: done, not posted again")
        return True
    if listed:  # no lag: a file of that name with other bytes landed meanwhile
        raise PublishError(
            f"{path.name} is on {target.name} with a different sha256 now: this version was "
            "released from other bytes meanwhile; release a new version instead"
        )
    if answer.rejected:
        meaning = answer.verdict() or "asking again cannot change that"
        raise PublishError(
            f"{target.name} rejected the upload of {path.name} ({answer.said}): {meaning}"
        )
    return False


def _try_once(
    path: Path,
    digest: str,
    target: index_targets.Target,
    credentials: list[Credentials],
    environ: Mapping[str, str],
    *,
    limits: Limits,
    say: Callable[[str], None],
    sleep: Callable[[float], None],
) -> Answer | None:
    """One attempt at uploading PATH: None when it is on the index now; else the answer to
    retry after. A refusal, or a failed trusted publishing with nothing to fall back on, raises;
    a failed one with more CREDENTIALS moves on to them (not counted as an attempt)."""
    while True:
        try:
            username, password = _login(credentials, target, environ, limits)
            break
        except MintFailed as failure:
            if len(credentials) > 1:
                say(f"trusted publishing failed ({failure}); using {credentials[1].source}")
                credentials.pop(0)
            elif failure.final:
                raise _no_token(failure, target) from None
            else:
                return Answer(None, str(failure))
    signed = attestation_of(path)
    trusted = credentials[0].source == TRUSTED_PUBLISHING and signed.is_file()
    answer = post(
        path, target, username, password, attestation=signed if trusted else None,
        timeout=limits.upload_timeout, say=say,
    )  # fmt: skip
    if answer.accepted:
        return None
    if answer.refused:
        raise PublishError(
            f"{target.name} refused the upload of {path.name} ({answer.said}): "
            f"check the credentials from {credentials[0].source}"
        )
    if _done_on_index(answer, path, digest, target, limits=limits, say=say, sleep=sleep):
        return None
    return answer


def upload_file(
    path: Path,
    digest: str,
    target: index_targets.Target,
    credentials: list[Credentials],
    environ: Mapping[str, str],
    *,
    limits: Limits,
    say: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Upload one file, retrying network trouble with backoff. A refusal fails at once; after any
    other failure the index is asked first: a file there with the built sha256 is done (the
    answer was lost, or another publisher's identical upload came first), never posted again.
    Trusted publishing that failed is dropped from CREDENTIALS, for the files after this one."""
    for attempt in range(1, limits.attempts + 1):
        answer = _try_once(
            path, digest, target, credentials, environ, limits=limits, say=say, sleep=sleep
        )
        if answer is None:
            return
        if attempt == limits.attempts:
            raise PublishError(
                f"upload of {path.name} to {target.upload_url} failed after "
                f"{limits.attempts} attempt{'s' if limits.attempts > 1 else ''}: {answer.said}"
            )
        delay = index.backoff(attempt - 1, first=SLOW_DOWN if answer.slow_down else 0.5)
        say(f"upload of {path.name} failed ({answer.said}); "
            f"retry {attempt + 1}/{limits.attempts} in {delay:.1f} s")  # fmt: skip
        sleep(delay)


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
    except index.PackageIndexError as error:
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


def _check_listed(
    target: index_targets.Target,
    names: list[str],
    built: Mapping[str, str],
    *,
    limits: Limits,
    say: Callable[[str], None],
) -> None:
    """Wait until one listing of TARGET shows NAMES (a CDN may list an upload minutes late, or
    flap), each with the built sha256; PublishError if not."""
    try:
        links = index.wait_for_files(
            target.simple_url, PROJECT, names, deadline=limits.listing_deadline, report=say
        )
        wrong = [
            name
            for name in names
            if index.sha256_of(
                links[name], timeout=limits.timeout, attempts=limits.attempts, report=say
            )
            != built[name]
        ]
    except index.NotThereYet as error:
        raise PublishError(f"uploaded, but {error}") from None
    except index.PackageIndexError as error:
        raise PublishError(f"uploaded, but could not check the index: {error}") from None
    if wrong:
        raise PublishError(
            f"uploaded, but {', '.join(wrong)} listed by {target.simple_url} with another "
            "sha256 than built"
        )


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
        for name in plan.upload:
            say(f"upload  {name} -> {target.upload_url} (credentials: {options[0].source})")
            upload_file(
                source / name, built[name], target, options, environ, limits=limits, say=say
            )
            plan.uploaded_with[name] = options[0].source  # trusted publishing may have failed
    if plan.upload:
        _check_listed(target, plan.upload, built, limits=limits, say=say)
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
    parser = command_line("publish", __doc__)
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
    except (PublishError, index.PackageIndexError, ValueError) as error:
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
