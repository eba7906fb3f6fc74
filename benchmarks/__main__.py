"""`python -m benchmarks`: set up, warm up, run the rounds, print the report."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import benchmarks

from .commands import say
from .contenders import groups
from .model import BenchError, Results
from .project import make_bench
from .report import met, report
from .rounds import prepare, run_rounds

# A fast, representative part of the project's own suite: the pure release helpers (table-driven),
# the index client against a real HTTP server on 127.0.0.1, and the interpreter finder.
SUITE = (
    "tests/unit/test_changelog.py",
    "tests/unit/test_versions.py",
    "tests/unit/test_manifest.py",
    "tests/unit/test_index.py",
    "tests/unit/test_interpreters.py",
)
ROUNDS = 5
QUICK_ROUNDS = 1


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="nox -s bench --", description=(benchmarks.__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"default: {ROUNDS}")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_ROUNDS} round without the README's test command, a smoke run",
    )
    parser.add_argument(
        "--no-fail", action="store_true", help="exit 0 even when a target is missed"
    )
    parser.add_argument("--suite", nargs="+", default=list(SUITE), help="the test files to time")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder and say where")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Set up the scratch project, warm up, run the rounds, print the report."""
    args = parse_args(argv)
    results = Results(rounds=QUICK_ROUNDS if args.quick else args.rounds)
    scratch = Path(tempfile.mkdtemp(prefix="agentops-bench-"))
    try:
        say(f"scratch project in {scratch}")
        bench = make_bench(scratch, args.suite)
        all_groups = groups(bench.python, readme=not args.quick)
        run_rounds(bench, prepare(bench, all_groups, results), results.rounds, results)
    except BenchError as error:
        say(f"bench: error: {error}")
        return 2
    finally:
        if args.keep:
            say(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    contenders = [contender for group in all_groups for contender in group.contenders]
    print(report(bench, contenders, results))
    missed = any(met(contender, results) is False for contender in contenders)
    return 1 if missed and not args.no_fail else 0


if __name__ == "__main__":
    sys.exit(main())
