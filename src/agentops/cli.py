"""The `agentops` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agentops import __version__

app = typer.Typer(
    name="agentops",
    help="Set up and run evaluation workspaces for AI agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"agentops {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the installed version and exit.",
        ),
    ] = False,
) -> None:
    """Set up and run evaluation workspaces for AI agents."""


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"agentops: error: {message}", err=True)
    return typer.Exit(code)


@app.command()
def init(
    directory: Annotated[
        Path, typer.Argument(help="Where to create the workspace (default: here).")
    ] = Path(),
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace differing files; their old content is kept as *.bak."
        ),
    ] = False,
) -> None:
    """Create the .agentops/ workspace: config.yaml, a smoke dataset and a .gitignore."""
    # Here, not at the top: pydantic and ruamel.yaml would double the start-up of every other
    # command (`agentops --version` 0.19 s -> 0.09 s).
    from agentops.workspace import WORKSPACE_DIR, WorkspaceError, init_workspace

    try:
        report = init_workspace(directory, force=force)
    except WorkspaceError as error:
        raise _fail(str(error), 2) from None
    if report.conflicts:
        names = ", ".join(str(directory / path) for path in report.conflicts)
        verb = "exists" if len(report.conflicts) == 1 else "exist"
        raise _fail(f"{names} already {verb} with other content; use --force to replace", 1)
    for path in report.created:
        typer.echo(f"created  {directory / path}")
    for path, backup in report.replaced:
        typer.echo(f"replaced {directory / path} (old content kept in {directory / backup})")
    if not report.created and not report.replaced:
        typer.echo(f"{directory / WORKSPACE_DIR} is already initialised; nothing changed")


def main() -> None:
    """Run the command line (the `agentops` console script)."""
    app()
