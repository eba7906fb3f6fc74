"""`invoke rehearse-release`: the whole release of HEAD, rehearsed in a throwaway folder.

A clone of HEAD with a bare origin (main and develop), two pypiservers on 127.0.0.1 standing in
for the staging and production indexes (the repository variables point the workflows at them),
and the recording gh stand-in. Then the release as the guide cuts it: cut-release, staging.yml
under act, the release PR merged, tag, release.yml under act in its `needs:` order up to the
approval gate and, with --approve, through it, and finish-release. act runs the real jobs; only
the third-party actions are stand-ins (scripts/stand-ins). The user's repository is only read.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from invoke.context import Context

from scripts import act, changelog, index, manifest, verify, versions
from scripts.local_index import LocalIndex, LocalIndexError, start_local_index
from scripts.output import last_line
from scripts.rehearsal import (
    FAILED,
    NOT_RUN,
    PASSED,
    JobProgress,
    Step,
    gh_calls,
    option_value,
    planned_jobs,
    release_created,
    same_files,
    table,
)

from .steps import DEVELOP, MAIN, ROOT, Refused, parse_release, shown, task

PROJECT = "agentops-accelerator"
GATED_JOB = "publish-pypi"  # release.yml's job behind the `release` environment's approval
BEFORE_GATE = "verify-testpypi"  # release.yml's last job before it
GATE = "approval gate (environment release)"
IDENTITY = {"user.name": "Release Rehearsal", "user.email": "rehearsal@example.invalid"}
USERNAME = "rehearsal"
REHEARSAL_ENTRY = "A rehearsal of the release (this entry exists only in the rehearsal's clone)."
HOTFIX_ENTRY = "A rehearsal of the hotfix (this entry exists only in the rehearsal's clone)."
SUPPORT_ENTRY = (
    "A rehearsal of a fix on the line (this entry exists only in the rehearsal's clone)."
)
# The repository variables the rehearsal sets itself: they point the workflows at the stand-ins.
OWN_VARIABLES = ("STAGING_INDEX", "PRODUCTION_INDEX")
FLOWS = ("release", "hotfix", "support")
SKIPPED_SUITES = "the rehearsal's builds run the unit matrix; CI runs the machinery on each push"


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # nox colours its log lines


class StepError(Exception):
    """A step of the rehearsal failed; the message says which command and why, in one line."""


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise StepError(f"`git {shown(args)}` failed: {last_line(result.stderr or result.stdout)}")
    return result.stdout.strip()


def repository_state(repo: Path) -> str:
    """What must be the same after a rehearsal: refs, remotes, HEAD, the working tree's status."""
    return "\n".join(
        _git(repo, *args)
        for args in (
            ("for-each-ref", "--format=%(refname) %(objectname)"),
            ("remote", "-v"),
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
    ) -> None:
        self.release = release
        self.approve = approve
        self.flow = flow
        self.variables = variables or {}
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
        self.record = self.folder / "gh-calls.jsonl"
        self.env_file = self.folder / "jobs.env"
        self.servers: dict[str, LocalIndex] = {}
        self.steps: list[Step] = []
        self.reproduce: list[str] = []
        self.env = act.host_environment(ROOT)
        self.env["PATH"] = f"{act.STAND_IN_BIN}:{self.env['PATH']}"  # gh: the recording stand-in
        self.env["GH_RECORD"] = str(self.record)
        self.password = secrets.token_urlsafe(18)
        jobs_env = {
            "TWINE_USERNAME": USERNAME,
            "TWINE_PASSWORD": self.password,
            "GH_RECORD": str(self.record),
            **({} if machinery else {"AGENTOPS_SKIP_MACHINERY": SKIPPED_SUITES}),
        }
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
        head = _git(ROOT, "rev-parse", "HEAD")
        _git(self.folder, "init", "--quiet", "--bare", "--initial-branch", MAIN, str(self.origin))
        _git(self.folder, "clone", "--quiet", "--no-checkout", str(ROOT), str(self.work))
        # From here on the clone knows only the throwaway origin: nothing can reach the user's.
        _git(self.work, "remote", "remove", "origin")
        _git(self.work, "remote", "add", "origin", str(self.origin))
        for key, value in {**IDENTITY, "commit.gpgsign": "false", "tag.gpgsign": "false"}.items():
            _git(self.work, "config", key, value)
        _git(self.work, "switch", "--quiet", "-C", MAIN, head)
        for branch in _git(self.work, "for-each-ref", "--format=%(refname:short)", "refs/heads/"
                           ).splitlines():  # fmt: skip
            if branch != MAIN:  # the clone's copy of the user's branch (a release branch, say)
                _git(self.work, "branch", "--quiet", "-D", branch)
        _git(self.work, "switch", "--quiet", "-c", DEVELOP)
        note = self.changelog_entry()
        _git(self.work, "switch", "--quiet", MAIN)
        major, minor, patch = self.release.version.release
        if self.flow in ("hotfix", "support"):  # the latest release of the line, to fix
            fixed = f"v{major}.{minor}.{patch - 1}"
            _git(self.work, "tag", "--annotate", "-m", f"Release {fixed} (rehearsal)", fixed)
            note += f"; {fixed} tagged on {MAIN} as the release to fix"
        if self.flow == "support":  # a newer line, released since
            newer = f"v{major}.{minor + 1}.0"
            _git(self.work, "commit", "--quiet", "--allow-empty", "-m", "a newer line (rehearsal)")
            _git(self.work, "tag", "--annotate", "-m", f"Release {newer} (rehearsal)", newer)
            note += f", then {newer} on {MAIN}"
        _git(self.work, "push", "--quiet", "origin", MAIN, DEVELOP, "--tags")
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

    def changelog_entry(self) -> str:
        """Give develop an [Unreleased] entry when HEAD has none (on a release branch, or just
        after a release), so that cut-release has something to release; say so."""
        path = self.work / "CHANGELOG.md"
        if not path.is_file():
            return ""
        text = path.read_text(encoding="utf-8")
        try:
            if changelog.unreleased_entries(text):
                return ""
            path.write_text(changelog.with_unreleased_entry(text, REHEARSAL_ENTRY))
        except changelog.ChangelogError:
            return ""  # cut-release says what is wrong with it
        _git(self.work, "commit", "--quiet", "-m", "docs: a CHANGELOG entry to rehearse", "--",
             "CHANGELOG.md")  # fmt: skip
        return " (+1 commit on develop: [Unreleased] had no entry)"

    def invoke(self, *args: str) -> str:
        """Run `invoke ARGS` in the clone, with the recording gh; its last line."""
        command = [sys.executable, "-m", "invoke", *args]
        result = subprocess.run(
            command, cwd=self.work, env=self.env, capture_output=True, text=True, check=False
        )
        output = (result.stdout + result.stderr).strip()
        if result.returncode != 0:
            self.reproduce = [f"cd {self.work} && invoke {shown(args)}"]
            raise StepError(last_line(output))
        return last_line(output)

    def fix_on_the_hotfix_branch(self) -> str:
        """What a maintainer does after cut-hotfix: the fix's entry under ### Fixed, pushed."""
        path = self.work / "CHANGELOG.md"
        text = changelog.with_section_entry(
            path.read_text(encoding="utf-8"), self.release, HOTFIX_ENTRY
        )
        path.write_text(text, encoding="utf-8")
        _git(
            self.work,
            "commit",
            "--quiet",
            "-m",
            "fix: a rehearsal of the hotfix",
            "--",
            "CHANGELOG.md",
        )
        _git(self.work, "push", "--quiet", "origin", self.branch)
        return f"an entry under [{self.release}] ### Fixed, pushed to {self.branch}"

    def fix_on_the_line(self) -> str:
        """What a maintainer does on support/X.Y before its release: a fix with its entry."""
        path = self.work / "CHANGELOG.md"
        text = changelog.with_unreleased_entry(
            path.read_text(encoding="utf-8"), SUPPORT_ENTRY, "### Fixed"
        )
        path.write_text(text, encoding="utf-8")
        _git(self.work, "commit", "--quiet", "-m", "fix: a rehearsal of a fix on the line", "--",
             "CHANGELOG.md")  # fmt: skip
        _git(self.work, "push", "--quiet", "origin", self.target)
        return f"an entry under [Unreleased] ### Fixed, pushed to {self.target}"

    def merge_release_pr(self) -> str:
        branch = self.branch
        opened = [
            call for call in gh_calls(self.record) if call.get("args", [])[:2] == ["pr", "create"]
        ]
        if not opened or option_value(opened[-1]["args"], "--head") != branch:
            raise StepError(f"cut-release opened no pull request for {branch}")
        if option_value(opened[-1]["args"], "--base") != self.target:
            raise StepError(f"the pull request of {branch} does not go into {self.target}")
        _git(self.work, "switch", "--quiet", self.target)
        message = f"Merge pull request #1 from {branch}"
        _git(self.work, "merge", "--quiet", "--no-ff", "-m", message, branch)
        _git(self.work, "push", "--quiet", "origin", self.target)
        return f"{branch} merged into {self.target} (--no-ff) and pushed"

    def workflow(self, workflow: str, ref: str, *options: str, job: str | None = None) -> None:
        """Run WORKFLOW under act for a push of REF (up to JOB and what it needs, or all)."""
        scratch = act.ActScratch(self.folder / "act" / workflow, self.origin, self.env_file)
        event = self.folder / f"event-{workflow}.json"
        event.write_text(json.dumps({"ref": ref}))
        base = scratch.command(self.work, "push", workflow, "-e", str(event), *options)
        listing = subprocess.run(
            [base[0], "--list", "push", "-W", f".github/workflows/{workflow}"],
            cwd=self.work, env=self.env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        planned = planned_jobs(listing.stdout)
        command = [*base, *(["-j", job] if job else [])]
        progress = JobProgress(workflow)
        print(f"--- {workflow} under act: started ({', '.join(planned)})", flush=True)
        log = self.folder / f"act-{workflow}.log"
        error, run = None, None
        try:
            run = act.run_act(command, cwd=self.work, env=self.env, log=log, on_entry=progress)
        except act.ActError as problem:
            error = str(problem)
        self.steps.extend(progress.steps(planned))
        failed = progress.failed()
        if run is not None and not failed and run.returncode == 0:
            print(f"--- {workflow} under act: passed in {run.seconds:.1f} s", flush=True)
            return
        culprit = failed[0] if failed else None
        # A fresh folder for the re-run: the artifacts of this run stay as they are.
        again = act.ActScratch(
            self.folder / "act" / f"{workflow}-again", self.origin, self.env_file
        )
        rerun = again.command(self.work, "push", workflow, "-e", str(event), *options)
        rerun += ["-j", culprit] if culprit else []
        self.reproduce = [
            *self.restart_hint(),  # the job needs the stand-in indexes up again
            f"cd {self.work} && {act.shown_command(rerun)}",
            *_session_lines(log, culprit),
        ]
        if run is not None:
            print(run.explain(), flush=True)
            error = f"job {culprit} failed" if culprit else f"act exited {run.returncode}"
        print(f"--- {workflow} under act: failed: {error}", flush=True)
        raise StepError(f"{workflow}: {error}; log {log}")

    # --- the checks --------------------------------------------------------------------------

    def checks(self) -> list[tuple[str, str | None]]:
        """(what, None or the problem) for everything a finished rehearsal must show."""
        release, tag = self.release, self.release.tag
        dist = self.folder / "act" / "release.yml" / "artifacts" / "dist"
        try:
            built = manifest.check_dist(dist)
        except manifest.ManifestError as error:
            return [("the build's SHA256SUMS", str(error))]
        results: list[tuple[str, str | None]] = []
        # staging.yml's build of the release branch (a .dev version) was staged as it was built.
        staged = self.folder / "act" / "staging.yml" / "artifacts" / "dist"
        try:
            staged_sums = manifest.check_dist(staged)
            staged_version = verify.built_version(staged)[0]
        except (manifest.ManifestError, verify.VerifyError) as error:
            results.append(("staging.yml's build", str(error)))
        else:
            listed = index.list_files(self.servers["staging"].simple_url, PROJECT)
            served = _of_version(listed, staged_version)
            problem = same_files("staging (served)", served, staged_sums)
            results.append(
                (f"the staging stand-in holds staging.yml's build {staged_version}", problem)
            )
        for name, server in self.servers.items():
            expected = built if name == "staging" or self.to_production else {}
            served = _of_version(index.list_files(server.simple_url, PROJECT), str(release))
            stored = _of_version(
                {path.name: manifest.sha256_file(path) for path in server.packages_dir.iterdir()},
                str(release),
            )
            problem = same_files(f"{name} (served)", served, expected) or same_files(
                f"{name} (stored)", stored, expected
            )
            if expected:
                results.append((f"the {name} stand-in holds the build's SHA256SUMS", problem))
            else:
                results.append((f"the {name} stand-in has nothing of {release}", problem))
        created = release_created(gh_calls(self.record), tag)
        if not self.to_production:
            results.append(("no GitHub Release", f"{tag} was created" if created else None))
            return results
        if created is None:
            return [*results, ("the GitHub Release", f"gh release create {tag} was not called")]
        sums = {**built, manifest.MANIFEST_NAME: manifest.sha256_file(dist / "SHA256SUMS")}
        assets = same_files("the release's assets", created.get("assets", {}), sums)
        results.append(("the GitHub Release's assets are the build's files and SHA256SUMS", assets))
        text = _git(self.origin, "show", f"{tag}:CHANGELOG.md")
        section = changelog.section_text(text, release.final)
        notes = option_value(created["args"], "--notes")
        differ = None if notes == section else f"the notes differ: {notes!r:.80}"
        results.append(("the release notes are the CHANGELOG section", differ))
        flags = {"--prerelease", "--latest=false"} & set(created["args"])
        if release.kind == "pre-release":
            wanted, what = {"--prerelease", "--latest=false"}, "a pre-release, not latest"
        elif self.flow == "support":  # a newer line exists
            wanted, what = {"--latest=false"}, "a final, not latest"
        else:
            wanted, what = set(), "a final"
        problem = None if flags == wanted else f"it is marked {sorted(flags) or 'as neither'}"
        results.append((f"the GitHub Release is {what}", problem))
        kind = _git(self.origin, "cat-file", "-t", f"refs/tags/{tag}")
        results.append((f"{tag} is an annotated tag", None if kind == "tag" else f"a {kind}"))
        return results + self.ref_checks()

    def ref_checks(self) -> list[tuple[str, str | None]]:
        """Where the refs stand: a final on main, merged into develop, its branch gone; a
        line's release on support/X.Y alone; a pre-release on its release branch, which goes
        on, and not on main."""
        tag, branch = self.release.tag, self.branch
        results: list[tuple[str, str | None]] = []
        final = self.release.kind == "final"
        if not final:
            expected = {branch: True, MAIN: False}
        elif self.flow == "support":
            expected = {self.target: True, MAIN: False, DEVELOP: False}
        else:
            expected = {MAIN: True, DEVELOP: True}
        for name, wanted in expected.items():
            ancestor = ["git", "-C", str(self.origin), "merge-base", "--is-ancestor", tag, name]
            contains = subprocess.run(ancestor, check=False).returncode == 0
            what = f"{name} {'contains' if wanted else 'does not contain'} {tag}"
            results.append((what, None if contains == wanted else "it is the other way round"))
        left = bool(_git(self.origin, "for-each-ref", f"refs/heads/{branch}"))
        what = f"{branch} is {'gone from' if final else 'still on'} origin"
        results.append((what, None if left != final else "it is the other way round"))
        return results

    def gate(self, approve: bool) -> None:
        """The approval gate's row, before the gated job's (act has no environments to wait in:
        the decision is --approve or --reject, given up front)."""
        rows = [step.name for step in self.steps]
        gated = f"release.yml {GATED_JOB}"
        if gated not in rows:
            return
        before = self.steps[rows.index(f"release.yml {BEFORE_GATE}")]
        if before.result != PASSED:
            verdict = Step(GATE, NOT_RUN, None, f"not reached: {BEFORE_GATE} did not pass")
        elif approve and not self.to_production:
            kept = "--approve; PRERELEASES_TO_PRODUCTION=false keeps the pre-release off it"
            verdict = Step(GATE, "approved", None, kept)
        elif approve:
            verdict = Step(GATE, "approved", None, "--approve")
        else:
            verdict = Step(GATE, "rejected", None, "--reject: the production jobs do not run")
        self.steps.insert(rows.index(gated), verdict)

    def close(self, *, remove: bool) -> None:
        """Stop the servers; with REMOVE, delete the throwaway folder."""
        for server in self.servers.values():
            server.stop()
        if remove:
            shutil.rmtree(self.folder, ignore_errors=True)

    def restart_hint(self) -> list[str]:
        """How to bring the stand-in indexes back, empty and on their ports, for the re-run.

        Empty: the re-run builds again, and the kept stores stay as they were, for reading.
        """
        password = f'"$(sed -n \'s/^TWINE_PASSWORD="\\(.*\\)"$/\\1/p\' {self.env_file})"'
        return [
            f"(cd {ROOT} && {sys.executable} -m scripts.local_index serve "
            f"{self.folder / f'{name}-again'} --port {server.port} --username {USERNAME} "
            f"--password {password}) &"
            for name, server in self.servers.items()
        ]


def _of_version(files: dict[str, str], version: str) -> dict[str, str]:
    """The FILES ({name: sha256}) of VERSION."""
    return {
        name: digest
        for name, digest in files.items()
        if manifest.artifact_version(name)[1] == version
    }


def _session_lines(log: Path, job: str | None) -> list[str]:
    """The `reproduce locally:` lines the failing JOB's sessions printed into act's LOG."""
    lines = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        message = str(entry.get("msg", "")) if isinstance(entry, dict) else ""
        if entry.get("jobID") == job and "reproduce locally:" in message:
            command = message.split("reproduce locally:", 1)[1]
            lines.append(ANSI_ESCAPE.sub("", command).strip())
    return lines


@task(
    iterable=["var"],
    help={
        "version": "the release to rehearse, X.Y.Z or X.Y.ZrcN (newer than every tag)",
        "approve": "approve the production gate: publish-pypi, verify-pypi, github-release, finish",
        "reject": "stop at the production gate (the default)",
        "keep": "keep the throwaway folder (clone, origin, indexes, act logs) afterwards",
        "machinery": "the build jobs also run the machinery suites (minutes longer)",
        "hotfix": "rehearse a hotfix X.Y.Z: vX.Y.(Z-1) tagged on main, cut-hotfix, a fix, its PR "
        "merged, tag, release.yml, finish-release",
        "support": "rehearse a release of support/X.Y: vX.Y.(Z-1) and a newer line tagged, "
        "cut-support, a fix, cut-release, its PR into the line, tag, release.yml, finish-release",
        "var": "NAME=VALUE, a repository variable for the workflows (repeatable), for example "
        "PRERELEASES_TO_PRODUCTION=false",
    },
)
def rehearse_release(
    c: Context,
    version: str,
    approve: bool = False,
    reject: bool = False,
    keep: bool = False,
    machinery: bool = False,
    hotfix: bool = False,
    support: bool = False,
    var: list[str] | None = None,
) -> None:
    """Rehearse HEAD's whole release offline: every workflow under act, two local indexes, gh."""
    if approve and reject:
        raise Refused("give --approve or --reject, not both")
    if hotfix and support:
        raise Refused("give --hotfix or --support, not both")
    release = parse_release(version)
    flow = "hotfix" if hotfix else "support" if support else "release"
    if flow != "release" and (release.kind != "final" or release.version.micro == 0):
        raise Refused(f"a {flow} release is a patch X.Y.Z with Z above 0, not {release}")
    variables = {}
    for given in var or []:
        name, equals, value = given.partition("=")
        if not equals or not name.isidentifier():
            raise Refused(f"--var takes NAME=VALUE, not {given!r}")
        if name in OWN_VARIABLES:
            raise Refused(
                f"{name} is the rehearsal's own: it points the workflows at the stand-ins"
            )
        variables[name] = value
    for tool in ("act", "uv"):
        if act.find_tool(tool) is None:
            raise Refused(f"{tool} is not installed: run `python3 -m uv sync` (the test group)")
    before = repository_state(ROOT)
    if _git(ROOT, "status", "--porcelain"):
        print("note: uncommitted changes are not rehearsed: the rehearsal clones HEAD", flush=True)
    rehearsal = Rehearsal(
        release, approve=approve, machinery=machinery, flow=flow, variables=variables
    )
    print(f"rehearse-release: {release.tag} of HEAD in {rehearsal.folder}", flush=True)
    tag, ok = release.tag, False
    try:
        rehearsal.step("prepare", rehearsal.prepare)
        final = release.kind == "final"
        if flow == "hotfix":
            rehearsal.step("cut-hotfix", lambda: rehearsal.invoke("cut-hotfix", str(release)))
            rehearsal.step("the fix", rehearsal.fix_on_the_hotfix_branch)
        else:
            if flow == "support":
                line = str(release.line)
                rehearsal.step("cut-support", lambda: rehearsal.invoke("cut-support", line))
                rehearsal.step("the fix", rehearsal.fix_on_the_line)
            rehearsal.step(
                "cut-release", lambda: rehearsal.invoke("cut-release", str(release.final))
            )
        staging = rehearsal.servers["staging"].url
        production = rehearsal.servers["production"].url
        variables_given = [
            word for name, value in variables.items() for word in ("--var", f"{name}={value}")
        ]
        options = [
            "--var", f"STAGING_INDEX={staging}", "--var", f"PRODUCTION_INDEX={production}",
            *variables_given,
        ]  # fmt: skip
        rehearsal.workflow("staging.yml", f"refs/heads/{rehearsal.branch}", *options)
        if final:  # a pre-release is tagged on the release branch, before the merge
            merged = "merge the hotfix PR" if flow == "hotfix" else "merge the release PR"
            rehearsal.step(merged, rehearsal.merge_release_pr)
        rehearsal.step("tag", lambda: rehearsal.invoke("tag", str(release)))
        try:
            rehearsal.workflow(
                "release.yml", f"refs/tags/{tag}", *options, job=None if approve else BEFORE_GATE
            )
        finally:
            rehearsal.gate(approve)
        if approve and final:  # after a pre-release the release branch goes on
            rehearsal.step(
                "finish-release", lambda: rehearsal.invoke("finish-release", str(release))
            )
        results = rehearsal.checks()
        ok = True
    except StepError:
        results = []
    except KeyboardInterrupt:
        rehearsal.close(remove=True)
        raise Refused(
            "interrupted: the servers were stopped and the throwaway folder removed"
        ) from None
    finally:
        if not ok:
            rehearsal.close(remove=False)
    print("\n" + table(rehearsal.steps))
    for what, problem in results:
        print(f"ok    {what}" if problem is None else f"FAIL  {what}: {problem}")
    unchanged = repository_state(ROOT) == before
    print(f"{'ok  ' if unchanged else 'FAIL'}  your repository is as it was")
    if not ok:
        lines = "\n  ".join(rehearsal.reproduce)
        raise Refused(
            f"a step failed; everything is kept in {rehearsal.folder}. To reproduce:\n  {lines}"
        )
    rehearsal.close(remove=not keep)
    if not unchanged or any(problem is not None for _, problem in results):
        raise Refused("the release ran, but a check failed (see above)")
    where = f"kept in {rehearsal.folder}" if keep else "throwaway folder removed"
    print(f"rehearse-release: {tag} rehearsed ({'approved' if approve else 'rejected'}); {where}")
