# ruff: noqa: F811  (the uploader tests' fixtures are imported by name, then asked for by name)
"""Photos held for the duplicate offer (issue 15, item 7), as a reviewer probed them: odd tokens (404 or 422, never
500), non-image bytes refused, thumbnails served as stored, six held and one new refused with the held ones kept."""
from __future__ import annotations

import io

import pytest

from backend.extensions import db
from backend.models import WorkOrder
from backend.services.held_photos import EXPIRED
from tests import photo_samples
from tests.pages.test_photo_uploader_pages import (  # noqa: F401  (fixtures)
    compound,
    held_tokens,
    neighbour,
    phone_of,
    photo_dir,
    photos_of_new_order,
    resident,
    submit,
)


def orders() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(WorkOrder))


def offer_tokens(resident, neighbour, compound, count: int) -> list[str]:
    assert submit(resident, compound).status_code == 302
    offer = submit(neighbour, compound, photos=[photo_samples.camera_jpeg().upload() for _ in range(count)])
    tokens = held_tokens(offer.get_data(as_text=True))
    assert len(tokens) == count
    return tokens


def test_six_held_and_one_new_photo_are_refused_with_the_held_ones_kept(resident, neighbour, compound):
    tokens = offer_tokens(resident, neighbour, compound, 6)
    response = submit(neighbour, compound, held=tokens, photos=[photo_samples.camera_jpeg().upload()],
                      confirm_new="1")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "最多上传6张照片" in page
    assert held_tokens(page) == tokens


@pytest.mark.parametrize("token", ["a" * 5000, "../" * 40, "%00", "A" * 32, "0" * 31 + "g"],
                         ids=["huge", "traversal", "nul", "upper-hex", "not-hex"])
def test_a_bad_token_is_a_404_or_a_refusal_never_a_500(neighbour, resident, compound, token):
    assert neighbour.get(f"/h5/uploads/held/{token}").status_code == 404
    response = submit(neighbour, compound, held=[token], confirm_new="1")
    assert response.status_code == 422 and EXPIRED in response.get_data(as_text=True)


def test_non_image_bytes_are_refused_on_the_form(neighbour, compound):
    fake = (io.BytesIO(b"<?php echo 1; ?>" * 100), "photo.jpg", "image/jpeg")
    before = orders()
    response = submit(neighbour, compound, photos=[fake])
    assert response.status_code == 422
    assert orders() == before


def test_a_held_thumbnail_is_never_compressed_or_altered(neighbour, resident, compound):
    [token] = offer_tokens(resident, neighbour, compound, 1)
    plain = neighbour.get(f"/h5/uploads/held/{token}")
    gz = neighbour.get(f"/h5/uploads/held/{token}", headers={"Accept-Encoding": "gzip, br"})
    assert gz.status_code == 200 and "Content-Encoding" not in gz.headers
    assert gz.data == plain.data and gz.data[:2] == b"\xff\xd8"
