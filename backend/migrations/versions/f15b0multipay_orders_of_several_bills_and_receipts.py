"""orders of several bills, and receipts of several payments

An order's bills move to payment_order_bills, one line per bill with what the order pays of it. The rule "a bill is
in at most one live order" moves with them: the order's `live` (kept equal to "neither paid nor closed" by a CHECK)
is copied onto its lines by an ON UPDATE CASCADE foreign key, and a partial unique index over the lines' bill_id
WHERE live holds the rule, so one UPDATE of the order frees all its bills at once and no code path can forget one.

A receipt (receipts) groups the payments taken together: a paid order's (one payment per bill of it) or one desk
entry's under one paper receipt number. The receipt number, the paper receipt's number (per compound) and the
provider's transaction id move from payments to receipts, unique there; payments.order_id becomes unique per bill
(order_id, bill_id), and refers to the order's line. Every existing payment gets a receipt of its own with its
number, and every existing order one line.

Revision ID: f15b0multipay
Revises: f15a0announce
Create Date: 2026-12-31 12:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f15b0multipay'
down_revision = 'f15a0announce'
branch_labels = None
depends_on = None

LIVE = 'paid_at IS NULL AND closed_at IS NULL'
METHOD = sa.Enum('wechat', 'sandbox', 'cash', 'bank', name='payment_method', native_enum=False,
                 create_constraint=True, length=32)


def upgrade():
    op.create_table('receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_no', sa.String(length=32), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('method', METHOD, nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('transaction_id', sa.String(length=64), nullable=True),
    sa.Column('offline_receipt_no', sa.String(length=32), nullable=True),
    sa.Column('payer_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('payee_company_id', sa.Integer(), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_receipts_amount_positive')),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_receipts_compound_id_compounds')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_receipts_household_id_households')),
    sa.ForeignKeyConstraint(['order_id'], ['payment_orders.id'], name=op.f('fk_receipts_order_id_payment_orders')),
    sa.ForeignKeyConstraint(['payee_company_id'], ['property_companies.id'],
                            name=op.f('fk_receipts_payee_company_id_property_companies')),
    sa.ForeignKeyConstraint(['payer_id'], ['users.id'], name=op.f('fk_receipts_payer_id_users')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_receipts_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipts')),
    sa.UniqueConstraint('compound_id', 'offline_receipt_no', name=op.f('uq_receipts_compound_id_offline_receipt_no')),
    sa.UniqueConstraint('order_id', name=op.f('uq_receipts_order_id')),
    sa.UniqueConstraint('receipt_no', name=op.f('uq_receipts_receipt_no')),
    sa.UniqueConstraint('transaction_id', name=op.f('uq_receipts_transaction_id'))
    )
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.create_index('ix_receipts_household_paid', ['household_id', 'paid_at'], unique=False)

    # ---- orders: `live` and the household; their bills become lines -------------------------------------------
    with op.batch_alter_table('payment_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('live', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('household_id', sa.Integer(), nullable=True))
    op.execute(f"UPDATE payment_orders SET live = ({LIVE}),"
               " household_id = (SELECT bills.household_id FROM bills WHERE bills.id = payment_orders.bill_id)")

    op.create_table('payment_order_bills',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('live', sa.Boolean(), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_payment_order_bills_amount_positive')),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], name=op.f('fk_payment_order_bills_bill_id_bills')),
    sa.PrimaryKeyConstraint('order_id', 'bill_id', name=op.f('pk_payment_order_bills'))
    )
    op.execute("INSERT INTO payment_order_bills (order_id, bill_id, amount_fen, live)"
               " SELECT id, bill_id, amount_fen, live FROM payment_orders")

    with op.batch_alter_table('payment_orders', schema=None) as batch_op:
        batch_op.alter_column('live', existing_type=sa.Boolean(), nullable=False)
        batch_op.alter_column('household_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_index('uq_payment_orders_live_bill', postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE))
        batch_op.drop_index('ix_payment_orders_bill_id')
        batch_op.drop_constraint('fk_payment_orders_bill_id_bills', type_='foreignkey')
        batch_op.drop_column('bill_id')
        batch_op.create_foreign_key(batch_op.f('fk_payment_orders_household_id_households'), 'households',
                                    ['household_id'], ['id'])
        batch_op.create_check_constraint(batch_op.f('ck_payment_orders_live_flag'), sa.text(f'live = ({LIVE})'))
        batch_op.create_unique_constraint(batch_op.f('uq_payment_orders_id_live'), ['id', 'live'])

    with op.batch_alter_table('payment_order_bills', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_payment_order_bills_order_id_payment_orders'), 'payment_orders',
                                    ['order_id', 'live'], ['id', 'live'], onupdate='CASCADE')
        batch_op.create_index('ix_payment_order_bills_bill_id', ['bill_id'], unique=False)
        batch_op.create_index('uq_payment_order_bills_live_bill', ['bill_id'], unique=True,
                              postgresql_where=sa.text('live'), sqlite_where=sa.text('live'))

    # ---- payments: each gets a receipt of its own, with its number ---------------------------------------------
    op.execute(
        "INSERT INTO receipts (receipt_no, compound_id, household_id, method, amount_fen, order_id, transaction_id,"
        " offline_receipt_no, payer_id, recorded_by_id, payee_company_id, paid_at)"
        " SELECT payments.receipt_no, payments.compound_id, payments.household_id, payments.method,"
        " payments.amount_fen, payments.order_id, payments.transaction_id, payments.offline_receipt_no,"
        " (SELECT payment_orders.payer_id FROM payment_orders WHERE payment_orders.id = payments.order_id),"
        " payments.recorded_by_id,"
        " (SELECT compounds.property_company_id FROM compounds WHERE compounds.id = payments.compound_id),"
        " payments.paid_at FROM payments"
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt_id', sa.Integer(), nullable=True))
    op.execute("UPDATE payments SET receipt_id ="
               " (SELECT receipts.id FROM receipts WHERE receipts.receipt_no = payments.receipt_no)")
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.alter_column('receipt_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint('uq_payments_compound_id_offline_receipt_no', type_='unique')
        batch_op.drop_constraint('uq_payments_order_id', type_='unique')
        batch_op.drop_constraint('uq_payments_receipt_no', type_='unique')
        batch_op.drop_constraint('uq_payments_transaction_id', type_='unique')
        batch_op.drop_constraint('fk_payments_order_id_payment_orders', type_='foreignkey')
        batch_op.drop_column('receipt_no')
        batch_op.drop_column('transaction_id')
        batch_op.drop_column('offline_receipt_no')
        batch_op.create_foreign_key(batch_op.f('fk_payments_receipt_id_receipts'), 'receipts', ['receipt_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_payments_order_id_payment_order_bills'), 'payment_order_bills',
                                    ['order_id', 'bill_id'], ['order_id', 'bill_id'])
        batch_op.create_unique_constraint(batch_op.f('uq_payments_order_id_bill_id'), ['order_id', 'bill_id'])
        batch_op.create_unique_constraint(batch_op.f('uq_payments_receipt_id_bill_id'), ['receipt_id', 'bill_id'])
        batch_op.create_index(batch_op.f('ix_payments_receipt_id'), ['receipt_id'], unique=False)


def downgrade():
    # A receipt of several payments or an order of several bills has no place in the schema before: refuse
    # rather than lose which bills were paid together.
    connection = op.get_bind()
    several = connection.execute(sa.text(
        "SELECT (SELECT count(*) FROM (SELECT order_id FROM payment_order_bills GROUP BY order_id"
        " HAVING count(*) > 1) AS orders) + (SELECT count(*) FROM (SELECT receipt_id FROM payments"
        " GROUP BY receipt_id HAVING count(*) > 1) AS receipts)"
    )).scalar()
    if several:
        raise RuntimeError("orders of several bills or receipts of several payments exist: cannot downgrade")

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt_no', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('transaction_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('offline_receipt_no', sa.String(length=32), nullable=True))
    op.execute("UPDATE payments SET"
               " receipt_no = (SELECT receipt_no FROM receipts WHERE receipts.id = payments.receipt_id),"
               " transaction_id = (SELECT transaction_id FROM receipts WHERE receipts.id = payments.receipt_id),"
               " offline_receipt_no = (SELECT offline_receipt_no FROM receipts WHERE receipts.id = payments.receipt_id)")
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_receipt_id'))
        batch_op.drop_constraint(batch_op.f('uq_payments_receipt_id_bill_id'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_payments_order_id_bill_id'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_payments_order_id_payment_order_bills'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_payments_receipt_id_receipts'), type_='foreignkey')
        batch_op.drop_column('receipt_id')
        batch_op.alter_column('receipt_no', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_foreign_key('fk_payments_order_id_payment_orders', 'payment_orders', ['order_id'], ['id'])
        batch_op.create_unique_constraint('uq_payments_transaction_id', ['transaction_id'])
        batch_op.create_unique_constraint('uq_payments_receipt_no', ['receipt_no'])
        batch_op.create_unique_constraint('uq_payments_order_id', ['order_id'])
        batch_op.create_unique_constraint('uq_payments_compound_id_offline_receipt_no',
                                          ['compound_id', 'offline_receipt_no'])

    with op.batch_alter_table('payment_order_bills', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payment_order_bills_order_id_payment_orders'), type_='foreignkey')
    with op.batch_alter_table('payment_orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_payment_orders_id_live'), type_='unique')
        batch_op.drop_constraint(batch_op.f('ck_payment_orders_live_flag'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_payment_orders_household_id_households'), type_='foreignkey')
        batch_op.add_column(sa.Column('bill_id', sa.Integer(), nullable=True))
    op.execute("UPDATE payment_orders SET bill_id ="
               " (SELECT bill_id FROM payment_order_bills WHERE payment_order_bills.order_id = payment_orders.id)")
    with op.batch_alter_table('payment_orders', schema=None) as batch_op:
        batch_op.alter_column('bill_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('live')
        batch_op.drop_column('household_id')
        batch_op.create_foreign_key('fk_payment_orders_bill_id_bills', 'bills', ['bill_id'], ['id'])
        batch_op.create_index('ix_payment_orders_bill_id', ['bill_id'], unique=False)
        batch_op.create_index('uq_payment_orders_live_bill', ['bill_id'], unique=True,
                              postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE))
    op.drop_table('payment_order_bills')

    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_index('ix_receipts_household_paid')
    op.drop_table('receipts')
