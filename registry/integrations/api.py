"""JSON: what integration clients call. For now, who they are; later items add bindings,
callbacks on a shopper's behalf and the merchant import, each behind its scope."""

from __future__ import annotations

from flask import Blueprint

from registry.core.openapi import ApiModel, operation
from registry.integrations.auth import client_required, current_client

bp = Blueprint("integrations_api", __name__, url_prefix="/api/v1")


class Client(ApiModel):
    """An integration client, as it sees itself."""

    id: int
    name: str
    scopes: list[str]


@bp.get("/integration/whoami")
@client_required()
@operation(responses={200: Client}, tags=("integration",))
def whoami():
    """The calling client: its id, name and scopes."""
    client = current_client()
    return Client(id=client.id, name=client.name, scopes=list(client.scopes or ()))
