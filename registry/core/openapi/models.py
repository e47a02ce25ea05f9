"""Base models of the JSON API's bodies: strict about shape, stable in the document."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class ApiModel(BaseModel):
    """A request or response body. Unknown fields in a request are refused (`unknown_field`),
    so a misspelt `ttl_hour` is not silently ignored."""

    model_config = ConfigDict(extra="forbid", str_max_length=10_000)


class LenientModel(ApiModel):
    """A request body of the original API, which has always ignored fields it does not know;
    clients written against it may send more, and must keep working."""

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
