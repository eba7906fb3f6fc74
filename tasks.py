"""Every task that changes git or GitHub, and one-line aliases of the nox sessions.

`invoke --list` is the menu and `invoke --help TASK` explains a task's options. Tasks that change
something check every precondition first and change nothing until all hold; --dry-run prints the
exact commands instead of running them; when a later step fails, what was done is undone and the
message says what, if anything, reached origin.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))  # the shared helpers in scripts/

from scripts import changelog, files, gitops, interpreters, manifest, versions  # noqa: E402
from scripts.output import last_line  # noqa: E402

REMOTE = "origin"
MAIN = "main"
DEVELOP = "develop"
CHANGELOG = "CHANGELOG.md"
CHECKLIST = ROOT / "docs" / "release-checklist.md"
SHIPPED = ("src/", "pyproject.toml")
NO_CHANGELOG_LABEL = "no-changelog"
# Short-lived branches of the branching model, besides main and develop.
BRANCH_PREFIXES = ("feature/", "release/v", "hotfix/", "dependabot/")


# --- shared pieces --------------------------------------------------------------------------


class StepFailed(Exception):
    """A command that changes something failed."""


def _error(task_name: str, message: str) -> Exit:
    return Exit(f"{task_name}: error: {message}", code=1)


def _release_version(task_name: str, text: str) -> str:
    try:
        return versions.parse_release_version(text)
    except versions.VersionError as error:
        raise _error(task_name, str(error)) from None


def _shown(argv: Iterable[str]) -> str:
    """ARGV for a one-line message: multi-line or long arguments (a PR body) shown as `...`."""
    return shlex.join(arg if "\n" not in arg and len(arg) <= 80 else "..." for arg in argv)


def _run(c: Context, argv: Iterable[str], *, dry_run: bool) -> str:
    """Run one command that changes something (printed first; only printed with --dry-run)."""
    argv = list(argv)
    command = shlex.join(argv)
    result = c.run(command, dry=dry_run, echo=True, warn=True, hide="both", pty=False)
    if result is None or not result.ok:
        output = (result.stderr or result.stdout) if result is not None else ""
        raise StepFailed(f"`{_shown(argv)}` failed: {last_line(output)}")
    return str(result.stdout)


def _switch_back() -> list[str]:
    """The command that returns to where HEAD is now: its branch, or the commit if detached."""
    branch = gitops.current_branch()
    return ["git", "switch", branch] if branch else ["git", "switch", "--detach", gitops.head()]


def _failure(error: BaseException) -> str:
    """What stopped a task, in words (Ctrl-C has none of its own)."""
    return "interrupted" if isinstance(error, KeyboardInterrupt) else str(error)


@dataclass
class Undo:
    """What a task has done so far, to be undone in reverse order if a later step fails."""

    c: Context
    local: list[list[list[str]]] = field(default_factory=list)
    remote: list[tuple[str, list[str]]] = field(default_factory=list)

    def add(self, *commands: list[str]) -> None:
        """Remember the commands that undo a local change, in the order to run them."""
        self.local.append(list(commands))

    def add_remote(self, description: str, command: list[str]) -> None:
        """Remember something that reached origin, and the command that takes it back."""
        self.remote.append((description, command))

    def rollback(self) -> str:
        """Undo everything; return one sentence about origin and anything left to do by hand."""
        notes = []
        for description, command in reversed(self.remote):
            result = self.c.run(shlex.join(command), warn=True, hide="both", pty=False)
            if result is not None and result.ok:
                notes.append(f"{description} reached origin and was removed again")
            else:
                notes.append(f"{description} is still on origin: run `{shlex.join(command)}`")
        for commands in reversed(self.local):
            for command in commands:
                self.c.run(shlex.join(command), warn=True, hide="both", pty=False)
        if not notes:
            return "nothing reached origin; local changes were undone"
        return "; ".join(notes) + "; local changes were undone"


def _require_clean(task_name: str) -> None:
    dirty = gitops.dirty_files()
    if dirty:
        shown = ", ".join(dirty[:3]) + (", ..." if len(dirty) > 3 else "")
        raise _error(
            task_name, f"the working tree has uncommitted changes ({shown}): commit or stash"
        )


def _origin_refs(task_name: str) -> dict[str, str]:
    try:
        return gitops.remote_refs(REMOTE)
    except gitops.GitError as error:
        raise _error(task_name, f"cannot read {REMOTE}: {error}") from None


def _require_newer(task_name: str, version: str, origin: dict[str, str]) -> None:
    local, remote = set(gitops.local_tags()), set(gitops.remote_tags(origin))
    stray = versions.stray_tags(local | remote)
    if stray:
        raise _error(
            task_name,
            f"tag {', '.join(stray)} names a version but is not a vX.Y.Z release tag, and "
            f"setuptools-scm would read it: delete it first (`git tag -d {stray[0]}`, "
            f"`git push {REMOTE} --delete refs/tags/{stray[0]}`)",
        )
    try:
        versions.require_newer(version, local | remote)
    except versions.VersionError as error:
        raise _error(task_name, str(error)) from None


def _today() -> datetime.date:
    return datetime.datetime.now(tz=datetime.UTC).date()


def _checklist(version: str) -> str:
    return CHECKLIST.read_text(encoding="utf-8").replace("X.Y.Z", version)


def _nox(c: Context, session: str, *args: str) -> None:
    extra = f" -- {shlex.join(args)}" if args else ""
    c.run(f"nox -s {session}{extra}", pty=False)


# --- aliases of the nox sessions ------------------------------------------------------------


@task
def lint(c: Context) -> None:
    """Run `nox -s lint`."""
    _nox(c, "lint")


@task(help={"python": "one Python version, e.g. 3.12 (default: every supported one)"})
def test(c: Context, python: str = "") -> None:
    """Run `nox -s tests` (or `nox -s tests-PYTHON`)."""
    _nox(c, f"tests-{python}" if python else "tests")


@task
def coverage(c: Context) -> None:
    """Run `nox -s coverage`."""
    _nox(c, "coverage")


@task
def build(c: Context) -> None:
    """Run `nox -s build`."""
    _nox(c, "build")


@task(help={"target": "testpypi, pypi, local (default) or an upload URL"})
def publish(c: Context, target: str = "local") -> None:
    """Run `nox -s publish -- TARGET`."""
    _nox(c, "publish", target)


@task(help={"target": "testpypi, pypi, local (default) or an index URL"})
def verify(c: Context, target: str = "local") -> None:
    """Run `nox -s verify -- TARGET`."""
    _nox(c, "verify", target)


@task
def rehearse(c: Context) -> None:
    """Run `nox -s rehearse`."""
    _nox(c, "rehearse")


# --- CI ----------------------------------------------------------------------------------------


def _nox_json(*args: str) -> list[dict[str, object]]:
    result = subprocess.run(
        [sys.executable, "-m", "nox", "--list", "--json", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    sessions: list[dict[str, object]] = json.loads(result.stdout)
    return sessions


@task
def ci_matrix(c: Context) -> None:
    """Print the Python versions of the test matrix (and write them to $GITHUB_OUTPUT in CI)."""
    pythons = [str(s["python"]) for s in _nox_json("--sessions", "tests")]
    line = json.dumps(pythons)
    print(line)
    if output := os.environ.get("GITHUB_OUTPUT"):
        with Path(output).open("a", encoding="utf-8") as handle:
            handle.write(f"python={line}\n")


@task
def ci(c: Context) -> None:
    """Run the CI workflow's sessions locally, in order; stop at the first failure."""
    sessions = [str(s["session"]) for s in _nox_json("--tags", "ci")]
    for session in sessions:
        result = c.run(f"nox -s {session}", warn=True, pty=False)
        if result is None or not result.ok:
            raise _error("ci", f"{session} failed; reproduce it with: nox -s {session}")
    print(f"ci: {len(sessions)} sessions passed: {', '.join(sessions)}")


