"""Waiting for uploaded files to show on an index: polls with backoff up to a deadline, until
enough listings in a row agree (a CDN in front of an index lags and flaps after an upload)."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping

from scripts.indexes.index import ACCEPT, IndexUnavailable, list_links, project_url
from scripts.indexes.retrying import backoff
from scripts.indexes.simple_pages import FileLink, PackageIndexError

HTML_ACCEPT = "text/html"  # the other listing an index (or its CDN) serves, asked for by name


class NotThereYet(PackageIndexError):
    """Files still missing from the index when the deadline passed."""

    def __init__(self, message: str, missing: Collection[str]) -> None:
        super().__init__(message)
        self.missing: list[str] = list(missing)


def _names(filenames: Collection[str], shown: int = 3) -> str:
    names = list(filenames)
    return ", ".join(names[:shown]) + (", ..." if len(names) > shown else "")


def _agree(earlier: Mapping[str, str], now: Mapping[str, str]) -> bool:
    """Whether two listings give the same sha256 for every file (one without a hash agrees)."""
    return all(not (earlier[name] and digest) or earlier[name] == digest
               for name, digest in now.items())  # fmt: skip


def _tally(
    wanted: list[str], links: Mapping[str, FileLink], agreed: dict[str, str] | None, streak: int
) -> tuple[list[str], int, dict[str, str] | None, str]:
    """One poll counted: the files still missing, how many listings in a row agree now, the
    sha256s they agree on, and what was wrong with this one ("" if nothing)."""
    missing = [name for name in wanted if name not in links]
    seen = {name: links[name].sha256 for name in wanted if name in links}
    if missing:
        return missing, 0, None, ""
    if agreed is None or _agree(agreed, seen):
        return (
            [],
            streak + 1,
            {name: seen[name] or (agreed or {}).get(name, "") for name in wanted},
            "",
        )
    return [], 1, seen, "the listings disagree on the sha256; "


def _not_there(
    url: str, missing: list[str], agreeing: int, deadline: float, problem: str
) -> NotThereYet:
    """The error for files still MISSING (or listings not AGREEING) at the DEADLINE."""
    last = f" (last poll: {problem.rstrip('; ')})" if problem else ""
    if not missing:
        return NotThereYet(
            f"the listing of {url} did not agree {agreeing} times in a row within "
            f"{deadline:g} s{last}",
            [],
        )
    return NotThereYet(
        f"{len(missing)} file(s) never appeared on {url} within {deadline:g} s: "
        f"{', '.join(missing)}{last}",
        missing,
    )


def wait_for_files(
    simple_url: str,
    project: str,
    filenames: Collection[str],
    *,
    deadline: float = 600.0,
    first_delay: float = 0.5,
    max_delay: float = 3.0,
    timeout: float = 10.0,
    agreeing: int = 1,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    report: Callable[[str], None] | None = None,
    locate: Callable[[], str] | None = None,
) -> dict[str, FileLink]:
    """Poll the index until every one of FILENAMES is listed, AGREEING times in a row with the
    same sha256; NotThereYet at the deadline.

    A CDN in front of an index can serve a listing that lags or flaps for minutes after an
    upload: one good answer is not proof. With AGREEING above 1 the polls take turns asking for
    the JSON and the HTML listing, which caches keep apart. LOCATE is called once, the first time
    nothing at all is listed: it returns the simple API to poll from then on, or raises when
    there is none (a wrong URL is no reason to wait).
    """
    wanted = list(dict.fromkeys(filenames))
    end = clock() + deadline
    polls = streak = 0
    agreed: dict[str, str] | None = None
    while True:
        accept = HTML_ACCEPT if agreeing > 1 and polls % 2 else ACCEPT
        try:
            # One attempt per poll: this loop is the retry, and it knows the deadline.
            links, unavailable = list_links(
                simple_url, project, timeout=max(min(timeout, end - clock()), 0.1), attempts=1,
                accept=accept,
            ), ""  # fmt: skip
        except IndexUnavailable as error:
            links, unavailable = {}, f"{error}; "
        if not unavailable and not links and locate is not None:
            simple_url, locate = locate(), None
            continue
        missing, streak, agreed, problem = _tally(wanted, links, agreed, streak)
        problem = unavailable + problem
        if streak >= agreeing:
            return {name: links[name] for name in wanted}
        left = end - clock()
        url = project_url(simple_url, project)
        if left <= 0:
            raise _not_there(url, missing, agreeing, deadline, problem)
        delay = min(first_delay if streak else backoff(polls, first_delay, max_delay), left)
        polls += 1
        if report is not None and missing:
            report(
                f"{problem}waiting for {len(missing)} file(s) on {url}: {_names(missing)}; "
                f"next look in {delay:.1f} s, {left:.0f} s left"
            )
        sleep(delay)
