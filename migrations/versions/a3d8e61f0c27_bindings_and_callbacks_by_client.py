"""bindings and callback requests made by integration clients; shoppers a client vouched for

Revision ID: a3d8e61f0c27
Revises: 3f9a6c2e8b17
Create Date: 2026-12-06 23:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3d8e61f0c27'
down_revision = '3f9a6c2e8b17'
branch_labels = None
depends_on = None


def upgrade():
    # A binding asked for by a marketplace (`POST /api/v1/bindings`): the client vouches for the
    # shopper's number, and it alone reads, lists (by its order reference) and ends the binding.
    with op.batch_alter_table('bindings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('order_ref', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key('fk_bindings_client_id_integration_clients',
                                    'integration_clients', ['client_id'], ['id'])
        batch_op.create_index('ix_bindings_client_id_id', ['client_id', 'id'], unique=False)
        batch_op.create_index('ix_bindings_client_id_order_ref', ['client_id', 'order_ref'], unique=False)
    # A callback asked for on a shopper's behalf (`POST /api/v1/callbacks`): the client that asked.
    with op.batch_alter_table('callback_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_callback_requests_client_id_integration_clients',
                                    'integration_clients', ['client_id'], ['id'])
        batch_op.create_index('ix_callback_requests_client_id', ['client_id'], unique=False)
    # A shopper who first came through a client (its number vouched for, not proved by code here).
    with op.batch_alter_table('shoppers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('asserted_by_client_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_shoppers_asserted_by_client_id_integration_clients',
                                    'integration_clients', ['asserted_by_client_id'], ['id'])


def downgrade():
    with op.batch_alter_table('shoppers', schema=None) as batch_op:
        batch_op.drop_constraint('fk_shoppers_asserted_by_client_id_integration_clients', type_='foreignkey')
        batch_op.drop_column('asserted_by_client_id')
    with op.batch_alter_table('callback_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_callback_requests_client_id')
        batch_op.drop_constraint('fk_callback_requests_client_id_integration_clients', type_='foreignkey')
        batch_op.drop_column('client_id')
    with op.batch_alter_table('bindings', schema=None) as batch_op:
        batch_op.drop_index('ix_bindings_client_id_order_ref')
        batch_op.drop_index('ix_bindings_client_id_id')
        batch_op.drop_constraint('fk_bindings_client_id_integration_clients', type_='foreignkey')
        batch_op.drop_column('order_ref')
        batch_op.drop_column('client_id')
