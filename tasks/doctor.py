"""`invoke doctor`: is this checkout, this machine and this shell ready to release?"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass

from invoke.context import Context

from scripts import gitops, interpreters, processes
from scripts.versioning import versions

from .gh import gh_api
from .github import github_repository
from .steps import DEVELOP, MAIN, REMOTE, Refused, repository, task


def follows_the_branching_model(branch: str) -> bool:
    """Whether BRANCH is main, develop, feature/*, release/vX.Y.Z, hotfix/vX.Y.Z or support/X.Y."""
    if branch in (MAIN, DEVELOP) or branch.startswith(("feature/", "dependabot/")):
        return True
    if branch.startswith(("release/v", "hotfix/v")):
        return versions.release_of(branch.partition("/")[2]) is not None
    return versions.maintained_line(branch) is not None


@dataclass(frozen=True)
class Check:
    """One row of `invoke doctor`."""

    name: str
    status: str  # ok, warn or FAIL
    detail: str
    fix: str = ""


def _git_checks() -> list[Check]:
    if not gitops.is_repository():
        return [Check("git repository", "FAIL", "not inside a git work tree", "git clone <url>")]
    checks = [Check("git repository", "ok", str(repository()))]
    if gitops.is_shallow():
        checks.append(
            Check(
                "full history",
                "FAIL",
                "shallow clone: setuptools-scm cannot see the tags",
                "git fetch --unshallow --tags",
            )
        )
    else:
        checks.append(Check("full history", "ok", "not shallow"))
    latest = versions.latest_release(gitops.local_tags())
    if latest:
        checks.append(Check("release tags", "ok", f"latest {latest.tag}"))
    else:
        checks.append(
            Check(
                "release tags", "warn", "no vX.Y.Z tag: the version is 0.1.devN", "git fetch --tags"
            )
        )
    checks.append(_version_check())
    branch = gitops.current_branch()
    if branch is None:
        checks.append(Check("branch", "warn", "detached HEAD", f"git switch {DEVELOP}"))
    elif follows_the_branching_model(branch):
        checks.append(Check("branch", "ok", branch))
    else:
        checks.append(
            Check(
                "branch",
                "warn",
                f"{branch} is not named per the branching model",
                f"git branch -m feature/{branch}",
            )
        )
    return checks


def _version_check() -> Check:
    try:
        from setuptools_scm import get_version

        # The project's own settings (fail_on_shallow among them), never a file-writing one.
        with (repository() / "pyproject.toml").open("rb") as handle:
            settings = tomllib.load(handle).get("tool", {}).get("setuptools_scm", {})
        for writes in ("write_to", "version_file"):
            settings.pop(writes, None)
        version = get_version(root=str(repository()), **settings)
    except Exception as error:  # a broken checkout: report it, do not crash the table
        fix = "git fetch --unshallow --tags" if gitops.is_shallow() else "git fetch --tags"
        return Check("version", "FAIL", f"setuptools-scm failed: {error}", fix)
    kind = versions.describe_version(version)
    return Check("version", "ok", f"{version} ({kind})")


def _tool_checks() -> list[Check]:
    checks = []
    for tool, blocker in (("uv", True), ("nox", True), ("gh", False)):
        found = processes.find_tool(tool)
        if found:
            checks.append(Check(tool, "ok", found))
        else:
            fix = (
                "apt-get install gh (needed for the GitHub tasks)"
                if tool == "gh"
                else (f"python3 -m pip install {tool}")
            )
            checks.append(Check(tool, "FAIL" if blocker else "warn", "not found", fix))
    for version in interpreters.supported_versions(repository() / "pyproject.toml"):
        found_python = interpreters.find_interpreter(version, os.environ)
        if found_python:
            checks.append(Check(f"python {version}", "ok", str(found_python)))
        else:
            checks.append(
                Check(
                    f"python {version}",
                    "warn",
                    "not found: tests skip it",
                    f"pyenv install {version}",
                )
            )
    if processes.find_tool("gh"):
        authenticated = gh_api("user").status == 200  # REST, as every other call: who is asking

        checks.append(
            Check("gh auth", "ok", "authenticated")
            if authenticated
            else Check("gh auth", "warn", "not logged in", "gh auth login")
        )
    present = [v for v in ("TEST_PYPI_TOKEN", "PYPI_TOKEN", "TWINE_PASSWORD") if os.environ.get(v)]
    checks.append(
        Check("publishing credentials", "ok", f"set: {', '.join(present)}")
        if present
        else Check(
            "publishing credentials",
            "warn",
            "none set (fine locally: rehearse needs none)",
            "export TEST_PYPI_TOKEN=... (CI uses trusted publishing)",
        )
    )
    return checks


def _github_checks() -> list[Check]:
    """What the repository's GitHub settings must allow, where gh can ask: Actions opening the
    release PR (cut-release.yml)."""
    repo = github_repository(gitops.remote_url(REMOTE) or "")
    if repo is None or not processes.find_tool("gh"):
        return []  # not on GitHub, or no gh: the gh rows above say so
    name = "actions may open PRs"
    answer = gh_api(f"repos/{repo}/actions/permissions/workflow")
    settings = answer.body
    if answer.status != 200 or not isinstance(settings, dict):
        why = answer.why or f"GitHub answered HTTP {answer.status}"
        return [Check(name, "warn", f"cannot ask GitHub: {why}", "gh auth login")]
    if settings.get("can_approve_pull_request_reviews") is True:
        return [Check(name, "ok", f"{repo}: cut-release.yml can open the release PR")]
    return [
        Check(
            name,
            "warn",
            f"{repo}: GitHub Actions may not create pull requests, so cut-release.yml cannot "
            "open the release PR",
            "invoke setup-github (or Settings > Actions > General > Allow GitHub Actions to "
            "create and approve pull requests)",
        )
    ]


@task
def doctor(c: Context) -> None:
    """Check the repository, tools and credentials; print each problem with its exact fix."""
    checks = _git_checks() + _tool_checks() + _github_checks()
    widths = [max(len(getattr(check, f)) for check in checks) for f in ("name", "status", "detail")]
    for check in checks:
        cells = (check.name, check.status, check.detail)
        row = "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        print(
            f"{row}  {'fix: ' + check.fix if check.fix and check.status != 'ok' else ''}".rstrip()
        )
    blockers = [check.name for check in checks if check.status == "FAIL"]
    if blockers:
        raise Refused(f"blocked by: {', '.join(blockers)}")
