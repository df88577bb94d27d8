"""outbox rows settled by their job: done_at, failed_at, pushes; the relay's index over open rows

Revision ID: c12c0jobs001
Revises: c12b0auth001
Create Date: 2026-12-04 22:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c12c0jobs001'
down_revision = 'c12b0auth001'
branch_labels = None
depends_on = None

_OPEN = "done_at IS NULL AND failed_at IS NULL"


def upgrade():
    with op.batch_alter_table('outbox_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pushes', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('done_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_index('ix_outbox_jobs_unpushed')
    # Rows pushed before this revision have no recorded outcome; their results are gone from Redis after a
    # day, so counting them as open would run every job ever pushed once more. They count as done.
    op.execute("UPDATE outbox_jobs SET done_at = pushed_at, pushes = 1 WHERE pushed_at IS NOT NULL")
    with op.batch_alter_table('outbox_jobs', schema=None) as batch_op:
        batch_op.create_index(
            'ix_outbox_jobs_open', ['id'], unique=False,
            postgresql_where=sa.text(_OPEN), sqlite_where=sa.text(_OPEN),
        )


def downgrade():
    with op.batch_alter_table('outbox_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_jobs_open', postgresql_where=sa.text(_OPEN), sqlite_where=sa.text(_OPEN))
        batch_op.create_index('ix_outbox_jobs_unpushed', ['pushed_at', 'id'], unique=False)
        batch_op.drop_column('failed_at')
        batch_op.drop_column('done_at')
        batch_op.drop_column('pushes')
