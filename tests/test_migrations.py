"""Alembic: one head, and upgrade to it on an empty SQLite and PostgreSQL database
gives exactly the schema the models describe."""

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from registry.core.extensions import db
from tests.conftest import TEST_DATABASE_URL, make_test_app


def script_directory(app) -> ScriptDirectory:
    return ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())


@pytest.fixture
def empty_database(request, tmp_path):
    """A brand-new empty database of the backend under test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    name = f"registry_migrations_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


BACKENDS = ["sqlite", "postgresql"] if TEST_DATABASE_URL else ["sqlite"]


@pytest.mark.parametrize("empty_database", BACKENDS, indirect=True)
def test_upgrade_on_empty_database_matches_the_models(empty_database, simulator, tmp_path):
    app = make_test_app(empty_database, simulator.url, tmp_path)
    with app.app_context():
        heads = script_directory(app).get_heads()
        assert len(heads) == 1, f"more than one Alembic head: {heads}"
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert context.get_current_revision() == heads[0]
            drift = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert drift == [], f"models and migrations differ: {drift}"
