"""verifications: one row per Twilio Verify verification, its context and checks

A shopper's and a merchant's code for one number were the same Verify
verification, so failed shopper checks locked the store's code. Each
verification now belongs to one context (the shopper side of a number, or
one store's claim on it) and counts its checks on its own row, atomically.

Codes sent in the last quarter of an hour are carried over, so that a code
in flight during the upgrade can still be checked.

Revision ID: 4f122abd8eba
Revises: f24e28b837dd
Create Date: 2026-12-06 21:06:03.922224

"""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '4f122abd8eba'
down_revision = 'f24e28b837dd'
branch_labels = None
depends_on = None

CARRY_OVER = sa.text("""
    INSERT INTO verifications (provider_sid, number_hash, context, status, checks, created_at)
    SELECT provider_sid, MIN(number_hash),
           CASE WHEN MIN(merchant_number_id) IS NULL THEN 'shopper'
                ELSE 'merchant_number:' || MIN(merchant_number_id) END,
           'pending', 0, MIN(created_at)
    FROM verification_attempts
    WHERE action = 'send' AND outcome = 'sent' AND provider_sid IS NOT NULL
      AND created_at >= :since
    GROUP BY provider_sid
""").bindparams(sa.bindparam("since", type_=sa.DateTime(timezone=True)))

COUNT_CHECKS = sa.text("""
    UPDATE verifications SET
      checks = (SELECT COUNT(*) FROM verification_attempts a
                WHERE a.provider_sid = verifications.provider_sid AND a.action = 'check'
                  AND a.outcome IN ('wrong_code', 'approved')),
      status = CASE WHEN EXISTS (SELECT 1 FROM verification_attempts a
                                 WHERE a.provider_sid = verifications.provider_sid
                                   AND a.action = 'check' AND a.outcome = 'approved')
               THEN 'approved' ELSE 'pending' END
""")


def upgrade():
    op.create_table('verifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_sid', sa.String(length=64), nullable=False),
    sa.Column('number_hash', sa.String(length=64), nullable=False),
    sa.Column('context', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('checks', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verifications')),
    sa.UniqueConstraint('provider_sid', name=op.f('uq_verifications_provider_sid'))
    )
    op.create_index('ix_verifications_number', 'verifications', ['number_hash', 'context'],
                    unique=False)
    since = datetime.now(timezone.utc) - timedelta(minutes=15)
    op.execute(CARRY_OVER.bindparams(since=since))
    op.execute(COUNT_CHECKS)


def downgrade():
    op.drop_index('ix_verifications_number', table_name='verifications')
    op.drop_table('verifications')
