"""The Markdown report: the table of medians, ratios and targets, and the breakdowns."""

from __future__ import annotations

import os
import platform
import shlex
import statistics
from datetime import UTC, datetime

from .model import Bench, Contender, Results, load_average

# How the ratio column names the contender a ratio is taken against.
SHORT_NAMES = {
    "cold_tests": "cold session",
    "warm_tests": "warm session",
    "bare_pytest": "bare pytest",
    "bare_serial": "bare pytest -n 0",
    "bare_lint": "bare tools",
    "build_floor": "floor",
}


def ratio_of(contender: Contender, results: Results) -> float | None:
    """median(CONTENDER) / median(its versus), None when either is missing."""
    if contender.versus is None:
        return None
    mine = results.median(contender.key, contender.part)
    theirs = results.median(contender.versus, contender.part)
    return mine / theirs if mine is not None and theirs else None


def steps_ratio(contender: Contender, results: Results) -> float | None:
    """median(CONTENDER) / the sum of the medians of its own steps (its parts but "total")."""
    median = results.median(contender.key)
    steps = sum(
        seconds for name, seconds in results.parts(contender.key).items() if name != "total"
    )
    return median / steps if median is not None and steps else None


def met(contender: Contender, results: Results) -> bool | None:
    """Whether CONTENDER holds its target; None when it has none."""
    if not contender.has_target():
        return None
    if contender.key in results.errors or contender.key not in results.samples:
        return False
    if contender.worst is not None:
        return max(sample.seconds for sample in results.samples[contender.key]) <= contender.worst
    if contender.median_at_most is not None:
        median = results.median(contender.key)
        return median is not None and median <= contender.median_at_most
    if contender.steps_at_most is not None:
        ratio = steps_ratio(contender, results)
        return ratio is not None and ratio <= contender.steps_at_most
    if contender.over_at_most is not None and contender.versus is not None:
        mine, theirs = results.median(contender.key), results.median(contender.versus)
        return mine is not None and theirs is not None and mine - theirs <= contender.over_at_most
    ratio = ratio_of(contender, results)
    if ratio is None:
        return False
    return (contender.most is None or ratio <= contender.most) and (
        contender.least is None or ratio >= contender.least
    )


def target_text(contender: Contender) -> str:
    """The target column."""
    if contender.worst is not None:
        return f"worst <= {contender.worst:g} s"
    if contender.median_at_most is not None:
        return f"<= {contender.median_at_most:g} s"
    if contender.steps_at_most is not None:
        return f"<= {contender.steps_at_most:g}x its steps"
    if contender.over_at_most is not None and contender.versus is not None:
        versus = SHORT_NAMES.get(contender.versus, contender.versus)
        return f"<= {versus} + {contender.over_at_most:g} s"
    if contender.part is not None and contender.least is not None:
        return f">= {contender.least:g}x, {contender.part}"
    if contender.most is not None:
        return f"<= {contender.most:g}x"
    if contender.least is not None:
        return f">= {contender.least:g}x"
    return ""


def ratio_text(contender: Contender, results: Results) -> str:
    """The ratio column: NNx what it is taken against, or the floor's 1.00."""
    if contender.steps_at_most is not None:
        steps = steps_ratio(contender, results)
        return f"{steps:.2f}x its steps" if steps is not None else ""
    ratio = ratio_of(contender, results)
    if ratio is not None and contender.versus is not None:
        of = f" ({contender.part})" if contender.part else ""
        return f"{ratio:.2f}x {SHORT_NAMES.get(contender.versus, contender.versus)}{of}"
    if contender.versus is None and contender.key in SHORT_NAMES:
        return "1.00 (floor)"
    return ""


def table_row(contender: Contender, results: Results) -> str:
    """One Markdown row: what, median, min-max, ratio, target, met?"""
    samples = [sample.seconds for sample in results.samples.get(contender.key, [])]
    verdict = {None: "", True: "yes", False: "**no**"}[met(contender, results)]
    error = results.errors.get(contender.key)
    if not samples:
        cells = ["error", "", error or "not measured"]
    else:
        ratio = ratio_text(contender, results) + (f" (a round failed: {error})" if error else "")
        spread = f"{min(samples):.2f}-{max(samples):.2f} s"
        cells = [f"{statistics.median(samples):.2f} s", spread, ratio]
    return "| " + " | ".join([contender.what, *cells, target_text(contender), verdict]) + " |"


