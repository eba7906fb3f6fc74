"""What every task shares: refusing with one line, running steps, and undoing them on failure.

A task raises `Refused("...")` for any precondition that does not hold; the `task` decorator
turns it into `TASK-NAME: error: ...` and exit code 1, so no helper needs the task's name.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import shlex
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.runners import Local
from invoke.tasks import Task
from invoke.tasks import task as invoke_task

from scripts import gitops
from scripts.output import last_line
from scripts.versioning import versions

REMOTE = "origin"
MAIN = "main"
DEVELOP = "develop"
CHANGELOG = "CHANGELOG.md"
HELP_FLAGS = ("-h", "--help")
# The VERSION word that asks for the release that comes next (cut-release, rehearse-release).
NEXT = "next"


class Refused(Exception):
    """A precondition does not hold, or a step failed: the task stops with this one line."""


class StepFailed(Exception):
    """A command that changes something failed."""


class ReleaseTask(Task[Any]):
    """An invoke task whose `Refused` becomes `NAME: error: MESSAGE` and exit code 1."""

    def arg_opts(self, name: str, default: str, taken_names: set[str]) -> dict[str, Any]:
        # `-h` is help, for every task: no option gets it as its short flag (--hotfix would).
        return super().arg_opts(name, default, {*taken_names, "h"})

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        name = self.name.replace("_", "-")
        if any(value in HELP_FLAGS for value in [*args[1:], *kwargs.values()]):
            # invoke fills a positional argument with the next word, `-h` too: it still means
            # help, never a value.
            shown = subprocess.run(
                [sys.executable, "-m", "invoke", "--help", name], check=False, text=True
            )
            raise Exit(code=shown.returncode)
        try:
            return super().__call__(*args, **kwargs)
        except Refused as refusal:
            raise Exit(f"{self.name.replace('_', '-')}: error: {refusal}", code=1) from None


task = functools.partial(invoke_task, klass=ReleaseTask)


class ClosingLocal(Local):
    """invoke's runner for `c.run`, closing the command's pipes when it ends: invoke leaves them
    to the garbage collector (pyinvoke/invoke#665), so a long-lived process leaks them. Chosen by
    invoke's documented `runners.local` setting."""

    def stop(self) -> None:
        super().stop()
        process = getattr(self, "process", None)  # none when nothing was started (a dry run)
        for stream in (process.stdin, process.stdout, process.stderr) if process else ():
            if stream is not None:
                stream.close()


def repository() -> Path:
    """The root of the git repository of the working directory: the one every task acts on."""
    try:
        return gitops.toplevel()
    except gitops.GitError:
        raise Refused(f"{Path.cwd()} is not in a git repository") from None


def parse_release(text: str) -> versions.Release:
    """The release VERSION names, or refuse with the parser's message."""
    try:
        return versions.Release.parse(text)
    except versions.VersionError as error:
        raise Refused(str(error)) from None


def final_release(text: str) -> versions.Release:
    """The final release TEXT names; refuse a pre-release, which only `invoke tag` takes."""
    release = parse_release(text)
    if release.kind != "final":
        raise Refused(
            f"this task takes the final X.Y.Z ({release.final}); a pre-release is tagged on "
            f"{release.branch}: `invoke tag {release}`"
        )
    return release


def shown(argv: Iterable[str]) -> str:
    """ARGV for a one-line message: multi-line or long arguments (a PR body) shown as `...`."""
    return shlex.join(arg if "\n" not in arg and len(arg) <= 80 else "..." for arg in argv)


def run(c: Context, argv: Iterable[str], *, dry_run: bool) -> str:
    """Run one command that changes something (printed first; only printed with --dry-run)."""
    argv = list(argv)
    result = c.run(shlex.join(argv), dry=dry_run, echo=True, warn=True, hide="both", pty=False)
    if result is None or not result.ok:
        output = (result.stderr or result.stdout) if result is not None else ""
        raise StepFailed(f"`{shown(argv)}` failed: {last_line(output)}")
    return str(result.stdout)


def quietly(c: Context, argv: list[str]) -> bool:
    """Run a command whose failure is reported by the caller, not raised; True if it worked."""
    result = c.run(shlex.join(argv), warn=True, hide="both", pty=False)
    return result is not None and result.ok


def switch_back() -> list[str]:
    """The command that returns to where HEAD is now: its branch, or the commit if detached."""
    branch = gitops.current_branch()
    return ["git", "switch", branch] if branch else ["git", "switch", "--detach", gitops.head()]


def failure(error: BaseException) -> str:
    """What stopped a task, in words (Ctrl-C has none of its own)."""
    return "interrupted" if isinstance(error, KeyboardInterrupt) else str(error)


@dataclass
class Undo:
    """What a task has done so far, to be undone in reverse order if a later step fails."""

    c: Context
    local: list[list[list[str]]] = field(default_factory=list)
    remote: list[tuple[str, list[str]]] = field(default_factory=list)

    def add(self, *commands: list[str]) -> None:
        """Remember the commands that undo a local change, in the order to run them."""
        self.local.append(list(commands))

    def add_remote(self, description: str, command: list[str]) -> None:
        """Remember something that reached origin, and the command that takes it back."""
        self.remote.append((description, command))

    def rollback(self) -> str:
        """Undo everything; return one sentence about origin and anything left to do by hand."""
        notes = []
        for description, command in reversed(self.remote):
            if quietly(self.c, command):
                notes.append(f"{description} reached origin and was removed again")
            else:
                notes.append(f"{description} is still on origin: run `{shlex.join(command)}`")
        for commands in reversed(self.local):
            for command in commands:
                quietly(self.c, command)
        if not notes:
            return "nothing reached origin; local changes were undone"
        return "; ".join(notes) + "; local changes were undone"


@contextlib.contextmanager
def undone_on_failure(c: Context) -> Iterator[Undo]:
    """An Undo for the steps run inside: when one fails (or Ctrl-C), everything done is undone
    and the task refused, the message saying what had reached origin."""
    undo = Undo(c)
    try:
        yield undo
    except (StepFailed, OSError, KeyboardInterrupt) as error:
        raise Refused(f"{failure(error)}; {undo.rollback()}") from None


def today() -> datetime.date:
    """Today in UTC: the date a release section gets."""
    return datetime.datetime.now(tz=datetime.UTC).date()
