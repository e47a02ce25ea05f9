"""pool low countries: which countries `pool.low` announced, shared by every scheduler

Revision ID: d5a1f3c7e9b2
Revises: c4e8f2a6b1d3
Create Date: 2026-12-07 02:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5a1f3c7e9b2'
down_revision = 'c4e8f2a6b1d3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pool_low_countries',
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('announced_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('country', name=op.f('pk_pool_low_countries'))
    )


def downgrade():
    op.drop_table('pool_low_countries')
