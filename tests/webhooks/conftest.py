from __future__ import annotations

import pytest

from tests.webhooks.receiver import Receiver, ReceiverServer


@pytest.fixture
def app_overrides() -> dict:
    return {"WEBHOOK_TIMEOUT_SECONDS": 0.5, "WEBHOOK_RETRY_SCHEDULE": (0, 0, 0)}


@pytest.fixture
def receiver():
    receiver = Receiver()
    with ReceiverServer(receiver) as server:
        receiver.url = server.url
        yield receiver
