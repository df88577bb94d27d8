"""Deliberation (五步议事法) pages: who may open each page, every form of the five steps (propose, co-sign,
review, comment, hide, options, open, vote and change it, paper ballots, close, objections and answers, progress,
ratings), Chinese refusals with their 4xx status, the result page, the desk, the home tile's 待我表决, and
secrecy: a resident's pages never show another household's choice."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest
import time_machine

from backend.domain.consultations import Schedule, Step
from backend.domain.roles import Role
from backend.domain.voting import VoteKind, VoteRule
from backend.extensions import db
from backend.integrations.storage import LocalDiskStorage
from backend.models import ConsultationSettings, Household, Membership, Topic, VoteCast
from backend.pages import SHANGHAI
from backend.policy import roles_in_compound
from backend.services import consultations as service
from backend.services.consultations import Acceptance, OptionDraft
from backend.services.photos import STORAGE_EXTENSION
from backend.shared.clock import utcnow
from tests import photo_samples

pytestmark = pytest.mark.calendar


@pytest.fixture(autouse=True)
def photo_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.extensions, STORAGE_EXTENSION, LocalDiskStorage(tmp_path / "photos"))


@pytest.fixture
def compound(make_compound):
    """Three households in one building, so a ballot can be complete; co-sign threshold 2."""
    compound = make_compound(name="金沙苑小区", buildings=1, households_per_building=3)
    db.session.add(
        ConsultationSettings(
            compound_id=compound.id, cosign_threshold=2, residents_may_vote=False, publicity_days=7
        )
    )
    db.session.commit()
    return compound


@pytest.fixture
def households(compound):
    return list(
        db.session.scalars(
            db.select(Household).where(Household.compound_id == compound.id).order_by(Household.id)
        )
    )


@pytest.fixture
def browser(app, page_sign_in):
    """A phone signed in as `user`; `.csrf` is the token its forms carry, `.user` who it is."""

    def open_as(user):
        phone = app.test_client()
        phone.csrf = page_sign_in(phone, user)
        phone.user = user
        return phone

    return open_as


@pytest.fixture
def owners(compound, households, make_user, browser):
    """The verified owners of the three households, signed in."""
    return [browser(make_user(role=Role.OWNER, compound=compound, household=h)) for h in households]


@pytest.fixture
def committee(compound, make_user, browser):
    return browser(make_user(role=Role.COMMITTEE, compound=compound))


@pytest.fixture
def tenant(compound, households, make_user, browser):
    return browser(make_user(role=Role.RESIDENT, compound=compound, household=households[0]))


@pytest.fixture
def outsider(make_compound, make_user, browser):
    other = make_compound()
    household = db.session.scalars(db.select(Household).where(Household.compound_id == other.id)).first()
    return browser(make_user(role=Role.OWNER, compound=other, household=household))


@pytest.fixture
def visitor(app, compound, scan):
    """A neighbour who only scanned the compound's QR poster and never signed in."""
    phone = app.test_client()
    scan(phone, compound)
    return phone


def html(response) -> str:
    return response.get_data(as_text=True)


def text(response) -> str:
    return html_lib.unescape(html(response))


def person_of(user, compound):
    return service.participant(user.id, compound.id, roles_in_compound(user.id, compound.id))


def post(phone, path: str, **fields):
    """`files`: the form's photos; `photo`: a form's one photo."""
    files, photo = fields.pop("files", None), fields.pop("photo", None)
    data = {"csrf_token": phone.csrf} | fields
    if files or photo:
        data |= {"photos": files} if files else {"photo": photo}
        return phone.post(path, data=data, content_type="multipart/form-data")
    return phone.post(path, data=data)


def act(phone, topic_id: int, action: str, **fields) -> str:
    """Post one step's form; it must succeed (flash + redirect); returns the page it lands on."""
    response = post(phone, f"/h5/topics/{topic_id}/{action}", **fields)
    assert response.status_code == 302, text(response)[:800]
    assert response.headers["Location"].startswith(f"/h5/topics/{topic_id}")
    return text(phone.get(f"/h5/topics/{topic_id}"))


def refused(phone, topic_id: int, action: str, status: int, message: str, **fields) -> str:
    response = post(phone, f"/h5/topics/{topic_id}/{action}", **fields)
    page = text(response)
    assert response.status_code == status, page[:800]
    assert response.mimetype == "text/html" and message in page
    return page


def jpeg():
    return photo_samples.camera_jpeg().upload()


def step_of(topic_id: int) -> Step:
    db.session.expire_all()
    return db.session.get(Topic, topic_id).step


# ---- set-up through the service, for the tests of later steps ----------------------------------------------------


def proposed(owner, compound, households, title="加装电梯") -> int:
    topic = service.propose_topic(
        compound.id,
        person_of(owner.user, compound),
        households[0].id,
        title,
        "三栋老人多，上下楼困难，建议加装电梯。",
    )
    return topic.id


