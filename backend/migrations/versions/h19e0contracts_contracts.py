"""the property company's life cycle: selections by an owners' vote (Art. 278 item 4), contracts, term-end
reminders, handover inspections with items and photos

Revision ID: h19e0contracts
Revises: h19d0renovation
Create Date: 2026-12-06 13:21:10.919809

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'h19e0contracts'
down_revision = 'h19d0renovation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('company_selections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('hire', 'renew', 'dismiss', name='selection_purpose', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('candidate_ids', sa.JSON(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('voting', 'decided', 'failed', name='selection_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('decision_note', sa.String(length=300), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_company_selections_compound_id_compounds')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_company_selections_created_by_id_users')),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_company_selections_topic_id_topics')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_company_selections')),
    sa.UniqueConstraint('topic_id', name=op.f('uq_company_selections_topic_id'))
    )
    with op.batch_alter_table('company_selections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_company_selections_compound_id'), ['compound_id'], unique=False)
        batch_op.create_index('uq_company_selections_one_voting', ['compound_id'], unique=True,
                              postgresql_where=sa.text("status = 'voting'"), sqlite_where=sa.text("status = 'voting'"))

    op.create_table('property_contracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('selection_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'active', 'ended', 'dismissed', name='contract_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('term_start', sa.Date(), nullable=True),
    sa.Column('term_end', sa.Date(), nullable=True),
    sa.Column('service_level', sa.SmallInteger(), nullable=True),
    sa.Column('fee_schedule_id', sa.Integer(), nullable=True),
    sa.Column('file_key', sa.String(length=128), nullable=True),
    sa.Column('file_type', sa.String(length=32), nullable=True),
    sa.Column('file_bytes', sa.Integer(), nullable=True),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_note', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('service_level BETWEEN 1 AND 5', name=op.f('ck_property_contracts_service_level_range')),
    sa.ForeignKeyConstraint(['company_id'], ['property_companies.id'], name=op.f('fk_property_contracts_company_id_property_companies')),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_property_contracts_compound_id_compounds')),
    sa.ForeignKeyConstraint(['fee_schedule_id'], ['fee_schedules.id'], name=op.f('fk_property_contracts_fee_schedule_id_fee_schedules')),
    sa.ForeignKeyConstraint(['selection_id'], ['company_selections.id'], name=op.f('fk_property_contracts_selection_id_company_selections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_property_contracts')),
    sa.UniqueConstraint('file_key', name=op.f('uq_property_contracts_file_key')),
    sa.UniqueConstraint('selection_id', name=op.f('uq_property_contracts_selection_id'))
    )
    with op.batch_alter_table('property_contracts', schema=None) as batch_op:
        batch_op.create_index('ix_property_contracts_compound_status', ['compound_id', 'status'], unique=False)
        batch_op.create_index('uq_property_contracts_active_compound', ['compound_id'], unique=True, postgresql_where=sa.text("status = 'active'"), sqlite_where=sa.text("status = 'active'"))
    # The two tables name each other: the selection's link to the contract it is about comes once both exist.
    with op.batch_alter_table('company_selections', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_company_selections_contract_id_property_contracts'),
                                    'property_contracts', ['contract_id'], ['id'])

    op.create_table('contract_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('term_end', sa.Date(), nullable=False),
    sa.Column('days_before', sa.SmallInteger(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['property_contracts.id'], name=op.f('fk_contract_reminders_contract_id_property_contracts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_reminders')),
    sa.UniqueConstraint('contract_id', 'term_end', 'days_before', name=op.f('uq_contract_reminders_contract_id_term_end_days_before'))
    )
    op.create_table('handover_inspections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.Enum('take_over', 'hand_back', name='handover_direction', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('open', 'closed', name='handover_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('committee_signer_id', sa.Integer(), nullable=True),
    sa.Column('committee_signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('company_signer_id', sa.Integer(), nullable=True),
    sa.Column('company_signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['committee_signer_id'], ['users.id'], name=op.f('fk_handover_inspections_committee_signer_id_users')),
    sa.ForeignKeyConstraint(['company_signer_id'], ['users.id'], name=op.f('fk_handover_inspections_company_signer_id_users')),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_handover_inspections_compound_id_compounds')),
    sa.ForeignKeyConstraint(['contract_id'], ['property_contracts.id'], name=op.f('fk_handover_inspections_contract_id_property_contracts')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_handover_inspections_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_inspections')),
    sa.UniqueConstraint('contract_id', 'direction', name=op.f('uq_handover_inspections_contract_id_direction'))
    )
    with op.batch_alter_table('handover_inspections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_inspections_compound_id'), ['compound_id'], unique=False)

    op.create_table('handover_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('name', sa.String(length=30), nullable=False),
    sa.Column('state', sa.Enum('unchecked', 'good', 'defective', 'missing', name='handover_item_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('checked_by_id', sa.Integer(), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['checked_by_id'], ['users.id'], name=op.f('fk_handover_items_checked_by_id_users')),
    sa.ForeignKeyConstraint(['inspection_id'], ['handover_inspections.id'], name=op.f('fk_handover_items_inspection_id_handover_inspections')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_handover_items_resolved_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_items')),
    sa.UniqueConstraint('inspection_id', 'position', name=op.f('uq_handover_items_inspection_id_position'))
    )
    op.create_table('handover_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('uploader_id', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=128), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['handover_items.id'], name=op.f('fk_handover_photos_item_id_handover_items')),
    sa.ForeignKeyConstraint(['uploader_id'], ['users.id'], name=op.f('fk_handover_photos_uploader_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_photos')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_handover_photos_storage_key'))
    )
    with op.batch_alter_table('handover_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_photos_item_id'), ['item_id'], unique=False)



def downgrade():
    with op.batch_alter_table('handover_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handover_photos_item_id'))

    op.drop_table('handover_photos')
    op.drop_table('handover_items')
    with op.batch_alter_table('handover_inspections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handover_inspections_compound_id'))

    op.drop_table('handover_inspections')
    op.drop_table('contract_reminders')
    with op.batch_alter_table('company_selections', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_company_selections_contract_id_property_contracts'), type_='foreignkey')
    with op.batch_alter_table('property_contracts', schema=None) as batch_op:
        batch_op.drop_index('uq_property_contracts_active_compound', postgresql_where=sa.text("status = 'active'"), sqlite_where=sa.text("status = 'active'"))
        batch_op.drop_index('ix_property_contracts_compound_status')

    op.drop_table('property_contracts')
    with op.batch_alter_table('company_selections', schema=None) as batch_op:
        batch_op.drop_index('uq_company_selections_one_voting', postgresql_where=sa.text("status = 'voting'"),
                            sqlite_where=sa.text("status = 'voting'"))
        batch_op.drop_index(batch_op.f('ix_company_selections_compound_id'))

    op.drop_table('company_selections')
