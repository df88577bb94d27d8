"""votes told by a job: told_casts, and the index over votes whose casts are not all told yet

Revision ID: h18b0bursts
Revises: g17a0funds
Create Date: 2026-12-06 10:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'h18b0bursts'
down_revision = 'h18a0auth'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('told_casts', sa.Integer(), server_default='0', nullable=False))
    # Every vote cast before this revision was told in its own request.
    op.execute("UPDATE votes SET told_casts = casts")
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.create_index('ix_votes_untold', ['cast_at'], unique=False,
                              postgresql_where=sa.text('told_casts < casts'), sqlite_where=sa.text('told_casts < casts'))


def downgrade():
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_index('ix_votes_untold', postgresql_where=sa.text('told_casts < casts'),
                            sqlite_where=sa.text('told_casts < casts'))
        batch_op.drop_column('told_casts')