@task(
    help={
        "base": "the branch the change goes into (default: origin/develop)",
        "labels": "the PR's labels, comma-separated (default: $PR_LABELS)",
    }
)
def check_changelog(c: Context, base: str = f"{REMOTE}/{DEVELOP}", labels: str = "") -> None:
    """Fail when a change to src/ or pyproject.toml adds no CHANGELOG entry (PR gate)."""
    given = labels or os.environ.get("PR_LABELS", "")
    if NO_CHANGELOG_LABEL in {label.strip() for label in given.split(",")}:
        print(f"check-changelog: skipped (labelled {NO_CHANGELOG_LABEL})")
        return
    try:
        merge_base = gitops.git("merge-base", base, "HEAD")
        changed = gitops.changed_files(base)
    except gitops.GitError as error:
        raise _error("check-changelog", str(error)) from None
    shipped = [name for name in changed if name.startswith(SHIPPED)]
    if not shipped:
        print("check-changelog: no shipped file changed; no entry needed")
        return
    before = gitops.show(merge_base, CHANGELOG)
    after = gitops.show("HEAD", CHANGELOG)
    try:
        old = set(changelog.unreleased_entries(before)) if before else set()
        new = [e for e in changelog.unreleased_entries(after or "") if e not in old]
    except changelog.ChangelogError as error:
        raise _error("check-changelog", f"{CHANGELOG}: {error}") from None
    if not new:
        shown = ", ".join(shipped[:3]) + (", ..." if len(shipped) > 3 else "")
        raise _error(
            "check-changelog",
            f"this change touches {shown} but adds no entry under [Unreleased] in {CHANGELOG} "
            f"(or label the PR {NO_CHANGELOG_LABEL}); reproduce with: "
            f"invoke check-changelog --base {base}",
        )
    print(
        f"check-changelog: {len(new)} new entr{'y' if len(new) == 1 else 'ies'} under [Unreleased]"
    )


