"""Rotating DATA_KEY: search works before, during and after `keys rotate`, old rows decrypt."""

from datetime import timedelta

import pytest
from sqlalchemy import Text, select, type_coerce

from registry.calllog.models import CallRecord
from registry.complaints.search import parse_search, search
from registry.core.errors import Conflict, RateLimited
from registry.core.keys import encrypted_columns, rotate, rotate_batch
from registry.core.phones import PhoneCipher, parse_phone
from registry.masking.allocation import allocate
from registry.masking.models import Binding
from registry.masking.routing import decide
from registry.merchants.models import MerchantNumber
from registry.merchants.operations import add_number
from registry.shoppers.models import Shopper
from registry.shoppers.operations import asserted_shopper, is_blocked_number
from registry.telephony import get_gateway
from registry.verification.operations import Target, check_code, send_code
from registry.verification.policy import Requester, VerificationPolicy
from tests.conftest import TEST_DATA_KEY
from tests.factories import (
    make_binding,
    make_call_record,
    make_client,
    make_merchant,
    make_number,
    make_proxy,
    make_shopper,
)

POLICY = VerificationPolicy()
NEW_KEY = "new-data-key-9876543210zyxwvutsrqponmlkjihgfedcba"
STORE_NUMBERS = ("+8613800138000", "+8613800138001")
SHOPPERS = ("+8613700137000", "+8613700137001")
PROXY, SECOND_PROXY = "+8613900000001", "+8613900000002"


def use_keys(app, data_key: str) -> None:
    """Restart the app's ciphers with another DATA_KEY (what a redeploy does)."""
    app.config["DATA_KEY"] = data_key
    app.extensions["phone_cipher"] = PhoneCipher(data_key)
    app.extensions.pop("webhook_cipher", None)


@pytest.fixture
def stored(app, db):
    """Two of everything, stored under the old key: stores' numbers, shoppers, bindings, calls."""
    make_proxy(PROXY)
    store = make_merchant()
    client, _key = make_client()
    for store_number, shopper in zip(STORE_NUMBERS, SHOPPERS, strict=True):
        make_number(store, store_number, status="verified")
        make_shopper(shopper)
        make_binding(store_number, shopper)
        make_call_record(store, from_number=shopper, to_number=store_number)
    make_proxy(SECOND_PROXY)  # after the bindings, which all went to PROXY
    db.session.commit()
    yield store, client
    use_keys(app, TEST_DATA_KEY)


def assert_search_works(store, client, db):
    db.session.expire_all()
    for store_number, shopper in zip(STORE_NUMBERS, SHOPPERS, strict=True):
        # A store's number stays unique to it.
        with pytest.raises(Conflict):
            add_number(store, store_number)
        db.session.rollback()
        # A shopper is found by number, never created twice.
        found = asserted_shopper(parse_phone(shopper, "CN"), client.id)
        assert found is not None and found.phone == shopper
        assert is_blocked_number(shopper) is False
        # Staff search calls by number.
        records, _ = search(parse_search({"phone": shopper}, "CN", 100))
        assert [r.from_number for r in records] == [shopper]
        # The binding routes the shopper's call to the store.
        decision = decide(PROXY, shopper)
        assert decision.action == "connect" and decision.connect_to == store_number
        # Asking for the pair again extends its binding, never makes a second one.
        again = allocate(store_number, shopper, ttl=timedelta(hours=1), default_cap=200)
        assert (again.id, again.proxy_number.e164) == (decision.binding_id, PROXY)
        db.session.rollback()
    # A new pair of two parties already on PROXY must not be put on it too (a call from either
    # to PROXY would then have two bindings to choose from).
    crossed = allocate(STORE_NUMBERS[0], SHOPPERS[1], ttl=timedelta(hours=1), default_cap=200)
    assert crossed.proxy_number.e164 == SECOND_PROXY
    db.session.rollback()
    assert db.session.query(Binding).count() == 2
    assert db.session.query(Shopper).count() == 2
    assert db.session.query(MerchantNumber).count() == 2


def raw_tokens(db, model, column):
    return db.session.scalars(select(type_coerce(column, Text)).order_by(model.id)).all()


