"""A topic through the five steps (五步议事法) in a real browser on a 375 px WeChat phone: an owner proposes,
a neighbour co-signs to the threshold, the committee accepts it as an owners' joint decision (item 4), an owner
comments, the committee drafts 同意/不同意/弃权 and opens the ballot (the page asks first), every owner votes (one changes the vote),
the committee closes early because every household has voted, and everyone reads the result page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from backend.domain.roles import Role
from backend.extensions import db
from backend.models import ConsultationSettings, Household
from tests.h5.phone import assert_fits_phone
from tests.support import TEST_PASSWORD

pytestmark = pytest.mark.live



def sign_in(page: Page, live_server: str, username: str, next_path: str) -> None:
    page.goto(f"{live_server}/h5/login?next={next_path}")
    form = page.locator("#password-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(TEST_PASSWORD)
    form.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server}{next_path}")


def vote_button(page: Page, label: str):
    return page.locator(f"#ballot button[data-option='{label}']")


def test_topic_from_proposal_to_published_result(
    live_server, make_compound, area_tree, make_user, phone, artifacts
):
    compound = make_compound(name="金沙苑小区", area=area_tree[3], buildings=1, households_per_building=3)
    db.session.add(
        ConsultationSettings(
            compound_id=compound.id, cosign_threshold=2, residents_may_vote=False, publicity_days=7
        )
    )
    households = list(
        db.session.scalars(
            db.select(Household).where(Household.compound_id == compound.id).order_by(Household.id)
        )
    )
    for name, household in zip(("cs-a", "cs-b", "cs-c"), households, strict=True):
        make_user(role=Role.OWNER, compound=compound, household=household, username=name)
    make_user(role=Role.COMMITTEE, compound=compound, username="cs-committee")
    code = compound.code
    first_household_id = households[0].id
    db.session.commit()
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes

    # 1 议题征集: an owner proposes from the compound's home page.
    owner_a = phone().new_page()
    sign_in(owner_a, live_server, "cs-a", f"/h5/c/{code}")
    owner_a.locator("#topics-link").click()
    expect(owner_a.locator("h1")).to_have_text("议事协商")
    owner_a.get_by_role("link", name="发起议题").click()
    form = owner_a.locator("#topic-form")
    form.locator("input[name=title]").fill("三栋加装电梯")
    form.locator("textarea[name=body]").fill("三栋老人多，上下楼困难，建议申请加装电梯补贴。")
    assert_fits_phone(owner_a)
    owner_a.screenshot(path=str(artifacts / "consultation-propose.png"), full_page=True)
    form.get_by_role("button", name="发起议题").click()
    expect(owner_a).to_have_url(re.compile(rf"{live_server}/h5/topics/\d+$"))
    topic_url = owner_a.url
    topic_path = topic_url.removeprefix(live_server)
    expect(owner_a.locator(".ll-flash")).to_have_text("议题已发起，联名达到2户后进入议题确定")
    expect(owner_a.locator("#cosign-count")).to_have_text("1")
    expect(owner_a.locator("#step-bar [aria-current=step]")).to_contain_text("议题征集")

    # A neighbour co-signs: the threshold (2) is reached and the topic moves to review.
    owner_b = phone().new_page()
    sign_in(owner_b, live_server, "cs-b", topic_path)
    owner_b.get_by_role("button", name="我家联名支持").click()
    expect(owner_b.locator(".ll-flash")).to_have_text("联名成功！已达到2户，议题进入“议题确定”")
    expect(owner_b.locator("#topic-state")).to_contain_text("议题确定")

    # 2 议题确定: the committee (no party organisation here) accepts it as an owners' joint decision, item 4.
    committee = phone().new_page()
    sign_in(committee, live_server, "cs-committee", f"/h5/c/{code}/topics/desk")
    committee.locator("#desk-review a").first.click()
    expect(committee).to_have_url(f"{topic_url}#review")
    accept = committee.locator("#accept-form")
    accept.get_by_label("业主共同决定（《民法典》第二百七十八条）").check()
    accept.locator("select[name=civil_code_item]").select_option("4")
    accept.locator("input[name=voting_amount]").fill("1")
    assert_fits_phone(committee)
    committee.screenshot(path=str(artifacts / "consultation-review.png"), full_page=True)
    accept.get_by_role("button", name="确定议题，进入协商讨论").click()
    expect(committee.locator(".ll-flash")).to_have_text("议题已确定，进入协商讨论")
    expect(committee.locator("#vote-kind")).to_contain_text("第（4）项 选聘和解聘物业服务企业或者其他管理人")

    # 3 协商讨论: an owner speaks; the committee drafts the motion's options and opens the ballot.
    owner_c = phone().new_page()
    sign_in(owner_c, live_server, "cs-c", topic_path)
    comment = owner_c.locator("#comment-form")
    comment.locator("textarea[name=body]").fill("支持，但希望一楼住户的意见也被听到")
    comment.get_by_role("button", name="发表评论").click()
    expect(owner_c.locator(".ll-flash")).to_have_text("评论已发布")
    expect(owner_c.locator("#comments")).to_contain_text("支持，但希望一楼住户的意见也被听到")

    committee.reload()
    committee.get_by_role("button", name="使用“同意 / 不同意 / 弃权”").click()
    expect(committee.locator(".ll-flash")).to_contain_text("表决选项已保存：同意、不同意、弃权")
    committee.get_by_role("button", name="开启表决").click()
    # It cannot be undone: the page asks first, and says the deliberation would end before its date.
    expect(committee.locator("h1")).to_have_text("开启表决？")
    expect(committee.locator("[data-warning]").first).to_contain_text("现在开启表决会提前结束讨论")
    assert_fits_phone(committee)
    committee.get_by_role("button", name="确认开启表决").click()
    expect(committee.locator(".ll-flash")).to_contain_text("表决已开始")
    expect(committee.locator("#turnout-area")).to_contain_text("未达到三分之二")

    # 4 表决决议: the owner sees 待我表决 at home, votes, and changes the vote.
    owner_a.goto(f"{live_server}/h5/c/{code}")
    expect(owner_a.locator("#pending-votes")).to_have_text("待我表决 1")
    owner_a.locator("#topics-link").click()
    owner_a.locator("#pending-ballots a").first.click()
    agree = vote_button(owner_a, "同意")
    box = agree.bounding_box()
    assert box["width"] >= 330 and box["height"] >= 52, box
    agree.click()
    expect(owner_a.locator(".ll-flash")).to_have_text("已记录您家的表决：同意。表决截止前可以修改")
    expect(vote_button(owner_a, "同意")).to_contain_text("当前选择")
    vote_button(owner_a, "不同意").click()
    expect(owner_a.locator(".ll-flash")).to_have_text("已记录您家的表决：不同意。表决截止前可以修改")
    expect(vote_button(owner_a, "不同意")).to_contain_text("当前选择")
    expect(vote_button(owner_a, "同意")).not_to_contain_text("当前选择")
    expect(owner_a.locator(f"#receipt-{first_household_id}")).to_contain_text("本户已表决：不同意（线上表决")
    expect(owner_a.locator("#turnout-heads")).to_contain_text("已表决 1 人 / 业主 3 人")
    assert_fits_phone(owner_a)
    owner_a.screenshot(path=str(artifacts / "consultation-vote.png"), full_page=True)

    for page in (owner_b, owner_c):
        page.goto(topic_url)
        vote_button(page, "同意").click()
        expect(page.locator(".ll-flash")).to_contain_text("已记录您家的表决：同意")
    # Secret vote: a neighbour's page shows only their own household's receipt.
    expect(owner_c.locator(".ll-tp-receipt")).to_have_count(1)
    expect(owner_c.locator("main")).not_to_contain_text("本户已表决：不同意")

    # Every household has voted, so the committee may close before the window ends.
    committee.reload()
    expect(committee.locator("#roll")).to_contain_text("已表决")
    expect(committee.locator("#roll")).not_to_contain_text("不同意")
    assert_fits_phone(committee)
    committee.screenshot(path=str(artifacts / "consultation-committee-ballot.png"), full_page=True)
    committee.get_by_role("button", name="结束表决并计票").click()
    expect(committee.locator("#confirm-sentence")).to_contain_text("已表决的3户计票")
    committee.get_by_role("button", name="确认结束表决并计票").click()
    expect(committee.locator(".ll-flash")).to_have_text("表决已结束：表决通过，结果已公示")
    expect(committee.locator("#step-bar [aria-current=step]")).to_contain_text("公示监督")

    # 5 公示: everyone reads the result in plain Chinese, with the households counted but not their choices.
    owner_c.reload()
    owner_c.locator("#result-link").click()
    expect(owner_c).to_have_url(f"{topic_url}/result")
    expect(owner_c.locator("#verdict")).to_contain_text("通过")
    expect(owner_c.locator("#explain")).to_contain_text(
        "选择「同意」的人数 2 人，占参与表决人数 3 人的 66.7%"
    )
    expect(owner_c.locator("#thresholds")).to_contain_text(
        "参与表决的业主须占专有部分面积三分之二以上且占业主人数三分之二以上"
    )
    expect(owner_c.locator("#counted tbody tr")).to_have_count(3)
    expect(owner_c.locator("#counted")).not_to_contain_text("不同意")
    assert_fits_phone(owner_c)
    owner_c.screenshot(path=str(artifacts / "consultation-result.png"), full_page=True)

    # 适老化: the result and the topic in large text still fit the phone.
    owner_c.get_by_role("button", name="大字模式").click()
    expect(owner_c.locator("body")).to_have_class(re.compile(r"\blarge-text\b"))
    assert_fits_phone(owner_c)
    owner_c.screenshot(path=str(artifacts / "consultation-result-large-text.png"), full_page=True)
    owner_c.goto(topic_url)
    assert_fits_phone(owner_c)
    owner_c.screenshot(path=str(artifacts / "consultation-topic-large-text.png"), full_page=True)
