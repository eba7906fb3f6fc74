"""agentops: set up and run evaluation workspaces for AI agents."""

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "agentops-accelerator"

try:
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["DISTRIBUTION", "__version__"]
