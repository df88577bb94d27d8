"""台账 and governance in a real browser on a 375 px phone: a street official imports a community's sheet, exports
the ledger, uploads that very file back and reads 没有变更; then records a compound's self-governance body on its
governance page and sees the change in the history."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Compound
from tests.h5.phone import assert_fits_phone
from tests.h5.test_meeting_flow_browser import sign_in_here
from tests.ledger_sheets import ledger_xlsx

pytestmark = pytest.mark.live


def test_an_official_round_trips_the_ledger_and_records_governance(
    live_server, area_tree, make_user, phone, artifacts, tmp_path
):
    _, _, street, community = area_tree
    make_user(role=Role.OFFICIAL, area=street, username="lg-official")
    community_id = community.id
    db.session.commit()
    db.session.close()
    sheet = tmp_path / "台账.xlsx"
    sheet.write_bytes(ledger_xlsx())

    page = phone().new_page()
    page.goto(f"{live_server}/h5/login?next=/h5/areas/{community_id}/ledger")
    sign_in_here(page, "lg-official")
    expect(page.locator("h1")).to_have_text("台账")
    page.locator("#ledger-file").set_input_files(str(sheet))
    page.locator("#import-button").click()
    expect(page.locator("#change-count")).to_contain_text("处变更")

    with page.expect_download() as download:
        page.locator("#export-link").click()
    exported = tmp_path / "exported.xlsx"
    download.value.save_as(exported)
    page.locator("#ledger-file").set_input_files(str(exported))
    page.locator("#import-button").click()
    expect(page.locator("#no-changes")).to_contain_text("没有变更")
    assert_fits_phone(page)
    page.screenshot(path=str(artifacts / "ledger-no-changes.png"), full_page=True)

    compound_id = db.session.scalar(select(Compound.id).where(Compound.code == "gl1"))
    db.session.close()
    page.goto(f"{live_server}/h5/compounds/{compound_id}/governance")
    expect(page.locator("#current-body")).to_have_text("无")
    form = page.locator("#governance-form")
    form.locator("#body").select_option("property_committee")
    form.locator("#body_members").fill("5")
    form.locator("#save-governance").click()
    expect(page.locator(".ll-flash")).to_have_text("已保存，变更已记入历史")
    expect(page.locator("#current-body")).to_have_text("物管委")
    expect(page.locator("#history")).to_contain_text("自治组织、自治组织成员数")
    assert_fits_phone(page)
    page.screenshot(path=str(artifacts / "governance-page.png"), full_page=True)
