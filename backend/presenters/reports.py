"""What the report (定期通报) screens show, built once for the API to dump and the pages to render: an area's report
history and one report with its frozen figures and its files."""
from __future__ import annotations

from backend.domain import reports as rules
from backend.domain.reports import Period, ReportStatus
from backend.models import Area, Report
from backend.services import reports as service
from backend.shared.clock import beijing_date, utcnow


def _line(report: Report, area: Area) -> dict:
    period = Period(report.period_start, report.period_end)
    published = report.status is ReportStatus.PUBLISHED
    return {
        "id": report.id,
        "area_id": area.id,
        "area_name": area.name,
        "kind": report.kind.value,
        "kind_label": rules.REPORT_KIND_LABELS[report.kind],
        "status": report.status.value,
        "status_label": rules.REPORT_STATUS_LABELS[report.status],
        "period_start": report.period_start,
        "period_end": report.period_end,
        "period_label": rules.period_label(report.kind, period),
        "title": f"{area.name}{rules.period_label(report.kind, period)}{rules.REPORT_KIND_LABELS[report.kind]}",
        "requested_at": report.requested_at,
        "built_at": report.built_at,
        "built_by_cron": report.built_by_id is None,
        "failure": report.failure,
        "links": {
            "page": f"/h5/reports/{report.id}",
            "xlsx": f"/api/v1/reports/{report.id}.xlsx" if published else None,
            "pdf": f"/api/v1/reports/{report.id}.pdf" if published else None,
        },
    }


def report_list(area_id: int, user_id: int | None, page: int, page_size: int) -> dict:
    area, result = service.area_reports(area_id, user_id, page, page_size)
    today = beijing_date(utcnow())
    return {
        "items": [_line(report, area) for report in result.items],
        "total": result.total, "page": result.page, "page_size": result.page_size,
        "area_name": area.name,
        # The on-demand form's defaults: last month, the usual range asked for.
        "default_start": rules.last_complete_period(rules.ReportKind.MONTHLY, today).start,
        "default_end": rules.last_complete_period(rules.ReportKind.MONTHLY, today).end,
    }


def report_detail(report_id: int, user_id: int | None) -> dict:
    report = service.report_for(report_id, user_id)
    area = report.area
    detail = _line(report, area)
    detail["figures"] = report.figures if report.status is ReportStatus.PUBLISHED else {}
    return detail


def report_file(report_id: int, user_id: int | None, kind: str) -> tuple[str, bytes]:
    return service.report_file(report_id, user_id, kind)


def report_areas(user_id: int | None) -> list[dict]:
    """The start page's links to the reports of the areas the person is an official of."""
    return [{"id": area.id, "name": area.name} for area in service.official_areas(user_id)]
