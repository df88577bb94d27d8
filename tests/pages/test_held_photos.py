# ruff: noqa: F811  (the uploader tests' fixtures are imported by name, then asked for by name)
"""Photos held for the work order's duplicate offer (issue 15, item 7) attach once: a repeated token is one photo,
the offer shown again keeps its tokens, and filing takes them in one step so two taps cannot file them twice. Odd
tokens are a 404 or a refusal (never a 500), non-image bytes are refused, and a thumbnail is served as stored."""
from __future__ import annotations

import io
import threading

import pytest

from backend.domain.refusals import Refused
from backend.extensions import db
from backend.models import WorkOrder
from backend.services import held_photos
from backend.services.held_photos import EXPIRED
from backend.services.photos import PreparedPhoto
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


def test_one_held_token_sent_six_times_attaches_one_photo(resident, neighbour, compound):
    [token] = offer_tokens(resident, neighbour, compound, 1)
    response = submit(neighbour, compound, held=[token] * 6, confirm_new="1")
    assert photos_of_new_order(response) == 1


def test_a_repeated_token_is_offered_once_when_the_offer_is_shown_again(resident, neighbour, compound):
    [token] = offer_tokens(resident, neighbour, compound, 1)
    again = submit(neighbour, compound, held=[token] * 3)
    assert held_tokens(again.get_data(as_text=True)) == [token]


def test_the_offer_shown_again_keeps_its_tokens_and_they_file_one_order(resident, neighbour, compound):
    first = offer_tokens(resident, neighbour, compound, 2)
    # Shown the offer again (the same place, still a duplicate) with one more photo: the held two keep their tokens.
    again = submit(neighbour, compound, held=first, photos=[photo_samples.camera_jpeg().upload()])
    second = held_tokens(again.get_data(as_text=True))
    assert len(second) == 3 and second[:2] == first
    assert photos_of_new_order(submit(neighbour, compound, held=second, confirm_new="1")) == 3
    # Filed: neither offer's tokens can file the photos on a second order.
    before = orders()
    reused = submit(neighbour, compound, held=first, confirm_new="1")
    assert reused.status_code == 422 and EXPIRED in reused.get_data(as_text=True)
    assert orders() == before


def test_two_taps_with_the_same_tokens_file_the_photos_once(resident, neighbour, compound):
    tokens = offer_tokens(resident, neighbour, compound, 2)
    before = orders()
    assert photos_of_new_order(submit(neighbour, compound, held=tokens, confirm_new="1")) == 2
    second_tap = submit(neighbour, compound, held=tokens, confirm_new="1")
    assert second_tap.status_code == 422 and EXPIRED in second_tap.get_data(as_text=True)
    assert orders() == before + 1


def test_two_requests_taking_the_same_tokens_at_once_get_them_once(app):
    tokens = held_photos.hold(4242, [PreparedPhoto(data=b"\xff\xd8photo", width=4, height=3)] * 3)
    start, outcomes = threading.Barrier(2), []

    def tap():
        with app.app_context():
            start.wait()
            try:
                outcomes.append(len(held_photos.take(4242, tokens)[1]))
            except Refused as refused:
                outcomes.append(refused.message)

    taps = [threading.Thread(target=tap) for _ in range(2)]
    for thread in taps:
        thread.start()
    for thread in taps:
        thread.join()
    assert sorted(outcomes, key=str) == [3, EXPIRED]


def test_held_photos_are_put_back_when_the_order_is_not_filed(resident, neighbour, compound):
    tokens = offer_tokens(resident, neighbour, compound, 6)
    # Taken, then refused inside the filing (seven photos): the form comes back with the six still held.
    refused = submit(neighbour, compound, held=tokens, photos=[photo_samples.camera_jpeg().upload()],
                     confirm_new="1")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "最多上传6张照片" in page
    assert held_tokens(page) == tokens
    assert photos_of_new_order(submit(neighbour, compound, held=tokens, confirm_new="1")) == 6


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
