"""Output schemas for places and people, shared by the API modules that show them (bindings: schemas/bindings.py)."""
from __future__ import annotations

from marshmallow import Schema, fields

from backend.domain.compounds import (
    GovernanceBody,
    HouseholdKind,
    ManagementModel,
    PartyOrgForm,
    RenovationStatus,
)
from backend.domain.roles import Role


class CompoundSchema(Schema):
    id = fields.Integer(attribute="compound.id")
    code = fields.String(attribute="compound.code")
    name = fields.String(attribute="compound.name")
    address = fields.String(attribute="compound.address")
    area_id = fields.Integer(attribute="compound.area_id")
    area_name = fields.String()
    built_year = fields.Integer(attribute="compound.built_year", allow_none=True)
    management_model = fields.Enum(ManagementModel, by_value=True, attribute="compound.management_model")
    party_org_form = fields.Enum(PartyOrgForm, by_value=True, attribute="compound.party_org_form")
    first_secretary_name = fields.String(attribute="compound.first_secretary_name")
    governance_body = fields.Enum(GovernanceBody, by_value=True, attribute="compound.governance_body")
    property_company_id = fields.Integer(attribute="compound.property_company_id", allow_none=True)
    property_company_name = fields.String(allow_none=True)
    fee_standard_fen_per_m2 = fields.Integer(attribute="compound.fee_standard_fen_per_m2", allow_none=True)
    renovation_status = fields.Enum(RenovationStatus, by_value=True, attribute="compound.renovation_status")
    # Only for those who run the compound or oversee it (Action.VIEW_ASSESSMENT); absent for residents.
    open_problems = fields.String()
    is_problem_compound = fields.Boolean()
    building_count = fields.Integer()
    household_count = fields.Integer()
    total_floor_area_centi_m2 = fields.Integer()


class BuildingSchema(Schema):
    id = fields.Integer()
    compound_id = fields.Integer()
    name = fields.String()


class HouseholdSchema(Schema):
    id = fields.Integer()
    building_id = fields.Integer()
    building_name = fields.String()
    unit = fields.String()
    room = fields.String()
    floor_area_centi_m2 = fields.Integer()
    kind = fields.Enum(HouseholdKind, by_value=True)
    verified_owner_count = fields.Integer()


class HouseholdRefSchema(Schema):
    id = fields.Integer()
    building_name = fields.String(attribute="building.name")
    unit = fields.String()
    room = fields.String()
    floor_area_centi_m2 = fields.Integer()


class MembershipSchema(Schema):
    id = fields.Integer()
    role = fields.Enum(Role, by_value=True)
    compound_id = fields.Integer(allow_none=True)
    area_id = fields.Integer(allow_none=True)
    household = fields.Nested(HouseholdRefSchema, allow_none=True)
    verified_at = fields.DateTime(allow_none=True)
