"""What a package index holds, asked over its simple API (PEP 503 HTML, PEP 691 JSON).

Every network call has a timeout and a bounded number of retries: a flaky index ends in
`IndexUnavailable`, a refusal in `IndexRefused` at once, and a file that never shows up in
`NotThereYet`, each with a one-line message that names the index.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from scripts.simple_pages import JSON_TYPE, normalize_project
from scripts.simple_pages import FileLink as FileLink
from scripts.simple_pages import PackageIndexError as PackageIndexError
from scripts.simple_pages import parse_listing as parse_listing
from scripts.simple_pages import parse_simple_html as parse_simple_html
from scripts.simple_pages import parse_simple_json as parse_simple_json

T = TypeVar("T")

ACCEPT = f"{JSON_TYPE}, text/html;q=0.1"
USER_AGENT = "agentops-release-scripts (urllib)"
ACCEPTED_FORMS = "testpypi, pypi, local or an http(s) upload URL"
# 4xx answers that mean "ask again later": retried like a 5xx.
RETRIED_STATUSES = frozenset({408, 429})
CHUNK = 1 << 16


class IndexUnavailable(PackageIndexError):
    """The index did not answer (network error, timeout, 5xx) after the retries ran out."""


class IndexRefused(PackageIndexError):
    """The index answered with a refusal (401, 403 or another 4xx but 404): never retried."""


class NotThereYet(PackageIndexError):
    """Files still missing from the index when the deadline passed."""

    def __init__(self, message: str, missing: Collection[str]) -> None:
        super().__init__(message)
        self.missing: list[str] = list(missing)


class _Transient(Exception):
    """A failure worth asking again about; its message is the one-line reason."""


class _Missing(Exception):
    """The index answered 404."""


@dataclass(frozen=True)
class Target:
    """Where a release goes: a name, the upload URL for twine and the simple API to verify."""

    name: str
    upload_url: str
    simple_url: str


KNOWN_TARGETS: Mapping[str, Target] = {
    "testpypi": Target(
        "testpypi", "https://test.pypi.org/legacy/", "https://test.pypi.org/simple/"
    ),
    "pypi": Target("pypi", "https://upload.pypi.org/legacy/", "https://pypi.org/simple/"),
}


def _slash(url: str) -> str:
    return url.rstrip("/") + "/"


def _is_http_url(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def resolve_target(spec: str, *, local_url: str | None = None) -> Target:
    """The Target named by SPEC: testpypi, pypi, local (needs LOCAL_URL) or an upload URL."""
    key = spec.strip()
    if key.lower() in KNOWN_TARGETS:
        return KNOWN_TARGETS[key.lower()]
    if key.lower() == "local":
        if not local_url:
            raise ValueError(
                "the local index is not running: start it with "
                "`python -m scripts.local_index serve DIR` and pass its URL"
            )
        if not _is_http_url(local_url):
            raise ValueError(f"the local index URL must be http(s)://HOST:PORT/, not {local_url!r}")
        root = _slash(local_url)
        return Target("local", root, f"{root}simple/")
    if _is_http_url(key):
        upload = _slash(key)
        base, _, last = upload.rstrip("/").rpartition("/")
        # Warehouse-style indexes take uploads at .../legacy/ and serve .../simple/ beside it;
        # others (pypiserver, devpi, Artifactory) serve simple/ below the upload URL.
        simple = f"{base}/simple/" if last == "legacy" else f"{upload}simple/"
        return Target(upload, upload, simple)
    raise ValueError(f"unknown index {spec!r}: expected {ACCEPTED_FORMS}")


def _reason(error: object) -> str:
    text = str(error) or type(error).__name__
    return " ".join(text.split())


def backoff(step: int, first: float = 0.5, cap: float = 8.0) -> float:
    """The wait before try STEP + 2: FIRST, doubling with every step, never more than CAP."""
    return min(first * 2.0**step, cap)


def retry(
    call: Callable[[], T],
    *,
    attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 8.0,
    retry_on: tuple[type[BaseException], ...],
    sleep: Callable[[float], None] = time.sleep,
    report: Callable[[str], None] | None = None,
) -> T:
    """CALL, again after exponential backoff on RETRY_ON errors; re-raise the last one."""
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, not {attempts}")
    for attempt in range(1, attempts):
        try:
            return call()
        except retry_on as error:
            delay = backoff(attempt - 1, base_delay, max_delay)
            if report is not None:
                report(
                    f"index not answering ({_reason(error)}); "
                    f"retry {attempt + 1}/{attempts} in {delay:.1f} s"
                )
            sleep(delay)
    return call()


def _open(url: str, *, accept: str, timeout: float) -> http.client.HTTPResponse:
    """GET URL; sort every failure into _Transient, _Missing or IndexRefused."""
    if not _is_http_url(url):
        raise ValueError(f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url, headers={"Accept": accept, "User-Agent": USER_AGENT}
    )
    try:
        response: http.client.HTTPResponse = urllib.request.urlopen(  # noqa: S310
            request, timeout=timeout
        )
    except urllib.error.HTTPError as error:
        error.close()
        status = f"HTTP {error.code} {error.reason}"
        if error.code == 404:
            raise _Missing(status) from None
        if error.code >= 500 or error.code in RETRIED_STATUSES:
            raise _Transient(status) from None
        raise IndexRefused(f"{url} refused: {status}") from None
    except urllib.error.URLError as error:
        raise _Transient(_reason(error.reason)) from None
    except (OSError, http.client.HTTPException) as error:
        raise _Transient(_reason(error)) from None
    return response


@dataclass(frozen=True)
class _Page:
    url: str
    content_type: str
    body: str


def _fetch_page(url: str, *, timeout: float) -> _Page | None:
    try:
        response = _open(url, accept=ACCEPT, timeout=timeout)
    except _Missing:
        return None
    with response:
        try:
            raw = response.read()
        except (OSError, http.client.HTTPException) as error:
            raise _Transient(_reason(error)) from None
        charset = response.headers.get_content_charset() or "utf-8"
        return _Page(response.geturl(), response.headers.get_content_type(), raw.decode(charset))


def project_url(simple_url: str, project: str) -> str:
    """The simple API page of PROJECT on the index at SIMPLE_URL."""
    return f"{_slash(simple_url)}{normalize_project(project)}/"


def list_links(
    simple_url: str,
    project: str,
    *,
    timeout: float = 10.0,
    attempts: int = 5,
    sleep: Callable[[float], None] = time.sleep,
    report: Callable[[str], None] | None = None,
) -> dict[str, FileLink]:
    """The files of PROJECT on the index, by filename; {} when the project is not there yet."""
    url = project_url(simple_url, project)
    try:
        page = retry(
            lambda: _fetch_page(url, timeout=timeout),
            attempts=attempts,
            retry_on=(_Transient,),
            sleep=sleep,
            report=report,
        )
    except _Transient as error:
        raise IndexUnavailable(
            f"index {url} not reachable after {_attempts(attempts)}: {error}"
        ) from None
    if page is None:
        return {}
    return parse_listing(page.body, page.content_type, page.url)


def list_files(simple_url: str, project: str, **options: Any) -> dict[str, str]:
    """The files of PROJECT on the index as {filename: sha256 or ""}; OPTIONS as list_links."""
    links = list_links(simple_url, project, **options)
    return {name: link.sha256 for name, link in links.items()}


def _download_once(url: str, dest: Path, timeout: float) -> str:
    try:
        response = _open(url, accept="*/*", timeout=timeout)
    except _Missing as error:
        raise PackageIndexError(f"{url} not found: {error}") from None
    digest = hashlib.sha256()
    size = 0
    expected = response.headers.get("Content-Length")
    handle, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    part = Path(name)
    try:
        with response, os.fdopen(handle, "wb") as out:
            try:
                while chunk := response.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            except (OSError, http.client.HTTPException) as error:
                raise _Transient(_reason(error)) from None
        # read(n) returns b"" when the connection drops early instead of raising: count.
        if expected is not None and expected.isdigit() and size != int(expected):
            raise _Transient(f"connection closed after {size} of {expected} bytes")
        part.replace(dest)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return digest.hexdigest()


def download(
    url: str,
    dest: Path,
    *,
    timeout: float = 30.0,
    attempts: int = 5,
    sleep: Callable[[float], None] = time.sleep,
    report: Callable[[str], None] | None = None,
) -> str:
    """Download URL to DEST (atomically, through a file beside it); return its sha256 hex."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        return retry(
            lambda: _download_once(url, dest, timeout),
            attempts=attempts,
            retry_on=(_Transient,),
            sleep=sleep,
            report=report,
        )
    except _Transient as error:
        raise IndexUnavailable(
            f"{url} not downloadable after {_attempts(attempts)}: {error}"
        ) from None


