"""Base models of the JSON API's bodies: strict about shape, stable in the document."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

from registry.core.timeutil import as_utc

T = TypeVar("T")

# A moment in time, answered as ISO 8601 with its UTC offset (`2026-05-01T01:30:00+00:00`), the
# way the API always has; SQLite hands back naive UTC values, which are made aware first.
Timestamp = Annotated[
    datetime,
    PlainSerializer(lambda value: as_utc(value).isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("required.not_empty", "must not be empty")
    return value


def Text(max_length: int = 200) -> Any:  # noqa: N802 - used as a type: `name: Text(100)`
    """A string that is not blank and at most `max_length` characters."""
    return Annotated[str, Field(min_length=1, max_length=max_length), AfterValidator(_not_blank)]


def checked_by_operation(schema: dict, *, optional: bool = False) -> Any:
    """A request field whose value the operation checks itself, with words of its own (a phone
    number's kind, a code's digits): documented as `schema` (or null, if `optional`), passed on
    as sent."""
    if optional:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return Annotated[Any, WithJsonSchema(schema, mode="validation")]


# A phone number as typed (`+86 138 0013 8000`, or national digits with `region`): the
# operations parse it with `core.phones`, whose refusals say what is wrong with it.
PhoneText = checked_by_operation({"type": "string", "maxLength": 64, "examples": ["+86 138 0013 8000"]})
# A verification code: six digits (the operation says so when it is not).
CodeText = checked_by_operation({"type": "string", "pattern": "^[0-9]{6}$", "examples": ["123456"]})


class ApiModel(BaseModel):
    """A request or response body. Unknown fields in a request are refused (`unknown_field`),
    so a misspelt `ttl_hour` is not silently ignored."""

    model_config = ConfigDict(extra="forbid", str_max_length=10_000)


class LenientModel(ApiModel):
    """A request body or query of the original API, which has always ignored fields it does not
    know; clients written against it may send more, and must keep working."""

    model_config = ConfigDict(extra="ignore")


class Page(ApiModel, Generic[T]):
    """One page of a list: its items and the cursor of the next page (null on the last)."""

    items: list[T]
    next: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last.")


class ErrorDetail(BaseModel):
    """Why a request was refused. More members carry the refusal's values (`retry_after`,
    `attempts_left`, an existing request's `id`...)."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Stable machine code (docs/errors.md).")
    reason: str | None = Field(None, description="The exact catalogue key: `code` or `code.detail`.")
    message: str = Field(description="In the request's language (Accept-Language).")
    field: str | None = Field(None, description="The request field at fault, by path (`items.0.name`).")


class ErrorBody(BaseModel):
    """Every error answer of the API."""

    error: ErrorDetail
