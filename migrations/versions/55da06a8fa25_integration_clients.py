"""integration clients: scoped rk_ keys for marketplace back ends, and the log of their calls

Revision ID: 55da06a8fa25
Revises: fe68eea104a1
Create Date: 2026-12-06 21:47:12.923728

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '55da06a8fa25'
down_revision = 'fe68eea104a1'
branch_labels = None
depends_on = None


def upgrade():
    # Marketplace back ends: only the SHA-256 of each key is stored, with its first characters
    # for display. The `admin` role that manages them needs no schema change (users.role is text).
    op.create_table('integration_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('key_prefix', sa.String(length=8), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_integration_clients_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_clients')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_integration_clients_key_hash'))
    )
    # One row per authenticated client call (who, what, when, status), read per client.
    op.create_table('integration_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('endpoint', sa.String(length=100), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['integration_clients.id'], name=op.f('fk_integration_calls_client_id_integration_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_calls'))
    )
    with op.batch_alter_table('integration_calls', schema=None) as batch_op:
        batch_op.create_index('ix_integration_calls_client_id_id', ['client_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('integration_calls', schema=None) as batch_op:
        batch_op.drop_index('ix_integration_calls_client_id_id')

    op.drop_table('integration_calls')
    op.drop_table('integration_clients')