"""`invoke rehearse-release`: the whole release of HEAD, rehearsed in a throwaway folder.

A clone of HEAD with a bare origin (main and develop), two pypiservers on 127.0.0.1 standing in
for the staging and production indexes (the repository variables point the workflows at them),
and GitHub's front for the real gh. Then the release as the guide cuts it, and as a team lives it:
cut-release, staging.yml under act, a commit landing on develop meanwhile, the checks branch
protection requires of the release PR (run under act), the PR merged, tag, release.yml under act
in its `needs:` order up to the approval gate and, with --approve, through it, and
finish-release (or a pre-release, a hotfix, a maintenance release). On release/vX.Y.Z or
hotfix/vX.Y.Z, without a version, it rehearses that release from where it stands. act runs the
real jobs; only the third-party actions are stand-ins (scripts/stand-ins). The user's repository
is only read. The world and its steps are in rehearsal_world, what a finished rehearsal must show
in rehearsal_checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from invoke.context import Context

from scripts import gitops, processes
from scripts.versioning import versions

from .steps import NEXT, Refused, parse_release, repository, task

if TYPE_CHECKING:
    from .rehearsal_world import Rehearsal


@dataclass(frozen=True)
class Stage:
    """One stage of a rehearsal: what it runs, and what `invoke status` must name after it."""

    name: str
    run: Callable[[], None]
    then: str | None  # a part of the next command status names; None: status is not asked


def in_progress(branch: str | None) -> tuple[versions.Release, str] | None:
    """The release (and its flow) a release/vX.Y.Z or hotfix/vX.Y.Z BRANCH is of, else None."""
    kind, _, name = (branch or "").partition("/")
    found = versions.release_of(name) if kind in ("release", "hotfix") else None
    if found is None or found.kind != "final":
        return None
    return found, kind


@task(
    iterable=["var"],
    help={
        "version": "the release to rehearse, X.Y.Z or X.Y.ZrcN (newer than every tag), or `next` "
        "on release/vX.Y.Z or hotfix/vX.Y.Z: that release, from where it stands",
        "approve": "approve the production gate: publish-pypi, verify-pypi, github-release, finish",
        "reject": "stop at the production gate (the default)",
        "keep": "keep the throwaway folder (clone, origin, indexes, act logs) afterwards",
        "machinery": "the PR's checks also run ci.yml's machinery job under act (minutes longer)",
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
    # Imported here: every invoke call loads this module, and the rehearsal's helpers (index
    # servers, act, the checks) were a third of each other task's start-up.
    from tasks.rehearsal_steps import table

    from .rehearsal_world import OWN_VARIABLES, Rehearsal, repository_state

    if approve and reject:
        raise Refused("give --approve or --reject, not both")
    release, flow, started = what_to_rehearse(version, hotfix=hotfix, support=support)
    variables = repository_variables(var or [], OWN_VARIABLES)
    for tool in ("act", "uv", "gh"):
        if processes.find_tool(tool) is None:
            raise Refused(f"{tool} is not installed: run `python3 -m uv sync` (the test group)")
    root = repository()
    before = repository_state(root)
    if gitops.dirty_files(root):
        print("note: uncommitted changes are not rehearsed: the rehearsal clones HEAD", flush=True)
    rehearsal = Rehearsal(
        release, approve=approve, machinery=machinery, flow=flow, variables=variables,
        in_progress=started,
    )  # fmt: skip
    what = f"{rehearsal.branch} as it stands" if started else "HEAD"
    print(f"rehearse-release: {release.tag} of {what} in {rehearsal.folder}", flush=True)
    results = run_stages(rehearsal)
    print("\n" + table(rehearsal.steps))
    for what, problem in results or []:
        print(f"ok    {what}" if problem is None else f"FAIL  {what}: {problem}")
    unchanged = repository_state(root) == before
    print(f"{'ok  ' if unchanged else 'FAIL'}  your repository is as it was")
    if results is None:
        lines = "\n  ".join(rehearsal.reproduce)
        raise Refused(
            f"a step failed; everything is kept in {rehearsal.folder}. To reproduce:\n  {lines}"
        )
    rehearsal.close(remove=not keep)
    if not unchanged or any(problem is not None for _, problem in results):
        raise Refused("the release ran, but a check failed (see above)")
    where = f"kept in {rehearsal.folder}" if keep else "throwaway folder removed"
    print(
        f"rehearse-release: {release.tag} rehearsed ({'approved' if approve else 'rejected'}); "
        f"{where}"
    )


def run_stages(rehearsal: Rehearsal) -> list[tuple[str, str | None]] | None:
    """Run REHEARSAL's stages, asking status after each, then its checks: their results, or
    None when a step failed (the servers stopped, the folder kept for the commands that
    reproduce it). Ctrl-C stops everything and removes the folder."""
    from .rehearsal_checks import checks, status_checks
    from .rehearsal_world import StepError

    try:
        for stage in stages(rehearsal):
            stage.run()
            if stage.then is not None:
                rehearsal.status_after(stage.name, stage.then)
        return checks(rehearsal) + status_checks(rehearsal)
    except StepError:
        rehearsal.close(remove=False)
        return None
    except KeyboardInterrupt:
        rehearsal.close(remove=True)
        raise Refused(
            "interrupted: the servers were stopped and the throwaway folder removed"
        ) from None
    except BaseException:
        rehearsal.close(remove=False)
        raise


def what_to_rehearse(
    version: str, *, hotfix: bool, support: bool
) -> tuple[versions.Release, str, bool]:
    """The release VERSION names (or, `next` or the same, the one of the release or hotfix
    branch checked out), its flow, and whether it is that release in progress."""
    if hotfix and support:
        raise Refused("give --hotfix or --support, not both")
    current = in_progress(gitops.current_branch())
    given = None if version == NEXT else parse_release(version)
    started = given is None or (current is not None and current[0] == given)
    if not started and given is not None:
        release = given
    elif current is not None:
        release, kind = current
        hotfix = hotfix or kind == "hotfix"
    else:
        raise Refused(
            f"give the version to rehearse (for example 9.9.9): `{NEXT}` is the release of the "
            "release/vX.Y.Z or hotfix/vX.Y.Z branch checked out"
        )
    flow = "hotfix" if hotfix else "support" if support else "release"
    if flow != "release" and (release.kind != "final" or release.version.micro == 0):
        raise Refused(f"a {flow} release is a patch X.Y.Z with Z above 0, not {release}")
    return release, flow, started


def repository_variables(given: list[str], own: tuple[str, ...]) -> dict[str, str]:
    """The --var NAME=VALUE given, as {NAME: VALUE}; refused when malformed or one of OWN."""
    variables = {}
    for word in given:
        name, equals, value = word.partition("=")
        if not equals or not name.isidentifier():
            raise Refused(f"--var takes NAME=VALUE, not {word!r}")
        if name in own:
            raise Refused(
                f"{name} is the rehearsal's own: it points the workflows at the stand-ins"
            )
        variables[name] = value
    return variables


def stages(rehearsal: Rehearsal) -> list[Stage]:
    """The stages of REHEARSAL's release, in order: a table, run by one loop."""
    from .rehearsal_act import check_the_pr, release_workflow, run_workflow

    release, flow, branch = rehearsal.release, rehearsal.flow, rehearsal.branch
    final = release.kind == "final"
    merge = f"gh pr merge {branch} --merge"
    tagging = f"invoke tag {release}"
    after_cut = merge if final else tagging  # a pre-release is tagged on its open branch

    def step(name: str, action: Callable[[], str], then: str | None) -> Stage:
        return Stage(name, lambda: rehearsal.step(name, action), then)

    def task_step(name: str, argument: str, then: str | None) -> Stage:
        return step(name, lambda: rehearsal.invoke(name, argument), then)

    found = [step("prepare", rehearsal.prepare, None)]
    if rehearsal.in_progress:
        found.append(step(f"the PR of {branch}", rehearsal.open_pull_request, after_cut))
    elif flow == "hotfix":
        found.append(task_step("cut-hotfix", str(release), merge))
        found.append(step("the fix", rehearsal.fix_on_the_hotfix_branch, merge))
    else:
        if flow == "support":
            cutting = f"invoke cut-release {release}"
            found.append(task_step("cut-support", str(release.line), cutting))
            found.append(step("the fix", rehearsal.fix_on_the_line, cutting))
        found.append(task_step("cut-release", str(release.final), after_cut))
    staged = f"refs/heads/{branch}"
    staging = Stage(
        "staging.yml", lambda: run_workflow(rehearsal, "staging.yml", staged), after_cut
    )
    found.append(staging)
    if final and flow != "support":
        found.append(step("a commit lands on develop", rehearsal.develop_moves_on, merge))
    if final:  # a pre-release is tagged on the release branch, before the merge
        checked = f"the checks {rehearsal.target} requires"
        found.append(Stage(checked, lambda: check_the_pr(rehearsal, checked), merge))
        merged = "merge the hotfix PR" if flow == "hotfix" else "merge the release PR"
        found.append(step(merged, rehearsal.merge_release_pr, tagging))
    found.append(task_step("tag", str(release), "gh run list --workflow release.yml"))
    # Kept off production (PRERELEASES_TO_PRODUCTION=false), a pre-release is done after
    # staging, which status cannot see: it names the approval there too.
    if not rehearsal.to_production:
        after_release = "approve the `release` environment"
    elif final:
        after_release = f"invoke finish-release {release}"
    else:
        after_release = f"nothing: {release.tag} is released"
    found.append(Stage("release.yml", lambda: release_workflow(rehearsal), after_release))
    if rehearsal.approve and final:  # after a pre-release the release branch goes on
        found.append(
            task_step("finish-release", str(release), f"nothing: {release.tag} is released")
        )
    return found
