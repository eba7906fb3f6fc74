"""Upload exactly the files listed in dist/SHA256SUMS to an index, idempotently.

Before uploading, it asks the index which files it already has: a file there with the same
sha256 is skipped, one there with other bytes stops everything (that version was already released
from different bytes, and an index never lets a file be replaced), missing ones are uploaded with
twine. Run it as `python -m scripts.publish TARGET` inside an environment that has twine.

Every request is bounded: `--attempts` tries per listing and per upload, `--timeout` seconds per
answer from the simple API, `--upload-timeout` seconds per twine run. A refusal (401/403) or a
rejection (another 4xx) is never retried.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scripts import PROJECT, index, manifest
from scripts.output import command_line, fail, last_line, redact

USAGE_ERROR = 2  # argparse's exit status: a wrong command line, not a network problem
TOKEN_USERNAME = "__token__"  # noqa: S105 (the user name for API tokens, not a secret)
TOKEN_VARIABLES = {"testpypi": "TEST_PYPI_TOKEN", "pypi": "PYPI_TOKEN"}
# Words in twine's output that mean the index refused us: retrying cannot help.
REFUSALS = ("403 Forbidden", "401 Unauthorized", "Invalid or non-existent authentication")
# What twine says when it could not get a token through trusted publishing.
TRUSTED_PUBLISHING_FAILURES = ("TrustedPublishingFailure", "/_/oidc/")
# Wide enough that rich never wraps a line of twine's output in the middle of a phrase.
TWINE_COLUMNS = "400"


class PublishError(Exception):
    """The publish cannot go on; the message says why, in one line."""


@dataclass(frozen=True)
class Limits:
    """How long publish may keep trying: tries per request, and seconds per answer."""

    attempts: int = 5
    timeout: float = 10.0
    upload_timeout: float = 600.0


@dataclass
class UploadPlan:
    """What to do with each file of the manifest, given what the index holds."""

    upload: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


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


@dataclass(frozen=True)
class Credentials:
    """How twine authenticates: a description safe to print, and the variables it needs."""

    source: str
    env: Mapping[str, str]


def credentials_for(target: index.Target, environ: Mapping[str, str]) -> list[Credentials]:
    """The ways to authenticate to TARGET that ENVIRON offers, in the order to try them."""
    options: list[Credentials] = []
    if environ.get("TWINE_PASSWORD"):
        username = environ.get("TWINE_USERNAME") or TOKEN_USERNAME
        options.append(Credentials("TWINE_USERNAME/TWINE_PASSWORD", {"TWINE_USERNAME": username}))
        return options  # an explicit choice is the only one tried
    oidc = environ.get("ACTIONS_ID_TOKEN_REQUEST_URL") and environ.get(
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
    )
    if oidc and target.name in TOKEN_VARIABLES:
        options.append(
            Credentials("trusted publishing (GitHub OIDC)", {"TWINE_USERNAME": TOKEN_USERNAME})
        )
    variable = TOKEN_VARIABLES.get(target.name)
    if variable and environ.get(variable):
        options.append(
            Credentials(
                variable,
                {"TWINE_USERNAME": TOKEN_USERNAME, "TWINE_PASSWORD": environ[variable]},
            )
        )
    if not options:
        hint = f"{variable} or " if variable else ""
        oidc_hint = " or trusted publishing (id-token: write in GitHub Actions)" if variable else ""
        raise PublishError(
            f"no credentials for {target.name}: set {hint}TWINE_USERNAME/TWINE_PASSWORD{oidc_hint}"
        )
    return options


def http_status(output: str) -> int | None:
    """The status of the last `HTTPError: NNN ...` in twine's OUTPUT, if there is one."""
    status = None
    for line in output.splitlines():
        _, found, rest = line.partition("HTTPError: ")
        if found and rest[:3].isdigit():
            status = int(rest[:3])
    return status


def is_refusal(output: str) -> bool:
    """Whether twine's OUTPUT says the index refused the upload (no point in retrying)."""
    return http_status(output) in (401, 403) or any(word in output for word in REFUSALS)


def is_rejection(output: str) -> bool:
    """Whether twine's OUTPUT has a 4xx other than a refusal that asking again cannot change."""
    status = http_status(output)
    if status is None or is_refusal(output):
        return False
    return 400 <= status < 500 and status not in index.RETRIED_STATUSES


def trusted_publishing_failed(output: str) -> bool:
    """Whether twine's OUTPUT says it could not get a token through trusted publishing."""
    return any(word in output for word in TRUSTED_PUBLISHING_FAILURES)


def summary(output: str) -> str:
    """Why twine failed, in one line: its last ERROR message, else its last line of output."""
    lines = [line.rstrip() for line in output.splitlines()]
    for number in range(len(lines) - 1, -1, -1):
        if lines[number].startswith("ERROR"):
            parts = [lines[number].removeprefix("ERROR")]
            for line in lines[number + 1 :]:
                if not line.startswith(" ") or not line.strip():
                    break
                parts.append(line)
            return " ".join(" ".join(parts).split())
    return last_line(output)


def _twine_upload(
    path: Path,
    target: index.Target,
    credentials: Credentials,
    environ: Mapping[str, str],
    timeout: float,
) -> tuple[int | None, str]:
    """Run twine once; return its exit status (None if it ran out of time) and redacted output."""
    env = {**environ, **credentials.env}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"  # never prompt, never hang
    env["COLUMNS"] = TWINE_COLUMNS
    command = [
        sys.executable,
        "-m",
        "twine",
        "--no-color",
        "upload",
        "--non-interactive",
        "--disable-progress-bar",
        "--repository-url",
        target.upload_url,
        str(path),
    ]
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"no answer within {timeout:g} s (twine stopped)"
    return result.returncode, redact(result.stdout + result.stderr, environ)


