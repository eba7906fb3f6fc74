"""What the benchmark measures and holds: runs, samples, contenders, groups and the results."""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path


class BenchError(Exception):
    """A contender could not be measured; the message says why, in one line."""


@dataclass
class Run:
    """A finished command: wall seconds, exit status, output lines with their arrival times."""

    seconds: float
    code: int
    lines: list[tuple[float, str]]

    def text(self) -> str:
        """The whole output."""
        return "\n".join(line for _, line in self.lines)

    def last_line(self) -> str:
        """The last non-empty output line."""
        found = [line.strip() for _, line in self.lines if line.strip()]
        return found[-1] if found else "no output"

    def reason(self) -> str:
        """Why it failed: nox's `Command ... failed` line if there is one, else the last line."""
        failed = [line for _, line in self.lines if line.startswith("nox > Command ")]
        return failed[-1].removeprefix("nox > ") if failed else self.last_line()

    def arrival(self, start: str) -> float | None:
        """Seconds from launch until the first line containing START arrived."""
        return next((at for at, line in self.lines if start in line), None)


@dataclass
class Sample:
    """One timing of one contender, with its parts (steps, setup) where known."""

    seconds: float
    parts: dict[str, float] = field(default_factory=dict)


@dataclass
class Bench:
    """The scratch project and what the warm-ups learned about it."""

    scratch: Path
    project: Path
    python: str
    suite: list[str]
    env: dict[str, str]
    pytest_args: list[str] = field(default_factory=list)
    build_args: list[str] = field(default_factory=list)
    lint_commands: list[list[str]] = field(default_factory=list)
    release_dist: Path | None = None
    broken_dist: Path | None = None

    def venv(self, session: str) -> Path:
        """The environment nox keeps for SESSION."""
        return self.project / ".nox" / session.replace(".", "-")


Measure = Callable[[Bench, int], Sample]


@dataclass
class Contender:
    """One thing timed each round, and what its result is held to."""

    key: str
    what: str
    measure: Measure
    versus: str | None = None  # the ratio column is median / median(VERSUS)
    most: float | None = None  # the ratio must be at most this
    least: float | None = None  # the ratio must be at least this
    worst: float | None = None  # every sample must take at most this many seconds
    median_at_most: float | None = None  # the median must take at most this many seconds
    over_at_most: float | None = None  # the median may exceed VERSUS's by this many seconds
    steps_at_most: float | None = None  # the median over the sum of its own steps' medians
    part: str | None = None  # the ratio is of this part of both sides, not of their totals
    rounds: int | None = None  # measured in the first ROUNDS rounds only (a long row)

    def has_target(self) -> bool:
        """Whether the row is held to anything."""
        limits = (
            self.most, self.least, self.worst, self.median_at_most, self.over_at_most,
            self.steps_at_most,
        )  # fmt: skip
        return any(limit is not None for limit in limits)


@dataclass
class Group:
    """Contenders that share a warm-up; a failed warm-up fails them all."""

    name: str
    prepare: Callable[[Bench], None]
    contenders: list[Contender]


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


@dataclass
class Results:
    """The samples of each contender, the last error of those that failed, and when and how."""

    rounds: int
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    load: str = field(default_factory=lambda: load_average())
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def median(self, key: str, part: str | None = None) -> float | None:
        """The median seconds of KEY (of its PART, when given), None when it has no sample."""
        found = self.samples.get(key)
        if not found:
            return None
        if part is None:
            return statistics.median(sample.seconds for sample in found)
        values = [sample.parts[part] for sample in found if part in sample.parts]
        return statistics.median(values) if values else None

    def parts(self, key: str) -> dict[str, float]:
        """The median of each part of KEY's samples, in the order they first appeared."""
        names = dict.fromkeys(name for sample in self.samples.get(key, []) for name in sample.parts)
        return {
            name: statistics.median(sample.parts.get(name, 0.0) for sample in self.samples[key])
            for name in names
        }
