"""A request's savepoints nest in its one transaction on SQLite too: a refused or rolled-back
request leaves nothing behind, even when a savepoint was its first write."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from registry.callbacks.models import CallbackRequest
from registry.callbacks.operations import CallbackPolicy, request_callback
from registry.calllog.chain import _lock_head
from registry.calllog.models import ChainHead
from registry.shoppers.models import Shopper
from tests.factories import make_callable_merchant, make_shopper


@pytest.fixture
def app_overrides():
    return {"SHOPPER_CALL_HOURS": "00:00-24:00"}


def test_a_callback_request_rolled_back_is_not_stored(app, db):
    store_id, shopper_id = make_callable_merchant().id, make_shopper().id
    db.session.commit()
    db.session.close()  # a new transaction, whose first write is the request's savepoint

    request_callback(db.session.get(Shopper, shopper_id), store_id, "asap", "A-1", None,
                     CallbackPolicy.from_config(app.config))
    db.session.rollback()

    assert db.session.scalar(sa.select(sa.func.count(CallbackRequest.id))) == 0


def test_the_chain_head_made_in_a_rolled_back_transaction_is_not_stored(app, db):
    _lock_head()
    db.session.rollback()

    assert db.session.scalar(sa.select(sa.func.count(ChainHead.id))) == 0