def deliberating(committee, compound, *, kind=VoteKind.OWNERS_JOINT, item=4, open_voting=False) -> int:
    person = person_of(committee.user, compound)
    topic = service.raise_topic(compound.id, person, "更换物业公司", "现物业服务差，建议选聘新物业。")
    schedule = Schedule(deliberation_ends_at=utcnow() + timedelta(days=3), voting_hours=72, publicity_days=7)
    service.accept_topic(
        topic.id,
        person,
        Acceptance(
            rule=VoteRule(kind, item), schedule=schedule, open_voting=open_voting, responsible_party="业委会"
        ),
    )
    return topic.id


def voting(committee, compound, **kwargs) -> int:
    topic_id = deliberating(committee, compound, **kwargs)
    person = person_of(committee.user, compound)
    service.set_options(
        topic_id,
        person,
        [OptionDraft("同意", is_approval=True), OptionDraft("不同意"), OptionDraft("弃权", is_abstain=True)],
    )
    service.open_ballot(topic_id, committee.user.id)
    return topic_id


def option_ids(topic_id: int) -> dict[str, int]:
    return {option.label: option.id for option in service.options_of(topic_id)}


def vote(owner, topic_id: int, household: Household, label: str) -> str:
    return act(
        owner, topic_id, "vote", household_id=str(household.id), option_id=str(option_ids(topic_id)[label])
    )


def closed(committee, owners, compound, households, choices=("同意", "同意", "不同意"), **kwargs) -> int:
    topic_id = voting(committee, compound, **kwargs)
    for owner, household, label in zip(owners, households, choices, strict=True):
        vote(owner, topic_id, household, label)
    act(committee, topic_id, "ballot/close", confirm="1")
    return topic_id


# ---- the list, the home tile and who may read ---------------------------------------------------------------------


def test_list_shows_tabs_buttons_and_the_owners_pending_ballots(owners, committee, compound):
    topic_id = voting(committee, compound)
    page = text(owners[0].get(f"/h5/c/{compound.code}/topics"))
    for label in ("征集中", "待确定", "协商中", "表决中", "公示与落实", "已结束"):
        assert label in page
    assert 'id="new-topic-link"' in page and 'id="desk-link"' not in page
    assert 'id="pending-ballots"' in page and "待我表决（1）" in page and "更换物业公司" in page

    voting_tab = text(owners[0].get(f"/h5/c/{compound.code}/topics?step=voting"))
    assert f'data-topic="{topic_id}"' in voting_tab.split('id="topics"')[1]
    assert "ll-tp-mini__seg_on" in voting_tab
    assert (
        f'data-topic="{topic_id}"'
        not in text(owners[0].get(f"/h5/c/{compound.code}/topics")).split('id="topics"')[1]
    )

    desk_view = text(committee.get(f"/h5/c/{compound.code}/topics?step=nonsense"))
    assert 'id="desk-link"' in desk_view and 'id="pending-ballots"' not in desk_view


def test_home_tile_links_to_topics_and_counts_my_pending_ballots(owners, committee, compound, households):
    home = text(owners[0].get(f"/h5/c/{compound.code}"))
    assert f'id="topics-link" href="/h5/c/{compound.code}/topics"' in home and "待我表决" not in home

    topic_id = voting(committee, compound)
    home = text(owners[0].get(f"/h5/c/{compound.code}"))
    assert 'id="pending-votes">待我表决 1<' in home

    vote(owners[0], topic_id, households[0], "同意")
    assert "待我表决" not in text(owners[0].get(f"/h5/c/{compound.code}"))
    assert "待我表决" not in text(committee.get(f"/h5/c/{compound.code}"))


def test_visitor_reads_pages_but_cannot_act(visitor, owners, committee, compound, households):
    topic_id = proposed(owners[0], compound, households)
    assert visitor.get(f"/h5/c/{compound.code}/topics").status_code == 200
    page = visitor.get(f"/h5/topics/{topic_id}")
    assert page.status_code == 200 and "三栋老人多" in text(page)
    assert 'id="comment-form"' not in text(page) and "/cosign" not in text(page)

    response = visitor.post(f"/h5/topics/{topic_id}/cosign", data={"household_id": str(households[1].id)})
    assert response.status_code == 302 and response.headers["Location"].startswith("/h5/login")
    assert visitor.get(f"/h5/c/{compound.code}/topics/new").status_code == 302
    assert visitor.get(f"/h5/c/{compound.code}/topics/desk").status_code == 302

    closed_id = closed(committee, owners, compound, households)
    assert visitor.get(f"/h5/topics/{closed_id}/result").status_code == 200


