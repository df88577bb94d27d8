"""Work order (报事报修) pages: who may open each page, submitting with photos, duplicates, urging, the staff
and manager steps, the rating and its reply, the board and the public figures."""
from __future__ import annotations

import html as html_lib
import io
import itertools
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from PIL import Image

from backend.domain.roles import Role
from backend.domain.workorders import DEFAULT_CATEGORIES, Sla, Status, Urgency
from backend.extensions import db
from backend.integrations.storage import LocalDiskStorage
from backend.models import AuditEvent, Household, WorkOrder, WorkOrderPhoto
from backend.pages.workorders import duration_zh
from backend.services import workorders as workorder_service
from backend.services.photos import STORAGE_EXTENSION, UNSUPPORTED
from backend.shared.clock import utcnow
from tests import photo_samples
from tests.support import buildings_of, first_household

pytestmark = pytest.mark.calendar


@pytest.fixture(autouse=True)
def photo_dir(app, tmp_path, monkeypatch):
    """Each test's photos on its own disk folder, not in the project's instance folder."""
    monkeypatch.setitem(app.extensions, STORAGE_EXTENSION, LocalDiskStorage(tmp_path / "photos"))


@pytest.fixture
def compound(make_compound):
    return make_compound(name="金沙苑小区")


@pytest.fixture
def households(compound):
    return list(db.session.scalars(db.select(Household).where(Household.compound_id == compound.id).order_by(Household.id)))


@pytest.fixture
def browser(app, page_sign_in):
    """A phone signed in as `user`; `.csrf` is the token its forms carry, `.user` who it is."""

    def open_as(user):
        phone = app.test_client()
        phone.csrf = page_sign_in(phone, user)
        phone.user = user
        return phone

    return open_as


@pytest.fixture
def resident(compound, make_user, browser):
    return browser(make_user(role=Role.OWNER, compound=compound, household=first_household(compound)))


@pytest.fixture
def neighbour(compound, make_user, browser, households):
    return browser(make_user(role=Role.RESIDENT, compound=compound, household=households[1]))


@pytest.fixture
def staff(compound, make_user, browser):
    return browser(make_user(role=Role.STAFF, compound=compound))


@pytest.fixture
def manager(compound, make_user, browser):
    return browser(make_user(role=Role.MANAGER, compound=compound))


@pytest.fixture
def committee(compound, make_user, browser):
    return browser(make_user(role=Role.COMMITTEE, compound=compound))


@pytest.fixture
def outsider(make_compound, make_user, browser):
    """An owner and a staff member of another compound."""
    other = make_compound()
    return (browser(make_user(role=Role.OWNER, compound=other, household=first_household(other))),
            browser(make_user(role=Role.STAFF, compound=other)))


def html(response) -> str:
    return response.get_data(as_text=True)


def jpeg_upload():
    return photo_samples.camera_jpeg().upload()


def submit(phone, compound, photos=(), **overrides):
    data = {
        "csrf_token": phone.csrf, "category": "公共设施", "place": "common",
        "building_id": str(buildings_of(compound)[0].id), "location_text": "3楼楼道",
        "description": "楼道灯不亮已有三天", "urgency": "normal",
    } | overrides
    if photos:
        data["photos"] = list(photos)
    return phone.post(f"/h5/c/{compound.code}/work-orders/new", data=data, content_type="multipart/form-data")


def submitted_id(response) -> int:
    assert response.status_code == 302, html(response)[:600]
    match = re.fullmatch(r"/h5/work-orders/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def step(phone, order_id, action, photos=(), **fields):
    """Post one of the order page's forms from the order page, as the phone does; the order page again, with
    the outcome (done, or the refusal) on top."""
    data = {"csrf_token": phone.csrf} | fields
    if photos:
        data["photos"] = list(photos)
    response = phone.post(f"/h5/work-orders/{order_id}/{action}", data=data, content_type="multipart/form-data",
                          headers={"Referer": f"http://localhost/h5/work-orders/{order_id}"})
    assert response.status_code in (302, 303), html(response)[:600]
    assert urlsplit(response.headers["Location"]).path == f"/h5/work-orders/{order_id}"
    return html(phone.get(response.headers["Location"]))


def photo_urls(page: str, order_id: int) -> list[str]:
    return re.findall(rf'<img src="(/h5/work-orders/{order_id}/photos/\d+)"', page)


def status_of(order_id: int) -> Status:
    db.session.expire_all()
    return db.session.get(WorkOrder, order_id).status


def section(page: str, element_id: str) -> str:
    assert f'id="{element_id}"' in page, f"no #{element_id}"
    return page.split(f'id="{element_id}"', 1)[1]


# ---- submitting ---------------------------------------------------------------------------------------------


def test_home_tile_opens_the_work_orders(resident, compound):
    home = html(resident.get(f"/h5/c/{compound.code}"))
    assert f'id="work-orders-link" href="/h5/c/{compound.code}/work-orders"' in home
    page = resident.get(f"/h5/c/{compound.code}/work-orders")
    assert page.status_code == 200 and "我的报修" in html(page) and "还没有报修记录" in html(page)
    assert f'href="/h5/c/{compound.code}/work-orders/new"' in html(page)


def test_submit_form_offers_categories_my_household_buildings_and_urgency(resident, compound):
    page = html(resident.get(f"/h5/c/{compound.code}/work-orders/new"))
    for name in ("水电维修", "公共设施", "环境卫生", "电梯", "噪音扰民", "其他"):
        assert f'<option value="{name}"' in page
    household = first_household(compound)
    assert re.search(rf'name="place" value="{household.id}" checked', page)
    assert "我家：1栋1单元101室" in page and 'value="common"' in page
    for building in buildings_of(compound):
        assert f'<option value="{building.id}"' in page
    assert "紧急：停水停电、燃气、电梯困人" in page
    assert 'enctype="multipart/form-data"' in page
    assert re.search(r'<input class="ll-file" type="file" name="photos" accept="image/\*"[^>]* multiple', page)
    assert f'name="csrf_token" value="{resident.csrf}"' in page


def test_resident_submits_with_a_photo_that_loses_its_gps(resident, compound):
    order_id = submitted_id(submit(resident, compound, photos=[jpeg_upload()]))

    page = html(resident.get(f"/h5/work-orders/{order_id}"))
    assert "报修已提交，物业会尽快受理" in page
    assert "公共设施 · #" in page and "楼道灯不亮已有三天" in page and "待受理" in page
    assert "1栋 公共区域 · 3楼楼道" in page
    [url] = photo_urls(page, order_id)
    photo = resident.get(url)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert photo.headers["Cache-Control"].startswith("private")
    image = Image.open(io.BytesIO(photo.data))
    assert image.format == "JPEG" and not image.getexif()
    assert photo_samples.CAMERA_COMMENT not in photo.data


def test_resident_submits_for_own_household_as_urgent(resident, compound):
    household = first_household(compound)
    order_id = submitted_id(submit(resident, compound, category="水电维修", place=str(household.id), building_id="",
                                   location_text="厨房", description="家里停水", urgency="urgent"))
    order = db.session.get(WorkOrder, order_id)
    assert (order.household_id, order.urgency, order.location_text) == (household.id, Urgency.URGENT, "厨房")
    page = html(resident.get(f"/h5/work-orders/{order_id}"))
    assert "1栋1单元101室 · 厨房" in page and "紧急" in page


@pytest.mark.parametrize(
    ("sample", "message"),
    [(photo_samples.php_named_jpg, UNSUPPORTED), (photo_samples.truncated_jpeg, "照片已损坏或不完整")],
)
def test_wrong_file_is_refused_in_chinese_and_the_form_keeps_what_was_typed(resident, compound, sample, message):
    response = submit(resident, compound, photos=[jpeg_upload(), sample().upload()], description="东门路灯坏了")
    assert response.status_code == 422 and response.mimetype == "text/html"
    page = html(response)
    assert message in page
    assert "东门路灯坏了</textarea>" in page and 'value="3楼楼道"' in page
    assert '<option value="公共设施" selected>' in page
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkOrder)) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkOrderPhoto)) == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"category": "修飞机"}, "请选择报修类别"),
        ({"description": "   "}, "请描述遇到的问题"),
        ({"description": "长" * 1001}, "问题描述不能超过1000个字"),
        ({"location_text": "长" * 101}, "具体位置不能超过100个字"),
        ({"urgency": "very"}, "请选择紧急程度"),
        ({"place": "²"}, "请选择报修位置"),
        ({"place": "9" * 5000}, "请选择报修位置"),
        ({"building_id": "9" * 5000, "location_text": ""}, "请选择本小区的楼栋"),
        ({"building_id": "", "location_text": ""}, "请选择报修位置：我的房屋、楼栋或填写公共区域"),
    ],
)
def test_incomplete_form_is_refused_in_chinese(resident, compound, overrides, message):
    response = submit(resident, compound, **overrides)
    assert response.status_code == 422 and message in html(response)


