"""党建+ activities: activities, sign-ups with the waiting list, QR check-ins and the report's photos

Revision ID: h19b0activities
Revises: h19a0backbones
Create Date: 2026-12-06 13:24:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'h19b0activities'
down_revision = 'h19a0backbones'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('clinic', 'cleaning', 'elder_care', 'culture_sports', 'talk', 'other', name='activity_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('title', sa.String(length=60), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=100), nullable=False),
    sa.Column('organiser', sa.String(length=60), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('open', 'cancelled', name='activity_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('checkin_version', sa.Integer(), nullable=False),
    sa.Column('report', sa.Text(), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity > 0', name=op.f('ck_activities_activity_capacity')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_activities_activity_times')),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_activities_compound_id_compounds')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_activities_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities'))
    )
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index('ix_activities_compound_starts', ['compound_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_activities_starts_at', ['starts_at'], unique=False)

    op.create_table('activity_checkins',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('as_volunteer', sa.Boolean(), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_activity_checkins_activity_id_activities')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_activity_checkins_user_id_users')),
    sa.PrimaryKeyConstraint('activity_id', 'user_id', name=op.f('pk_activity_checkins'))
    )
    with op.batch_alter_table('activity_checkins', schema=None) as batch_op:
        batch_op.create_index('ix_activity_checkins_user', ['user_id', 'as_volunteer'], unique=False)

    op.create_table('activity_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('uploader_id', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=128), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_activity_photos_activity_id_activities')),
    sa.ForeignKeyConstraint(['uploader_id'], ['users.id'], name=op.f('fk_activity_photos_uploader_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_photos')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_activity_photos_storage_key'))
    )
    with op.batch_alter_table('activity_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_photos_activity_id'), ['activity_id'], unique=False)

    op.create_table('activity_signups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('confirmed', 'waiting', 'cancelled', name='activity_signup_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('as_volunteer', sa.Boolean(), nullable=False),
    sa.Column('signed_up_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_activity_signups_activity_id_activities')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_activity_signups_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_signups')),
    sa.UniqueConstraint('activity_id', 'user_id', name=op.f('uq_activity_signups_activity_id_user_id'))
    )
    with op.batch_alter_table('activity_signups', schema=None) as batch_op:
        batch_op.create_index('ix_activity_signups_queue', ['activity_id', 'status', 'signed_up_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_signups_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('activity_signups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_signups_user_id'))
        batch_op.drop_index('ix_activity_signups_queue')

    op.drop_table('activity_signups')
    with op.batch_alter_table('activity_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_photos_activity_id'))

    op.drop_table('activity_photos')
    with op.batch_alter_table('activity_checkins', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_checkins_user')

    op.drop_table('activity_checkins')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index('ix_activities_starts_at')
        batch_op.drop_index('ix_activities_compound_starts')

    op.drop_table('activities')
