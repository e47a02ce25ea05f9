"""The account itself (2010-04-01 Accounts fetch) and its Verify service (v2 Services fetch, list).

One account, one Verify service: another account's sid is refused by the
guard (404), another service's here (404), as Twilio does not confirm that
either exists.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from twilio_sim.context import SimulatorContext, current_sim
from twilio_sim.errors import not_found
from twilio_sim.formats import iso8601, rfc2822

API_VERSION = "2010-04-01"
VERIFY_HOST = "https://verify.twilio.com"
ACCOUNT_RESOURCES = {
    "available_phone_numbers": "AvailablePhoneNumbers", "calls": "Calls", "conferences": "Conferences",
    "incoming_phone_numbers": "IncomingPhoneNumbers", "notifications": "Notifications",
    "outgoing_caller_ids": "OutgoingCallerIds", "recordings": "Recordings",
    "transcriptions": "Transcriptions", "addresses": "Addresses", "signing_keys": "SigningKeys",
    "connect_apps": "ConnectApps", "sip": "SIP", "authorized_connect_apps": "AuthorizedConnectApps",
    "usage": "Usage", "keys": "Keys", "applications": "Applications", "short_codes": "SMS/ShortCodes",
    "queues": "Queues", "messages": "Messages", "balance": "Balance",
}
SERVICE_LINKS = {
    "verification_checks": "VerificationCheck", "verifications": "Verifications",
    "rate_limits": "RateLimits", "messaging_configurations": "MessagingConfigurations",
    "entities": "Entities", "webhooks": "Webhooks", "access_tokens": "AccessTokens",
}

bp = Blueprint("sim_account", __name__)


@bp.get(f"/api/{API_VERSION}/Accounts/<account_sid>.json")
def fetch_account(account_sid: str):
    """The account (the guard has already refused any other sid)."""
    sim = current_sim()
    base = f"/{API_VERSION}/Accounts/{account_sid}"
    created = rfc2822(sim.state.created_at)
    return jsonify({
        "auth_token": sim.auth_token,
        "date_created": created,
        "date_updated": created,
        "friendly_name": "Simulated account",
        "owner_account_sid": account_sid,
        "sid": account_sid,
        "status": "active",
        "subresource_uris": {key: f"{base}/{path}.json" for key, path in ACCOUNT_RESOURCES.items()},
        "type": "Full",
        "uri": f"{base}.json",
    })


@bp.get("/verify/v2/Services")
def list_services():
    """The account's Verify services: the one configured."""
    sim = current_sim()
    page_size = int(request.args.get("PageSize") or 50)
    url = f"{VERIFY_HOST}/v2/Services?PageSize={page_size}&Page=0"
    return jsonify({
        "services": [service_json(sim)],
        "meta": {"page": 0, "page_size": page_size, "first_page_url": url, "previous_page_url": None,
                 "next_page_url": None, "key": "services", "url": url},
    })


@bp.get("/verify/v2/Services/<service_sid>")
def fetch_service(service_sid: str):
    sim = current_sim()
    if service_sid != sim.verify_service_sid:
        raise not_found(request.path.removeprefix("/verify/v2"))
    return jsonify(service_json(sim))


def service_json(sim: SimulatorContext) -> dict:
    """The Verify Service resource, with the settings the simulator applies (6-digit codes)."""
    url = f"{VERIFY_HOST}/v2/Services/{sim.verify_service_sid}"
    created = iso8601(sim.state.created_at)
    return {
        "sid": sim.verify_service_sid,
        "account_sid": sim.account_sid,
        "friendly_name": "Simulated Verify service",
        "code_length": 6,
        "lookup_enabled": False,
        "psd2_enabled": False,
        "skip_sms_to_landlines": False,
        "dtmf_input_required": False,
        "tts_name": None,
        "do_not_share_warning_enabled": False,
        "custom_code_enabled": False,
        "push": {"include_date": False, "apn_credential_sid": None, "fcm_credential_sid": None},
        "totp": {"issuer": None, "time_step": None, "code_length": None, "skew": None},
        "default_template_sid": None,
        "whatsapp": {"msg_service_sid": None, "from": None},
        "passkeys": {"relying_party": {"id": None, "name": None, "origins": None},
                     "authenticator_attachment": None, "discoverable_credentials": None,
                     "user_verification": None},
        "verify_event_subscription_enabled": False,
        "date_created": created,
        "date_updated": created,
        "url": url,
        "links": {key: f"{url}/{path}" for key, path in SERVICE_LINKS.items()},
    }
