"""The benchmark's pure parts: reading nox's log, medians, ratios, targets and the report rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks.commands import (
    README_TEST_COMMAND,
    forget,
    logged_command,
    logged_commands,
    rehearsal_table,
    session_steps,
    session_times,
    step_name,
)
from benchmarks.model import Bench, BenchError, Contender, Group, Results, Run, Sample
from benchmarks.report import (
    met,
    parts_table,
    ratio_of,
    ratio_text,
    steps_ratio,
    table_row,
    target_text,
)
from benchmarks.rounds import run_rounds
from tests.helpers import ROOT


def nothing(*_: object) -> Sample:
    raise AssertionError("the report never measures")


def contender(key: str, versus: str | None = None, **target: float) -> Contender:
    return Contender(key, f"the {key} row", nothing, versus, **target)


def results(**samples: list[float]) -> Results:
    found = Results(rounds=3)
    for key, seconds in samples.items():
        found.samples[key] = [Sample(s) for s in seconds]
    return found


@pytest.mark.parametrize(
    ("text", "name"),
    [
        pytest.param("Running session tests-3.11", "nox: start the session", id="running"),
        pytest.param(
            "Re-using existing virtual environment", "nox: re-using the environment", id="reuse"
        ),
        pytest.param("Session tests-3.11 was successful", "nox: report and exit", id="session"),
        pytest.param("/x/.nox/lint/bin/python -m mypy src", "python -m mypy", id="module"),
        pytest.param("uv sync --locked --quiet", "uv sync", id="subcommand"),
        pytest.param("pytest -q tests/unit", "pytest", id="options-only"),
        pytest.param("", "output", id="empty"),
    ],
)
def test_step_name(text: str, name: str) -> None:
    assert step_name(text) == name


def test_session_steps_split_the_wall_time_at_each_nox_line() -> None:
    run = Run(
        5.0,
        0,
        [
            (1.0, "nox > Running session lint"),
            (1.5, "nox > ruff check ."),
            (2.0, "All checks passed!"),
            (3.0, "nox > ruff format --check ."),
            (4.5, "nox > Session lint was successful"),
        ],
    )
    assert session_steps(run) == {
        "nox: start-up, load noxfile": 1.0,
        "nox: start the session": 0.5,
        "ruff check": 1.5,
        "ruff format": 1.5,
        "nox: report and exit": 0.5,
    }


@pytest.mark.parametrize(
    ("lines", "table"),
    [
        pytest.param(
            ["nox > build", "nox > rehearsal passed:", "nox >   build  3.25 s",
             "nox >   verify 1.5 s", "nox > total 4.75 s", "nox > note: not a row"],
            {"build": 3.25, "verify": 1.5, "total": 4.75},
            id="rows-after-the-marker",
        ),
        pytest.param(["nox >   build  3.25 s"], {}, id="no-marker"),
        pytest.param(["nox > rehearsal passed:", "nox > build many s"], {}, id="not-a-number"),
    ],
)  # fmt: skip
def test_rehearsal_table(lines: list[str], table: dict[str, float]) -> None:
    assert rehearsal_table(Run(1.0, 0, [(0.0, line) for line in lines])) == table


def test_logged_command() -> None:
    run = Run(1.0, 0, [(0.0, "nox > pytest -n 2 'tests/a b.py'"), (0.1, "nox > pytest -x")])
    assert logged_command(run, "pytest") == ["pytest", "-n", "2", "tests/a b.py"]
    with pytest.raises(BenchError, match="nox never logged a `python -m build` command"):
        logged_command(run, "python -m build")


def test_logged_commands_keeps_the_named_tools_in_order() -> None:
    lines = [
        "nox > uv sync --locked --quiet",
        "nox > ruff check .",
        "All checks passed!",
        "nox > mypy",
        "nox > check-jsonschema '--builtin-schema=vendor.github-workflows' a.yml",
        "nox > ruff format --check .",
    ]
    run = Run(1.0, 0, [(0.0, line) for line in lines])
    assert logged_commands(run, ("ruff", "mypy", "check-jsonschema")) == [
        ["ruff", "check", "."],
        ["mypy"],
        ["check-jsonschema", "--builtin-schema=vendor.github-workflows", "a.yml"],
        ["ruff", "format", "--check", "."],
    ]


def test_session_times_run_from_one_session_line_to_the_next() -> None:
    lines = [
        (0.5, "nox > Running session tests-3.11"),
        (20.0, "nox > Session tests-3.11 was successful in 20 seconds."),
        (20.5, "nox > Running session machinery"),
        (150.0, "nox > Running session coverage"),
    ]
    assert session_times(Run(152.0, 0, lines)) == {
        "tests-3.11": 20.0,
        "machinery": 129.5,
        "coverage": 2.0,
    }


@pytest.mark.parametrize("prefixed", [True, False])
def test_forget_deletes_a_folder_and_its_cached_bytecode(tmp_path: Path, prefixed: bool) -> None:
    env_folder = tmp_path / "project" / ".nox" / "tests-3-11"
    (env_folder / "lib").mkdir(parents=True)
    prefix = tmp_path / "pycache"
    mirror = prefix / env_folder.resolve().relative_to(env_folder.anchor) / "lib"
    mirror.mkdir(parents=True)
    kept = prefix / "elsewhere"
    kept.mkdir()
    forget({"PYTHONPYCACHEPREFIX": str(prefix)} if prefixed else {}, env_folder)
    assert not env_folder.exists()
    assert mirror.exists() is not prefixed
    assert kept.is_dir()


def test_the_readme_row_runs_the_readme_test_command() -> None:
    quick_start = (ROOT / "README.md").read_text().split("## Quick start", 1)[1].split("## ", 1)[0]
    assert f"\n{README_TEST_COMMAND}\n" in quick_start


def test_a_row_measured_in_fewer_rounds_runs_only_in_those() -> None:
    calls: dict[str, list[int]] = {"every": [], "once": []}

    def measure(key: str) -> Callable[[Bench, int], Sample]:
        def run(_: Bench, round_index: int) -> Sample:
            calls[key].append(round_index)
            return Sample(1.0)

        return run

    rows = [
        Contender("every", "e", measure("every")),
        Contender("once", "o", measure("once"), rounds=1),
    ]
    found = Results(rounds=3)
    run_rounds(Bench(ROOT, ROOT, "3.11", [], {}), [Group("g", lambda _: None, rows)], 3, found)
    assert calls == {"every": [0, 1, 2], "once": [0]}
    assert len(found.samples["once"]) == 1


def test_results_median_and_parts() -> None:
    found = Results(rounds=3)
    found.samples["a"] = [Sample(3.0, {"x": 1.0}), Sample(1.0, {"x": 3.0, "y": 2.0}), Sample(2.0)]
    assert found.median("a") == 2.0
    assert found.median("missing") is None
    assert found.parts("a") == {"x": 1.0, "y": 0.0}
    assert found.median("a", "x") == 2.0  # of the samples that have the part
    assert found.median("a", "z") is None


def part_results(**samples: list[tuple[float, float]]) -> Results:
    found = Results(rounds=3)
    for key, pairs in samples.items():
        found.samples[key] = [Sample(total, {"setup": part}) for total, part in pairs]
    return found


@pytest.mark.parametrize(
    ("samples", "ratio", "verdict"),
    [
        pytest.param({"a": [(9.0, 2.0)], "b": [(3.0, 0.5)]}, 4.0, True, id="the-part-holds"),
        pytest.param({"a": [(90.0, 1.0)], "b": [(3.0, 0.5)]}, 2.0, False,
                     id="totals-would-hold-the-part-does-not"),
    ],
)  # fmt: skip
def test_a_ratio_of_a_part(
    samples: dict[str, list[tuple[float, float]]], ratio: float, verdict: bool
) -> None:
    row = Contender("a", "the a row", nothing, "b", least=4, part="setup")
    found = part_results(**samples)
    assert ratio_of(row, found) == ratio
    assert met(row, found) is verdict
    assert target_text(row) == ">= 4x, setup"
    assert ratio_text(row, found) == f"{ratio:.2f}x b (setup)"


@pytest.mark.parametrize(
    ("row", "samples", "ratio", "verdict", "target"),
    [
        pytest.param(contender("a", "b", most=2), {"a": [3, 4, 5], "b": [2, 2]}, 2.0, True,
                     "<= 2x", id="at-most-held-at-the-edge"),
        pytest.param(contender("a", "b", most=1.3), {"a": [3], "b": [2]}, 1.5, False,
                     "<= 1.3x", id="at-most-missed"),
        pytest.param(contender("a", "b", least=4), {"a": [9], "b": [2]}, 4.5, True,
                     ">= 4x", id="at-least-held"),
        pytest.param(contender("a", worst=5), {"a": [1, 5.5, 2]}, None, False,
                     "worst <= 5 s", id="worst-sample-missed"),
        pytest.param(contender("a", median_at_most=5), {"a": [1, 5.5, 4]}, None, True,
                     "<= 5 s", id="median-held-though-one-sample-is-over"),
        pytest.param(contender("a", median_at_most=5), {"a": [6, 5.5, 4]}, None, False,
                     "<= 5 s", id="median-missed"),
        pytest.param(contender("a", "b", most=2), {"a": [3]}, None, False, "<= 2x",
                     id="versus-never-measured"),
        pytest.param(contender("a", "b"), {"a": [3], "b": [6]}, 0.5, None, "", id="no-target"),
    ],
)  # fmt: skip
def test_ratios_and_targets(
    row: Contender,
    samples: dict[str, list[float]],
    ratio: float | None,
    verdict: bool | None,
    target: str,
) -> None:
    found = results(**samples)
    assert ratio_of(row, found) == ratio
    assert met(row, found) is verdict
    assert target_text(row) == target


@pytest.mark.parametrize(
    ("samples", "verdict"),
    [
        pytest.param({"a": [1.4, 1.5], "b": [1.0, 1.0]}, True, id="held-at-the-edge"),
        pytest.param({"a": [1.6], "b": [1.0]}, False, id="missed"),
        pytest.param({"a": [0.9], "b": [1.0]}, True, id="faster-than-the-floor"),
        pytest.param({"a": [1.0]}, False, id="versus-never-measured"),
    ],
)  # fmt: skip
def test_a_limit_over_the_floor(samples: dict[str, list[float]], verdict: bool) -> None:
    row = contender("a", "bare_lint", over_at_most=0.5)
    found = results(**{("bare_lint" if key == "b" else key): v for key, v in samples.items()})
    assert met(row, found) is verdict
    assert target_text(row) == "<= bare tools + 0.5 s"


@pytest.mark.parametrize(
    ("steps", "seconds", "ratio", "verdict"),
    [
        # "total" is the session's own sum, not a step: it never counts twice.
        pytest.param([{"build": 2.0, "verify": 3.0, "total": 5.0}], [6.0], 1.2, True,
                     id="held-at-the-edge"),
        pytest.param([{"build": 2.0, "verify": 3.0, "total": 5.0}], [6.5], 1.3, False,
                     id="missed"),
        pytest.param([{"build": 2.0}, {"build": 4.0}], [3.0, 3.3], 1.05, True,
                     id="medians-of-both"),
        pytest.param([{}], [3.0], None, False, id="no-steps-read"),
    ],
)  # fmt: skip
def test_a_limit_on_the_sum_of_its_own_steps(
    steps: list[dict[str, float]], seconds: list[float], ratio: float | None, verdict: bool
) -> None:
    row = contender("rehearse", steps_at_most=1.2)
    found = Results(rounds=3)
    found.samples["rehearse"] = [Sample(s, parts) for s, parts in zip(seconds, steps, strict=True)]
    assert steps_ratio(row, found) == pytest.approx(ratio)
    assert met(row, found) is verdict
    assert target_text(row) == "<= 1.2x its steps"
    assert ratio_text(row, found) == ("" if ratio is None else f"{ratio:.2f}x its steps")


def test_a_contender_that_failed_a_round_misses_its_target() -> None:
    found = results(a=[1.0], b=[2.0])
    found.errors["a"] = "exited 1"
    row = contender("a", "b", most=2)
    assert met(row, found) is False
    assert "(a round failed: exited 1)" in table_row(row, found)


@pytest.mark.parametrize(
    ("row", "samples", "text"),
    [
        pytest.param(contender("warm_tests", "bare_pytest"),
                     {"warm_tests": [1.2], "bare_pytest": [1.0]}, "1.20x bare pytest",
                     id="short-name"),
        pytest.param(contender("x", "y"), {"x": [3], "y": [2]}, "1.50x y", id="key-as-name"),
        pytest.param(contender("bare_pytest"), {"bare_pytest": [1]}, "1.00 (floor)", id="floor"),
        pytest.param(contender("rehearse"), {"rehearse": [9]}, "", id="standalone"),
    ],
)  # fmt: skip
def test_ratio_text(row: Contender, samples: dict[str, list[float]], text: str) -> None:
    assert ratio_text(row, results(**samples)) == text


@pytest.mark.parametrize(
    ("samples", "errors", "row"),
    [
        pytest.param({"a": [3.0, 1.0, 2.0], "b": [1.0]}, {},
                     "| the a row | 2.00 s | 1.00-3.00 s | 2.00x b | <= 3x | yes |", id="met"),
        pytest.param({}, {"a": "warm-up failed: boom"},
                     "| the a row | error |  | warm-up failed: boom | <= 3x | **no** |",
                     id="error"),
        pytest.param({}, {}, "| the a row | error |  | not measured | <= 3x | **no** |",
                     id="never-ran"),
    ],
)  # fmt: skip
def test_table_row(samples: dict[str, list[float]], errors: dict[str, str], row: str) -> None:
    found = results(**samples)
    found.errors.update(errors)
    assert table_row(contender("a", "b", most=3), found) == row


def test_parts_table() -> None:
    assert parts_table("T", {}, 4.0) == []
    assert parts_table("T", {"build": 1.0, "check": 3.0}, 4.0) == [
        "", "T", "", "| step | median | share |", "| --- | ---: | ---: |",
        "| build | 1.00 s | 25 % |", "| check | 3.00 s | 75 % |",
    ]  # fmt: skip