def test_strangers_are_sent_to_sign_in_or_see_nothing(app, outsider, owners, compound, households):
    topic_id = proposed(owners[0], compound, households)
    stranger = app.test_client()
    assert stranger.get(f"/h5/topics/{topic_id}").headers["Location"].startswith("/h5/login")
    assert stranger.get(f"/h5/c/{compound.code}/topics").headers["Location"].startswith("/h5/login")
    for path in (
        f"/h5/topics/{topic_id}",
        f"/h5/c/{compound.code}/topics",
        f"/h5/topics/{topic_id}/result",
        f"/h5/c/{compound.code}/topics/new",
        "/h5/topics/2147483647",
    ):
        assert outsider.get(path).status_code == 404, path
    assert post(outsider, f"/h5/topics/{topic_id}/cosign").status_code == 404
    assert post(owners[0], "/h5/topics/2147483647/cosign").status_code == 404


# ---- step 1: propose and co-sign ------------------------------------------------------------------------------


def test_owner_proposes_with_a_photo_and_a_neighbour_cosigns_to_review(
    owners, committee, compound, households
):
    form = text(owners[0].get(f"/h5/c/{compound.code}/topics/new"))
    assert f'name="household_id" value="{households[0].id}"' in form and "联名达到 2 户" in form
    assert 'name="raise"' not in form

    response = post(
        owners[0],
        f"/h5/c/{compound.code}/topics/new",
        title="加装电梯",
        body="老人上下楼困难",
        files=[jpeg()],
    )
    assert response.status_code == 302
    topic_id = int(re.fullmatch(r"/h5/topics/(\d+)", response.headers["Location"]).group(1))
    page = text(owners[0].get(f"/h5/topics/{topic_id}"))
    assert "议题已发起，联名达到2户后进入议题确定" in page
    assert 'id="cosign-count">1</strong> / 2 户' in page and "1栋1单元101室 已联名" in page
    assert 'aria-current="step"' in page and "发起人</label>" in page and "我 ·" in page
    [photo_url] = re.findall(rf'<img src="(/h5/topics/{topic_id}/photos/\d+)"', page)
    photo = owners[1].get(photo_url)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert photo.headers["Cache-Control"].startswith("private")

    neighbour_view = text(owners[1].get(f"/h5/topics/{topic_id}"))
    assert (
        "我家联名支持" in neighbour_view and "发起人</label>" in neighbour_view and "居民 ·" in neighbour_view
    )
    page = act(owners[1], topic_id, "cosign")
    assert "联名成功！已达到2户，议题进入“议题确定”" in page
    assert step_of(topic_id) is Step.REVIEW
    refused(owners[2], topic_id, "cosign", 409, "议题已不在征集阶段，不能再联名")


def test_the_proposer_adds_a_photo_from_the_page_until_the_topic_is_accepted(owners, committee, compound, households):
    topic_id = proposed(owners[0], compound, households)
    assert 'id="photo-form"' in text(owners[0].get(f"/h5/topics/{topic_id}"))
    assert 'id="photo-form"' not in text(owners[1].get(f"/h5/topics/{topic_id}"))
    refused(owners[1], topic_id, "photos", 403, "只有议题发起人可以添加照片", photo=jpeg())
    refused(owners[0], topic_id, "photos", 422, "请选择一张照片")

    page = act(owners[0], topic_id, "photos", photo=jpeg())
    assert "照片已添加" in page and len(re.findall(rf'<img src="/h5/topics/{topic_id}/photos/\d+"', page)) == 1


def test_cosign_refusals_are_chinese_with_their_status(
    owners, tenant, compound, households, make_user, browser
):
    topic_id = proposed(owners[0], compound, households)
    refused(owners[0], topic_id, "cosign", 409, "这户已经联名过了")
    refused(tenant, topic_id, "cosign", 409, "这户已经联名过了")
    refused(
        owners[1], topic_id, "cosign", 403, "只能以本人已认证的房屋联名", household_id=str(households[2].id)
    )
    refused(owners[1], topic_id, "cosign", 422, "请选择房屋", household_id="abc")

    unverified = make_user()
    db.session.add(
        Membership(
            user_id=unverified.id,
            role=Role.OWNER,
            compound_id=compound.id,
            household_id=households[2].id,
            verified_at=None,
        )
    )
    db.session.commit()
    phone = browser(unverified)
    refused(phone, topic_id, "cosign", 403, "您在本小区没有可用于此操作的已认证房屋")
    response = phone.get(f"/h5/c/{compound.code}/topics/new")
    assert response.status_code == 403 and "绑定并认证房屋后才能发起议题" in text(response)


