"""One-line aliases of the nox sessions, for those who type `invoke` out of habit."""

from __future__ import annotations

import shlex

from invoke.context import Context

from .steps import Refused, task


def _nox(c: Context, session: str, *args: str) -> None:
    extra = f" -- {shlex.join(args)}" if args else ""
    c.run(f"nox -s {session}{extra}", pty=False)


@task
def lint(c: Context) -> None:
    """Run `nox -s lint`."""
    _nox(c, "lint")


@task(help={"python": "one Python version, e.g. 3.12 (default: every supported one)"})
def test(c: Context, python: str = "") -> None:
    """Run `nox -s tests` (or `nox -s tests-PYTHON`)."""
    _nox(c, f"tests-{python}" if python else "tests")


@task
def coverage(c: Context) -> None:
    """Run `nox -s coverage`."""
    _nox(c, "coverage")


@task
def build(c: Context) -> None:
    """Run `nox -s build`."""
    _nox(c, "build")


@task(help={"target": "testpypi, pypi, local or an upload URL (required: where to upload)"})
def publish(c: Context, target: str = "") -> None:
    """Run `nox -s publish -- TARGET`."""
    if not target:
        raise Refused("say where to upload: --target testpypi, pypi, local or an upload URL")
    _nox(c, "publish", target)


@task(help={"target": "testpypi, pypi, local (default) or an index URL"})
def verify(c: Context, target: str = "local") -> None:
    """Run `nox -s verify -- TARGET`."""
    _nox(c, "verify", target)


@task
def rehearse(c: Context) -> None:
    """Run `nox -s rehearse`."""
    _nox(c, "rehearse")
