"""`invoke setup-github`: make the repository's environments and branch rules match the design."""

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
# What every protected branch refuses, whatever its review rules.
NO_REWRITES = {"restrictions": None, "allow_force_pushes": False, "allow_deletions": False}


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


def _deployment_policy(repo: str, name: str, kind: str) -> tuple[str, str, dict[str, object]]:
    endpoint = f"repos/{repo}/environments/release/deployment-branch-policies"
    return ("POST", endpoint, {"name": name, "type": kind})


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


def release_ruleset(checks: list[str]) -> dict[str, object]:
    """The ruleset of release/*: no force push, and CHECKS on the pull requests of its fixes."""
    required = {
        "strict_required_status_checks_policy": False,
        # cut-release pushes the new branch; its fixes come by pull request
        "do_not_enforce_on_create": True,
        "required_status_checks": [{"context": check} for check in checks],
    }
    return {
        "name": "release branches",
        "target": "branch",
        "enforcement": "active",
        "conditions": {"ref_name": {"include": [f"refs/heads/{RELEASE_BRANCHES}"], "exclude": []}},
        "rules": [
            {"type": "non_fast_forward"},
            {"type": "required_status_checks", "parameters": required},
        ],
    }


def github_settings(
    repo: str, reviewer_ids: list[object], checks: dict[str, list[str]]
) -> list[tuple[str, str, dict[str, object]]]:
    """The (method, endpoint, payload) calls that make GitHub match the release design; CHECKS:
    the checks each protected branch requires."""

    def status(branch: str) -> dict[str, object]:
        return {"strict": True, "contexts": checks[branch]}

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
        _deployment_policy(repo, "main", "branch"),
        _deployment_policy(repo, "v*", "tag"),
        (
            "PUT",
            f"repos/{repo}/branches/{MAIN}/protection",
            {
                "required_status_checks": status(MAIN),
                "enforce_admins": True,
                "required_pull_request_reviews": {
                    "required_approving_review_count": 1,
                    "dismiss_stale_reviews": True,
                },
                **NO_REWRITES,
            },
        ),
        (
            "PUT",
            f"repos/{repo}/branches/{DEVELOP}/protection",
            {
                "required_status_checks": status(DEVELOP),
                "enforce_admins": False,
                "required_pull_request_reviews": {"required_approving_review_count": 0},
                **NO_REWRITES,
            },
        ),
        ("POST", f"repos/{repo}/rulesets", release_ruleset(checks[RELEASE_BRANCHES])),
        # cut-release.yml opens the release PR with the job's token.
        (
            "PUT",
            f"repos/{repo}/actions/permissions/workflow",
            {"default_workflow_permissions": "read", "can_approve_pull_request_reviews": True},
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


@task(
    help={
        "repo": "OWNER/NAME (default: parsed from the origin URL)",
        "reviewers": "GitHub logins who approve production releases, comma-separated",
        "dry_run": "print each API call with its JSON payload; call nothing",
    }
)
def setup_github(c: Context, repo: str = "", reviewers: str = "", dry_run: bool = False) -> None:
    """Create the staging/release environments and protect main, develop and release/*."""
    repo = _github_repo(repo)
    logins = [login.strip() for login in reviewers.split(",") if login.strip()]
    required = {branch: required_checks(repository(), branch) for branch in REQUIRED_JOBS}
    if not dry_run and not processes.find_tool("gh"):
        raise Refused("gh is not installed: apt-get install gh, then gh auth login")
    try:
        calls = github_settings(repo, _reviewer_ids(c, logins, dry_run=dry_run), required)
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
        raise Refused(f"{error} (every call is idempotent: fix the cause and re-run)") from None
    if not dry_run:
        print(f"setup-github: {repo} has the staging and release environments and branch rules")
        for branch, checks in required.items():
            print(f"setup-github: {branch} requires {', '.join(checks)}")
