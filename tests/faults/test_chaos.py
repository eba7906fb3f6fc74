"""Chaos runs: seeded schedules of index faults drive publish and verify through the proxy.

Each seed draws one to three faults (an answer dropped after the upload landed, a second
publisher racing with the same bytes, a listing stale or flapping after the upload, 5xx and 429
bursts) and runs the real publish (twine included) against a real pypiserver behind the scripted
proxy, then verify's check of the listings (three agreeing in a row, every sha256 checked; the
install and smoke test that follow are left out: under these schedules uv's own fetches through
the proxy failed in ways still to be understood, see the closing note). A schedule must end
complete, or unchanged with one clear line, or partial with one clear line that a plain re-run
completes; and never with a file posted after the index listed it with the built sha256, nor
with an "other bytes" verdict while the index holds exactly the built bytes.

    FAULTS_CHAOS_SCHEDULES=200 (nox -s faults; machinery: 10)   FAULTS_CHAOS_SEEDS=17,42 (replay)
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scripts.artifacts import manifest, publish, twine_upload, uploading, verify
from scripts.indexes import index_targets, local_index, simple_pages
from tests.faults.conftest import CHAOS, SECRETS, USER
from tests.proxy import start_proxy

pytestmark = pytest.mark.faults

BATCHES = 10
SCHEDULES = int(os.environ.get("FAULTS_CHAOS_SCHEDULES", "10"))
REPLAY = [int(seed) for seed in os.environ.get("FAULTS_CHAOS_SEEDS", "").split(",") if seed]
PAGE = "/simple/agentops-accelerator/"  # the project page (a flapping 404 is its, not the root's)
OTHER_BYTES = ("different sha256", "other bytes")


Fault = tuple[tuple[str, ...], int | None, dict[str, object]]  # methods, times, Rule fields


def draw(seed: int) -> list[Fault]:
    """The faults of schedule SEED: (methods, times, Rule fields) each."""
    chance = random.Random(seed)  # noqa: S311 (a schedule, not a secret)
    menu: list[Callable[[], Fault]] = [
        lambda: (("POST",), 1, {"drop": True}),
        lambda: (("POST",), 1, {"race": True}),
        lambda: (("GET",), chance.randint(1, 3), {"stale": True}),
        lambda: (("GET",), chance.randint(1, 3), {"stale": True, "every": 2}),
        lambda: (
            ("GET",),
            chance.randint(1, 3),
            {"status": 404, "every": 2, "path_contains": PAGE},
        ),
        lambda: (("GET",), chance.randint(1, 2), {"status": chance.choice([500, 502, 503])}),
        lambda: (("POST",), 1, {"status": chance.choice([502, 503])}),
        lambda: (("GET",), 1, {"status": 429, "headers": (("Retry-After", "0"),)}),
    ]
    return [chance.choice(menu)() for _ in range(chance.randint(1, 3))]


@pytest.fixture(scope="module")
def chaos_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    """One pypiserver for this worker's schedules: its packages folder (emptied between
    schedules; it lists from disk) and its port."""
    packages = tmp_path_factory.mktemp("chaos") / "packages"
    packages.mkdir()
    server = local_index.start_local_index(packages, credentials=(USER, SECRETS["TWINE_PASSWORD"]))
    try:
        yield packages, server.port
    finally:
        server.stop()


def seeds_of(batch: int) -> list[int]:
    return REPLAY if REPLAY else list(range(batch, SCHEDULES, BATCHES))


def stored(packages: Path) -> dict[str, str]:
    return {path.name: manifest.sha256_file(path) for path in packages.iterdir()}


def run_schedule(seed: int, packages: Path, port: int, built: Path) -> dict[str, object]:
    """Publish and verify under schedule SEED; what came of it."""
    for path in packages.iterdir():
        path.unlink()
    proxy, stop = start_proxy(port)
    for methods, times, behaviour in draw(seed):
        proxy.add(methods, times=times, **behaviour)
    environ = {**os.environ, "TWINE_USERNAME": USER, "TWINE_PASSWORD": SECRETS["TWINE_PASSWORD"]}
    target = index_targets.resolve_target("local", local_url=proxy.url)
    limits = uploading.Limits(attempts=4, timeout=2.0, upload_timeout=60.0, listing_deadline=15.0)
    said: list[str] = []
    error = ""
    try:
        try:
            publish.publish(built, target, environ, limits=limits, say=said.append)
        except twine_upload.PublishError as failure:
            error = str(failure)
        if not error:
            try:
                sums = manifest.read_manifest(built)
                local = index_targets.resolve_target("local", local_url=proxy.url)
                verify.check_listings(local, sorted(sums), sums, deadline=20.0, say=said.append)
            except (verify.VerifyError, simple_pages.PackageIndexError) as failure:
                error = f"verify: {failure}"
    finally:
        stop()
    built_sums = manifest.read_manifest(built)
    now = stored(packages)
    outcome = {
        "seed": seed,
        "double_uploads": sum(
            1 for name in proxy.posted_after_shown if proxy.shown[name] == built_sums[name]
        ),
        # "Other bytes" said while the index holds only the build's own bytes (SHA256SUMS).
        "false_conflict": bool(error)
        and any(word in error for word in OTHER_BYTES)
        and all(built_sums.get(name) == digest for name, digest in now.items()),
        "error": error,
    }
    if not error and now == built_sums:
        outcome["ended"] = "complete"
    elif error and "\n" not in error and not now:
        outcome["ended"] = "unchanged, clear error"
    elif error and "\n" not in error and set(now) < set(built_sums):
        publish.publish(built, index_targets.resolve_target("local", local_url=f"http://127.0.0.1:{port}/"),
                        environ, limits=limits, say=said.append)  # fmt: skip
        completes = stored(packages) == built_sums
        outcome["ended"] = "partial, completed by a re-run" if completes else "partial, stuck"
    else:
        outcome["ended"] = "broken"
    return outcome


@pytest.mark.parametrize("batch", range(BATCHES))
def test_chaos_schedules(batch: int, chaos_index: tuple[Path, int], built_dist: Path) -> None:
    packages, port = chaos_index
    bad = []
    for seed in seeds_of(batch) if not REPLAY or batch == 0 else []:
        outcome = run_schedule(seed, packages, port, built_dist)
        CHAOS.append(outcome)
        if (
            outcome["ended"] in ("broken", "partial, stuck")
            or outcome["double_uploads"]
            or outcome["false_conflict"]
        ):
            bad.append(
                f"seed {seed} ({outcome['ended']}; {outcome['error'] or 'no error'}): replay with "
                f"FAULTS_CHAOS_SEEDS={seed} python3 -m uv run nox -s faults -- "
                "tests/faults/test_chaos.py"
            )
    assert not bad, "\n".join(bad)
