"""JSON: a client's webhook endpoints and their delivery log (scope `webhooks`)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app
from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from registry.core import cursors
from registry.core.openapi import ApiModel, Page, Text, Timestamp, operation
from registry.integrations.auth import client_required, current_client
from registry.integrations.idempotency import idempotent
from registry.webhooks import operations
from registry.webhooks.events import EVENT_TYPES
from registry.webhooks.models import WebhookDelivery, WebhookEndpoint
from registry.webhooks.recordings import renew_link

bp = Blueprint("webhooks_api", __name__, url_prefix="/api/v1")
TAGS = ("webhooks",)
EVENTS_DOC = "Event names to receive: " + ", ".join(EVENT_TYPES) + "."


def _known_events(value: list[str] | None) -> list[str] | None:
    for name in value or ():
        if name not in EVENT_TYPES:
            raise PydanticCustomError("invalid.webhook_event", "unknown event",
                                      {"event": name, "values": ", ".join(EVENT_TYPES)})
    return value


class EndpointCreate(ApiModel):
    url: str = Field(max_length=2000, description="Absolute https:// URL (http:// outside production).")
    events: list[str] = Field(min_length=1, max_length=50, description=EVENTS_DOC)
    description: Text(500) | None = None

    _events = field_validator("events")(_known_events)


class EndpointChange(ApiModel):
    url: str | None = Field(None, max_length=2000)
    events: list[str] | None = Field(None, min_length=1, max_length=50, description=EVENTS_DOC)
    enabled: bool | None = None
    description: Text(500) | None = None

    _events = field_validator("events")(_known_events)


class Endpoint(ApiModel):
    id: int
    url: str
    events: list[str]
    description: str | None
    enabled: bool
    disabled_reason: str | None = Field(description="Why the registry disabled it, if it did.")
    previous_secret_expires_at: Timestamp | None = Field(
        description="While set, deliveries are signed with the previous secret too.")
    created_at: Timestamp


class EndpointWithSecret(Endpoint):
    secret: str = Field(description="The signing secret, `whsec_…`: shown only now.")


class Attempt(ApiModel):
    number: int
    started_at: Timestamp
    status_code: int | None
    latency_ms: int
    response_snippet: str | None = Field(description="At most 4 KB of the receiver's answer.")
    error: str | None


class Delivery(ApiModel):
    id: int
    endpoint_id: int
    event_type: str
    webhook_id: str = Field(description="The `webhook-id` header: the same on every attempt.")
    status: str = Field(description="`pending`, `succeeded` or `failed`.")
    attempts: int
    next_attempt_at: Timestamp | None
    last_status_code: int | None
    last_latency_ms: int | None
    created_at: Timestamp
    log: list[Attempt]


class RecordingLink(ApiModel):
    download_url: str = Field(description="A signed link of the registry's own, needing no key.")
    download_expires_at: Timestamp


class DeliveryQuery(ApiModel):
    cursor: str | None = Field(None, max_length=cursors.MAX_LENGTH)
    per_page: int = Field(25, ge=1, le=100)


def _endpoint(row: WebhookEndpoint, secret: str | None = None) -> Endpoint:
    fields = dict(id=row.id, url=row.url, events=list(row.events or ()), description=row.description,
                  enabled=row.enabled, disabled_reason=row.disabled_reason,
                  previous_secret_expires_at=row.previous_secret_until, created_at=row.created_at)
    return EndpointWithSecret(**fields, secret=secret) if secret else Endpoint(**fields)


def _delivery(row: WebhookDelivery) -> Delivery:
    return Delivery(id=row.id, endpoint_id=row.endpoint_id, event_type=row.event_type,
                    webhook_id=row.msg_id, status=row.status, attempts=row.attempts,
                    next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
                    last_status_code=row.last_status_code, last_latency_ms=row.last_latency_ms,
                    created_at=row.created_at,
                    log=[Attempt(number=a.number, started_at=a.started_at, status_code=a.status_code,
                                 latency_ms=a.latency_ms, response_snippet=a.response_snippet,
                                 error=a.error) for a in row.log])


@bp.post("/webhook-endpoints")
@client_required("webhooks")
@idempotent
@operation(body=EndpointCreate, responses={201: EndpointWithSecret}, tags=TAGS)
def create_endpoint(body: EndpointCreate):
    """Register an endpoint; its signing secret is in this answer only."""
    row, secret = operations.create_endpoint(current_client().id, body.url, body.events, body.description,
                                             current_app.config)
    return _endpoint(row, secret), 201


@bp.get("/webhook-endpoints")
@client_required("webhooks")
@operation(responses={200: Page[Endpoint]}, tags=TAGS)
def list_endpoints():
    """The calling client's endpoints (one page: a client has few)."""
    rows = operations.endpoints_of(current_client().id)
    return Page[Endpoint](items=[_endpoint(r) for r in rows], next=None)


