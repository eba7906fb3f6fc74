"""tasks.doctor's rules that need no repository."""

from __future__ import annotations

import pytest

from tasks.doctor import follows_the_branching_model


@pytest.mark.parametrize(
    ("branch", "follows"),
    [
        ("main", True),
        ("develop", True),
        ("feature/faster-verify", True),
        ("dependabot/uv/nox-2026.10.20", True),
        ("release/v1.4.0", True),
        ("release/v1.4.0rc1", True),
        ("release/1.4.0", False),
        ("release/vnext", False),
        ("hotfix/v1.4.1", True),
        ("hotfix/login", False),
        ("support/1.3", True),
        ("support/1.3.0", False),
        ("support/old", False),
        ("wip", False),
        ("mainline", False),
    ],
)
def test_the_branching_model(branch: str, follows: bool) -> None:
    assert follows_the_branching_model(branch) is follows
