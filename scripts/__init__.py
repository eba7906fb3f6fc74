"""Release helpers shared by noxfile.py, tasks/ and benchmarks/."""

import tomllib
from pathlib import Path

# The distribution these helpers release, as pyproject.toml names it.
PROJECT: str = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text("utf-8"))[
    "project"
]["name"]
