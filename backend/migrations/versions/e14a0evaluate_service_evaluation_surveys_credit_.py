"""service evaluation: surveys, credit, inspections, rating rounds

Revision ID: e14a0evaluate
Revises: c12c0jobs001
Create Date: 2026-12-05 21:17:15.319337

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e14a0evaluate'
down_revision = 'c12c0jobs001'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('credit_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('good', 'bad', 'major_accident', 'blacklist', name='credit_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('points_centi', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('evidence_key', sa.String(length=128), nullable=True),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'good') = (points_centi > 0)", name=op.f('ck_credit_records_sign_matches_kind')),
    sa.CheckConstraint('expires_on > occurred_on', name=op.f('ck_credit_records_expires_after_occurring')),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_credit_records_area_id_areas')),
    sa.ForeignKeyConstraint(['company_id'], ['property_companies.id'], name=op.f('fk_credit_records_company_id_property_companies')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_credit_records_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_records'))
    )
    with op.batch_alter_table('credit_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_records_company_id'), ['company_id'], unique=False)

    op.create_table('rating_methods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('survey_weight', sa.SmallInteger(), nullable=False),
    sa.Column('service_weight', sa.SmallInteger(), nullable=False),
    sa.Column('inspection_weight', sa.SmallInteger(), nullable=False),
    sa.Column('method', sa.Enum('bands', 'rank', name='star_method', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('bands', sa.JSON(), nullable=False),
    sa.Column('cutoffs_bp', sa.JSON(), nullable=False),
    sa.Column('min_stars', sa.SmallInteger(), nullable=False),
    sa.Column('publicity_days', sa.SmallInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('min_stars BETWEEN 0 AND 5', name=op.f('ck_rating_methods_min_stars_range')),
    sa.CheckConstraint('publicity_days BETWEEN 1 AND 30', name=op.f('ck_rating_methods_publicity_days_range')),
    sa.CheckConstraint('survey_weight >= 0 AND service_weight >= 0 AND inspection_weight >= 0 AND survey_weight + service_weight + inspection_weight = 100', name=op.f('ck_rating_methods_weights_add_up')),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_rating_methods_area_id_areas')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rating_methods')),
    sa.UniqueConstraint('area_id', name=op.f('uq_rating_methods_area_id'))
    )
    op.create_table('rating_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('period_kind', sa.Enum('quarter', 'year', name='rating_period_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('computed', 'reviewed', 'confirmed', 'publicity', 'published', name='rating_round_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('method_snapshot', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('publicity_ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_rating_rounds_period_ordered')),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_rating_rounds_area_id_areas')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_rating_rounds_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_rating_rounds_created_by_id_users')),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_rating_rounds_published_by_id_users')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_rating_rounds_reviewed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rating_rounds')),
    sa.UniqueConstraint('area_id', 'period_kind', 'period_start', name=op.f('uq_rating_rounds_area_id_period_kind_period_start'))
    )
    op.create_table('company_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('compounds_rated', sa.Integer(), nullable=False),
    sa.Column('compounds_insufficient', sa.Integer(), nullable=False),
    sa.Column('survey_score_centi', sa.Integer(), nullable=True),
    sa.Column('service_score_centi', sa.Integer(), nullable=True),
    sa.Column('inspection_score_centi', sa.Integer(), nullable=True),
    sa.Column('credit_centi', sa.Integer(), nullable=False),
    sa.Column('composite_centi', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('stars', sa.SmallInteger(), nullable=False),
    sa.Column('no_star_reason', sa.String(length=100), nullable=False),
    sa.CheckConstraint('stars BETWEEN 0 AND 5', name=op.f('ck_company_ratings_stars_range')),
    sa.ForeignKeyConstraint(['company_id'], ['property_companies.id'], name=op.f('fk_company_ratings_company_id_property_companies')),
    sa.ForeignKeyConstraint(['round_id'], ['rating_rounds.id'], name=op.f('fk_company_ratings_round_id_rating_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_company_ratings')),
    sa.UniqueConstraint('round_id', 'company_id', name=op.f('uq_company_ratings_round_id_company_id'))
    )
    with op.batch_alter_table('company_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_company_ratings_company_id'), ['company_id'], unique=False)

    op.create_table('inspections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('inspector_id', sa.Integer(), nullable=False),
    sa.Column('inspected_on', sa.Date(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('max_points', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('max_points > 0 AND points BETWEEN 0 AND max_points', name=op.f('ck_inspections_points_range')),
    sa.ForeignKeyConstraint(['company_id'], ['property_companies.id'], name=op.f('fk_inspections_company_id_property_companies')),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_inspections_compound_id_compounds')),
    sa.ForeignKeyConstraint(['inspector_id'], ['users.id'], name=op.f('fk_inspections_inspector_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspections'))
    )
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspections_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspections_compound_id'), ['compound_id'], unique=False)

    op.create_table('rating_objections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('answer', sa.String(length=500), nullable=False),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_rating_objections_answered_by_id_users')),
    sa.ForeignKeyConstraint(['company_id'], ['property_companies.id'], name=op.f('fk_rating_objections_company_id_property_companies')),
    sa.ForeignKeyConstraint(['round_id'], ['rating_rounds.id'], name=op.f('fk_rating_objections_round_id_rating_rounds')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_rating_objections_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rating_objections'))
    )
    with op.batch_alter_table('rating_objections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rating_objections_round_id'), ['round_id'], unique=False)

    op.create_table('surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=60), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('compound_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('min_response_bp', sa.Integer(), nullable=False),
    sa.Column('min_households', sa.Integer(), nullable=False),
    sa.Column('owners_only', sa.Boolean(), nullable=False),
    sa.Column('publish_comments', sa.Boolean(), nullable=False),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('tallied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(area_id IS NULL) <> (compound_id IS NULL)', name=op.f('ck_surveys_one_owner')),
    sa.CheckConstraint('closes_at > opens_at', name=op.f('ck_surveys_closes_after_opening')),
    sa.CheckConstraint('min_households >= 0', name=op.f('ck_surveys_min_households_nonnegative')),
    sa.CheckConstraint('min_response_bp BETWEEN 0 AND 10000', name=op.f('ck_surveys_min_response_range')),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_surveys_area_id_areas')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_surveys_closed_by_id_users')),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_surveys_compound_id_compounds')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_surveys_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys'))
    )
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.create_index('ix_surveys_closes_at_open', ['closes_at', 'closed_at'], unique=False)

    op.create_table('inspection_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('max_points', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('finding', sa.String(length=300), nullable=False),
    sa.Column('photo_key', sa.String(length=128), nullable=True),
    sa.CheckConstraint('max_points > 0 AND points BETWEEN 0 AND max_points', name=op.f('ck_inspection_items_points_range')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_inspection_items_inspection_id_inspections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_items')),
    sa.UniqueConstraint('inspection_id', 'position', name=op.f('uq_inspection_items_inspection_id_position'))
    )
    op.create_table('survey_compounds',
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('property_company_id', sa.Integer(), nullable=True),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_survey_compounds_compound_id_compounds')),
    sa.ForeignKeyConstraint(['property_company_id'], ['property_companies.id'], name=op.f('fk_survey_compounds_property_company_id_property_companies')),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_compounds_survey_id_surveys')),
    sa.PrimaryKeyConstraint('survey_id', 'compound_id', name=op.f('pk_survey_compounds'))
    )
    with op.batch_alter_table('survey_compounds', schema=None) as batch_op:
        batch_op.create_index('ix_survey_compounds_compound', ['compound_id'], unique=False)

    op.create_table('survey_evaluators',
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('appointed_by_id', sa.Integer(), nullable=False),
    sa.Column('appointed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appointed_by_id'], ['users.id'], name=op.f('fk_survey_evaluators_appointed_by_id_users')),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_evaluators_survey_id_surveys')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_survey_evaluators_user_id_users')),
    sa.PrimaryKeyConstraint('survey_id', 'user_id', name=op.f('pk_survey_evaluators'))
    )
    op.create_table('survey_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('kind', sa.Enum('dimension', 'choice', 'text', name='survey_question_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('text', sa.String(length=100), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_questions_survey_id_surveys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_questions')),
    sa.UniqueConstraint('survey_id', 'position', name=op.f('uq_survey_questions_survey_id_position'))
    )
    op.create_table('survey_tallies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=16), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('valid', sa.Integer(), nullable=False),
    sa.Column('satisfied', sa.Integer(), nullable=False),
    sa.Column('rate_bp', sa.Integer(), nullable=False),
    sa.Column('score_centi', sa.Integer(), nullable=False),
    sa.Column('sufficient', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_survey_tallies_compound_id_compounds')),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_tallies_survey_id_surveys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_tallies')),
    sa.UniqueConstraint('survey_id', 'compound_id', 'subject', name=op.f('uq_survey_tallies_survey_id_compound_id_subject'))
    )
    op.create_table('survey_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('answered_by_id', sa.Integer(), nullable=False),
    sa.Column('paper', sa.Boolean(), nullable=False),
    sa.Column('photo_key', sa.String(length=128), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('NOT paper OR photo_key IS NOT NULL', name=op.f('ck_survey_responses_paper_has_photo')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_survey_responses_answered_by_id_users')),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_survey_responses_compound_id_compounds')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_survey_responses_household_id_households')),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_responses_survey_id_surveys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_responses')),
    sa.UniqueConstraint('survey_id', 'household_id', name=op.f('uq_survey_responses_survey_id_household_id'))
    )
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.create_index('ix_survey_responses_survey_compound', ['survey_id', 'compound_id'], unique=False)

    op.create_table('survey_answers',
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.SmallInteger(), nullable=True),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_survey_answers_compound_id_compounds')),
    sa.ForeignKeyConstraint(['question_id'], ['survey_questions.id'], name=op.f('fk_survey_answers_question_id_survey_questions')),
    sa.ForeignKeyConstraint(['response_id'], ['survey_responses.id'], name=op.f('fk_survey_answers_response_id_survey_responses')),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_answers_survey_id_surveys')),
    sa.PrimaryKeyConstraint('response_id', 'question_id', name=op.f('pk_survey_answers'))
    )
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.create_index('ix_survey_answers_tally', ['survey_id', 'compound_id', 'question_id', 'value'], unique=False)

    with op.batch_alter_table('property_companies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('has_party_org', sa.Boolean(), nullable=False, server_default=sa.false()))




def downgrade():

    with op.batch_alter_table('property_companies', schema=None) as batch_op:
        batch_op.drop_column('has_party_org')

    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_answers_tally')

    op.drop_table('survey_answers')
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_responses_survey_compound')

    op.drop_table('survey_responses')
    op.drop_table('survey_tallies')
    op.drop_table('survey_questions')
    op.drop_table('survey_evaluators')
    with op.batch_alter_table('survey_compounds', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_compounds_compound')

    op.drop_table('survey_compounds')
    op.drop_table('inspection_items')
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index('ix_surveys_closes_at_open')

    op.drop_table('surveys')
    with op.batch_alter_table('rating_objections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rating_objections_round_id'))

    op.drop_table('rating_objections')
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspections_compound_id'))
        batch_op.drop_index(batch_op.f('ix_inspections_company_id'))

    op.drop_table('inspections')
    with op.batch_alter_table('company_ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_company_ratings_company_id'))

    op.drop_table('company_ratings')
    op.drop_table('rating_rounds')
    op.drop_table('rating_methods')
    with op.batch_alter_table('credit_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_records_company_id'))

    op.drop_table('credit_records')

