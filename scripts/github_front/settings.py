"""The repository settings the GitHub front keeps: environments and their deployment policies,
rulesets, immutable releases, the Actions token's permissions, and the users it knows."""

from __future__ import annotations

import json
from typing import Any

from .model import Answer, error, invalid

Values = dict[str, str]


class Settings:
    """Routes of the settings `invoke setup-github` makes; mixed into the front."""

    environments: dict[str, dict[str, Any]]
    policies: dict[str, list[dict[str, Any]]]  # environment -> its deployment policies
    rulesets: list[dict[str, Any]]
    workflow_permissions: dict[str, Any]
    immutable_releases: bool
    users: dict[str, int]  # login -> id

    def __init__(self) -> None:
        self.environments, self.policies, self.rulesets = {}, {}, []
        self.workflow_permissions, self.users = {}, {}

    def _new_id(self) -> int:
        raise NotImplementedError

    def put_environment_name(self, values: Values, query: object, body: bytes) -> Answer:
        name = values["environment_name"]
        self.environments[name] = {**json.loads(body or b"{}"), "name": name, "id": self._new_id()}
        return 200, self.environments[name]

    def get_deployment_branch_policies(self, values: Values, query: object, _: bytes) -> Answer:
        found = self.policies.get(values["environment_name"], [])
        return 200, {"total_count": len(found), "branch_policies": found}

    def post_deployment_branch_policies(self, values: Values, query: object, body: bytes) -> Answer:
        if values["environment_name"] not in self.environments:
            return error(404, "Not Found")
        given = json.loads(body or b"{}")
        found = self.policies.setdefault(values["environment_name"], [])
        if any((p["name"], p["type"]) == (given["name"], given.get("type")) for p in found):
            return error(303, "a policy of that name exists")
        found.append({"id": self._new_id(), "node_id": "P", "type": "branch", **given})
        return 200, found[-1]

    def delete_branch_policy_id(self, values: Values, query: object, body: bytes) -> Answer:
        found = self.policies.get(values["environment_name"], [])
        kept = [p for p in found if str(p["id"]) != values["branch_policy_id"]]
        if len(kept) == len(found):
            return error(404, "Not Found")
        self.policies[values["environment_name"]] = kept
        return 204, None

    def get_rulesets(self, values: Values, query: object, body: bytes) -> Answer:
        return 200, self.rulesets

    def post_rulesets(self, values: Values, query: object, body: bytes) -> Answer:
        given = json.loads(body or b"{}")
        if any(ruleset["name"] == given["name"] for ruleset in self.rulesets):
            return invalid("Ruleset", "already_exists", "name", "Name must be unique")
        self.rulesets.append({**given, "id": self._new_id(), "source": "octo"})
        return 201, self.rulesets[-1]

    def put_ruleset_id(self, values: Values, query: object, body: bytes) -> Answer:
        for index, ruleset in enumerate(self.rulesets):
            if str(ruleset["id"]) == values["ruleset_id"]:
                self.rulesets[index] = {**ruleset, **json.loads(body or b"{}")}
                return 200, self.rulesets[index]
        return error(404, "Not Found")

    def put_immutable_releases(self, values: Values, query: object, body: bytes) -> Answer:
        self.immutable_releases = True
        return 204, None

    def get_immutable_releases(self, values: Values, query: object, body: bytes) -> Answer:
        return 200, {"enabled": self.immutable_releases, "enforced_by_owner": False}

    def get_workflow(self, values: Values, query: object, body: bytes) -> Answer:
        default = {
            "default_workflow_permissions": "read",
            "can_approve_pull_request_reviews": False,
        }
        return 200, self.workflow_permissions or default

    def put_workflow(self, values: Values, query: object, body: bytes) -> Answer:
        self.workflow_permissions = json.loads(body or b"{}")
        return 204, None

    def get_user(self, values: Values, query: object, body: bytes) -> Answer:
        login = next(iter(self.users))  # the repository's owner: who the token belongs to
        return 200, {"login": login, "id": self.users[login]}

    def get_username(self, values: Values, query: object, body: bytes) -> Answer:
        if values["username"] not in self.users:
            return error(404, "Not Found")
        return 200, {"login": values["username"], "id": self.users[values["username"]]}