def test_propose_form_refuses_missing_or_long_text_and_keeps_what_was_typed(owners, compound):
    response = post(owners[0], f"/h5/c/{compound.code}/topics/new", title="", body="楼道堆物太多")
    assert (
        response.status_code == 422
        and "请填写议题标题" in text(response)
        and "楼道堆物太多" in text(response)
    )
    response = post(owners[0], f"/h5/c/{compound.code}/topics/new", title="长" * 61, body="内容")
    assert response.status_code == 422 and "标题不能超过60个字" in text(response)
    response = post(
        owners[0],
        f"/h5/c/{compound.code}/topics/new",
        title="标题",
        body="内容",
        files=[photo_samples.php_named_jpg().upload()],
    )
    assert response.status_code == 422 and "不支持这种文件" in text(response)
    response = post(
        owners[0],
        f"/h5/c/{compound.code}/topics/new",
        title="标题",
        body="内容",
        files=[jpeg() for _ in range(7)],
    )
    assert response.status_code == 422 and "最多上传6张照片" in text(response)
    assert db.session.scalar(db.select(db.func.count()).select_from(Topic)) == 0


def test_committee_raises_a_topic_straight_to_review(committee, compound):
    form = text(committee.get(f"/h5/c/{compound.code}/topics/new"))
    assert 'type="hidden" name="raise" value="1"' in form and "直接提交确定" in form
    response = post(
        committee,
        f"/h5/c/{compound.code}/topics/new",
        title="小区停车收费",
        body="制定停车收费办法",
        **{"raise": "1"},
    )
    assert response.status_code == 302
    topic_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert step_of(topic_id) is Step.REVIEW
    assert "议题已提交，等待议题确定" in text(committee.get(f"/h5/topics/{topic_id}"))


# ---- step 2: review ----------------------------------------------------------------------------------------------


def review_fields(**overrides) -> dict:
    ends = (utcnow() + timedelta(days=3)).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    return {
        "decision": "accept",
        "vote_kind": "owners_joint",
        "civil_code_item": "4",
        "deliberation_ends_at": ends,
        "voting_amount": "3",
        "voting_unit": "days",
        "publicity_days": "7",
        "responsible_party": "业委会",
    } | overrides


def test_committee_accepts_an_owners_joint_decision(committee, owners, compound, households):
    topic_id = proposed(owners[0], compound, households)
    act(owners[1], topic_id, "cosign")
    form = text(committee.get(f"/h5/topics/{topic_id}"))
    assert 'id="accept-form"' in form and "（4）选聘和解聘物业服务企业或者其他管理人" in form
    assert "每户选了什么将对本小区所有人公开" in form
    assert 'id="accept-form"' not in text(owners[0].get(f"/h5/topics/{topic_id}"))

    page = act(committee, topic_id, "review", **review_fields())
    assert "议题已确定，进入协商讨论" in page
    assert "业主共同决定：第（4）项 选聘和解聘物业服务企业或者其他管理人" in page
    assert "不公开每户的选择" in page
    topic = db.session.get(Topic, topic_id)
    assert (topic.step, topic.vote_kind, topic.civil_code_item, topic.voting_hours, topic.publicity_days) == (
        Step.DELIBERATION,
        VoteKind.OWNERS_JOINT,
        4,
        72,
        7,
    )


def test_review_refusals_show_the_reason_and_keep_the_form(committee, owners, compound, households):
    topic_id = service.raise_topic(compound.id, person_of(committee.user, compound), "议题", "内容").id
    page = refused(
        committee,
        topic_id,
        "review",
        422,
        "第二百七十八条",
        **review_fields(civil_code_item="", responsible_party="物业公司"),
    )
    assert 'value="物业公司"' in page
    past = (utcnow() - timedelta(hours=1)).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    refused(
        committee,
        topic_id,
        "review",
        422,
        "协商讨论截止时间须晚于现在",
        **review_fields(deliberation_ends_at=past),
    )
    refused(
        committee,
        topic_id,
        "review",
        422,
        "表决时长须在24小时至60天之间",
        **review_fields(voting_amount="2", voting_unit="hours"),
    )
    refused(
        committee,
        topic_id,
        "review",
        422,
        "请选择协商讨论截止时间",
        **review_fields(deliberation_ends_at="明天"),
    )
    refused(committee, topic_id, "review", 422, "表决时长须在24小时至60天之间", **review_fields(voting_amount="99999"))
    # As in the API: a deliberation ending more than a year ahead is a typo in the year.
    two_years = (utcnow() + timedelta(days=730)).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    refused(
        committee,
        topic_id,
        "review",
        422,
        "协商讨论截止时间须在一年以内",
        **review_fields(deliberation_ends_at=two_years),
    )
    refused(owners[0], topic_id, "review", 403, "议题由小区党组织书记确定", **review_fields())
    assert step_of(topic_id) is Step.REVIEW


