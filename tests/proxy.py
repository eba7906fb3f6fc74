"""A scripted HTTP proxy in front of a real index: it forwards, or fails, or is slow, on cue."""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Longer than any client timeout the tests use; the proxy lets go at once when it is stopped.
SLOW_SECONDS = 60.0
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}
)


@dataclass
class Rule:
    """What the proxy does instead of forwarding a request of METHODS, TIMES times (or always)."""

    methods: frozenset[str]
    status: int = 503
    slow: bool = False
    times: int | None = None


@dataclass
class ScriptedProxy:
    """Forwards GET and POST to the real server, unless a rule says to fail or to be slow."""

    upstream_port: int
    strip_hashes: bool = False
    rules: list[Rule] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def fail(
        self, status: int, *, methods: Sequence[str] = ("GET", "POST"), times: int | None = None
    ) -> None:
        """Answer STATUS to METHODS, TIMES times (None: always), then forward again."""
        self.rules.append(Rule(frozenset(methods), status=status, times=times))

    def be_slow(self, *, methods: Sequence[str] = ("GET", "POST")) -> None:
        """Answer METHODS only after SLOW_SECONDS (longer than any client waits), then hang up."""
        self.rules.append(Rule(frozenset(methods), slow=True))

    def count(self, method: str) -> int:
        with self.lock:
            return sum(1 for seen, _ in self.requests if seen == method)

    def reset(self) -> None:
        with self.lock:
            self.rules.clear()
            self.requests.clear()

    def _rule_for(self, method: str, path: str) -> Rule | None:
        with self.lock:
            self.requests.append((method, path))
            for rule in self.rules:
                if method in rule.methods and rule.times != 0:
                    if rule.times is not None:
                        rule.times -= 1
                    return rule
        return None

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        rule = self._rule_for(handler.command, handler.path)
        if rule is not None and rule.slow:
            self.released.wait(SLOW_SECONDS)
            handler.close_connection = True
            return
        if rule is not None:
            reply = http.client.responses[rule.status].encode()
            self._answer(handler, rule.status, [("Content-Type", "text/plain")], reply)
            return
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP}
            upstream.request(handler.command, handler.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            kept = [
                (name, value)
                for name, value in response.getheaders()
                if name.lower() not in HOP_BY_HOP | {"server", "date"}
            ]
        finally:
            upstream.close()
        if self.strip_hashes and handler.command == "GET":
            data = re.sub(rb"#sha256=[0-9a-f]{64}", b"", data)
        self._answer(handler, response.status, kept, data)

    @staticmethod
    def _answer(
        handler: BaseHTTPRequestHandler,
        status: int,
        headers: list[tuple[str, str]],
        data: bytes,
    ) -> None:
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


def start_proxy(upstream_port: int) -> tuple[ScriptedProxy, Callable[[], None]]:
    """A ScriptedProxy on 127.0.0.1 in front of UPSTREAM_PORT, and the function that stops it."""
    scripted = ScriptedProxy(upstream_port)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            scripted.handle(self)

        do_POST = do_GET

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    scripted.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()

    def stop() -> None:
        scripted.released.set()  # lets a slow answer end at once
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return scripted, stop
