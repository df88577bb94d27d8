"""renovation projects (老旧小区改造): projects, their items, progress reports with photos, households' ratings

Revision ID: h19d0renovation
Revises: h19c0campaigns
Create Date: 2026-12-06 13:23:48

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'h19d0renovation'
down_revision = 'h19c0campaigns'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('renovation_projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=60), nullable=False),
    sa.Column('status', sa.Enum('planned', 'in_progress', 'completed', name='renovation_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('responsible_party', sa.Enum('company', 'committee', 'community', name='renovation_party', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('contractor', sa.String(length=60), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('planned_start', sa.Date(), nullable=True),
    sa.Column('planned_end', sa.Date(), nullable=True),
    sa.Column('actual_start', sa.Date(), nullable=True),
    sa.Column('actual_end', sa.Date(), nullable=True),
    sa.Column('percent', sa.SmallInteger(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('percent BETWEEN 0 AND 100', name=op.f('ck_renovation_projects_percent_range')),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_renovation_projects_compound_id_compounds')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_renovation_projects_created_by_id_users')),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_renovation_projects_topic_id_topics')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_renovation_projects'))
    )
    with op.batch_alter_table('renovation_projects', schema=None) as batch_op:
        batch_op.create_index('ix_renovation_projects_compound_status', ['compound_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_renovation_projects_topic_id'), ['topic_id'], unique=False)

    op.create_table('renovation_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('item_class', sa.Enum('basic', 'improvement', 'upgrade', name='renovation_item_class', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('budget_fen', sa.BigInteger(), nullable=False),
    sa.Column('funding_source', sa.Enum('central', 'local', 'maintenance_fund', 'owners', 'enterprise', 'other', name='renovation_funding_source', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.CheckConstraint('budget_fen >= 0', name=op.f('ck_renovation_items_budget_not_negative')),
    sa.ForeignKeyConstraint(['project_id'], ['renovation_projects.id'], name=op.f('fk_renovation_items_project_id_renovation_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_renovation_items')),
    sa.UniqueConstraint('project_id', 'position', name=op.f('uq_renovation_items_project_id_position'))
    )
    with op.batch_alter_table('renovation_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_renovation_items_project_id'), ['project_id'], unique=False)

    op.create_table('renovation_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('stars', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('stars BETWEEN 1 AND 5', name=op.f('ck_renovation_ratings_stars_range')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_renovation_ratings_household_id_households')),
    sa.ForeignKeyConstraint(['project_id'], ['renovation_projects.id'], name=op.f('fk_renovation_ratings_project_id_renovation_projects')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_renovation_ratings_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_renovation_ratings')),
    sa.UniqueConstraint('project_id', 'household_id', name=op.f('uq_renovation_ratings_project_id_household_id'))
    )
    op.create_table('renovation_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('percent', sa.SmallInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_renovation_updates_author_id_users')),
    sa.ForeignKeyConstraint(['project_id'], ['renovation_projects.id'], name=op.f('fk_renovation_updates_project_id_renovation_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_renovation_updates'))
    )
    with op.batch_alter_table('renovation_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_renovation_updates_project_id'), ['project_id'], unique=False)

    op.create_table('renovation_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('update_id', sa.Integer(), nullable=False),
    sa.Column('uploader_id', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=128), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['renovation_projects.id'], name=op.f('fk_renovation_photos_project_id_renovation_projects')),
    sa.ForeignKeyConstraint(['update_id'], ['renovation_updates.id'], name=op.f('fk_renovation_photos_update_id_renovation_updates')),
    sa.ForeignKeyConstraint(['uploader_id'], ['users.id'], name=op.f('fk_renovation_photos_uploader_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_renovation_photos')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_renovation_photos_storage_key'))
    )
    with op.batch_alter_table('renovation_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_renovation_photos_project_id'), ['project_id'], unique=False)



def downgrade():
    with op.batch_alter_table('renovation_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_renovation_photos_project_id'))

    op.drop_table('renovation_photos')
    with op.batch_alter_table('renovation_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_renovation_updates_project_id'))

    op.drop_table('renovation_updates')
    op.drop_table('renovation_ratings')
    with op.batch_alter_table('renovation_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_renovation_items_project_id'))

    op.drop_table('renovation_items')
    with op.batch_alter_table('renovation_projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_renovation_projects_topic_id'))
        batch_op.drop_index('ix_renovation_projects_compound_status')

    op.drop_table('renovation_projects')