# --- the release flow -----------------------------------------------------------------------


@task(
    help={
        "version": "the release, X.Y.Z (a leading v is accepted)",
        "dry_run": "print every step and the new CHANGELOG section; change nothing",
    }
)
def cut_release(c: Context, version: str, dry_run: bool = False) -> None:
    """Branch release/vX.Y.Z from origin/develop, date the CHANGELOG, push, open the PR."""
    name = "cut-release"
    version = _release_version(name, version)
    branch = f"release/v{version}"
    _require_clean(name)
    if gitops.local_branch_exists(branch):
        raise _error(name, f"branch {branch} already exists locally")
    origin = _origin_refs(name)
    if f"refs/heads/{branch}" in origin:
        raise _error(name, f"branch {branch} already exists on {REMOTE}")
    _require_newer(name, version, origin)
    develop = origin.get(f"refs/heads/{DEVELOP}")
    if develop is None:
        raise _error(name, f"{REMOTE} has no {DEVELOP} branch to release from")
    if not dry_run:
        try:
            _run(c, ["git", "fetch", "--no-tags", REMOTE, DEVELOP], dry_run=False)
        except StepFailed as error:
            raise _error(name, str(error)) from None
        develop = gitops.rev(f"{REMOTE}/{DEVELOP}") or develop
    elif not gitops.has_object(develop):
        print(f"note: {REMOTE}/{DEVELOP} has commits not fetched yet; the real run fetches them")
        develop = f"{REMOTE}/{DEVELOP}"
    text = gitops.show(develop, CHANGELOG)
    if text is None:
        raise _error(name, f"{REMOTE}/{DEVELOP} has no {CHANGELOG}")
    try:
        new_text = changelog.release(text, version, _today())
        section = changelog.section_text(new_text, version)
    except ValueError as error:
        raise _error(name, f"{CHANGELOG} on {REMOTE}/{DEVELOP}: {error}") from None
    back = _switch_back()
    title = f"Release v{version}"
    if dry_run:
        print(f"The new section of {CHANGELOG}:\n\n## [{version}] - {_today()}\n\n{section}\n")
    undo = Undo(c)
    try:
        _run(c, ["git", "switch", "--no-track", "-c", branch, develop], dry_run=dry_run)
        undo.add(back, ["git", "branch", "-D", branch])
        if dry_run:
            print(f"(write {CHANGELOG}: [Unreleased] entries move under ## [{version}])")
        else:
            try:
                files.write_atomic(ROOT / CHANGELOG, new_text)
            except OSError as error:
                raise StepFailed(f"cannot write {CHANGELOG}: {error.strerror or error}") from None
        undo.add(["git", "checkout", "HEAD", "--", CHANGELOG])
        _run(c, ["git", "add", CHANGELOG], dry_run=dry_run)
        _run(c, ["git", "commit", "-m", f"chore: prepare release {version}"], dry_run=dry_run)
        _run(c, ["git", "push", "--set-upstream", REMOTE, branch], dry_run=dry_run)
        undo.add_remote(f"branch {branch}", ["git", "push", REMOTE, "--delete", branch])
        _run(
            c,
            [
                "gh", "pr", "create", "--base", MAIN, "--head", branch,
                "--title", title, "--body", _checklist(version),
            ],
            dry_run=dry_run,
        )  # fmt: skip
    except (StepFailed, OSError, KeyboardInterrupt) as error:
        raise _error(name, f"{_failure(error)}; {undo.rollback()}") from None
    if not dry_run:
        print(f"cut-release: {branch} pushed and the PR to {MAIN} opened")


