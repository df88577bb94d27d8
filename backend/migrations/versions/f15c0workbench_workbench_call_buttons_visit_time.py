"""staff workbench: call buttons (compound phones), visit time of a home repair

Revision ID: f15c0workbench
Revises: e14a0evaluate
Create Date: 2026-12-06 00:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f15c0workbench'
down_revision = 'e14a0evaluate'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('compounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('service_phone', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('committee_phone', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('committee_phone_public', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))

    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visit_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('visit_half_day', sa.Enum('am', 'pm', name='visit_half_day', native_enum=False,
                                                                create_constraint=True, length=32), nullable=True))
        batch_op.create_check_constraint('visit_whole', '(visit_date IS NULL) = (visit_half_day IS NULL)')

    # The server defaults filled the existing rows; the application writes the values from now on.
    with op.batch_alter_table('compounds', schema=None) as batch_op:
        batch_op.alter_column('service_phone', server_default=None)
        batch_op.alter_column('committee_phone', server_default=None)
        batch_op.alter_column('committee_phone_public', server_default=None)


def downgrade():
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_work_orders_visit_whole'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_work_orders_visit_half_day'), type_='check')
        batch_op.drop_column('visit_half_day')
        batch_op.drop_column('visit_date')

    with op.batch_alter_table('compounds', schema=None) as batch_op:
        batch_op.drop_column('committee_phone_public')
        batch_op.drop_column('committee_phone')
        batch_op.drop_column('service_phone')
