"""The OpenAPI 3.1 document of `/api/v1`, built from the routes and their `@operation`s.

Every rule under `/api/v1` must carry an `@operation` (a test checks it), so the
document lists every path and method; its schemas are the pydantic models that
validate the requests and shape the responses, so the two cannot drift.
"""

from __future__ import annotations

import re
from dataclasses import replace
from http import HTTPStatus

from flask import Flask
from pydantic import TypeAdapter
from pydantic.json_schema import models_json_schema

from registry.core.openapi.models import ErrorBody
from registry.core.openapi.operation import BODY_ERRORS, COMMON_ERRORS, Operation
from registry.core.urls import LARGEST_ID

API_PREFIX = "/api/v1"
REF_TEMPLATE = "#/components/schemas/{model}"

SECURITY_SCHEMES = {
    "clientKey": {"type": "http", "scheme": "bearer", "bearerFormat": "rk_…",
                  "description": "An integration client's key (`flask --app wsgi clients create`)."},
    "userToken": {"type": "http", "scheme": "bearer",
                  "description": "A merchant's or staff member's token from `POST /api/v1/auth/token`."},
    "shopperToken": {"type": "http", "scheme": "bearer",
                     "description": "A shopper's token from `POST /api/v1/shopper/verification/check`."},
    "session": {"type": "apiKey", "in": "cookie", "name": "session",
                "description": "The browser session of the product's own pages (same origin, "
                               "with `X-CSRFToken` or a same-origin `Origin`)."},
}
# Statuses the authentication itself may answer.
_AUTH_ERRORS = (401, 403)
_PATH_PARAMETER = re.compile(r"<(?:(?P<converter>[a-zA-Z_]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def build_document(app: Flask, *, version: str, server_url: str) -> dict:
    """The OpenAPI document of the app's `/api/v1` routes."""
    operations = list(_operations(app))
    components = _Components(operations)
    paths: dict[str, dict] = {}
    for path, method, rule, declared, security in operations:
        paths.setdefault(path, {})[method] = _operation_object(rule, declared, security, components)
    components.schemas["Error"] = components.schema_of(ErrorBody, "serialization")
    return {
        "openapi": "3.1.0",
        "info": {"title": "Verified merchant registry API", "version": version,
                 "description": "Server-to-server and browser JSON API. Errors are "
                                "`{\"error\": {\"code\", \"reason\", \"message\", \"field\"}}` "
                                "(docs/errors.md lists every code)."},
        "servers": [{"url": server_url}],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(components.schemas.items())),
                       "securitySchemes": SECURITY_SCHEMES},
    }


def undocumented_routes(app: Flask) -> list[str]:
    """`/api/v1` rules whose view has no `@operation` (the document would miss them)."""
    return sorted(f"{method} {rule.rule}" for rule in app.url_map.iter_rules()
                  if rule.rule.startswith(API_PREFIX)
                  and not hasattr(app.view_functions[rule.endpoint], "api_operation")
                  for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))


def _operations(app: Flask):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        declared: Operation | None = getattr(view, "api_operation", None)
        if not rule.rule.startswith(API_PREFIX) or declared is None:
            continue
        security = declared.security or getattr(view, "api_security", ())
        # What a decorator around the operation adds (`operation.documents`): headers, refusals.
        declared = replace(declared, headers={**declared.headers, **getattr(view, "api_headers", {})},
                           errors=declared.errors + tuple(getattr(view, "api_errors", ())))
        path = _PATH_PARAMETER.sub(r"{\g<name>}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield path, method.lower(), rule, declared, security


class _Components:
    """The named schemas of every model the operations use, and a reference to each."""

    def __init__(self, operations) -> None:
        models = []
        for *_, declared, _security in operations:
            models += [(declared.body, "validation"), (declared.query, "validation")]
            models += [(model, "serialization") for model in declared.responses.values()]
        classes = list(dict.fromkeys(m for m in models if isinstance(m[0], type) and m[0] is not dict))
        self.refs, definitions = models_json_schema(classes, ref_template=REF_TEMPLATE)
        self.schemas: dict[str, dict] = dict(definitions.get("$defs", {}))

    def schema_of(self, model, mode: str) -> dict:
        """A reference to `model`'s schema, or its schema inline (`list[Row]`, `dict`)."""
        if (model, mode) in self.refs:
            return self.refs[(model, mode)]
        schema = TypeAdapter(model).json_schema(mode=mode, ref_template=REF_TEMPLATE)
        self.schemas.update(schema.pop("$defs", {}))
        return schema


def _operation_object(rule, declared: Operation, security: tuple[str, ...],
                      components: _Components) -> dict:
    operation: dict = {
        "operationId": rule.endpoint.replace(".", "_"),
        "tags": list(declared.tags) or [rule.endpoint.split(".")[0].removesuffix("_api")],
        "parameters": _path_parameters(rule) + _query_parameters(declared) + [
            {"name": name, "in": "header", **spec} for name, spec in declared.headers.items()],
        "responses": {},
    }
    if declared.summary:
        operation["summary"] = declared.summary
    if declared.description:
        operation["description"] = declared.description
    if declared.body is not None or declared.extra_body_types:
        content = {}
        if declared.body is not None:
            content["application/json"] = {"schema": components.schema_of(declared.body, "validation")}
        content.update({kind: {"schema": schema} for kind, schema in declared.extra_body_types.items()})
        operation["requestBody"] = {"required": True, "content": content}
    for status, model in declared.responses.items():
        answer: dict = {"description": HTTPStatus(status).phrase}
        if model is not None:
            answer["content"] = {"application/json": {"schema": components.schema_of(model, "serialization")}}
        operation["responses"][str(status)] = answer
    statuses = set(COMMON_ERRORS) | set(declared.errors) | (set(_AUTH_ERRORS) if security else set())
    if declared.body is not None or declared.extra_body_types:
        statuses |= set(BODY_ERRORS)
    if rule.arguments:
        statuses.add(404)
    for status in sorted(statuses):
        operation["responses"][str(status)] = {
            "description": HTTPStatus(status).phrase,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    operation["security"] = [{scheme: []} for scheme in security] if security else []
    return operation


def _path_parameters(rule) -> list[dict]:
    parameters = []
    for match in _PATH_PARAMETER.finditer(rule.rule):
        integer = match["converter"] == "int"
        schema = {"type": "integer", "minimum": 0, "maximum": LARGEST_ID} if integer else {"type": "string"}
        parameters.append({"name": match["name"], "in": "path", "required": True, "schema": schema})
    return parameters


def _query_parameters(declared: Operation) -> list[dict]:
    if declared.query is None:
        return []
    schema = declared.query.model_json_schema(ref_template=REF_TEMPLATE)
    required = set(schema.get("required", ()))
    return [{"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema.get("properties", {}).items()]