def _attempts(count: int) -> str:
    return f"{count} attempt" if count == 1 else f"{count} attempts"


def _names(filenames: Collection[str], shown: int = 3) -> str:
    names = list(filenames)
    return ", ".join(names[:shown]) + (", ..." if len(names) > shown else "")


def wait_for_files(
    simple_url: str,
    project: str,
    filenames: Collection[str],
    *,
    deadline: float = 600.0,
    first_delay: float = 0.5,
    max_delay: float = 3.0,
    timeout: float = 10.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    report: Callable[[str], None] | None = None,
) -> dict[str, FileLink]:
    """Poll the index until every one of FILENAMES is listed; raise NotThereYet at the deadline."""
    wanted = list(dict.fromkeys(filenames))
    url = project_url(simple_url, project)
    end = clock() + deadline
    polls = 0
    while True:
        problem = ""
        left = end - clock()
        try:
            # One attempt per poll: this loop is the retry, and it knows the deadline.
            links = list_links(
                simple_url, project, timeout=max(min(timeout, left), 0.1), attempts=1
            )
        except IndexUnavailable as error:
            links, problem = {}, f"{error}; "
        missing = [name for name in wanted if name not in links]
        if not missing:
            return {name: links[name] for name in wanted}
        left = end - clock()
        if left <= 0:
            last = f" (last poll: {problem.rstrip('; ')})" if problem else ""
            raise NotThereYet(
                f"{len(missing)} file(s) never appeared on {url} within {deadline:g} s: "
                f"{', '.join(missing)}{last}",
                missing,
            )
        delay = min(backoff(polls, first_delay, max_delay), left)
        polls += 1
        if report is not None:
            report(
                f"{problem}waiting for {len(missing)} file(s) on {url}: {_names(missing)}; "
                f"next look in {delay:.1f} s, {left:.0f} s left"
            )
        sleep(delay)
