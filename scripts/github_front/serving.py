"""The GitHub front served on 127.0.0.1 over HTTPS, with a throwaway CA the client trusts."""

from __future__ import annotations

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trustme

from .front import GitHubFront
from .model import error


def start(front: GitHubFront) -> GitHubFront:
    """Serve FRONT on 127.0.0.1 and a free port, over TLS from a throwaway CA (its folder's
    ca.pem); `front.stop()` stops it."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def handle_any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                body = read_chunked(self.rfile)
            authorized = self.headers.get("Authorization") == f"token {front.token}"
            content_type = self.headers.get("Content-Type", "")
            status, answer = (
                front.answer(self.command, self.path, content_type, body)
                if authorized
                else error(401, "Bad credentials")
            )
            data = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = handle_any

        def log_message(self, format: str, *args: object) -> None:
            pass

    front.folder.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(front.folder / "ca.pem"))
    # SSL_CERT_FILE replaces the roots a client trusts: keep the system's, for every other host.
    system = Path(ssl.get_default_verify_paths().openssl_cafile)
    roots = system.read_bytes() if system.is_file() else b""
    (front.folder / "trusted.pem").write_bytes(roots + authority.cert_pem.bytes())
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    front.host = f"127.0.0.1:{server.server_address[1]}"

    def stop() -> None:
        server.shutdown()
        server.server_close()

    front.stop = stop
    return front


def read_chunked(stream: Any) -> bytes:
    """A body sent with Transfer-Encoding: chunked."""
    data = b""
    while size := int(stream.readline().split(b";")[0].strip() or b"0", 16):
        data += stream.read(size)
        stream.readline()
    stream.readline()
    return data
