"""one live payment order per bill

Revision ID: c12a0pay0001
Revises: aebc871e2b83
Create Date: 2026-12-04 22:06:37.369174

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c12a0pay0001'
down_revision = 'aebc871e2b83'
branch_labels = None
depends_on = None

LIVE = 'paid_at IS NULL AND closed_at IS NULL'


def upgrade():
    with op.batch_alter_table('payment_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))

    # Before this revision a bill could have several unpaid orders. The newest stays live; the older ones are
    # marked closed so the index below can hold. Should WeChat Pay still take the money of one of them, its
    # notification is recorded all the same (a refundable overpayment if the bill was paid meanwhile).
    orders = sa.table('payment_orders', sa.column('id', sa.Integer()), sa.column('bill_id', sa.Integer()),
                      sa.column('paid_at', sa.DateTime(timezone=True)),
                      sa.column('closed_at', sa.DateTime(timezone=True)))
    newest = sa.select(sa.func.max(orders.c.id)).where(orders.c.paid_at.is_(None)).group_by(orders.c.bill_id)
    op.execute(
        orders.update()
        .where(orders.c.paid_at.is_(None), orders.c.id.not_in(newest))
        .values(closed_at=datetime.now(UTC))
    )

    with op.batch_alter_table('payment_orders', schema=None) as batch_op:
        batch_op.create_index('uq_payment_orders_live_bill', ['bill_id'], unique=True,
                              postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE))


def downgrade():
    with op.batch_alter_table('payment_orders', schema=None) as batch_op:
        batch_op.drop_index('uq_payment_orders_live_bill', postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE))
        batch_op.drop_column('closed_at')
