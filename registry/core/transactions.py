"""Where a transaction ends: at the edge of the unit of work, never inside an operation.

Operations flush and never commit. What they did is committed (or rolled
back) by whatever called them, in one of three places:

- a web request: `commit_request`, the app's after-request step, commits
  after a response below 400 and rolls back after any other; a commit that
  fails becomes the app's error response, never a 200 for a change that was
  not stored (Flask-SQLAlchemy's teardown then removes the session);
- a scheduler job or a CLI command: `unit_of_work()`, which commits when its
  block ends normally and rolls back when it raises;
- in between, `commit_now(reason)`: the one way to commit part-way through
  an operation, for the few that must make their work durable before
  something outside the database happens (a call attempt is stored before
  Twilio is asked to place the call, so a crash cannot place it twice).
  Each use says why; `tests/test_architecture.py` lists where it is allowed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, Response, current_app, request, session

from registry.core.extensions import db


def commit_now(reason: str) -> None:
    """Commit the session's work now, part-way through an operation.

    `reason` says why this cannot wait for the end of the request or job (it
    is for the reader of the call site; an empty one is refused so that every
    use states it).
    """
    if not reason:
        raise ValueError("commit_now needs the reason this commit cannot wait")
    db.session.commit()


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit what the block did if it ends normally; roll it back if it raises.

    The boundary of a scheduler job and of a CLI command (usable as a decorator too).
    """
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def commit_request(response: Response) -> Response:
    """After a request: commit what it did if it succeeded (status below 400), else roll back.

    Operations only flush, so this is where a request's changes are stored.
    Should the commit fail, the request did not happen: the session is rolled
    back, the browser's session cookie is kept as it came (so no sign-in or
    message refers to rows that were not stored), and the app's own error
    handler answers in place of the response the view built.
    """
    session = db.session()
    if not session.in_transaction():
        # Nothing begun since the last commit (a webhook that committed, a page that read
        # nothing): an empty commit still costs tens of microseconds on the hottest requests.
        return response
    if response.status_code >= 400:
        # Refusals were settled by the error handlers (keeping audit rows through commit_now);
        # anything else an error response leaves behind is not stored.
        session.rollback()
        return response
    try:
        session.commit()
    except Exception as error:
        session.rollback()
        _restore_browser_session()
        return current_app.make_response(current_app.handle_user_exception(error))
    return response


def _restore_browser_session() -> None:
    """Put the browser's session (sign-in, flashed messages) back as the request brought it,
    so that the answer to a request that was not stored does not set it."""
    brought = current_app.session_interface.open_session(current_app, request)
    session.clear()
    session.update(brought or {})
    session.modified = False


def register_unit_of_work(app: Flask) -> None:
    """Make `commit_request` the request's boundary.

    Registered after the extensions' own after-request steps, so it runs before
    them (Flask runs them last registered first) and they see the response sent,
    which is the error response should the commit fail.
    """
    app.after_request(commit_request)
