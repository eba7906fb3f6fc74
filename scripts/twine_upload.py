"""One twine upload, and what its output means: who may upload, and what an index said.

twine prints what the index answered (`HTTPError: 400 Bad Request from URL` and the body's
message): it is read here into a refusal (401/403: the credentials), a rejection (another 4xx:
asking again cannot change it, with warehouse's known texts explained), the index asking to slow
down (429), or trouble worth retrying.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts import index, index_targets
from scripts.output import last_line, redact

TOKEN_USERNAME = "__token__"  # noqa: S105 (the user name for API tokens, not a secret)
TOKEN_VARIABLES = {"testpypi": "TEST_PYPI_TOKEN", "pypi": "PYPI_TOKEN"}
# Words in twine's output that mean the index refused us: retrying cannot help.
REFUSALS = ("403 Forbidden", "401 Unauthorized", "Invalid or non-existent authentication")
# What twine says when it could not get a token through trusted publishing.
TRUSTED_PUBLISHING_FAILURES = ("TrustedPublishingFailure", "/_/oidc/")
MINT_REASON = re.compile(r"\* `([\w-]+)`: (.+)")
# Wide enough that rich never wraps a line of twine's output in the middle of a phrase.
TWINE_COLUMNS = "400"
# What warehouse answers (400) when asking again cannot help, and what to do instead.
WAREHOUSE_REJECTIONS = (
    ("filename has already been used", "PyPI keeps the name of a deleted file forever: release "
     "a new version"),
    ("Only one sdist may be uploaded per release", "the release has another sdist already: "
     "build one sdist, of this version's tag"),
    ("older than", "the index takes no new files for a release that old: release a new "
     "version"),
    ("File already exists", "a file of that name is on the index with other bytes (or not "
     "listed yet)"),
)  # fmt: skip
# 4xx texts that mean the bytes were damaged on the way: sending them again can help.
DAMAGED_IN_TRANSIT = ("digest supplied does not match",)
# twine could not read the file's metadata: a build backend newer than the locked twine knows.
METADATA_FAILURES = ("Invalid distribution metadata", "Metadata-Version", "metadata version")


TRUSTED_PUBLISHING = "trusted publishing (GitHub OIDC)"


class PublishError(Exception):
    """The publish cannot go on; the message says why, in one line."""


@dataclass(frozen=True)
class Credentials:
    """How twine authenticates: a description safe to print, and the variables it needs."""

    source: str
    env: Mapping[str, str]


def credentials_for(target: index_targets.Target, environ: Mapping[str, str]) -> list[Credentials]:
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
        options.append(Credentials(TRUSTED_PUBLISHING, {"TWINE_USERNAME": TOKEN_USERNAME}))
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
    if any(text.lower() in output.lower() for text in DAMAGED_IN_TRANSIT):
        return False
    return 400 <= status < 500 and status not in index.RETRIED_STATUSES


def trusted_publishing_failed(output: str) -> bool:
    """Whether twine's OUTPUT says it could not get a token through trusted publishing."""
    return any(word in output for word in TRUSTED_PUBLISHING_FAILURES)


def mint_refusals(output: str) -> list[str]:
    """The `code: description` reasons warehouse gave twine for minting no token (its 4xx
    answer with errors, e.g. invalid-publisher): asking again cannot change them."""
    if "The token request failed" not in output:
        return []
    return [f"{code}: {text.strip()}" for code, text in MINT_REASON.findall(output)]


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


def attestation_of(path: Path) -> Path:
    """Where pypi-attestations writes, and twine looks for, the PEP 740 attestation of PATH."""
    return path.with_name(f"{path.name}.publish.attestation")


def sign_attestations(paths: Sequence[Path], environ: Mapping[str, str], timeout: float) -> None:
    """Sign a PEP 740 attestation of each of PATHS (`attestation_of`), with the ambient GitHub
    OIDC identity (pypi-attestations, the attest dependency group); PublishError if that fails."""
    command = [sys.executable, "-m", "pypi_attestations", "sign", *map(str, paths)]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, env=dict(environ),
            stdin=subprocess.DEVNULL, timeout=timeout, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise PublishError(f"signing the attestations took over {timeout:g} s") from None
    if result.returncode != 0:
        said = redact(last_line(result.stderr or result.stdout) or "no output", environ)
        raise PublishError(f"could not sign the PEP 740 attestations: {said}; nothing uploaded")


def run_twine(
    path: Path,
    target: index_targets.Target,
    credentials: Credentials,
    environ: Mapping[str, str],
    timeout: float,
) -> tuple[int | None, str]:
    """Run twine once; return its exit status (None if it ran out of time) and redacted output."""
    env = {**environ, **credentials.env}
    if credentials.source == TRUSTED_PUBLISHING:
        env.pop("TWINE_PASSWORD", None)  # even empty, twine would take it instead of a token
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
    # PEP 740: under trusted publishing (warehouse takes attestations with nothing else), the
    # attestation beside the file (`sign_attestations`) goes up with it; twine finds it only
    # among the files it is given.
    if credentials.source == TRUSTED_PUBLISHING and attestation_of(path).is_file():
        command[-1:] = ["--attestations", str(path), str(attestation_of(path))]
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


def verdict(output: str) -> str | None:
    """What a rejection of a known kind means, in words; None for any other."""
    for text, meaning in WAREHOUSE_REJECTIONS:
        if text.lower() in output.lower():
            return meaning
    return None


def is_slow_down(output: str) -> bool:
    """Whether the index asked twine to slow down (429)."""
    return http_status(output) == 429


def metadata_unreadable(output: str) -> bool:
    """Whether twine failed on the file's metadata before any request (no retry helps)."""
    return http_status(output) is None and any(word in output for word in METADATA_FAILURES)
