"""The relay legs: the calls a proxy number dials to connect a masked call.

Their status and recording are recorded as every leg's are
(`calllog.legs`); what masking adds is whose leg it is, from the binding
the leg's status callback URL names.
"""

from __future__ import annotations

from registry.calllog import legs
from registry.core.extensions import db
from registry.masking.models import Binding
from registry.telephony.webhooks import CallStatus
from registry.webhooks.calls import call_completed


def leg_status(report: CallStatus, binding_id: int | None) -> legs.StatusChange | None:
    """A relay leg's status changed: recorded under `binding_id` and its merchant, the
    proxy number being the caller ID the leg was dialled from."""
    binding = db.session.get(Binding, binding_id) if binding_id else None
    leg = legs.Leg("relay", direction="outbound-dial", binding_id=binding_id,
                   proxy_number=report.from_number if binding_id else None,
                   merchant_id=binding.merchant_id if binding else None)
    change = legs.status_changed(leg, report)
    if change is not None:
        call_completed(change.record, change.moved)
    return change
