"""merchants: the integration client that imported a store, and its external id for it

Revision ID: 7c2e5a1d9b40
Revises: 55da06a8fa25
Create Date: 2026-12-06 23:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c2e5a1d9b40'
down_revision = '55da06a8fa25'
branch_labels = None
depends_on = None


def upgrade():
    # A marketplace names its stores by its own ids, unique per client (two marketplaces may
    # both have a store "42"). Stores made on our own pages have neither.
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('external_id', sa.String(length=100), nullable=True))
        batch_op.create_foreign_key('fk_merchants_client_id_integration_clients',
                                    'integration_clients', ['client_id'], ['id'])
        batch_op.create_unique_constraint('uq_merchants_client_id_external_id',
                                          ['client_id', 'external_id'])


def downgrade():
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.drop_constraint('uq_merchants_client_id_external_id', type_='unique')
        batch_op.drop_constraint('fk_merchants_client_id_integration_clients', type_='foreignkey')
        batch_op.drop_column('external_id')
        batch_op.drop_column('client_id')
