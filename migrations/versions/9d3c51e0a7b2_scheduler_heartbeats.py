"""scheduler_heartbeats: each scheduler process's last dispatch pass, for /readyz and /metrics (issue 17)

Revision ID: 9d3c51e0a7b2
Revises: 4b8d2e7f1a63
Create Date: 2026-12-07 00:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9d3c51e0a7b2'
down_revision = '4b8d2e7f1a63'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'scheduler_heartbeats',
        sa.Column('worker', sa.String(length=200), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_dispatch_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('worker', name=op.f('pk_scheduler_heartbeats')),
    )
    with op.batch_alter_table('scheduler_heartbeats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduler_heartbeats_last_dispatch_at'), ['last_dispatch_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('scheduler_heartbeats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduler_heartbeats_last_dispatch_at'))
    op.drop_table('scheduler_heartbeats')
