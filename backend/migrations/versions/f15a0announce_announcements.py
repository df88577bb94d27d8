"""announcements (通知公告): the notice, its compounds, photos and reads

Revision ID: f15a0announce
Revises: f15c0workbench
Create Date: 2026-12-06 00:16:43.388704

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f15a0announce'
down_revision = 'f15c0workbench'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('announcements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=True),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=60), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('category', sa.Enum('outage', 'construction', 'fees', 'deliberation', 'activity', 'other', name='announcement_category', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(area_id IS NULL) <> (compound_id IS NULL)', name=op.f('ck_announcements_one_scope')),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_announcements_area_id_areas')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_announcements_author_id_users')),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_announcements_compound_id_compounds')),
    sa.ForeignKeyConstraint(['deleted_by_id'], ['users.id'], name=op.f('fk_announcements_deleted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcements'))
    )
    op.create_table('announcement_compounds',
    sa.Column('announcement_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['announcement_id'], ['announcements.id'], name=op.f('fk_announcement_compounds_announcement_id_announcements')),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_announcement_compounds_compound_id_compounds')),
    sa.PrimaryKeyConstraint('announcement_id', 'compound_id', name=op.f('pk_announcement_compounds'))
    )
    with op.batch_alter_table('announcement_compounds', schema=None) as batch_op:
        batch_op.create_index('ix_announcement_compounds_compound', ['compound_id', 'announcement_id'], unique=False)

    op.create_table('announcement_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('announcement_id', sa.Integer(), nullable=False),
    sa.Column('uploader_id', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=128), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['announcement_id'], ['announcements.id'], name=op.f('fk_announcement_photos_announcement_id_announcements')),
    sa.ForeignKeyConstraint(['uploader_id'], ['users.id'], name=op.f('fk_announcement_photos_uploader_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcement_photos')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_announcement_photos_storage_key'))
    )
    with op.batch_alter_table('announcement_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_announcement_photos_announcement_id'), ['announcement_id'], unique=False)

    op.create_table('announcement_reads',
    sa.Column('announcement_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['announcement_id'], ['announcements.id'], name=op.f('fk_announcement_reads_announcement_id_announcements')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_announcement_reads_user_id_users')),
    sa.PrimaryKeyConstraint('announcement_id', 'user_id', name=op.f('pk_announcement_reads'))
    )


def downgrade():
    op.drop_table('announcement_reads')
    with op.batch_alter_table('announcement_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_announcement_photos_announcement_id'))

    op.drop_table('announcement_photos')
    with op.batch_alter_table('announcement_compounds', schema=None) as batch_op:
        batch_op.drop_index('ix_announcement_compounds_compound')

    op.drop_table('announcement_compounds')
    op.drop_table('announcements')
