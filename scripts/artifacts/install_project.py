"""The throwaway project verify installs a release into: the package pinned to the index under
test (an explicit uv index), every dependency from the configured default index or PyPI."""

from __future__ import annotations

from collections.abc import Mapping

from scripts import PROJECT
from scripts.indexes import index_targets


def dependency_index(environ: Mapping[str, str]) -> str:
    """Where dependencies come from: the configured default index, else PyPI."""
    for name in ("UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_INDEX_URL"):
        if environ.get(name):
            return environ[name]
    return index_targets.KNOWN_TARGETS["pypi"].simple_url


def _toml_string(value: str) -> str:
    """VALUE as a TOML basic string: quotes, backslashes and control characters escaped."""
    escaped = "".join(
        f"\\u{ord(char):04x}" if char in '"\\' or ord(char) < 0x20 or ord(char) == 0x7F else char
        for char in value
    )
    return f'"{escaped}"'


def install_project(version: str, target_simple_url: str, dependencies_url: str) -> str:
    """A pyproject.toml that pins the package to the target index and all else to DEPENDENCIES_URL.

    uv's explicit index: only the package that names it in [tool.uv.sources] may come from it, so
    a same-named junk dependency on TestPyPI can never be picked.
    """
    return f"""\
[project]
name = "verify-{PROJECT}"
version = "0"
requires-python = ">=3.11"
dependencies = [{_toml_string(f"{PROJECT}=={version}")}]

[tool.uv]
package = false

[tool.uv.sources]
{PROJECT} = {{ index = "target" }}

[[tool.uv.index]]
name = "target"
url = {_toml_string(target_simple_url)}
explicit = true

[[tool.uv.index]]
name = "dependencies"
url = {_toml_string(dependencies_url)}
default = true
"""
