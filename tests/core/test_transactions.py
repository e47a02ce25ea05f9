"""The unit of work: a request, a job or a command commits once at its end, or not at all."""

from __future__ import annotations

import pytest
from flask import session as browser_session
from sqlalchemy import exc, select
from sqlalchemy.orm import Session

from registry.accounts.models import User
from registry.accounts.operations import create_user
from registry.core.transactions import commit_now, unit_of_work


def _stored(db, email: str) -> bool:
    db.session.rollback()  # a fresh look at what is committed
    return db.session.scalar(select(User).where(User.email == email)) is not None


def _route(app, rule: str, status: int = 200):
    """A view that creates an account and signs the browser's session, answering `status`."""
    def view():
        create_user(f"{rule.strip('/')}@example.com", "a-long-enough-password")
        browser_session["signed"] = "yes"
        return "done", status

    app.add_url_rule(rule, rule.strip("/"), view, methods=["POST"])


def test_a_successful_request_is_committed_at_its_end(app, db, client):
    _route(app, "/ok")
    assert client.post("/ok").status_code == 200
    assert _stored(db, "ok@example.com")


def test_an_error_response_stores_nothing(app, db, client):
    _route(app, "/refused", status=422)
    assert client.post("/refused").status_code == 422
    assert not _stored(db, "refused@example.com")


def test_a_commit_that_fails_answers_an_error_and_leaves_the_cookie_alone(app, db, client, monkeypatch):
    _route(app, "/lost")

    def failing_commit(self):
        raise exc.OperationalError("COMMIT", {}, Exception("the server went away"))

    monkeypatch.setattr(Session, "commit", failing_commit)  # for this one request
    response = client.post("/lost")
    monkeypatch.undo()
    # The database went away: 503, come back later (core.db_loss), never stored.
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "session=" not in response.headers.get("Set-Cookie", "")  # not signed in to a lost row
    assert not _stored(db, "lost@example.com")


def test_a_unit_of_work_commits_when_it_ends_and_rolls_back_when_it_raises(app, db):
    with unit_of_work():
        create_user("kept@example.com", "a-long-enough-password")
    with pytest.raises(RuntimeError), unit_of_work():
        create_user("dropped@example.com", "a-long-enough-password")
        raise RuntimeError("the job failed")
    assert _stored(db, "kept@example.com")
    assert not _stored(db, "dropped@example.com")


def test_commit_now_needs_a_reason(app, db):
    with pytest.raises(ValueError):
        commit_now("")
