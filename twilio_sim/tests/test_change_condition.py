"""`state.changed` wakes a call's thread for changes to its own legs only (ChangeCondition)."""

import threading
import time
from types import SimpleNamespace

from twilio_sim.state import SimulatorState


def _waiter(state, sid: str, woken: dict, ready: threading.Event) -> threading.Thread:
    def wait() -> None:
        with state.changed, state.changed.watching({sid}) as waiter:
            ready.set()
            woken[sid] = waiter.wait(timeout=0.5)

    return threading.Thread(target=wait)


def test_a_change_to_one_leg_wakes_its_watcher_and_not_another_calls():
    state = SimulatorState()
    woken: dict = {}
    ready = {sid: threading.Event() for sid in ("CA1", "CA2")}
    threads = [_waiter(state, sid, woken, ready[sid]) for sid in ready]
    for thread in threads:
        thread.start()
    for event in ready.values():
        assert event.wait(2)
    with state.changed:
        state.changed.notify_all([SimpleNamespace(sid="CA1")])
    for thread in threads:
        thread.join(2)
    assert woken == {"CA1": True, "CA2": False}  # CA2's thread slept through to its timeout


def test_a_plain_notify_wakes_every_watcher_and_plain_waiters():
    state = SimulatorState()
    woken: dict = {}
    ready = threading.Event()
    thread = _waiter(state, "CA1", woken, ready)
    thread.start()
    assert ready.wait(2)
    started = time.monotonic()
    with state.changed:
        state.changed.notify_all()  # a reset, say
    thread.join(2)
    assert woken == {"CA1": True} and time.monotonic() - started < 0.4
    assert state.changed._watchers == {}  # the watcher is forgotten once it stops waiting
