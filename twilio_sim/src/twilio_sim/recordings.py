"""Recordings (2010-04-01): the resources, and their audio as Twilio serves it.

`RecordingUrl` in callbacks points at `/Recordings/RE...` without a suffix;
fetching it returns WAV, as Twilio does; `.wav` and `.mp3` pick a format,
`.json` returns the resource. The audio is silence of the recording's
length (8 kHz, as phone audio is): real files any player or parser
accepts, with nothing in them.
"""

from __future__ import annotations

import io
import math
import wave

from flask import Blueprint, Response, jsonify, request

from twilio_sim.context import current_sim
from twilio_sim.errors import not_found
from twilio_sim.formats import list_page, rfc2822
from twilio_sim.legs import Recording

API_VERSION = "2010-04-01"
SAMPLE_RATE = 8000
# Longer recordings are served truncated: nobody needs an hour of silence.
MAX_AUDIO_SECONDS = 600
# One silent MPEG-1 Layer III frame: 32 kbit/s, 32 kHz, mono, no CRC; all-zero
# side information decodes as silence. 1152 samples, 144 bytes.
MP3_FRAME = bytes([0xFF, 0xFB, 0x18, 0xC0]) + bytes(140)
MP3_FRAME_SECONDS = 1152 / 32000
MEDIA_TYPES = {"": ("wav", "audio/x-wav"), ".wav": ("wav", "audio/x-wav"), ".mp3": ("mp3", "audio/mpeg")}

bp = Blueprint("sim_recordings", __name__, url_prefix="/api/2010-04-01/Accounts/<account_sid>")


@bp.get("/Recordings.json")
def list_recordings(account_sid: str):
    """The account's recordings, newest first, optionally for one CallSid."""
    path = f"/{API_VERSION}/Accounts/{account_sid}/Recordings.json"
    return _list(account_sid, request.args.get("CallSid"), path)


@bp.get("/Calls/<call_sid>/Recordings.json")
def list_call_recordings(account_sid: str, call_sid: str):
    """One call's recordings."""
    if call_sid not in current_sim().state.legs:
        raise not_found(request.path.removeprefix("/api"))
    path = f"/{API_VERSION}/Accounts/{account_sid}/Calls/{call_sid}/Recordings.json"
    return _list(account_sid, call_sid, path)


@bp.get("/Recordings/<sid>.json")
def fetch_recording(account_sid: str, sid: str):
    """One recording's resource."""
    with current_sim().state.lock:
        return jsonify(recording_json(_recording(sid)))


@bp.delete("/Recordings/<sid>.json")
def delete_recording(account_sid: str, sid: str):
    """Delete a recording: its resource and its audio."""
    state = current_sim().state
    with state.lock:
        _recording(sid)
        del state.recordings[sid]
    return "", 204


@bp.get("/Recordings/<name>")
def recording_media(account_sid: str, name: str):
    """The audio: WAV without a suffix or with `.wav`, MP3 with `.mp3`."""
    sid, dot, suffix = name.partition(".")
    kind = MEDIA_TYPES.get(dot + suffix)
    if kind is None:
        raise not_found(request.path.removeprefix("/api"))
    with current_sim().state.lock:
        recording = _recording(sid)
        seconds, channels = recording.duration, recording.channels
    audio = silent_wav(seconds, channels) if kind[0] == "wav" else silent_mp3(seconds)
    return Response(audio, mimetype=kind[1])


def recording_json(r: Recording) -> dict:
    """The Recording resource as Twilio returns it."""
    uri = f"/{API_VERSION}/Accounts/{r.account_sid}/Recordings/{r.sid}"
    return {
        "account_sid": r.account_sid,
        "api_version": API_VERSION,
        "call_sid": r.call_sid,
        "conference_sid": None,
        "date_created": rfc2822(r.created_at),
        "date_updated": rfc2822(r.created_at),
        "start_time": rfc2822(r.start_time),
        "duration": str(r.duration),
        "sid": r.sid,
        "price": None,
        "price_unit": "USD",
        "status": r.status,
        "channels": r.channels,
        "source": r.source,
        "error_code": None,
        "uri": f"{uri}.json",
        "encryption_details": None,
        "subresource_uris": {
            "add_on_results": f"{uri}/AddOnResults.json",
            "transcriptions": f"{uri}/Transcriptions.json",
        },
        "media_url": r.url,
    }


def silent_wav(seconds: float, channels: int = 1) -> bytes:
    """A WAV file of `seconds` of silence: 8 kHz, 8-bit PCM."""
    frames = int(SAMPLE_RATE * min(max(seconds, 0), MAX_AUDIO_SECONDS))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(1)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(b"\x80" * frames * channels)  # 8-bit PCM is unsigned: 0x80 is silence
    return buffer.getvalue()


def silent_mp3(seconds: float) -> bytes:
    """An MP3 file of about `seconds` of silence."""
    frames = math.ceil(min(max(seconds, 0), MAX_AUDIO_SECONDS) / MP3_FRAME_SECONDS)
    return MP3_FRAME * max(frames, 1)


def _list(account_sid: str, call_sid: str | None, path: str):
    state = current_sim().state
    with state.lock:
        recordings = sorted(state.recordings.values(), key=lambda r: r.created_at, reverse=True)
        records = [recording_json(r) for r in recordings if call_sid in (None, r.call_sid)]
    return jsonify(list_page(records, "recordings", path, request.args, {"CallSid": call_sid}))


def _recording(sid: str) -> Recording:
    recording = current_sim().state.recordings.get(sid)
    if recording is None:
        raise not_found(request.path.removeprefix("/api"))
    return recording
