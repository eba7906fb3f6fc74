"""The benchmark's pure parts: reading nox's log, medians, ratios, targets and the report rows."""

from __future__ import annotations

import pytest

from benchmarks.commands import logged_command, rehearsal_table, session_steps, step_name
from benchmarks.model import BenchError, Contender, Results, Run, Sample
from benchmarks.report import met, parts_table, ratio_of, ratio_text, table_row, target_text


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


def test_results_median_and_parts() -> None:
    found = Results(rounds=3)
    found.samples["a"] = [Sample(3.0, {"x": 1.0}), Sample(1.0, {"x": 3.0, "y": 2.0}), Sample(2.0)]
    assert found.median("a") == 2.0
    assert found.median("missing") is None
    assert found.parts("a") == {"x": 1.0, "y": 0.0}


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
