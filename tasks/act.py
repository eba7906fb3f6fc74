"""Run the project's workflow jobs with act on this host, offline.

Every job runs on the host (`-P ubuntu-latest=-self-hosted`), every action the workflows pin is
replaced by a local stand-in from scripts/stand-ins (`--local-repository OWNER/REPO@SHA=FOLDER`),
and nothing is fetched from GitHub: the project's own run steps execute for real. The tests and
`invoke rehearse-release` share this runner.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts import processes, workflows
from scripts.output import SECRET_VARIABLES

ACT_TIMEOUT = 600.0  # seconds for one act run: a hung job ends the run, never the caller
STAND_INS = Path(__file__).resolve().parents[1] / "scripts" / "stand-ins"  # one per pinned action
STAND_IN_BIN = STAND_INS / "bin"  # first on PATH where a test still runs the recording `gh`
INSIDE_ACT = "AGENTOPS_INSIDE_ACT"  # given to every job: the act tests skip themselves inside


class ActError(Exception):
    """act could not run or did not finish; the message says why, in one line."""


@dataclass
class ActRun:
    """One act run: its exit code, each job's result and the log."""

    command: list[str]
    returncode: int
    seconds: float
    results: dict[str, list[str]]  # job id -> results (one per matrix cell)
    matrices: dict[str, list[dict[str, str]]]  # job id -> matrix of each finished cell
    log: Path

    def explain(self) -> str:
        """The command (secrets hidden), the exit code and the end of the log."""
        messages = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                messages.append(line)
                continue
            text = str(entry.get("msg", "")).rstrip()
            if not entry.get("raw_output"):
                text = text.split("\n", 1)[0]  # a step's header: its first line is enough
            messages.append(f"[{entry.get('jobID', '')}] {text}")
        tail = "\n".join(messages[-80:])
        return f"{shown_command(self.command)}\nexit {self.returncode}; log {self.log}\n{tail}"


def shown_command(command: Sequence[str]) -> str:
    """COMMAND as a line to print: `--env TWINE_PASSWORD=...` and the like show `NAME=***`."""
    return " ".join(
        f"{word.partition('=')[0]}=***" if word.partition("=")[0] in SECRET_VARIABLES else word
        for word in command
    )