@bp.get("/webhook-endpoints/<int:endpoint_id>")
@client_required("webhooks")
@operation(responses={200: Endpoint}, errors=(404,), tags=TAGS)
def get_endpoint(endpoint_id: int):
    """One endpoint of the calling client."""
    return _endpoint(operations.endpoint_of(current_client().id, endpoint_id))


@bp.patch("/webhook-endpoints/<int:endpoint_id>")
@client_required("webhooks")
@operation(body=EndpointChange, responses={200: Endpoint}, errors=(404,), tags=TAGS)
def change_endpoint(endpoint_id: int, body: EndpointChange):
    """Change the URL, the events, the description, or enable or disable the endpoint."""
    row = operations.update_endpoint(current_client().id, endpoint_id, current_app.config, url=body.url,
                                     event_types=body.events, enabled=body.enabled,
                                     description=body.description)
    return _endpoint(row)


@bp.delete("/webhook-endpoints/<int:endpoint_id>")
@client_required("webhooks")
@operation(responses={204: None}, errors=(404,), tags=TAGS)
def delete_endpoint(endpoint_id: int):
    """Delete the endpoint, its queued deliveries and their log."""
    operations.delete_endpoint(current_client().id, endpoint_id)
    return None, 204


@bp.post("/webhook-endpoints/<int:endpoint_id>/test")
@client_required("webhooks")
@idempotent
@operation(responses={202: Delivery}, errors=(404,), tags=TAGS)
def test_endpoint(endpoint_id: int):
    """Queue a `ping` event for this endpoint; the delivery log shows how it went."""
    return _delivery(operations.send_test(current_client().id, endpoint_id)), 202


@bp.post("/webhook-endpoints/<int:endpoint_id>/rotate-secret")
@client_required("webhooks")
@idempotent
@operation(responses={200: EndpointWithSecret}, errors=(404,), tags=TAGS)
def rotate_secret(endpoint_id: int):
    """A new signing secret, in this answer only; the previous one keeps signing for
    `WEBHOOK_SECRET_OVERLAP_HOURS` (both signatures are sent meanwhile)."""
    overlap = timedelta(hours=current_app.config["WEBHOOK_SECRET_OVERLAP_HOURS"])
    row, secret = operations.rotate_secret(current_client().id, endpoint_id, overlap)
    return _endpoint(row, secret)


@bp.get("/webhook-endpoints/<int:endpoint_id>/deliveries")
@client_required("webhooks")
@operation(query=DeliveryQuery, responses={200: Page[Delivery]}, errors=(404,), tags=TAGS)
def list_deliveries(endpoint_id: int, query: DeliveryQuery):
    """The endpoint's deliveries, newest first, each with its log of attempts."""
    per_page = min(query.per_page, current_app.config["API_MAX_PER_PAGE"])
    rows, following = operations.deliveries_of(current_client().id, endpoint_id, query.cursor, per_page)
    return Page[Delivery](items=[_delivery(r) for r in rows], next=following)


@bp.post("/webhook-deliveries/<int:delivery_id>/retry")
@client_required("webhooks")
@idempotent
@operation(responses={202: Delivery}, errors=(404, 409), tags=TAGS)
def retry_delivery(delivery_id: int):
    """Send a finished delivery once more (same `webhook-id`), by the scheduler, soon."""
    return _delivery(operations.retry_delivery(current_client().id, delivery_id)), 202


@bp.post("/recordings/<token>/renew")
@client_required("webhooks")
@idempotent
@operation(responses={200: RecordingLink}, errors=(403, 404), tags=TAGS)
def renew_recording_link(token: str):
    """A fresh download link for the recording a `recording.ready` link names, expired or not
    (a delivery retried after its link expired carries the expired one), to a client one of
    whose endpoints was sent that event. `token` is the last segment of that link's path.
    403 if it is forged; 404 if retention deleted the recording or it was never sent to you."""
    link = renew_link(token, current_client().id)
    return RecordingLink(download_url=link.url, download_expires_at=link.expires_at)
