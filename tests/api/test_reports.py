"""Periodic reports (定期通报) through the API and a real worker: the cron's monthly report of a street with its
三升一降, 红黑榜, problem compounds and overdue rectifications; the cron run twice makes one report; a rebuild gives
the same figures; a published report (figures, page, workbook, PDF) never changes when the data does; the PDF's
text (pdftotext) holds the area's name and the headline figures; on-demand ranges and their bounds; the scope."""
from __future__ import annotations

import io
import subprocess
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from backend.domain.disputes import DisputeKind
from backend.domain.fees import BillStatus
from backend.domain.reports import ReportKind, ReportStatus
from backend.extensions import db
from backend.jobs import reports as jobs
from backend.models import Bill, DisputeCase, Notice, Notification, Report, User
from backend.services import reports as service
from backend.shared.clock import beijing_date, utcnow
from tests.rating_support import run_jobs
from tests.report_support import HEADLINES, build_street, moment_in
from tests.support import assert_error_shape, bearer


@pytest.fixture
def street(make_area, make_compound, make_user):
    return build_street(make_area, make_compound, make_user)


def _as(client, user_id: int) -> dict:
    return bearer(client, db.session.get(User, user_id))


def _monthly(street) -> Report:
    return db.session.scalar(select(Report).where(Report.area_id == street.street_id,
                                                  Report.kind == ReportKind.MONTHLY))


def _published(app, street) -> Report:
    """The street's monthly report as the cron asks for it, built here (the other areas' wait in the outbox)."""
    service.ask_periodic()
    report = _monthly(street)
    service.build(report.id)
    assert report.status is ReportStatus.PUBLISHED, report.failure
    return report


def _report_section(page) -> str:
    """The page below its header (whose unread count moves with the inbox)."""
    return page.get_data(as_text=True).split('<section class="ll-hero">', 1)[1]


def test_the_cron_publishes_the_streets_monthly_report_with_its_figures(app, client, street):
    jobs.ask_periodic()
    run_jobs(app)
    report = _monthly(street)
    response = client.get(f"/api/v1/reports/{report.id}", headers=_as(client, street.street_official))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "published" and body["built_by_cron"] is True
    assert body["period_start"] == street.period.start.isoformat()
    figures = body["figures"]
    assert figures["area"]["name"] == "炳草岗街道" and figures["compounds"] == 2
    headlines = {line["key"]: line for line in figures["headlines"]}
    assert {key: line["display"] for key, line in headlines.items()} == HEADLINES
    assert headlines["collection"]["previous_display"] == "100.00%"
    assert (headlines["collection"]["direction_label"], headlines["collection"]["good"]) == ("降", False)
    assert (headlines["disputes"]["direction_label"], headlines["disputes"]["delta"]) == ("升", 1)
    assert headlines["participation"]["direction"] == "none"
    ranking = figures["compound_ranking"]
    assert [(line["name"], line["rank"], line["composite_bp"]) for line in ranking["red"]] == [("金沙苑", 1, 9500)]
    assert [(line["name"], line["composite_bp"]) for line in ranking["black"]] == [("清香坪", 3000)]
    assert [line["name"] for line in figures["company_ranking"]["red"]] == ["阳光物业"]
    assert [line["name"] for line in figures["problem_compounds"]] == ["清香坪"]
    assert [line["days_overdue"] for line in figures["overdue_rectifications"]] == [
        (street.period.end - street.period.start).days - 5]
    # The other street's compound (a vote, paid bills) counts in nobody's figures here.
    assert "大渡口小区" not in str(figures)
    workbook = load_workbook(io.BytesIO(client.get(f"/api/v1/reports/{report.id}.xlsx",
                                                   headers=_as(client, street.street_official)).data))
    assert workbook.sheetnames == ["三升一降", "小区红黑榜", "企业红黑榜", "问题小区", "逾期整改", "本期整改", "第一书记日志"]
    assert workbook["三升一降"]["B3"].value == HEADLINES["participation"]
    # The street's officials hear of it once.
    notice = db.session.scalar(select(Notice).where(Notice.dedupe_key == f"report-ready-{report.id}"))
    assert notice.kind == "report_ready" and notice.link == f"/h5/reports/{report.id}"
    assert db.session.scalars(select(Notification.user_id).where(Notification.notice_id == notice.id)).all() == [
        street.street_official]


def test_the_cron_run_twice_makes_one_report_per_area_and_period(app, street):
    assert jobs.ask_periodic() == jobs.ask_periodic() == 2 * 5  # monthly and quarterly, for each of the five areas
    run_jobs(app)
    assert jobs.ask_periodic() == 0
    counts = db.session.execute(
        select(Report.area_id, Report.kind, func.count()).group_by(Report.area_id, Report.kind)
    ).all()
    assert {row[2] for row in counts} == {1} and len(counts) == 10


def test_a_rebuild_of_an_unpublished_report_gives_the_same_figures(app, street):
    report = _published(app, street)
    figures = report.figures
    report.status = ReportStatus.FAILED
    report.figures = {}
    db.session.commit()
    assert service.build(report.id) is True
    db.session.refresh(report)
    assert report.figures == figures and report.status is ReportStatus.PUBLISHED