def test_committee_declines_or_merges_with_a_public_reason(committee, compound):
    person = person_of(committee.user, compound)
    first = service.raise_topic(compound.id, person, "议题甲", "内容").id
    second = service.raise_topic(compound.id, person, "议题乙", "内容").id
    third = service.raise_topic(compound.id, person, "议题丙", "内容").id

    refused(committee, first, "review", 422, "请填写不予采纳的原因", decision="decline", reason="")
    page = act(committee, first, "review", decision="decline", reason="属于物业合同范围，已转物业处理")
    assert "已决定不予采纳，原因已公开" in page and "属于物业合同范围，已转物业处理" in page

    refused(
        committee, second, "review", 422, "要合并到的议题不存在", decision="merge", merge_into_id=str(second)
    )
    page = act(committee, second, "review", decision="merge", merge_into_id=f"#{third}")
    assert f"已合并到议题 #{third}" in page and f'href="/h5/topics/{third}"' in page
    assert step_of(second) is Step.MERGED


# ---- step 3: comments and options ------------------------------------------------------------------------------


def test_comments_replies_and_moderation(committee, owners, compound):
    topic_id = deliberating(committee, compound)
    page = act(owners[0], topic_id, "comments", body="建议先公开现物业的服务考核")
    assert "评论已发布" in page and "建议先公开现物业的服务考核" in page
    comment = service.comments_page(topic_id, 1, 10).items[0]
    page = act(committee, topic_id, "comments", body="考核结果下周公示", parent_id=str(comment.id))
    assert "ll-tp-comment_reply" in page

    resident_view = text(owners[1].get(f"/h5/topics/{topic_id}"))
    assert "业委会 ·" in resident_view and committee.user.display_name not in resident_view
    assert f"{owners[0].user.display_name}（居民）" in text(committee.get(f"/h5/topics/{topic_id}"))

    refused(
        owners[1],
        topic_id,
        f"comments/{comment.id}/hide",
        403,
        "只有业委会成员或党组织书记可以隐藏评论",
        reason="无",
    )
    refused(committee, topic_id, f"comments/{comment.id}/hide", 422, "请填写隐藏原因", reason=" ")
    page = act(committee, topic_id, f"comments/{comment.id}/hide", reason="含有未经核实的指控")
    assert "该评论已被隐藏：含有未经核实的指控" in page
    assert "建议先公开现物业的服务考核" not in text(owners[1].get(f"/h5/topics/{topic_id}"))
    refused(owners[0], topic_id, "comments", 422, "请填写评论内容", body="")
    refused(owners[0], topic_id, "comments", 422, "要回复的评论不存在", body="回复", parent_id="999999")
    # A reply whose comment number is garbled is refused, not posted as a new comment of its own.
    before = service.comments_page(topic_id, 1, 10).total
    refused(owners[0], topic_id, "comments", 422, "要回复的评论不存在", body="回复", parent_id="abc")
    assert service.comments_page(topic_id, 1, 10).total == before


def test_committee_drafts_options_and_opens_the_ballot(committee, owners, compound):
    topic_id = deliberating(committee, compound)
    refused(owners[0], topic_id, "options", 403, "只有业委会成员或党组织书记可以拟定表决选项", kind="motion")
    refused(
        committee, topic_id, "options", 422, "表决选项须为2至20个", kind="candidates", candidates="甲物业"
    )
    refused(committee, topic_id, "ballot/open", 409, "请先拟定至少两个表决选项")

    page = act(
        committee,
        topic_id,
        "options",
        kind="candidates",
        candidates="甲物业\n乙物业\n\n甲物业",
        with_abstain="1",
    )
    assert "表决选项已保存：甲物业、乙物业、弃权" in page
    page = act(committee, topic_id, "options", kind="motion")
    assert (
        "表决选项已保存：同意、不同意、弃权" in page
        and 'id="open-ballot-form"' in page
        and "表决 3天" in page
    )

    refused(owners[0], topic_id, "ballot/open", 403, "只有业委会成员或党组织书记可以开启表决")
    page = act(committee, topic_id, "ballot/open", confirm="1")
    assert "表决已开始" in page and step_of(topic_id) is Step.VOTING
    assert 'id="turnout-area"' in page and 'id="turnout-heads"' in page and 'id="roll"' in page
    refused(committee, topic_id, "options", 409, "只能在协商讨论阶段拟定表决选项", kind="motion")


# ---- step 4: the ballot ------------------------------------------------------------------------------------------


def test_owner_votes_changes_the_vote_and_sees_the_receipt(owners, committee, compound, households):
    topic_id = voting(committee, compound)
    page = text(owners[0].get(f"/h5/topics/{topic_id}"))
    assert f'id="vote-{households[0].id}"' in page and "当前选择" not in page
    assert "已表决 0.00㎡" in page

    page = vote(owners[0], topic_id, households[0], "同意")
    assert "已记录您家的表决：同意。表决截止前可以修改" in page
    assert re.search(r'data-option="同意">同意<span class="ll-tp-vote__mark">当前选择</span>', page)
    assert "本户已表决：<strong>同意</strong>（线上表决" in page

    page = vote(owners[0], topic_id, households[0], "不同意")
    assert re.search(r'data-option="不同意">不同意<span class="ll-tp-vote__mark">当前选择</span>', page)
    assert "本户已表决：<strong>不同意</strong>" in page
    casts = db.session.scalars(db.select(VoteCast).where(VoteCast.topic_id == topic_id)).all()
    assert len(casts) == 2
    assert "已表决 1 人 / 业主 3 人（33.3%），未达到三分之二" in page


