"""Asking again: exponential backoff, bounded attempts, and the wait an index asks for."""

from __future__ import annotations

import datetime
import email.utils
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
# The longest Retry-After honoured: an index asking for more is reported as not answering.
MAX_RETRY_AFTER = 60.0


def retry_after(value: str | None) -> float | None:
    """The seconds a Retry-After header VALUE asks for (delta-seconds or an HTTP date)."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.datetime.now(tz=datetime.UTC)).total_seconds(), 0.0)


def one_line(error: object) -> str:
    """ERROR's message on one line (its type's name when it has none)."""
    return " ".join((str(error) or type(error).__name__).split())


def backoff(step: int, first: float = 0.5, cap: float = 8.0) -> float:
    """The wait before try STEP + 2: FIRST, doubling with every step, never more than CAP."""
    return min(first * 2.0**step, cap)


def retry(
    call: Callable[[], T],
    *,
    attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 8.0,
    retry_on: tuple[type[BaseException], ...],
    sleep: Callable[[float], None] = time.sleep,
    report: Callable[[str], None] | None = None,
) -> T:
    """CALL, again after exponential backoff on RETRY_ON errors; re-raise the last one."""
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, not {attempts}")
    for attempt in range(1, attempts):
        try:
            return call()
        except retry_on as error:
            delay = backoff(attempt - 1, base_delay, max_delay)
            asked = getattr(error, "retry_after", None)
            if asked is not None:  # the index said how long: wait that, within reason
                delay = max(delay, min(asked, MAX_RETRY_AFTER))
            if report is not None:
                report(
                    f"index not answering ({one_line(error)}); "
                    f"retry {attempt + 1}/{attempts} in {delay:.1f} s"
                )
            sleep(delay)
    return call()
