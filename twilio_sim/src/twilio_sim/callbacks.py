"""What a call tells the app as it goes: status callbacks, recordings and their callbacks.

Mixed into `lifecycle.CallRun`, so every request leaves from the call's own
thread, in the order the call produced it, stamped with the call's
simulated time, and not at all once the state was reset.
"""

from __future__ import annotations

import math

from twilio_sim.formats import rfc2822
from twilio_sim.legs import Leg, Recording
from twilio_sim.state import new_sid

# The SIP response Twilio reports for each final status.
SIP_CODES = {"completed": 200, "busy": 486, "no-answer": 480, "canceled": 487, "failed": 500}
EVENT_STATUS = {"initiated": "initiated", "ringing": "ringing", "answered": "in-progress"}


class CallbacksMixin:
    """Requests to the app about a call; needs the run's `engine`, `state`, `origin`, `wall`, `check`."""

    def send(self, url: str, params: dict, method: str = "POST"):
        """Post a signed request to the app now (unless the state was reset)."""
        self.check()
        return self.engine.webhooks.request(url, params, (method or "POST").upper())

    def callback(self, leg: Leg, event: str, recording: Recording | None = None) -> None:
        """Send `leg`'s status callback for `event` if one is due (`completed` always is)."""
        if not leg.status_callback or (event != "completed" and event not in leg.status_events):
            return
        params = self.engine.call_params(leg, EVENT_STATUS.get(event, leg.status))
        with self.state.lock:
            sequence, leg.sequence = leg.sequence, leg.sequence + 1
        params.update(Timestamp=rfc2822(self.wall()), SequenceNumber=str(sequence),
                      CallbackSource="call-progress-events")
        if event == "completed":
            seconds = leg.duration or 0
            # CallDuration is seconds; Duration is billed minutes, rounded up.
            params.update(CallDuration=str(seconds), Duration=str(math.ceil(seconds / 60)),
                          SipResponseCode=str(SIP_CODES.get(leg.status, 200)))
        if recording is not None:
            params.update(RecordingUrl=recording.url, RecordingSid=recording.sid,
                          RecordingDuration=str(recording.duration))
        self.send(leg.status_callback, params, leg.status_callback_method)

    def make_recording(self, owner: Leg, duration: float, start_t: float, source: str,
                       channels: int = 1) -> Recording:
        """Create a recording of `owner` that began at simulated `start_t`."""
        sid = new_sid("RE")
        recording = Recording(
            sid=sid, account_sid=owner.account_sid, call_sid=owner.sid, duration=round(duration),
            start_time=self.origin + start_t, created_at=self.wall(), source=source,
            channels=channels, url=self.engine.recording_url(sid),
        )
        with self.state.changed:
            self.state.recordings[sid] = recording
            owner.recordings.append(sid)
            owner.note(f"recorded {recording.duration} s as {sid} ({source})")
            self.state.changed.notify_all([owner])
        return recording

    def recording_callback(self, recording: Recording, url: str | None, method: str | None) -> None:
        """Post the recording's status callback, if the app asked for one."""
        if not url:
            return
        self.send(url, {
            "AccountSid": recording.account_sid,
            "CallSid": recording.call_sid,
            "RecordingSid": recording.sid,
            "RecordingUrl": recording.url,
            "RecordingStatus": recording.status,
            "RecordingDuration": str(recording.duration),
            "RecordingChannels": str(recording.channels),
            "RecordingSource": recording.source,
            "RecordingStartTime": rfc2822(recording.start_time),
            "ErrorCode": "0",
        }, method)