def main_table(contenders: list[Contender], results: Results) -> list[str]:
    """The Markdown table of every contender."""
    lines = [
        "| what | median | min-max | ratio | target | met? |",
        "| --- | ---: | ---: | --- | --- | --- |",
    ]
    return lines + [table_row(contender, results) for contender in contenders]


def parts_table(title: str, parts: dict[str, float], total: float | None) -> list[str]:
    """A Markdown table of the median seconds of each part, with its share of TOTAL."""
    if not parts:
        return []
    lines = ["", f"{title}", "", "| step | median | share |", "| --- | ---: | ---: |"]
    for name, seconds in parts.items():
        share = f"{100 * seconds / total:.0f} %" if total else ""
        lines.append(f"| {name} | {seconds:.2f} s | {share} |")
    return lines


def setup_table(results: Results, contenders: list[Contender]) -> list[str]:
    """How long each tests contender took before pytest started: the environment work alone."""
    keys = [c for c in contenders if c.key in ("cold_tests", "warm_tests") or c.part]
    ours = results.parts("cold_tests").get("until pytest starts")
    lines = ["", "Environment work only: seconds from launch until pytest starts (median).", ""]
    lines += ["| what | until pytest starts | vs cold session |", "| --- | ---: | ---: |"]
    for contender in keys:
        seconds = results.parts(contender.key).get("until pytest starts")
        if seconds is None:
            continue
        versus = f"{seconds / ours:.2f}x" if ours else ""
        lines.append(f"| {contender.what} | {seconds:.2f} s | {versus} |")
    return lines


def verify_rounds(results: Results) -> list[str]:
    """Each round's detection latency, and how far into verify's wait the upload began."""
    samples = results.samples.get("verify_latency", [])
    each = ", ".join(
        f"{sample.seconds:.2f} s (upload began {sample.parts['upload started after']:.1f} s in)"
        for sample in samples
    )
    return ["", f"verify noticed the upload after: {each}."] if samples else []


def details(contenders: list[Contender], results: Results) -> list[str]:
    """The breakdowns: the tests setup, every missed session target, the rehearsal, verify."""
    lines = setup_table(results, contenders)
    for contender in contenders:
        missed = met(contender, results) is False
        if contender.key == "rehearse" or (missed and results.parts(contender.key)):
            title = f"Where {contender.what} spends its time (median of each step):"
            parts = {
                k: v for k, v in results.parts(contender.key).items() if k != "until pytest starts"
            }
            total = parts.get("total") or results.median(contender.key)
            lines += parts_table(title, parts, total)
    return lines + verify_rounds(results)


def header(bench: Bench, results: Results) -> list[str]:
    """What was run, where and how."""
    pytest = (
        shlex.join(["pytest", *bench.pytest_args])
        if bench.pytest_args
        else "(tests warm-up failed)"
    )
    return [
        f"## Speed benchmark, {results.started:%Y-%m-%d %H:%M} UTC",
        "",
        f"- machine: {platform.platform()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        f"- load average (1/5/15 min): {results.load} at the start, {load_average()} at the end",
        f"- {results.rounds} round(s), each contender once per round, in turn; medians and min-max",
        f"- suite: {' '.join(bench.suite)}",
        f"- pytest command of the session and of the floor: `{pytest}`",
        "- cold: the environment (`.nox/...`, `.tox/`, hatch's `env/`) and its cached bytecode "
        "deleted before each round; uv's cache stays warm",
        "",
    ]


def report(bench: Bench, contenders: list[Contender], results: Results) -> str:
    """The whole Markdown report."""
    lines = header(bench, results) + main_table(contenders, results) + details(contenders, results)
    verdicts = [met(contender, results) for contender in contenders]
    held = sum(verdict is True for verdict in verdicts)
    judged = sum(verdict is not None for verdict in verdicts)
    elapsed = (datetime.now(UTC) - results.started).total_seconds()
    lines += ["", f"{held} of {judged} targets met; the benchmark took {elapsed / 60:.1f} min."]
    return "\n".join(lines)
