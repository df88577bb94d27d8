"""A work order (报事报修) from start to finish in a real browser on a 375 px WeChat phone: the resident reports
with a photo; staff accept, start and close it with a photo; the resident answers 未解决; staff close it again;
the resident confirms 已解决 and rates 5 stars; the compound's public figures change."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from backend.domain.roles import Role
from backend.extensions import db
from backend.integrations.storage import LocalDiskStorage
from backend.services import qr as qr_service
from backend.services.photos import STORAGE_EXTENSION
from tests import photo_samples
from tests.h5.phone import assert_fits_phone
from tests.support import TEST_PASSWORD, first_household

pytestmark = pytest.mark.live



def photo_file(name: str) -> dict:
    return {"name": name, "mimeType": "image/jpeg", "buffer": photo_samples.camera_jpeg(texture=True).data}


def sign_in(page: Page, live_server: str, username: str, next_path: str) -> None:
    page.goto(f"{live_server}/h5/login?next={next_path}")
    form = page.locator("#password-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(TEST_PASSWORD)
    form.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server}{next_path}")


def assert_photos_load(page: Page, count: int) -> None:
    images = page.locator("#timeline img")
    expect(images).to_have_count(count)
    for index in range(count):
        images.nth(index).scroll_into_view_if_needed()
        assert images.nth(index).evaluate("img => img.complete && img.naturalWidth > 0")


def figure(page: Page, name: str):
    return page.locator(f"#figure-{name}")


def test_order_from_photo_to_rated_and_counted(
    app, live_server, make_compound, area_tree, make_user, phone, artifacts, tmp_path, monkeypatch
):
    monkeypatch.setitem(app.extensions, STORAGE_EXTENSION, LocalDiskStorage(tmp_path / "photos"))
    compound = make_compound(name="金沙苑小区", area=area_tree[3], buildings=3, households_per_building=6)
    make_user(role=Role.OWNER, compound=compound, household=first_household(compound), username="wo-resident")
    make_user(role=Role.STAFF, compound=compound, username="wo-staff")
    make_user(role=Role.COMMITTEE, compound=compound, username="wo-committee")
    entry = qr_service.entry_url(compound).replace(app.config["LINLI_PUBLIC_URL"], live_server)
    code = compound.code
    db.session.commit()
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes

    # A neighbour who only scanned the poster reads the public figures: nothing yet this month.
    visitor = phone().new_page()
    visitor.goto(entry)
    visitor.goto(f"{live_server}/h5/c/{code}/work-orders/figures")
    expect(visitor.locator("h1")).to_have_text("报修公开数据")
    expect(figure(visitor, "orders")).to_have_text("0")
    expect(figure(visitor, "rating")).to_have_text("—")
    assert_fits_phone(visitor)

    # The resident reports a broken stair light with a photo.
    resident = phone().new_page()
    sign_in(resident, live_server, "wo-resident", f"/h5/c/{code}")
    resident.locator("#work-orders-link").click()
    expect(resident.locator("h1")).to_have_text("我的报修")
    resident.get_by_role("link", name="我要报修").click()
    expect(resident.locator("h1")).to_have_text("我要报修")
    form = resident.locator("#work-order-form")
    form.locator("select[name=category]").select_option("公共设施")
    form.locator("label", has_text="小区公共区域").click()
    form.locator("select[name=building_id]").select_option(label="2栋")
    form.locator("input[name=location_text]").fill("2单元3楼楼道")
    form.locator("textarea[name=description]").fill("楼道灯不亮已有三天，晚上上下楼看不见")
    form.locator("input[name=photos]").set_input_files([photo_file("IMG_stairs.jpg")])
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "workorder-submit-form.png"), full_page=True)
    form.get_by_role("button", name="提交报修").click()

    expect(resident).to_have_url(re.compile(rf"{live_server}/h5/work-orders/\d+$"))
    order_url = resident.url
    expect(resident.locator(".ll-flash")).to_have_text("报修已提交，物业会尽快受理")
    expect(resident.locator("#order-state")).to_contain_text("待受理")
    expect(resident.locator("#order-facts")).to_contain_text("2栋 公共区域 · 2单元3楼楼道")
    assert_photos_load(resident, 1)
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "workorder-resident-detail.png"), full_page=True)

    # Staff take it from their queue, one big button at a time, and close it with an after-photo.
    worker = phone().new_page()
    sign_in(worker, live_server, "wo-staff", f"/h5/c/{code}/work-orders/queue")
    expect(worker.locator("h1")).to_have_text("我的待办")
    row = worker.locator("#queue .ll-wo-row").first
    expect(row).to_contain_text("公共设施")
    expect(row).to_contain_text("受理时限")
    assert_fits_phone(worker)
    worker.screenshot(path=str(artifacts / "workorder-staff-queue.png"), full_page=True)
    row.click()
    expect(worker).to_have_url(order_url)
    actions = worker.locator("#staff-actions")
    accept = actions.get_by_role("button", name="受理", exact=True)
    # One-handed use: the main buttons span the phone's width and are tall enough for a thumb.
    box = accept.bounding_box()
    assert box["width"] >= 330 and box["height"] >= 48, box
    accept.click()
    expect(worker.locator(".ll-flash")).to_have_text("已受理")
    actions.get_by_role("button", name="开始处理").click()
    expect(worker.locator(".ll-flash")).to_have_text("已开始处理")
    close_form = worker.locator("#close-form")
    close_form.locator("textarea[name=note]").fill("已更换楼道灯泡")
    close_form.locator("input[name=photos]").set_input_files([photo_file("IMG_fixed.jpg")])
    assert_fits_phone(worker)
    worker.screenshot(path=str(artifacts / "workorder-staff-detail.png"), full_page=True)
    close_form.get_by_role("button", name="办结").click()
    expect(worker.locator(".ll-flash")).to_have_text("已办结，等待居民确认")
    expect(worker.locator("#order-state")).to_contain_text("已办结")

    # The resident sees the after-photo, but the light is still out: 未解决 reopens the order.
    resident.reload()
    assert_photos_load(resident, 2)
    expect(resident.locator("#timeline")).to_contain_text("已更换楼道灯泡")
    dispute = resident.locator("#dispute-form")
    dispute.locator("textarea[name=note]").fill("换了灯泡还是不亮，可能是线路问题")
    dispute.get_by_role("button", name="未解决").click()
    expect(resident.locator(".ll-flash")).to_have_text("已反馈未解决，工单重新处理")
    expect(resident.locator("#order-state")).to_contain_text("处理中")

    worker.reload()
    expect(worker.locator("#timeline")).to_contain_text("换了灯泡还是不亮")
    close_form = worker.locator("#close-form")
    close_form.locator("textarea[name=note]").fill("已更换老化线路，灯已亮")
    close_form.get_by_role("button", name="办结").click()
    expect(worker.locator(".ll-flash")).to_have_text("已办结，等待居民确认")

    # Now it works: the resident confirms 已解决 and rates 5 stars.
    resident.reload()
    confirm = resident.locator("#confirm-form")
    confirm.get_by_label("5星").check()
    confirm.get_by_label("及时").check()
    confirm.get_by_label("专业").check()
    confirm.locator("textarea[name=comment]").fill("第二次修得很彻底")
    assert_fits_phone(resident)
    confirm.get_by_role("button", name="已解决，提交评价").click()
    expect(resident.locator(".ll-flash")).to_have_text("感谢您的确认和评价")
    expect(resident.locator("#order-state")).to_contain_text("居民已确认解决")
    expect(resident.locator("#rating")).to_contain_text("5星")
    expect(resident.locator("#rating")).to_contain_text("及时")
    expect(resident.locator("#confirm-form")).to_have_count(0)

    # The committee's board and the public figures show it.
    committee = phone().new_page()
    sign_in(committee, live_server, "wo-committee", f"/h5/c/{code}/work-orders")
    expect(committee.locator("h1")).to_have_text("报修工单")
    expect(figure(committee, "orders")).to_have_text("1")
    expect(figure(committee, "confirmed")).to_have_text("100%")
    expect(figure(committee, "rating")).to_have_text("5.0")
    expect(committee.locator("#orders .ll-wo-row")).to_have_count(1)
    assert_fits_phone(committee)
    committee.screenshot(path=str(artifacts / "workorder-board.png"), full_page=True)

    visitor.reload()
    expect(figure(visitor, "orders")).to_have_text("1")
    expect(figure(visitor, "confirmed")).to_have_text("100%")
    expect(figure(visitor, "rating")).to_have_text("5.0")
    expect(figure(visitor, "unconfirmed")).to_have_text("0")
    expect(visitor.locator("main")).not_to_contain_text("楼道灯")

    # 适老化: the detail in large text still fits the phone.
    resident.get_by_role("button", name="大字模式").click()
    expect(resident.locator("body")).to_have_class(re.compile(r"\blarge-text\b"))
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "workorder-resident-detail-large-text.png"), full_page=True)
