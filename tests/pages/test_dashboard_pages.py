"""The officials' dashboard page: the landing links to it, it shows the area's figures and drills down to child
areas and compounds, the table filters and pages by query string (no JavaScript), and a commit that touches a
compound's bills or orders queues that compound's refresh, which the page then shows."""
from __future__ import annotations

from rq import Queue
from rq.job import Job

from backend.domain.compounds import AreaLevel, ManagementModel
from backend.domain.fees import PaymentMethod
from backend.domain.roles import Role
from backend.extensions import db
from backend.jobs import dashboard as dashboard_jobs
from backend.services import dashboard
from backend.services import payments as payment_service
from backend.shared.clock import beijing_date, utcnow
from tests.fees_support import issue_bills_for, make_schedule


def test_an_official_lands_on_the_dashboard_and_drills_down(client, area_tree, make_area, make_compound, make_user,
                                                            page_sign_in):
    _city, district, street, community = area_tree
    second = make_area("第二社区", AreaLevel.COMMUNITY, street)
    jinsha = make_compound(name="金沙苑", area=community)
    make_compound(name="信托小区", area=second, model=ManagementModel.TRUST)
    other_street = make_area(level=AreaLevel.STREET, parent=district)
    dashboard.refresh()
    page_sign_in(client, make_user(role=Role.OFFICIAL, area=street))

    landing = client.get("/h5/").get_data(as_text=True)
    assert f'/h5/areas/{street.id}/dashboard' in landing
    page = client.get(f"/h5/areas/{street.id}/dashboard")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "金沙苑" in text and "信托小区" in text and "更新于" in text
    assert f'/h5/areas/{community.id}/dashboard' in text and f'/h5/c/{jinsha.code}' in text
    drilled = client.get(f"/h5/areas/{community.id}/dashboard").get_data(as_text=True)
    assert "金沙苑" in drilled and "信托小区" not in drilled
    filtered = client.get(f"/h5/areas/{street.id}/dashboard?model=trust&sort=overdue").get_data(as_text=True)
    assert "信托小区" in filtered and "金沙苑" not in filtered.split('id="compound-table"')[1]
    by_area = client.get(f"/h5/areas/{street.id}/dashboard?street={second.id}").get_data(as_text=True)
    assert "金沙苑" not in by_area.split('id="compound-table"')[1]
    paged = client.get(f"/h5/areas/{street.id}/dashboard?page_size=1").get_data(as_text=True)
    assert 'id="next-page"' in paged and "page=2" in paged
    assert client.get(f"/h5/areas/{street.id}/dashboard?sort=nonsense").status_code == 422
    assert client.get(f"/h5/areas/{other_street.id}/dashboard").status_code == 404


def test_a_payment_queues_the_compounds_refresh(client, area_tree, make_compound, make_user):
    _city, _district, street, community = area_tree
    jinsha = make_compound(name="金沙苑", area=community)
    staff = make_user(role=Role.STAFF, compound=jinsha)
    month = beijing_date(utcnow()).replace(day=1)
    make_schedule(jinsha, effective_from=month)
    bills = issue_bills_for(jinsha, month)
    dashboard.refresh([jinsha.id])
    before = dashboard.compound_lines(street).items[0].figures.period_paid_households

    payment_service.record_offline_payment(bills[0].id, PaymentMethod.CASH, bills[0].amount_fen - bills[0].subsidy_fen,
                                           "No.0001", staff.id, None)
    slot = dashboard.refresh_slot(utcnow())
    job = Job.fetch(dashboard.refresh_job_id(jinsha.id, slot), connection=client.application.extensions["linli_redis"])
    assert list(job.args) == [jinsha.id] and job.func_name == dashboard.REFRESH_JOB and slot > utcnow()
    # A second commit within the minute asks for the same job: still one.
    payment_service.record_offline_payment(bills[1].id, PaymentMethod.CASH, bills[1].amount_fen - bills[1].subsidy_fen,
                                           "No.0002", staff.id, None)
    assert Queue("low", connection=client.application.extensions["linli_redis"]).scheduled_job_registry.get_job_ids() \
        == [job.id]
    dashboard_jobs.refresh_compound(jinsha.id)
    db.session.expire_all()
    assert dashboard.compound_lines(street).items[0].figures.period_paid_households == before + 2
