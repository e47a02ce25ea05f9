"""Behind TRUSTED_PROXIES proxies: the client's address for limits and audit, Twilio's signature
on the public URL."""

from __future__ import annotations

from flask import request

from registry import create_app
from tests.conftest import IsolatedClient, make_test_app
from tests.factories import signed_post

FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
             "X-Forwarded-Host": "registry.example.com"}


def build(database_url, simulator, tmp_path, hops):
    app = create_app({**make_test_app(database_url, simulator.url, tmp_path).config, "TRUSTED_PROXIES": hops})
    app.test_client_class = IsolatedClient
    return app


def test_one_trusted_hop_gives_the_client_address_scheme_and_host(app, database_url, simulator, tmp_path):
    proxied = build(database_url, simulator, tmp_path, 1)

    @proxied.get("/_whoami")
    def whoami():
        from flask_limiter.util import get_remote_address

        return {"addr": request.remote_addr, "limiter": get_remote_address(), "url": request.url}

    body = proxied.test_client().get("/_whoami", headers=FORWARDED,
                                     environ_base={"REMOTE_ADDR": "10.0.0.2"}).json
    assert body == {"addr": "203.0.113.7", "limiter": "203.0.113.7",
                    "url": "https://registry.example.com/_whoami"}


def test_without_trusted_proxies_forwarded_headers_are_ignored(app, client):
    @app.get("/_whoami")
    def whoami():
        return {"addr": request.remote_addr, "url": request.url}

    body = client.get("/_whoami", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.2"}).json
    assert body == {"addr": "10.0.0.2", "url": "http://localhost/_whoami"}


def test_only_the_trusted_hops_count(app, database_url, simulator, tmp_path):
    proxied = build(database_url, simulator, tmp_path, 1)

    @proxied.get("/_whoami")
    def whoami():
        return {"addr": request.remote_addr}

    spoofed = {**FORWARDED, "X-Forwarded-For": "198.51.100.1, 203.0.113.7"}  # the client wrote the first
    assert proxied.test_client().get("/_whoami", headers=spoofed).json["addr"] == "203.0.113.7"


def test_twilio_signature_validates_on_the_public_url_behind_a_proxy(app, db, database_url, simulator,
                                                                      tmp_path):
    from tests.factories import make_proxy

    proxied = build(database_url, simulator, tmp_path, 1)
    proxied.config["PUBLIC_BASE_URL"] = "https://registry.example.com"
    make_proxy("+8613900000001")
    db.session.commit()
    params = {"CallSid": "CA" + "0" * 32, "AccountSid": "AC" + "5" * 32, "From": "+8613700137000",
              "To": "+8613900000001", "CallStatus": "ringing", "Direction": "inbound"}
    client = proxied.test_client()
    original = client.post

    def post(path, **kwargs):  # as the proxy forwards Twilio's request for the public URL
        kwargs["headers"] = {**kwargs.get("headers", {}), **FORWARDED}
        return original(path, environ_base={"REMOTE_ADDR": "10.0.0.2"}, **kwargs)

    client.post = post
    answer = signed_post(client, "/webhooks/twilio/voice/incoming", params, base="https://registry.example.com")
    assert answer.status_code == 200, answer.data
    refused = signed_post(client, "/webhooks/twilio/voice/incoming", params, base="http://10.0.0.5:8000")
    assert refused.status_code == 403
