"""job runs: once-per-period leases of the scheduler's periodic jobs

Revision ID: a7c3e9d1f2b4
Revises: 9d3c51e0a7b2
Create Date: 2026-12-07 00:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e9d1f2b4'
down_revision = '9d3c51e0a7b2'
branch_labels = None
depends_on = None


def upgrade():
    # One row per (job, period): the scheduler that claimed it, its lease, when it finished
    # (registry/core/periodic.py). Rows older than 30 days are swept by `forget-job-runs`.
    op.create_table('job_runs',
    sa.Column('job', sa.String(length=64), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('holder', sa.String(length=255), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('job', 'period_start', name=op.f('pk_job_runs'))
    )


def downgrade():
    op.drop_table('job_runs')
