"""JSON API: a stored recording, for whoever holds a signed link (`links.py`).

The `recording.ready` webhook hands a marketplace such a link; it needs no key, and works until
it expires. A forged or expired link is refused (403) before anything is read.
"""

from __future__ import annotations

import logging

from flask import Blueprint

from registry.calllog.links import LinkRefused, read_token
from registry.calllog.models import CallRecord
from registry.calllog.serving import recording_response
from registry.core.errors import Forbidden, NotFound
from registry.core.extensions import db
from registry.core.openapi import operation

log = logging.getLogger(__name__)
bp = Blueprint("recordings_api", __name__, url_prefix="/api/v1")


@bp.get("/recordings/<token>")
@operation(responses={200: None, 302: None}, errors=(403, 404, 503), security=(), tags=("call log",))
def recording_by_link(token: str):
    """A call's recording (audio/wav), through the signed link of a `recording.ready` event.

    200 with the audio, or 302 to a short-lived URL of the object store that holds it; 403 if
    the link is forged or has expired, 404 if the recording is no longer kept (retention).
    """
    try:
        record_id = read_token(token)
    except LinkRefused as refused:
        raise Forbidden(f"forbidden.recording_link_{refused.reason}") from None
    record = db.session.get(CallRecord, record_id)
    if record is None:
        raise NotFound("not_found.recording")
    response = recording_response(record, download_name=f"call-{record.id}.wav")
    log.info("recording of call record %s fetched through a signed link", record.id)
    return response
