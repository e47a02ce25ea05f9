"""`@operation`: a JSON API view's request and response schemas, checked and documented.

    @bp.post("/bindings")
    @client_required("bindings")
    @operation(body=BindingRequest, responses={201: Binding, 200: Binding}, errors=(404, 409))
    def create_binding(body: BindingRequest):
        ...
        return binding, 201

The body (a JSON object read by `core.api.json_body`, strings already checked)
and the query string are validated before the view runs and passed to it as
`body=` and `query=`; a refusal is a 422 naming the field. What the view
returns (a model, a dict, or either with a status) is validated against the
response model declared for that status and answered as JSON, so a response
cannot drift from the document. A `Response` passes through untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Response, jsonify, request
from pydantic import BaseModel, TypeAdapter, ValidationError

from registry.core.api import json_body
from registry.core.openapi.refusals import refusal

# Every operation may answer these (a query string with control characters, an unknown or
# revoked `rk_` key, a rate limit, the database gone), and one that reads a body these (too
# large, not JSON).
COMMON_ERRORS = (400, 401, 422, 429, 503)
BODY_ERRORS = (413, 415)


@dataclass(frozen=True)
class Operation:
    """What `@operation` declared about a view, read by the OpenAPI document (`spec.py`)."""

    body: Any = None
    query: type[BaseModel] | None = None
    responses: dict[int, Any] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    security: tuple[str, ...] | None = None
    tags: tuple[str, ...] = ()
    summary: str | None = None
    description: str | None = None
    extra_body_types: dict[str, dict] = field(default_factory=dict)
    headers: dict[str, dict] = field(default_factory=dict)
    parse_body: bool = True


def operation(*, body: Any = None, query: type[BaseModel] | None = None,
              responses: dict[int, Any], errors: tuple[int, ...] = (),
              security: tuple[str, ...] | None = None, tags: tuple[str, ...] = (),
              extra_body_types: dict[str, dict] | None = None,
              headers: dict[str, dict] | None = None, parse_body: bool = True):
    """Declare a JSON API view (see the module's docstring).

    `responses` maps each success status to its model (None for no body, 204).
    `errors` lists the error statuses the view itself may answer beyond
    `COMMON_ERRORS` and those of its authentication. `security` names the
    schemes that admit a caller when the view checks it itself (the auth
    decorators otherwise say it, `auth_required_by`). `extra_body_types` adds
    request media types the view reads itself (a CSV file), with
    `parse_body=False` when the view reads the body itself. `headers`
    documents request headers (`Idempotency-Key`).
    """

    def decorator(view):
        summary, _, description = (view.__doc__ or "").strip().partition("\n")
        declared = Operation(body, query, dict(responses), tuple(errors), security, tuple(tags),
                             summary.strip() or None, description.strip() or None,
                             dict(extra_body_types or {}), dict(headers or {}), parse_body)
        body_adapter = TypeAdapter(body) if body is not None else None
        needs_body = not (isinstance(body, type) and issubclass(body, BaseModel)
                          and not any(f.is_required() for f in body.model_fields.values()))
        response_adapters = {status: TypeAdapter(model) for status, model in responses.items()
                             if model is not None}
        default_status = next(iter(responses))

        @wraps(view)
        def wrapped(*args, **kwargs):
            if query is not None:
                kwargs["query"] = _validated(query, request.args.to_dict(), ())
            if body_adapter is not None and parse_body:
                sent = json_body() if request.content_length or needs_body else {}
                kwargs["body"] = _validated(body_adapter, sent, (), strict=True)
            result = view(*args, **kwargs)
            return _answer(result, default_status, response_adapters)

        wrapped.api_operation = declared
        return wrapped

    return decorator


def auth_required_by(*schemes: str):
    """Mark a view as admitting callers of these security schemes (`spec.SECURITY_SCHEMES`).

    The authentication decorators (`role_required`, `shopper_required`,
    `client_required`) call this on the view they wrap, whichever order they
    and `@operation` come in.
    """

    def mark(view):
        view.api_security = tuple(schemes)
        return view

    return mark


def documents(*, headers: dict[str, dict] | None = None, errors: tuple[int, ...] = ()):
    """Mark a view as reading these request headers and answering these error statuses, for a
    decorator that adds them to any operation it wraps (`integrations.idempotency.idempotent`).

    The OpenAPI document adds them to what `@operation` declared (`spec.py`), whichever order
    the decorators come in (`functools.wraps` carries the marks outwards).
    """

    def mark(view):
        view.api_headers = {**getattr(view, "api_headers", {}), **(headers or {})}
        view.api_errors = tuple(sorted(set(getattr(view, "api_errors", ())) | set(errors)))
        return view

    return mark


def _validated(schema, data, prefix: tuple, strict: bool = False):
    """`data` as `schema` says, or the refusal naming its field. A JSON body is read strictly (a
    number is no text, `"5"` and `true` no number); a query string's values are all text, so
    they are converted (`?per_page=5`)."""
    adapter = schema if isinstance(schema, TypeAdapter) else TypeAdapter(schema)
    try:
        return adapter.validate_python(data, strict=strict)
    except ValidationError as error:
        raise refusal(error, prefix) from None


def _answer(result, default_status: int, adapters: dict[int, TypeAdapter]):
    if isinstance(result, Response):
        return result
    status = default_status
    if isinstance(result, tuple):
        result, status = result
    if result is None:
        return Response(status=status)
    adapter = adapters.get(status)
    if adapter is None:
        raise LookupError(f"the view answered {status}, which its @operation does not declare")
    if not isinstance(result, BaseModel):
        result = adapter.validate_python(result)
    response = jsonify(adapter.dump_python(result, mode="json", by_alias=True))
    response.status_code = status
    return response
