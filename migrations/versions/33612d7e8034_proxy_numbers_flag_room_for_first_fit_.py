"""proxy numbers flag room for first-fit allocation

`proxy_numbers.has_room` (kept with `active_bindings` by allocation) lets
first-fit walk only the numbers that may still take a binding, through two
partial indexes, instead of reading past every full number. The active-party
indexes on bindings gain `expires_at`, so "has this party expired bindings?"
is one index range for a merchant with thousands of them.

The flag is backfilled with the configured PROXY_NUMBER_CAP (numbers with
their own `cap` use it): a full number left flagged would be read on every
allocation again.

Revision ID: 33612d7e8034
Revises: b6d5b9cd39b8
Create Date: 2026-11-22 02:41:45.307781

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '33612d7e8034'
down_revision = 'b6d5b9cd39b8'
branch_labels = None
depends_on = None

DIRECT_WITH_ROOM = sa.text("status = 'active' AND NOT shared AND has_room")
ACTIVE = sa.text('ended_at IS NULL')


def _configured_cap() -> int:
    from flask import current_app

    return int(current_app.config.get("PROXY_NUMBER_CAP", 200))


def upgrade():
    with op.batch_alter_table('bindings', schema=None) as batch_op:
        for party in ('party_a', 'party_b'):
            batch_op.drop_index(f'ix_bindings_active_{party}', sqlite_where=ACTIVE, postgresql_where=ACTIVE)
            batch_op.create_index(f'ix_bindings_active_{party}', [f'{party}_hash', 'expires_at'], unique=False,
                                  sqlite_where=ACTIVE, postgresql_where=ACTIVE)

    with op.batch_alter_table('proxy_numbers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('has_room', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.execute(sa.text("UPDATE proxy_numbers SET has_room = active_bindings < coalesce(cap, :cap)")
               .bindparams(cap=_configured_cap()))
    with op.batch_alter_table('proxy_numbers', schema=None) as batch_op:
        batch_op.create_index('ix_proxy_numbers_room', ['id'], unique=False,
                              sqlite_where=DIRECT_WITH_ROOM, postgresql_where=DIRECT_WITH_ROOM)
        batch_op.create_index('ix_proxy_numbers_room_country', ['country', 'id'], unique=False,
                              sqlite_where=DIRECT_WITH_ROOM, postgresql_where=DIRECT_WITH_ROOM)


def downgrade():
    with op.batch_alter_table('proxy_numbers', schema=None) as batch_op:
        batch_op.drop_index('ix_proxy_numbers_room_country', sqlite_where=DIRECT_WITH_ROOM,
                            postgresql_where=DIRECT_WITH_ROOM)
        batch_op.drop_index('ix_proxy_numbers_room', sqlite_where=DIRECT_WITH_ROOM,
                            postgresql_where=DIRECT_WITH_ROOM)
        batch_op.drop_column('has_room')

    with op.batch_alter_table('bindings', schema=None) as batch_op:
        for party in ('party_b', 'party_a'):
            batch_op.drop_index(f'ix_bindings_active_{party}', sqlite_where=ACTIVE, postgresql_where=ACTIVE)
            batch_op.create_index(f'ix_bindings_active_{party}', [f'{party}_hash'], unique=False,
                                  sqlite_where=ACTIVE, postgresql_where=ACTIVE)
