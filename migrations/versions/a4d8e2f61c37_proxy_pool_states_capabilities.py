"""proxy pool states: active, draining (was retired), released; capabilities and origin of a
number; an index to count the extension fallbacks of the last 24 h

Revision ID: a4d8e2f61c37
Revises: a3d8e61f0c27
Create Date: 2026-12-07 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4d8e2f61c37'
down_revision = 'a3d8e61f0c27'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('proxy_numbers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('voice', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('sms', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('origin', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('released_at', sa.DateTime(timezone=True), nullable=True))
    # A retired number took no new bindings while its own ran out: that is draining.
    op.execute("UPDATE proxy_numbers SET status = 'draining' WHERE status = 'retired'")
    with op.batch_alter_table('bindings', schema=None) as batch_op:
        batch_op.create_index('ix_bindings_extension_created', ['created_at'], unique=False,
                              sqlite_where=sa.text('extension IS NOT NULL'),
                              postgresql_where=sa.text('extension IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('bindings', schema=None) as batch_op:
        batch_op.drop_index('ix_bindings_extension_created',
                            sqlite_where=sa.text('extension IS NOT NULL'),
                            postgresql_where=sa.text('extension IS NOT NULL'))
    op.execute("UPDATE proxy_numbers SET status = 'retired' WHERE status IN ('draining', 'released')")
    with op.batch_alter_table('proxy_numbers', schema=None) as batch_op:
        batch_op.drop_column('released_at')
        batch_op.drop_column('origin')
        batch_op.drop_column('sms')
        batch_op.drop_column('voice')
