"""Report (定期通报) schemas: the on-demand request, a report line of the history and a report with its figures."""
from __future__ import annotations

from marshmallow import Schema, fields

from backend.schemas.common import envelope


class ReportCreateSchema(Schema):
    start = fields.Date(required=True, error_messages={"required": "请选择开始日期", "invalid": "请选择开始日期"},
                        metadata={"description": "统计期间的第一天（北京时间）"})
    end = fields.Date(required=True, error_messages={"required": "请选择结束日期", "invalid": "请选择结束日期"},
                      metadata={"description": "统计期间的最后一天（含），不晚于今天，且不超过一年"})


class ReportLinksSchema(Schema):
    page = fields.String(required=True)
    xlsx = fields.String(allow_none=True, required=True)
    pdf = fields.String(allow_none=True, required=True)


class ReportLineSchema(Schema):
    id = fields.Integer(required=True)
    area_id = fields.Integer(required=True)
    area_name = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "monthly / quarterly / custom"})
    kind_label = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "building / published / failed"})
    status_label = fields.String(required=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    period_label = fields.String(required=True)
    title = fields.String(required=True)
    requested_at = fields.AwareDateTime(required=True)
    built_at = fields.AwareDateTime(allow_none=True, required=True)
    built_by_cron = fields.Boolean(required=True)
    failure = fields.String(required=True)
    links = fields.Nested(ReportLinksSchema, required=True)


class ReportSchema(ReportLineSchema):
    figures = fields.Dict(required=True, metadata={
        "description": "发布时冻结的全部数字：headlines（三升一降）、compound_ranking、company_ranking（红黑榜）、"
                       "problem_compounds、overdue_rectifications、first_secretary_logs；生成中为空"})


ReportPageSchema = envelope(ReportLineSchema)
