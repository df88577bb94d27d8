"""withdrawn notices: withdrawn_at on notices and inbox rows (found by notice); a withdrawn push ends `withdrawn`

Revision ID: f15d0notices
Revises: f15b0multipay
Create Date: 2026-12-06 00:16:57.200112

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f15d0notices'
down_revision = 'f15b0multipay'
branch_labels = None
depends_on = None

_STATUS = "ck_deliveries_delivery_status"
_BEFORE = "status IN ('pending', 'sent', 'declined', 'failed')"
_AFTER = "status IN ('pending', 'sent', 'declined', 'failed', 'withdrawn')"


def upgrade():
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_notifications_notice_id', ['notice_id'], unique=False)

    # The status column's CHECK lists the enum's values (models/base.str_enum): it gains `withdrawn`.
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(_STATUS), type_='check')
        batch_op.create_check_constraint(op.f(_STATUS), sa.text(_AFTER))


def downgrade():
    # A withdrawn push was never sent: before this revision the nearest final status is `failed`.
    op.execute("UPDATE deliveries SET status = 'failed', last_error = 'withdrawn' WHERE status = 'withdrawn'")
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(_STATUS), type_='check')
        batch_op.create_check_constraint(op.f(_STATUS), sa.text(_BEFORE))

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_notice_id')
        batch_op.drop_column('withdrawn_at')

    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_at')
