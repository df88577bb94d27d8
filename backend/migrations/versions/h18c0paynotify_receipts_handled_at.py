"""online payments followed up by a job: receipts.handled_at, and the index over receipts not followed up yet

Revision ID: h18c0paynotify
Revises: h18b0bursts
Create Date: 2026-12-06 11:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'h18c0paynotify'
down_revision = 'h18b0bursts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True))
    # Every receipt recorded before this revision was followed up in its own transaction.
    op.execute("UPDATE receipts SET handled_at = paid_at")
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.create_index('ix_receipts_unhandled', ['paid_at'], unique=False,
                              postgresql_where=sa.text('handled_at IS NULL'), sqlite_where=sa.text('handled_at IS NULL'))


def downgrade():
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_index('ix_receipts_unhandled', postgresql_where=sa.text('handled_at IS NULL'),
                            sqlite_where=sa.text('handled_at IS NULL'))
        batch_op.drop_column('handled_at')
