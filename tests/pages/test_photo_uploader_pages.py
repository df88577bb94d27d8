"""The photo uploader on the pages: every photo input is the shared uploader, and photos chosen for a work order
survive the duplicate offer (是否是同一问题), held by the server for their chooser only."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from backend.domain.roles import Role
from backend.extensions import db
from backend.integrations.storage import LocalDiskStorage
from backend.models import Household, WorkOrder, WorkOrderPhoto
from backend.services.held_photos import EXPIRED
from backend.services.photos import STORAGE_EXTENSION
from tests import photo_samples
from tests.support import buildings_of, first_household

TEMPLATES = Path(__file__).resolve().parents[2] / "h5" / "templates"


@pytest.fixture(autouse=True)
def photo_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.extensions, STORAGE_EXTENSION, LocalDiskStorage(tmp_path / "photos"))


@pytest.fixture
def compound(make_compound):
    return make_compound(name="金沙苑小区")


@pytest.fixture
def phone_of(app, page_sign_in):
    def open_as(user):
        phone = app.test_client()
        phone.csrf = page_sign_in(phone, user)
        return phone

    return open_as


@pytest.fixture
def resident(compound, make_user, phone_of):
    return phone_of(make_user(role=Role.OWNER, compound=compound, household=first_household(compound)))


@pytest.fixture
def neighbour(compound, make_user, phone_of):
    second = db.session.scalars(db.select(Household).where(Household.compound_id == compound.id)
                                .order_by(Household.id)).all()[1]
    return phone_of(make_user(role=Role.RESIDENT, compound=compound, household=second))


def submit(phone, compound, photos=(), held=(), **overrides):
    data = {
        "csrf_token": phone.csrf, "category": "公共设施", "place": "common",
        "building_id": str(buildings_of(compound)[0].id), "location_text": "3楼楼道",
        "description": "楼道灯不亮已有三天", "urgency": "normal",
    } | overrides
    if photos:
        data["photos"] = list(photos)
    if held:
        data["held_photo"] = list(held)
    return phone.post(f"/h5/c/{compound.code}/work-orders/new", data=data, content_type="multipart/form-data")


def held_tokens(page: str) -> list[str]:
    return re.findall(r'name="held_photo" value="([0-9a-f]{32})" checked', page)


def photos_of_new_order(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:600]
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return db.session.scalar(db.select(db.func.count()).select_from(WorkOrderPhoto)
                             .where(WorkOrderPhoto.work_order_id == order_id))


def test_photos_chosen_before_the_duplicate_offer_are_kept_for_the_new_order(app, resident, neighbour, compound):
    assert submit(resident, compound).status_code == 302
    photos = [photo_samples.camera_jpeg().upload(), photo_samples.camera_jpeg().upload()]
    offer = submit(neighbour, compound, photos=photos, description="3楼灯坏了")
    page = offer.get_data(as_text=True)
    assert offer.status_code == 200 and 'id="duplicates"' in page
    tokens = held_tokens(page)
    assert len(tokens) == 2 and "已选的2张照片会一并提交" in page

    # The thumbnails are the chooser's alone.
    thumbnail = neighbour.get(f"/h5/uploads/held/{tokens[0]}")
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
    assert "no-store" in thumbnail.headers["Cache-Control"]
    assert resident.get(f"/h5/uploads/held/{tokens[0]}").status_code == 404
    assert neighbour.get("/h5/uploads/held/not-a-token").status_code == 404

    # 仍要提交新工单 without choosing again: both photos are on the order, and the server lets them go.
    confirmed = submit(neighbour, compound, held=tokens, confirm_new="1", description="3楼灯坏了")
    assert photos_of_new_order(confirmed) == 2
    assert neighbour.get(f"/h5/uploads/held/{tokens[0]}").status_code == 404


def test_a_removed_photo_is_not_sent_and_a_new_one_joins_the_kept(resident, neighbour, compound):
    submit(resident, compound)
    offer = submit(neighbour, compound, photos=[photo_samples.camera_jpeg().upload() for _ in range(2)])
    kept = held_tokens(offer.get_data(as_text=True))[:1]  # one unticked
    confirmed = submit(neighbour, compound, held=kept, photos=[photo_samples.camera_jpeg().upload()], confirm_new="1")
    assert photos_of_new_order(confirmed) == 2


def test_someone_elses_or_an_expired_token_is_refused_on_the_form(app, resident, neighbour, compound):
    submit(resident, compound)
    offer = submit(neighbour, compound, photos=[photo_samples.camera_jpeg().upload()])
    [token] = held_tokens(offer.get_data(as_text=True))
    before = db.session.scalar(db.select(db.func.count()).select_from(WorkOrder))

    stolen = submit(resident, compound, held=[token], confirm_new="1")
    assert stolen.status_code == 422 and EXPIRED in stolen.get_data(as_text=True)

    app.extensions["linli_redis"].flushdb()  # an hour later: expired
    late = submit(neighbour, compound, held=[token], confirm_new="1")
    assert late.status_code == 422 and EXPIRED in late.get_data(as_text=True)
    # The form shown again offers no photo that can no longer be sent.
    assert held_tokens(late.get_data(as_text=True)) == []
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkOrder)) == before


def test_the_work_order_form_offers_the_camera_and_the_uploader(resident, compound):
    page = resident.get(f"/h5/c/{compound.code}/work-orders/new").get_data(as_text=True)
    assert re.search(r'<div class="weui-uploader ll-uploader" data-uploader data-max-count="6" data-max-bytes="10485760">', page)
    assert re.search(r'name="photos" accept="image/\*"[^>]* multiple capture="environment"', page)
    assert re.search(r'<script src="/h5/static/js/uploader\.js\?v=[0-9a-f]{12}" defer>', page)


def test_every_photo_input_is_the_shared_uploader():
    plain = [path.relative_to(TEMPLATES) for path in TEMPLATES.rglob("*.html")
             if path.name != "_macros.html" and 'type="file"' in path.read_text()]
    assert plain == [], "photo inputs not using photo_uploader()"
