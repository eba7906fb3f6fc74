"""The index client: targets, names, retries, page parsing, and real HTTP on 127.0.0.1."""

from __future__ import annotations

import argparse
import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scripts.indexes import index, index_targets, retrying, simple_pages, waiting
from scripts.indexes.index import IndexRefused, IndexUnavailable
from scripts.indexes.index_targets import Target
from scripts.indexes.simple_pages import FileLink, PackageIndexError
from scripts.indexes.waiting import NotThereYet

WHEEL = "demo_pkg-1.0-py3-none-any.whl"
SDIST = "demo_pkg-1.0.tar.gz"
SHA_A = "a" * 64
SHA_B = "b" * 64


# --- pure functions ---------------------------------------------------------------------------


NAMED = {
    "team": ("https://pkgs.example.org/team/+simple", "https://pkgs.example.org/team/"),
    "no-publish": ("https://pkgs.example.org/mirror/simple/", None),
    "ftp-publish": ("https://pkgs.example.org/mirror/simple/", "ftp://pkgs.example.org/up/"),
    "ftp-simple": ("ftp://pkgs.example.org/mirror/simple/", "https://pkgs.example.org/up/"),
}
NEEDS_HTTP = (
    "of [[tool.uv.index]] needs an http(s) `url` (its simple API) and `publish-url` "
    "(its upload URL)"
)


@pytest.mark.parametrize(
    ("spec", "local_url", "simple_url", "upload", "candidates"),
    [
        (" PyPI ", None, None, "https://upload.pypi.org/legacy/", ()),
        ("testpypi", None, None, "https://test.pypi.org/legacy/", ()),
        ("local", "http://127.0.0.1:8080//", None, "http://127.0.0.1:8080/",
         ("http://127.0.0.1:8080/simple/",)),
        ("local", "http://127.0.0.1:8080", "http://127.0.0.1:8080/other", "http://127.0.0.1:8080/",
         ("http://127.0.0.1:8080/other/",)),
        # Warehouse's layout first (legacy/ beside simple/), then simple/ and +simple/ below.
        ("https://pypi.example.org/mirror/legacy", None, None,
         "https://pypi.example.org/mirror/legacy/",
         ("https://pypi.example.org/mirror/simple/", "https://pypi.example.org/mirror/legacy/simple/",
          "https://pypi.example.org/mirror/legacy/+simple/")),
        ("http://127.0.0.1:9000", None, None, "http://127.0.0.1:9000/",
         ("http://127.0.0.1:9000/simple/", "http://127.0.0.1:9000/+simple/")),
        ("https://pkgs.example.org/api/pypi/team/", "http://127.0.0.1:1/",
         "https://pkgs.example.org/api/pypi/team/simple", "https://pkgs.example.org/api/pypi/team/",
         ("https://pkgs.example.org/api/pypi/team/simple/",)),
        ("team", None, None, "https://pkgs.example.org/team/",
         ("https://pkgs.example.org/team/+simple/",)),
        ("team", None, "https://elsewhere.example.org/simple/", "https://pkgs.example.org/team/",
         ("https://elsewhere.example.org/simple/",)),
    ],
)  # fmt: skip
def test_resolve_target(
    spec: str,
    local_url: str | None,
    simple_url: str | None,
    upload: str,
    candidates: tuple[str, ...],
) -> None:
    target = index_targets.resolve_target(
        spec, local_url=local_url, simple_url=simple_url, indexes=NAMED
    )
    assert (target.upload_url, target.candidates) == (upload, candidates)
    # Until it is checked, the simple API is the first candidate, or a known index's own.
    known = {"pypi": "https://pypi.org/simple/", "testpypi": "https://test.pypi.org/simple/"}
    assert target.simple_url == (candidates[0] if candidates else known[spec.strip().lower()])


def test_a_named_index_is_its_target_by_name() -> None:
    target = index_targets.resolve_target("team", indexes=NAMED)
    assert (target.name, target.upload_url) == ("team", "https://pkgs.example.org/team/")


def test_known_targets() -> None:
    assert index_targets.KNOWN_TARGETS["testpypi"] == Target(
        "testpypi", "https://test.pypi.org/legacy/", "https://test.pypi.org/simple/"
    )
    assert index_targets.KNOWN_TARGETS["pypi"] == Target(
        "pypi", "https://upload.pypi.org/legacy/", "https://pypi.org/simple/"
    )


