"""`flask demo seed`, which `make run` runs: the demo store and the three logins it prints work,
and a second run changes nothing."""

import sqlalchemy as sa

from registry.accounts.models import User
from registry.merchants.models import Merchant


def test_the_seed_prints_logins_that_sign_in_and_runs_twice(app, db, runner):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    logins = {}
    for line in first.output.splitlines()[1:]:
        role, email, _, password = line.split()
        logins[role] = (email, password)
    assert set(logins) == {"merchant", "staff", "admin"}
    pages = {"merchant": "/merchant/", "staff": "/staff/", "admin": "/staff/clients/"}
    for role, (email, password) in logins.items():
        browser = app.test_client()
        assert browser.post("/login", data={"email": email, "password": password}).status_code == 302
        assert browser.get(pages[role]).status_code == 200, role
    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0 and again.output == first.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 3
    assert db.session.scalar(sa.select(sa.func.count(Merchant.id))) == 1


def test_the_seed_is_refused_in_production(app, db, runner):
    app.config["REGISTRY_ENV"] = "production"
    try:
        refused = runner.invoke(args=["demo", "seed"])
    finally:
        app.config["REGISTRY_ENV"] = "testing"
    assert refused.exit_code != 0 and "never created in production" in refused.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0
