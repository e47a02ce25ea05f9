"""login throttles: per-account sign-in lockout

Revision ID: fe68eea104a1
Revises: 4f122abd8eba
Create Date: 2026-12-06 21:00:54.694709

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fe68eea104a1'
down_revision = '4f122abd8eba'
branch_labels = None
depends_on = None


def upgrade():
    # Failed sign-ins per (hashed) email address, for the per-account lockout.
    op.create_table('login_throttles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email_hash', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_throttles')),
    sa.UniqueConstraint('email_hash', name=op.f('uq_login_throttles_email_hash'))
    )


def downgrade():
    op.drop_table('login_throttles')