def test_seven_photos_are_too_many(resident, compound):
    response = submit(resident, compound, photos=[jpeg_upload() for _ in range(7)])
    assert response.status_code == 422 and "最多上传6张照片" in html(response)


def test_cannot_file_for_someone_elses_household(resident, compound, households):
    response = submit(resident, compound, place=str(households[1].id))
    assert response.status_code == 422 and "只能为您已认证的房屋报修" in html(response)


def test_building_of_another_compound_is_refused(resident, compound, make_compound):
    foreign = buildings_of(make_compound())[0]
    response = submit(resident, compound, building_id=str(foreign.id))
    assert response.status_code == 422 and "请选择本小区的楼栋" in html(response)


def test_submit_needs_the_csrf_field(resident, compound):
    response = submit(resident, compound, csrf_token="")
    assert response.status_code == 403 and "安全校验失败" in html(response)
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkOrder)) == 0


def test_a_photo_over_10_mb_is_refused_with_a_chinese_message(resident, compound):
    response = submit(resident, compound, photos=[photo_samples.oversized_upload().upload()])
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "照片不能超过10MB" in html(response)
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkOrder)) == 0


def test_a_form_over_64_mb_is_a_chinese_413_page_not_a_500(resident, compound):
    too_much = [(io.BytesIO(bytes(9 * 1024 * 1024)), f"IMG_{n}.jpg", "image/jpeg") for n in range(8)]
    response = submit(resident, compound, photos=too_much)
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "上传内容过大" in html(response)
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkOrder)) == 0


def test_submit_form_asks_strangers_to_sign_in(client, compound, scan):
    scan(client, compound)
    response = client.get(f"/h5/c/{compound.code}/work-orders/new")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/h5/login"


def test_only_verified_residents_of_the_compound_may_submit(app, compound, make_user, browser, scan, staff, outsider):
    visitor = browser(make_user())
    scan(visitor, compound)
    refused = visitor.get(f"/h5/c/{compound.code}/work-orders/new")
    assert refused.status_code == 403 and "绑定并认证房屋后才能报修" in html(refused)
    assert staff.get(f"/h5/c/{compound.code}/work-orders/new").status_code == 403
    assert outsider[0].get(f"/h5/c/{compound.code}/work-orders/new").status_code == 404
    assert submit(outsider[0], compound).status_code == 404


# ---- duplicates -------------------------------------------------------------------------------------------------


def test_duplicate_is_offered_to_follow_instead(resident, neighbour, compound):
    first = submitted_id(submit(resident, compound))

    offer = submit(neighbour, compound, description="3楼灯坏了", photos=[jpeg_upload()])
    assert offer.status_code == 200
    page = html(offer)
    dup = section(page, "duplicates")
    assert f'data-order="{first}"' in dup and "楼道灯不亮已有三天" in dup
    assert f'action="/h5/work-orders/{first}/follow"' in dup and "关注此工单" in dup
    assert "已选的1张照片会一并提交" in dup
    form = section(page, "work-order-form")
    assert '<input type="hidden" name="confirm_new" value="1">' in form and "仍要提交新工单" in form
    assert "3楼灯坏了</textarea>" in form
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkOrder)) == 1

    # The neighbour may not read the order before joining it, and may after.
    assert neighbour.get(f"/h5/work-orders/{first}").status_code == 404
    followed = neighbour.post(f"/h5/work-orders/{first}/follow", data={"csrf_token": neighbour.csrf})
    assert followed.status_code == 302 and followed.headers["Location"] == f"/h5/work-orders/{first}"
    detail = html(neighbour.get(f"/h5/work-orders/{first}"))
    assert "已关注此工单" in detail and "报修人" in detail
    assert f'data-order="{first}"' in html(neighbour.get(f"/h5/c/{compound.code}/work-orders"))


def test_resident_may_still_file_a_new_order_after_the_offer(resident, neighbour, compound):
    first = submitted_id(submit(resident, compound))
    second = submitted_id(submit(neighbour, compound, confirm_new="1", photos=[jpeg_upload()]))
    assert second != first
    assert len(photo_urls(html(neighbour.get(f"/h5/work-orders/{second}")), second)) == 1


def test_duplicate_of_another_category_or_place_is_not_offered(resident, neighbour, compound):
    submitted_id(submit(resident, compound))
    submitted_id(submit(neighbour, compound, category="绿化"))
    submitted_id(submit(neighbour, compound, building_id=str(buildings_of(compound)[1].id)))


