"""Fixtures shared by the staff console's tests."""

from __future__ import annotations

import pytest

from tests.factories import sign_in_as


@pytest.fixture
def admin(client):
    """An admin, signed in on `client`."""
    return sign_in_as(client, "admin")
