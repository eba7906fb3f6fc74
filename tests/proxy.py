"""A scripted HTTP proxy in front of a real index: it forwards, or fails, or is slow, on cue.

Besides failing (a status, a body and headers of the failure's choosing) and hanging, it does
what real indexes and their CDNs do: forward a request and lose the answer (`drop`), let a second
publisher's identical upload land first (`race`), and serve a project page as it was before the
last upload (`stale`: a lagging or, every other time, a flapping listing).
"""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Longer than any client timeout the tests use; the proxy lets go at once when it is stopped.
SLOW_SECONDS = 60.0
LISTED = re.compile(rb"([\w.-]+\.(?:whl|tar\.gz))#sha256=([0-9a-f]{64})")  # in HTML listings
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}
)


@dataclass
class Rule:
    """What the proxy does instead of forwarding a request of METHODS, TIMES times (or always).

    BODY and HEADERS go with STATUS (default: the reason phrase, text/plain). FORWARD first sends
    the request on and then answers STATUS anyway; DROP forwards it and hangs up without an
    answer; RACE forwards it twice (another publisher's identical request lands first) and
    answers the second answer; STALE answers a GET with the page as it was before the last
    forwarded POST (EVERY: only every EVERY-th time, a flapping listing).
    """

    methods: frozenset[str]
    status: int = 503
    slow: bool = False
    times: int | None = None
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    forward: bool = False
    drop: bool = False
    race: bool = False
    stale: bool = False
    every: int = 1
    seen: int = 0
    reason: str | None = None  # the status line's phrase (warehouse puts its message there)
    path_contains: str = ""  # only requests whose path, or POSTed body, holds this text


@dataclass
class ScriptedProxy:
    """Forwards GET and POST to the real server, unless a rule says to fail or to be slow."""

    upstream_port: int
    strip_hashes: bool = False
    # What the index's pages say besides (a project's status, upload times): a GET page's
    # (content type, body) in, the page served out.
    rewrite: Callable[[str, bytes], tuple[str, bytes]] | None = None
    rules: list[Rule] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    pages: dict[str, tuple[int, list[tuple[str, str]], bytes]] = field(default_factory=dict)
    before_post: dict[str, tuple[int, list[tuple[str, str]], bytes]] = field(default_factory=dict)
    # What the client was shown listed ({file: sha256}), and each file it POSTed after that.
    shown: dict[str, str] = field(default_factory=dict)
    posted_after_shown: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def fail(
        self, status: int, *, methods: Sequence[str] = ("GET", "POST"), times: int | None = None
    ) -> None:
        """Answer STATUS to METHODS, TIMES times (None: always), then forward again."""
        self.rules.append(Rule(frozenset(methods), status=status, times=times))

    def add(self, methods: Sequence[str], times: int | None = None, **behaviour: object) -> None:
        """Any Rule: METHODS, TIMES times (None: always), with BEHAVIOUR (Rule's fields)."""
        self.rules.append(Rule(frozenset(methods), times=times, **behaviour))  # type: ignore[arg-type]

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

    def _rule_for(self, method: str, path: str, body: bytes = b"") -> Rule | None:
        with self.lock:
            self.requests.append((method, path))
            for rule in self.rules:
                wanted = rule.path_contains.encode()
                if wanted and wanted not in path.encode() and wanted not in body:
                    continue
                if method in rule.methods and rule.times != 0:
                    if rule.stale and (path not in self.before_post):
                        continue  # nothing uploaded since this page was seen: nothing is stale
                    rule.seen += 1
                    if rule.seen % rule.every:
                        return None
                    if rule.times is not None:
                        rule.times -= 1
                    return rule
        return None

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        if handler.command == "POST" and (posted := re.search(rb'filename="([^"]+)"', body)):
            with self.lock:
                if posted.group(1).decode() in self.shown:
                    self.posted_after_shown.append(posted.group(1).decode())
        rule = self._rule_for(handler.command, handler.path, body)
        if rule is not None and rule.slow:
            self.released.wait(SLOW_SECONDS)
            handler.close_connection = True
            return
        if rule is not None and rule.stale:
            with self.lock:
                status, kept, data = self.before_post[handler.path]
            self._answer(handler, status, kept, data)
            return
        if rule is not None and not (rule.forward or rule.drop or rule.race):
            self._answer_rule(handler, rule)
            return
        if rule is not None and rule.race:
            self._forward(handler, body)  # the other publisher's upload, answered to nobody
        status, kept, data = self._forward(handler, body)
        if rule is not None and rule.drop:
            handler.close_connection = True  # it landed; the answer is lost on the way
            return
        if rule is not None and rule.forward:
            self._answer_rule(handler, rule)
            return
        self._answer(handler, status, kept, data)

    def _forward(
        self, handler: BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send the request upstream; its answer (status, headers, body), remembered for GETs."""
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
        if self.rewrite is not None and handler.command == "GET" and response.status == 200:
            content_type = dict((k.lower(), v) for k, v in kept).get("content-type", "")
            content_type, data = self.rewrite(content_type, data)
            kept = [(k, v) for k, v in kept if k.lower() != "content-type"]
            kept.append(("Content-Type", content_type))
        with self.lock:
            if handler.command == "GET":
                self.pages[handler.path] = (response.status, kept, data)
            elif handler.command == "POST":
                # What a lagging cache still serves: every page as it was before this upload.
                self.before_post = dict(self.pages)
        return response.status, kept, data

    def _answer_rule(self, handler: BaseHTTPRequestHandler, rule: Rule) -> None:
        reply = rule.body if rule.body is not None else http.client.responses[rule.status].encode()
        headers = [("Content-Type", "text/plain"), *rule.headers]
        self._answer(handler, rule.status, headers, reply, rule.reason)

    def _answer(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        headers: list[tuple[str, str]],
        data: bytes,
        reason: str | None = None,
    ) -> None:
        if handler.command == "GET" and status == 200:
            for name, digest in re.findall(
                rb"([\w.-]+\.(?:whl|tar\.gz))#sha256=([0-9a-f]{64})", data
            ):
                with self.lock:
                    self.shown[name.decode()] = digest.decode()
        handler.send_response(status, reason)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing."""

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve_in_thread(
    handler: type[BaseHTTPRequestHandler], before_stop: Callable[[], None] = lambda: None
) -> tuple[str, Callable[[], None]]:
    """Serve HANDLER on 127.0.0.1 and a free port in a thread: its URL, and the function that
    stops it (calling BEFORE_STOP first)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()

    def stop() -> None:
        before_stop()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return f"http://127.0.0.1:{server.server_address[1]}/", stop


def start_proxy(upstream_port: int) -> tuple[ScriptedProxy, Callable[[], None]]:
    """A ScriptedProxy on 127.0.0.1 in front of UPSTREAM_PORT, and the function that stops it."""
    scripted = ScriptedProxy(upstream_port)

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            scripted.handle(self)

        do_POST = do_GET

    # A slow answer is let go at once on the way out.
    scripted.url, stop = serve_in_thread(Handler, before_stop=scripted.released.set)
    return scripted, stop
