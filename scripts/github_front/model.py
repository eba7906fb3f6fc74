"""GitHub's REST resources as the front keeps them, its errors, and the routes it answers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import unquote

DOCS = "https://docs.github.com/rest"
Answer = tuple[int, object]  # an HTTP status and its JSON body (None: no body)


@dataclass
class Asset:
    id: int
    name: str
    data: bytes
    content_type: str
    created_at: str


@dataclass
class Release:
    id: int
    tag_name: str
    name: str | None
    body: str | None
    draft: bool
    prerelease: bool
    created_at: str
    published_at: str | None = None
    immutable: bool = False
    make_latest: str | None = None  # as last asked: "true", "false" or "legacy"
    assets: list[Asset] = field(default_factory=list)


@dataclass
class Pull:
    number: int
    head: str
    base: str
    title: str
    body: str
    state: str = "open"
    merged_at: str | None = None
    head_sha: str = ""  # where the head branch was when the pull request was opened


@dataclass
class Failure:
    """Answer the next TIMES requests of METHOD to a path ending in SUFFIX with STATUS."""

    method: str
    suffix: str
    status: int
    times: int = 1


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error(status: int, message: str, **more: object) -> Answer:
    return status, {"message": message, "documentation_url": DOCS, "status": str(status), **more}


def invalid(resource: str, code: str, field_name: str, message: str = "") -> Answer:
    found = {"resource": resource, "code": code, "field": field_name}
    return error(422, "Validation Failed", errors=[{**found, "message": message or code}])


ROUTES: list[tuple[str, str]] = [  # (method, path template) the front answers, as GitHub has them
    ("GET", "/repos/{owner}/{repo}/git/ref/{ref}"),
    ("PUT", "/repos/{owner}/{repo}/environments/{environment_name}"),
    ("GET", "/repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies"),
    ("POST", "/repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies"),
    (
        "DELETE",
        "/repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies/"
        "{branch_policy_id}",
    ),
    ("GET", "/repos/{owner}/{repo}/rulesets"),
    ("POST", "/repos/{owner}/{repo}/rulesets"),
    ("PUT", "/repos/{owner}/{repo}/rulesets/{ruleset_id}"),
    ("GET", "/repos/{owner}/{repo}/immutable-releases"),
    ("PUT", "/repos/{owner}/{repo}/immutable-releases"),
    ("GET", "/repos/{owner}/{repo}/actions/permissions/workflow"),
    ("PUT", "/repos/{owner}/{repo}/actions/permissions/workflow"),
    ("GET", "/users/{username}"),
    ("GET", "/user"),
    ("GET", "/repos/{owner}/{repo}/pulls"),
    ("POST", "/repos/{owner}/{repo}/pulls"),
    ("GET", "/repos/{owner}/{repo}/releases"),
    ("POST", "/repos/{owner}/{repo}/releases"),
    ("GET", "/repos/{owner}/{repo}/releases/tags/{tag}"),
    ("GET", "/repos/{owner}/{repo}/releases/assets/{asset_id}"),
    ("DELETE", "/repos/{owner}/{repo}/releases/assets/{asset_id}"),
    ("GET", "/repos/{owner}/{repo}/releases/{release_id}"),
    ("PATCH", "/repos/{owner}/{repo}/releases/{release_id}"),
    ("DELETE", "/repos/{owner}/{repo}/releases/{release_id}"),
    ("GET", "/repos/{owner}/{repo}/releases/{release_id}/assets"),
    ("POST", "/repos/{owner}/{repo}/releases/{release_id}/assets"),
]


def template_pattern(template: str) -> str:
    """A regular expression of the paths TEMPLATE names (a `{ref}` may hold slashes: tags/v1)."""
    parts = re.split(r"(\{[^/}]+\})", template)
    return "".join(("(.+)" if part == "{ref}" else "([^/]+)") if part.startswith("{")
                   else re.escape(part) for part in parts)  # fmt: skip


def route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The ROUTES template METHOD PATH is (literal segments before parameters), with its values."""
    for known, template in ROUTES:
        names = re.findall(r"\{(\w+)\}", template)
        pattern = template_pattern(template)
        found = re.fullmatch(pattern, path)
        if known == method and found:
            return template, dict(zip(names, map(unquote, found.groups()), strict=True))
    return None