def test_named_indexes_are_read_as_uv_reads_them(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[[tool.uv.index]]\nname = "team"\nurl = "https://h/team/+simple/"\n'
        'publish-url = "https://h/team/"\nexplicit = true\n\n'
        '[[tool.uv.index]]\nname = "mirror"\nurl = "https://h/simple/"\n',
        encoding="utf-8",
    )
    assert index_targets.named_indexes(pyproject) == {
        "team": ("https://h/team/+simple/", "https://h/team/"),
        "mirror": ("https://h/simple/", None),
    }
    assert index_targets.named_indexes(tmp_path / "missing.toml") == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[project]\nname = "x"\n', {}),
        ('[tool.ruff]\nline-length = 100\n', {}),
        ('[tool.uv]\nindex = ["not a table", {url = "https://h/"}, {name = "bare"}]\n',
         {"bare": ("", None)}),
    ],
    ids=["no-tool-table", "no-uv-table", "odd-entries"],
)  # fmt: skip
def test_named_indexes_in_pyprojects_without_them(
    tmp_path: Path, text: str, expected: dict[str, tuple[str, str | None]]
) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(text, encoding="utf-8")
    assert index_targets.named_indexes(pyproject) == expected


def test_the_target_arguments_of_publish_and_verify(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOCAL_INDEX_URL", "http://127.0.0.1:8080/")
    parser = argparse.ArgumentParser(prog="publish")
    index_targets.add_target_arguments(parser)
    args = parser.parse_args(["local"])
    assert (args.dist, args.local_url, args.simple_url) == (
        Path("dist"),
        "http://127.0.0.1:8080/",
        None,
    )
    assert index_targets.target_of(args).upload_url == "http://127.0.0.1:8080/"
    given = parser.parse_args(["https://pkgs.example.org/team/", "--simple-url",
                               "https://elsewhere.example.org/simple"])  # fmt: skip
    assert index_targets.target_of(given).candidates == ("https://elsewhere.example.org/simple/",)
    with pytest.raises(SystemExit):
        parser.parse_args(["--help"])
    shown = " ".join(capsys.readouterr().out.split())
    for text in (
        "the index: testpypi, pypi, local,",
        "--dist DIST default: dist",
        "--simple-url SIMPLE_URL the index's simple API (default: found beside or below the "
        "upload URL)",
    ):
        assert text in shown


FORMS = "expected testpypi, pypi, local, an index named in pyproject.toml's [[tool.uv.index]]"


@pytest.mark.parametrize(
    ("spec", "local_url", "simple_url", "message"),
    [
        ("", None, None, FORMS),
        ("test-pypi", None, None, "unknown index 'test-pypi'"),
        ("ftp://example.org/legacy/", None, None, FORMS),
        ("http://", None, None, FORMS),
        ("example.org/legacy/", None, None, FORMS),
        ("local", None, None, "the local index is not running: start it with "
         "`python -m scripts.indexes.local_index serve DIR` and pass its URL"),
        ("local", "", None, "the local index is not running: "),
        ("local", "127.0.0.1:8080", None, "the local index URL must be http(s)"),
        ("pypi", None, "https://pypi.org/simple/", "pypi has its own simple API"),
        ("http://127.0.0.1:9/", None, "127.0.0.1:9/simple", "the simple URL must be http(s)"),
        ("no-publish", None, None, f"index 'no-publish' {NEEDS_HTTP}"),
        ("ftp-publish", None, None, f"index 'ftp-publish' {NEEDS_HTTP}"),
        ("ftp-simple", None, None, f"index 'ftp-simple' {NEEDS_HTTP}"),
    ],
)  # fmt: skip
def test_resolve_target_refuses(
    spec: str, local_url: str | None, simple_url: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=r"^.*$") as caught:
        index_targets.resolve_target(
            spec, local_url=local_url, simple_url=simple_url, indexes=NAMED
        )
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("agentops-accelerator", "agentops-accelerator"),
        ("Agentops_Accelerator", "agentops-accelerator"),
        ("agentops.accelerator", "agentops-accelerator"),
        ("agentops--_.accelerator", "agentops-accelerator"),
        ("Django", "django"),
    ],
)
def test_normalize_project(name: str, expected: str) -> None:
    assert index.normalize_project(name) == expected