def host_environment(root: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """ENVIRON (default: this process's) less what would leak into the jobs: virtual
    environments, CI settings, secrets, and the tools of the checkout at ROOT."""
    env = processes.fresh_environment(os.environ if environ is None else environ)
    kept = []
    for part in env.get("PATH", "").split(os.pathsep):
        folder = Path(part)
        if not part or (folder.parent / "pyvenv.cfg").exists():
            continue  # a virtual environment's bin: the jobs make their own
        if folder.resolve().is_relative_to(root.resolve()):
            continue  # this checkout's tools: the jobs use their own copy's
        kept.append(part)
    env["PATH"] = os.pathsep.join(kept)
    return env


def local_repositories(pins: Mapping[str, Iterable[str]], stand_ins: Path) -> list[str]:
    """`--local-repository OWNER/REPO@SHA=STAND_INS/OWNER/REPO` for every pinned action."""
    options = []
    for action, shas in sorted(pins.items()):
        folder = stand_ins / action
        if not (folder / "action.yml").is_file():
            raise ActError(f"no stand-in for {action}: expected {folder / 'action.yml'}")
        for sha in sorted(shas):
            options += ["--local-repository", f"{action}@{sha}={folder}"]
    return options


@dataclass(frozen=True)
class ActScratch:
    """What the act runs of one rehearsal or test share: a folder for the tool links, the
    artifacts the jobs hand on, act's action cache, and the repository checkouts clone."""

    folder: Path
    repository: Path  # what the checkout stand-in clones when act does not copy the project
    env_file: Path | None = None  # variables every job gets (credentials stay off the command)

    def command(self, project: Path, event: str, workflow: str, *options: str) -> list[str]:
        """`act EVENT -W .github/workflows/WORKFLOW OPTIONS` for PROJECT, offline, on the host."""
        tool, uv = processes.find_tool("act"), processes.find_tool("uv")
        if tool is None or uv is None:
            raise ActError("act and uv are needed: install the test dependency group")
        tools = self.folder / "tools"  # what setup-uv's stand-in puts on PATH: uv alone
        tools.mkdir(parents=True, exist_ok=True)
        if not (tools / "uv").exists():
            (tools / "uv").symlink_to(uv)
        empty = self.folder / "empty"
        empty.touch()
        (self.folder / "artifacts").mkdir(exist_ok=True)
        # The jobs' temporary files (pytest's, verify's environments) go with this folder.
        (self.folder / "tmp").mkdir(exist_ok=True)
        return [
            tool, event, "-W", f".github/workflows/{workflow}",
            "-P", "ubuntu-latest=-self-hosted",
            *local_repositories(workflows.pinned_actions(project), STAND_INS),
            "--pull=false", "--action-offline-mode", "--no-cache-server",
            "--action-cache-path", str(self.folder / "act-cache"),
            "--actor", "act-e2e",
            # Nothing from the caller's .env, .secrets, .vars or .input files.
            "--env-file", str(self.env_file or empty), "--secret-file", str(empty),
            "--var-file", str(empty), "--input-file", str(empty),
            "--env", f"{INSIDE_ACT}=1",
            "--env", f"ACT_STANDIN_TOOLS={tools}",
            "--env", f"ACT_STANDIN_ARTIFACTS={self.folder / 'artifacts'}",
            "--env", f"ACT_STANDIN_REPOSITORY={self.repository}",
            "--env", f"TMPDIR={self.folder / 'tmp'}",
            "--json",
            *options,
        ]  # fmt: skip


def job_results(log: Path) -> tuple[dict[str, list[str]], dict[str, list[dict[str, str]]]]:
    """From act's --json LOG: job id -> results, and job id -> the matrix of each cell."""
    results: dict[str, list[str]] = {}
    matrices: dict[str, list[dict[str, str]]] = {}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        entry = _entry(line)
        if entry is not None and "jobResult" in entry:
            results.setdefault(entry["jobID"], []).append(entry["jobResult"])
            matrices.setdefault(entry["jobID"], []).append(entry.get("matrix") or {})
    return results, matrices


def run_act(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    log: Path,
    timeout: float = ACT_TIMEOUT,
    on_entry: Callable[[dict[str, Any]], None] | None = None,
) -> ActRun:
    """Run the act COMMAND in CWD, its output (--json) into LOG; ActError if it never ends.

    ON_ENTRY sees each log entry as it comes (a job starting, a step, a job's result). Ctrl-C or
    any error on the way stops act and every job it started before it goes on.
    """
    started = time.monotonic()
    timed_out = threading.Event()
    with log.open("w", encoding="utf-8") as output:
        # Its own process group, so stopping it stops every job it started.
        process = processes.start(
            command, cwd=cwd, env=env, output=subprocess.PIPE, own_group=True, text=True
        )

        def stop_when_late() -> None:
            timed_out.set()
            processes.stop(process)

        watchdog = threading.Timer(timeout, stop_when_late)
        watchdog.start()
        try:
            assert process.stdout is not None
            for line in process.stdout:
                output.write(line)
                output.flush()
                entry = _entry(line)
                if on_entry is not None and entry is not None:
                    on_entry(entry)
            returncode = process.wait()
        finally:
            watchdog.cancel()
            processes.stop(process)
            if process.stdout is not None:
                process.stdout.close()
    if timed_out.is_set():
        raise ActError(f"act did not finish in {timeout:g} s; log {log}")
    results, matrices = job_results(log)
    return ActRun(list(command), returncode, time.monotonic() - started, results, matrices, log)


def _entry(line: str) -> dict[str, Any] | None:
    try:
        entry = json.loads(line)
    except json.JSONDecodeError:
        return None
    return entry if isinstance(entry, dict) else None
