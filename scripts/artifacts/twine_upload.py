"""One upload through twine's package and repository layer, its outcome read from the response.

twine reads the file's metadata (`PackageFile`: InvalidDistribution for metadata it does not know)
and posts it with its PEP 740 attestations (`Repository.upload`, which posts again at once on a
5xx, up to 5 times). What the index answered is the response's status code and reason phrase,
where warehouse writes its message, never twine's printed text: a refusal (401/403: the
credentials), a rejection (another 4xx: asking again cannot change it, with warehouse's known
messages explained), a request to slow down (429), or trouble worth retrying. Under trusted
publishing the token is minted here, through the exchange PyPI documents (the audience, GitHub's
OIDC token, mint-token), whose refusals come as JSON error codes.
"""

from __future__ import annotations

import contextlib
import io
import logging
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import requests
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from twine.exceptions import InvalidDistribution
from twine.package import PackageFile
from twine.repository import Repository

from scripts.indexes import index, index_targets
from scripts.output import last_line, redact

TOKEN_USERNAME = "__token__"  # noqa: S105 (the user name for API tokens, not a secret)
TOKEN_VARIABLES = {"testpypi": "TEST_PYPI_TOKEN", "pypi": "PYPI_TOKEN"}
REFUSED_STATUSES = frozenset({401, 403})
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
# 4xx messages that mean the bytes were damaged on the way: sending them again can help.
DAMAGED_IN_TRANSIT = ("digest supplied does not match",)
TRUSTED_PUBLISHING = "trusted publishing (GitHub OIDC)"


class PublishError(Exception):
    """The publish cannot go on; the message says why, in one line."""


class MintFailed(PublishError):
    """The index minted no token for trusted publishing: FINAL when it said no (a 4xx, with its
    error codes as REASONS when it gave them), else it did not answer as it should (worth
    asking again)."""

    def __init__(self, why: str, reasons: Sequence[str] = (), *, final: bool = False) -> None:
        super().__init__("; ".join(reasons) or why)
        self.reasons, self.final = list(reasons), final


@dataclass(frozen=True)
class Credentials:
    """How an upload authenticates: a description safe to print, and the user name and password
    it takes (TWINE_USERNAME, TWINE_PASSWORD; a password left out is the environment's)."""

    source: str
    env: Mapping[str, str]


@dataclass(frozen=True)
class Answer:
    """What the index answered one upload: its HTTP status (None: no answer at all) and what it
    said, in one line."""

    status: int | None
    said: str

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def refused(self) -> bool:
        """The credentials were refused: asking again cannot help."""
        return self.status in REFUSED_STATUSES

    @property
    def rejected(self) -> bool:
        """Another 4xx that asking again cannot change (not a 408/429, not damaged bytes)."""
        if self.status is None or not 400 <= self.status < 500 or self.refused:
            return False
        damaged = any(text.lower() in self.said.lower() for text in DAMAGED_IN_TRANSIT)
        return self.status not in index.RETRIED_STATUSES and not damaged

    @property
    def slow_down(self) -> bool:
        return self.status == 429

    def verdict(self) -> str | None:
        """What a rejection of a known kind means, in words; None for any other."""
        for text, meaning in WAREHOUSE_REJECTIONS:
            if text.lower() in self.said.lower():
                return meaning
        return None


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


def username_and_password(credentials: Credentials, environ: Mapping[str, str]) -> tuple[str, str]:
    """The user name and password CREDENTIALS name (the password from ENVIRON if left out)."""
    username = credentials.env.get("TWINE_USERNAME") or TOKEN_USERNAME
    return username, credentials.env.get("TWINE_PASSWORD", environ.get("TWINE_PASSWORD", ""))