def test_a_neighbour_can_neither_be_offered_nor_follow_a_households_own_repair(resident, neighbour, compound):
    household = first_household(compound)
    order_id = submitted_id(submit(resident, compound, category="水电维修", place=str(household.id),
                                   building_id="", location_text="厨房", description="家里水管漏水"))

    offer = submit(neighbour, compound, category="水电维修", building_id=str(household.building_id))
    assert offer.status_code == 302 and "家里水管漏水" not in html(neighbour.get(offer.headers["Location"]))

    form_page = f"/h5/c/{compound.code}/work-orders/new"
    followed = neighbour.post(f"/h5/work-orders/{order_id}/follow", data={"csrf_token": neighbour.csrf},
                              headers={"Referer": f"http://localhost{form_page}"})
    assert followed.status_code == 303 and followed.headers["Location"] == form_page
    assert "工单不存在" in html(neighbour.get(form_page))
    assert neighbour.get(f"/h5/work-orders/{order_id}").status_code == 404


def test_outsider_cannot_follow(resident, compound, outsider):
    order_id = submitted_id(submit(resident, compound))
    owner, _ = outsider
    assert owner.post(f"/h5/work-orders/{order_id}/follow", data={"csrf_token": owner.csrf}).status_code == 404
    assert owner.post("/h5/work-orders/2147483647/follow", data={"csrf_token": owner.csrf}).status_code == 404


# ---- who may read an order and its photos ---------------------------------------------------------------------


def test_order_and_photos_are_hidden_from_everyone_else(client, resident, neighbour, staff, committee, compound,
                                                        outsider, scan):
    order_id = submitted_id(submit(resident, compound, photos=[jpeg_upload()]))
    [url] = photo_urls(html(resident.get(f"/h5/work-orders/{order_id}")), order_id)

    for phone in (neighbour, *outsider):
        assert phone.get(f"/h5/work-orders/{order_id}").status_code == 404
        assert phone.get(url).status_code == 404
    scan(client, compound)
    assert client.get(url).status_code == 404
    assert client.get(f"/h5/work-orders/{order_id}").status_code == 302  # to sign-in

    for phone in (staff, committee):
        assert phone.get(f"/h5/work-orders/{order_id}").status_code == 200
        assert phone.get(url).status_code == 200


def test_photo_url_must_match_its_order(resident, compound):
    with_photo = submitted_id(submit(resident, compound, photos=[jpeg_upload()]))
    other = submitted_id(submit(resident, compound, category="绿化"))
    photo_id = db.session.scalar(db.select(WorkOrderPhoto.id).where(WorkOrderPhoto.work_order_id == with_photo))
    assert resident.get(f"/h5/work-orders/{other}/photos/{photo_id}").status_code == 404
    assert resident.get(f"/h5/work-orders/{with_photo}/photos/2147483647").status_code == 404


def test_unknown_order_is_a_404_page(resident, staff):
    for phone in (resident, staff):
        response = phone.get("/h5/work-orders/2147483647")
        assert response.status_code == 404 and response.mimetype == "text/html"
        assert phone.post("/h5/work-orders/2147483647/accept", data={"csrf_token": phone.csrf}).status_code == 404
    assert resident.get("/h5/work-orders/2147483648").status_code == 404


def test_residents_list_shows_only_their_own_orders(resident, neighbour, compound):
    mine = submitted_id(submit(resident, compound))
    theirs = submitted_id(submit(neighbour, compound, category="绿化"))
    page = html(resident.get(f"/h5/c/{compound.code}/work-orders"))
    assert f'data-order="{mine}"' in page and f'data-order="{theirs}"' not in page
    assert "共 1 单" in page and 'id="board-filter"' not in page


# ---- resident steps ---------------------------------------------------------------------------------------------


def test_urge_once_per_four_hours(resident, compound):
    order_id = submitted_id(submit(resident, compound))
    page = step(resident, order_id, "urge")
    assert "已催办，物业会尽快处理" in page
    assert 'id="urge-wait"' in page and "后可再次催办" in page and 'id="urge"' not in page

    page = step(resident, order_id, "urge")
    assert "4小时内已催办过，请耐心等待" in page
    assert db.session.get(WorkOrder, order_id).urge_count == 1

    with time_machine.travel(utcnow() + timedelta(hours=4, minutes=1)):
        assert 'id="urge"' in html(resident.get(f"/h5/work-orders/{order_id}", follow_redirects=True))


def test_staff_cannot_urge(resident, staff, compound):
    order_id = submitted_id(submit(resident, compound))
    assert staff.post(f"/h5/work-orders/{order_id}/urge", data={"csrf_token": staff.csrf}).status_code == 403


def test_withdraw_before_accept_only(resident, staff, compound):
    first = submitted_id(submit(resident, compound))
    assert "撤回报修" in html(resident.get(f"/h5/work-orders/{first}"))
    page = step(resident, first, "withdraw")
    assert "已撤回报修" in page and status_of(first) is Status.WITHDRAWN

    second = submitted_id(submit(resident, compound, category="绿化"))
    step(staff, second, "accept")
    page = html(resident.get(f"/h5/work-orders/{second}"))
    assert 'id="withdraw-form"' not in page
    assert "工单已受理，不能撤回" in step(resident, second, "withdraw")
    assert status_of(second) is Status.ACCEPTED


def test_resident_sees_no_staff_buttons_and_cannot_post_them(resident, compound):
    order_id = submitted_id(submit(resident, compound))
    assert 'id="staff-actions"' not in html(resident.get(f"/h5/work-orders/{order_id}"))
    assert "您无权受理此工单" in step(resident, order_id, "accept")
    assert status_of(order_id) is Status.SUBMITTED


# ---- staff and manager ------------------------------------------------------------------------------------------


def test_staff_work_an_order_and_the_resident_disputes_then_confirms_and_rates(resident, staff, manager, compound):
    order_id = submitted_id(submit(resident, compound, photos=[jpeg_upload()]))

    queue = html(staff.get(f"/h5/c/{compound.code}/work-orders/queue"))
    assert f'data-order="{order_id}"' in queue and "受理时限" in queue

    detail = html(staff.get(f"/h5/work-orders/{order_id}"))
    actions = section(detail, "staff-actions")
    assert ">受理</button>" in actions and ">驳回</button>" in actions and "ll-big-btn" in actions
    assert "开始处理" not in actions

    assert "已受理" in step(staff, order_id, "accept")
    page = step(staff, order_id, "start")
    assert "已开始处理" in page and 'id="close-form"' in page
    page = step(staff, order_id, "close", photos=[jpeg_upload()], note="已更换灯泡")
    assert "已办结，等待居民确认" in page and status_of(order_id) is Status.CLOSED
    closing = section(page, "timeline").split('data-event="close"', 1)[1].split("</li>", 1)[0]
    assert "已更换灯泡" in closing and len(photo_urls(closing, order_id)) == 1

    # The resident sees the after-photo and the close note, and answers 未解决.
    page = html(resident.get(f"/h5/work-orders/{order_id}"))
    assert len(photo_urls(page, order_id)) == 2 and "已更换灯泡" in page and "物业" in page
    assert 'id="confirm-form"' in page and 'id="dispute-form"' in page
    page = step(resident, order_id, "dispute", note="灯还是不亮")
    assert "已反馈未解决，工单重新处理" in page and status_of(order_id) is Status.IN_PROGRESS
    assert "反馈未解决" in page and "灯还是不亮" in page

    step(staff, order_id, "close", note="已更换线路")
    page = html(resident.get(f"/h5/work-orders/{order_id}"))
    assert "请选择1到5星的评分" in step(resident, order_id, "confirm")
    assert "请从以下选项中选择" in step(resident, order_id, "confirm", stars="5", tags=["及时", "乱写"])
    page = step(resident, order_id, "confirm", stars="5", tags=["及时", "态度好"], comment="修得很快")
    assert "感谢您的确认和评价" in page and "居民已确认解决" in page
    rating = section(page, "rating")
    assert "5星" in rating and "及时" in rating and "态度好" in rating and "修得很快" in rating
    assert 'id="confirm-form"' not in page and 'id="rate-form"' not in page

    # The manager answers publicly; the resident reads it.
    reply_form = section(html(manager.get(f"/h5/work-orders/{order_id}")), "reply-form")
    assert "公开回复" in reply_form
    assert "回复已公开" in step(manager, order_id, "reply", reply="感谢支持，有问题随时报修")
    assert "感谢支持，有问题随时报修" in section(html(resident.get(f"/h5/work-orders/{order_id}")), "rating-reply")
    assert 'id="reply-form"' not in html(resident.get(f"/h5/work-orders/{order_id}"))