def test_a_published_report_never_changes_when_the_data_does(app, client, street):
    report = _published(app, street)
    headers = _as(client, street.street_official)
    before = [client.get(f"/api/v1/reports/{report.id}", headers=headers).json,
              _report_section(client.get(f"/h5/reports/{report.id}", headers=headers)),
              client.get(f"/api/v1/reports/{report.id}.xlsx", headers=headers).data,
              client.get(f"/api/v1/reports/{report.id}.pdf", headers=headers).data]
    for bill in db.session.scalars(select(Bill).where(Bill.compound_id == street.compound_b)):
        bill.status = BillStatus.PAID
        bill.paid_fen = bill.amount_fen
    db.session.add(DisputeCase(compound_id=street.compound_a, kind=DisputeKind.REPAIR,
                               opened_at=moment_in(street.period, 4)))
    db.session.commit()
    assert service.ask_periodic() and service.build(report.id) is False
    db.session.expire_all()
    after = [client.get(f"/api/v1/reports/{report.id}", headers=headers).json,
             _report_section(client.get(f"/h5/reports/{report.id}", headers=headers)),
             client.get(f"/api/v1/reports/{report.id}.xlsx", headers=headers).data,
             client.get(f"/api/v1/reports/{report.id}.pdf", headers=headers).data]
    assert after == before
    # A fresh computation sees the change: the frozen report is what stayed.
    fresh = service.compute(report.area, ReportKind.MONTHLY, street.period)
    assert {line["key"]: line["display"] for line in fresh["headlines"]}["collection"] == "100.00%"


def test_the_pdf_text_holds_the_area_name_and_the_headline_figures(app, client, street):
    report = _published(app, street)
    pdf = client.get(f"/api/v1/reports/{report.id}.pdf", headers=_as(client, street.district_official))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf.data, capture_output=True,
                          check=True).stdout.decode()
    assert "炳草岗街道" in text
    for label in ("业主参与率", "物业费收缴率", "群众满意率", "新发矛盾纠纷", "金沙苑", "清香坪", "阳光物业"):
        assert label in text
    for figure in HEADLINES.values():
        assert figure in text


def test_an_official_asks_for_a_range_and_it_is_built_by_a_job(app, client, street):
    headers = _as(client, street.district_official)
    today = beijing_date(utcnow())
    start = today - timedelta(days=40)
    response = client.post(f"/api/v1/areas/{street.street_id}/reports", headers=headers,
                           json={"start": start.isoformat(), "end": today.isoformat()})
    assert response.status_code == 202, response.json
    assert (response.json["status"], response.json["kind"], response.json["links"]["pdf"]) == (
        "building", "custom", None)
    report_id = response.json["id"]
    page = client.get(f"/h5/reports/{report_id}", headers=headers)
    assert "通报生成中" in page.get_data(as_text=True)
    assert client.get(f"/api/v1/reports/{report_id}.pdf", headers=headers).status_code == 409
    run_jobs(app)
    body = client.get(f"/api/v1/reports/{report_id}", headers=headers).json
    assert body["status"] == "published" and body["built_by_cron"] is False
    assert body["figures"]["previous"]["end"] == (start - timedelta(days=1)).isoformat()
    listing = client.get(f"/api/v1/areas/{street.street_id}/reports", headers=headers).json
    assert [item["id"] for item in listing["items"]] == [report_id] and listing["total"] == 1


@pytest.mark.parametrize("days", [
    pytest.param((0, -1), id="end-before-start"),
    pytest.param((0, 1), id="ends-in-the-future"),
    pytest.param((-400, -10), id="longer-than-a-year"),
])
def test_an_out_of_bounds_range_is_refused(client, street, days):
    today = beijing_date(utcnow())
    start, end = (today + timedelta(days=days[0]), today + timedelta(days=days[1]))
    response = client.post(f"/api/v1/areas/{street.street_id}/reports", headers=_as(client, street.street_official),
                           json={"start": start.isoformat(), "end": end.isoformat()})
    assert_error_shape(response, 422)
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0


def test_only_officials_of_the_area_and_above_see_its_reports(app, client, street):
    report = _published(app, street)
    today = beijing_date(utcnow()).isoformat()
    paths = [f"/api/v1/reports/{report.id}", f"/api/v1/reports/{report.id}.xlsx", f"/api/v1/reports/{report.id}.pdf",
             f"/api/v1/areas/{street.street_id}/reports"]
    for user_id in (street.street_official, street.district_official):
        for path in paths:
            assert client.get(path, headers=_as(client, user_id)).status_code == 200, path
    for user_id, status in ((street.other_official, 404), (street.owner, 403), (street.staff, 403),
                            (street.community_official, 403)):
        headers = _as(client, user_id)
        for path in paths:
            assert_error_shape(client.get(path, headers=headers), status)
        assert_error_shape(client.post(f"/api/v1/areas/{street.street_id}/reports", headers=headers,
                                       json={"start": today, "end": today}), status)
        assert client.get(f"/h5/reports/{report.id}", headers=headers).status_code == status
        assert client.get(f"/h5/areas/{street.street_id}/reports", headers=headers).status_code == status
    assert_error_shape(client.get(paths[0]), 401)
    assert_error_shape(client.get("/api/v1/reports/2147483647", headers=_as(client, street.street_official)), 404)
    # The other street's own report lists only its compound.
    other = db.session.scalar(select(Report).where(Report.area_id == street.other_street_id,
                                                   Report.kind == ReportKind.MONTHLY))
    service.build(other.id)
    body = client.get(f"/api/v1/reports/{other.id}", headers=_as(client, street.other_official)).json
    assert body["figures"]["compounds"] == 1
