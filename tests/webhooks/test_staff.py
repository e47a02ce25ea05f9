"""The staff console's webhooks page (admins only): endpoints with their success rate, the latest
deliveries with each attempt, the "Redeliver" button; the dashboard's success-rate chart."""

from __future__ import annotations

import sqlalchemy as sa

from registry.accounts.models import User
from registry.audit.models import StaffAudit
from registry.core.extensions import db as database
from registry.webhooks.delivery import DeliverySettings, deliver_due
from registry.webhooks.events import emit
from registry.webhooks.models import WebhookDelivery
from registry.webhooks.operations import create_endpoint
from tests.factories import PASSWORD, make_client, make_user


def signed_in(app, role):
    user = make_user(role)
    browser = app.test_client()
    assert browser.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return browser, user


def test_admins_see_endpoints_and_deliveries_and_redeliver(app, db, receiver):
    client, _ = make_client("Shop A", scopes=("webhooks",))
    endpoint, secret = create_endpoint(client.id, receiver.url, ["callback.completed"], None, app.config)
    receiver.secrets, receiver.answers = [secret], [500]
    emit("callback.completed", {"callback_id": 1})
    database.session.commit()
    deliver_due(DeliverySettings.from_config(app.config, "test"))

    admin, user = signed_in(app, "admin")
    page = admin.get("/staff/webhooks/")
    assert page.status_code == 200
    assert "Shop A" in page.text and receiver.url in page.text and "50% of 2" in page.text
    assert "answer 500" in page.text and "Redeliver" in page.text
    assert admin.get(f"/staff/webhooks/?endpoint_id={endpoint.id}").status_code == 200

    delivery = database.session.scalars(sa.select(WebhookDelivery)).one()
    done = admin.post(f"/staff/webhooks/deliveries/{delivery.id}/redeliver")
    assert done.status_code == 302
    database.session.expire_all()
    assert database.session.get(WebhookDelivery, delivery.id).status == "pending"
    assert database.session.scalars(sa.select(StaffAudit.action)).all() == ["webhook_redeliver"]
    again = admin.post(f"/staff/webhooks/deliveries/{delivery.id}/redeliver", follow_redirects=True)
    assert "still being attempted" in again.text
    assert deliver_due(DeliverySettings.from_config(app.config, "test")) == {"succeeded": 1}

    dashboard = admin.get("/staff/")
    assert "chart-webhooks" in dashboard.text and "67% / 3" in dashboard.text


def test_staff_who_are_not_admins_are_refused(app, db):
    staff, _ = signed_in(app, "staff")
    assert staff.get("/staff/webhooks/").status_code == 403
    assert staff.post("/staff/webhooks/deliveries/1/redeliver").status_code == 403
    assert database.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_an_endpoint_id_that_is_no_number_shows_every_endpoint(app, db):
    """`?endpoint_id=²`: "²".isdigit() is true but int() refuses it (it was a 500)."""
    admin, _ = signed_in(app, "admin")
    for odd in ("%C2%B2", "abc", "99999999999999999999"):
        page = admin.get(f"/staff/webhooks/?endpoint_id={odd}")
        assert page.status_code == 200 and "Latest deliveries</h2>" in page.text