def test_staff_cannot_reply_to_ratings(resident, staff, compound):
    order_id = submitted_id(submit(resident, compound))
    for action, fields in (("accept", {}), ("start", {}), ("close", {"note": "好了"})):
        step(staff, order_id, action, **fields)
    step(resident, order_id, "confirm", stars="4")
    response = staff.post(f"/h5/work-orders/{order_id}/reply", data={"csrf_token": staff.csrf, "reply": "谢谢"})
    assert response.status_code == 403


def test_close_without_note_keeps_its_photo_for_the_next_try(resident, staff, compound):
    order_id = submitted_id(submit(resident, compound))
    step(staff, order_id, "accept")
    step(staff, order_id, "start")
    page = step(staff, order_id, "close", photos=[jpeg_upload()], note="")
    assert "请填写说明，居民会看到" in page and status_of(order_id) is Status.IN_PROGRESS
    assert "已上传 1 张照片，办结时一并附上" in page

    page = step(staff, order_id, "close", note="已修好")
    closing = section(page, "timeline").split('data-event="close"', 1)[1]
    assert len(photo_urls(closing, order_id)) == 1
    # A photo still waiting is shown to its uploader only.
    assert status_of(order_id) is Status.CLOSED


def test_a_close_refused_to_its_sender_stores_none_of_the_photos(resident, committee, staff, compound):
    """The 办结 form's photos are kept only for someone who may close the order now: a committee member or a
    follower posting it gets the refusal and leaves nothing behind in the photo storage."""
    order_id = submitted_id(submit(resident, compound))
    assert "工单待受理，不能办结" in step(committee, order_id, "close", photos=[jpeg_upload()], note="x")
    stored = db.session.scalar(
        db.select(db.func.count()).select_from(WorkOrderPhoto).where(WorkOrderPhoto.work_order_id == order_id)
    )
    assert stored == 0
    step(staff, order_id, "accept")
    step(staff, order_id, "start")
    for phone in (committee, resident):
        assert "您无权办结此工单" in step(phone, order_id, "close", photos=[jpeg_upload()], note="x")
    assert status_of(order_id) is Status.IN_PROGRESS
    assert db.session.scalar(
        db.select(db.func.count()).select_from(WorkOrderPhoto).where(WorkOrderPhoto.work_order_id == order_id)
    ) == 0


def test_wrong_after_photo_is_refused_with_a_message(resident, staff, compound):
    order_id = submitted_id(submit(resident, compound))
    step(staff, order_id, "accept")
    step(staff, order_id, "start")
    page = step(staff, order_id, "close", photos=[photo_samples.php_named_jpg().upload()], note="已修好")
    assert UNSUPPORTED in page and status_of(order_id) is Status.IN_PROGRESS


def test_reject_needs_a_reason_the_resident_reads(resident, staff, compound):
    order_id = submitted_id(submit(resident, compound))
    assert "请填写说明，居民会看到" in step(staff, order_id, "reject", note="  ")
    step(staff, order_id, "reject", note="不属于物业服务范围，请联系供电局")
    page = html(resident.get(f"/h5/work-orders/{order_id}"))
    assert "已驳回" in page and "不属于物业服务范围，请联系供电局" in section(page, "reject-reason")


def test_step_out_of_order_is_a_message_not_an_error(resident, staff, compound):
    order_id = submitted_id(submit(resident, compound))
    assert "工单待受理，不能开始处理" in step(staff, order_id, "start")
    step(staff, order_id, "accept")
    assert "工单已受理，不能受理" in step(staff, order_id, "accept")


def test_manager_assigns_and_the_other_staff_loses_the_buttons(resident, staff, manager, compound, make_user, browser):
    second = browser(make_user(role=Role.STAFF, compound=compound))
    order_id = submitted_id(submit(resident, compound))
    assign = section(html(manager.get(f"/h5/work-orders/{order_id}")), "assign-form")
    assert f'<option value="{staff.user.id}"' in assign and f'<option value="{second.user.id}"' in assign
    assert "派单" in assign

    page = step(manager, order_id, "assign", assignee_id=str(second.user.id))
    assert "已派单" in page and second.user.display_name in section(page, "order-facts")
    assert 'id="staff-actions"' not in html(staff.get(f"/h5/work-orders/{order_id}"))
    assert f'data-order="{order_id}"' not in html(staff.get(f"/h5/c/{compound.code}/work-orders/queue"))
    assert "您无权受理此工单" in step(staff, order_id, "accept")
    assert "已受理" in step(second, order_id, "accept")
    assert "请选择本小区的物业工作人员" in step(manager, order_id, "assign", assignee_id=str(resident.user.id))


def test_staff_cannot_assign(resident, staff, compound):
    order_id = submitted_id(submit(resident, compound))
    assert 'id="assign-form"' not in html(staff.get(f"/h5/work-orders/{order_id}"))
    assert "您无权派单此工单" in step(staff, order_id, "assign", assignee_id=str(staff.user.id))


def test_manager_merges_a_duplicate(resident, neighbour, manager, compound):
    survivor = submitted_id(submit(resident, compound))
    duplicate = submitted_id(submit(neighbour, compound, confirm_new="1"))
    assert "要合并到的工单不在本小区" in step(manager, duplicate, "merge", merge_into_id="2147483647")
    page = step(manager, duplicate, "merge", merge_into_id=f"#{survivor}")
    assert "已合并到另一张工单" in page and f"与工单#{survivor}重复" in page
    assert f'href="/h5/work-orders/{survivor}"' in section(page, "order-facts")
    # The duplicate's submitter now follows the survivor.
    assert neighbour.get(f"/h5/work-orders/{survivor}").status_code == 200


# ---- board, queue and figures ----------------------------------------------------------------------------------