def test_search_works_before_during_and_after_a_rotation(app, db, stored):
    store, client = stored
    assert_search_works(store, client, db)  # before: one key

    use_keys(app, f"{NEW_KEY},{TEST_DATA_KEY}")
    assert_search_works(store, client, db)  # the new key listed, nothing rotated yet

    for name, columns in encrypted_columns().items():  # half the rows rotated
        rotate_batch(db.metadata.tables[name], columns, 0, 1)
    db.session.commit()
    cipher = app.extensions["phone_cipher"]
    tokens = raw_tokens(db, Shopper, Shopper.phone)
    assert [cipher.is_current(t) for t in tokens] == [True, False]
    assert_search_works(store, client, db)

    done = rotate(batch=1)
    assert done.rewritten["shoppers"] == 1 and done.rewritten["call_records"] == 1
    assert rotate().rewritten == dict.fromkeys(done.rewritten, 0)  # idempotent
    assert_search_works(store, client, db)

    use_keys(app, NEW_KEY)  # the old key dropped
    assert_search_works(store, client, db)
    db.session.expire_all()
    assert {r.to_number for r in db.session.query(CallRecord)} == set(STORE_NUMBERS)


def test_a_row_under_an_old_key_still_decrypts_and_new_ones_use_the_newest(app, db, stored):
    use_keys(app, f"{NEW_KEY},{TEST_DATA_KEY}")
    db.session.expire_all()
    assert sorted(s.phone for s in db.session.query(Shopper)) == list(SHOPPERS)
    newcomer = make_shopper("+8613700137009")
    token = raw_tokens(db, Shopper, Shopper.phone)[-1]
    assert PhoneCipher(NEW_KEY).decrypt(token) == newcomer.phone
    with pytest.raises(ValueError):
        PhoneCipher(TEST_DATA_KEY).decrypt(token)


def test_without_the_old_key_unrotated_rows_cannot_be_read(app, db, stored):
    """Why the old key stays listed until `keys rotate` has run."""
    use_keys(app, NEW_KEY)
    db.session.expire_all()
    with pytest.raises(ValueError):
        db.session.query(Shopper).first().phone  # noqa: B018


def test_keys_rotate_command(app, db, stored, runner):
    use_keys(app, f"{NEW_KEY},{TEST_DATA_KEY}")
    result = runner.invoke(args=["keys", "rotate", "--batch", "1"])
    assert result.exit_code == 0, result.output
    assert "shoppers: 2 of 2 rows re-encrypted" in result.output
    assert "bindings: 2 of 2 rows re-encrypted" in result.output
    again = runner.invoke(args=["keys", "rotate"])
    assert "shoppers: 0 of 2 rows re-encrypted" in again.output


def test_code_send_limits_and_checks_hold_across_a_rotation(app, db, stored, simulator):
    """Sends and codes are kept under the number's hash; one sent under the old key still counts
    towards the limits, and its code can still be checked, once the new key is listed."""
    shopper, who = SHOPPERS[0], Requester(ip="198.51.100.7")
    send_code(get_gateway(), Target.of(shopper, "shopper"), "sms", who, POLICY)
    db.session.commit()
    use_keys(app, f"{NEW_KEY},{TEST_DATA_KEY}")
    with pytest.raises(RateLimited) as caught:  # the resend gap, whichever key counted the send
        send_code(get_gateway(), Target.of(shopper, "shopper"), "sms", Requester(ip="198.51.100.8"), POLICY)
    assert caught.value.code == "too_many_codes" and caught.value.retry_after > 0
    db.session.rollback()
    code = simulator.state.last_code(shopper)
    approved = check_code(get_gateway(), Target.of(shopper, "shopper"), code, who, POLICY)
    assert approved.outcome == "approved"


def test_a_retry_with_an_idempotency_key_is_recognised_across_a_rotation(app, client, db, stored):
    """The key's fingerprint was computed under the old key; the retry, after the new key is
    listed, still replays the first answer instead of running again."""
    store, _ = stored
    _, key = make_client(name="Retrying", scopes=("bindings",))
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "order-7-bind"}
    body = {"merchant_id": store.id, "shopper_phone": "+8613700137009", "order_ref": "7"}
    first = client.post("/api/v1/bindings", json=body, headers=headers)
    assert first.status_code == 201, first.json
    use_keys(app, f"{NEW_KEY},{TEST_DATA_KEY}")
    again = client.post("/api/v1/bindings", json=body, headers=headers)
    assert (again.status_code, again.json) == (201, first.json)
    assert again.headers["Idempotent-Replayed"] == "true"