def digests_on_index(
    target: index.Target,
    wanted: Collection[str],
    *,
    limits: Limits,
    attempts: int | None = None,
    say: Callable[[str], None],
) -> tuple[index.Target, dict[str, str]]:
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
    unhashed = [name for name in sorted(wanted) if digests.get(name) == ""]
    if unhashed:
        with tempfile.TemporaryDirectory(prefix="publish-") as temporary:
            for name in unhashed:
                say(f"{name} is listed without a sha256: downloading it to compare")
                digests[name] = index.download(
                    links[name].url,
                    Path(temporary) / name,
                    timeout=limits.timeout,
                    attempts=tries,
                    report=say,
                )
    return target, digests


def upload_file(
    path: Path,
    digest: str,
    target: index.Target,
    options: Sequence[Credentials],
    environ: Mapping[str, str],
    *,
    limits: Limits,
    say: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Upload one file, retrying network trouble with backoff; refusals fail at once."""
    credentials = list(options)
    attempt = 1
    while True:
        code, output = _twine_upload(
            path, target, credentials[0], environ, timeout=limits.upload_timeout
        )
        if code == 0:
            return
        if code == USAGE_ERROR:
            raise PublishError(f"twine could not run the upload of {path.name}: {summary(output)}")
        if trusted_publishing_failed(output) and len(credentials) > 1:
            # Not a retry: the next way to authenticate gets attempts of its own.
            say(f"trusted publishing failed ({summary(output)}); using {credentials[1].source}")
            credentials.pop(0)
            continue
        if is_refusal(output):
            raise PublishError(
                f"{target.name} refused the upload of {path.name} ({summary(output)}): "
                f"check the credentials from {credentials[0].source}"
            )
        if is_rejection(output):
            raise PublishError(
                f"{target.name} rejected the upload of {path.name} ({summary(output)}); "
                "asking again cannot change that"
            )
        # The upload may have landed even though the answer was lost: one look before retrying.
        try:
            _, listed = digests_on_index(target, [path.name], limits=limits, attempts=1, say=say)
        except index.PackageIndexError:
            listed = {}
        if listed.get(path.name) == digest:
            say(f"{path.name} is on the index after all")
            return
        if attempt >= limits.attempts:
            raise PublishError(
                f"upload of {path.name} to {target.upload_url} failed after "
                f"{limits.attempts} attempt{'s' if limits.attempts > 1 else ''}: {summary(output)}"
            )
        delay = index.backoff(attempt - 1)
        attempt += 1
        say(
            f"upload of {path.name} failed ({summary(output)}); "
            f"retry {attempt}/{limits.attempts} in {delay:.1f} s"
        )
        sleep(delay)


def publish(
    dist: Path,
    target: index.Target,
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
    try:
        # Before any upload: a wrong simple URL must not become "uploaded, but not listed".
        target, digests = digests_on_index(target, built, limits=limits, say=say)
        plan = plan_upload(built, digests)
    except index.PackageIndexError as error:
        raise PublishError(str(error)) from None
    if plan.conflicts:
        names = ", ".join(plan.conflicts)
        raise PublishError(
            f"{names} already on {target.name} with a different sha256: this version was "
            "already released from other bytes; release a new version instead"
        )
    if require_nothing_new and plan.upload:
        raise PublishError(
            f"expected every file on {target.name} already, but {', '.join(plan.upload)} "
            "missing; nothing uploaded"
        )
    for name in plan.skip:
        say(f"skip    {name} (already on {target.name}, same sha256)")
    for name in plan.upload:
        say(f"upload  {name} -> {target.upload_url} (credentials: {options[0].source})")
        upload_file(dist / name, built[name], target, options, environ, limits=limits, say=say)
    if plan.upload:
        try:
            _, listed = digests_on_index(target, plan.upload, limits=limits, say=say)
        except index.PackageIndexError as error:
            raise PublishError(f"uploaded, but could not check the index: {error}") from None
        missing = [name for name in plan.upload if listed.get(name) != built[name]]
        if missing:
            raise PublishError(
                f"uploaded, but {', '.join(missing)} not listed by {target.simple_url} "
                "with the built sha256 yet"
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
    """Command line: python -m scripts.publish TARGET [--dist DIR] [--local-url URL]."""
    parser = command_line("publish", __doc__)
    parser.add_argument("target", help=f"the index: {index.ACCEPTED_FORMS}")
    parser.add_argument("--dist", type=Path, default=Path("dist"), help="default: dist")
    parser.add_argument("--local-url", default=os.environ.get("LOCAL_INDEX_URL"))
    parser.add_argument(
        "--simple-url",
        help="the index's simple API (default: found beside or below the upload URL)",
    )
    defaults = Limits()
    parser.add_argument(
        "--attempts",
        type=_positive(int),
        default=defaults.attempts,
        help=f"tries per index listing and per file upload (default: {defaults.attempts})",
    )
    parser.add_argument(
        "--timeout",
        type=_positive(float),
        default=defaults.timeout,
        help=f"seconds to wait for each answer of the simple API (default: {defaults.timeout:g})",
    )
    parser.add_argument(
        "--upload-timeout",
        type=_positive(float),
        default=defaults.upload_timeout,
        help=f"seconds one twine upload may take (default: {defaults.upload_timeout:g})",
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

    limits = Limits(int(args.attempts), args.timeout, args.upload_timeout)
    try:
        target = index.resolve_target(
            args.target, local_url=args.local_url, simple_url=args.simple_url
        )
        publish(
            args.dist,
            target,
            environ,
            limits=limits,
            require_nothing_new=args.require_nothing_new,
            say=say,
        )
    except (PublishError, index.PackageIndexError, ValueError) as error:
        return fail(f"publish: error: {redact(str(error), environ)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