@task(
    help={
        "version": "the release, X.Y.Z (a leading v is accepted)",
        "dry_run": "print the tag message and the commands; change nothing",
    }
)
def tag(c: Context, version: str, dry_run: bool = False) -> None:
    """Tag main as vX.Y.Z (annotated, CHANGELOG section as message) and push that tag alone."""
    name = "tag"
    version = _release_version(name, version)
    tag_name = versions.tag_name(version)
    if gitops.current_branch() != MAIN:
        raise _error(name, f"tags are made on {MAIN}: run `git switch {MAIN}` first")
    _require_clean(name)
    origin = _origin_refs(name)
    remote_main = origin.get(f"refs/heads/{MAIN}")
    if remote_main != gitops.head():
        raise _error(
            name,
            f"{MAIN} is not level with {REMOTE}/{MAIN}: run `git pull --ff-only` "
            "(or push your commits through a PR) first",
        )
    if tag_name in gitops.local_tags():
        raise _error(name, f"tag {tag_name} already exists locally")
    if f"refs/tags/{tag_name}" in origin:
        raise _error(name, f"tag {tag_name} already exists on {REMOTE}")
    _require_newer(name, version, origin)
    if not (ROOT / CHANGELOG).is_file():
        raise _error(name, f"{MAIN} has no {CHANGELOG} (merge the release PR first)")
    text = (ROOT / CHANGELOG).read_text(encoding="utf-8")
    try:
        section = changelog.section_text(text, version)
    except ValueError as error:
        raise _error(name, f"{CHANGELOG}: {error} (merge the release PR first)") from None
    message = f"Release {version}\n\n{section}\n"
    undo = Undo(c)
    try:
        _run(
            c,
            ["git", "tag", "--annotate", "--cleanup=verbatim", "-m", message, tag_name],
            dry_run=dry_run,
        )
        undo.add(["git", "tag", "--delete", tag_name])
        _run(c, ["git", "push", REMOTE, f"refs/tags/{tag_name}"], dry_run=dry_run)
    except (StepFailed, KeyboardInterrupt) as error:
        raise _error(name, f"{_failure(error)}; {undo.rollback()}") from None
    if not dry_run:
        print(f"tag: {tag_name} pushed; the release workflow takes it from here")