class _TimedAdapter(HTTPAdapter):
    """requests' transport, with a time limit on every request (Repository sets none)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> Response:
        return super().send(
            request, stream=stream, timeout=timeout or self.timeout, verify=verify, cert=cert,
            proxies=proxies,
        )  # fmt: skip


class _Said(logging.Handler):
    def __init__(self, say: Callable[[str], None]) -> None:
        super().__init__(logging.WARNING)
        self.say = say

    def emit(self, record: logging.LogRecord) -> None:
        self.say(f"twine: {' '.join(record.getMessage().split())}")


@contextlib.contextmanager
def _logs_said_by(say: Callable[[str], None]) -> Iterator[None]:
    """twine's warnings through SAY, not Python's last-resort handler on stderr."""
    logger, handler = logging.getLogger("twine"), _Said(say)
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def post(
    path: Path,
    target: index_targets.Target,
    username: str,
    password: str,
    *,
    attestation: Path | None,
    timeout: float,
    say: Callable[[str], None] = print,
) -> Answer:
    """Upload PATH (with its PEP 740 ATTESTATION, if any) to TARGET once; what it answered.
    PublishError when twine cannot read the file's metadata (no request is made). What twine
    logs on the way (its own posts again after a 5xx) is said through SAY, one line each."""
    try:
        package = PackageFile.from_filename(str(path), comment=None)
        if attestation is not None:
            package.add_attestations([str(attestation)])
    except InvalidDistribution as error:
        raise PublishError(
            f"twine cannot read the metadata of {path.name} ({type(error).__name__}: {error}): "
            "the build backend writes a metadata version this twine does not know; upgrade twine "
            "in uv.lock (`uv lock --upgrade-package twine`) or pin the backend"
        ) from None
    except (OSError, ValueError, zipfile.BadZipFile, tarfile.TarError) as error:
        raise PublishError(
            f"twine cannot read {path.name} ({type(error).__name__}: {error}): rebuild it"
        ) from None
    repository = Repository(target.upload_url, username, password, disable_progress_bar=True)
    for scheme in ("http://", "https://"):
        repository.session.mount(scheme, _TimedAdapter(timeout))
    try:
        with contextlib.redirect_stdout(io.StringIO()), _logs_said_by(say):  # "Uploading NAME"
            response = repository.upload(package)
    except requests.Timeout:
        return Answer(None, f"no answer within {timeout:g} s")
    except requests.RequestException as error:
        return Answer(None, f"no answer ({type(error).__name__})")
    finally:
        repository.close()
    return Answer(response.status_code, f"HTTP {response.status_code} {response.reason}".strip())


def mint_token(target: index_targets.Target, environ: Mapping[str, str], timeout: float) -> str:
    """An API token for TARGET through trusted publishing, as PyPI documents it: the index's
    audience, GitHub's OIDC token for it, exchanged at the index's mint-token; MintFailed if
    not (with the index's error codes when it refused)."""
    root = f"https://{target.upload_url.split('://', 1)[1].split('/', 1)[0]}/_/oidc"
    with requests.Session() as session:
        try:
            audience = session.get(f"{root}/audience", timeout=timeout)
            if not audience.ok:
                raise MintFailed(
                    f"{root}/audience answered HTTP {audience.status_code}",
                    final=audience.status_code < 500,
                )
            github = session.get(
                environ["ACTIONS_ID_TOKEN_REQUEST_URL"],
                params={"audience": audience.json()["audience"]},
                headers={"Authorization": f"bearer {environ['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}"},
                timeout=timeout,
            )
            if not github.ok:
                raise MintFailed(f"GitHub gave no OIDC token: HTTP {github.status_code}")
            minted = session.post(
                f"{root}/mint-token", json={"token": github.json()["value"]}, timeout=timeout
            )
        except (requests.RequestException, ValueError, KeyError) as error:
            raise MintFailed(f"the token exchange failed ({type(error).__name__})") from None
    try:
        answer = minted.json()
    except ValueError:
        answer = {}
    if minted.ok and isinstance(answer, dict) and answer.get("token"):
        return str(answer["token"])
    errors = answer.get("errors", []) if isinstance(answer, dict) else []
    reasons = [f"{e.get('code')}: {e.get('description')}" for e in errors if isinstance(e, dict)]
    refused = 400 <= minted.status_code < 500
    raise MintFailed(f"mint-token answered HTTP {minted.status_code}", reasons, final=refused)


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