# Each report differs: the same report again within two minutes is a double tap and files once.
_reports = itertools.count(1)


def file_order(user, compound, category="公共设施", urgency=Urgency.NORMAL):
    return workorder_service.submit_order(
        user_id=user.id, compound_id=compound.id, category=category, description=f"测试工单{next(_reports)}",
        urgency=urgency,
        building_id=buildings_of(compound)[0].id, location_text="楼道",
    )


def test_queue_puts_the_nearest_deadline_first_and_marks_overdue_red(resident, staff, compound):
    with time_machine.travel(utcnow() - timedelta(hours=5)):
        late = file_order(resident.user, compound, "绿化").id
    urgent = file_order(resident.user, compound, "电梯", Urgency.URGENT).id
    normal = file_order(resident.user, compound, "停车").id

    page = html(staff.get(f"/h5/c/{compound.code}/work-orders/queue"))
    assert [int(i) for i in re.findall(r'data-order="(\d+)"', page)] == [late, urgent, normal]
    row = page.split(f'data-order="{late}"', 1)[0].rsplit("<a", 1)[1]
    assert "ll-wo-row_overdue" in row
    assert "1 单已超时" in page and "已超时" in page.split(f'data-order="{late}"', 1)[1].split("</a>", 1)[0]


def test_detail_shows_overdue_and_escalation(resident, staff, compound):
    with time_machine.travel(utcnow() - timedelta(hours=5)):
        order_id = file_order(resident.user, compound).id
    assert workorder_service.escalate_order(order_id, utcnow()) is not None
    for phone in (resident, staff):
        page = html(phone.get(f"/h5/work-orders/{order_id}"))
        assert "已超时" in section(page, "order-state")
        assert "ll-wo-over" in section(page, "order-facts").split("办结时限", 1)[0]
        escalations = section(page, "escalations")
        assert "受理超时" in escalations and "已提醒物业经理" in escalations
        assert "超时升级" in section(page, "timeline") and "系统" in section(page, "timeline")


def test_lists_take_the_same_queries_for_one_order_or_many(resident, staff, committee, compound, count_queries):
    file_order(resident.user, compound)

    def queries(phone, path) -> int:
        with count_queries() as statements:
            assert phone.get(path).status_code == 200
        return len(statements)

    paths = [(committee, f"/h5/c/{compound.code}/work-orders"), (staff, f"/h5/c/{compound.code}/work-orders/queue"),
             (resident, f"/h5/c/{compound.code}/work-orders")]
    before = [queries(phone, path) for phone, path in paths]
    for index in range(6):
        file_order(resident.user, compound, "停车" if index % 2 else "绿化")
    assert [queries(phone, path) for phone, path in paths] == before


def test_queue_is_for_staff_and_managers(resident, committee, manager, compound, outsider):
    assert resident.get(f"/h5/c/{compound.code}/work-orders/queue").status_code == 403
    assert committee.get(f"/h5/c/{compound.code}/work-orders/queue").status_code == 403
    assert manager.get(f"/h5/c/{compound.code}/work-orders/queue").status_code == 200
    assert outsider[1].get(f"/h5/c/{compound.code}/work-orders/queue").status_code == 404


def test_board_filters_by_status_category_and_overdue(resident, committee, compound):
    with time_machine.travel(utcnow() - timedelta(hours=5)):
        late = file_order(resident.user, compound, "绿化").id
    fresh = file_order(resident.user, compound, "停车").id

    page = html(committee.get(f"/h5/c/{compound.code}/work-orders"))
    assert "报修工单" in page and 'id="board-filter"' in page and 'id="figures"' in page
    assert f'data-order="{late}"' in page and f'data-order="{fresh}"' in page
    assert "1栋" in page

    def listed(**query) -> list[int]:
        response = committee.get(f"/h5/c/{compound.code}/work-orders", query_string=query)
        assert response.status_code == 200
        return [int(i) for i in re.findall(r'data-order="(\d+)"', html(response))]

    assert listed(overdue="1") == [late]
    assert listed(overdue="0") == [fresh]
    assert listed(category="停车") == [fresh]
    assert listed(status="closed") == []
    assert sorted(listed(status="submitted")) == sorted([late, fresh])
    assert sorted(listed(status="nonsense", overdue="x", page="-3")) == sorted([late, fresh])
    selected = html(committee.get(f"/h5/c/{compound.code}/work-orders", query_string={"overdue": "1", "category": "绿化"}))
    assert '<option value="1" selected>已超时</option>' in selected and '<option value="绿化" selected>' in selected


def test_board_filter_with_unstorable_text_is_ignored_not_a_500(resident, committee, compound):
    """A NUL reaches PostgreSQL as an error (a 500) if it gets into the query; the filter drops it."""
    order_id = file_order(resident.user, compound, "停车").id
    for category in ("停\x00车", "\x00"):
        response = committee.get(f"/h5/c/{compound.code}/work-orders", query_string={"category": category})
        assert response.status_code == 200
        assert f'data-order="{order_id}"' in html(response)


def test_board_pages_keep_the_filters(resident, committee, compound):
    for _ in range(21):
        file_order(resident.user, compound, "停车")
    page = html(committee.get(f"/h5/c/{compound.code}/work-orders", query_string={"category": "停车"}))
    assert "共 21 单" in page and len(re.findall(r'data-order="\d+"', page)) == 20
    assert f'href="/h5/c/{compound.code}/work-orders?page=2&amp;category=' in page
    second = html(committee.get(f"/h5/c/{compound.code}/work-orders", query_string={"category": "停车", "page": 2}))
    assert len(re.findall(r'data-order="\d+"', second)) == 1 and "上一页" in second


def test_board_and_lists_are_closed_to_other_compounds(compound, outsider, client, scan):
    for phone in outsider:
        assert phone.get(f"/h5/c/{compound.code}/work-orders").status_code == 404
        assert phone.get(f"/h5/c/{compound.code}/work-orders/figures").status_code == 404
    scan(client, compound)
    assert client.get(f"/h5/c/{compound.code}/work-orders").status_code == 302  # sign in to see one's orders


def test_figures_are_public_to_a_qr_visitor_without_names(app, resident, staff, compound, scan, make_compound):
    order_id = submitted_id(submit(resident, compound))
    for action, fields in (("accept", {}), ("start", {}), ("close", {"note": "已修好"})):
        step(staff, order_id, action, **fields)
    step(resident, order_id, "confirm", stars="4", comment="张师傅修得好")

    visitor = app.test_client()
    assert visitor.get(f"/h5/c/{compound.code}/work-orders/figures").status_code == 404
    scan(visitor, compound)
    response = visitor.get(f"/h5/c/{compound.code}/work-orders/figures")
    assert response.status_code == 200
    page = html(response)
    figures = section(page, "figures")
    assert re.search(r'id="figure-orders">1<', figures)
    assert re.search(r'id="figure-confirmed">100%<', figures)
    assert re.search(r'id="figure-sla">100%<', figures)
    assert re.search(r'id="figure-rating">4.0<', figures)
    assert re.search(r'id="figure-unconfirmed">0<', figures)
    assert re.search(r'id="figure-accept">(不到1分钟|\d+分钟)<', figures)
    for name in (resident.user.display_name, staff.user.display_name, "张师傅", "楼道灯不亮"):
        assert name not in page
    assert visitor.get(f"/h5/c/{make_compound().code}/work-orders/figures").status_code == 404


