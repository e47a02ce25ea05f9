"""drop the call log index the merchant and time index covers

ix_call_records_merchant_id indexed what ix_call_records_merchant_created
(merchant_id, created_at) already leads with; every logged call leg paid
for keeping both.

Revision ID: f24e28b837dd
Revises: 33612d7e8034
Create Date: 2026-11-22 05:15:27.699175

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f24e28b837dd'
down_revision = '33612d7e8034'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_call_records_merchant_id', table_name='call_records')


def downgrade():
    op.create_index('ix_call_records_merchant_id', 'call_records', ['merchant_id'], unique=False)
