"""Asking GitHub through the gh found on PATH, from its structured output only: `gh api
--include`, the HTTP status and JSON body of GitHub's answer, never gh's wording."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass

from scripts.output import last_line

TIMEOUT = 5.0  # seconds, for each question


@dataclass(frozen=True)
class Answer:
    """GitHub's answer to one `gh api` GET: its HTTP status and JSON body; status None (and
    why) when gh got no answer at all."""

    status: int | None
    body: object
    why: str = ""


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str] | str:
    """gh ARGS run to its end, or why it could not be."""
    if shutil.which("gh") is None:
        return "gh is not installed"
    try:
        return subprocess.run(
            ["gh", *args], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return f"gh did not answer within {timeout:.0f} s"


def read_response(output: str) -> tuple[int, object] | None:
    """The HTTP status and JSON body of `gh api --include` OUTPUT (a status line such as
    `HTTP/2.0 404 Not Found`, headers, a blank line, the body); None when it is not one."""
    head, _, body = output.replace("\r\n", "\n").partition("\n\n")
    words = head.split("\n", 1)[0].split()
    if len(words) < 2 or not words[0].startswith("HTTP/") or not words[1].isdigit():
        return None
    try:
        return int(words[1]), json.loads(body) if body.strip() else None
    except json.JSONDecodeError:
        return int(words[1]), None


def gh_api(endpoint: str, *, timeout: float = TIMEOUT) -> Answer:
    """GitHub's answer to GET ENDPOINT (`{owner}/{repo}` is the repository gh sees here)."""
    result = _run(["api", "--include", endpoint], timeout)
    if isinstance(result, str):
        return Answer(None, None, result)
    response = read_response(result.stdout)
    if response is not None:
        return Answer(*response)
    if result.returncode == 0 and not result.stdout.strip():
        return Answer(None, None, "gh answered nothing")
    return Answer(None, None, f"gh: {last_line(result.stderr or result.stdout)}")


def release_endpoint(tag: str) -> str:
    """The REST endpoint of the GitHub Release of TAG in the repository here."""
    return f"repos/{{owner}}/{{repo}}/releases/tags/{tag}"
