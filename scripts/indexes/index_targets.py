"""Where a release goes: the index targets publish and verify accept, resolved without a request.

A target is a known index (`testpypi`, `pypi`), the local one, a name from pyproject.toml's
`[[tool.uv.index]]` (uv's convention: `url` the simple API, `publish-url` the upload URL), or an
upload URL whose simple API is given or left to `scripts.indexes.index.locate_simple_api` to find.
"""

from __future__ import annotations

import argparse
import os
import tomllib
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ACCEPTED_FORMS = (
    "testpypi, pypi, local, an index named in pyproject.toml's [[tool.uv.index]] or an http(s) "
    "upload URL"
)
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


@dataclass(frozen=True)
class Target:
    """Where a release goes: a name, the upload URL for twine and the simple API to verify.

    CANDIDATES are the simple API roots to check, in order, before the first request
    (`locate_simple_api`); empty for the well-known indexes, which are never probed.
    """

    name: str
    upload_url: str
    simple_url: str
    candidates: tuple[str, ...] = ()


KNOWN_TARGETS: Mapping[str, Target] = {
    "testpypi": Target(
        "testpypi", "https://test.pypi.org/legacy/", "https://test.pypi.org/simple/"
    ),
    "pypi": Target("pypi", "https://upload.pypi.org/legacy/", "https://pypi.org/simple/"),
}


def with_slash(url: str) -> str:
    """URL ending in exactly one slash."""
    return url.rstrip("/") + "/"


def is_http_url(url: str) -> bool:
    """Whether URL is http(s)://HOST..."""
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def simple_api_candidates(upload_url: str) -> tuple[str, ...]:
    """Where an index that takes uploads at UPLOAD_URL usually serves its simple API, in order.

    Warehouse takes uploads at .../legacy/ and serves .../simple/ beside it; pypiserver, Nexus
    and Artifactory serve simple/ below the upload URL; devpi serves +simple/ below it.
    """
    upload = with_slash(upload_url)
    base, _, last = upload.rstrip("/").rpartition("/")
    below = (f"{upload}simple/", f"{upload}+simple/")
    return (f"{base}/simple/", *below) if last == "legacy" else below


def named_indexes(pyproject: Path = PYPROJECT) -> dict[str, tuple[str, str | None]]:
    """pyproject's [[tool.uv.index]] entries, as uv reads them: name -> (url, publish-url)."""
    try:
        with pyproject.open("rb") as handle:
            settings = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    entries = settings.get("tool", {}).get("uv", {}).get("index", [])
    return {
        str(entry["name"]): (str(entry.get("url", "")), entry.get("publish-url"))
        for entry in entries
        if isinstance(entry, dict) and entry.get("name")
    }


def resolve_target(
    spec: str,
    *,
    local_url: str | None = None,
    simple_url: str | None = None,
    indexes: Mapping[str, tuple[str, str | None]] | None = None,
) -> Target:
    """The Target SPEC names: testpypi, pypi, local (needs LOCAL_URL), an index of INDEXES
    (default: pyproject's [[tool.uv.index]]) or an upload URL, whose simple API is SIMPLE_URL
    when given, else one of `simple_api_candidates`."""
    key = spec.strip()
    if simple_url is not None and not is_http_url(simple_url):
        raise ValueError(f"the simple URL must be http(s)://..., not {simple_url!r}")
    if key.lower() in KNOWN_TARGETS:
        if simple_url is not None:
            raise ValueError(f"{key.lower()} has its own simple API: drop --simple-url")
        return KNOWN_TARGETS[key.lower()]
    if key.lower() == "local":
        if not local_url:
            raise ValueError(
                "the local index is not running: start it with "
                "`python -m scripts.indexes.local_index serve DIR` and pass its URL"
            )
        if not is_http_url(local_url):
            raise ValueError(f"the local index URL must be http(s)://HOST:PORT/, not {local_url!r}")
        root = with_slash(local_url)
        simple = with_slash(simple_url) if simple_url else f"{root}simple/"
        return Target("local", root, simple, (simple,))
    if is_http_url(key):
        upload = with_slash(key)
        candidates = (with_slash(simple_url),) if simple_url else simple_api_candidates(upload)
        return Target(upload, upload, candidates[0], candidates)
    known = named_indexes() if indexes is None else indexes
    if key in known:
        url, publish_url = known[key]
        if not publish_url or not is_http_url(publish_url) or not is_http_url(url):
            raise ValueError(
                f"index {key!r} of [[tool.uv.index]] needs an http(s) `url` (its simple API) and "
                "`publish-url` (its upload URL)"
            )
        simple = with_slash(simple_url or url)
        return Target(key, with_slash(publish_url), simple, (simple,))
    raise ValueError(f"unknown index {spec!r}: expected {ACCEPTED_FORMS}")


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments that say where publish and verify go: TARGET, --dist, --local-url and
    --simple-url (`target_of` resolves them)."""
    parser.add_argument("target", help=f"the index: {ACCEPTED_FORMS}")
    parser.add_argument("--dist", type=Path, default=Path("dist"), help="default: dist")
    parser.add_argument("--local-url", default=os.environ.get("LOCAL_INDEX_URL"))
    parser.add_argument(
        "--simple-url",
        help="the index's simple API (default: found beside or below the upload URL)",
    )


def target_of(args: argparse.Namespace) -> Target:
    """The Target the arguments of `add_target_arguments` name; ValueError if none."""
    return resolve_target(args.target, local_url=args.local_url, simple_url=args.simple_url)