def test_empty_month_shows_dashes(client, compound, scan):
    scan(client, compound)
    figures = section(html(client.get(f"/h5/c/{compound.code}/work-orders/figures")), "figures")
    assert re.search(r'id="figure-orders">0<', figures) and re.search(r'id="figure-rating">—<', figures)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "—"), (20, "不到1分钟"), (60 * 25, "25分钟"), (3600 * 3, "3小时"), (3600 * 26 + 60 * 5, "26小时5分")],
)
def test_times_are_humanised_in_hours_and_minutes(seconds, text):
    assert duration_zh(seconds) == text


def test_detail_renders_in_large_text(resident, compound):
    order_id = submitted_id(submit(resident, compound))
    resident.post("/h5/settings/large-text", data={"enable": "1", "next": "/h5/", "csrf_token": resident.csrf})
    page = html(resident.get(f"/h5/work-orders/{order_id}"))
    assert re.search(r'<body class="[^"]*\blarge-text\b', page)


# ---- categories and their SLA ------------------------------------------------------------------------------


def categories_page(phone, compound):
    return phone.get(f"/h5/c/{compound.code}/work-orders/categories")


def category_form(phone, compound) -> dict:
    """The settings form's fields as the page fills them in, ready to change and post back."""
    page = html(categories_page(phone, compound))
    form = section(page, "categories-form").split("</form>", 1)[0]
    fields = {"csrf_token": phone.csrf}
    for tag in re.findall(r"<input\b[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag).group(1)
        if name != "csrf_token" and ('type="checkbox"' not in tag or re.search(r"\schecked\b", tag)):
            fields[name] = html_lib.unescape(re.search(r'value="([^"]*)"', tag).group(1))
    for name, options in re.findall(r'<select\b[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        fields[name] = re.search(r'<option value="([^"]*)" selected>', options).group(1)
    return fields


def row_of(fields: dict, name: str) -> int:
    return next(int(key.split("-")[1]) for key, value in fields.items() if key.startswith("name-") and value == name)


def save_categories(phone, compound, fields):
    return phone.post(f"/h5/c/{compound.code}/work-orders/categories", data=fields)


def field_value(page: str, field: str) -> str:
    match = re.search(rf'name="{re.escape(field)}" value="([^"]*)"', page)
    assert match, f"no {field}"
    return html_lib.unescape(match.group(1))


def category_audits(compound) -> list[AuditEvent]:
    return list(db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "work_order.categories", AuditEvent.compound_id == compound.id)))


def cell(fields: dict, row: int, field: str) -> tuple[str, str]:
    """A deadline's number and unit as the page fills them in."""
    return fields[f"{field}-{row}"], fields[f"{field}_unit-{row}"]


def test_category_settings_show_every_deadline_as_a_number_and_its_unit(manager, compound):
    response = categories_page(manager, compound)
    assert response.status_code == 200
    page = html(response)
    assert "已提交的工单保持原来的时限" in page
    # No column of the page reads in a unit of its own; the bounds are written as every page writes a time span.
    assert "（分钟）" not in page and "（小时）" not in page
    assert "受理时限1分钟到168小时，办结时限1小时到720小时" in html_lib.unescape(section(page, "categories-explain"))
    # What is saved reads one way, whatever unit it was typed in.
    assert "现行时限：一般 4小时内受理、72小时内办结；紧急 30分钟内受理、24小时内办结" in page
    fields = category_form(manager, compound)
    names = [value for key, value in fields.items() if key.startswith("name-")]
    assert names == [*DEFAULT_CATEGORIES, "", "", ""]
    lift = row_of(fields, "电梯")
    assert [cell(fields, lift, field) for field in ("accept_normal", "close_normal", "accept_urgent", "close_urgent")] \
        == [("4", "hours"), ("72", "hours"), ("30", "minutes"), ("24", "hours")]
    # A new row starts at the units such deadlines are usually given in.
    assert cell(fields, len(DEFAULT_CATEGORIES), "accept_urgent") == ("", "minutes")
    assert cell(fields, len(DEFAULT_CATEGORIES), "close_urgent") == ("", "hours")


def test_a_stored_value_shows_in_the_unit_it_reads_best_in(manager, compound):
    sla = Sla(timedelta(minutes=90), timedelta(minutes=2880))
    workorder_service.set_categories(compound.id, [workorder_service.CategorySla("电梯", sla, sla)], None, None)
    fields = category_form(manager, compound)
    assert cell(fields, 0, "accept_normal") == ("90", "minutes")
    assert cell(fields, 0, "close_normal") == ("48", "hours")
    assert "现行时限：一般 1小时30分内受理、48小时内办结" in html(categories_page(manager, compound))


def test_a_value_typed_in_minutes_and_one_in_hours_save_as_minutes(manager, compound):
    fields = category_form(manager, compound)
    lift = row_of(fields, "电梯")
    fields |= {f"accept_normal-{lift}": "2", f"accept_normal_unit-{lift}": "hours",
               f"close_normal-{lift}": "150", f"close_normal_unit-{lift}": "minutes",
               f"close_urgent-{lift}": "1.5", f"close_urgent_unit-{lift}": "hours"}
    assert save_categories(manager, compound, fields).status_code == 302
    saved = {item.name: item for item in workorder_service.categories(compound.id)}
    assert saved["电梯"].normal == Sla(timedelta(minutes=120), timedelta(minutes=150))
    assert saved["电梯"].urgent.close == timedelta(minutes=90)
    fields = category_form(manager, compound)
    assert cell(fields, lift, "accept_normal") == ("2", "hours")
    assert cell(fields, lift, "close_normal") == ("150", "minutes")
    assert cell(fields, lift, "close_urgent") == ("90", "minutes")


@pytest.mark.parametrize(
    ("field", "changes"),
    [("accept_urgent", {"accept_urgent": "abc"}), ("close_normal", {"close_normal_unit": "days"}),
     ("accept_normal", {"accept_normal": "1.5", "accept_normal_unit": "minutes"})],
    ids=["bad-number", "bad-unit", "fraction-of-a-minute"],
)
def test_a_bad_number_or_unit_is_shown_beside_its_cell(manager, compound, field, changes):
    fields = category_form(manager, compound)
    lift = row_of(fields, "电梯")
    response = save_categories(manager, compound, fields | {f"{key}-{lift}": value for key, value in changes.items()})
    assert response.status_code == 422
    page = html_lib.unescape(html(response))
    word, what = ("一般" if "normal" in field else "紧急"), ("受理" if field.startswith("accept") else "办结")
    bounds = "1分钟到168小时" if what == "受理" else "1小时到720小时"
    message = f"{word}报修的{what}时限请填写{bounds}之间"
    beside = re.search(rf'id="{field}-{lift}-error">([^<]*)</p>', page)
    assert beside and beside.group(1) == message
    assert re.search(rf'name="{field}-{lift}"[^>]*aria-invalid="true"', page)
    assert page.count('aria-invalid="true"') == 1


