"""Reading GitHub's answers from gh's structured output."""

from __future__ import annotations

import pytest

from tasks.gh import read_response


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        pytest.param('HTTP/2.0 200 OK\r\nContent-Type: application/json\r\n\r\n{"body": "x"}\n',
                     (200, {"body": "x"}), id="found"),
        pytest.param('HTTP/2.0 404 Not Found\r\nX-GitHub-Request-Id: 1\r\n\r\n{"message": "Not '
                     'Found", "status": "404"}\n', (404, {"message": "Not Found", "status": "404"}),
                     id="not-found"),
        pytest.param("HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n", (204, None), id="no-body"),
        pytest.param("HTTP/2.0 502 Bad Gateway\r\n\r\n<html>bad</html>", (502, None),
                     id="not-json"),
        pytest.param("HTTP/2.0 200 OK\n\n[1, 2]\n", (200, [1, 2]), id="plain-newlines"),
        pytest.param('{"body": "x"}\n', None, id="no-status-line"),
        pytest.param("error connecting to api.github.com\n", None, id="no-answer"),
        pytest.param("HTTP/2.0 OK\r\n\r\n{}", None, id="no-status-code"),
    ],
)  # fmt: skip
def test_read_response(output: str, expected: tuple[int, object] | None) -> None:
    assert read_response(output) == expected
