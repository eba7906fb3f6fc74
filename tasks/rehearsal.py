"""`invoke rehearse-release`: the whole release of HEAD, rehearsed in a throwaway folder.

A clone of HEAD with a bare origin (main and develop), two pypiservers on 127.0.0.1 standing in
for the staging and production indexes (the repository variables point the workflows at them),
and the recording gh stand-in. Then the release as the guide cuts it: cut-release, staging.yml
under act, the release PR merged, tag, release.yml under act in its `needs:` order up to the
approval gate and, with --approve, through it, and finish-release (or a pre-release, a hotfix, a
maintenance release). act runs the real jobs; only the third-party actions are stand-ins
(scripts/stand-ins). The user's repository is only read. The world and its steps are in
rehearsal_world, what a finished rehearsal must show in rehearsal_checks.
"""

from __future__ import annotations

from invoke.context import Context

from .steps import ROOT, Refused, parse_release, task


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
    # Imported here: every invoke call loads this module, and the rehearsal's helpers (index
    # servers, act, the checks) were a third of each other task's start-up.
    from scripts import act
    from scripts.rehearsal import table

    from .rehearsal_checks import checks, status_checks
    from .rehearsal_world import (
        BEFORE_GATE,
        OWN_VARIABLES,
        Rehearsal,
        StepError,
        git,
        repository_state,
    )

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
    if git(ROOT, "status", "--porcelain"):
        print("note: uncommitted changes are not rehearsed: the rehearsal clones HEAD", flush=True)
    rehearsal = Rehearsal(
        release, approve=approve, machinery=machinery, flow=flow, variables=variables
    )
    print(f"rehearse-release: {release.tag} of HEAD in {rehearsal.folder}", flush=True)
    tag, ok = release.tag, False
    try:
        rehearsal.step("prepare", rehearsal.prepare)
        final = release.kind == "final"
        merge = f"gh pr merge {rehearsal.branch} --merge"
        tagging = f"invoke tag {release}"
        after_cut = merge if final else tagging  # a pre-release is tagged on its open branch
        if flow == "hotfix":
            rehearsal.step("cut-hotfix", lambda: rehearsal.invoke("cut-hotfix", str(release)))
            rehearsal.status_after("cut-hotfix", merge)
            rehearsal.step("the fix", rehearsal.fix_on_the_hotfix_branch)
            rehearsal.status_after("the fix", merge)
        else:
            if flow == "support":
                line = str(release.line)
                rehearsal.step("cut-support", lambda: rehearsal.invoke("cut-support", line))
                cutting = f"invoke cut-release {release}"
                rehearsal.status_after("cut-support", cutting)
                rehearsal.step("the fix", rehearsal.fix_on_the_line)
                rehearsal.status_after("the fix", cutting)
            rehearsal.step(
                "cut-release", lambda: rehearsal.invoke("cut-release", str(release.final))
            )
            rehearsal.status_after("cut-release", after_cut)
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
        rehearsal.status_after("staging.yml", after_cut)
        if final:  # a pre-release is tagged on the release branch, before the merge
            merged = "merge the hotfix PR" if flow == "hotfix" else "merge the release PR"
            rehearsal.step(merged, rehearsal.merge_release_pr)
            rehearsal.status_after(merged, tagging)
        rehearsal.step("tag", lambda: rehearsal.invoke("tag", str(release)))
        rehearsal.status_after("tag", "gh run list --workflow release.yml")
        try:
            rehearsal.workflow(
                "release.yml", f"refs/tags/{tag}", *options, job=None if approve else BEFORE_GATE
            )
        finally:
            rehearsal.gate(approve)
        # Kept off production (PRERELEASES_TO_PRODUCTION=false), a pre-release is done after
        # staging, which status cannot see: it names the approval there too.
        if not rehearsal.to_production:
            rehearsal.status_after("release.yml", "approve the `release` environment")
        elif final:
            rehearsal.status_after("release.yml", f"invoke finish-release {release}")
        else:
            rehearsal.status_after("release.yml", f"nothing: {tag} is released")
        if approve and final:  # after a pre-release the release branch goes on
            rehearsal.step(
                "finish-release", lambda: rehearsal.invoke("finish-release", str(release))
            )
            rehearsal.status_after("finish-release", f"nothing: {tag} is released")
        results = checks(rehearsal) + status_checks(rehearsal)
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