def test_vote_refusals_are_chinese_never_500(owners, tenant, committee, compound, households, browser):
    topic_id = voting(committee, compound)
    other_topic = voting(committee, compound)
    agree = str(option_ids(topic_id)["同意"])
    refused(tenant, topic_id, "vote", 403, "您在本小区没有可用于此操作的已认证房屋", option_id=agree)
    refused(
        tenant,
        topic_id,
        "vote",
        403,
        "只有这户已认证的业主可以表决",
        household_id=str(households[0].id),
        option_id=agree,
    )
    refused(
        owners[0],
        topic_id,
        "vote",
        403,
        "只有这户已认证的业主可以表决",
        household_id=str(households[1].id),
        option_id=agree,
    )
    refused(owners[0], topic_id, "vote", 422, "请选择一个表决选项", option_id="同意")
    refused(
        owners[0], topic_id, "vote", 422, "没有这个表决选项", option_id=str(option_ids(other_topic)["同意"])
    )
    refused(committee, topic_id, "vote", 403, "只有已认证房屋的业主可以表决", option_id=agree)

    with time_machine.travel(utcnow() + timedelta(days=4)):
        # Days later the session has expired: the owner signs in again.
        refused(browser(owners[0].user), topic_id, "vote", 409, "表决已截止", option_id=agree)


def test_committee_records_a_paper_ballot_with_its_photo(owners, committee, compound, households):
    topic_id = voting(committee, compound)
    building_id = str(households[2].building_id)
    fields = {
        "building_id": building_id,
        "unit": "1",
        "room": households[2].room,
        "option_id": str(option_ids(topic_id)["同意"]),
        "channel": "paper",
    }
    refused(committee, topic_id, "paper-votes", 422, "请拍摄一张书面表决票或委托书的照片", **fields)
    refused(
        committee, topic_id, "paper-votes", 422, "找不到该房屋", **fields | {"room": "999"}, photo=jpeg()
    )
    refused(
        owners[0],
        topic_id,
        "paper-votes",
        403,
        "只有业委会成员或党组织书记可以录入书面表决",
        **fields,
        photo=jpeg(),
    )

    page = act(committee, topic_id, "paper-votes", **fields, photo=jpeg())
    assert f"已录入1栋1单元{households[2].room}室的书面表决票" in page
    assert "同意" not in page.split('id="roll"')[1].split("</table>")[0]

    owner_page = text(owners[2].get(f"/h5/topics/{topic_id}"))
    assert "本户已表决：<strong>同意</strong>（书面表决票" in owner_page
    [photo] = [p for p in service.photos_of(topic_id) if p.vote_cast_id]
    assert owners[2].get(f"/h5/topics/{topic_id}/photos/{photo.id}").status_code == 404
    assert committee.get(f"/h5/topics/{topic_id}/photos/{photo.id}").status_code == 200


def test_close_is_refused_early_until_every_household_voted(owners, committee, compound, households):
    topic_id = voting(committee, compound)
    vote(owners[0], topic_id, households[0], "同意")
    refused(committee, topic_id, "ballot/close", 409, "未到，且仍有住户未表决，不能提前结束")
    refused(owners[0], topic_id, "ballot/close", 403, "只有业委会成员或党组织书记可以结束表决")
    vote(owners[1], topic_id, households[1], "同意")
    vote(owners[2], topic_id, households[2], "不同意")
    page = act(committee, topic_id, "ballot/close", confirm="1")
    assert "表决已结束：表决通过，结果已公示" in page and step_of(topic_id) is Step.PUBLICITY
    assert 'id="result-link"' in page and "本户未参与表决" not in page
    assert "本户已表决：<strong>同意</strong>" in text(owners[0].get(f"/h5/topics/{topic_id}"))


def test_a_ballot_that_ran_its_window_closes_with_too_few_voters(
    owners, committee, compound, households, browser
):
    topic_id = voting(committee, compound)
    vote(owners[0], topic_id, households[0], "同意")
    with time_machine.travel(utcnow() + timedelta(days=3, minutes=1)):
        act(browser(committee.user), topic_id, "ballot/close", confirm="1")
    result = text(owners[1].get(f"/h5/topics/{topic_id}/result"))
    assert "未通过" in result and "未达到参与表决要求" in result
    assert "参与表决人数 1 人，占业主总人数 3 人的 33.3%，要求不低于三分之二 ✗" in result


# ---- the result and secrecy ----------------------------------------------------------------------------------------


