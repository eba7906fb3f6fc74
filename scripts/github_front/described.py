"""Requests to GitHub's REST API, and the answers to them, checked against GitHub's own published
description of it (the OpenAPI document of npm's @octokit/openapi, `api.github.com.json`).

A request must name a path and method the description has, declare every query parameter it
sends and send the required ones, and carry a JSON body that fits its schema. The check is
stricter than GitHub on one point: a body property the schema does not name is refused (GitHub
ignores it), so a misspelt field fails a test instead of silently doing nothing. An answer must
fit the schema the description gives for its status.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from .model import template_pattern

ROOT = "urn:github-rest"  # the description's name for its own references
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    """One documented operation: its path template, method and description."""

    template: str
    method: str
    spec: Mapping[str, Any]
    pointer: str  # where it sits in the document, for references into it


def _as_json_schema(node: object) -> object:
    """NODE with OpenAPI 3.0's `nullable: true` written as JSON Schema says it, and its
    references absolute."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted: dict[str, Any] = {key: _as_json_schema(value) for key, value in node.items()}
    reference = converted.get("$ref")
    if isinstance(reference, str) and reference.startswith("#"):
        converted["$ref"] = ROOT + reference  # found from any copy of a part
    if converted.pop("nullable", False) is True:
        if isinstance(converted.get("type"), str):
            converted["type"] = [converted["type"], "null"]
        else:
            converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


def _closed(schema: object) -> object:
    """SCHEMA with every inline object that names its properties closed to any other."""
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: _closed(value) for key, value in schema.items()}
    if "properties" in schema and "additionalProperties" not in schema:
        closed["additionalProperties"] = False
    return closed


