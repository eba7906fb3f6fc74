"""Release helpers shared by noxfile.py, tasks/ and benchmarks/."""

import tomllib
from pathlib import Path

_PYPROJECT = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text("utf-8"))
# The distribution these helpers release, and the command it installs, as pyproject.toml names
# them ([project] name, the one [project.scripts] entry).
PROJECT: str = _PYPROJECT["project"]["name"]
COMMAND: str = next(iter(_PYPROJECT["project"]["scripts"]))