def test_result_page_explains_the_figures_and_lists_the_households(owners, committee, compound, households):
    topic_id = closed(committee, owners, compound, households)
    response = owners[0].get(f"/h5/topics/{topic_id}/result")
    assert response.status_code == 200
    page = text(response)
    assert 'class="ll-tp-verdict__word">通过<' in page
    assert "参与表决的业主须占专有部分面积三分之二以上且占业主人数三分之二以上" in page
    assert "第（4）项“选聘和解聘物业服务企业或者其他管理人”" in page
    assert "同意的业主须占参与表决专有部分面积过半数，且占参与表决人数过半数" in page
    assert "选择「同意」的人数 2 人，占参与表决人数 3 人的 66.7%，要求超过二分之一 ✓" in page
    assert "结论：表决通过" in page
    figures = page.split('id="option-figures"')[1].split("</table>")[0]
    assert re.search(r'data-option="同意">.*?<td>2</td>', figures, re.S)
    counted = page.split('id="counted"')[1]
    assert "计入表决的房屋（3户）" in page
    for household in households:
        assert f'data-household="{household.id}"><td>1栋1单元{household.room}室</td></tr>' in counted
    assert "同意" not in counted.split("</table>")[0] and "选择</th>" not in counted


def test_candidate_ballot_result_has_one_block_per_candidate(owners, committee, compound, households):
    topic_id = deliberating(committee, compound, item=3)
    service.set_options(
        topic_id,
        person_of(committee.user, compound),
        [OptionDraft("张三"), OptionDraft("李四"), OptionDraft("弃权", is_abstain=True)],
    )
    service.open_ballot(topic_id, committee.user.id)
    for owner, household, label in zip(owners, households, ("张三", "张三", "李四"), strict=True):
        vote(owner, topic_id, household, label)
    act(committee, topic_id, "ballot/close", confirm="1")
    page = text(owners[0].get(f"/h5/topics/{topic_id}/result"))
    explain = page.split('id="explain"')[1].split('id="thresholds"')[0]
    assert (
        'data-option="张三"' in explain
        and 'data-option="李四"' in explain
        and 'data-option="弃权"' not in explain
    )
    assert "选择某一候选项的业主须占" in page


def test_open_voting_result_shows_each_households_choice(owners, committee, compound, households):
    topic_id = closed(committee, owners, compound, households, open_voting=True)
    detail = text(owners[0].get(f"/h5/topics/{topic_id}"))
    assert "公开表决：结果公布时公开每户的选择" in detail
    counted = text(owners[0].get(f"/h5/topics/{topic_id}/result")).split('id="counted"')[1]
    assert (
        f'data-household="{households[2].id}"><td>1栋1单元{households[2].room}室</td><td>不同意</td>'
        in counted
    )


def test_no_page_shows_a_resident_another_households_choice(owners, committee, compound, households):
    topic_id = voting(committee, compound)
    vote(owners[1], topic_id, households[1], "不同意")
    vote(owners[2], topic_id, households[2], "弃权")
    vote(owners[0], topic_id, households[0], "同意")

    def receipts(page: str) -> list[str]:
        return re.findall(r'id="receipt-(\d+)">本户已表决：<strong>([^<]+)</strong>', page)

    detail = text(owners[0].get(f"/h5/topics/{topic_id}"))
    assert receipts(detail) == [(str(households[0].id), "同意")]
    assert f'data-household="{households[1].id}"' not in detail and "当前选择" in detail
    assert detail.count("当前选择") == 1 and 'id="roll"' not in detail

    committee_view = text(committee.get(f"/h5/topics/{topic_id}"))
    roll = committee_view.split('id="roll"')[1].split("</table>")[0]
    assert roll.count("已表决") == 3 and not re.search("同意|弃权", roll) and receipts(committee_view) == []

    act(committee, topic_id, "ballot/close", confirm="1")
    for path in (f"/h5/topics/{topic_id}", f"/h5/topics/{topic_id}/result"):
        page = text(owners[0].get(path))
        assert receipts(page) == ([(str(households[0].id), "同意")] if "result" not in path else [])
        for household in households[1:]:
            row = re.search(rf'data-household="{household.id}">(.*?)</tr>', page)
            assert row is None or not re.search("同意|弃权", row.group(1))


# ---- step 5: objections, progress, ratings ----------------------------------------------------------------------


