"""Periodic reports (定期通报) API: an area's report history and an on-demand report of a date range; a report with
its frozen figures, and its workbook and PDF.

Officials of the report's area and above only: another area's official and anyone of no compound below it → 404,
people who only hold roles below the area (residents, staff, a community's official for its street) → 403; a
range out of bounds → 422; a file of a report still building → 409."""
from __future__ import annotations

import io

from flask import send_file
from flask.views import MethodView
from flask_smorest import Blueprint

from backend.presenters import reports as presenter
from backend.request_context import jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema, PageQuery
from backend.schemas.reports import ReportCreateSchema, ReportLineSchema, ReportPageSchema, ReportSchema
from backend.services import reports as service

blp = Blueprint("reports", __name__, url_prefix="/api/v1", description="定期通报")

AREA_ID = "<int(min=1, max=2147483647):area_id>"
REPORT_ID = "<int(min=1, max=2147483647):report_id>"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blp.route(f"/areas/{AREA_ID}/reports")
class AreaReports(MethodView):
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, ReportPageSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, area_id):
        """The area's reports, newest period first: monthly and quarterly ones built by the cron, custom ones asked
        for, each with its status (生成中 / 已发布 / 生成失败)."""
        return presenter.report_list(area_id, optional_user_id(), query["page"], query["page_size"])

    @blp.arguments(ReportCreateSchema)
    @blp.response(202, ReportLineSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, area_id):
        """Ask for a report of the area over `start`…`end` (Beijing dates, both included; at most a year, ended by
        today, from 2000 on), compared with the as-long range before it. Built by a job: the report is 生成中 until
        published."""
        report = service.ask_custom(area_id, optional_user_id(), body["start"], body["end"])
        return presenter.report_detail(report.id, optional_user_id())


@blp.route(f"/reports/{REPORT_ID}")
class Report(MethodView):
    @blp.response(200, ReportSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, report_id):
        """The report with its figures as published (never recomputed)."""
        return presenter.report_detail(report_id, optional_user_id())


def _file(report_id: int, kind: str, mimetype: str):
    name, content = presenter.report_file(report_id, optional_user_id(), kind)
    return send_file(io.BytesIO(content), mimetype=mimetype, as_attachment=True, download_name=name)


@blp.route(f"/reports/{REPORT_ID}.xlsx")
class ReportWorkbook(MethodView):
    @blp.response(200, content_type=XLSX, description="一节一个工作表：三升一降、小区红黑榜、企业红黑榜、问题小区、逾期整改、第一书记日志")
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="通报还在生成中")
    @jwt_required()
    def get(self, report_id):
        """The workbook as published."""
        return _file(report_id, "xlsx", XLSX)


@blp.route(f"/reports/{REPORT_ID}.pdf")
class ReportPdf(MethodView):
    @blp.response(200, content_type="application/pdf", description="通报全文（PDF）")
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="通报还在生成中")
    @jwt_required()
    def get(self, report_id):
        """The PDF as published."""
        return _file(report_id, "pdf", "application/pdf")
