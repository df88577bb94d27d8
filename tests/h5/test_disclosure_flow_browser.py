"""The notice board (公示栏) in a real browser on a 375 px WeChat phone: the company's manager posts the maintenance
fund's use with a photo of the invoice; once the jobs have run, a resident finds it in the inbox, reads the board
(what stands for each kind, the history) and opens the posting with its photo."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from backend.domain.compounds import ManagementModel
from backend.domain.roles import Role
from backend.extensions import db
from tests import photo_samples as samples
from tests.h5.phone import assert_fits_phone
from tests.h5.test_meeting_flow_browser import sign_in_here
from tests.rating_support import run_jobs
from tests.support import first_household

pytestmark = pytest.mark.live


def test_the_company_posts_a_disclosure_and_a_resident_reads_the_board(
    app, live_server, make_compound, area_tree, make_user, phone, artifacts, tmp_path
):
    compound = make_compound(name="阳光花园小区", area=area_tree[3], model=ManagementModel.MARKET, buildings=1,
                             households_per_building=2)
    make_user(role=Role.MANAGER, compound=compound, username="dc-manager")
    make_user(role=Role.RESIDENT, compound=compound, household=first_household(compound), username="dc-resident")
    compound_id = compound.id
    db.session.commit()
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes
    photo = tmp_path / "invoice.jpg"
    photo.write_bytes(samples.camera_jpeg().data)

    manager = phone().new_page()
    manager.goto(f"{live_server}/h5/login?next=/h5/compounds/{compound_id}/disclosures")
    sign_in_here(manager, "dc-manager")
    expect(manager).to_have_url(f"{live_server}/h5/compounds/{compound_id}/disclosures")
    expect(manager.locator("#history")).to_contain_text("暂无公示")
    manager.locator("#new-disclosure-link").click()
    form = manager.locator("#disclosure-form")
    form.locator("select[name=kind]").select_option("maintenance_fund")
    form.locator("input[name=title]").fill("2栋电梯维修资金使用公示")
    form.locator("textarea[name=body]").fill("2栋电梯更换曳引钢丝绳，使用维修资金38,600元，经业主大会表决通过。")
    form.locator("input[name=file]").set_input_files(str(photo))
    assert_fits_phone(manager)
    manager.screenshot(path=str(artifacts / "disclosure-form.png"), full_page=True)
    form.get_by_role("button", name="发布").click()
    expect(manager).to_have_url(re.compile(rf"{live_server}/h5/disclosures/\d+$"))
    posting_url = manager.url
    expect(manager.locator(".ll-flash")).to_have_text("公示已发布，已通知本小区住户")
    expect(manager.locator("#disclosure-file img")).to_be_visible()

    run_jobs(app)

    resident = phone().new_page()
    resident.goto(f"{live_server}/h5/login?next=/h5/inbox")
    sign_in_here(resident, "dc-resident")
    expect(resident.locator("#inbox")).to_contain_text("公示栏：2栋电梯维修资金使用公示")
    resident.goto(f"{live_server}/h5/compounds/{compound_id}/disclosures")
    expect(resident.locator("#board [data-kind=maintenance_fund]")).to_contain_text("2栋电梯维修资金使用公示")
    expect(resident.locator("#board [data-kind=service_standards]")).to_contain_text("尚未公示")
    expect(resident.locator("#new-disclosure-link")).to_have_count(0)
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "disclosure-board.png"), full_page=True)
    resident.locator("#history").get_by_text("2栋电梯维修资金使用公示").click()
    expect(resident).to_have_url(posting_url)
    expect(resident.locator("#disclosure-body")).to_contain_text("曳引钢丝绳")
    expect(resident.locator("#disclosure-standing")).to_have_text("现行")
    expect(resident.locator("#disclosure-file img")).to_be_visible()
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "disclosure-resident.png"), full_page=True)
