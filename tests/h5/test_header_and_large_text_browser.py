"""The header and large-text mode (大字模式) on a 375 px phone: every header link is a 44 px tap target, 退出 is
far from 大字模式, and in large text the small print grows while the home tiles stay a grid."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from backend.domain.roles import Role
from backend.extensions import db
from tests.h5.phone import assert_fits_phone
from tests.support import TEST_PASSWORD, first_household

pytestmark = pytest.mark.live

TAP = 44


def box(page: Page, selector: str) -> dict:
    found = page.locator(selector).bounding_box()
    assert found, f"{selector} is not shown"
    return found


def assert_header_targets(page: Page) -> None:
    for selector in (".ll-brand", "#large-text-toggle", "#inbox-link", "#logout-button"):
        target = box(page, selector)
        assert target["height"] >= TAP and target["width"] >= TAP, (selector, target)
    toggle, logout = box(page, "#large-text-toggle"), box(page, "#logout-button")
    assert logout["x"] - (toggle["x"] + toggle["width"]) >= TAP, "退出 sits right beside 大字模式"


def tile_rows(page: Page) -> list[list[dict]]:
    rows: dict[float, list[dict]] = {}
    for tile in page.locator(".ll-tile").all():
        found = tile.bounding_box()
        rows.setdefault(round(found["y"]), []).append(found)
    return list(rows.values())


def font_px(page: Page, class_name: str) -> float:
    """The stylesheet's size for an element of this class where the pages put it (inside <main>)."""
    return page.evaluate(
        """cls => { const el = document.createElement('span'); el.className = cls;
                    document.querySelector('main').appendChild(el);
                    const size = parseFloat(getComputedStyle(el).fontSize); el.remove(); return size; }""",
        class_name,
    )


def test_header_targets_and_large_text_keep_the_home_usable(app, live_server, make_compound, make_user, phone):
    compound = make_compound(name="金沙苑小区")
    make_user(role=Role.OWNER, compound=compound, household=first_household(compound), username="big-owner")
    code = compound.code
    db.session.commit()
    db.session.close()

    page = phone().new_page()
    page.goto(f"{live_server}/h5/login?next=/h5/c/{code}")
    form = page.locator("#password-form")
    form.locator("input[name=username]").fill("big-owner")
    form.locator("input[name=password]").fill(TEST_PASSWORD)
    form.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server}/h5/c/{code}")
    assert_header_targets(page)
    standard_badge, standard_step = font_px(page, "weui-badge"), font_px(page, "ll-tp-steps__name")

    page.locator("#large-text-toggle").click()
    expect(page.locator("body")).to_have_class("large-text")
    expect(page.locator("#large-text-toggle")).to_have_text("标准字号")
    assert_header_targets(page)
    assert_fits_phone(page)

    # The home tiles: rows of equal tops, three to a row, none pushed wider than its column.
    rows = tile_rows(page)
    assert len(rows[0]) == 3 and all(len(row) <= 3 for row in rows), rows
    assert sum(len(row) for row in rows) == page.locator(".ll-tile").count()
    assert all(tile["width"] <= 375 / 3 + 1 for row in rows for tile in row)

    # Badges, step labels and dates grow with the rest.
    assert font_px(page, "weui-badge") >= 16 > standard_badge
    assert font_px(page, "ll-tp-steps__name") >= 16 > standard_step
    assert font_px(page, "ll-tp-steps__date") >= 15
    assert font_px(page, "weui-media-box__info") >= 17
