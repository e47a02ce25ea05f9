"""The staff console's store import (admins): a CSV file checked as a dry run and shown as a
preview table, then applied for the chosen integration client; audited; in English and Chinese."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from registry.audit.models import StaffAudit
from registry.merchants.models import Merchant
from tests.factories import make_client, sign_in_as

PAGE = "/staff/imports/"
CSV = ("external_id,name,timezone,business_hours,owner_email,number,label\n"
       "shop-1,Tea House,,mon-fri 09:00-18:00,a@example.com,+8613800138000,Desk\n"
       "shop-2,Bad,Mars/Base,,b@example.com,,\n")


@pytest.fixture
def shop(db):
    return make_client(scopes=("merchants",))[0]


def upload(client, shop, text: str | bytes = CSV):
    data = text.encode() if isinstance(text, str) else text
    form = {"client_id": str(shop.id), "file": (io.BytesIO(data), "s.csv")}
    return client.post(PAGE + "preview", data=form, content_type="multipart/form-data")


def hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="{name}"', page).group(1)


def test_preview_then_apply(client, db, shop):
    admin = sign_in_as(client, "admin")
    form = client.get(PAGE)
    assert form.status_code == 200 and "Shop A" in form.text and 'enctype="multipart/form-data"' in form.text
    preview = upload(client, shop)
    assert preview.status_code == 200
    assert "import-created" in preview.text and "import-error" in preview.text and "Mars" not in preview.text
    assert "Choose a time zone" in preview.text and "Dry run" in preview.text
    assert db.session.scalar(sa.select(sa.func.count(Merchant.id))) == 0
    applied = client.post(PAGE + "apply", data={"client_id": hidden(preview.text, "client_id"),
                                                "packed": hidden(preview.text, "packed")})
    assert applied.status_code == 200
    assert "/set-password/" in applied.text and "the other rows were applied" in applied.text
    [merchant] = db.session.scalars(sa.select(Merchant)).all()
    assert (merchant.client_id, merchant.external_id) == (shop.id, "shop-1")
    [entry] = db.session.scalars(sa.select(StaffAudit).where(StaffAudit.action == "merchant_import")).all()
    assert entry.staff_id == admin.id and entry.detail["created"] == 1 and entry.detail["errors"] == 1


def test_the_page_speaks_chinese(client, db, shop):
    sign_in_as(client, "admin")
    page = upload(client, shop, CSV)
    client.get("/lang/zh")
    page = client.get(PAGE)
    assert "导入" in page.text


HEAD = b"external_id,name,timezone,business_hours,owner_email,number,label\n"


@pytest.mark.parametrize("body, says", [
    (b"external_id,name\nx,y\n", "owner_email"),
    (HEAD + b"x,\xff,,,a@example.com,,\n", "UTF-8"),
    (HEAD + b"x,a\x00,,,a@example.com,,\n", "NUL"),
])
def test_a_damaged_file_is_refused_on_the_page(client, db, shop, body, says):
    sign_in_as(client, "admin")
    page = upload(client, shop, body)
    assert page.status_code == 422 and says in page.text


def test_a_tampered_apply_form_is_refused(client, db, shop):
    sign_in_as(client, "admin")
    page = client.post(PAGE + "apply", data={"client_id": str(shop.id), "packed": "not base64!"})
    assert page.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(Merchant.id))) == 0


@pytest.mark.parametrize("role", ["staff", "merchant"])
def test_only_admins(client, db, shop, role):
    sign_in_as(client, role)
    assert client.get(PAGE).status_code == 403
    assert upload(client, shop).status_code == 403


def test_a_revoked_client_cannot_be_chosen(client, db, shop):
    from registry.integrations.operations import revoke_client

    revoke_client(shop.id)
    db.session.commit()
    sign_in_as(client, "admin")
    assert upload(client, shop).status_code == 422


@pytest.mark.parametrize("client_id", ["²", "x", "99999999999999999999", ""])
def test_an_apply_for_no_client_is_refused_and_imports_nothing(client, db, shop, client_id):
    sign_in_as(client, "admin")
    preview = upload(client, shop)
    packed = hidden(preview.text, "packed")
    page = client.post(PAGE + "apply", data={"client_id": client_id, "packed": packed})
    assert page.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(Merchant.id))) == 0
