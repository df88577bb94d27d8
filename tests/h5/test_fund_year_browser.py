"""The year's surplus (年度收支与结余) in a real browser on a 375 px WeChat phone: a committee member of a trust compound
whose year is closed records the owners' decision to refund the surplus by floor area; an owner then finds their
household's share on the same page."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backend.domain.compounds import ManagementModel
from backend.domain.fees import format_fen
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Household, SurplusRefund
from tests.fund_books import EXPENSE_FEN, INCOME_FEN, REMUNERATION_FEN, write_books
from tests.h5.phone import assert_fits_phone
from tests.h5.test_meeting_flow_browser import sign_in_here

pytestmark = pytest.mark.live


def test_the_committee_refunds_the_surplus_and_an_owner_sees_their_share(
    app, live_server, make_compound, make_user, phone, chromium, artifacts
):
    compound = make_compound(name="信托苑", model=ManagementModel.TRUST, buildings=1, households_per_building=3)
    home = db.session.scalar(select(Household).where(Household.compound_id == compound.id).order_by(Household.id))
    make_user(Role.COMMITTEE, compound, username="fy-committee")
    make_user(Role.OWNER, compound, household=home, username="fy-owner")
    books = write_books(compound)
    compound_id, home_id = compound.id, home.id
    db.session.commit()
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes
    path = f"/h5/compounds/{compound_id}/funds/years/{books.year}"

    desk = phone().new_page()
    desk.goto(f"{live_server}/h5/login?next={path}")
    sign_in_here(desk, "fy-committee")
    expect(desk).to_have_url(f"{live_server}{path}")
    expect(desk.locator("#year-surplus")).to_contain_text(format_fen(INCOME_FEN - EXPENSE_FEN - REMUNERATION_FEN))
    form = desk.locator("#decision-form")
    form.locator("label", has_text="按面积退还各户").click()
    form.locator("textarea[name=note]").fill("业主大会表决通过，按建筑面积退还。")
    assert_fits_phone(desk)
    desk.screenshot(path=str(artifacts / "fund-year-decide.png"), full_page=True)
    form.get_by_role("button", name="记录决定").click()
    expect(desk.locator("#decision-use")).to_have_text("按面积退还各户")
    expect(desk.locator("#decision-form")).to_have_count(0)
    expect(desk.locator("#refunds .weui-cell")).to_have_count(3)

    share = db.session.scalar(select(SurplusRefund.amount_fen).where(SurplusRefund.household_id == home_id))
    db.session.close()
    owner = phone().new_page()
    owner.goto(f"{live_server}/h5/login?next={path}")
    sign_in_here(owner, "fy-owner")
    expect(owner.locator("#decision-use")).to_have_text("按面积退还各户")
    expect(owner.locator(f"#my-refunds [data-household='{home_id}']")).to_contain_text(format_fen(share))
    expect(owner.locator("#refunds [data-mine=true]")).to_contain_text("（我家）")
    assert_fits_phone(owner)
    owner.screenshot(path=str(artifacts / "fund-year-owner.png"), full_page=True)
