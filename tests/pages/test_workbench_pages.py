"""The compound home for staff (我的待办, accept in one tap), the bind button by standing, the call buttons, the
reporter's phone shown on request, the visit time, and the phone settings page."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from sqlalchemy import select

from backend.domain.roles import Role
from backend.domain.workorders import Status, Urgency
from backend.extensions import db
from backend.models import AuditEvent, Compound, Household, WorkOrder
from backend.services import workorders as workorder_service
from backend.shared.clock import beijing_date, utcnow
from tests.support import first_household


@pytest.fixture
def compound(make_compound):
    return make_compound(name="金沙苑小区")


@pytest.fixture
def households(compound):
    return list(db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                   .order_by(Household.id)))


@pytest.fixture
def browser(app, page_sign_in):
    def open_as(user):
        phone = app.test_client()
        phone.csrf = page_sign_in(phone, user)
        phone.user = user
        return phone

    return open_as


@pytest.fixture
def resident_user(compound, make_user, households):
    return make_user(role=Role.OWNER, compound=compound, household=households[0], phone="13812341234")


@pytest.fixture
def resident(resident_user, browser):
    return browser(resident_user)


@pytest.fixture
def staff(compound, make_user, browser):
    return browser(make_user(role=Role.STAFF, compound=compound))


@pytest.fixture
def manager(compound, make_user, browser):
    return browser(make_user(role=Role.MANAGER, compound=compound))


def html(response) -> str:
    return response.get_data(as_text=True)


def file_order(user, compound, category="水电维修", urgency=Urgency.NORMAL, description="厨房水管漏水", **place):
    place = place or {"location_text": "东门"}
    return workorder_service.submit_order(user_id=user.id, compound_id=compound.id, category=category,
                                          description=description, urgency=urgency, **place)


def home(phone, compound) -> str:
    response = phone.get(f"/h5/c/{compound.code}")
    assert response.status_code == 200, html(response)[:300]
    return html(response)


def workbench_of(page: str) -> str:
    assert 'id="workbench"' in page
    return page.split('id="workbench"', 1)[1].split("</section>", 1)[0]


# ---- 我的待办 ---------------------------------------------------------------------------------------------------


def test_staff_land_on_their_workbench_and_accept_from_it(staff, resident_user, compound):
    with time_machine.travel(utcnow() - timedelta(hours=2)):
        burst = file_order(resident_user, compound, urgency=Urgency.URGENT, description="总水管爆裂").id
    routine = file_order(resident_user, compound, category="绿化", description="树枝挡路").id

    bench = workbench_of(home(staff, compound))
    assert "我的待办" in home(staff, compound).split('id="workbench"', 1)[1][:200]
    assert re.search(r'id="wb-to-accept">2<', bench) and re.search(r'id="wb-overdue">1<', bench)
    assert [int(i) for i in re.findall(r'data-order="(\d+)"', bench)] == [burst, routine]
    assert f'/h5/c/{compound.code}/workbench/{burst}/accept' in bench
    # The form carries the page's CSRF value itself: one tap, no script.
    assert f'name="csrf_token" value="{staff.csrf}"' in bench

    response = staff.post(f"/h5/c/{compound.code}/workbench/{burst}/accept", data={"csrf_token": staff.csrf})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == f"/h5/c/{compound.code}"
    order = db.session.get(WorkOrder, burst)
    db.session.refresh(order)
    assert order.status is Status.ACCEPTED and order.assignee_id == staff.user.id
    after = home(staff, compound)
    assert f"已受理：水电维修 #{burst}" in after
    assert f'/workbench/{burst}/accept' not in workbench_of(after)


def test_accepting_twice_from_the_workbench_is_refused_kindly(staff, resident_user, compound, make_user, browser):
    order_id = file_order(resident_user, compound).id
    other = browser(make_user(role=Role.STAFF, compound=compound))
    assert staff.post(f"/h5/c/{compound.code}/workbench/{order_id}/accept",
                      data={"csrf_token": staff.csrf}).status_code == 302
    late = other.post(f"/h5/c/{compound.code}/workbench/{order_id}/accept", data={"csrf_token": other.csrf})
    assert late.status_code in (403, 409)


def test_the_workbench_accept_of_another_compounds_order_is_404(staff, compound, make_compound, make_user):
    other = make_compound()
    outsider = make_user(role=Role.OWNER, compound=other, household=first_household(other))
    order_id = file_order(outsider, other).id
    assert staff.post(f"/h5/c/{compound.code}/workbench/{order_id}/accept",
                      data={"csrf_token": staff.csrf}).status_code == 404
    assert staff.post(f"/h5/c/{other.code}/workbench/{order_id}/accept",
                      data={"csrf_token": staff.csrf}).status_code == 404


def test_the_manager_sees_the_unassigned(manager, resident_user, compound):
    order_id = file_order(resident_user, compound).id
    page = home(manager, compound)
    assert 'id="workbench-unassigned"' in page
    assert f'data-order="{order_id}"' in page.split('id="workbench-unassigned"', 1)[1]


def test_residents_have_no_workbench(resident, compound):
    assert 'id="workbench"' not in home(resident, compound)


def test_staff_at_their_workbench_get_the_small_bind_link(staff, compound):
    page = home(staff, compound)
    assert 'weui-btn weui-btn_primary" id="bind-link"' not in page
    # Staff living elsewhere have no house here yet: the link does not speak of "another" one.
    assert re.search(r'<a class="ll-link" id="bind-link"[^>]*>绑定我的房屋</a>', page)


# ---- the bind button --------------------------------------------------------------------------------------------


def test_a_verified_resident_keeps_only_a_small_bind_link(resident, compound, make_user, browser):
    page = home(resident, compound)
    assert 'weui-btn weui-btn_primary" id="bind-link"' not in page
    assert re.search(r'<a class="ll-link" id="bind-link"[^>]*>绑定其他房屋</a>', page)
    newcomer = browser(make_user(role=Role.VISITOR, compound=compound))
    assert re.search(r'class="weui-btn weui-btn_primary" id="bind-link"[^>]*>申请绑定房屋<', home(newcomer, compound))


# ---- call buttons ----------------------------------------------------------------------------------------------


def test_call_buttons_on_the_home_page_and_every_order_page(resident, staff, resident_user, compound):
    compound_row = db.session.get(Compound, compound.id)
    compound_row.service_phone, compound_row.committee_phone = "0812-3334567", "13900001111"
    db.session.commit()
    order_id = file_order(resident_user, compound).id

    for phone, path in ((resident, f"/h5/c/{compound.code}"), (resident, f"/h5/work-orders/{order_id}"),
                        (resident, f"/h5/c/{compound.code}/work-orders"),
                        (resident, f"/h5/c/{compound.code}/work-orders/new"),
                        (staff, f"/h5/c/{compound.code}/work-orders/queue")):
        page = html(phone.get(path))
        assert 'href="tel:08123334567"' in page, path
        # The committee did not choose to show its number.
        assert "tel:13900001111" not in page, path


def test_the_manager_and_committee_set_their_numbers_on_the_settings_page(manager, compound, make_user, browser,
                                                                          resident):
    committee = browser(make_user(role=Role.COMMITTEE, compound=compound))
    url = f"/h5/c/{compound.code}/contact-phones"
    assert 'name="committee_phone"' not in html(manager.get(url))
    refused = manager.post(url, data={"csrf_token": manager.csrf, "service_phone": "12345"})
    assert refused.status_code == 422 and "请输入正确的电话号码" in html(refused)
    assert manager.post(url, data={"csrf_token": manager.csrf, "service_phone": "400 123 4567"}).status_code == 302
    assert committee.post(url, data={"csrf_token": committee.csrf, "committee_phone": "13900001111",
                                     "committee_phone_public": "1"}).status_code == 302

    page = home(resident, compound)
    assert 'href="tel:4001234567"' in page and 'href="tel:13900001111"' in page
    assert resident.get(url).status_code == 403
    # Unticking the box hides the committee's number again, the service phone stays.
    committee.post(url, data={"csrf_token": committee.csrf, "committee_phone": "13900001111"})
    page = home(resident, compound)
    assert "tel:13900001111" not in page and "tel:4001234567" in page


# ---- the reporter's phone -------------------------------------------------------------------------------------------


def test_the_assigned_staff_reveals_the_reporters_phone(staff, manager, resident_user, compound, make_user, browser):
    other = browser(make_user(role=Role.STAFF, compound=compound))
    order_id = file_order(resident_user, compound).id
    staff.post(f"/h5/work-orders/{order_id}/accept", data={"csrf_token": staff.csrf})

    page = html(staff.get(f"/h5/work-orders/{order_id}"))
    assert "138****1234" in page and 'id="reveal-phone"' in page and "13812341234" not in page
    revealed = staff.post(f"/h5/work-orders/{order_id}/reporter-phone", data={"csrf_token": staff.csrf})
    assert revealed.status_code == 200
    assert re.search(r'<a class="ll-link" href="tel:13812341234" id="reporter-tel">', html(revealed))

    theirs = html(other.get(f"/h5/work-orders/{order_id}"))
    assert "138****1234" in theirs and 'id="reveal-phone"' not in theirs
    assert other.post(f"/h5/work-orders/{order_id}/reporter-phone", data={"csrf_token": other.csrf}).status_code == 403
    assert 'id="reveal-phone"' in html(manager.get(f"/h5/work-orders/{order_id}"))
    audited = db.session.scalars(select(AuditEvent.actor_id).where(AuditEvent.action == "work_order.reveal_phone"))
    assert list(audited) == [staff.user.id]


# ---- the visit time ----------------------------------------------------------------------------------------------


def test_a_resident_books_a_visit_time_and_staff_see_it(resident, staff, compound, households):
    day = beijing_date(utcnow()) + timedelta(days=2)
    response = resident.post(f"/h5/c/{compound.code}/work-orders/new", data={
        "csrf_token": resident.csrf, "category": "水电维修", "place": str(households[0].id),
        "description": "厨房水管漏水", "urgency": "normal", "visit_date": day.isoformat(), "visit_half_day": "am",
    }, content_type="multipart/form-data")
    assert response.status_code == 302, html(response)[:500]
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    label = f"{day.month}月{day.day}日 上午"
    assert label in html(staff.get(f"/h5/work-orders/{order_id}"))
    assert label in workbench_of(home(staff, compound))


def test_a_visit_time_too_far_ahead_comes_back_on_the_form(resident, compound, households):
    day = beijing_date(utcnow()) + timedelta(days=40)
    response = resident.post(f"/h5/c/{compound.code}/work-orders/new", data={
        "csrf_token": resident.csrf, "category": "水电维修", "place": str(households[0].id),
        "description": "厨房水管漏水", "urgency": "normal", "visit_date": day.isoformat(), "visit_half_day": "am",
    }, content_type="multipart/form-data")
    assert response.status_code == 422 and "预约日期请选今天起30天内" in html(response)


def test_a_common_area_report_ignores_a_visit_left_on_the_form(resident, compound):
    day = beijing_date(utcnow()) + timedelta(days=2)
    response = resident.post(f"/h5/c/{compound.code}/work-orders/new", data={
        "csrf_token": resident.csrf, "category": "公共设施", "place": "common", "location_text": "东门",
        "description": "门禁坏了", "urgency": "normal", "visit_date": day.isoformat(), "visit_half_day": "am",
    }, content_type="multipart/form-data")
    assert response.status_code == 302, html(response)[:500]
    order = db.session.get(WorkOrder, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert order.visit_date is None
