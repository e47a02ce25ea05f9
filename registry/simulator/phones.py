"""The page of simulated phones, and the same inboxes as JSON for scripts.

A person demoing the product (or a browser test) reads codes and texts
here instead of on a real handset. Each message body sits in an element
with class `sms-body` inside the element with `data-phone="<E.164>"`, so a
test can find the code sent to one number.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from registry.simulator.context import current_sim
from registry.simulator.state import InboxMessage

bp = Blueprint("sim_phones", __name__)

# The page reloads itself this often, so a code appears without a click.
REFRESH_SECONDS = 2


@bp.get("/")
@bp.get("/phones")
def phones_page():
    """Every phone that received something, and every number the account owns."""
    sim = current_sim()
    return render_template(
        "simulator/phones.html",
        phones=sim.state.phones(),
        refresh_seconds=REFRESH_SECONDS,
        account_sid=sim.account_sid,
        public_base_url=sim.public_base_url,
    )


@bp.get("/_sim/inbox/<path:e164>")
def inbox_json(e164: str):
    """`{"phone", "messages": [...]}` for one number, oldest message first."""
    # A "+" typed in a shell URL is easy to lose; the number is E.164 either way.
    phone = e164 if e164.startswith("+") else "+" + e164.strip()
    messages = [inbox_message_json(m) for m in current_sim().state.inbox(phone)]
    return jsonify(phone=phone, messages=messages)


def inbox_message_json(message: InboxMessage) -> dict:
    """One delivered message as the inbox JSON shows it."""
    return {
        "sid": message.sid,
        "kind": message.kind,
        "from": message.from_,
        "to": message.to,
        "body": message.body,
        "date_created": message.date_created.isoformat(),
    }
