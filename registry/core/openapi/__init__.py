"""The JSON API's schemas and its OpenAPI description, from one source.

Each `/api/v1` view declares its request body, query and responses as pydantic
models with `@operation(...)` (`operation.py`). The same models validate what
comes in (a refusal is a catalogue error naming the field, `errors.py`), shape
what goes out, and are the OpenAPI 3.1 document served at
`/api/v1/openapi.json` (`spec.py`), rendered at `/api/docs` (`views.py`).

Why pydantic: its validation errors carry machine-readable types that map onto
the product's error catalogue (so refusals are translated in one place, like
every other), and its JSON Schema (2020-12) is what OpenAPI 3.1 uses as is.
"""

from registry.core.openapi.models import (
    ApiModel,
    CodeText,
    LenientModel,
    Page,
    PhoneText,
    Text,
    Timestamp,
    checked_by_operation,
)
from registry.core.openapi.operation import auth_required_by, documents, operation

__all__ = ["ApiModel", "CodeText", "LenientModel", "Page", "PhoneText", "Text", "Timestamp",
           "auth_required_by", "checked_by_operation", "documents", "operation"]
