"""merchant_embed_origins: the sites allowed to frame a store's callback flow (issue 16)

Revision ID: 4b8d2e7f1a63
Revises: 3b8f0c6e2a71
Create Date: 2026-12-06 23:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4b8d2e7f1a63'
down_revision = '3b8f0c6e2a71'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'merchant_embed_origins',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('origin', sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'],
                                name=op.f('fk_merchant_embed_origins_merchant_id_merchants')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_merchant_embed_origins')),
        sa.UniqueConstraint('merchant_id', 'origin',
                            name=op.f('uq_merchant_embed_origins_merchant_id_origin')),
    )
    with op.batch_alter_table('merchant_embed_origins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merchant_embed_origins_merchant_id'), ['merchant_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('merchant_embed_origins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_merchant_embed_origins_merchant_id'))
    op.drop_table('merchant_embed_origins')
