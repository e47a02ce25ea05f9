"""call log checkpoints: signed counts and head hashes of the sealed chain

Revision ID: c4e8f2a6b1d3
Revises: a7c3e9d1f2b4
Create Date: 2026-12-07 00:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8f2a6b1d3'
down_revision = 'a7c3e9d1f2b4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('call_log_checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('signature', sa.String(length=88), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_log_checkpoints'))
    )
    with op.batch_alter_table('call_log_checkpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_log_checkpoints_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('call_log_checkpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_log_checkpoints_created_at'))
    op.drop_table('call_log_checkpoints')