@task(
    help={
        "version": "the release, X.Y.Z (a leading v is accepted)",
        "dry_run": "print the commands; change nothing",
    }
)
def finish_release(c: Context, version: str, dry_run: bool = False) -> None:
    """After the tag: merge main back into develop, push it, delete release/vX.Y.Z."""
    name = "finish-release"
    version = _release_version(name, version)
    tag_name = versions.tag_name(version)
    branch = f"release/v{version}"
    _require_clean(name)
    origin = _origin_refs(name)
    if f"refs/tags/{tag_name}" not in origin:
        raise _error(name, f"tag {tag_name} is not on {REMOTE}: run `invoke tag {version}` first")
    for needed in (MAIN, DEVELOP):
        if f"refs/heads/{needed}" not in origin:
            raise _error(name, f"{REMOTE} has no {needed} branch")
    back = _switch_back()
    local_develop = gitops.rev(DEVELOP)
    undo = Undo(c)
    try:
        _run(c, ["git", "fetch", "--no-tags", REMOTE, MAIN, DEVELOP], dry_run=dry_run)
        if local_develop is None:
            _run(c, ["git", "switch", "-c", DEVELOP, f"{REMOTE}/{DEVELOP}"], dry_run=dry_run)
            undo.add(back, ["git", "branch", "-D", DEVELOP])
        else:
            _run(c, ["git", "switch", DEVELOP], dry_run=dry_run)
            undo.add(["git", "reset", "--hard", local_develop], back)
            _run(c, ["git", "merge", "--ff-only", f"{REMOTE}/{DEVELOP}"], dry_run=dry_run)
        try:
            _run(
                c,
                [
                    "git", "merge", "--no-ff", "--no-edit", "-m",
                    f"chore: merge {MAIN} ({tag_name}) back into {DEVELOP}", f"{REMOTE}/{MAIN}",
                ],
                dry_run=dry_run,
            )  # fmt: skip
        except StepFailed:
            c.run("git merge --abort", warn=True, hide="both", pty=False)
            raise StepFailed(
                f"merging {MAIN} into {DEVELOP} conflicts: merge by hand in a PR to {DEVELOP}"
            ) from None
        _run(c, ["git", "push", REMOTE, DEVELOP], dry_run=dry_run)
    except (StepFailed, KeyboardInterrupt) as error:
        raise _error(name, f"{_failure(error)}; {undo.rollback()}") from None
    # develop is on origin now: what follows is tidying, reported but not undone.
    problems = []
    if gitops.local_branch_exists(branch):
        try:
            _run(c, ["git", "branch", "--delete", branch], dry_run=dry_run)
        except StepFailed as error:
            problems.append(str(error))
    if f"refs/heads/{branch}" in origin:
        try:
            _run(c, ["git", "push", REMOTE, "--delete", branch], dry_run=dry_run)
        except StepFailed as error:
            problems.append(str(error))
    if problems:
        raise _error(name, f"{DEVELOP} was merged and pushed, but: {'; '.join(problems)}")
    if not dry_run:
        print(f"finish-release: {MAIN} merged back into {DEVELOP}; {branch} deleted")


@task(
    help={
        "version": "the release, X.Y.Z (a leading v is accepted)",
        "dist": "the folder of built files (default: dist)",
        "dry_run": "print the gh command; change nothing",
    }
)
def github_release(c: Context, version: str, dist: str = "dist", dry_run: bool = False) -> None:
    """Create the GitHub Release for vX.Y.Z with dist/ files and the CHANGELOG section."""
    name = "github-release"
    version = _release_version(name, version)
    tag_name = versions.tag_name(version)
    folder = Path(dist)
    try:
        sums = manifest.check_dist(folder)
        manifest.check_version(sums, version)
    except manifest.ManifestError as error:
        raise _error(name, str(error)) from None
    text = (ROOT / CHANGELOG).read_text(encoding="utf-8") if (ROOT / CHANGELOG).exists() else ""
    try:
        notes = changelog.section_text(text, version)
    except ValueError as error:
        raise _error(name, f"{CHANGELOG}: {error}") from None
    files = [str(folder / filename) for filename in sorted(sums)]
    files.append(str(folder / manifest.MANIFEST_NAME))
    try:
        _run(
            c,
            [
                "gh", "release", "create", tag_name, "--verify-tag", "--title", tag_name,
                "--notes", notes, "--generate-notes", *files,
            ],
            dry_run=dry_run,
        )  # fmt: skip
    except StepFailed as error:
        raise _error(name, str(error)) from None


# --- the repository's health and GitHub's settings ------------------------------------------


@dataclass(frozen=True)
class Check:
    """One row of `invoke doctor`."""

    name: str
    status: str  # ok, warn or FAIL
    detail: str
    fix: str = ""


def _which(tool: str) -> str | None:
    return shutil.which(tool) or shutil.which(tool, path=str(Path(sys.executable).parent))


