"""`python -m bench.simulator_validation [--requests N]`: CPU ms per simulator spec check.

Times, per kind of request the dispatch benchmark and the app send, the
simulator's OpenAPI request check two ways: openapi-core alone (how every
request was checked before) and `validate_request` (the compiled fast path,
openapi-core only for what it declines). CPU time (time.process_time), not
wall time: the machine is shared, and CPU is what the check takes from the
schedulers running beside the simulator. Each check gets a fresh request, as
in the server, built outside the timed loop.
"""

from __future__ import annotations

import argparse
import io
import time

from twilio_sim.validation import PRODUCTS, validate_request, validate_with_openapi_core
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

ACCOUNT = "/2010-04-01/Accounts/AC" + "0123456789abcdef" * 2
SERVICE = "/v2/Services/VA" + "fedcba9876543210" * 2
AUTH = {"Authorization": "Basic QUMwMTIzOnRva2Vu"}
# (name, product, method, product-relative path, form, query)
CASES = [
    ("Calls create", "api", "POST", f"{ACCOUNT}/Calls.json",
     {"To": "+8613800138000", "From": "+15005550006", "Url": "http://127.0.0.1:5000/webhooks/twilio/voice",
      "StatusCallback": "http://127.0.0.1:5000/webhooks/twilio/voice/status",
      "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"], "Timeout": "30"}, None),
    ("Calls fetch", "api", "GET", f"{ACCOUNT}/Calls/CA{'0' * 32}.json", None, None),
    ("Calls list", "api", "GET", f"{ACCOUNT}/Calls.json", None, {"To": "+8613800138000", "PageSize": "50"}),
    ("Messages create", "api", "POST", f"{ACCOUNT}/Messages.json",
     {"To": "+8613800138000", "From": "+15005550006", "Body": "Your callback is at 15:00"}, None),
    ("Verify create", "verify", "POST", f"{SERVICE}/Verifications",
     {"To": "+8613800138000", "Channel": "sms"}, None),
    ("Verify check", "verify", "POST", f"{SERVICE}/VerificationCheck",
     {"To": "+8613800138000", "Code": "123456"}, None),
    ("IncomingPhoneNumbers update", "api", "POST", f"{ACCOUNT}/IncomingPhoneNumbers/PN{'0' * 32}.json",
     {"VoiceUrl": "http://127.0.0.1:5000/webhooks/twilio/voice", "VoiceMethod": "POST"}, None),
    ("IncomingPhoneNumbers list", "api", "GET", f"{ACCOUNT}/IncomingPhoneNumbers.json", None,
     {"PhoneNumber": "+15005550006"}),
]


def fresh_requests(product: str, method: str, path: str, form, query, count: int) -> list[Request]:
    environ = EnvironBuilder(path=f"/{product}{path}", method=method, data=form, query_string=query,
                             headers=AUTH).get_environ()
    body = environ["wsgi.input"].read()
    requests = []
    for _ in range(count):
        copy = dict(environ)
        copy["wsgi.input"] = io.BytesIO(body)
        requests.append(Request(copy))
    return requests


def cpu_ms_per_request(check, product, path, requests) -> float:
    check(product, path, requests[0])  # load and compile outside the timing
    start = time.process_time()
    for request in requests[1:]:
        check(product, path, request)
    return (time.process_time() - start) / (len(requests) - 1) * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.simulator_validation",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300,
                        help="fast-path checks timed per kind (default 300; openapi-core gets a tenth)")
    args = parser.parse_args(argv)
    count = max(args.requests, 2)
    print(f"{'request':30} {'openapi-core':>13} {'fast path':>10}   (CPU ms per request)")
    for name, product_name, method, path, form, query in CASES:
        product = PRODUCTS[product_name]
        before = cpu_ms_per_request(validate_with_openapi_core, product, path,
                                    fresh_requests(product_name, method, path, form, query, count // 10 + 1))
        after = cpu_ms_per_request(validate_request, product, path,
                                   fresh_requests(product_name, method, path, form, query, count))
        print(f"{name:30} {before:13.3f} {after:10.3f}")


if __name__ == "__main__":
    main()
