"""The merchant import (`POST /api/v1/merchants/import`) and a store by external id, for
integration clients with the `merchants` scope: every behaviour and bad input of issue 14 item 5."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from registry.accounts.models import User
from registry.merchants.models import Merchant, MerchantNumber
from tests.factories import bearer, make_client, make_merchant, make_number, make_user

IMPORT = "/api/v1/merchants/import"
HEADER = "external_id,name,timezone,business_hours,owner_email,number,label\n"
ROWS = (
    'shop-1,Tea House,Asia/Shanghai,"mon-fri 09:00-18:00; sat 10:00-14:00",a@example.com,'
    "+8613800138000,Front desk\n"
    "shop-2,Noodle Bar,,,b@example.com,,\n"
)


@pytest.fixture
def key(db):
    return make_client(scopes=("merchants",))[1]


def post_csv(client, key, text: str | bytes, **params):
    body = text.encode() if isinstance(text, str) else text
    return client.post(IMPORT, data=body, query_string=params,
                       headers={**bearer(key), "Content-Type": "text/csv"})


def post_json(client, key, items, **params):
    return client.post(IMPORT, data=json.dumps(items), query_string=params,
                       headers={**bearer(key), "Content-Type": "application/json"})


def counts(db) -> tuple[int, int, int]:
    db.session.expire_all()
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model))
                 for model in (Merchant, MerchantNumber, User))


def test_csv_import_creates_stores_owners_and_unverified_numbers(client, db, key):
    response = post_csv(client, key, HEADER + ROWS)
    assert response.status_code == 200, response.json
    body = response.json
    assert [r["status"] for r in body["results"]] == ["created", "created"]
    assert body["summary"]["created"] == 2 and body["summary"]["errors"] == 0
    first = body["results"][0]
    assert first["row"] == 1 and first["external_id"] == "shop-1" and first["errors"] == []
    assert "/set-password/" in first["set_password_url"]
    merchant = db.session.get(Merchant, first["merchant_id"])
    assert merchant.external_id == "shop-1" and merchant.business_hours["sat"] == [["10:00", "14:00"]]
    assert merchant.business_hours["sun"] == []
    assert [n.status for n in merchant.numbers] == ["unverified"]
    assert merchant.numbers[0].label == "Front desk"
    second = db.session.get(Merchant, body["results"][1]["merchant_id"])
    assert second.timezone == "Asia/Shanghai" and second.numbers == []


def test_importing_the_same_file_twice_changes_nothing(client, db, key):
    assert post_csv(client, key, HEADER + ROWS).status_code == 200
    before = counts(db)
    again = post_csv(client, key, HEADER + ROWS).json
    assert [r["status"] for r in again["results"]] == ["unchanged", "unchanged"]
    assert again["summary"]["unchanged"] == 2 and counts(db) == before


def test_a_changed_row_updates_the_store_and_adds_its_number_unverified(client, db, key):
    post_csv(client, key, HEADER + ROWS)
    changed = HEADER + ROWS.replace("Noodle Bar,,,b@example.com,,", "Noodle Bar 2,Europe/Paris,"
                                    "mon 08:00-12:00,b@example.com,+8613900139000,Shop")
    results = post_csv(client, key, changed).json["results"]
    assert [r["status"] for r in results] == ["unchanged", "updated"]
    merchant = db.session.get(Merchant, results[1]["merchant_id"])
    db.session.refresh(merchant)
    assert (merchant.name, merchant.timezone) == ("Noodle Bar 2", "Europe/Paris")
    assert merchant.business_hours["mon"] == [["08:00", "12:00"]] and merchant.business_hours["tue"] == []
    assert [(n.status, n.label) for n in merchant.numbers] == [("unverified", "Shop")]


def test_json_array_takes_hours_as_an_object_or_text(client, db, key):
    hours = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    items = [{"external_id": "j-1", "name": "Json Shop", "owner_email": "j@example.com",
              "business_hours": hours, "number": "+8613800138000"},
             {"external_id": "j-2", "name": "Text Shop", "owner_email": "k@example.com",
              "business_hours": "mon-sun 09:00-17:00"}]
    results = post_json(client, key, items).json["results"]
    assert [r["status"] for r in results] == ["created", "created"]
    first, second = (db.session.get(Merchant, r["merchant_id"]) for r in results)
    assert first.business_hours == second.business_hours == hours


def test_dry_run_answers_as_applying_would_and_changes_nothing(client, db, key):
    before = counts(db)
    body = post_csv(client, key, HEADER + ROWS + "shop-3,,Mars/Base,,c@example.com,,\n", dry_run="true").json
    assert [r["status"] for r in body["results"]] == ["created", "created", "error"]
    assert body["summary"]["dry_run"] is True and "nothing was changed" in body["summary"]["message"]
    assert all(r["set_password_url"] is None for r in body["results"])
    assert counts(db) == before


def test_good_rows_are_applied_when_others_fail_and_the_summary_says_so(client, db, key):
    text = HEADER + ROWS + "shop-3,Bad Zone,Mars/Base,,c@example.com,,\n" + "shop-4,Fine,,,d@example.com,,\n"
    body = post_csv(client, key, text).json
    assert [r["status"] for r in body["results"]] == ["created", "created", "error", "created"]
    assert body["results"][2]["errors"] == [{
        "field": "timezone", "code": "invalid", "reason": "invalid.timezone",
        "message": "Choose a time zone such as Asia/Shanghai."}]
    assert body["summary"]["errors"] == 1 and "the other rows were applied" in body["summary"]["message"]
    assert counts(db)[0] == 3


def test_a_row_lists_every_field_that_is_wrong(client, db, key):
    body = post_csv(client, key, HEADER + ",,Mars/Base,mon 9-5,not-an-email,12ab,\n").json
    fields = [e["field"] for e in body["results"][0]["errors"]]
    assert fields == ["external_id", "name", "timezone", "business_hours", "owner_email", "number"]


@pytest.mark.parametrize("hours, reason", [
    ("mon 9-5", "invalid.hours_text"),
    ("someday 09:00-10:00", "invalid.hours_text"),
    ("mon 18:00-09:00", "invalid.hours_order"),
    ("mon 09:00-12:00,11:00-13:00", "invalid.hours_overlap"),
    ("mon 09:00-25:00", "invalid.hours_time"),
    ("mon 09:00-10:00; mon 11:00-12:00", "invalid.hours_text"),
])
def test_bad_business_hours_are_the_rows_error(client, db, key, hours, reason):
    body = post_csv(client, key, HEADER + f'shop-1,Tea,,"{hours}",a@example.com,,\n').json
    [error] = body["results"][0]["errors"]
    assert (error["field"], error["reason"]) == ("business_hours", reason)
    assert counts(db)[0] == 0


def test_duplicate_external_ids_import_the_first_and_refuse_the_rest(client, db, key):
    text = HEADER + ROWS + "shop-1,Another Tea,,,z@example.com,,\n"
    results = post_csv(client, key, text).json["results"]
    assert [r["status"] for r in results] == ["created", "created", "error"]
    [error] = results[2]["errors"]
    assert (error["code"], error["field"]) == ("duplicate", "external_id")
    assert "row 1" in results[2]["errors"][0]["message"]
    assert db.session.scalar(sa.select(Merchant.name).where(Merchant.external_id == "shop-1")) == "Tea House"


def test_a_missing_column_refuses_the_file_naming_it(client, db, key):
    response = post_csv(client, key, HEADER.replace(",label", "") + "shop-1,Tea,,,a@example.com,\n")
    assert response.status_code == 422
    assert response.json["error"]["field"] == "label" and "'label'" in response.json["error"]["message"]
    assert counts(db) == (0, 0, 0)


def test_an_unknown_column_refuses_the_file(client, db, key):
    response = post_csv(client, key, HEADER.replace("label", "lable"))
    assert response.status_code == 422 and response.json["error"]["reason"] == "required.import_column"


@pytest.mark.parametrize("body, reason", [
    (HEADER.encode() + b"shop-1,Caf\xe9,,,a@example.com,,\n", "invalid.import_encoding"),
    (HEADER.encode() + b"shop-1,Tea\x00House,,,a@example.com,,\n", "invalid.import_nul"),
    (b'external_id,name\n"open', "required.import_column"),
    ((HEADER + 'shop-1,"Tea,,,a@example.com,,\n').encode(), "invalid.import_csv"),
])
def test_damaged_files_are_refused_whole(client, db, key, body, reason):
    response = post_csv(client, key, body)
    assert response.status_code == 422, response.json
    assert response.json["error"]["reason"] == reason and response.json["error"]["field"] == "body" or \
        reason == "required.import_column"
    assert counts(db) == (0, 0, 0)


def test_non_utf8_and_nul_name_the_line(client, db, key):
    text = HEADER.encode() + b"shop-1,Tea,,,a@example.com,,\nshop-2,Caf\xe9,,,b@example.com,,\n"
    error = post_csv(client, key, text).json["error"]
    assert "line 3" in error["message"]
    nul = post_csv(client, key, HEADER.encode() + b"shop-1,Tea\x00,,,a@example.com,,\n").json["error"]
    assert "line 2" in nul["message"]


def test_control_characters_in_a_cell_are_that_rows_error(client, db, key):
    text = HEADER + "shop-1,Tea\x1bHouse,,,a@example.com,,\n" + ROWS[ROWS.index("shop-2"):]
    results = post_csv(client, key, text).json
    assert [r["status"] for r in results["results"]] == ["error", "created"]
    assert results["results"][0]["errors"][0]["field"] == "name"


def test_a_ten_megabyte_body_is_refused_with_413(client, db, key):
    big = HEADER + ("shop-x,Tea,,,a@example.com,,\n" * 400_000)
    assert len(big) > 10_000_000
    response = post_csv(client, key, big)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large" and "5 MB" in response.json["error"]["message"]
    assert counts(db) == (0, 0, 0)


def test_more_than_the_most_rows_is_refused(client, db, key, monkeypatch):
    from registry.merchants import import_input

    monkeypatch.setattr(import_input, "MAX_ROWS", 3)
    response = post_csv(client, key, HEADER + "".join(f"s{i},Tea,,,a{i}@example.com,,\n" for i in range(4)))
    assert response.status_code == 422 and response.json["error"]["reason"] == "invalid.import_too_many_rows"
    items = [{"external_id": f"s{i}", "name": "T", "owner_email": f"a{i}@example.com"} for i in range(4)]
    assert post_json(client, key, items).status_code == 422
    assert counts(db) == (0, 0, 0)


@pytest.mark.parametrize("items, reason", [
    ({"external_id": "x"}, "invalid.import_json"),
    ("[1, 2", "invalid.import_json"),
])
def test_json_that_is_not_an_array_is_refused(client, db, key, items, reason):
    data = items if isinstance(items, str) else json.dumps(items)
    response = client.post(IMPORT, data=data, headers={**bearer(key), "Content-Type": "application/json"})
    assert response.status_code == 422 and response.json["error"]["reason"] == reason


def test_json_rows_of_the_wrong_shape_are_their_rows_errors(client, db, key):
    items = [5, {"external_id": "a", "name": "A", "owner_email": "a@example.com", "colour": "red"},
             {"external_id": 7, "name": "B", "owner_email": "b@example.com"},
             {"external_id": "c", "name": "C\u0000", "owner_email": "c@example.com"},
             {"external_id": "d", "name": "D", "owner_email": "d@example.com", "business_hours": [1]}]
    results = post_json(client, key, items).json["results"]
    assert [r["status"] for r in results] == ["error"] * 5
    assert [r["errors"][0]["field"] for r in results] == ["row", "colour", "external_id", "name",
                                                           "business_hours"]


def test_other_body_types_are_refused(client, db, key):
    response = client.post(IMPORT, data="x", headers={**bearer(key), "Content-Type": "text/plain"})
    assert response.status_code == 415


def test_owners_who_are_staff_or_own_another_store_are_row_errors(client, db, key):
    make_user("staff", email="staff@example.com")
    owner = make_user("merchant", email="owner@example.com")
    make_merchant(owner, name="Their own shop")
    text = HEADER + "s1,A,,,staff@example.com,,\ns2,B,,,owner@example.com,,\ns3,C,,,fresh@example.com,,\n"
    results = post_csv(client, key, text).json["results"]
    assert [r["status"] for r in results] == ["error", "error", "created"]
    assert [r["errors"][0]["reason"] for r in results[:2]] == ["conflict.import_owner_staff",
                                                              "conflict.import_owner_taken"]


def test_an_existing_merchant_account_without_a_store_gets_it_without_a_link(client, db, key):
    make_user("merchant", email="ready@example.com")
    [result] = post_csv(client, key, HEADER + "s1,A,,,Ready@Example.com,,\n").json["results"]
    assert result["status"] == "created" and result["set_password_url"] is None


def test_a_known_store_keeps_its_owner(client, db, key):
    post_csv(client, key, HEADER + ROWS)
    text = HEADER + ROWS.replace("a@example.com", "x@example.com")
    [result, _] = post_csv(client, key, text).json["results"]
    assert result["errors"][0]["reason"] == "conflict.import_owner_changed"


def test_imported_numbers_are_never_verified_even_if_verified_elsewhere(client, db, key):
    other = make_merchant(name="Elsewhere")
    make_number(other, "+8613800138000", status="verified")
    post_csv(client, key, HEADER + ROWS)
    statuses = db.session.scalars(sa.select(MerchantNumber.status).order_by(MerchantNumber.id)).all()
    assert statuses == ["verified", "unverified"]


def test_stores_are_the_clients_own(client, db, key):
    other_key = make_client(name="Shop B", scopes=("merchants",))[1]
    post_csv(client, key, HEADER + ROWS)
    # The other client's import of the same external ids makes its own stores (owners differ).
    text = HEADER + "shop-1,B's Tea,,,other@example.com,,\n"
    assert post_csv(client, other_key, text).json["results"][0]["status"] == "created"
    mine = client.get("/api/v1/merchants/by-external-id/shop-1", headers=bearer(key)).json
    theirs = client.get("/api/v1/merchants/by-external-id/shop-1", headers=bearer(other_key)).json
    assert (mine["name"], theirs["name"]) == ("Tea House", "B's Tea")


def test_by_external_id_shows_the_store_with_masked_numbers(client, db, key):
    post_csv(client, key, HEADER + ROWS)
    response = client.get("/api/v1/merchants/by-external-id/shop-1", headers=bearer(key))
    assert response.status_code == 200
    body = response.json
    assert body["external_id"] == "shop-1" and body["name"] == "Tea House" and body["verified"] is False
    [number] = body["numbers"]
    assert number["status"] == "unverified" and number["label"] == "Front desk"
    assert "13800138000" not in json.dumps(body) and number["masked"].endswith("8000")


@pytest.mark.parametrize("external_id", ["nope", "x" * 300, "a%00b"])
def test_by_external_id_of_no_store_of_the_client_is_404(client, db, key, external_id):
    response = client.get(f"/api/v1/merchants/by-external-id/{external_id}", headers=bearer(key))
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_another_clients_external_id_is_404(client, db, key):
    post_csv(client, key, HEADER + ROWS)
    other_key = make_client(name="Shop B", scopes=("merchants",))[1]
    response = client.get("/api/v1/merchants/by-external-id/shop-1", headers=bearer(other_key))
    assert response.status_code == 404


def test_the_merchants_scope_is_needed(client, db):
    key = make_client(scopes=("bindings",))[1]
    assert post_csv(client, key, HEADER + ROWS).status_code == 403
    assert client.get("/api/v1/merchants/by-external-id/x", headers=bearer(key)).status_code == 403
    assert client.post(IMPORT, data=HEADER, headers={"Content-Type": "text/csv"}).status_code == 401
    assert counts(db)[0] == 0


def test_an_owner_invited_by_a_failed_row_is_invited_again_by_the_next(client, db, key, monkeypatch):
    from registry.core.errors import InvalidInput
    from registry.merchants import operations

    real = operations.add_number

    def refuse_once(merchant, number, **kwargs):
        if merchant.external_id == "s1":
            raise InvalidInput("too_many_numbers", field="number", limit=0)
        return real(merchant, number, **kwargs)

    monkeypatch.setattr(operations, "add_number", refuse_once)
    text = HEADER + "s1,A,,,same@example.com,+8613800138000,\ns2,B,,,same@example.com,,\n"
    results = post_csv(client, key, text).json["results"]
    assert [r["status"] for r in results] == ["error", "created"]
    assert results[1]["set_password_url"] and counts(db) == (1, 0, 1)


def test_a_row_refused_by_the_database_is_that_rows_error(client, db, key, monkeypatch):
    import sqlalchemy.exc

    from registry.merchants import imports

    def collide(*args, **kwargs):
        raise sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("duplicate"))

    monkeypatch.setattr(imports, "_apply", collide)
    [result] = post_csv(client, key, HEADER + "s1,A,,,a@example.com,,\n").json["results"]
    assert result["errors"][0]["reason"] == "conflict.import_row"


def test_the_rows_savepoints_nest_in_the_callers_transaction(db, key):
    """On SQLite too: a savepoint outside a transaction would commit each row on its own."""
    from registry.integrations.models import IntegrationClient
    from registry.merchants.import_input import rows_from_csv
    from registry.merchants.imports import import_merchants

    client_id = db.session.scalar(sa.select(IntegrationClient.id))
    db.session.rollback()
    report = import_merchants(client_id, rows_from_csv((HEADER + ROWS).encode()))
    assert [r.status for r in report.results] == ["created", "created"]
    db.session.rollback()  # the caller's unit of work fails: no row stays
    assert counts(db) == (0, 0, 0)


def test_a_damaged_first_row_still_makes_later_rows_with_its_id_duplicates(client, db, key):
    text = HEADER + "shop-1,Tea\x1bHouse,,,a@example.com,,\nshop-1,Tea House,,,a@example.com,,\n"
    results = post_csv(client, key, text).json["results"]
    assert [r["status"] for r in results] == ["error", "error"]
    assert results[1]["errors"][0]["reason"] == "duplicate.external_id"