def _git_checks() -> list[Check]:
    if not gitops.is_repository():
        return [Check("git repository", "FAIL", "not inside a git work tree", "git clone <url>")]
    checks = [Check("git repository", "ok", str(ROOT))]
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
    tags = versions.release_tags(gitops.local_tags())
    if tags:
        checks.append(Check("release tags", "ok", f"latest v{tags[-1]}"))
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
    elif branch in (MAIN, DEVELOP) or branch.startswith(BRANCH_PREFIXES):
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
        with (ROOT / "pyproject.toml").open("rb") as handle:
            settings = tomllib.load(handle).get("tool", {}).get("setuptools_scm", {})
        for writes in ("write_to", "version_file"):
            settings.pop(writes, None)
        version = get_version(root=str(ROOT), **settings)
    except Exception as error:  # a broken checkout: report it, do not crash the table
        return Check("version", "FAIL", f"setuptools-scm failed: {error}", "git fetch --tags")
    kind = versions.describe_version(version)
    return Check("version", "ok", f"{version} ({kind})")


def _tool_checks() -> list[Check]:
    checks = []
    for tool, blocker in (("uv", True), ("nox", True), ("gh", False)):
        found = _which(tool)
        if found:
            checks.append(Check(tool, "ok", found))
        else:
            fix = (
                "apt-get install gh (needed for the GitHub tasks)"
                if tool == "gh"
                else (f"python3 -m pip install {tool}")
            )
            checks.append(Check(tool, "FAIL" if blocker else "warn", "not found", fix))
    for version in ("3.11", "3.12", "3.13"):
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
    if _which("gh"):
        authenticated = (
            subprocess.run(["gh", "auth", "status"], capture_output=True, check=False).returncode
            == 0
        )
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


@task
def doctor(c: Context) -> None:
    """Check the repository, tools and credentials; print each problem with its exact fix."""
    checks = _git_checks() + _tool_checks()
    widths = [max(len(getattr(check, f)) for check in checks) for f in ("name", "status", "detail")]
    for check in checks:
        cells = (check.name, check.status, check.detail)
        row = "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        print(
            f"{row}  {'fix: ' + check.fix if check.fix and check.status != 'ok' else ''}".rstrip()
        )
    blockers = [check.name for check in checks if check.status == "FAIL"]
    if blockers:
        raise _error("doctor", f"blocked by: {', '.join(blockers)}")


GITHUB_URL = re.compile(r"github\.com[:/](?P<repo>[^/]+/[^/]+?)(?:\.git)?/?$")
STATUS_CHECKS = ("lint", "coverage")


def _github_repo(task_name: str, repo: str) -> str:
    if repo:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repo):
            raise _error(task_name, f"--repo must be OWNER/NAME, got {repo!r}")
        return repo
    url = gitops.remote_url(REMOTE) or ""
    match = GITHUB_URL.search(url)
    if not match:
        raise _error(
            task_name, f"{REMOTE} ({url or 'missing'}) is not on GitHub: pass --repo OWNER/NAME"
        )
    return match.group("repo")


def github_settings(
    repo: str, reviewer_ids: list[object], checks: list[str]
) -> list[tuple[str, str, dict[str, object]]]:
    """The (method, endpoint, payload) calls that make GitHub match the release design."""
    status = {"strict": True, "contexts": checks}
    return [
        ("PUT", f"repos/{repo}/environments/staging", {}),
        (
            "PUT",
            f"repos/{repo}/environments/release",
            {
                "reviewers": [{"type": "User", "id": i} for i in reviewer_ids],
                "prevent_self_review": False,
                "deployment_branch_policy": {
                    "protected_branches": False,
                    "custom_branch_policies": True,
                },
            },
        ),
        (
            "POST",
            f"repos/{repo}/environments/release/deployment-branch-policies",
            {"name": "main", "type": "branch"},
        ),
        (
            "POST",
            f"repos/{repo}/environments/release/deployment-branch-policies",
            {"name": "v*", "type": "tag"},
        ),
        (
            "PUT",
            f"repos/{repo}/branches/{MAIN}/protection",
            {
                "required_status_checks": status,
                "enforce_admins": True,
                "required_pull_request_reviews": {
                    "required_approving_review_count": 1,
                    "dismiss_stale_reviews": True,
                },
                "restrictions": None,
                "allow_force_pushes": False,
                "allow_deletions": False,
            },
        ),
        (
            "PUT",
            f"repos/{repo}/branches/{DEVELOP}/protection",
            {
                "required_status_checks": status,
                "enforce_admins": False,
                "required_pull_request_reviews": {"required_approving_review_count": 0},
                "restrictions": None,
                "allow_force_pushes": False,
                "allow_deletions": False,
            },
        ),
        (
            "POST",
            f"repos/{repo}/rulesets",
            {
                "name": "release branches",
                "target": "branch",
                "enforcement": "active",
                "conditions": {"ref_name": {"include": ["refs/heads/release/*"], "exclude": []}},
                "rules": [
                    {"type": "non_fast_forward"},
                    {
                        "type": "required_status_checks",
                        "parameters": {
                            "strict_required_status_checks_policy": False,
                            "required_status_checks": [{"context": check} for check in checks],
                        },
                    },
                ],
            },
        ),
    ]


