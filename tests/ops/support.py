"""The test schema stamped at the migrations' head, as `db upgrade` leaves it (the suite's schema
is made by `create_all`, which writes no version): /readyz is then ready."""

from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa

from registry.core.extensions import db
from registry.ops import checks


@contextmanager
def stamped_at_head(app):
    heads = checks.migration_heads(app)
    with db.engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE IF NOT EXISTS alembic_version "
                                   "(version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        connection.execute(sa.text("DELETE FROM alembic_version"))
        for head in heads:
            connection.execute(sa.text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
    try:
        yield heads
    finally:
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP TABLE alembic_version"))
