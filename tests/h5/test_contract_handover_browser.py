"""The company's contract end to end in a real browser on a 375 px WeChat phone (issue 19): a committee member
finds the draft the owners' item-4 vote made, raises another selection, fills in the contract (term, level, the
contract as a PDF) and signs it into force, then records the handover inspection (承接查验) with photos of a defect;
signing is refused while it is open, and accepted once the defect is put right."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from backend.domain.contracts import ItemState
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import PropertyCompany
from backend.services import contracts as service
from backend.shared.clock import beijing_date, utcnow
from tests import photo_samples
from tests.contracts_support import PDF, drafted_contract
from tests.h5.phone import assert_fits_phone
from tests.h5.test_meeting_flow_browser import sign_in_here

pytestmark = pytest.mark.live


def photo_file(name: str) -> dict:
    return {"name": name, "mimeType": "image/jpeg", "buffer": photo_samples.camera_jpeg(texture=True).data}


def test_a_committee_member_signs_the_contract_and_records_the_handover_with_photos(
    app, live_server, make_compound, area_tree, make_user, phone, artifacts
):
    compound = make_compound(name="攀枝花花城小区", area=area_tree[3], buildings=1, households_per_building=1)
    member = make_user(role=Role.COMMITTEE, compound=compound, username="ct-committee")
    companies = [PropertyCompany(name="安居物业", credit_code="91510400MA6BROWSE1"),
                 PropertyCompany(name="宜居物业", credit_code="91510400MA6BROWSE2")]
    db.session.add_all(companies)
    db.session.commit()
    compound_id, member_id, member_name = compound.id, member.id, member.display_name
    contract_id = drafted_contract(compound_id, companies[0].id, member_id)
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes
    today = beijing_date(utcnow())

    page = phone().new_page()
    page.goto(f"{live_server}/h5/login?next=/h5/compounds/{compound_id}/contracts")
    sign_in_here(page, "ct-committee")
    expect(page.locator("#contract-list [data-contract]")).to_have_count(1)
    expect(page.locator("#contract-list")).to_contain_text("安居物业")
    expect(page.locator("#selection-list")).to_contain_text("已决定")
    page.locator("#select-form").get_by_text("宜居物业").click()
    page.locator("#select-submit").click()
    expect(page.locator(".ll-flash")).to_have_text("已发起选聘表决，等待确定议题")
    expect(page.locator("#selection-list [data-selection]")).to_have_count(2)
    assert_fits_phone(page)

    page.locator(f"[data-contract='{contract_id}']").click()
    expect(page).to_have_url(f"{live_server}/h5/contracts/{contract_id}")
    expect(page.locator("#contract-status")).to_have_text("待签订")
    page.locator("#activate-submit").click()
    expect(page.locator("#error")).to_contain_text("合同期限、服务等级、合同文件")
    form = page.locator("#terms-form")
    form.locator("#term_start").fill(today.isoformat())
    form.locator("#term_end").fill(today.replace(year=today.year + 3).isoformat())
    form.locator("#service_level").select_option("2")
    form.locator("#contract-file-input").set_input_files(
        [{"name": "物业服务合同.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    assert_fits_phone(page)
    form.locator("#terms-submit").click()
    expect(page.locator(".ll-flash")).to_have_text("合同信息已保存")
    expect(page.locator("#contract-level")).to_have_text("二级")
    expect(page.locator("#contract-file")).to_contain_text("下载（PDF）")
    page.locator("#activate-submit").click()
    expect(page.locator("#contract-status")).to_have_text("履行中")
    expect(page.locator("#renew-form")).to_have_count(1)

    page.locator("#handover-start").click()
    expect(page).to_have_url(re.compile(rf"{live_server}/h5/handovers/\d+$"))
    inspection_id = int(page.url.rsplit("/", 1)[1])
    items = page.locator("#handover-items [data-item]")
    expect(items).to_have_count(10)
    first = items.first
    record = first.locator("form[data-action=record]")
    record.locator("select[name=state]").select_option("defective")
    record.locator("input[name=note]").fill("1栋屋面防水层开裂，雨天渗水")
    record.locator("input[name=photos]").set_input_files([photo_file("IMG_roof1.jpg"), photo_file("IMG_roof2.jpg")])
    assert_fits_phone(page)
    record.get_by_role("button", name="保存").click()
    expect(page.locator(".ll-flash")).to_have_text("已记录")
    first = page.locator("#handover-items [data-item]").first
    expect(first).to_have_attribute("data-state", "defective")
    expect(first.locator("[data-photos] img")).to_have_count(2)
    first.locator("[data-photos] img").last.scroll_into_view_if_needed()
    page.wait_for_function("[...document.querySelectorAll('[data-photos] img')].every(i => i.naturalWidth > 0)")

    second = page.locator("#handover-items [data-item]").nth(1)
    second.locator("summary").click()
    second.locator("select[name=state]").select_option("good")
    second.locator("form[data-action=record]").get_by_role("button", name="保存").click()
    expect(page.locator("#handover-items [data-item]").nth(1)).to_have_attribute("data-state", "good")
    expect(page.locator("#handover-open")).to_contain_text("还有 9 项")
    expect(page.locator("#sign-committee-form")).to_have_count(0)

    # The other eight are walked the same way; taken here through the service to keep the run short.
    for item in service.items_of(inspection_id)[2:]:
        service.record_item(inspection_id, item.id, member_id, ItemState.GOOD, "")
    db.session.close()
    page.reload()
    expect(page.locator("#handover-open")).to_contain_text("还有 1 项")
    page.locator("#handover-items [data-item]").first.locator("form[data-action=resolve]").get_by_role(
        "button", name="已整改，销项").click()
    expect(page.locator(".ll-flash")).to_have_text("已整改销项")
    expect(page.locator("#handover-open")).to_have_text("各项均已查验完毕")
    page.locator("#sign-committee").click()
    expect(page.locator(".ll-flash")).to_have_text("已签字")
    expect(page.locator("#handover-signatures [data-side=committee]")).to_contain_text(member_name)
    expect(page.locator("#handover-signatures [data-side=company]")).to_contain_text("未签字")
    expect(page.locator("#handover-items form")).to_have_count(0)
    assert_fits_phone(page)
    page.screenshot(path=str(artifacts / "contract-handover.png"), full_page=True)