def test_board_links_to_the_settings_for_those_who_configure(manager, committee, staff, compound):
    link = f'id="categories-link" href="/h5/c/{compound.code}/work-orders/categories"'
    assert link in html(manager.get(f"/h5/c/{compound.code}/work-orders"))
    assert link in html(committee.get(f"/h5/c/{compound.code}/work-orders"))
    assert "categories-link" not in html(staff.get(f"/h5/c/{compound.code}/work-orders"))


def test_manager_changes_an_sla_adds_and_removes_categories_and_new_orders_follow(manager, resident, compound):
    fields = category_form(manager, compound)
    lift, noise = row_of(fields, "电梯"), row_of(fields, "噪音扰民")
    fields |= {f"accept_urgent-{lift}": "15", f"close_urgent-{lift}": "2", f"delete-{noise}": "1",
               "name-9": "门禁", "accept_normal-9": "60", "close_normal-9": "48",
               "accept_urgent-9": "10", "close_urgent-9": "1.5"}
    response = save_categories(manager, compound, fields)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == f"/h5/c/{compound.code}/work-orders/categories"
    page = html(manager.get(response.headers["Location"]))
    assert "已保存报修类别和时限" in page

    saved = {item.name: item for item in workorder_service.categories(compound.id)}
    assert list(saved) == [name for name in DEFAULT_CATEGORIES if name != "噪音扰民"] + ["门禁"]
    assert saved["电梯"].urgent == Sla(timedelta(minutes=15), timedelta(hours=2))
    assert saved["电梯"].normal == Sla(timedelta(hours=4), timedelta(hours=72))
    assert saved["门禁"].normal == Sla(timedelta(minutes=60), timedelta(hours=48))
    assert saved["门禁"].urgent == Sla(timedelta(minutes=10), timedelta(minutes=90))
    assert field_value(page, f"close_urgent-{row_of(category_form(manager, compound), '门禁')}") == "90"

    def new_order(category, urgency):
        return workorder_service.submit_order(
            user_id=resident.user.id, compound_id=compound.id, category=category, description="电梯困人",
            urgency=urgency, household_id=first_household(compound).id,
        )

    order = new_order("电梯", Urgency.URGENT)
    assert order.accept_due_at - order.created_at == timedelta(minutes=15)
    assert order.close_due_at - order.created_at == timedelta(hours=2)
    order = new_order("门禁", Urgency.NORMAL)
    assert order.accept_due_at - order.created_at == timedelta(hours=1)
    assert order.close_due_at - order.created_at == timedelta(hours=48)
    with pytest.raises(workorder_service.WorkOrderRefused):
        new_order("噪音扰民", Urgency.NORMAL)

    [audit] = category_audits(compound)
    assert audit.actor_id == manager.user.id and audit.target_id == compound.id
    assert len(audit.before["categories"]) == len(DEFAULT_CATEGORIES)
    assert {"name": "门禁", "accept_minutes_normal": 60, "close_minutes_normal": 2880,
            "accept_minutes_urgent": 10, "close_minutes_urgent": 90} in audit.after["categories"]


def test_orders_filed_before_a_change_keep_their_deadlines(manager, resident, compound):
    order_id = submitted_id(submit(resident, compound, category="电梯", urgency="urgent"))
    fields = category_form(manager, compound)
    fields[f"accept_urgent-{row_of(fields, '电梯')}"] = "5"
    assert save_categories(manager, compound, fields).status_code == 302
    order = db.session.get(WorkOrder, order_id)
    assert order.accept_due_at - order.created_at == timedelta(minutes=30)


def test_minutes_that_are_not_whole_hours_show_and_save_back_unchanged(manager, compound):
    odd = Sla(timedelta(minutes=20), timedelta(minutes=100))
    workorder_service.set_categories(compound.id, [workorder_service.CategorySla("电梯", odd, odd)], None, None)
    fields = category_form(manager, compound)
    assert cell(fields, 0, "close_normal") == ("100", "minutes")
    assert save_categories(manager, compound, fields).status_code == 302
    assert workorder_service.categories(compound.id)[0].normal == odd


def test_full_width_digits_are_read_as_numbers(manager, compound):
    fields = category_form(manager, compound)
    fields[f"accept_urgent-{row_of(fields, '电梯')}"] = "１５"
    assert save_categories(manager, compound, fields).status_code == 302
    saved = {item.name: item for item in workorder_service.categories(compound.id)}
    assert saved["电梯"].urgent.accept == timedelta(minutes=15)


def test_committee_party_secretary_and_admin_may_configure(committee, compound, make_user, browser):
    phones = [committee, browser(make_user(role=Role.PARTY_SECRETARY, compound=compound)),
              browser(make_user(role=Role.ADMIN))]
    for phone in phones:
        assert categories_page(phone, compound).status_code == 200
        assert save_categories(phone, compound, category_form(phone, compound)).status_code == 302
    assert len(category_audits(compound)) == 3


def test_staff_and_residents_may_not_configure_and_strangers_do_not_see_the_page(
    staff, resident, outsider, compound, client, scan
):
    defaults = {"csrf_token": "", "name-0": "电梯", "accept_normal-0": "1", "close_normal-0": "1",
                "accept_urgent-0": "1", "close_urgent-0": "1"}
    for phone, status in ((staff, 403), (resident, 403), *((phone, 404) for phone in outsider)):
        assert categories_page(phone, compound).status_code == status
        assert save_categories(phone, compound, defaults | {"csrf_token": phone.csrf}).status_code == status
    scan(client, compound)
    response = categories_page(client, compound)
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/h5/login"
    assert category_audits(compound) == []
    assert [item.name for item in workorder_service.categories(compound.id)] == list(DEFAULT_CATEGORIES)


def test_saving_needs_the_csrf_field(manager, compound):
    fields = category_form(manager, compound)
    del fields["csrf_token"]
    response = save_categories(manager, compound, fields)
    assert response.status_code == 403 and "安全校验失败" in html(response)
    assert category_audits(compound) == []


def test_a_nul_byte_is_refused_before_the_view(manager, compound):
    fields = category_form(manager, compound) | {"name-0": "水电\x00维修"}
    assert save_categories(manager, compound, fields).status_code == 400
    assert category_audits(compound) == []


