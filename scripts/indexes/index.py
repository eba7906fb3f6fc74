"""What a package index holds, asked over its simple API (PEP 503 HTML, PEP 691 JSON).

Every network call has a timeout and a bounded number of retries: a flaky index ends in
`IndexUnavailable` and a refusal in `IndexRefused` at once, each with a one-line message that
names the index.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from scripts.indexes.index_targets import Target, is_http_url, with_slash
from scripts.indexes.retrying import one_line, retry, retry_after
from scripts.indexes.simple_pages import (
    JSON_TYPE,
    FileLink,
    PackageIndexError,
    ProjectStatus,
    normalize_project,
    parse_listing,
    project_status,
)

ACCEPT = f"{JSON_TYPE}, text/html;q=0.1"
USER_AGENT = "agentops-release-scripts (urllib)"
# How long the simple API root may take to answer the configuration check, and how much of it
# is read (a root lists every project: only its first bytes are needed to know what it is).
PROBE_TIMEOUT = 5.0
PROBE_BYTES = 1 << 16
# 4xx answers that mean "ask again later": retried like a 5xx.
RETRIED_STATUSES = frozenset({408, 429})
CHUNK = 1 << 16
T = TypeVar("T")


class IndexUnavailable(PackageIndexError):
    """The index did not answer (network error, timeout, 5xx) after the retries ran out."""


class IndexRefused(PackageIndexError):
    """The index answered with a refusal (401, 403 or another 4xx but 404): never retried."""


class IndexMisconfigured(PackageIndexError):
    """The simple API named or found for a target is not an index: never waited on."""


class _Transient(Exception):
    """A failure worth asking again about; its message is the one-line reason, RETRY_AFTER the
    seconds the index asked to wait (its Retry-After header), if it said."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _Missing(Exception):
    """The index answered 404."""


def _probe(url: str, timeout: float) -> str | None:
    """None when URL is a simple API root; else why not (one phrase). Raises _Transient."""
    try:
        response = _open(url, accept=ACCEPT, timeout=timeout)
    except _Missing:
        return "answers HTTP 404 Not Found"
    except IndexRefused as error:
        return f"answers {str(error).rpartition(' refused: ')[2]}"
    with response:
        try:
            head = response.read(PROBE_BYTES)
        except (OSError, http.client.HTTPException) as error:
            raise _Transient(_reason(error)) from None
        kind = response.headers.get_content_type()
    if kind == JSON_TYPE or (kind == "text/html" and b"<" in head):
        return None
    return f"answers {kind}, not a simple API page (PEP 503 HTML or PEP 691 JSON)"


def locate_simple_api(
    target: Target,
    *,
    timeout: float = PROBE_TIMEOUT,
    report: Callable[[str], None] | None = None,
) -> Target:
    """TARGET with the simple API it really has, checked once before anything waits on it.

    A candidate that answers 404, refuses or is not an index is passed over; none left is a
    one-line IndexMisconfigured. An index that cannot be reached is not decided here: the
    first candidate is kept, and the caller's retries report the outage as usual.
    """
    if not target.candidates:
        return target
    tried = []
    for candidate in target.candidates:
        try:
            why = _probe(candidate, timeout)
        except _Transient:
            return Target(target.name, target.upload_url, target.candidates[0])
        if why is None:
            if report is not None and len(target.candidates) > 1:
                report(f"simple API of {target.upload_url}: {candidate}")
            return Target(target.name, target.upload_url, candidate)
        tried.append(f"{candidate} {why}")
    hint = "pass --simple-url" if len(target.candidates) > 1 else "check the simple URL"
    raise IndexMisconfigured(f"no simple API for {target.name}: {'; '.join(tried)} ({hint})")


_reason = one_line


def _open(url: str, *, accept: str, timeout: float) -> http.client.HTTPResponse:
    """GET URL; sort every failure into _Transient, _Missing or IndexRefused."""
    if not is_http_url(url):
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
            asked = retry_after(error.headers.get("Retry-After") if error.headers else None)
            said = f" (Retry-After: {asked:g} s)" if asked is not None else ""
            raise _Transient(status + said, asked) from None
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


def _fetch_page(url: str, *, timeout: float, accept: str = ACCEPT) -> _Page | None:
    try:
        response = _open(url, accept=accept, timeout=timeout)
    except _Missing:
        return None
    with response:
        try:
            raw = response.read()
        except (OSError, http.client.HTTPException) as error:
            raise _Transient(_reason(error)) from None
        charset = response.headers.get_content_charset() or "utf-8"
        return _Page(response.geturl(), response.headers.get_content_type(), raw.decode(charset))


def _asked(
    call: Callable[[], T],
    failed: str,
    *,
    attempts: int,
    sleep: Callable[[float], None] = time.sleep,
    report: Callable[[str], None] | None = None,
) -> T:
    """CALL, asked again on a transient failure; IndexUnavailable (FAILED, after how many
    attempts, and why) when the attempts run out."""
    try:
        return retry(call, attempts=attempts, retry_on=(_Transient,), sleep=sleep, report=report)
    except _Transient as error:
        raise IndexUnavailable(f"{failed} after {_attempts(attempts)}: {error}") from None


