"""Handing a stored recording to whoever may hear it (the staff console, a signed link).

The caller has already checked who asks. From local disk the file is sent; from object storage
either the listener's browser is redirected to a presigned URL of the object that lasts
`RECORDINGS_S3_URL_SECONDS` (the default: the audio never passes through a web worker), or,
with `RECORDINGS_S3_SERVE=stream`, the object is streamed through this process (for a store
the listener cannot reach).
"""

from __future__ import annotations

from flask import Response, current_app, redirect, send_file

from registry.calllog import recordings
from registry.calllog.models import CallRecord
from registry.calllog.storage import StorageError, get_storage
from registry.core.errors import NotFound, ProviderUnavailable

NO_STORE = {"Cache-Control": "no-store"}


def recording_response(record: CallRecord, *, download_name: str | None = None) -> Response:
    """The leg's stored recording as a response: 404 if none is kept, 503 if the store fails."""
    sid = recordings.stored_sid(record)
    if sid is None:
        raise NotFound("not_found.recording")
    storage = get_storage()
    if storage.name == "local":
        path = recordings.local_path(record)
        if path is None or not path.is_file():
            raise NotFound("not_found.recording")
        return send_file(path, mimetype="audio/wav", conditional=True, max_age=0,
                         as_attachment=download_name is not None, download_name=download_name)
    try:
        if current_app.config.get("RECORDINGS_S3_SERVE", "redirect") == "stream":
            streamed = storage.stream(sid)
            if streamed is None:
                raise NotFound("not_found.recording")
            chunks, length = streamed
            response = Response(chunks, mimetype="audio/wav", headers=NO_STORE)
            if length is not None:
                response.content_length = length
            if download_name is not None:
                response.headers["Content-Disposition"] = f'attachment; filename="{download_name}"'
            return response
        url = storage.presigned_url(sid, current_app.config["RECORDINGS_S3_URL_SECONDS"])
    except StorageError:
        raise ProviderUnavailable("provider_unavailable.recording_storage") from None
    response = redirect(url, 302)
    response.headers.update(NO_STORE)
    return response