LIFT = DEFAULT_CATEGORIES.index("电梯")
LABEL = f"第{LIFT + 1}行「电梯」："
NORMAL_ACCEPT = "一般报修的受理时限请填写1分钟到168小时之间"
URGENT_ACCEPT = "紧急报修的受理时限请填写1分钟到168小时之间"
URGENT_CLOSE = "紧急报修的办结时限请填写1小时到720小时之间"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({f"accept_urgent-{LIFT}": "abc"}, LABEL + URGENT_ACCEPT),
        ({f"accept_urgent-{LIFT}": "0"}, LABEL + URGENT_ACCEPT),
        ({f"accept_urgent-{LIFT}": "10081"}, LABEL + URGENT_ACCEPT),
        ({f"accept_normal-{LIFT}": "169"}, LABEL + NORMAL_ACCEPT),
        ({f"accept_normal-{LIFT}": "9" * 5000}, LABEL + NORMAL_ACCEPT),
        ({f"accept_normal-{LIFT}": "-5"}, LABEL + NORMAL_ACCEPT),
        ({f"accept_urgent-{LIFT}": "1.5"}, LABEL + URGENT_ACCEPT),
        ({f"accept_normal_unit-{LIFT}": ""}, LABEL + NORMAL_ACCEPT),
        ({f"close_normal-{LIFT}": "721"}, LABEL + "一般报修的办结时限请填写1小时到720小时之间"),
        ({f"close_normal-{LIFT}": "0.5"}, LABEL + "一般报修的办结时限请填写1小时到720小时之间"),
        ({f"close_normal-{LIFT}": "59", f"close_normal_unit-{LIFT}": "minutes"},
         LABEL + "一般报修的办结时限请填写1小时到720小时之间"),
        ({f"close_urgent-{LIFT}": "1.234"}, LABEL + URGENT_CLOSE),
        ({f"close_urgent-{LIFT}": "1e3"}, LABEL + URGENT_CLOSE),
        ({f"close_urgent-{LIFT}": "NaN"}, LABEL + URGENT_CLOSE),
        ({f"close_urgent-{LIFT}": ""}, LABEL + URGENT_CLOSE),
        ({f"close_urgent_unit-{LIFT}": "days"}, LABEL + URGENT_CLOSE),
        ({f"accept_normal-{LIFT}": "6", f"close_normal-{LIFT}": "5"}, LABEL + "一般报修的办结时限不能短于受理时限"),
        ({f"accept_urgent-{LIFT}": "90", f"close_urgent-{LIFT}": "1"}, LABEL + "紧急报修的办结时限不能短于受理时限"),
        ({f"name-{LIFT}": "  "}, f"第{LIFT + 1}行：请填写类别名称"),
        ({f"name-{LIFT}": "电" * 17}, f"第{LIFT + 1}行「{'电' * 17}」：类别名称最多16个字"),
        ({f"name-{LIFT + 1}": "电梯"}, f"第{LIFT + 2}行「电梯」：类别名称重复了"),
        ({"name-9": "门禁"}, "第10行「门禁」：" + NORMAL_ACCEPT),
    ],
)
def test_each_problem_is_a_422_in_chinese_keeping_what_was_typed(manager, compound, changes, message):
    fields = category_form(manager, compound) | changes
    response = save_categories(manager, compound, fields)
    assert response.status_code == 422
    page = html(response)
    assert message in html_lib.unescape(section(page, "problems").split("</ul>", 1)[0])
    for field, value in changes.items():
        if "_unit-" in field:
            # A unit offered stays chosen; one not offered leaves none chosen, and the message beside it tells.
            chosen = re.search(rf'name="{field}"[^>]*>(.*?)</select>', page, re.S).group(1)
            assert re.findall(r'<option value="([^"]*)" selected>', chosen) == [value] * (value in ("minutes", "hours"))
            continue
        assert field_value(page, field) == (value.strip() if field.startswith("name") else value)
    assert category_audits(compound) == []
    assert [item.name for item in workorder_service.categories(compound.id)] == list(DEFAULT_CATEGORIES)


def test_every_problem_is_listed_at_once_and_deleted_rows_stay_ticked(manager, compound):
    fields = category_form(manager, compound)
    fields |= {"accept_normal-0": "x", "close_urgent-1": "999", "delete-2": "1"}
    response = save_categories(manager, compound, fields)
    assert response.status_code == 422
    problems = section(html(response), "problems").split("</ul>", 1)[0]
    assert problems.count("<li>") == 2
    assert re.search(r'<input type="checkbox" name="delete-2" value="1"\s+checked', html(response))


def test_deleted_rows_are_not_validated(manager, compound):
    fields = category_form(manager, compound) | {f"accept_normal-{LIFT}": "abc", f"delete-{LIFT}": "1"}
    assert save_categories(manager, compound, fields).status_code == 302
    assert "电梯" not in [item.name for item in workorder_service.categories(compound.id)]


def test_at_least_one_and_at_most_twenty_categories(manager, compound):
    fields = category_form(manager, compound)
    every = fields | {f"delete-{index}": "1" for index in range(len(DEFAULT_CATEGORIES))}
    response = save_categories(manager, compound, every)
    assert response.status_code == 422 and "请至少保留一个报修类别" in html(response)

    extra = {f"{field}-{index}": value for index in range(9, 21)
             for field, value in (("name", f"类别{index}"), ("accept_normal", "60"), ("close_normal", "2"),
                                  ("accept_urgent", "30"), ("close_urgent", "1"),
                                  ("accept_normal_unit", "minutes"), ("close_normal_unit", "hours"),
                                  ("accept_urgent_unit", "minutes"), ("close_urgent_unit", "hours"))}
    response = save_categories(manager, compound, fields | extra)
    assert response.status_code == 422 and "最多设置20个报修类别（现有21个），请删除一些" in html(response)
    assert field_value(html(response), "name-20") == "类别20"
    assert save_categories(manager, compound, fields | extra | {"delete-0": "1"}).status_code == 302
    assert len(workorder_service.categories(compound.id)) == 20


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "请至少保留一个报修类别"),
        ({"name-0": "电梯"}, "第1行「电梯」：" + NORMAL_ACCEPT),
        ({"accept_normal-3": "30"}, "第1行：请填写类别名称"),
        ({"name-99999": "电梯", "accept_normal-x": "1", "name-": "a"}, "请至少保留一个报修类别"),
        ({f"{field}-{index}": f"类{index}" if field == "name" else "hours" if "unit" in field else "1"
          for index in range(1000)
          for field in ("name", "accept_normal", "close_normal", "accept_urgent", "close_urgent",
                        "accept_normal_unit", "close_normal_unit", "accept_urgent_unit", "close_urgent_unit")},
         "最多设置20个报修类别（现有1000个），请删除一些"),
    ],
    ids=["nothing", "missing-fields", "no-name", "odd-keys", "1000-rows"],
)
def test_malformed_forms_are_422_not_500(manager, compound, fields, message):
    response = save_categories(manager, compound, {"csrf_token": manager.csrf} | fields)
    assert response.status_code == 422
    assert message in section(html(response), "problems").split("</ul>", 1)[0]
    assert category_audits(compound) == []