class Flaky:
    """A call that raises the given errors in turn, then returns "done"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


@pytest.mark.parametrize(
    ("failures", "attempts", "base", "cap", "delays"),
    [
        (0, 5, 0.5, 8.0, []),
        (1, 5, 0.5, 8.0, [0.5]),
        (4, 5, 0.5, 8.0, [0.5, 1.0, 2.0, 4.0]),
        (5, 6, 1.0, 3.0, [1.0, 2.0, 3.0, 3.0, 3.0]),
        (3, 4, 0.0, 8.0, [0.0, 0.0, 0.0]),
    ],
)
def test_retry_backs_off_then_succeeds(
    failures: int, attempts: int, base: float, cap: float, delays: list[float]
) -> None:
    slept: list[float] = []
    call = Flaky(*(OSError(f"failure {n}") for n in range(failures)))
    result = retrying.retry(
        call,
        attempts=attempts,
        base_delay=base,
        max_delay=cap,
        retry_on=(OSError,),
        sleep=slept.append,
    )
    assert result == "done"
    assert call.calls == failures + 1
    assert slept == delays


def test_retry_reraises_the_last_error_after_the_attempts() -> None:
    slept: list[float] = []
    errors = [TimeoutError(f"failure {n}") for n in range(5)]
    call = Flaky(*errors)
    with pytest.raises(TimeoutError) as caught:
        retrying.retry(call, attempts=3, retry_on=(OSError,), sleep=slept.append)
    assert caught.value is errors[2]
    assert call.calls == 3
    assert slept == [0.5, 1.0]


def test_retry_lets_other_errors_through_at_once() -> None:
    slept: list[float] = []
    call = Flaky(ValueError("not retried"), OSError("never reached"))
    with pytest.raises(ValueError, match="not retried"):
        retrying.retry(call, retry_on=(OSError,), sleep=slept.append)
    assert call.calls == 1
    assert slept == []


def test_retry_reports_each_wait_in_one_line() -> None:
    lines: list[str] = []
    call = Flaky(OSError("connection\nrefused"), OSError("reset"))
    retrying.retry(call, retry_on=(OSError,), sleep=lambda _: None, report=lines.append)
    assert lines == [
        "index not answering (connection refused); retry 2/5 in 0.5 s",
        "index not answering (reset); retry 3/5 in 1.0 s",
    ]


def test_retry_needs_an_attempt() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        retrying.retry(lambda: 1, attempts=0, retry_on=(OSError,))


BASE = "https://example.org/simple/demo-pkg/"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<html><body><h1>Links</h1></body></html>", {}),
        (
            f'<a href="/packages/{WHEEL}#sha256={SHA_A}">{WHEEL}</a><br>',
            {WHEEL: FileLink(WHEEL, f"https://example.org/packages/{WHEEL}", SHA_A)},
        ),
        (
            f'<a href="../../packages/{SDIST}#sha256={SHA_B.upper()}"> {SDIST}\n</a>',
            {SDIST: FileLink(SDIST, f"https://example.org/packages/{SDIST}", SHA_B)},
        ),
        (
            f'<a href="https://files.example.org/a/b/{WHEEL}#md5=0123" '
            f'data-requires-python="&gt;=3.11">{WHEEL}</a>',
            {WHEEL: FileLink(WHEEL, f"https://files.example.org/a/b/{WHEEL}", "")},
        ),
        (
            f'<a href="{SDIST}"></a><a name="top">no href</a><p>{WHEEL}</p>',
            {SDIST: FileLink(SDIST, f"{BASE}{SDIST}", "")},
        ),
        (
            f'<a href="/p/{WHEEL}#sha256={SHA_A}">{WHEEL}</a>\n'
            f'<a href="/p/{SDIST}#sha256={SHA_B}">{SDIST}</a>',
            {
                WHEEL: FileLink(WHEEL, f"https://example.org/p/{WHEEL}", SHA_A),
                SDIST: FileLink(SDIST, f"https://example.org/p/{SDIST}", SHA_B),
            },
        ),
        (
            # A download URL without the file's name (the anchor says it); a character reference.
            f'<a href="/download/12345#sha256={SHA_A}">demo&#95;pkg-1.0.tar.gz</a>',
            {SDIST: FileLink(SDIST, "https://example.org/download/12345", SHA_A)},
        ),
        (
            # Stray closing tags before and after, and a name split by a tag inside the anchor.
            f'</a><a href="/p/{WHEEL}#sha256={SHA_A}"><b>demo_pkg</b>-1.0-py3-none-any.whl</a>'
            " text </a>",
            {WHEEL: FileLink(WHEEL, f"https://example.org/p/{WHEEL}", SHA_A)},
        ),
        (
            # PEP 503's #<hashname>=<hashvalue>: the value is all after the first '=', even a
            # malformed one (which then matches no file's digest).
            f'<a href="/p/{WHEEL}#sha256={SHA_A}=x">{WHEEL}</a>',
            {WHEEL: FileLink(WHEEL, f"https://example.org/p/{WHEEL}", f"{SHA_A}=x")},
        ),
    ],
    ids=["empty", "absolute-path", "relative", "other-hash", "no-text", "two-files",
         "name-from-the-anchor", "stray-tags-and-a-split-name", "value-after-the-first-equals"],
)  # fmt: skip
def test_parse_simple_html(html: str, expected: dict[str, FileLink]) -> None:
    assert simple_pages.parse_simple_html(html, BASE) == expected


def json_page(*files: dict[str, object]) -> str:
    return json.dumps({"meta": {"api-version": "1.1"}, "name": "demo-pkg", "files": list(files)})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (json_page(), {}),
        (
            json_page(
                {"filename": WHEEL, "url": f"/packages/{WHEEL}", "hashes": {"sha256": SHA_A}}
            ),
            {WHEEL: FileLink(WHEEL, f"https://example.org/packages/{WHEEL}", SHA_A)},
        ),
        (
            json_page(
                {"filename": SDIST, "url": f"https://f.example.org/{SDIST}", "hashes": {"md5": "0"}}
            ),
            {SDIST: FileLink(SDIST, f"https://f.example.org/{SDIST}", "")},
        ),
        (
            json_page({"filename": SDIST, "url": SDIST, "hashes": {}}),
            {SDIST: FileLink(SDIST, f"{BASE}{SDIST}", "")},
        ),
        (
            json_page(
                {
                    "filename": SDIST,
                    "url": SDIST,
                    "hashes": {},
                    "upload-time": "2026-11-30T08:01:02.123456Z",
                }
            ),
            {SDIST: FileLink(SDIST, f"{BASE}{SDIST}", "", None, "2026-11-30T08:01:02.123456Z")},
        ),
        (
            json_page({"filename": SDIST, "url": SDIST, "hashes": {}, "upload-time": None}),
            {SDIST: FileLink(SDIST, f"{BASE}{SDIST}", "")},
        ),
    ],
    ids=["empty", "sha256", "md5-only", "relative", "upload-time", "upload-time-null"],
)
def test_parse_simple_json(text: str, expected: dict[str, FileLink]) -> None:
    assert simple_pages.parse_simple_json(text, BASE) == expected


@pytest.mark.parametrize(
    "text", ["<html>not json</html>", '{"name": "demo"}', '{"files": [{"url": "x"}]}', "[1]"]
)
def test_parse_simple_json_refuses_other_pages(text: str) -> None:
    with pytest.raises(PackageIndexError, match=f"^{BASE} is not a PEP 691 project page: "):
        simple_pages.parse_simple_json(text, BASE)


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        ("text/html", f'<a href="{WHEEL}#sha256={SHA_A}">{WHEEL}</a>'),
        (
            "application/vnd.pypi.simple.v1+json",
            json_page({"filename": WHEEL, "url": WHEEL, "hashes": {"sha256": SHA_A}}),
        ),
        (  # a server that says plain JSON
            "application/json",
            json_page({"filename": WHEEL, "url": WHEEL, "hashes": {"sha256": SHA_A}}),
        ),
    ],
)
def test_parse_listing_follows_the_content_type(content_type: str, text: str) -> None:
    assert simple_pages.parse_listing(text, content_type, BASE) == {
        WHEEL: FileLink(WHEEL, f"{BASE}{WHEEL}", SHA_A)
    }


JSON = "application/vnd.pypi.simple.v1+json"


@pytest.mark.parametrize(
    ("content_type", "text", "expected"),
    [
        (JSON, json_page(), ("active", "")),
        (JSON, json.dumps({"project-status": {"status": "archived"}}), ("archived", "")),
        (JSON, json.dumps({"project-status": {"status": "quarantined", "reason": "malware"}}),
         ("quarantined", "malware")),
        ("application/json", json.dumps({"project-status": {"status": "deprecated"}}),
         ("deprecated", "")),
        (JSON, json.dumps({"project-status": "archived"}), ("active", "")),  # not an object
        (JSON, "[1]", ("active", "")),
        (JSON, "not json", ("active", "")),
        ("text/html", "<html><head><title>x</title></head></html>", ("active", "")),
        ("text/html", '<head><meta name="pypi:project-status" content="archived"></head>',
         ("archived", "")),
        ("text/html", '<meta name="pypi:project-status" content="quarantined">'
         '<meta name="pypi:project-status-reason" content="under review">'
         '<meta name="pypi:project-status" content="active">', ("quarantined", "under review")),
        ("text/html", '<meta name="pypi:project-status">', ("active", "")),
        ("text/html", '<meta content="archived"><link name="pypi:project-status" content="x">',
         ("active", "")),
    ],
    ids=["json-none", "json-archived", "json-reason", "plain-json", "json-not-object",
         "json-list", "not-json", "html-none", "html-archived", "html-reason-first-wins",
         "html-no-content", "html-not-a-named-meta"],
)  # fmt: skip
def test_project_status_is_read_from_either_listing(
    content_type: str, text: str, expected: tuple[str, str]
) -> None:
    found = simple_pages.project_status(text, content_type)
    assert (found.status, found.reason) == expected


# --- a scripted index on 127.0.0.1 -----------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    # Announce more bytes than are sent, so the client's read breaks off mid-body.
    truncated: bool = False


@dataclass
class FakeIndex:
    """An HTTP server answering every GET with the next scripted Reply (the last one repeats)."""

    port: int = 0
    replies: list[Reply] = field(default_factory=lambda: [Reply(404)])
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def simple_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple/"

    def script(self, *replies: Reply) -> None:
        self.replies = list(replies)

    def answer(self, path: str, accept: str) -> Reply:
        with self.lock:
            self.requests.append((path, accept))
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


@pytest.fixture
def fake_index() -> Iterator[FakeIndex]:
    fake = FakeIndex()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            reply = fake.answer(self.path, self.headers.get("Accept", ""))
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            length = len(reply.body) + (100 if reply.truncated else 0)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def html_listing(*names: str) -> Reply:
    anchors = "".join(
        f'<a href="/packages/{name}#sha256={hashlib.sha256(name.encode()).hexdigest()}">{name}</a>'
        for name in names
    )
    return Reply(200, f"<html><body>{anchors}</body></html>".encode())


def sha(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def test_list_files_reads_an_html_page(fake_index: FakeIndex) -> None:
    fake_index.script(html_listing(WHEEL, SDIST))
    files = index.list_files(fake_index.simple_url, "Demo_Pkg")
    assert files == {WHEEL: sha(WHEEL), SDIST: sha(SDIST)}
    assert fake_index.requests == [
        ("/simple/demo-pkg/", "application/vnd.pypi.simple.v1+json, text/html;q=0.1")
    ]


def test_list_links_reads_a_json_page(fake_index: FakeIndex) -> None:
    page = json_page(
        {"filename": WHEEL, "url": f"../../files/{WHEEL}", "hashes": {"sha256": SHA_A}}
    )
    fake_index.script(Reply(200, page.encode(), "application/vnd.pypi.simple.v1+json"))
    links = index.list_links(fake_index.simple_url, "demo.pkg")
    assert links == {
        WHEEL: FileLink(WHEEL, f"http://127.0.0.1:{fake_index.port}/files/{WHEEL}", SHA_A)
    }


def test_a_missing_project_has_no_files(fake_index: FakeIndex) -> None:
    fake_index.script(Reply(404, b"Not Found"))
    slept: list[float] = []
    assert index.list_files(fake_index.simple_url, "demo-pkg", sleep=slept.append) == {}
    assert len(fake_index.requests) == 1
    assert slept == []


@pytest.mark.parametrize("status", [401, 403, 400, 410])
def test_a_refusal_is_not_retried(fake_index: FakeIndex, status: int) -> None:
    fake_index.script(Reply(status, b"go away"))
    slept: list[float] = []
    with pytest.raises(IndexRefused, match=f"/simple/demo-pkg/ refused: HTTP {status}"):
        index.list_files(fake_index.simple_url, "demo-pkg", sleep=slept.append)
    assert len(fake_index.requests) == 1
    assert slept == []


@pytest.mark.parametrize("status", [503, 502, 500, 429])
def test_server_errors_are_retried_until_the_index_recovers(
    fake_index: FakeIndex, status: int
) -> None:
    fake_index.script(Reply(status), Reply(status), html_listing(WHEEL))
    slept: list[float] = []
    lines: list[str] = []
    files = index.list_files(
        fake_index.simple_url, "demo-pkg", sleep=slept.append, report=lines.append
    )
    assert files == {WHEEL: sha(WHEEL)}
    assert len(fake_index.requests) == 3
    assert slept == [0.5, 1.0]
    assert lines[0].startswith(f"index not answering (HTTP {status} ")
    assert lines[1].endswith("; retry 3/5 in 1.0 s")


def test_a_page_cut_short_is_retried(fake_index: FakeIndex) -> None:
    fake_index.script(Reply(200, b"<html><a href=", truncated=True), html_listing(WHEEL))
    slept: list[float] = []
    assert index.list_files(fake_index.simple_url, "demo-pkg", sleep=slept.append) == {
        WHEEL: sha(WHEEL)
    }
    assert slept == [0.5]


def test_an_index_that_keeps_failing_is_unavailable(fake_index: FakeIndex) -> None:
    fake_index.script(Reply(503))
    slept: list[float] = []
    with pytest.raises(IndexUnavailable) as caught:
        index.list_files(fake_index.simple_url, "demo-pkg", attempts=4, sleep=slept.append)
    assert str(caught.value) == (
        f"index {fake_index.simple_url}demo-pkg/ not reachable after 4 attempts: "
        "HTTP 503 Service Unavailable"
    )
    assert len(fake_index.requests) == 4
    assert slept == [0.5, 1.0, 2.0]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_nothing_listening_is_unavailable() -> None:
    slept: list[float] = []
    url = f"http://127.0.0.1:{closed_port()}/simple/"
    with pytest.raises(IndexUnavailable, match=r"not reachable after 3 attempts: .*refused"):
        index.list_files(url, "demo-pkg", attempts=3, sleep=slept.append)
    assert slept == [0.5, 1.0]


def test_a_silent_index_times_out_and_is_unavailable() -> None:
    # Listening but never answering: the connection is made, the answer never comes.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/simple/"
        with pytest.raises(IndexUnavailable, match=r"not reachable after 2 attempts: .*timed out"):
            index.list_files(url, "demo-pkg", timeout=0.2, attempts=2, sleep=lambda _: None)


def test_download_writes_the_file_and_returns_its_sha256(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    payload = b"not really a wheel" * 1000
    fake_index.script(
        Reply(503), Reply(200, payload[:10], truncated=True), Reply(200, payload, "binary")
    )
    slept: list[float] = []
    dest = tmp_path / "dl" / WHEEL
    digest = index.download(
        f"http://127.0.0.1:{fake_index.port}/packages/{WHEEL}", dest, sleep=slept.append
    )
    assert digest == hashlib.sha256(payload).hexdigest()
    assert dest.read_bytes() == payload
    assert sorted(p.name for p in dest.parent.iterdir()) == [WHEEL]
    assert slept == [0.5, 1.0]
    assert fake_index.requests[-1][0] == f"/packages/{WHEEL}"


def test_a_failed_download_leaves_nothing(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.script(Reply(200, b"partial", truncated=True))
    dest = tmp_path / WHEEL
    with pytest.raises(IndexUnavailable, match="not downloadable after 2 attempts"):
        index.download(
            f"http://127.0.0.1:{fake_index.port}/x", dest, attempts=2, sleep=lambda _: None
        )
    assert list(tmp_path.iterdir()) == []


def test_a_missing_download_is_an_error_at_once(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.script(Reply(404))
    with pytest.raises(PackageIndexError, match="not found: HTTP 404") as caught:
        index.download(f"http://127.0.0.1:{fake_index.port}/x", tmp_path / WHEEL)
    assert not isinstance(caught.value, IndexUnavailable)
    assert len(fake_index.requests) == 1
    assert list(tmp_path.iterdir()) == []


def test_served_otherwise_names_each_file_not_served_with_its_bytes(
    fake_index: FakeIndex,
) -> None:
    fake_index.script(Reply(200, b"the bytes served", "binary"))
    unhashed = f"http://127.0.0.1:{fake_index.port}/packages/{SDIST}"
    links = {
        WHEEL: FileLink(WHEEL, "https://example.org/never-downloaded", SHA_A),
        SDIST: FileLink(SDIST, unhashed, ""),
        "other.whl": FileLink("other.whl", "https://example.org/never-downloaded", SHA_B),
    }
    served_sdist = hashlib.sha256(b"the bytes served").hexdigest()
    assert index.served_otherwise(links, {WHEEL: SHA_A, SDIST: served_sdist}) == {}
    assert index.served_otherwise(
        links, {WHEEL: SHA_B, SDIST: SHA_A, "other.whl": SHA_B, "gone.tar.gz": SHA_A}
    ) == {"gone.tar.gz": "", SDIST: served_sdist, WHEEL: SHA_A}
    # Only the file listed without a sha256 was downloaded, once per call.
    assert fake_index.requests == [(f"/packages/{SDIST}", "*/*")] * 2


class FakeClock:
    """A clock that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_for_files_returns_once_every_file_is_listed(fake_index: FakeIndex) -> None:
    fake_index.script(
        Reply(404), Reply(503), html_listing(SDIST), html_listing(SDIST, WHEEL, "other.whl")
    )
    clock = FakeClock()
    lines: list[str] = []
    links = waiting.wait_for_files(
        fake_index.simple_url,
        "demo-pkg",
        [WHEEL, SDIST],
        deadline=60,
        clock=clock,
        sleep=clock.sleep,
        report=lines.append,
    )
    base = f"http://127.0.0.1:{fake_index.port}/packages/"
    assert links == {
        WHEEL: FileLink(WHEEL, base + WHEEL, sha(WHEEL)),
        SDIST: FileLink(SDIST, base + SDIST, sha(SDIST)),
    }
    assert len(fake_index.requests) == 4
    assert clock.sleeps == [0.5, 1.0, 2.0]
    page = f"{fake_index.simple_url}demo-pkg/"
    assert lines[0] == (
        f"waiting for 2 file(s) on {page}: {WHEEL}, {SDIST}; next look in 0.5 s, 60 s left"
    )
    assert lines[1].startswith(f"index {page} not reachable after 1 attempt: HTTP 503")
    assert lines[2] == f"waiting for 1 file(s) on {page}: {WHEEL}; next look in 2.0 s, 58 s left"