def test_objection_answer_progress_and_rating(owners, tenant, committee, compound, households):
    topic_id = closed(committee, owners, compound, households)
    refused(tenant, topic_id, "objections", 403, "只有已认证的业主可以提出异议", body="有异议")
    refused(owners[0], topic_id, "objections", 422, "请写明异议内容", body="")
    page = act(owners[2], topic_id, "objections", body="我家的书面表决票没有被录入")
    assert "异议已提交，业委会将公开答复" in page and "等待业委会答复" in page

    desk = text(committee.get(f"/h5/c/{compound.code}/topics/desk"))
    assert f'data-topic="{topic_id}"' in desk.split('id="desk-objections"')[1]
    objection = service.objections(topic_id)[0]
    refused(
        owners[0],
        topic_id,
        f"objections/{objection.id}/answer",
        403,
        "只有业委会成员或党组织书记可以答复异议",
        answer="答复",
    )
    page = act(committee, topic_id, f"objections/{objection.id}/answer", answer="经核对，该户线上表决已计入")
    assert "公开答复：</strong>经核对，该户线上表决已计入" in text(owners[1].get(f"/h5/topics/{topic_id}"))
    refused(committee, topic_id, "progress", 409, "议题不在落实阶段", body="进展")

    with time_machine.travel(utcnow() + timedelta(days=8)):
        assert service.advance_topic(topic_id, utcnow()) is Step.IMPLEMENTATION
    refused(owners[0], topic_id, "progress", 403, "只有落实责任方可以发布进展", body="进展")
    page = act(committee, topic_id, "progress", body="已与新物业签订合同", files=[jpeg()])
    assert "落实进展已发布" in page and "已与新物业签订合同" in page
    progress_photos = re.findall(
        rf'<img src="(/h5/topics/{topic_id}/photos/\d+)"', page.split('id="progress"')[1]
    )
    assert len(progress_photos) == 1 and owners[1].get(progress_photos[0]).status_code == 200

    refused(owners[0], topic_id, "rate", 422, "请选择1到5星的评分", stars="6")
    page = act(owners[0], topic_id, "rate", stars="4", comment="交接顺利")
    assert (
        "感谢您的评价" in page
        and "平均 <strong>4.0</strong> 星（1 户评价）" in page
        and "本户已评 4 星" in page
    )
    page = act(owners[1], topic_id, "rate", stars="5")
    assert "平均 <strong>4.5</strong> 星（2 户评价）" in page

    page = act(committee, topic_id, "progress", body="新物业已进场", is_final="1")
    assert "已标记落实完成" in page and step_of(topic_id) is Step.DONE and "已办结" in page


def test_the_objection_form_goes_when_the_publicity_period_ends_though_an_answer_holds_it(
    owners, committee, compound, households, browser
):
    topic_id = closed(committee, owners, compound, households)
    act(owners[2], topic_id, "objections", body="我家的书面表决票没有被录入")
    assert 'id="objection-form"' in text(owners[0].get(f"/h5/topics/{topic_id}"))

    publicity_ends_at = db.session.get(Topic, topic_id).publicity_ends_at
    with time_machine.travel(publicity_ends_at + timedelta(minutes=5), tick=False):
        assert service.advance_topic(topic_id, utcnow()) is None
        late = browser(owners[0].user)
        page = text(late.get(f"/h5/topics/{topic_id}"))
        assert step_of(topic_id) is Step.PUBLICITY and "等待业委会答复" in page
        assert 'id="objection-form"' not in page
        refused(late, topic_id, "objections", 409, "只能在结果公示期内提出异议", body="还有异议")


# ---- the desk and following ---------------------------------------------------------------------------------------


def test_desk_lists_what_waits_for_the_committee(owners, committee, compound, households):
    review_id = service.raise_topic(compound.id, person_of(committee.user, compound), "待确定议题", "内容").id
    drafting_id = deliberating(committee, compound)
    ballot_id = voting(committee, compound)
    vote(owners[0], ballot_id, households[0], "同意")

    response = committee.get(f"/h5/c/{compound.code}/topics/desk")
    assert response.status_code == 200
    page = text(response)
    assert f'data-topic="{review_id}"' in page.split('id="desk-review"')[1].split('id="desk-options"')[0]
    options = page.split('id="desk-options"')[1].split('id="desk-ballots"')[0]
    assert f'data-topic="{drafting_id}"' in options and "尚未拟定表决选项" in options
    assert "已表决 1 / 3 户（33.3%）" in page.split('id="desk-ballots"')[1]
    assert f'id="meetings-link" href="/h5/c/{compound.code}/meetings"' in page
    assert owners[0].get(f"/h5/c/{compound.code}/topics/desk").status_code == 403


def test_a_neighbour_follows_a_topic(owners, compound, households):
    topic_id = proposed(owners[0], compound, households)
    assert 'id="follow"' not in text(owners[0].get(f"/h5/topics/{topic_id}"))
    page = act(owners[1], topic_id, "follow")
    assert "已关注，议题进展会通知您" in page and 'id="follow"' not in page
    assert service.follows(topic_id, owners[1].user.id)


def test_pages_fit_the_large_text_mode(owners, committee, compound, households):
    topic_id = closed(committee, owners, compound, households)
    owners[0].post("/h5/settings/large-text", data={"enable": "1", "csrf_token": owners[0].csrf})
    for path in (f"/h5/topics/{topic_id}", f"/h5/topics/{topic_id}/result", f"/h5/c/{compound.code}/topics"):
        response = owners[0].get(path)
        assert response.status_code == 200 and 'class="large-text"' in html(response), path
