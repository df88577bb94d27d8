"""The photo uploader in a real browser on a 375 px WeChat phone: a 4000×3000 camera photo is shrunk on the phone
before it is sent (the server receives ≤ 1600 px), shows as a thumbnail, and survives the duplicate offer; a
seventh photo is turned away on the phone, in Chinese."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from backend.domain.roles import Role
from backend.domain.workorders import Urgency
from backend.extensions import db
from backend.integrations.storage import LocalDiskStorage
from backend.models import Household, WorkOrderPhoto
from backend.pages import workorders as workorder_pages
from backend.services import workorders as workorder_service
from backend.services.photos import STORAGE_EXTENSION
from tests import photo_samples
from tests.h5.phone import assert_fits_phone
from tests.support import TEST_PASSWORD, buildings_of, first_household

pytestmark = pytest.mark.live


def test_a_big_photo_is_shrunk_on_the_phone_and_kept_through_the_duplicate_offer(
    app, live_server, make_compound, make_user, phone, tmp_path, monkeypatch
):
    monkeypatch.setitem(app.extensions, STORAGE_EXTENSION, LocalDiskStorage(tmp_path / "photos"))
    # What the server received, before its own checks (which would shrink any photo again).
    received: list[tuple[int, int, int]] = []
    prepare = workorder_pages.prepare_photo

    def spy(stream):
        data = stream.read()
        with Image.open(io.BytesIO(data)) as image:
            received.append((image.width, image.height, len(data)))
        return prepare(io.BytesIO(data))

    monkeypatch.setattr(workorder_pages, "prepare_photo", spy)

    compound = make_compound(name="金沙苑小区")
    make_user(role=Role.OWNER, compound=compound, household=first_household(compound), username="up-owner")
    building = buildings_of(compound)[0]
    second = db.session.scalars(db.select(Household).where(Household.building_id == building.id)
                                .order_by(Household.id)).all()[1]
    neighbour = make_user(role=Role.OWNER, compound=compound, household=second, username="up-neighbour")
    workorder_service.submit_order(
        user_id=neighbour.id, compound_id=compound.id, category="公共设施", description="楼道灯坏了",
        urgency=Urgency.NORMAL, building_id=building.id, location_text="3楼楼道",
    )
    code, building_id = compound.code, str(building.id)
    db.session.commit()
    db.session.close()
    photo = photo_samples.camera_jpeg(4000, 3000, texture=True)

    page = phone().new_page()
    page.goto(f"{live_server}/h5/login?next=/h5/c/{code}/work-orders/new")
    login = page.locator("#password-form")
    login.locator("input[name=username]").fill("up-owner")
    login.locator("input[name=password]").fill(TEST_PASSWORD)
    login.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_have_text("我要报修")

    form = page.locator("#work-order-form")
    form.locator("select[name=category]").select_option("公共设施")
    form.locator("label", has_text="小区公共区域").click()
    form.locator("select[name=building_id]").select_option(building_id)
    form.locator("input[name=location_text]").fill("3楼楼道")
    form.locator("textarea[name=description]").fill("3楼楼道灯不亮")
    # Seven chosen where six are allowed: six kept, and the phone says so in Chinese before anything is sent.
    small = photo_samples.camera_jpeg(320, 240).data
    form.locator("input[name=photos]").set_input_files(
        [{"name": f"IMG_{n}.jpg", "mimeType": "image/jpeg", "buffer": small} for n in range(7)]
    )
    expect(form.locator("[data-uploader-error]")).to_have_text("最多6张照片，多选的1张没有加入")
    thumbnails = form.locator("[data-uploader-files] li[data-index]")
    expect(thumbnails).to_have_count(6)
    expect(form.locator("[data-uploader-box]")).to_be_hidden()
    for left in range(5, -1, -1):
        thumbnails.first.get_by_role("button", name="删除这张照片").click()
        expect(thumbnails).to_have_count(left)

    form.locator("input[name=photos]").set_input_files(
        [{"name": "IMG_4000.jpg", "mimeType": "image/jpeg", "buffer": photo.data}]
    )
    # Shrunk on the phone: a thumbnail with its remove button, and the input now holds a small JPEG.
    expect(form.locator("[data-uploader-files] li[data-index]")).to_have_count(1)
    expect(form.get_by_role("button", name="删除这张照片")).to_be_visible()
    assert form.locator("input[name=photos]").evaluate("i => i.files[0].size") < len(photo.data) // 4
    assert_fits_phone(page)
    form.locator("#submit-order").click()

    # The duplicate offer keeps the photo: shown, and sent with 仍要提交新工单 without choosing it again.
    expect(page.locator("#duplicates")).to_be_visible()
    assert len(received) == 1
    width, height, size = received[0]
    assert max(width, height) <= 1600 and size < len(photo.data) // 4, received[0]
    held = page.locator(".ll-uploader__held")
    expect(held).to_have_count(1)
    expect(page.get_by_text("已选的1张照片会一并提交")).to_be_visible()
    page.get_by_role("button", name="仍要提交新工单").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(live_server)}/h5/work-orders/\d+$"))
    order_id = int(page.url.rsplit("/", 1)[-1])
    db.session.close()
    assert db.session.scalar(
        db.select(db.func.count()).select_from(WorkOrderPhoto).where(WorkOrderPhoto.work_order_id == order_id)
    ) == 1
    expect(page.locator("#timeline img")).to_have_count(1)