def _gh_api(c: Context, method: str, endpoint: str, payload: object, *, dry_run: bool) -> str:
    """Call `gh api` with a JSON payload; with --dry-run print the call and the payload."""
    body = json.dumps(payload, indent=2)
    if dry_run:
        print(f"gh api --method {method} {endpoint} --input -\n{body}")
        return ""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        handle.write(body)
    try:
        return _run(
            c, ["gh", "api", "--method", method, endpoint, "--input", handle.name], dry_run=False
        )
    finally:
        Path(handle.name).unlink(missing_ok=True)


def _gh_get(c: Context, endpoint: str) -> object:
    return json.loads(_run(c, ["gh", "api", endpoint], dry_run=False) or "null")


@task(
    help={
        "repo": "OWNER/NAME (default: parsed from the origin URL)",
        "reviewers": "GitHub logins who approve production releases, comma-separated",
        "checks": f"required status checks, comma-separated (default: {','.join(STATUS_CHECKS)})",
        "dry_run": "print each API call with its JSON payload; call nothing",
    }
)
def setup_github(
    c: Context, repo: str = "", reviewers: str = "", checks: str = "", dry_run: bool = False
) -> None:
    """Create the staging/release environments and protect main, develop and release/*."""
    name = "setup-github"
    repo = _github_repo(name, repo)
    logins = [login.strip() for login in reviewers.split(",") if login.strip()]
    required = [check.strip() for check in checks.split(",") if check.strip()] or list(
        STATUS_CHECKS
    )
    if not dry_run and not _which("gh"):
        raise _error(name, "gh is not installed: apt-get install gh, then gh auth login")
    try:
        ids: list[object] = []
        for login in logins:
            if dry_run:
                print(f"gh api users/{login} --jq .id")
                ids.append(f"<id of {login}>")
            else:
                ids.append(
                    int(_run(c, ["gh", "api", f"users/{login}", "--jq", ".id"], dry_run=False))
                )
        calls = github_settings(repo, ids, required)
        existing_policies: set[tuple[str, str]] = set()
        rulesets: dict[str, int] = {}
        if not dry_run:
            found = _gh_get(c, f"repos/{repo}/environments/release/deployment-branch-policies")
            if isinstance(found, dict):
                existing_policies = {
                    (p["name"], p.get("type", "branch")) for p in found.get("branch_policies", [])
                }
            listed = _gh_get(c, f"repos/{repo}/rulesets")
            if isinstance(listed, list):
                rulesets = {r["name"]: r["id"] for r in listed}
        for method, endpoint, payload in calls:
            key = str(payload.get("name", ""))
            if endpoint.endswith("policies") and (key, payload["type"]) in existing_policies:
                print(f"setup-github: deployment policy {key} already there")
                continue
            if endpoint.endswith("/rulesets") and key in rulesets:
                method, endpoint = "PUT", f"{endpoint}/{rulesets[key]}"
            _gh_api(c, method, endpoint, payload, dry_run=dry_run)
    except (StepFailed, ValueError) as error:
        raise _error(
            name, f"{error} (every call is idempotent: fix the cause and re-run)"
        ) from None
    if not dry_run:
        print(f"setup-github: {repo} has the staging and release environments and branch rules")
