"""Every command the documents show names a real nox session or tag, or invoke task and option."""

from __future__ import annotations

import functools
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

DOCUMENTS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]
CODE = re.compile(r"```[^\n]*\n(.*?)```|`([^`\n]+)`", re.DOTALL)
NOX = re.compile(r"\bnox\s+(-s|--session|-t|--tags)\s+([\w.\-]+)")
INVOKE = re.compile(r"\binvoke\s+([a-z][\w-]*)([^\n`|;&]*)")


def code_lines(path: Path) -> list[str]:
    """The lines of PATH's code blocks and inline code spans."""
    text = path.read_text(encoding="utf-8")
    lines = []
    for match in CODE.finditer(text):
        lines.extend((match.group(1) or match.group(2)).splitlines())
    return lines


def documented(pattern: re.Pattern[str]) -> list[tuple[str, tuple[str, ...]]]:
    """(document, match groups) for every PATTERN match in every document's code, each once."""
    found = []
    for path in DOCUMENTS:
        for line in code_lines(path):
            found.extend((path.name, m.groups()) for m in pattern.finditer(line))
    return list(dict.fromkeys(found))  # a command a document shows twice is one row


@functools.cache
def nox_sessions() -> tuple[dict[str, object], ...]:
    """Every session the noxfile declares (one nox run for the whole module)."""
    # The JSON listing holds only what is selected; a keyword every name passes selects all,
    # the sessions marked default=False among them.
    result = subprocess.run(
        [sys.executable, "-m", "nox", "--list", "--json", "-k", "not no_such_session_name"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return tuple(json.loads(result.stdout))


def nox_selects(flag: str, name: str) -> bool:
    """Whether `nox FLAG NAME` selects at least one session: by its name, or by a tag."""
    if flag in ("-t", "--tags"):
        return any(name in session["tags"] for session in nox_sessions())  # type: ignore[operator]
    return any(name in (session["session"], session["name"]) for session in nox_sessions())


@functools.cache
def invoke_flags() -> dict[str, frozenset[str]]:
    """Every invoke task name and alias -> the flags its command line takes, as invoke parses."""
    from tasks import ns

    flags = {}
    for context in ns.to_contexts():
        taken = frozenset([*context.flags, *context.inverse_flags])
        for name in (context.name, *context.aliases):
            flags[name] = taken
    return flags


def test_the_documents_show_commands() -> None:
    assert len(documented(NOX)) > 20
    assert len(documented(INVOKE)) > 15


@pytest.mark.parametrize(
    ("document", "groups"), documented(NOX), ids=lambda v: v if isinstance(v, str) else " ".join(v)
)
def test_every_nox_command_names_a_real_session_or_tag(
    document: str, groups: tuple[str, str]
) -> None:
    flag, name = groups
    assert nox_selects(flag, name), f"{document}: `nox {flag} {name}` selects no session"


@pytest.mark.parametrize(
    ("document", "groups"),
    documented(INVOKE),
    ids=lambda v: v if isinstance(v, str) else " ".join(v).strip(),
)
def test_every_invoke_command_names_a_real_task_and_options(
    document: str, groups: tuple[str, str]
) -> None:
    name, rest = groups
    assert name in invoke_flags(), f"{document}: `invoke {name}` is not a task"
    options = [word.split("=")[0] for word in shlex.split(rest) if word.startswith("--")]
    for option in options:
        assert option in invoke_flags()[name], f"{document}: `invoke {name}` has no option {option}"


def test_a_wrong_name_would_be_caught() -> None:
    assert not nox_selects("-s", "no-such-session")
    assert not nox_selects("-t", "no-such-tag")
    assert not nox_selects("-t", "tests-3.11")  # a session name is not a tag
    assert "no-such-task" not in invoke_flags()
    assert "--dry-run" in invoke_flags()["tag"]
    assert "--no-such-option" not in invoke_flags()["tag"]
