"""Each mutated module's mutation score, read from mutmut's results (mutants/**/*.py.meta, JSON).

    python -m scripts.mutants [FOLDER] [--minimum PERCENT] [--equivalent FILE]

A mutant is killed when a test failed on it (or it hung, or did not type-check); one no test ran
on, or on which every test passed, survived. A survivor named in the EQUIVALENT file (a TOML table
`mutant key = "why it changes nothing"`) is left out of the score and listed with its reason; a
name there that is no survivor (killed, or renumbered by a change to the code) is an error.
"""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scripts.output import command_line, fail

# mutmut's exit codes of a mutant's test run that mean its change was caught: a test failed (1),
# pytest failed inside (3), a time limit (36, and the signals of CPU limits), the type check (37).
KILLED = frozenset({1, 3, 24, -24, 36, 37, 152, 255})
SUFFIX = ".meta"


@dataclass
class Score:
    """The mutants of one module: how many were killed, how many count, the survivors."""

    module: str
    killed: int = 0
    counted: int = 0
    survivors: list[str] = field(default_factory=list)

    @property
    def percent(self) -> float:
        return 100.0 * self.killed / self.counted if self.counted else 100.0


def scores(
    results: Mapping[str, Mapping[str, int | None]], equivalent: Mapping[str, str]
) -> list[Score]:
    """RESULTS ({module: {mutant key: exit code}}) scored by module, the EQUIVALENT ones apart."""
    found = []
    for module, codes in sorted(results.items()):
        score = Score(module)
        for key, code in sorted(codes.items()):
            if key in equivalent:
                continue
            score.counted += 1
            if code in KILLED:
                score.killed += 1
            else:
                score.survivors.append(key)
        found.append(score)
    return found


def stale_names(
    results: Mapping[str, Mapping[str, int | None]], equivalent: Mapping[str, str]
) -> list[str]:
    """The EQUIVALENT names that are no survivor of RESULTS: killed, or no such mutant."""
    codes = {key: code for module in results.values() for key, code in module.items()}
    return sorted(key for key in equivalent if key not in codes or codes[key] in KILLED)


def read_results(folder: Path) -> dict[str, dict[str, int | None]]:
    """{module path: {mutant key: exit code}} from the results mutmut wrote under FOLDER."""
    return {
        meta.relative_to(folder).as_posix().removesuffix(SUFFIX): json.loads(
            meta.read_text(encoding="utf-8")
        )["exit_code_by_key"]
        for meta in folder.rglob(f"*.py{SUFFIX}")
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Print each module's score and survivors; exit 1 when one is under the minimum."""
    parser = command_line(__spec__.name, __doc__)
    parser.add_argument("folder", type=Path, nargs="?", default=Path("mutants"))
    parser.add_argument("--minimum", type=float, default=90.0, help="percent (default: 90)")
    parser.add_argument("--equivalent", type=Path, help="TOML: mutant key = why it is equivalent")
    args = parser.parse_args(argv)
    results = read_results(args.folder)
    if not results:
        return fail(f"mutants: error: no mutmut results in {args.folder}/: run `mutmut run`")
    equivalent = tomllib.loads(args.equivalent.read_text()) if args.equivalent else {}
    stale = stale_names(results, equivalent)
    if stale:
        return fail(
            f"mutants: error: {args.equivalent} names mutants that are no survivor (killed, or "
            f"renumbered: see `mutmut show KEY`): {', '.join(stale)}"
        )
    found = scores(results, equivalent)
    width = max(len(score.module) for score in found)
    for score in found:
        row = f"{score.killed:>4}/{score.counted:<4}  {score.percent:5.1f} %"
        print(f"{score.module:<{width}}  {row}")
    for key, why in sorted(equivalent.items()):
        print(f"equivalent  {key}: {why}")
    for score in found:
        for key in score.survivors:
            print(f"survived  {key}  (mutmut show {key})")
    low = [score.module for score in found if score.percent < args.minimum]
    if low:
        return fail(f"mutants: error: under {args.minimum:g} % killed: {', '.join(low)}")
    print(f"mutants: every module at {args.minimum:g} % or more ({len(equivalent)} equivalent)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
