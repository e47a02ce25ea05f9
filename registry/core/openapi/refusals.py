"""A pydantic validation error as the product's refusal: a catalogue key naming the field.

Pydantic reports each problem with a machine-readable `type`; this table turns
the first problem into the `InvalidInput` the rest of the product raises, so
schema refusals are worded and translated like every other. A model's own
validator may raise `PydanticCustomError(<catalogue key>, ...)` with the
message's values as its context: the key is used as is.
"""

from __future__ import annotations

from pydantic import ValidationError

from registry.core.errors import InvalidInput
from registry.core.messages import CATALOGUE

# pydantic error type -> (catalogue key, the context value that fills %(limit)s, if any)
_KEYS: dict[str, tuple[str, str | None]] = {
    "missing": ("required", None),
    "string_type": ("invalid_type", None),
    "string_too_short": ("required.not_empty", None),
    "string_too_long": ("too_long", "max_length"),
    "int_type": ("invalid_type.integer", None),
    "int_parsing": ("invalid_type.integer", None),
    "int_from_float": ("invalid_type.integer", None),
    "float_type": ("invalid.not_a_number", None),
    "float_parsing": ("invalid.not_a_number", None),
    "bool_type": ("invalid_type.boolean", None),
    "bool_parsing": ("invalid_type.boolean", None),
    "list_type": ("invalid_type.list", None),
    "dict_type": ("invalid_type.object", None),
    "model_type": ("invalid_type.object", None),
    "model_attributes_type": ("invalid_type.object", None),
    "too_short": ("required.not_empty", None),
    "too_long": ("invalid.too_many", "max_length"),
    "greater_than_equal": ("invalid.too_small", "ge"),
    "greater_than": ("invalid.too_small", "gt"),
    "less_than_equal": ("invalid.too_large", "le"),
    "less_than": ("invalid.too_large", "lt"),
    "literal_error": ("invalid.choice", None),
    "enum": ("invalid.choice", None),
    "extra_forbidden": ("unknown_field", None),
    "datetime_type": ("invalid.datetime", None),
    "datetime_parsing": ("invalid.datetime", None),
    "datetime_from_date_parsing": ("invalid.datetime", None),
    "timezone_aware": ("invalid.datetime", None),
    "url_type": ("invalid.url", None),
    "url_parsing": ("invalid.url", None),
    "url_scheme": ("invalid.url", None),
}


def field_path(location: tuple) -> str:
    """`("items", 0, "name")` -> `items.0.name`, the way `core.text` names JSON fields."""
    return ".".join(str(part) for part in location) or "body"


def refusal(error: ValidationError, prefix: tuple = ()) -> InvalidInput:
    """The first problem of `error` as an `InvalidInput` naming its field."""
    problem = error.errors(include_url=False)[0]
    name = field_path(prefix + tuple(problem["loc"]))
    context = problem.get("ctx") or {}
    # pydantic's own types first: one of them (`too_long`, a list too long) is also a catalogue
    # key, for text, whose message wants values pydantic's context does not have.
    if problem["type"] not in _KEYS and problem["type"] in CATALOGUE:  # a model's own check
        params = {k: v for k, v in context.items() if k not in ("field", "name")}
        return InvalidInput(problem["type"], field=name, name=name, **params)
    key, limit = _KEYS.get(problem["type"], ("invalid.value", None))
    params: dict[str, object] = {}
    if limit is not None and limit in context:
        params["limit"] = context[limit]
    if key == "invalid.choice":
        params["values"] = context.get("expected", "")
    return InvalidInput(key, field=name, name=name, **params)
