"""Every task that changes git or GitHub, and one-line aliases of the nox sessions.

`invoke --list` is the menu. Tasks that change something take --dry-run, which prints the exact
commands instead of running them.
"""

from __future__ import annotations

from invoke.context import Context
from invoke.tasks import task


def _nox(c: Context, session: str, *args: str) -> None:
    extra = f" -- {' '.join(args)}" if args else ""
    c.run(f"nox -s {session}{extra}", pty=False)


@task
def lint(c: Context) -> None:
    """Run `nox -s lint`."""
    _nox(c, "lint")


@task(help={"python": "one Python version, e.g. 3.12 (default: all)"})
def test(c: Context, python: str = "") -> None:
    """Run `nox -s tests` (or `tests-PYTHON`)."""
    _nox(c, f"tests-{python}" if python else "tests")


@task
def coverage(c: Context) -> None:
    """Run `nox -s coverage`."""
    _nox(c, "coverage")


@task
def build(c: Context) -> None:
    """Run `nox -s build`."""
    _nox(c, "build")


@task
def rehearse(c: Context) -> None:
    """Run `nox -s rehearse`."""
    _nox(c, "rehearse")
