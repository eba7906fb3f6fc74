"""Warehouse as twine meets it under trusted publishing, in front of a real pypiserver.

twine asks for a trusted-publishing token only when it uploads to https://test.pypi.org/legacy/
or https://upload.pypi.org/legacy/, at `https://HOST/_/oidc/audience` and `/_/oidc/mint-token`.
The front is an HTTP proxy the client reaches through HTTPS_PROXY: it answers CONNECT for those
hosts with TLS of its own (a throwaway CA the client trusts through REQUESTS_CA_BUNDLE and
SSL_CERT_FILE), serves the OIDC exchange as warehouse does, and hands uploads and listings to a
ScriptedProxy in front of the pypiserver, with the pypiserver's credentials in place of the
token. Besides, it serves GitHub's OIDC token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL), directly.
"""

from __future__ import annotations

import base64
import io
import json
import re
import secrets
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import trustme

from tests.proxy import QuietHandler, ScriptedProxy, serve_in_thread

HOSTS = ("test.pypi.org", "upload.pypi.org", "pypi.org")
AUDIENCE = "pypi"
TOKEN_PATH = "/github-oidc-token"
# What warehouse answers a token of a workflow no trusted publisher names (oidc/views.py).
INVALID_PUBLISHER = {
    "message": "Token request failed",
    "errors": [
        {
            "code": "invalid-publisher",
            "description": "valid token, but no corresponding publisher (Publisher with matching "
            "claims was not found)",
        }
    ],
}


@dataclass
class WarehouseFront:
    """The front's state: what it accepts, what it was asked, and the mint-token answers to give
    instead of a token (status, JSON or text body), first to last."""

    scripted: ScriptedProxy
    upstream_authorization: str
    ca_file: Path
    url: str = ""
    request_token: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    id_token: str = field(default_factory=lambda: _unsigned_jwt(AUDIENCE))
    minted: str = field(default_factory=lambda: f"pypi-minted-{secrets.token_urlsafe(16)}")
    api_tokens: set[str] = field(default_factory=set)
    mint_failures: list[tuple[int, object]] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)  # the OIDC steps, in order
    # Each upload let through: (file name, its sha256 as posted, the PEP 740 attestations).
    uploads: list[tuple[str, str, list[object] | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def env(self) -> dict[str, str]:
        """What a GitHub job with `id-token: write` has, pointed at this front."""
        return {
            "HTTPS_PROXY": self.url,
            "https_proxy": self.url,
            "REQUESTS_CA_BUNDLE": str(self.ca_file),
            "SSL_CERT_FILE": str(self.ca_file),
            "GITHUB_ACTIONS": "true",
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.url.rstrip('/')}{TOKEN_PATH}?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.request_token,
        }

    def _note(self, step: str) -> None:
        with self.lock:
            self.asked.append(step)

    def github_token(self, handler: BaseHTTPRequestHandler) -> None:
        self._note("github-token")
        if handler.headers.get("Authorization") != f"bearer {self.request_token}":
            _json(handler, 401, {"message": "bad request token"})
        else:
            _json(handler, 200, {"value": self.id_token})

    def mint(self, handler: BaseHTTPRequestHandler) -> None:
        self._note("mint-token")
        length = int(handler.headers.get("Content-Length") or 0)
        try:
            given = json.loads(handler.rfile.read(length)).get("token")
        except (ValueError, AttributeError):
            given = None
        with self.lock:
            failure = self.mint_failures.pop(0) if self.mint_failures else None
        if failure is not None:
            status, body = failure
            _json(handler, status, body)
        elif given != self.id_token:
            wrong = {"code": "invalid-payload", "description": "not the token GitHub issued"}
            _json(handler, 422, {"message": "Token request failed", "errors": [wrong]})
        else:
            _json(handler, 200, {"success": True, "token": self.minted, "expires": 2**31})

    def upload_or_listing(self, handler: BaseHTTPRequestHandler) -> None:
        """Hand the request to the scripted proxy: an upload only with an accepted token."""
        if handler.path.startswith("/legacy/"):
            accepted = {self.minted, *self.api_tokens}
            given = handler.headers.get("Authorization", "")
            if given not in {_basic("__token__", token) for token in accepted}:
                _json(handler, 403, {"message": "Invalid or non-existent authentication."})
                return
            handler.path = "/" + handler.path.removeprefix("/legacy/")
            length = int(handler.headers.get("Content-Length") or 0)
            body = handler.rfile.read(length)
            handler.rfile = io.BytesIO(body)  # for the scripted proxy to read again
            with self.lock:
                self.uploads.append(_upload(body))
        del handler.headers["Authorization"]
        handler.headers["Authorization"] = self.upstream_authorization
        self.scripted.handle(handler)


def _unsigned_jwt(audience: str) -> str:
    """A token shaped as GitHub's (header.claims.signature), signed by nobody."""

    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    claims = {"iss": "https://token.actions.githubusercontent.com", "aud": audience,
              "repository": "acme/agentops-accelerator", "jti": secrets.token_hex(8)}  # fmt: skip
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.unsigned"


def _field(body: bytes, name: str) -> bytes | None:
    found = re.search(rb'name="' + name.encode() + rb'"\r\n\r\n(.*?)\r\n--', body, re.S)
    return found.group(1) if found else None


def _upload(body: bytes) -> tuple[str, str, list[object] | None]:
    """The file name, posted sha256 and attestations of a legacy upload's multipart BODY."""
    name = re.search(rb'name="content"; filename="([^"]+)"', body)
    attestations = _field(body, "attestations")
    return (
        name.group(1).decode() if name else "",
        (_field(body, "sha256_digest") or b"").decode(),
        json.loads(attestations) if attestations is not None else None,
    )


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _json(handler: BaseHTTPRequestHandler, status: int, body: object) -> None:
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    kind = "text/html" if isinstance(body, str) else "application/json"
    handler.send_response(status)
    handler.send_header("Content-Type", kind)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def start_warehouse_front(
    scripted: ScriptedProxy, credentials: tuple[str, str], folder: Path
) -> tuple[WarehouseFront, Callable[[], None]]:
    """A WarehouseFront on 127.0.0.1 before SCRIPTED (pypiserver's CREDENTIALS forwarded), its
    CA written to FOLDER; and the function that stops it."""
    authority = trustme.CA()
    ca_file = folder / "warehouse-front-ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(*HOSTS).configure_cert(tls)
    front = WarehouseFront(scripted, _basic(*credentials), ca_file)

    class Inside(QuietHandler):
        """A request inside the TLS tunnel, to one of HOSTS."""

        def do_GET(self) -> None:
            if self.path == "/_/oidc/audience":
                front._note("audience")
                _json(self, 200, {"audience": AUDIENCE})
            elif self.path == "/_/oidc/mint-token":
                front.mint(self)
            else:
                front.upload_or_listing(self)

        do_POST = do_GET

    class Front(QuietHandler):
        def do_CONNECT(self) -> None:
            host = self.path.rpartition(":")[0]
            if host not in HOSTS:
                self.send_error(403, f"only {', '.join(HOSTS)} here")
                return
            self.send_response(200, "Connection established")
            self.end_headers()
            self.close_connection = True
            try:
                inside = tls.wrap_socket(self.connection, server_side=True)
            except (ssl.SSLError, OSError):
                return  # the client gave up on the handshake
            try:
                Inside(inside, self.client_address, self.server)
            finally:
                inside.close()

        def do_GET(self) -> None:
            if self.path.startswith(TOKEN_PATH):
                front.github_token(self)
            else:
                self.send_error(404)

    front.url, stop = serve_in_thread(Front)
    return front, stop
