"""A project's page of the simple API, read: PEP 503 HTML or PEP 691 JSON, to files and digests,
their upload times (PEP 700) and the project's status (PEP 792)."""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from html.parser import HTMLParser

from packaging.utils import canonicalize_name

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


class PackageIndexError(Exception):
    """Anything that went wrong while asking a package index."""


@dataclass(frozen=True)
class FileLink:
    """One file of a project on an index: its name, absolute URL and sha256 ("" if not given).

    PROVENANCE is the URL of its PEP 740 provenance, "" when the index says nothing was attested
    (`"provenance": null`), None when the index does not serve attestations at all."""

    filename: str
    url: str
    sha256: str
    provenance: str | None = None
    upload_time: str = ""  # PEP 700's ISO 8601 time, where the JSON listing gives it


@dataclass(frozen=True)
class ProjectStatus:
    """A project's PEP 792 status on an index (active where the index says none), and why."""

    status: str = "active"
    reason: str = ""


def normalize_project(name: str) -> str:
    """The PEP 503 normalized form of a project name (lower case, runs of -_. become -)."""
    return str(canonicalize_name(name))


class _AnchorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[str, str, str | None]] = []
        self._href: str | None = None
        self._provenance: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or None
            self._provenance = dict(attrs).get("data-provenance")
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.anchors.append((self._href, "".join(self._text).strip(), self._provenance))
            self._href = None


class _MetaParser(HTMLParser):
    """The <meta name=... content=...> of a page, by name (the first of each)."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "meta" and found.get("name"):
            self.meta.setdefault(str(found["name"]), found.get("content") or "")


def project_status(text: str, content_type: str) -> ProjectStatus:
    """The project's PEP 792 status on a project page: JSON's `project-status` object, or the
    HTML `pypi:project-status` (and `-reason`) meta tags."""
    if content_type in (JSON_TYPE, "application/json"):
        try:
            found = json.loads(text).get("project-status")
        except (ValueError, AttributeError):
            return ProjectStatus()
        found = found if isinstance(found, dict) else {}
        status, reason = found.get("status"), found.get("reason")
    else:
        parser = _MetaParser()
        parser.feed(text)
        parser.close()
        status = parser.meta.get("pypi:project-status")
        reason = parser.meta.get("pypi:project-status-reason")
    return ProjectStatus(str(status or "active"), str(reason or ""))


def _link(
    base_url: str,
    href: str,
    filename: str,
    sha256: str,
    provenance: str | None = None,
    upload_time: str = "",
) -> FileLink:
    url, _ = urllib.parse.urldefrag(urllib.parse.urljoin(base_url, href))
    if not filename:
        filename = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
    if provenance:
        provenance = urllib.parse.urljoin(base_url, provenance)
    return FileLink(filename, url, sha256.lower(), provenance, upload_time)


def parse_simple_html(text: str, base_url: str) -> dict[str, FileLink]:
    """The files of a PEP 503 project page: anchor text, absolute href, #sha256= fragment."""
    parser = _AnchorParser()
    parser.feed(text)
    parser.close()
    links: dict[str, FileLink] = {}
    for href, text_, provenance in parser.anchors:
        algorithm, _, value = urllib.parse.urlsplit(href).fragment.partition("=")
        link = _link(base_url, href, text_, value if algorithm == "sha256" else "", provenance)
        links[link.filename] = link
    return links


def parse_simple_json(text: str, base_url: str) -> dict[str, FileLink]:
    """The files of a PEP 691 project page: files[].filename, url, hashes.sha256, PEP 740's
    provenance and PEP 700's upload-time."""
    try:
        data = json.loads(text)
        files = data["files"]
        links = [
            _link(
                base_url,
                str(entry["url"]),
                str(entry["filename"]),
                _sha256_of(entry),
                _provenance_of(entry),
                str(entry.get("upload-time") or ""),
            )
            for entry in files
        ]
    except (ValueError, KeyError, TypeError) as error:
        raise PackageIndexError(f"{base_url} is not a PEP 691 project page: {error}") from None
    return {link.filename: link for link in links}


def _provenance_of(entry: dict[str, object]) -> str | None:
    if "provenance" not in entry:
        return None  # an index that does not serve attestations
    value = entry["provenance"]
    return value if isinstance(value, str) else ""


def _sha256_of(entry: object) -> str:
    hashes = entry.get("hashes") if isinstance(entry, dict) else None
    value = hashes.get("sha256") if isinstance(hashes, dict) else None
    return value if isinstance(value, str) else ""


def parse_listing(text: str, content_type: str, base_url: str) -> dict[str, FileLink]:
    """The files of a project page in whichever format the index answered with."""
    if content_type == JSON_TYPE or content_type == "application/json":
        return parse_simple_json(text, base_url)
    return parse_simple_html(text, base_url)
