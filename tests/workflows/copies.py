"""What the act tests share: when they can run, and the project copies they run in.

A copy is the whole working tree as a checkout would hold it, committed, with a slice of tests/:
the jobs inside act run their own `nox -s tests`, and the outer run has run all of it already.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path, PurePosixPath

import pytest

from scripts import interpreters, processes
from scripts.scratch import copy_working_tree
from tasks.act import INSIDE_ACT
from tests.workflows import model

# The slices of tests/ a copy keeps (suite folders or test modules). ci.yml's run checks the
# reports of the tests cell, of coverage (its threshold needs the unit suite) and of machinery
# (the recursion guard needs the act module, and no other); a build job's `nox -s tests` needs
# only to pass.
CI_SLICE = ("tests/unit", "tests/workflows/test_workflows_act.py")
BUILD_SLICE = ("tests/unit/test_cli.py",)
ACT = processes.find_tool("act")

ACT_MARKS = [
    pytest.mark.workflows,
    pytest.mark.skipif(bool(os.environ.get(INSIDE_ACT)), reason="already inside an act run"),
]


def once_and_with_every_python() -> None:
    """Skip unless running from the noxfile's first Python (`nox -s tests` would repeat the same
    act runs once per Python) with every Python it declares installed (the jobs test on all)."""
    pythons = model.noxfile_pythons()
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if running != pythons[0]:
        pytest.skip(f"the act runs do not depend on pytest's Python: run from {pythons[0]} only")
    missing = [v for v in pythons if interpreters.find_interpreter(v, os.environ) is None]
    if missing:
        pytest.skip(f"Pythons not installed here: {', '.join(missing)}")


def in_slice(name: str, chosen: tuple[str, ...]) -> bool:
    """Whether file NAME (relative to the root) belongs in a copy whose tests are CHOSEN."""
    path = PurePosixPath(name)
    if path.parts[0] != "tests" or len(path.parts) == 2:
        return True  # not a test, or a helper every suite shares
    picks = [PurePosixPath(pick) for pick in chosen]
    if any(path.is_relative_to(pick) for pick in picks):
        return True
    # A suite with a chosen module keeps its own helpers (conftest, model), no other module.
    suite = PurePosixPath(*path.parts[:2])
    return any(pick.is_relative_to(suite) for pick in picks) and not path.name.startswith("test_")


def project_copy(destination: Path, tests: tuple[str, ...]) -> Path:
    """A git copy of the whole working tree, as a checkout would hold it, with a slice of tests/."""
    return copy_working_tree(destination, keep=lambda name: in_slice(name, tests))
