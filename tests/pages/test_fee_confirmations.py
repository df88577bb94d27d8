"""Irreversible actions ask first (issue 15, item 6), as a reviewer probed them: adjusting to ¥0 asks as waiving
does, a reason with markup is escaped and carried exactly, a GET does nothing."""
# ruff: noqa: F811  (the fee and confirmation pages' fixtures are imported by name, then asked for by name)
from __future__ import annotations

import html as html_lib

from backend.domain.bindings import BindingStatus, Relation
from backend.domain.fees import BillStatus
from backend.extensions import db
from backend.models import Bill, BindingRequest
from backend.services import bindings as binding_service
from tests.pages.test_fee_pages import (  # noqa: F401
    bills,
    compound,  # noqa: F401
    households,
    people,
    phone,
    policy,
    travel,
)

NASTY = "\"><script>alert('x')</script> 房号'不符' & <b>"


def test_adjusting_a_bill_to_zero_asks_first_as_waiving_does(compound, people, bills, phone):
    """减免 asks first; 调整金额 to ¥0 makes the bill 已减免 as well, so it asks too, and acts once confirmed."""
    committee = phone(people["committee"])
    path = f"/h5/c/{compound.code}/bills/{bills[2].id}/adjust"
    asked = committee.post(path, data={"csrf_token": committee.csrf, "amount": "0", "reason": "误开"})
    db.session.expire_all()
    assert db.session.get(Bill, bills[2].id).status is BillStatus.UNPAID, asked.status_code
    page = asked.get_data(as_text=True)
    assert 'id="confirm-form"' in page and "减免原因：误开" in page and 'name="amount" value="0"' in page

    done = committee.post(path, data={"csrf_token": committee.csrf, "amount": "0", "reason": "误开", "confirm": "1"})

    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Bill, bills[2].id).status is BillStatus.WAIVED


def test_a_waiver_reason_with_markup_is_escaped_and_carried_exactly(compound, people, bills, phone):
    committee = phone(people["committee"])
    path = f"/h5/c/{compound.code}/bills/{bills[3].id}/waive"
    asked = committee.post(path, data={"csrf_token": committee.csrf, "reason": NASTY})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'id="confirm-form"' in page
    assert "<script>alert" not in page
    hidden = page.split('name="reason" value="', 1)[1].split('">', 1)[0]
    assert html_lib.unescape(hidden) == NASTY
    done = committee.post(path, data={"csrf_token": committee.csrf, "reason": html_lib.unescape(hidden), "confirm": "1"})
    assert done.status_code == 302
    db.session.expire_all()
    waived = db.session.get(Bill, bills[3].id)
    assert (waived.status, waived.adjust_reason) == (BillStatus.WAIVED, NASTY)


def test_a_get_on_an_irreversible_action_does_nothing(compound, people, bills, phone):
    committee = phone(people["committee"])
    for action in ("waive", "adjust"):
        response = committee.get(f"/h5/c/{compound.code}/bills/{bills[3].id}/{action}?reason=x&amount=0&confirm=1")
        assert response.status_code in (302, 404, 405)
    db.session.expire_all()
    assert db.session.get(Bill, bills[3].id).status is BillStatus.UNPAID


def test_a_rejection_reason_with_markup_is_escaped_and_carried_exactly(compound, households, people, phone,
                                                                     make_user):
    committee = phone(people["committee"])
    applicant = make_user()
    home = households[-1]
    binding = binding_service.request_binding(
        user_id=applicant.id, compound_id=compound.id, building_id=home.building_id, unit=home.unit,
        room=home.room, name="张三", relation=Relation.OWNER, ip=None)
    path = f"/h5/bindings/{binding.id}/reject"
    assert committee.get(path + "?reason=x&confirm=1").status_code in (404, 405)
    asked = committee.post(path, data={"csrf_token": committee.csrf, "reason": NASTY})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "<script>alert" not in page
    hidden = html_lib.unescape(page.split('name="reason" value="', 1)[1].split('">', 1)[0])
    assert hidden == NASTY
    committee.post(path, data={"csrf_token": committee.csrf, "reason": hidden, "confirm": "1"})
    db.session.expire_all()
    rejected = db.session.get(BindingRequest, binding.id)
    assert (rejected.status, rejected.reason) == (BindingStatus.REJECTED, NASTY)
