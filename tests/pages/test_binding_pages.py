"""Household binding through the pages: the resident's request form and the committee's approval list."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from backend.domain.roles import Role
from backend.extensions import db
from backend.models import BindingRequest
from tests.support import buildings_of, first_household

PHONE = "13812345678"


@pytest.fixture
def compound(make_compound):
    return make_compound(name="金沙苑小区")


@pytest.fixture
def resident(app, compound, make_user, scan, page_sign_in):
    """A browser of someone who scanned the compound's code and signed in; `.csrf` is its form token."""
    browser = app.test_client()
    scan(browser, compound)
    browser.csrf = page_sign_in(browser, make_user(phone=PHONE))
    return browser


@pytest.fixture
def committee(app, compound, make_user, page_sign_in):
    browser = app.test_client()
    browser.csrf = page_sign_in(browser, make_user(role=Role.COMMITTEE, compound=compound))
    return browser


def bind_form(compound, **overrides) -> dict:
    building = buildings_of(compound)[0]
    return {"building_id": str(building.id), "unit": "1", "room": "201", "name": "张三", "relation": "owner"} | overrides


def request_binding(browser, compound, **overrides):
    data = bind_form(compound, **overrides) | {"csrf_token": browser.csrf}
    return browser.post(f"/h5/c/{compound.code}/bind", data=data)


def my_households(browser, compound) -> str:
    response = browser.get(f"/h5/c/{compound.code}")
    assert response.status_code == 200
    return response.get_data(as_text=True).split('id="my-households"', 1)[1].split('class="weui-btn-area"', 1)[0]


def from_the_list(compound) -> dict[str, str]:
    """A decision posted from the review list, as the browser names the page it posts from: a refusal goes back
    there with its message."""
    return {"Referer": f"http://localhost/h5/c/{compound.code}/bindings"}


def pending_ids(browser, compound) -> list[int]:
    response = browser.get(f"/h5/c/{compound.code}/bindings")
    assert response.status_code == 200
    return [int(i) for i in re.findall(r'data-binding="(\d+)"', response.get_data(as_text=True))]


def test_bind_form_requires_sign_in(client, compound, scan):
    scan(client, compound)
    response = client.get(f"/h5/c/{compound.code}/bind")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/h5/login"
    assert parse_qs(location.query)["next"] == [f"/h5/c/{compound.code}/bind"]


def test_bind_form_lists_the_compounds_buildings(resident, compound, make_compound):
    other = make_compound()
    html = resident.get(f"/h5/c/{compound.code}/bind").get_data(as_text=True)
    for building in buildings_of(compound):
        assert re.search(rf'<option value="{building.id}"[^>]*>{building.name}</option>', html)
    for building in buildings_of(other):
        assert f'value="{building.id}"' not in html
    assert f'name="csrf_token" value="{resident.csrf}"' in html


def test_signed_in_stranger_without_scan_cannot_open_bind_form(app, compound, make_user, page_sign_in):
    browser = app.test_client()
    page_sign_in(browser, make_user())
    assert browser.get(f"/h5/c/{compound.code}/bind").status_code == 404


def test_bind_without_csrf_token_is_refused(resident, compound):
    response = resident.post(f"/h5/c/{compound.code}/bind", data=bind_form(compound))
    assert response.status_code == 403 and response.mimetype == "text/html"
    assert "安全校验失败" in response.get_data(as_text=True)
    assert "尚未绑定房屋" in my_households(resident, compound)


def test_bind_with_forged_csrf_token_is_refused(resident, compound):
    response = resident.post(f"/h5/c/{compound.code}/bind", data=bind_form(compound) | {"csrf_token": "forged"})
    assert response.status_code == 403


