"""The mutation score report: mutmut's results read as JSON, scored per module."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts import mutants


def write_results(folder: Path, module: str, codes: dict[str, int | None]) -> None:
    meta = folder / f"{module}.meta"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({"exit_code_by_key": codes, "durations_by_key": {}}))


@pytest.mark.parametrize(
    ("codes", "equivalent", "killed", "counted", "survivors"),
    [
        pytest.param({"m_1": 1, "m_2": 0}, {}, 1, 2, ["m_2"], id="failed-test-kills"),
        pytest.param({"m_1": 3, "m_2": 36, "m_3": 37}, {}, 3, 3, [], id="error-timeout-type"),
        pytest.param({"m_1": None, "m_2": 33, "m_3": 5}, {}, 0, 3, ["m_1", "m_2", "m_3"],
                     id="not-run-or-no-test-survives"),
        pytest.param({"m_1": 0, "m_2": 1}, {"m_1": "why"}, 1, 1, [], id="equivalent-left-out"),
    ],
)  # fmt: skip
def test_scores(
    codes: dict[str, int | None],
    equivalent: dict[str, str],
    killed: int,
    counted: int,
    survivors: list[str],
) -> None:
    [score] = mutants.scores({"a.py": codes}, equivalent)
    assert (score.module, score.killed, score.counted, score.survivors) == (
        "a.py",
        killed,
        counted,
        survivors,
    )


def test_the_report_fails_under_the_minimum_and_names_the_module(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_results(tmp_path, "scripts/good.py", {f"good_{n}": 1 for n in range(9)} | {"good_9": 0})
    write_results(tmp_path, "scripts/weak.py", {"weak_1": 1, "weak_2": 0})
    assert mutants.main([str(tmp_path), "--minimum", "90"]) == 1
    out, err = capsys.readouterr()
    assert "scripts/good.py     9/10     90.0 %" in out
    assert "scripts/weak.py     1/2      50.0 %" in out
    assert "survived  weak_2  (mutmut show weak_2)" in out
    assert err == "mutants: error: under 90 % killed: scripts/weak.py\n"
    equivalent = tmp_path / "equivalent.toml"
    equivalent.write_text('weak_2 = "the message it changes is never shown"\n')
    assert mutants.main([str(tmp_path), "--equivalent", str(equivalent)]) == 0
    assert "equivalent  weak_2: the message it changes is never shown\n" in capsys.readouterr().out


@pytest.mark.parametrize("named", ["weak_1", "weak_3"], ids=["killed", "no-such-mutant"])
def test_an_equivalent_name_that_is_no_survivor_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], named: str
) -> None:
    write_results(tmp_path, "scripts/weak.py", {"weak_1": 1, "weak_2": 0})
    equivalent = tmp_path / "equivalent.toml"
    equivalent.write_text(f'weak_2 = "why"\n{named} = "why"\n')
    assert mutants.main([str(tmp_path), "--equivalent", str(equivalent)]) == 1
    assert capsys.readouterr().err == (
        f"mutants: error: {equivalent} names mutants that are no survivor (killed, or renumbered: "
        f"see `mutmut show KEY`): {named}\n"
    )


def test_no_results_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert mutants.main([str(tmp_path)]) == 1
    assert (
        capsys.readouterr().err
        == f"mutants: error: no mutmut results in {tmp_path}/: run `mutmut run`\n"
    )