def _escaped(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


class Description:
    """GitHub's REST API as its OpenAPI DOCUMENT describes it."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        converted = _as_json_schema(dict(document))
        assert isinstance(converted, dict)
        self.document: dict[str, Any] = converted
        resource = Resource.from_contents(self.document, default_specification=DRAFT4)
        self.registry: Registry[Any] = Registry().with_resource(ROOT, resource)
        self.routes: list[tuple[re.Pattern[str], str, int]] = []
        for template in self.document["paths"]:
            pattern = template_pattern(template)
            literal = sum(1 for part in template.split("/") if part and "{" not in part)
            self.routes.append((re.compile(f"{pattern}$"), template, literal))

    @classmethod
    def from_file(cls, path: Path) -> Description:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def resolve(self, node: Any) -> Any:
        """NODE, or what its `$ref` points to in the document."""
        while isinstance(node, dict) and "$ref" in node:
            node = self.registry.resolver(ROOT).lookup(node["$ref"]).contents
        return node

    def operation(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | str:
        """The operation METHOD PATH is, with its path parameters; or why GitHub has none."""
        matches = [(literal, template, m) for regex, template, literal in self.routes
                   if (m := regex.match(path))]  # fmt: skip
        if not matches:
            return f"GitHub's REST API has no path {path}"
        _, template, match = max(matches, key=lambda found: found[0])
        spec = self.document["paths"][template]
        if method.lower() not in spec:
            allowed = ", ".join(m.upper() for m in METHODS if m in spec)
            return f"{template} takes {allowed}, not {method.upper()}"
        names = re.findall(r"\{([^}]+)\}", template)
        pointer = f"#/paths/{_escaped(template)}/{method.lower()}"
        found = Operation(template, method.upper(), spec[method.lower()], pointer)
        return found, dict(zip(names, match.groups(), strict=True))

    def parameters(self, operation: Operation, where: str) -> dict[str, Mapping[str, Any]]:
        """The parameters OPERATION takes in WHERE (path, query, header), by name."""
        shared = self.document["paths"][operation.template].get("parameters", [])
        found = {}
        for parameter in [*shared, *operation.spec.get("parameters", [])]:
            parameter = self.resolve(parameter)
            if parameter["in"] == where:
                found[parameter["name"]] = parameter
        return found

    def request_problems(
        self,
        operation: Operation,
        path_values: Mapping[str, str],
        query: Mapping[str, list[str]],
        content_type: str,
        body: bytes,
    ) -> list[str]:
        """What in a request of OPERATION GitHub's description does not allow."""
        name = f"{operation.method} {operation.template}"
        problems = []
        for place, values in (("path", {k: [v] for k, v in path_values.items()}), ("query", query)):
            declared = self.parameters(operation, place)
            for key, spec in declared.items():
                if spec.get("required") and key not in values:
                    problems.append(f"{name}: the {place} parameter {key!r} is required")
            for key, given in values.items():
                if key not in declared:
                    problems.append(f"{name}: no {place} parameter {key!r}")
                    continue
                for value in given:
                    for why in self._value_problems(declared[key], value):
                        problems.append(f"{name}: {place} parameter {key}={value!r}: {why}")
        return problems + self._body_problems(operation, name, content_type, body)

    def _value_problems(self, parameter: Mapping[str, Any], value: str) -> list[str]:
        schema = self.resolve(parameter.get("schema", {}))
        if schema.get("type") == "integer" and not value.lstrip("-").isdigit():
            return ["not an integer"]
        if "enum" in schema and value not in schema["enum"]:
            return [f"not one of {schema['enum']}"]
        return []

    def _body_problems(
        self, operation: Operation, name: str, content_type: str, body: bytes
    ) -> list[str]:
        described = self.resolve(operation.spec.get("requestBody", {}))
        contents = described.get("content", {})
        if not body:
            return [f"{name}: a body is required"] if described.get("required") else []
        if not contents:
            return [f"{name}: takes no body"]
        media = content_type.split(";", 1)[0].strip() or "application/json"
        if media not in contents:
            return [f"{name}: a body of {media}, where GitHub takes {', '.join(contents)}"]
        if media != "application/json":
            return []
        try:
            given = json.loads(body)
        except ValueError:
            return [f"{name}: the body is not JSON"]
        pointer = f"{ROOT}{operation.pointer}/requestBody/content/application~1json/schema"
        schema = _closed(self.resolve({"$ref": pointer}))
        return [f"{name}: body: {problem}" for problem in self._schema_problems(schema, given)]

    def filled(self, operation: Operation, status: int, body: object) -> object:
        """BODY with every property the documented answer requires and BODY lacks made up
        (the empty value of its type): the front's state holds only what the tasks read."""
        response = self.resolve(operation.spec.get("responses", {}).get(str(status), {}))
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        return body if schema is None else self._filled(schema, body)

    def _filled(self, schema: Any, value: object) -> object:
        schema = self.resolve(schema)
        for key in ("allOf", "anyOf", "oneOf"):
            if key in schema and value is not None:
                for part in schema[key] if key == "allOf" else schema[key][:1]:
                    value = self._filled(part, value)
                return value
        if isinstance(value, list):
            return [self._filled(schema.get("items", {}), item) for item in value]
        if not isinstance(value, dict):
            return value
        properties = schema.get("properties", {})
        made = {name: self._made(properties.get(name, {})) for name in schema.get("required", [])
                if name not in value}  # fmt: skip
        given = {name: self._filled(properties.get(name, {}), item) for name, item in value.items()}
        return {**made, **given}

    def _made(self, schema: Any) -> object:
        schema = self.resolve(schema)
        kind = schema.get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        if "null" in kinds:
            return None
        if "anyOf" in schema or "oneOf" in schema or "allOf" in schema:
            parts = schema.get("allOf") or (schema.get("anyOf") or schema["oneOf"])[:1]
            return self._filled({"allOf": parts}, {})
        if "enum" in schema:
            return schema["enum"][0]
        empty = {"object": {}, "array": [], "integer": 0, "number": 0, "boolean": False}
        if kinds[0] == "string":
            return "2026-01-01T00:00:00Z" if schema.get("format") == "date-time" else ""
        return (
            self._filled(schema, empty[kinds[0]]) if kinds[0] == "object" else empty.get(kinds[0])
        )

    def answer_problems(self, operation: Operation, status: int, body: object) -> list[str]:
        """What in the answer STATUS BODY to OPERATION does not fit its documented shape (an
        error the description does not list must still carry GitHub's `message`)."""
        name = f"{operation.method} {operation.template}"
        responses = operation.spec.get("responses", {})
        if str(status) not in responses and status < 400:
            return [f"{name}: GitHub does not answer {status} ({', '.join(responses)})"]
        if str(status) not in responses:  # an error the description leaves out: its usual shape
            shaped = isinstance(body, dict) and isinstance(body.get("message"), str)
            return [] if shaped else [f"{name} answered {status} without a message"]
        content = self.resolve(responses[str(status)]).get("content", {})
        if "application/json" not in content or "schema" not in content["application/json"]:
            return []
        schema = content["application/json"]["schema"]
        return [f"{name} answered {status}: {problem}"
                for problem in self._schema_problems(schema, body)]  # fmt: skip

    def _schema_problems(self, schema: Any, value: object) -> Iterator[str]:
        validator = Draft4Validator(schema, registry=self.registry)
        for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):
            where = "/".join(map(str, error.absolute_path)) or "(the whole)"
            yield f"{where}: {error.message}"[:300]