def test_bind_request_shows_pending_on_home(resident, compound):
    response = request_binding(resident, compound)
    assert response.status_code == 302 and response.headers["Location"] == f"/h5/c/{compound.code}"
    home = resident.get(f"/h5/c/{compound.code}").get_data(as_text=True)
    assert "绑定申请已提交，请等待小区审核" in home
    mine = home.split('id="my-households"', 1)[1]
    assert "1栋1单元201室" in mine and "待审核" in mine


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"room": ""}, "请填写房号"),
        ({"name": "   "}, "请填写姓名"),
        ({"unit": "1" * 17}, "单元不能超过16个字"),
        ({"relation": "landlord"}, "请选择身份"),
        ({"building_id": "abc"}, "请选择楼栋"),
        ({"building_id": "99999999999999999999"}, "请选择楼栋"),
        ({"building_id": "²"}, "请选择楼栋"),
        ({"building_id": "2147483647"}, "找不到该房屋"),
        ({"room": "9901"}, "找不到该房屋"),
    ],
)
def test_invalid_bind_input_shows_chinese_error_and_keeps_input(resident, compound, overrides, message):
    response = request_binding(resident, compound, **overrides)
    # The form's input refused by the schema (422), or no such household here (409, as the API answers it).
    assert response.status_code == (409 if message == "找不到该房屋" else 422) and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert message in html
    assert 'value="张三"' in html or overrides.get("name") is not None
    assert "尚未绑定房屋" in my_households(resident, compound)


def test_building_of_another_compound_is_refused(resident, compound, make_compound):
    foreign = buildings_of(make_compound())[0]
    response = request_binding(resident, compound, building_id=str(foreign.id))
    assert response.status_code == 409 and "找不到该房屋" in response.get_data(as_text=True)


def test_second_request_for_same_household_is_refused(resident, compound):
    assert request_binding(resident, compound).status_code == 302
    response = request_binding(resident, compound)
    # A conflict with the request already made (409), as the API answers it; the form comes back.
    assert response.status_code == 409
    assert "已提交过该房屋的绑定申请" in response.get_data(as_text=True)


def test_committee_sees_pending_request_with_masked_phone(resident, committee, compound):
    request_binding(resident, compound, name="李四", relation="tenant")
    html = committee.get(f"/h5/c/{compound.code}/bindings").get_data(as_text=True)
    assert "共 1 条" in html
    assert "1栋1单元201室" in html and "李四（租户/同住人）" in html
    assert "138****5678" in html and PHONE not in html
    assert 'class="weui-badge">1<' in committee.get(f"/h5/c/{compound.code}").get_data(as_text=True)


def test_committee_approves_and_resident_sees_verified(resident, committee, compound):
    request_binding(resident, compound)
    [binding_id] = pending_ids(committee, compound)

    response = committee.post(f"/h5/bindings/{binding_id}/approve", data={"csrf_token": committee.csrf})
    assert response.status_code == 302 and response.headers["Location"] == f"/h5/c/{compound.code}/bindings"
    listing = committee.get(response.headers["Location"]).get_data(as_text=True)
    assert "已通过认证" in listing and "暂无申请" in listing
    approved = committee.get(f"/h5/c/{compound.code}/bindings?status=approved").get_data(as_text=True)
    assert f'data-binding="{binding_id}"' in approved

    mine = my_households(resident, compound)
    assert "1栋1单元201室" in mine and "业主 · 已认证" in mine and "待审核" not in mine


def test_approve_without_csrf_token_changes_nothing(resident, committee, compound):
    request_binding(resident, compound)
    [binding_id] = pending_ids(committee, compound)
    assert committee.post(f"/h5/bindings/{binding_id}/approve").status_code == 403
    assert pending_ids(committee, compound) == [binding_id]


def test_reject_without_reason_warns_and_stays_pending(resident, committee, compound):
    request_binding(resident, compound)
    [binding_id] = pending_ids(committee, compound)

    response = committee.post(f"/h5/bindings/{binding_id}/reject", data={"csrf_token": committee.csrf, "reason": "  "},
                              headers=from_the_list(compound))
    assert response.status_code == 303
    listing = committee.get(response.headers["Location"]).get_data(as_text=True)
    assert 'll-flash_warn' in listing and "请填写不通过的原因" in listing
    assert pending_ids(committee, compound) == [binding_id]
    assert "待审核" in my_households(resident, compound)


