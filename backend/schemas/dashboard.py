"""The officials' dashboard: the compound table's query and what the dashboard and the table answer."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from backend.domain.compounds import ManagementModel
from backend.domain.dashboard import Sort
from backend.domain.flags import FlagRule
from backend.schemas.backbones import BackboneAreaSchema, BackboneCountsSchema
from backend.schemas.common import ID, PageQuery
from backend.schemas.fund_years import FundCoverageSchema
from backend.schemas.governance import CoverageSchema

FLAG_CHOICES = ["any", *(rule.value for rule in FlagRule)]


class CompoundTableQuery(PageQuery):
    model = fields.String(validate=validate.OneOf([m.value for m in ManagementModel]))
    area_id = fields.Integer(validate=ID, metadata={"description": "只看此下级区域（街道、社区）"})
    # The issue's own name for the child-area filter, kept as an alias of area_id.
    street = fields.Integer(validate=ID)
    flag = fields.String(validate=validate.OneOf(FLAG_CHOICES), metadata={"description": "any：任一问题标记"})
    sort = fields.String(load_default=Sort.NAME.value, validate=validate.OneOf([s.value for s in Sort]))


class DashboardAreaRefSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    level = fields.String(required=True)
    level_label = fields.String(required=True)


class DashboardCollectionSchema(Schema):
    billed_households = fields.Integer(required=True)
    paid_households = fields.Integer(required=True)
    billed_fen = fields.Integer(required=True)
    paid_fen = fields.Integer(required=True)
    household_rate_bp = fields.Integer(required=True, allow_none=True)
    fen_rate_bp = fields.Integer(required=True, allow_none=True)


class DashboardFiguresSchema(Schema):
    households = fields.Integer(required=True)
    period = fields.Nested(DashboardCollectionSchema, required=True, metadata={"description": "最新账期"})
    year = fields.Nested(DashboardCollectionSchema, required=True, metadata={"description": "本年（北京时间）各账期合计"})
    orders_open = fields.Integer(required=True)
    orders_overdue = fields.Integer(required=True)
    orders_month = fields.Integer(required=True)
    orders_closed = fields.Integer(required=True)
    orders_closed_within_sla = fields.Integer(required=True)
    sla_share_bp = fields.Integer(required=True, allow_none=True)
    deliberations_held = fields.Integer(required=True)
    turnout_households = fields.Integer(required=True)
    turnout_eligible = fields.Integer(required=True)
    turnout_bp = fields.Integer(required=True, allow_none=True)
    disputes_open = fields.Integer(required=True)
    flags_active = fields.Integer(required=True)


class DashboardCompoundFiguresSchema(DashboardFiguresSchema):
    period_start = fields.Date(required=True, allow_none=True)
    median_close_seconds = fields.Integer(required=True, allow_none=True)
    satisfaction_rate_bp = fields.Integer(required=True, allow_none=True)
    satisfaction_sufficient = fields.Boolean(required=True)
    stars = fields.Integer(required=True, allow_none=True)
    refreshed_at = fields.DateTime(required=True)


class DashboardCompoundLineSchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    area_name = fields.String(required=True)
    built_year = fields.Integer(required=True, allow_none=True)
    management_model = fields.String(required=True)
    management_model_label = fields.String(required=True)
    governance_body = fields.String(required=True)
    governance_body_label = fields.String(required=True)
    party_org_form = fields.String(required=True)
    party_org_form_label = fields.String(required=True)
    property_company = fields.String(required=True)
    fee_standard_fen_per_m2 = fields.Integer(required=True, allow_none=True)
    figures = fields.Nested(DashboardCompoundFiguresSchema, required=True, allow_none=True,
                            metadata={"description": "尚未统计的小区为 null"})


class DashboardChoiceSchema(Schema):
    rule = fields.String()
    sort = fields.String()
    label = fields.String(required=True)


class DashboardTableLineSchema(DashboardCompoundLineSchema):
    backbones = fields.Nested(BackboneCountsSchema, required=True, metadata={"description": "在册治理骨干（按类别）"})


class DashboardCompoundTableSchema(Schema):
    area = fields.Nested(DashboardAreaRefSchema, required=True)
    items = fields.List(fields.Nested(DashboardTableLineSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    areas = fields.List(fields.Nested(DashboardAreaRefSchema), required=True)
    flags = fields.List(fields.Nested(DashboardChoiceSchema), required=True)
    sorts = fields.List(fields.Nested(DashboardChoiceSchema), required=True)


class DashboardChildAreaSchema(DashboardAreaRefSchema):
    compounds = fields.Integer(required=True)
    totals = fields.Nested(DashboardFiguresSchema, required=True)


class DashboardModelCountSchema(Schema):
    model = fields.String(required=True)
    label = fields.String(required=True)
    compounds = fields.Integer(required=True)


class DashboardMonthCollectionSchema(DashboardCollectionSchema):
    month = fields.Date(required=True)


class DashboardMonthOrdersSchema(Schema):
    month = fields.Date(required=True)
    orders = fields.Integer(required=True)
    closed = fields.Integer(required=True)


class DashboardChartsSchema(Schema):
    models = fields.List(fields.Nested(DashboardModelCountSchema), required=True)
    collection_by_month = fields.List(fields.Nested(DashboardMonthCollectionSchema), required=True)
    order_trend = fields.List(fields.Nested(DashboardMonthOrdersSchema), required=True)
    worst = fields.List(fields.Nested(DashboardCompoundLineSchema), required=True)


class AreaDashboardSchema(Schema):
    area = fields.Nested(DashboardAreaRefSchema, required=True)
    breadcrumbs = fields.List(fields.Nested(DashboardAreaRefSchema), required=True)
    compounds = fields.Integer(required=True)
    totals = fields.Nested(DashboardFiguresSchema, required=True)
    children = fields.List(fields.Nested(DashboardChildAreaSchema), required=True)
    charts = fields.Nested(DashboardChartsSchema, required=True)
    coverage = fields.Nested(CoverageSchema, required=True, metadata={"description": "党组织与自治组织覆盖"})
    fund_coverage = fields.Nested(FundCoverageSchema, required=True,
                                  metadata={"description": "公共收益账户覆盖：开设各类账户的小区"})
    backbones = fields.Nested(BackboneAreaSchema, required=True, metadata={"description": "在册治理骨干（按类别）"})
    refreshed_at = fields.DateTime(required=True, allow_none=True)
    refreshed_label = fields.String(required=True)
