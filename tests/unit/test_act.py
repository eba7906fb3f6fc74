"""The act runner: the job results of a log, the stand-ins, the host environment, a timed run."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from tasks import act

SHA_A = "a" * 40
SHA_B = "b" * 40


def test_job_results_reads_every_finished_cell(tmp_path: Path) -> None:
    log = tmp_path / "act.log"
    entries = [
        {"jobID": "tests", "jobResult": "success", "matrix": {"python": "3.11"}},
        {"jobID": "tests", "msg": "a step, not a result"},
        {"jobID": "tests", "jobResult": "failure", "matrix": {"python": "3.12"}},
        {"jobID": "lint", "jobResult": "success"},
    ]
    log.write_text("\n".join([*map(json.dumps, entries), "not json at all"]), encoding="utf-8")
    results, matrices = act.job_results(log)
    assert results == {"tests": ["success", "failure"], "lint": ["success"]}
    assert matrices == {"tests": [{"python": "3.11"}, {"python": "3.12"}], "lint": [{}]}


def test_every_pinned_action_needs_its_stand_in(tmp_path: Path) -> None:
    (tmp_path / "actions" / "checkout").mkdir(parents=True)
    (tmp_path / "actions" / "checkout" / "action.yml").write_text("name: stand-in\n")
    folder = tmp_path / "actions" / "checkout"
    pins = {"actions/checkout": {SHA_B, SHA_A}}
    assert act.local_repositories(pins, tmp_path) == [
        "--local-repository", f"actions/checkout@{SHA_A}={folder}",
        "--local-repository", f"actions/checkout@{SHA_B}={folder}",
    ]  # fmt: skip
    with pytest.raises(act.ActError, match=r"^no stand-in for actions/cache: expected .*"):
        act.local_repositories({"actions/cache": {SHA_A}}, tmp_path)


def test_the_host_environment_keeps_nothing_that_would_leak(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr\n")
    checkout = tmp_path / "checkout"
    (checkout / "tools").mkdir(parents=True)
    environ = {
        "PATH": f"{venv / 'bin'}:{checkout / 'tools'}:/usr/bin",
        "HOME": "/root",
        "TWINE_PASSWORD": "secret",
        "GITHUB_TOKEN": "secret",
        "VIRTUAL_ENV": str(venv),
        "CI": "true",
    }
    assert act.host_environment(checkout, environ) == {"PATH": "/usr/bin", "HOME": "/root"}


def test_a_shown_command_hides_secret_values() -> None:
    command = ["act", "--env", "TWINE_PASSWORD=hunter2", "--env", "TWINE_USERNAME=me"]
    assert act.shown_command(command) == ("act --env TWINE_PASSWORD=*** --env TWINE_USERNAME=me")


FAKE_ACT = """
import json, sys, time
print(json.dumps({"jobID": "build", "msg": "Run step"}), flush=True)
print("a line that is not JSON", flush=True)
print(json.dumps({"jobID": "build", "jobResult": "success"}), flush=True)
if sys.argv[1:] == ["hang"]:
    time.sleep(60)
"""


@pytest.mark.posix  # act runs in its own process group
def test_run_act_hands_on_each_entry_as_it_comes_and_reads_the_results(tmp_path: Path) -> None:
    seen: list[dict[str, object]] = []
    run = act.run_act(
        [sys.executable, "-c", FAKE_ACT],
        cwd=tmp_path,
        env=dict(os.environ),
        log=tmp_path / "act.log",
        on_entry=seen.append,
    )
    assert run.returncode == 0
    assert seen == [
        {"jobID": "build", "msg": "Run step"},
        {"jobID": "build", "jobResult": "success"},
    ]
    assert run.results == {"build": ["success"]}
    assert "a line that is not JSON" in (tmp_path / "act.log").read_text()


@pytest.mark.posix
def test_run_act_stops_a_run_that_outlives_its_timeout(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(act.ActError, match=r"did not finish in 0\.5 s"):
        act.run_act(
            [sys.executable, "-c", FAKE_ACT, "hang"],
            cwd=tmp_path,
            env=dict(os.environ),
            log=tmp_path / "act.log",
            timeout=0.5,
        )
    assert time.monotonic() - started < 10
