"""`invoke setup-github`: make the repository's environments, rulesets and release settings
match the design."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from invoke.context import Context

from scripts import gitops, processes, workflows

from .steps import DEVELOP, MAIN, REMOTE, Refused, StepFailed, repository, run, task

GITHUB_URL = re.compile(r"github\.com[:/](?P<repo>[^/]+/[^/]+?)(?:\.git)?/?$")
RELEASE_BRANCHES = "release/*"
# The checks each protected branch requires: jobs (workflow, job id) that run for every pull
# request into it. ci.yml runs on pull requests into each; a pull request into main comes from a
# release or hotfix branch, whose every push staging.yml stages (its `verify` passes only once
# the build, with every test, and the staging upload did).
REQUIRED_JOBS = {
    MAIN: (("ci.yml", "lint"), ("staging.yml", "verify")),
    DEVELOP: (("ci.yml", "lint"), ("ci.yml", "coverage")),
    RELEASE_BRANCHES: (("ci.yml", "lint"), ("ci.yml", "coverage")),
}
RELEASE_TAGS = "v*"
# Built-in repository roles, as rulesets name them (bypass actors): who may create a release tag.
MAINTAIN_ROLE, ADMIN_ROLE = 4, 5


def github_repository(url: str) -> str | None:
    """OWNER/NAME of a GitHub remote URL (https or ssh), or None for any other URL."""
    match = GITHUB_URL.search(url)
    return match.group("repo") if match else None


def _github_repo(repo: str) -> str:
    if repo:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repo):
            raise Refused(f"--repo must be OWNER/NAME, got {repo!r}")
        return repo
    url = gitops.remote_url(REMOTE) or ""
    found = github_repository(url)
    if found is None:
        raise Refused(f"{REMOTE} ({url or 'missing'}) is not on GitHub: pass --repo OWNER/NAME")
    return found


def required_checks(root: Path, branch: str) -> list[str]:
    """The checks BRANCH (a protected branch or pattern) requires, by the names GitHub reports:
    the `name:` of each job REQUIRED_JOBS names, read from the workflows of the repository here."""
    try:
        return [
            workflows.job_name(workflows.load(root, workflow), job)
            for workflow, job in REQUIRED_JOBS[branch]
        ]
    except workflows.WorkflowError as error:
        raise Refused(str(error)) from None


def branch_ruleset(name: str, pattern: str, checks: list[str], reviews: int) -> dict[str, object]:
    """The ruleset of the branches PATTERN: never deleted or force-pushed, changed by pull
    requests with REVIEWS approvals and CHECKS green (release/*: pushed once by cut-release,
    fixed by pull requests; the checks then)."""
    required = {
        "strict_required_status_checks_policy": pattern != RELEASE_BRANCHES,
        "do_not_enforce_on_create": pattern == RELEASE_BRANCHES,
        "required_status_checks": [{"context": check} for check in checks],
    }
    rules: list[dict[str, object]] = [{"type": "deletion"}, {"type": "non_fast_forward"}]
    if pattern != RELEASE_BRANCHES:
        rules.append({"type": "pull_request", "parameters": {
            "required_approving_review_count": reviews, "dismiss_stale_reviews_on_push": True,
            "require_code_owner_review": False, "require_last_push_approval": False,
            "required_review_thread_resolution": False,
        }})  # fmt: skip
    rules.append({"type": "required_status_checks", "parameters": required})
    conditions = {"ref_name": {"include": [f"refs/heads/{pattern}"], "exclude": []}}
    return {"name": name, "target": "branch", "enforcement": "active", "conditions": conditions,
            "rules": rules}  # fmt: skip


def tag_ruleset() -> dict[str, object]:
    """The ruleset of the release tags: created only by maintainers and admins (`invoke tag`),
    never moved or deleted, by anyone."""
    return {
        "name": "release tags", "target": "tag", "enforcement": "active",
        "bypass_actors": [{"actor_id": role, "actor_type": "RepositoryRole",
                           "bypass_mode": "always"} for role in (MAINTAIN_ROLE, ADMIN_ROLE)],
        "conditions": {"ref_name": {"include": [f"refs/tags/{RELEASE_TAGS}"], "exclude": []}},
        "rules": [{"type": "creation"}, {"type": "update"}, {"type": "deletion"}],
    }  # fmt: skip


Call = tuple[str, str, dict[str, object] | None]  # method, endpoint, JSON payload (None: none)


def github_settings(
    repo: str, reviewer_ids: list[object], checks: dict[str, list[str]]
) -> list[Call]:
    """The (method, endpoint, payload) calls that make GitHub match the release design; CHECKS:
    the checks each protected branch requires. Self-review is refused where two or more
    reviewers are named: with one, the maintainer could never approve their own release."""
    release = {
        "reviewers": [{"type": "User", "id": i} for i in reviewer_ids],
        "prevent_self_review": len(reviewer_ids) >= 2,
        "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True},
    }
    policies = f"repos/{repo}/environments/release/deployment-branch-policies"
    rulesets = f"repos/{repo}/rulesets"
    return [
        ("PUT", f"repos/{repo}/environments/staging", {}),
        ("PUT", f"repos/{repo}/environments/release", release),
        ("POST", policies, {"name": RELEASE_TAGS, "type": "tag"}),  # only a tag's run deploys
        ("POST", rulesets, branch_ruleset("main", MAIN, checks[MAIN], 1)),
        ("POST", rulesets, branch_ruleset("develop", DEVELOP, checks[DEVELOP], 0)),
        ("POST", rulesets,
         branch_ruleset("release branches", RELEASE_BRANCHES, checks[RELEASE_BRANCHES], 0)),
        ("POST", rulesets, tag_ruleset()),
        ("PUT", f"repos/{repo}/immutable-releases", None),  # published releases never change
        # cut-release.yml opens the release PR with the job's token.
        ("PUT", f"repos/{repo}/actions/permissions/workflow",
         {"default_workflow_permissions": "read", "can_approve_pull_request_reviews": True}),
    ]  # fmt: skip


def _gh_api(c: Context, method: str, endpoint: str, payload: object, *, dry_run: bool) -> str:
    """Call `gh api` with a JSON payload (None: none); with --dry-run print the call and it."""
    if payload is None:
        return run(c, ["gh", "api", "--method", method, endpoint], dry_run=dry_run)
    body = json.dumps(payload, indent=2)
    if dry_run:
        print(f"gh api --method {method} {endpoint} --input -\n{body}")
        return ""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        handle.write(body)
    try:
        return run(
            c, ["gh", "api", "--method", method, endpoint, "--input", handle.name], dry_run=False
        )
    finally:
        Path(handle.name).unlink(missing_ok=True)


def _gh_get(c: Context, endpoint: str) -> object:
    return json.loads(run(c, ["gh", "api", endpoint], dry_run=False) or "null")


def _reviewer_ids(c: Context, logins: list[str], *, dry_run: bool) -> list[object]:
    ids: list[object] = []
    for login in logins:
        if dry_run:
            print(f"gh api users/{login} --jq .id")
            ids.append(f"<id of {login}>")
        else:
            ids.append(int(run(c, ["gh", "api", f"users/{login}", "--jq", ".id"], dry_run=False)))
    return ids


def as_on_github(c: Context, repo: str, calls: list[Call]) -> list[Call]:
    """CALLS as they apply to what GitHub has: a ruleset of the same name updated (PUT), a
    deployment policy already there skipped, and any other policy of `release` deleted."""
    policies = f"repos/{repo}/environments/release/deployment-branch-policies"
    found = _gh_get(c, policies)
    listing = found.get("branch_policies", []) if isinstance(found, dict) else []
    existing = {(str(p["name"]), str(p.get("type", "branch"))): int(p["id"]) for p in listing}
    listed = _gh_get(c, f"repos/{repo}/rulesets")
    rulesets = {str(r["name"]): int(r["id"]) for r in listed} if isinstance(listed, list) else {}
    wanted = {(str(p["name"]), str(p["type"])) for _, e, p in calls if e == policies and p}
    applied: list[Call] = []
    for method, endpoint, payload in calls:
        key = str((payload or {}).get("name", ""))
        if endpoint == policies and payload and (key, payload["type"]) in existing:
            print(f"setup-github: deployment policy {key} already there")
            continue
        if endpoint.endswith("/rulesets") and key in rulesets:
            method, endpoint = "PUT", f"{endpoint}/{rulesets[key]}"
        applied.append((method, endpoint, payload))
    applied += [("DELETE", f"{policies}/{number}", None)
                for policy, number in existing.items() if policy not in wanted]  # fmt: skip
    return applied


@task(
    help={
        "repo": "OWNER/NAME (default: parsed from the origin URL)",
        "reviewers": "GitHub logins who approve production releases, comma-separated",
        "dry_run": "print each API call with its JSON payload; call nothing",
    }
)
def setup_github(c: Context, repo: str = "", reviewers: str = "", dry_run: bool = False) -> None:
    """Set up GitHub: environments, rulesets (main, develop, release/*, v*), immutable releases."""
    repo = _github_repo(repo)
    logins = [login.strip() for login in reviewers.split(",") if login.strip()]
    required = {branch: required_checks(repository(), branch) for branch in REQUIRED_JOBS}
    if not dry_run and not processes.find_tool("gh"):
        raise Refused("gh is not installed: apt-get install gh, then gh auth login")
    try:
        calls = github_settings(repo, _reviewer_ids(c, logins, dry_run=dry_run), required)
        for method, endpoint, payload in calls if dry_run else as_on_github(c, repo, calls):
            _gh_api(c, method, endpoint, payload, dry_run=dry_run)
    except (StepFailed, ValueError, KeyError) as error:
        raise Refused(f"{error} (every call is idempotent: fix the cause and re-run)") from None
    review = (
        "self-review refused: the release environment needs another reviewer than the releaser"
        if len(logins) >= 2
        else "self-review allowed: name two or more --reviewers to refuse it"
    )
    print(f"setup-github: {review}")
    if not dry_run:
        print(f"setup-github: {repo} has the environments, the rulesets and immutable releases")
        for branch, checks in required.items():
            print(f"setup-github: {branch} requires {', '.join(checks)}")
