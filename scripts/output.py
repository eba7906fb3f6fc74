"""What the helpers print: command lines, one-line errors, a tool's last line, secrets masked."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping

# Variables whose values must never reach any output or log.
SECRET_VARIABLES = (
    "TWINE_PASSWORD",
    "TEST_PYPI_TOKEN",
    "PYPI_TOKEN",
    "LOCAL_INDEX_PASSWORD",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
)


def redact(text: str, environ: Mapping[str, str]) -> str:
    """TEXT with the value of every secret variable replaced by ***."""
    for name in SECRET_VARIABLES:
        secret = environ.get(name)
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def last_line(output: str) -> str:
    """The last non-blank line of a tool's OUTPUT, stripped ("no output" if there is none)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def command_line(module: str, doc: str | None) -> argparse.ArgumentParser:
    """The parser of `python -m MODULE` (the caller's `__spec__.name`: its dotted name, run with
    -m or imported), with DOC (its docstring) as written."""
    return argparse.ArgumentParser(
        prog=f"python -m {module}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def fail(message: str) -> int:
    """Print the one-line MESSAGE on stderr; the exit status of a command that failed."""
    print(message, file=sys.stderr)
    return 1
