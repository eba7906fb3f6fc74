"""Tests marked posix are skipped, with the reason, on Windows only."""

from __future__ import annotations

import os

import pytest

from tests import conftest


class Item:
    """What the collection hook reads and writes of a pytest item."""

    def __init__(self, *markers: str) -> None:
        self.markers = [getattr(pytest.mark, name).mark for name in markers]

    def get_closest_marker(self, name: str) -> pytest.Mark | None:
        return next((mark for mark in self.markers if mark.name == name), None)

    def add_marker(self, marker: pytest.MarkDecorator) -> None:
        self.markers.append(marker.mark)


@pytest.mark.parametrize(
    ("os_name", "skipped"),
    [
        pytest.param("nt", [True, False], id="windows"),
        pytest.param("posix", [False, False], id="posix"),
    ],
)
def test_posix_tests_are_skipped_on_windows_only(
    monkeypatch: pytest.MonkeyPatch, os_name: str, skipped: list[bool]
) -> None:
    items = [Item("posix"), Item("integration")]
    monkeypatch.setattr(os, "name", os_name)
    conftest.pytest_collection_modifyitems(items)  # type: ignore[arg-type]
    assert [item.get_closest_marker("skip") is not None for item in items] == skipped
    if os_name == "nt":
        assert "needs a POSIX host" in items[0].markers[-1].kwargs["reason"]
