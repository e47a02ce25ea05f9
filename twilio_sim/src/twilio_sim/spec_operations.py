"""Compiling one operation of a Twilio OpenAPI spec, once, into what a request check needs.

For a (path template, method) this reads the spec as openapi-core would:
the security scheme, each path and query parameter, the form body's
properties, and for each of them how a string is cast and unmarshalled and
the jsonschema validator openapi-core would build. Whatever it does not
reproduce exactly raises `Unsupported`, and that operation is left to
openapi-core (see `spec_fastpath`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openapi_core.unmarshalling.schemas import oas30_format_unmarshallers
from openapi_schema_validator import OAS30WriteValidator

FORM = "application/x-www-form-urlencoded"
PRIMITIVES = ("string", "integer", "number", "boolean")
# Keywords that change how openapi-core casts or unmarshals a value (not
# merely whether it is valid): a schema using one is left to openapi-core.
NOT_REPRODUCED = frozenset(
    {
        "default",
        "nullable",
        "oneOf",
        "anyOf",
        "allOf",
        "not",
        "properties",
        "additionalProperties",
        "discriminator",
        "x-model",
        "x-model-path",
        "$ref",
    }
)
# Parameter keywords that change how openapi-core reads a parameter.
PARAMETER_NOT_REPRODUCED = frozenset({"style", "explode", "allowEmptyValue", "allowReserved", "content"})



class Unsupported(Exception):
    """The spec uses something this fast path does not reproduce exactly."""


@dataclass(frozen=True)
class Value:
    """How one parameter or form property is cast and unmarshalled.

    `kind` is the schema type; for "array" the items are `item_kind`.
    `unmarshal` turns a valid string into what openapi-core returns for its
    format (a `date` for "date", ...), or is None to keep the string.
    """

    kind: str
    item_kind: str | None
    unmarshal: Any
    item_unmarshal: Any


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # "path" or "query"
    required: bool
    value: Value
    validator: Any


@dataclass(frozen=True)
class Property:
    name: str
    value: Value | None  # None: present in a request, left to openapi-core


@dataclass(frozen=True)
class Operation:
    """One (path, method) of the spec, with everything a request check needs, built once."""

    auth_scheme: str | None  # "basic": an `Authorization: Basic ...` header is needed
    parameters: tuple[Parameter, ...]
    has_body: bool
    body_required: bool
    properties: tuple[Property, ...] | None  # None: a body is left to openapi-core
    body_validator: Any


class OperationCompiler:
    """Builds `Operation`s from one spec (a dict, with local `$ref`s) and its format checker."""

    def __init__(self, spec: dict, format_checker):
        self.spec = spec
        self.format_checker = format_checker

    def compile(self, pattern: str, method: str) -> Operation:
        """The operation at `pattern` and `method`; raises `Unsupported` (or a lookup error)."""
        item = self.spec["paths"][pattern]
        operation = item[method]
        parameters = []
        seen = set()
        for parameter in [*operation.get("parameters", []), *item.get("parameters", [])]:
            parameter = self._resolve(parameter)
            key = (parameter["name"], parameter["in"])
            if key in seen:
                continue
            seen.add(key)
            parameters.append(self._parameter(parameter))
        body = operation.get("requestBody")
        properties = validator = None
        if body is not None:
            body = self._resolve(body)
            properties, validator = self._form(body.get("content", {}))
        return Operation(
            auth_scheme=self._auth_scheme(operation),
            parameters=tuple(parameters),
            has_body=body is not None,
            body_required=bool(body and body.get("required")),
            properties=properties,
            body_validator=validator,
        )

    def _auth_scheme(self, operation: dict) -> str | None:
        """The HTTP scheme the operation requires, if it requires exactly one."""
        security = operation.get("security", self.spec.get("security"))
        if not security:
            return None
        if len(security) != 1 or len(security[0]) != 1:
            raise Unsupported("security alternatives")
        (name,) = security[0]
        scheme = self.spec.get("components", {}).get("securitySchemes", {}).get(name)
        if not scheme or scheme.get("type") != "http":
            raise Unsupported("security scheme")
        return scheme["scheme"]

    def _parameter(self, parameter: dict) -> Parameter:
        if parameter["in"] not in ("path", "query") or PARAMETER_NOT_REPRODUCED & parameter.keys():
            raise Unsupported(f"parameter {parameter['name']}")
        schema = self.deref(parameter.get("schema", {}))
        value = value_of(schema)
        if value is None or value.kind == "array":
            raise Unsupported(f"parameter {parameter['name']}")
        return Parameter(
            name=parameter["name"],
            location=parameter["in"],
            required=bool(parameter.get("required")),
            value=value,
            validator=self._validator(schema),
        )

    def _form(self, content: dict) -> tuple[tuple[Property, ...] | None, Any]:
        """The form's properties and validator, or (None, None) if openapi-core must read bodies."""
        media = content.get(FORM)
        if media is None or "encoding" in media:
            return None, None
        schema = self.deref(media.get("schema", {}))
        if schema.get("type") != "object" or (NOT_REPRODUCED - {"properties"}) & schema.keys():
            return None, None
        properties = []
        for name, prop in schema.get("properties", {}).items():
            if "default" in prop:
                # openapi-core fills in an absent property's default.
                return None, None
            properties.append(Property(name, value_of(prop)))
        return tuple(properties), self._validator(schema)

    def _validator(self, schema: dict):
        """The jsonschema validator openapi-core would build for `schema`, built once."""
        return OAS30WriteValidator(schema, format_checker=self.format_checker)

    def _resolve(self, node: dict) -> dict:
        while isinstance(node, dict) and "$ref" in node:
            node = self._target(node["$ref"])
        return node

    def deref(self, node):
        """`node` with every local `$ref` replaced by its target (OAS 3.0: siblings are ignored)."""
        if isinstance(node, dict):
            if "$ref" in node:
                return self.deref(self._target(node["$ref"]))
            return {key: self.deref(value) for key, value in node.items()}
        if isinstance(node, list):
            return [self.deref(value) for value in node]
        return node

    def _target(self, ref: str):
        if not ref.startswith("#/"):
            raise Unsupported(f"remote $ref {ref}")
        node = self.spec
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node


def value_of(schema: dict) -> Value | None:
    """How to cast and unmarshal a value of `schema`, or None if openapi-core must."""
    if NOT_REPRODUCED & schema.keys():
        return None
    kind = schema.get("type")
    if kind in PRIMITIVES:
        return Value(kind, None, _format_unmarshaller(schema, kind), None)
    if kind == "array":
        items = schema.get("items")
        if not isinstance(items, dict) or NOT_REPRODUCED & items.keys():
            return None
        if items.get("type") not in PRIMITIVES:
            return None
        item_kind = items["type"]
        return Value("array", item_kind, None, _format_unmarshaller(items, item_kind))
    return None


def _format_unmarshaller(schema: dict, kind: str):
    """openapi-core turns valid strings of some formats (date, date-time, uuid...) into objects."""
    if kind != "string" or "format" not in schema:
        return None
    return oas30_format_unmarshallers.get(schema["format"])