def project_url(simple_url: str, project: str) -> str:
    """The simple API page of PROJECT on the index at SIMPLE_URL."""
    return f"{with_slash(simple_url)}{normalize_project(project)}/"


def list_page(
    simple_url: str,
    project: str,
    *,
    timeout: float = 10.0,
    attempts: int = 5,
    sleep: Callable[[float], None] = time.sleep,
    report: Callable[[str], None] | None = None,
    accept: str = ACCEPT,
) -> tuple[dict[str, FileLink], ProjectStatus]:
    """The files of PROJECT on the index, by filename, and the project's status; no files (and
    active) when the project is not there yet (ACCEPT: the listing asked for, JSON first)."""
    url = project_url(simple_url, project)
    page = _asked(
        lambda: _fetch_page(url, timeout=timeout, accept=accept),
        f"index {url} not reachable", attempts=attempts, sleep=sleep, report=report,
    )  # fmt: skip
    if page is None:
        return {}, ProjectStatus()
    links = parse_listing(page.body, page.content_type, page.url)
    return links, project_status(page.body, page.content_type)


def list_links(simple_url: str, project: str, **options: Any) -> dict[str, FileLink]:
    """The files of PROJECT on the index, by filename (list_page's OPTIONS)."""
    return list_page(simple_url, project, **options)[0]


def fetch_json(url: str, *, timeout: float = 10.0, attempts: int = 3) -> object | None:
    """The JSON document at URL (None if the index has none there), asked up to ATTEMPTS times."""
    page = _asked(
        lambda: _fetch_page(url, timeout=timeout, accept="application/json"),
        f"{url} not reachable", attempts=attempts,
    )  # fmt: skip
    if page is None:
        return None
    try:
        document: object = json.loads(page.body)
    except ValueError:
        raise PackageIndexError(f"{url} did not answer JSON") from None
    return document


def list_files(simple_url: str, project: str, **options: Any) -> dict[str, str]:
    """The files of PROJECT on the index as {filename: sha256 or ""}; OPTIONS as list_links."""
    links = list_links(simple_url, project, **options)
    return {name: link.sha256 for name, link in links.items()}


def list_on_target(
    target: Target,
    project: str,
    *,
    timeout: float = 10.0,
    attempts: int = 5,
    report: Callable[[str], None] | None = None,
) -> tuple[Target, dict[str, FileLink]]:
    """The files of PROJECT on TARGET, and TARGET with its simple API settled.

    Nothing listed is ambiguous (a new project, or a simple URL that is wrong): only then is the
    simple API root checked (`locate_simple_api`) and, if it lives elsewhere, asked there.
    """
    options: dict[str, Any] = {"timeout": timeout, "attempts": attempts, "report": report}
    links = list_links(target.simple_url, project, **options)
    if links or not target.candidates:
        return replace(target, candidates=()), links
    located = locate_simple_api(target, timeout=min(timeout, PROBE_TIMEOUT), report=report)
    if located.simple_url != target.simple_url:
        links = list_links(located.simple_url, project, **options)
    return located, links


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
    return _asked(
        lambda: _download_once(url, dest, timeout),
        f"{url} not downloadable", attempts=attempts, sleep=sleep, report=report,
    )  # fmt: skip


def sha256_of(
    link: FileLink,
    *,
    timeout: float = 30.0,
    attempts: int = 5,
    report: Callable[[str], None] | None = None,
) -> str:
    """The sha256 of the file LINK names: the listing's, else that of its bytes, downloaded (a
    listing without hashes proves nothing, and must never read as "other bytes")."""
    if link.sha256:
        return link.sha256
    if report is not None:
        report(f"{link.filename} is listed without a sha256: downloading it to compare")
    with tempfile.TemporaryDirectory(prefix="agentops-sha256-") as temporary:
        return download(
            link.url, Path(temporary) / link.filename, timeout=timeout, attempts=attempts,
            report=report,
        )  # fmt: skip


def served_otherwise(
    links: Mapping[str, FileLink],
    expected: Mapping[str, str],
    *,
    timeout: float = 30.0,
    attempts: int = 5,
    report: Callable[[str], None] | None = None,
) -> dict[str, str]:
    """The files of EXPECTED ({filename: sha256}) that LINKS do not serve with those bytes, as
    {filename: the sha256 served, "" when not listed}, by name."""
    otherwise = {}
    for name, digest in sorted(expected.items()):
        link = links.get(name)
        served = "" if link is None else sha256_of(
            link, timeout=timeout, attempts=attempts, report=report
        )  # fmt: skip
        if served != digest:
            otherwise[name] = served
    return otherwise


def _attempts(count: int) -> str:
    return f"{count} attempt" if count == 1 else f"{count} attempts"
