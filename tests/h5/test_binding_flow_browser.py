"""The whole foundation flow in a real browser on a 375 px WeChat phone: scan the compound's QR link,
sign in with WeChat (sandbox), ask to be bound; a committee member approves; the resident sees 已认证,
and, once a worker has run, the 房屋绑定申请已通过 notification in the inbox."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from rq import Queue, SimpleWorker

from backend.domain.roles import Role
from backend.extensions import db
from backend.services import qr as qr_service
from backend.services.queueing import QUEUES
from tests.h5.phone import assert_fits_phone
from tests.support import TEST_PASSWORD

pytestmark = pytest.mark.live



def run_worker(app) -> None:
    """What the worker would do next: run every queued job, here in the test's thread and app context."""
    connection = app.extensions["linli_redis"]
    SimpleWorker([Queue(name, connection=connection) for name in QUEUES], connection=connection).work(
        burst=True, logging_level="WARNING"
    )
    db.session.close()  # release SQLite's locks before the server thread reads or writes again


def test_resident_binds_household_and_committee_approves(
    app, live_server, make_compound, area_tree, make_user, phone, artifacts
):
    compound = make_compound(name="金沙苑小区", area=area_tree[3], buildings=3, households_per_building=6)
    make_user(role=Role.COMMITTEE, compound=compound, username="committee-browser")
    # The printed code points at the public host; the phone here reaches the live test server instead.
    entry = qr_service.entry_url(compound).replace(app.config["LINLI_PUBLIC_URL"], live_server)
    code = compound.code
    db.session.commit()
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes

    resident = phone().new_page()
    resident.goto(entry)
    expect(resident).to_have_url(f"{live_server}/h5/c/{code}")
    expect(resident.locator("h1")).to_have_text("金沙苑小区")
    expect(resident.locator(".ll-tiles")).to_contain_text("报事报修")
    assert_fits_phone(resident)

    resident.locator("header").get_by_role("link", name="登录").click()
    expect(resident.locator("h1")).to_have_text("登录邻里")
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "binding-flow-login.png"), full_page=True)
    resident.get_by_role("link", name="微信一键登录").click()
    expect(resident).to_have_url(f"{live_server}/h5/c/{code}")

    resident.get_by_role("link", name="申请绑定房屋").click()
    expect(resident.locator("h1")).to_have_text("绑定房屋")
    assert_fits_phone(resident)
    form = resident.locator("#bind-form")
    form.locator("select[name=building_id]").select_option(label="2栋")
    form.locator("input[name=unit]").fill("1")
    form.locator("input[name=room]").fill("301")
    form.locator("input[name=name]").fill("张秀英")
    resident.screenshot(path=str(artifacts / "binding-flow-bind-form.png"), full_page=True)
    form.get_by_role("button", name="提交申请").click()

    expect(resident).to_have_url(f"{live_server}/h5/c/{code}")
    expect(resident.locator("#my-households")).to_contain_text("2栋1单元301室")
    expect(resident.locator("#my-households")).to_contain_text("待审核")
    resident.screenshot(path=str(artifacts / "binding-flow-resident-pending.png"), full_page=True)

    reviewer = phone().new_page()
    reviewer.goto(f"{live_server}/h5/login?next=/h5/c/{code}")
    password_form = reviewer.locator("#password-form")
    password_form.locator("input[name=username]").fill("committee-browser")
    password_form.locator("input[name=password]").fill(TEST_PASSWORD)
    password_form.get_by_role("button", name="登录").click()
    expect(reviewer).to_have_url(f"{live_server}/h5/c/{code}")

    reviewer.get_by_role("link", name=re.compile("住户认证审核")).click()
    card = reviewer.locator(".ll-card", has_text="2栋1单元301室")
    expect(card).to_contain_text("张秀英（业主）")
    assert_fits_phone(reviewer)
    reviewer.screenshot(path=str(artifacts / "binding-flow-committee.png"), full_page=True)
    card.get_by_role("button", name="通过", exact=True).click()
    expect(reviewer.locator(".ll-flash")).to_have_text("已通过认证")
    expect(reviewer.locator(".ll-empty")).to_have_text("暂无申请")
    run_worker(app)

    resident.reload()
    households = resident.locator("#my-households")
    expect(households).to_contain_text("2栋1单元301室")
    expect(households).to_contain_text("业主 · 已认证")
    expect(households).not_to_contain_text("待审核")
    expect(resident.locator("#inbox-link .weui-badge")).to_have_text("1")
    expect(resident.locator("#home-inbox-link .weui-badge")).to_have_text("1")
    resident.screenshot(path=str(artifacts / "binding-flow-resident.png"), full_page=True)

    resident.locator("#inbox-link").click()
    expect(resident).to_have_url(f"{live_server}/h5/inbox")
    expect(resident.locator("h1")).to_have_text("我的消息")
    notification = resident.locator(".ll-inbox__item").first
    expect(notification).to_contain_text("您的房屋绑定申请已通过")
    expect(notification).to_contain_text("2栋1单元301室")
    expect(notification).to_have_class(re.compile(r"\bll-inbox__item_unread\b"))
    expect(resident.locator("#settings")).to_have_text("消息设置")
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "inbox.png"), full_page=True)

    # Opening it marks it read and leads to the compound home; the badge is gone.
    notification.click()
    expect(resident).to_have_url(f"{live_server}/h5/c/{code}")
    expect(resident.locator("#inbox-link .weui-badge")).to_have_count(0)

    # 适老化: the same home in large text still fits the phone.
    resident.get_by_role("button", name="大字模式").click()
    expect(resident.locator("body")).to_have_class(re.compile(r"\blarge-text\b"))
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "binding-flow-resident-large-text.png"), full_page=True)
    resident.locator("#inbox-link").click()
    expect(resident.locator(".ll-inbox__item").first).not_to_have_class(re.compile(r"\bll-inbox__item_unread\b"))
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "inbox-large-text.png"), full_page=True)
