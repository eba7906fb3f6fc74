"""GitHub's REST API for one repository, on 127.0.0.1 over HTTPS, for the real gh to talk to.

gh takes any host other than github.com for a GitHub Enterprise Server: with `env()` it sends
REST calls to https://HOST/api/v3/... and uploads to the `upload_url` the front gives
(https://HOST/api/uploads/...), with the front's token, trusting its throwaway CA. The front
holds the repository's releases and their assets as GitHub does, immutable releases included:
once published, a release's assets can be neither added nor deleted and its tag never moves, and
a deleted immutable release blocks its tag for good. Given GitHub's published description, it
checks every request and every answer against it: a request GitHub would refuse is answered 422
with what was wrong, and kept in `problems`, which a test asserts empty.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import subprocess
import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .model import Answer, Asset, Failure, Pull, Release, error, invalid, now, route
from .settings import Settings

if TYPE_CHECKING:
    from .described import Description

REST, UPLOADS = "/api/v3", "/api/uploads"


class GitHubFront(Settings):
    """One repository's releases behind GitHub's REST API: state, the requests, their problems."""

    def __init__(
        self,
        folder: Path,
        description: Description | None = None,
        repository: str = "octo/agentops-accelerator",
        immutable_releases: bool = True,
        origin: Path | None = None,
    ) -> None:
        super().__init__()
        self.folder, self.description, self.repository = folder, description, repository
        self.origin = origin  # the bare repository whose refs GitHub has
        self.immutable_releases = immutable_releases
        self.token = secrets.token_urlsafe(16)
        self.releases: list[Release] = []
        self.pulls: list[Pull] = []
        self.blocked_tags: set[str] = set()  # of deleted immutable releases: never again
        self.requests: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self.failures: list[Failure] = []
        self.damaged: set[str] = set()  # asset names stored with a byte flipped, as on a bad link
        self.lock = threading.Lock()
        self.last_id = 0
        self.users[repository.split("/")[0]] = 1
        self.host = ""  # HOST:PORT, once served
        self.stop: Callable[[], None] = lambda: None

    # --- serving (scripts.github_front.serving) ------------------------------------------

    def env(self) -> dict[str, str]:
        """What points the real gh at the front: host, token, CA, repository, its own config."""
        return {
            "GH_HOST": self.host,
            "GH_ENTERPRISE_TOKEN": self.token,
            "GH_REPO": f"{self.host}/{self.repository}",
            "SSL_CERT_FILE": str(self.folder / "trusted.pem"),  # the system's roots and the front's
            "GH_CONFIG_DIR": str(self.folder / "gh-config"),
            "GH_NO_UPDATE_NOTIFIER": "1",
            "GH_PROMPT_DISABLED": "1",
        }

    # --- answering ---------------------------------------------------------------------------

    def answer(self, method: str, target: str, content_type: str, body: bytes) -> Answer:
        """GitHub's answer to METHOD TARGET (a path under /api/v3 or /api/uploads)."""
        parts = urlsplit(target)
        prefix = UPLOADS if parts.path.startswith(UPLOADS + "/") else REST
        path = parts.path.removeprefix(prefix)
        query = parse_qs(parts.query, keep_blank_values=True)
        with self.lock:
            self.requests.append({"method": method, "path": path, "query": query,
                                  "body": _shown(content_type, body)})  # fmt: skip
            if path == "/api/graphql":
                self.problems.append("a GraphQL call: every gh call here goes through REST")
                return error(400, "GraphQL is not served: call the REST API (`gh api`)")
            problems = self._described_problems(method, path, query, content_type, body)
            if problems:
                self.problems += problems
                return error(422, "; ".join(problems))
            for failure in self.failures:
                if failure.method == method and path.endswith(failure.suffix) and failure.times:
                    failure.times -= 1
                    return error(failure.status, "a failure the test asked for")
            found = route(method, path)
            if found is None:
                return error(404, "Not Found")
            template, values = found
            owner = f"{values.pop('owner')}/{values.pop('repo')}" if "owner" in values else None
            if owner not in (None, self.repository):
                return error(404, "Not Found")
            handler = getattr(self, _handler_name(method, template))
            status, answer = handler(values, query, body)
            if self.description is not None:
                operation = self.description.operation(method, path)
                if not isinstance(operation, str):
                    answer = self.description.filled(operation[0], status, answer)
                    self.problems += self.description.answer_problems(operation[0], status, answer)
            return status, answer

    def _described_problems(
        self, method: str, path: str, query: dict[str, list[str]], content_type: str, body: bytes
    ) -> list[str]:
        if self.description is None:
            return []
        operation = self.description.operation(method, path)
        if isinstance(operation, str):
            return [operation]
        return self.description.request_problems(*operation, query, content_type, body)

    def _new_id(self) -> int:
        self.last_id += 1
        return self.last_id

    def saved(self) -> dict[str, Any]:
        """The state as JSON data (assets' bytes in base64), for `restore`."""
        releases = [
            {**asdict(r), "assets": [{**asdict(a), "data": base64.b64encode(a.data).decode()}
                                     for a in r.assets]}
            for r in self.releases
        ]  # fmt: skip
        return {
            "last_id": self.last_id, "releases": releases,
            "pulls": [asdict(pull) for pull in self.pulls],
            "blocked_tags": sorted(self.blocked_tags),
        }  # fmt: skip

    def restore(self, saved: dict[str, Any]) -> None:
        """Take up the state SAVED (by `saved`)."""
        self.last_id = saved["last_id"]
        self.releases = [
            Release(**{**r, "assets": [Asset(**{**a, "data": base64.b64decode(a["data"])})
                                       for a in r["assets"]]})
            for r in saved["releases"]
        ]  # fmt: skip
        self.pulls = [Pull(**pull) for pull in saved["pulls"]]
        self.blocked_tags = set(saved["blocked_tags"])

    def release(self, release_id: str) -> Release | None:
        return next((r for r in self.releases if str(r.id) == release_id), None)

    def release_json(self, release: Release) -> dict[str, Any]:
        base = f"https://{self.host}{REST}/repos/{self.repository}"
        html = f"https://{self.host}/{self.repository}"
        return {
            "url": f"{base}/releases/{release.id}",
            "html_url": f"{html}/releases/tag/{release.tag_name}",
            "assets_url": f"{base}/releases/{release.id}/assets",
            "upload_url": f"https://{self.host}{UPLOADS}/repos/{self.repository}/releases/"
                          f"{release.id}/assets{{?name,label}}",
            "tarball_url": f"{base}/tarball/{release.tag_name}",
            "zipball_url": f"{base}/zipball/{release.tag_name}",
            "id": release.id, "node_id": f"RE_{release.id}", "tag_name": release.tag_name,
            "target_commitish": "main", "name": release.name, "body": release.body,
            "draft": release.draft, "prerelease": release.prerelease,
            "immutable": release.immutable, "created_at": release.created_at,
            "published_at": release.published_at, "author": self.user_json(),
            "assets": [self.asset_json(asset) for asset in release.assets],
        }  # fmt: skip

    def asset_json(self, asset: Asset) -> dict[str, Any]:
        base = f"https://{self.host}{REST}/repos/{self.repository}/releases/assets/{asset.id}"
        return {
            "url": base, "browser_download_url": f"https://{self.host}/download/{asset.name}",
            "id": asset.id, "node_id": f"RA_{asset.id}", "name": asset.name, "label": None,
            "state": "uploaded", "content_type": asset.content_type, "size": len(asset.data),
            "digest": f"sha256:{hashlib.sha256(asset.data).hexdigest()}", "download_count": 0,
            "created_at": asset.created_at, "updated_at": asset.created_at,
            "uploader": self.user_json(),
        }  # fmt: skip

    def user_json(self) -> dict[str, Any]:
        login = self.repository.split("/")[0]
        url = f"https://{self.host}{REST}/users/{login}"
        return {
            "login": login, "id": 1, "node_id": "U_1", "avatar_url": f"{url}/avatar",
            "gravatar_id": "", "url": url, "html_url": f"https://{self.host}/{login}",
            **{f"{name}_url": f"{url}/{name}" for name in (
                "followers", "following", "gists", "starred", "subscriptions", "organizations",
                "repos", "events", "received_events")},
            "type": "User", "site_admin": False,
        }  # fmt: skip

    # --- the routes, one method each (named after the method and the template's last word) ---

    def get_ref(self, values: dict[str, str], query: object, body: bytes) -> Answer:
        ref = f"refs/{values['ref']}"
        found = self._object(ref) if self.origin is not None else None
        if found is None:
            return error(404, "Not Found")
        sha, kind = found
        base = f"https://{self.host}{REST}/repos/{self.repository}/git"
        return 200, {
            "ref": ref, "node_id": f"REF_{sha[:8]}", "url": f"{base}/{ref}",
            "object": {"type": kind, "sha": sha, "url": f"{base}/{kind}s/{sha}"},
        }  # fmt: skip

    def pull_json(self, pull: Pull) -> dict[str, Any]:
        owner = self.repository.split("/")[0]
        return {
            "number": pull.number, "state": pull.state, "title": pull.title, "body": pull.body,
            "merged_at": pull.merged_at,
            "html_url": f"https://{self.host}/{self.repository}/pull/{pull.number}",
            "head": {"ref": pull.head, "label": f"{owner}:{pull.head}"},
            "base": {"ref": pull.base, "label": f"{owner}:{pull.base}"},
        }  # fmt: skip

    def _close_gone(self) -> None:
        """Close the open pull requests whose head branch was deleted since (origin has none,
        or one that does not go on from where it was), as GitHub does when a branch is deleted."""
        for pull in self.pulls:
            found = self._object(f"refs/heads/{pull.head}")
            if pull.state != "open" or self.origin is None:
                continue
            if found is None or not self._goes_on(pull.head_sha, found[0]):
                pull.state = "closed"

    def _goes_on(self, old: str, new: str) -> bool:
        ancestor = ["git", "-C", str(self.origin), "merge-base", "--is-ancestor", old, new]
        return subprocess.run(ancestor, capture_output=True, check=False).returncode == 0

    def _object(self, ref: str) -> tuple[str, str] | None:
        """The sha and type of what REF names on origin (None: no such ref, or no origin)."""
        if self.origin is None:
            return None if ref.startswith("refs/tags/") else ("0" * 40, "commit")
        found = subprocess.run(
            ["git", "-C", str(self.origin), "for-each-ref", "--format=%(objectname) %(objecttype)",
             ref], capture_output=True, text=True, check=False,
        ).stdout.split()  # fmt: skip
        return (found[0], found[1]) if len(found) == 2 else None

    def get_pulls(self, values: dict[str, str], query: dict[str, list[str]], _: bytes) -> Answer:
        self._close_gone()
        owner = self.repository.split("/")[0]
        state = query.get("state", ["open"])[0]
        chosen = [
            pull for pull in sorted(self.pulls, key=lambda p: p.number, reverse=True)
            if query.get("head", [f"{owner}:{pull.head}"])[0] == f"{owner}:{pull.head}"
            and query.get("base", [pull.base])[0] == pull.base
            and state in ("all", pull.state)
        ][: int(query.get("per_page", ["30"])[0])]  # fmt: skip
        return 200, [self.pull_json(pull) for pull in chosen]

    def post_pulls(self, values: dict[str, str], query: object, body: bytes) -> Answer:
        given = json.loads(body or b"{}")
        self._close_gone()
        if any(p.head == given["head"] and p.state == "open" for p in self.pulls):
            return invalid("PullRequest", "custom", "head", "A pull request already exists")
        head = self._object(f"refs/heads/{given['head']}")
        if head is None:
            return invalid("PullRequest", "invalid", "head")
        pull = Pull(len(self.pulls) + 1, given["head"], given["base"], given.get("title", ""),
                    given.get("body", ""), head_sha=head[0])  # fmt: skip
        self.pulls.append(pull)
        return 201, self.pull_json(pull)

    def get_releases(self, values: dict[str, str], query: dict[str, list[str]], _: bytes) -> Answer:
        per_page = int(query.get("per_page", ["30"])[0])
        page = int(query.get("page", ["1"])[0])
        newest_first = sorted(self.releases, key=lambda r: r.id, reverse=True)
        chosen = newest_first[(page - 1) * per_page : page * per_page]
        return 200, [self.release_json(release) for release in chosen]

    def post_releases(self, values: dict[str, str], query: object, body: bytes) -> Answer:
        given = json.loads(body or b"{}")
        tag = given.get("tag_name", "")
        if tag in self.blocked_tags:
            return invalid("Release", "custom", "tag_name",
                           "tag_name was used by an immutable release")  # fmt: skip
        if any(release.tag_name == tag for release in self.releases):
            return invalid("Release", "already_exists", "tag_name")
        draft = bool(given.get("draft", False))
        made = Release(
            self._new_id(), tag, given.get("name", tag), given.get("body", ""), draft,
            bool(given.get("prerelease", False)), now(),
        )  # fmt: skip
        made.make_latest = given.get("make_latest")
        if not draft:
            made.published_at, made.immutable = made.created_at, self.immutable_releases
        self.releases.append(made)
        return 201, self.release_json(made)

    def get_tag(self, values: dict[str, str], query: object, body: bytes) -> Answer:
        for release in self.releases:
            if release.tag_name == values["tag"] and not release.draft:
                return 200, self.release_json(release)
        return error(404, "Not Found")

    def get_release_id(self, values: dict[str, str], query: object, body: bytes) -> Answer:
        release = self.release(values["release_id"])
        return (200, self.release_json(release)) if release else error(404, "Not Found")

    def patch_release_id(self, values: dict[str, str], query: object, body: bytes) -> Answer:
        release = self.release(values["release_id"])
        if release is None:
            return error(404, "Not Found")
        given = json.loads(body or b"{}")
        if release.immutable and (given.get("draft") or given.get("tag_name", release.tag_name)
                                  != release.tag_name):  # fmt: skip
            return invalid("Release", "custom", "tag_name", "the release is immutable")
        for key in ("name", "body", "prerelease", "tag_name", "make_latest"):
            if key in given:
                setattr(release, key, given[key])
        if release.draft and given.get("draft") is False:
            release.draft, release.published_at = False, now()
            release.immutable = self.immutable_releases
        return 200, self.release_json(release)

    def delete_release_id(self, values: dict[str, str], query: object, body: bytes) -> Answer:
        release = self.release(values["release_id"])
        if release is None:
            return error(404, "Not Found")
        if release.immutable:
            self.blocked_tags.add(release.tag_name)
        self.releases.remove(release)
        return 204, None

    def get_assets(self, values: dict[str, str], query: object, body: bytes) -> Answer:
        release = self.release(values["release_id"])
        if release is None:
            return error(404, "Not Found")
        return 200, [self.asset_json(asset) for asset in release.assets]

    def post_assets(
        self, values: dict[str, str], query: dict[str, list[str]], body: bytes
    ) -> Answer:
        release = self.release(values["release_id"])
        if release is None:
            return error(404, "Not Found")
        if release.immutable:
            return invalid("ReleaseAsset", "custom", "release",
                           "Cannot upload assets to an immutable release.")  # fmt: skip
        name = query["name"][0]
        if any(asset.name == name for asset in release.assets):
            return invalid("ReleaseAsset", "already_exists", "name")
        kept = body[:-1] + bytes([body[-1] ^ 1]) if name in self.damaged and body else body
        asset = Asset(self._new_id(), name, kept, "application/octet-stream", now())
        release.assets.append(asset)
        return 201, self.asset_json(asset)

    def _asset(self, asset_id: str) -> tuple[Release, Asset] | None:
        for release in self.releases:
            for asset in release.assets:
                if str(asset.id) == asset_id:
                    return release, asset
        return None

    def get_asset_id(self, values: dict[str, str], query: object, body: bytes) -> Answer:
        found = self._asset(values["asset_id"])
        return (200, self.asset_json(found[1])) if found else error(404, "Not Found")

    def delete_asset_id(self, values: dict[str, str], query: object, body: bytes) -> Answer:
        found = self._asset(values["asset_id"])
        if found is None:
            return error(404, "Not Found")
        if found[0].immutable:
            return invalid("ReleaseAsset", "custom", "release", "the release is immutable")
        found[0].assets.remove(found[1])
        return 204, None


def _handler_name(method: str, template: str) -> str:
    last = template.rstrip("/").rsplit("/", 1)[1].strip("{}").replace("-", "_")
    return f"{method.lower()}_{last}"


def _shown(content_type: str, body: bytes) -> object:
    """BODY as the request log keeps it: JSON parsed, anything else by its size."""
    if content_type.startswith("application/json") and body:
        try:
            return json.loads(body)
        except ValueError:
            pass
    return {"bytes": len(body)} if body else None
