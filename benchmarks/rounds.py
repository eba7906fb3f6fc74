"""Warm every group up, then time every contender once per round, in turn."""

from __future__ import annotations

import time

from scripts.indexes import local_index

from .commands import say
from .model import Bench, BenchError, Group, Results


def prepare(bench: Bench, all_groups: list[Group], results: Results) -> list[Group]:
    """Run each group's warm-up; return the groups ready to be timed."""
    ready = []
    for group in all_groups:
        started = time.perf_counter()
        try:
            group.prepare(bench)
        except (BenchError, OSError, local_index.LocalIndexError) as error:
            say(f"warm-up {group.name}: failed: {error}")
            for contender in group.contenders:
                results.errors[contender.key] = f"warm-up failed: {error}"
            continue
        say(f"warm-up {group.name}: {time.perf_counter() - started:.1f} s")
        ready.append(group)
    return ready


def run_rounds(bench: Bench, ready: list[Group], rounds: int, results: Results) -> None:
    """ROUNDS times, every contender once, in turn; every other round in reverse order."""
    for round_index in range(rounds):
        for group in ready:
            step = -1 if round_index % 2 else 1
            for contender in group.contenders[::step]:
                if contender.rounds is not None and round_index >= contender.rounds:
                    continue
                try:
                    sample = contender.measure(bench, round_index)
                except (BenchError, OSError, local_index.LocalIndexError) as error:
                    results.errors[contender.key] = str(error)
                    say(f"[{round_index + 1}/{rounds}] {contender.what}: error: {error}")
                    continue
                results.samples.setdefault(contender.key, []).append(sample)
                say(f"[{round_index + 1}/{rounds}] {contender.what}: {sample.seconds:.2f} s")
