"""Pooled connections idle for a while are checked before use (see registry/core/pool_ping.py)."""

import pytest
import sqlalchemy as sa

from registry.core.pool_ping import ping_idle_connections
from tests.conftest import TEST_DATABASE_URL

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL to end a session")


@pytest.fixture
def engines():
    pooled = sa.create_engine(TEST_DATABASE_URL, pool_size=1, max_overflow=0)
    admin = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    yield pooled, admin
    pooled.dispose()
    admin.dispose()


def _backend(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.text("SELECT pg_backend_pid()"))


def _end_session(admin, pid: int) -> None:
    with admin.connect() as conn:
        assert conn.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def test_an_idle_connection_the_server_closed_is_replaced_before_use(engines):
    pooled, admin = engines
    ping_idle_connections(pooled, idle_seconds=0)
    first = _backend(pooled)
    _end_session(admin, first)  # as a database restart or an idle timeout would
    assert _backend(pooled) != first  # a fresh connection, and no error


def test_a_connection_in_use_a_moment_ago_is_not_pinged(engines):
    pooled, admin = engines
    ping_idle_connections(pooled, idle_seconds=3600)
    first = _backend(pooled)
    _end_session(admin, first)
    # Not pinged, so the dead connection is handed out and the statement fails (SQLAlchemy
    # then discards it): the saved round trip is real, and this is what the ping prevents.
    with pytest.raises(sa.exc.OperationalError):
        _backend(pooled)
    assert _backend(pooled) != first


def test_a_pinged_connection_is_handed_out_outside_any_transaction(engines):
    """The ping must not leave a transaction open: a caller switching the connection to
    autocommit (as the routing webhook does) could not, and answered with a 500."""
    pooled, _ = engines
    ping_idle_connections(pooled, idle_seconds=0)
    _backend(pooled)
    with pooled.connect() as conn:  # pinged on checkout
        assert conn.connection.dbapi_connection.info.transaction_status.name == "IDLE"
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        assert conn.scalar(sa.text("SELECT 1")) == 1