def test_wait_for_files_gives_up_at_the_deadline(fake_index: FakeIndex) -> None:
    fake_index.script(html_listing(SDIST))
    clock = FakeClock()
    with pytest.raises(NotThereYet) as caught:
        waiting.wait_for_files(
            fake_index.simple_url,
            "demo-pkg",
            [SDIST, WHEEL],
            deadline=20,
            clock=clock,
            sleep=clock.sleep,
        )
    assert caught.value.missing == [WHEEL]
    assert str(caught.value) == (
        f"1 file(s) never appeared on {fake_index.simple_url}demo-pkg/ within 20 s: {WHEEL}"
    )
    assert clock.sleeps == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0, 3.0, 1.5]
    assert sum(clock.sleeps) <= 20
    assert len(fake_index.requests) == len(clock.sleeps) + 1


def test_wait_for_files_counts_an_unreachable_index_as_not_there() -> None:
    clock = FakeClock()
    url = f"http://127.0.0.1:{closed_port()}/simple/"
    with pytest.raises(NotThereYet, match=r"within 2 s: .* \(last poll: index .*refused"):
        waiting.wait_for_files(url, "demo-pkg", [WHEEL], deadline=2, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == [0.5, 1.0, 0.5]


def test_wait_for_files_stops_at_a_refusal(fake_index: FakeIndex) -> None:
    fake_index.script(Reply(403))
    clock = FakeClock()
    with pytest.raises(IndexRefused):
        waiting.wait_for_files(
            fake_index.simple_url, "demo-pkg", [WHEEL], clock=clock, sleep=clock.sleep
        )
    assert clock.sleeps == []
    assert len(fake_index.requests) == 1


# --- finding and checking the simple API ------------------------------------------------------

INDEX_ROOT = Reply(200, b"<!DOCTYPE html><html><body></body></html>")


def test_the_simple_api_is_found_at_the_first_layout_that_answers(fake_index: FakeIndex) -> None:
    fake_index.script(Reply(404), INDEX_ROOT)  # simple/ beside legacy/: 404; simple/ below: yes
    said: list[str] = []
    upload = f"http://127.0.0.1:{fake_index.port}/team/legacy/"
    target = index.locate_simple_api(index_targets.resolve_target(upload), report=said.append)
    assert target.simple_url == f"{upload}simple/"
    assert [path for path, _ in fake_index.requests] == ["/team/simple/", "/team/legacy/simple/"]
    assert said == [f"simple API of {upload}: {upload}simple/"]


def test_a_devpi_layout_is_found_below_the_upload_url(fake_index: FakeIndex) -> None:
    # devpi answers .../simple/ with a 415 JSON error and serves its API at .../+simple/.
    json_root = json.dumps({"meta": {"api-version": "1.1"}, "projects": []}).encode()
    fake_index.script(Reply(415, b"{}", "application/json"), Reply(200, json_root, index.JSON_TYPE))
    upload = f"http://127.0.0.1:{fake_index.port}/root/dev/"
    target = index.locate_simple_api(index_targets.resolve_target(upload))
    assert target.simple_url == f"{upload}+simple/"
    assert target.candidates == ()


@pytest.mark.parametrize(
    ("replies", "why"),
    [
        ([Reply(404)], "answers HTTP 404 Not Found"),
        ([Reply(200, b'{"type": "indexconfig"}', "application/json")],
         "answers application/json, not a simple API page (PEP 503 HTML or PEP 691 JSON)"),
        ([Reply(401)], "answers HTTP 401 Unauthorized"),
    ],
)  # fmt: skip
def test_no_simple_api_is_a_configuration_error_at_once(
    fake_index: FakeIndex, replies: list[Reply], why: str
) -> None:
    fake_index.script(*replies)
    upload = f"http://127.0.0.1:{fake_index.port}/up/"
    with pytest.raises(index.IndexMisconfigured) as caught:
        index.locate_simple_api(index_targets.resolve_target(upload))
    assert str(caught.value) == (
        f"no simple API for {upload}: {upload}simple/ {why}; {upload}+simple/ {why} "
        "(pass --simple-url)"
    )
    assert len(fake_index.requests) == 2  # each candidate asked once, never retried


def test_an_explicit_simple_url_that_is_no_index_names_it(fake_index: FakeIndex) -> None:
    fake_index.script(Reply(404))
    simple = f"http://127.0.0.1:{fake_index.port}/wrong/"
    target = index_targets.resolve_target("http://127.0.0.1:9/up/", simple_url=simple)
    with pytest.raises(index.IndexMisconfigured, match=r"^no simple API for .*") as caught:
        index.locate_simple_api(target)
    assert str(caught.value).endswith(f"{simple} answers HTTP 404 Not Found (check the simple URL)")


def test_an_unreachable_index_is_left_to_the_retries(fake_index: FakeIndex) -> None:
    upload = f"http://127.0.0.1:{closed_port()}/up/"
    target = index.locate_simple_api(index_targets.resolve_target(upload))
    assert (target.simple_url, target.candidates) == (f"{upload}simple/", ())


def test_a_known_index_is_never_probed() -> None:
    assert (
        index.locate_simple_api(index_targets.KNOWN_TARGETS["pypi"])
        is index_targets.KNOWN_TARGETS["pypi"]
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://h.example/repoX", "https://h.example/repoX/"),
        ("https://h.example/repoX//", "https://h.example/repoX/"),
    ],
)
def test_with_slash_ends_a_url_with_one_slash(url: str, expected: str) -> None:
    assert index_targets.with_slash(url) == expected


@pytest.mark.parametrize("upload", ["https://h.example/uploadX/", "https://h.example/legacy/X/"])
def test_the_candidates_of_an_upload_url_ending_in_x(upload: str) -> None:
    assert index_targets.simple_api_candidates(upload) == (f"{upload}simple/", f"{upload}+simple/")
