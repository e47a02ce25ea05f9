"""Ids in URLs past what the database holds are 404s, and access logs never carry a number."""

import logging

import pytest

from tests.factories import bearer, make_token, make_user

HUGE = "9223372036854775808"  # 2**63: overflowed SQLite's INTEGER and gave a 500


@pytest.mark.parametrize("path", [f"/stores/{HUGE}", f"/api/v1/merchants/{HUGE}",
                                  f"/api/v1/callbacks/{HUGE}", f"/stores/{2**31}"])
def test_an_id_past_the_database_range_is_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    if path.startswith("/api/"):
        assert response.json["error"]["code"] == "not_found"


def test_staff_paths_with_huge_ids_are_404_too(client):
    staff = bearer(make_token(make_user("staff")))
    assert client.get(f"/api/v1/call-records/{HUGE}", headers=staff).status_code == 404
    assert client.post(f"/api/v1/complaints/{HUGE}/assign", headers=staff).status_code == 404


def test_the_access_log_hides_phone_numbers(app, caplog):
    # The request line as Werkzeug's request logger writes it.
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info('%s - - [%s] "%s" %s %s', "127.0.0.1", "now",
                                           "GET /api/v1/call-records?phone=%2B8613700137000&kind=relay "
                                           "HTTP/1.1", "200", "-")
    line = caplog.records[-1].getMessage()
    assert "13700137000" not in line
    assert "phone=[hidden]&kind=relay" in line


def test_gunicorns_access_log_hides_phone_numbers_in_any_case(app, caplog):
    # gunicorn formats the whole line itself and logs it with no arguments.
    with caplog.at_level(logging.INFO, logger="gunicorn.access"):
        logging.getLogger("gunicorn.access").info(
            '127.0.0.1 - - "GET /staff/calls/export?Phone=%2B8613700137000 HTTP/1.1" 200 512')
    line = caplog.records[-1].getMessage()
    assert "13700137000" not in line and "Phone=[hidden]" in line
