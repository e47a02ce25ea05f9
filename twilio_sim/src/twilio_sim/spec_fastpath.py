"""A fast path through Twilio's OpenAPI specs for the requests the simulator sees all day.

openapi-core re-reads the spec for every request: it walks every path
template, then builds a deserializer, a caster, a deep-copied format checker
and a jsonschema validator for each of the ~40 properties of a form (even
absent ones) — about 10 ms of CPU for one `POST .../Calls.json`, a third of
a 2-core machine in the dispatch benchmark. Everything it builds depends
only on the operation, so here it is built once per operation, from the same
spec, with the same jsonschema validator class and format checker.

The fast path only ever *accepts*. Whenever a request is not plainly valid
(a path it cannot place, a value that does not cast, a schema error, a spec
feature it does not reproduce), it answers None and the caller asks
openapi-core, which stays the judge of every refusal and its wording. So
the one property that must hold is: whatever the fast path accepts,
openapi-core accepts too, with the same unmarshalled body (the simulator's tests/
test_validation.py checks exactly that against openapi-core).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urljoin

from openapi_core.templating.paths.parsers import PathParser
from openapi_core.unmarshalling.schemas import oas30_format_unmarshallers
from openapi_core.util import BOOLEAN_FALSE_VALUES, BOOLEAN_TRUE_VALUES, forcebool
from openapi_schema_validator import OAS30WriteValidator

FORM = "application/x-www-form-urlencoded"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PRIMITIVES = ("string", "integer", "number", "boolean")
BOOLEAN_WORDS = frozenset(BOOLEAN_TRUE_VALUES + BOOLEAN_FALSE_VALUES)
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


# Method and URL pairs whose path look-up is remembered (then the memory starts over).
FOUND_CACHE = 1024
_MISSING = object()


class Unsupported(Exception):
    """The spec uses something this fast path does not reproduce exactly."""


@dataclass(frozen=True)
class _Value:
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
class _Parameter:
    name: str
    location: str  # "path" or "query"
    required: bool
    value: _Value
    validator: Any


@dataclass(frozen=True)
class _Property:
    name: str
    value: _Value | None  # None: present in a request, left to openapi-core


@dataclass(frozen=True)
class _Operation:
    """One (path, method) of the spec, with everything a request check needs, built once."""

    auth_scheme: str | None  # "basic": an `Authorization: Basic ...` header is needed
    parameters: tuple[_Parameter, ...]
    has_body: bool
    body_required: bool
    properties: tuple[_Property, ...] | None  # None: a body is left to openapi-core
    body_validator: Any


class CompiledSpec:
    """One product's spec, with its operations compiled on first use."""

    def __init__(self, spec: dict, host_url: str, format_checker):
        self.spec = spec
        self.host_url = host_url
        self.format_checker = format_checker
        # The same template parser (and so the same path-variable pattern)
        # openapi-core's path finder uses, compiled once instead of per lookup,
        # with the literal text after the template's last variable: a URL can
        # only match if it ends with that text, a cheap test that skips most
        # of the regexes.
        self.paths = [
            (pattern, pattern.rpartition("}")[2], item, PathParser(pattern, post_expression="$"))
            for pattern, item in spec.get("paths", {}).items()
        ]
        self.operations: dict[tuple[str, str], _Operation | None] = {}
        # What `_find` answered for a method and URL (most requests repeat a few URLs).
        self._found: dict[tuple[str, str], tuple[str, dict] | None] = {}

    def check(self, path: str, request) -> dict | None:
        """The unmarshalled form body if `request` is certainly valid, else None (ask openapi-core)."""
        found = self._find(request.method.lower(), urljoin(self.host_url, path))
        if found is None:
            return None
        pattern, variables = found
        operation = self._operation(pattern, request.method.lower())
        if operation is None:
            return None
        if operation.auth_scheme is not None and not _has_auth(request, operation.auth_scheme):
            return None
        for parameter in operation.parameters:
            if not _parameter_ok(parameter, variables, request.args):
                return None
        if not operation.has_body:
            return {}
        return _body(operation, request)

    def _find(self, method: str, full_url: str) -> tuple[str, dict] | None:
        """`_search`, remembered for the last `FOUND_CACHE` URLs."""
        key = (method, full_url)
        found = self._found.get(key, _MISSING)
        if found is _MISSING:
            found = self._search(method, full_url)
            if len(self._found) >= FOUND_CACHE:
                self._found.clear()  # URLs with call SIDs in them never repeat: start over
            self._found[key] = found
        return found

    def _search(self, method: str, full_url: str) -> tuple[str, dict] | None:
        """(template, path variables) as openapi-core's APICallPathFinder would choose them.

        Literal matches first in spec order, then template matches with the
        fewest variables; the first of those whose item has `method` wins,
        and its server must be the product's host. Any other outcome (404,
        405, another server) is openapi-core's to report.
        """
        literal = []
        templated = []
        for pattern, tail, item, parser in self.paths:
            if not full_url.endswith(tail):
                continue
            if full_url.endswith(pattern):
                literal.append((pattern, item, {}))
                continue
            result = parser.search(full_url)
            if result:
                templated.append((pattern, item, result.named))
        templated.sort(key=lambda found: len(found[2]))
        for pattern, item, variables in literal + templated:
            if method not in item:
                continue
            servers = item.get("servers") or item[method].get("servers") or self.spec.get("servers")
            server_url = servers[0]["url"] if servers else ""
            if not server_url.startswith(("https://", "http://")):
                return None  # a relative or templated server: openapi-core's rules
            resolved = pattern.format(**variables) if variables else pattern
            prefix = full_url.rsplit(resolved, 1)[0]
            if prefix != server_url.removesuffix("/"):
                return None
            return pattern, variables
        return None

    def _operation(self, pattern: str, method: str) -> _Operation | None:
        key = (pattern, method)
        if key not in self.operations:
            try:
                self.operations[key] = self._compile(pattern, method)
            except (Unsupported, RecursionError, KeyError, TypeError, ValueError):
                # Something this compiler does not follow (a recursive or odd
                # schema): openapi-core checks this operation, slowly but right.
                self.operations[key] = None
        return self.operations[key]

    def _compile(self, pattern: str, method: str) -> _Operation:
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
        return _Operation(
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

    def _parameter(self, parameter: dict) -> _Parameter:
        if parameter["in"] not in ("path", "query") or PARAMETER_NOT_REPRODUCED & parameter.keys():
            raise Unsupported(f"parameter {parameter['name']}")
        schema = self.deref(parameter.get("schema", {}))
        value = _value(schema)
        if value is None or value.kind == "array":
            raise Unsupported(f"parameter {parameter['name']}")
        return _Parameter(
            name=parameter["name"],
            location=parameter["in"],
            required=bool(parameter.get("required")),
            value=value,
            validator=self._validator(schema),
        )

    def _form(self, content: dict) -> tuple[tuple[_Property, ...] | None, Any]:
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
            properties.append(_Property(name, _value(prop)))
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


def _value(schema: dict) -> _Value | None:
    """How to cast and unmarshal a value of `schema`, or None if openapi-core must."""
    if NOT_REPRODUCED & schema.keys():
        return None
    kind = schema.get("type")
    if kind in PRIMITIVES:
        return _Value(kind, None, _format_unmarshaller(schema, kind), None)
    if kind == "array":
        items = schema.get("items")
        if not isinstance(items, dict) or NOT_REPRODUCED & items.keys():
            return None
        if items.get("type") not in PRIMITIVES:
            return None
        item_kind = items["type"]
        return _Value("array", item_kind, None, _format_unmarshaller(items, item_kind))
    return None


def _format_unmarshaller(schema: dict, kind: str):
    """openapi-core turns valid strings of some formats (date, date-time, uuid...) into objects."""
    if kind != "string" or "format" not in schema:
        return None
    return oas30_format_unmarshallers.get(schema["format"])


def _cast(kind: str, value: str):
    """openapi-core's cast of a form or query string to the schema type; raises ValueError."""
    if kind == "string":
        return value
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float(value)
    if value.lower() not in BOOLEAN_WORDS:
        raise ValueError(value)
    return bool(forcebool(value))


def _unmarshal(unmarshal, value):
    if unmarshal is None:
        return value
    try:
        return unmarshal(value)
    except (AttributeError, ValueError, TypeError):
        return value


def _has_auth(request, scheme: str) -> bool:
    header = request.headers.get("Authorization")
    if header is None:
        return False
    auth_type, space, _ = header.partition(" ")
    return bool(space) and auth_type.lower() == scheme


def _parameter_ok(parameter: _Parameter, variables: dict, args) -> bool:
    """Whether one path or query parameter is present-or-optional and valid."""
    source = variables if parameter.location == "path" else args
    if parameter.name not in source:
        return not parameter.required
    raw = source[parameter.name]
    if parameter.location == "query" and raw == "":
        # openapi-core refuses an empty query value (EmptyQueryParameterValue).
        return False
    try:
        value = _cast(parameter.value.kind, raw)
    except (ValueError, TypeError, AttributeError):
        return False
    return parameter.validator.is_valid(value)


def _body(operation: _Operation, request) -> dict | None:
    """The form body cast, validated and unmarshalled as openapi-core does, or None."""
    raw = request.get_data(cache=True)
    if not raw:
        # openapi-core skips an absent optional body: no required-property check.
        return None if operation.body_required else {}
    content_type = request.content_type or ""
    if request.method == "POST" and not content_type:
        content_type = FORM
    if content_type != FORM or operation.properties is None:
        return None
    try:
        form = _multi(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return None
    body = {}
    try:
        for prop in operation.properties:
            values = form.get(prop.name)
            if values is None:
                continue
            value = prop.value
            if value is None:
                return None
            if value.kind == "array":
                body[prop.name] = [_cast(value.item_kind, item) for item in values]
            else:
                body[prop.name] = _cast(value.kind, values[0])
    except (ValueError, TypeError, AttributeError):
        return None
    if not operation.body_validator.is_valid(body):
        return None
    for prop in operation.properties:
        if prop.name not in body:
            continue
        if prop.value.kind == "array":
            body[prop.name] = [_unmarshal(prop.value.item_unmarshal, item) for item in body[prop.name]]
        else:
            body[prop.name] = _unmarshal(prop.value.unmarshal, body[prop.name])
    return body


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    form: dict[str, list[str]] = {}
    for key, value in pairs:
        form.setdefault(key, []).append(value)
    return form
