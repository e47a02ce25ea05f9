"""idempotency keys: an integration client's Idempotency-Key, held while its POST runs, then its answer

Revision ID: 3f9a6c2e8b17
Revises: 7c2e5a1d9b40
Create Date: 2026-12-07 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f9a6c2e8b17'
down_revision = '7c2e5a1d9b40'
branch_labels = None
depends_on = None


def upgrade():
    # One row per (client, key): held (lease set, status null) while its request runs, then the
    # answer replayed to a retry (encrypted with DATA_KEY; the fingerprint is a keyed hash). Swept by
    # the scheduler after IDEMPOTENCY_KEY_TTL_HOURS.
    op.create_table('idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('lease', sa.String(length=32), nullable=True),
    sa.Column('locked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['integration_clients.id'], name=op.f('fk_idempotency_keys_client_id_integration_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('client_id', 'key', name=op.f('uq_idempotency_keys_client_id_key'))
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index('ix_idempotency_keys_created_at', ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_idempotency_keys_created_at')

    op.drop_table('idempotency_keys')