def test_rejection_reason_is_shown_to_resident(resident, committee, compound):
    request_binding(resident, compound)
    [binding_id] = pending_ids(committee, compound)

    committee.post(f"/h5/bindings/{binding_id}/reject",
                   data={"csrf_token": committee.csrf, "reason": "房号与产权登记不符", "confirm": "1"})
    assert pending_ids(committee, compound) == []
    mine = my_households(resident, compound)
    assert "未通过" in mine and "原因：房号与产权登记不符" in mine


def test_decided_request_cannot_be_decided_again(resident, committee, compound):
    request_binding(resident, compound)
    [binding_id] = pending_ids(committee, compound)
    committee.post(f"/h5/bindings/{binding_id}/approve", data={"csrf_token": committee.csrf})

    response = committee.post(f"/h5/bindings/{binding_id}/reject", data={"csrf_token": committee.csrf, "reason": "晚了"},
                              headers=from_the_list(compound))
    assert response.status_code == 303
    assert "ll-flash_warn" in committee.get(response.headers["Location"]).get_data(as_text=True)
    assert "业主 · 已认证" in my_households(resident, compound)


def test_residents_cannot_review_bindings(resident, compound, app, make_user, page_sign_in):
    request_binding(resident, compound)
    owner = app.test_client()
    csrf = page_sign_in(owner, make_user(role=Role.OWNER, compound=compound, household=first_household(compound)))
    assert owner.get(f"/h5/c/{compound.code}/bindings").status_code == 403
    binding_id = db.session.scalar(db.select(BindingRequest.id))
    assert owner.post(f"/h5/bindings/{binding_id}/approve", data={"csrf_token": csrf}).status_code == 403
    assert "待审核" in my_households(resident, compound)


def test_committee_of_another_compound_sees_nothing(resident, compound, app, make_compound, make_user, page_sign_in):
    request_binding(resident, compound)
    binding_id = db.session.scalar(db.select(BindingRequest.id))
    outsider = app.test_client()
    csrf = page_sign_in(outsider, make_user(role=Role.COMMITTEE, compound=make_compound()))
    assert outsider.get(f"/h5/c/{compound.code}/bindings").status_code == 404
    assert outsider.post(f"/h5/bindings/{binding_id}/approve", data={"csrf_token": csrf}).status_code == 404
    assert "待审核" in my_households(resident, compound)


def test_unknown_binding_is_not_found(committee):
    response = committee.post("/h5/bindings/2147483647/approve", data={"csrf_token": committee.csrf})
    assert response.status_code == 404 and "没有找到" in response.get_data(as_text=True)
    assert committee.post("/h5/bindings/99999999999/approve", data={"csrf_token": committee.csrf}).status_code == 404


def test_anonymous_review_list_and_decision_go_to_sign_in(client, compound):
    for response in (client.get(f"/h5/c/{compound.code}/bindings"), client.post("/h5/bindings/1/approve")):
        assert response.status_code == 302
        assert urlsplit(response.headers["Location"]).path == "/h5/login"


def test_review_list_shows_times_in_shanghai(resident, committee, compound):
    request_binding(resident, compound)
    binding = db.session.scalar(db.select(BindingRequest))
    # 16:30 UTC is 00:30 the next day in Beijing.
    binding.created_at = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)
    db.session.commit()
    html = committee.get(f"/h5/c/{compound.code}/bindings").get_data(as_text=True)
    assert "2026-03-02 00:30" in html and "2026-03-01 16:30" not in html


def test_review_page_reads_without_javascript(resident, committee, compound):
    request_binding(resident, compound, name="王五")
    html = committee.get(f"/h5/c/{compound.code}/bindings").get_data(as_text=True)
    without_scripts = re.sub(r"<script\b.*?</script>", "", html, flags=re.S | re.I)
    assert "王五（业主）" in without_scripts and "1栋1单元201室" in without_scripts
    # Decisions are plain HTML forms: they work with JavaScript off too.
    assert re.search(r'<form method="post" action="/h5/bindings/\d+/approve">', without_scripts)
