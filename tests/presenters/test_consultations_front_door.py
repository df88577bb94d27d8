"""One front door for deliberation (五步议事法): for every kind of person and a topic in every step, the API and the
page show the same things and offer the same actions — the topic (its options, my households' ballots, my
co-signs, who proposed it), the list with what one may start there, 我的表决 and 待我表决. The page's forms carry
`data-action`, the API's detail `actions`: a check made in one front door and not the other fails here."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from backend.domain.compounds import PartyOrgForm
from backend.domain.consultations import Schedule, Step
from backend.domain.roles import Role
from backend.domain.voting import VoteKind, VoteRule
from backend.extensions import db
from backend.integrations.storage import LocalDiskStorage
from backend.models import Compound, Household, User
from backend.pages.consultations import TABS
from backend.policy import roles_in_compound
from backend.request_context import ENTRY_COOKIE, ENTRY_HEADER
from backend.services import consultations as service
from backend.services.auth import issue_tokens
from backend.services.consultations import Acceptance, OptionDraft
from backend.services.photos import STORAGE_EXTENSION, prepare_photo
from backend.services.qr import make_entry_token
from backend.shared.clock import utcnow
from tests import photo_samples

MOTION = (OptionDraft("同意", is_approval=True), OptionDraft("不同意"), OptionDraft("弃权", is_abstain=True))
ROLES = (
    "owner_on_roll", "owner_who_voted", "tenant", "committee", "party_secretary", "manager", "staff", "official",
    "qr_visitor", "stranger",
)


@pytest.fixture(autouse=True)
def photo_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.extensions, STORAGE_EXTENSION, LocalDiskStorage(tmp_path / "photos"))


@dataclass
class World:
    compound: Compound
    people: dict[str, User | None]
    topics: dict[Step, int]


def _person(user: User, compound: Compound):
    return service.participant(user.id, compound.id, roles_in_compound(user.id, compound.id))


def _accepted(desk, secretary, title: str, now) -> int:
    """Raised by the committee, accepted by the secretary at `now`: an ordinary consultation, a day's ballot."""
    topic = service.raise_topic(desk.compound_id, desk, title, "内容")
    schedule = Schedule(now + timedelta(hours=1), 24, 1)
    service.accept_topic(topic.id, secretary, Acceptance(VoteRule(VoteKind.CONSULTATION), schedule), now=now)
    return topic.id


def _closed(desk, secretary, voters, title: str, opened) -> int:
    """A ballot opened at `opened`, voted 同意 by `voters` and closed at its end: it passed."""
    topic_id = _accepted(desk, secretary, title, opened - timedelta(hours=2))
    options = service.set_options(topic_id, desk, MOTION)
    service.open_ballot(topic_id, desk.user_id, now=opened)
    for voter, household_id in voters:
        service.cast_vote(topic_id, voter, household_id, options[0].id, now=opened + timedelta(hours=1))
    service.close_ballot(topic_id, desk.user_id, now=opened + timedelta(hours=24))
    return topic_id


@pytest.fixture
def world(make_compound, make_user, make_area) -> World:
    """A compound with a party organisation (so the committee does not review) and a topic in every step."""
    area = make_area()
    compound = make_compound(area=area, buildings=1, households_per_building=4)
    compound.party_org_form = PartyOrgForm.SINGLE
    db.session.commit()
    homes = list(db.session.scalars(
        select(Household).where(Household.compound_id == compound.id).order_by(Household.id)))
    elsewhere = make_compound()
    people = {
        "owner_on_roll": make_user(Role.OWNER, compound, household=homes[0]),
        "owner_who_voted": make_user(Role.OWNER, compound, household=homes[1]),
        "tenant": make_user(Role.RESIDENT, compound, household=homes[2]),
        "committee": make_user(Role.COMMITTEE, compound),
        "party_secretary": make_user(Role.PARTY_SECRETARY, compound),
        "manager": make_user(Role.MANAGER, compound),
        "staff": make_user(Role.STAFF, compound),
        "official": make_user(Role.OFFICIAL, area=area),
        "qr_visitor": None,
        "stranger": make_user(Role.OWNER, elsewhere, household=db.session.scalars(
            select(Household).where(Household.compound_id == elsewhere.id)).first()),
    }
    desk, secretary = _person(people["committee"], compound), _person(people["party_secretary"], compound)
    on_roll, voted = _person(people["owner_on_roll"], compound), _person(people["owner_who_voted"], compound)
    now = utcnow()
    topics: dict[Step, int] = {}

    photo = prepare_photo(photo_samples.camera_jpeg(160, 120).stream())
    topics[Step.PROPOSED] = service.propose_topic(compound.id, voted, homes[1].id, "加装电梯", "老人多", [photo]).id
    topics[Step.REVIEW] = service.raise_topic(compound.id, desk, "停车收费", "制定办法").id

    topics[Step.DELIBERATION] = _accepted(desk, secretary, "更换大门", now)
    service.set_options(topics[Step.DELIBERATION], desk, MOTION)
    service.add_comment(topics[Step.DELIBERATION], on_roll.user_id, "赞成")

    topics[Step.VOTING] = _accepted(desk, secretary, "楼道照明", now - timedelta(hours=2))
    options = service.set_options(topics[Step.VOTING], desk, MOTION)
    service.open_ballot(topics[Step.VOTING], desk.user_id, now=now - timedelta(minutes=30))
    service.cast_vote(topics[Step.VOTING], voted, homes[1].id, options[1].id, now=now - timedelta(minutes=20))

    topics[Step.PUBLICITY] = _closed(desk, secretary, [(voted, homes[1].id)], "绿化改造", now - timedelta(hours=30))
    service.file_objection(topics[Step.PUBLICITY], on_roll, homes[0].id, "计票有误")

    ended = now - timedelta(days=5)
    topics[Step.IMPLEMENTATION] = _closed(desk, secretary, [(voted, homes[1].id)], "路灯更换", ended)
    topics[Step.DONE] = _closed(desk, secretary, [(on_roll, homes[0].id)], "晾衣架", ended)
    for step in (Step.IMPLEMENTATION, Step.DONE):
        assert service.advance_topic(topics[step], now) is Step.IMPLEMENTATION
        service.post_progress(topics[step], desk, "已开工", is_final=False)
        service.rate_implementation(topics[step], voted, homes[1].id, 4)
    service.post_progress(topics[Step.DONE], desk, "已完工", is_final=True)

    topics[Step.DECLINED] = service.raise_topic(compound.id, desk, "私搭乱建", "拆除").id
    service.decline_topic(topics[Step.DECLINED], secretary, "属于城管职责")
    topics[Step.MERGED] = service.raise_topic(compound.id, desk, "加装电梯二", "同上").id
    service.merge_topic(topics[Step.MERGED], secretary, topics[Step.PROPOSED])
    return World(compound=compound, people=people, topics=topics)


@dataclass
class Door:
    """The same person at both doors: an API client and a phone reading the pages."""

    api: object
    headers: dict[str, str]
    phone: object

    def get_json(self, path: str):
        return self.api.get(f"/api/v1{path}", headers=self.headers)

    def get_page(self, path: str):
        return self.phone.get(f"/h5{path}")


def _door(app, world: World, role: str) -> Door:
    api, phone = app.test_client(), app.test_client()
    user = world.people[role]
    if user is None:
        token = make_entry_token(world.compound)
        phone.set_cookie(ENTRY_COOKIE, token)
        return Door(api=api, headers={ENTRY_HEADER: token}, phone=phone)
    access = issue_tokens(user)[0]
    phone.set_cookie("access_token_cookie", access)
    return Door(api=api, headers={"Authorization": f"Bearer {access}"}, phone=phone)


def _page_actions(html: str) -> set[str]:
    return {name for value in re.findall(r'data-action="([^"]*)"', html) for name in value.split()}


def _section(html: str, element_id: str) -> str:
    """The part of the page from the element with this id on ('' when the page has none)."""
    return html.split(f'id="{element_id}"', 1)[1] if f'id="{element_id}"' in html else ""


def _page_topic(html: str) -> dict:
    """What the topic page shows of the items the API's detail also carries."""
    text = unescape(html)
    step = re.search(r"ll-tp-step_(\w+)", html).group(1)
    receipts = {
        int(household): (voted == "yes", label)
        for household, voted, body in re.findall(
            r'data-household="(\d+)" data-voted="(yes|no)">(.*?)</section>', text, re.S)
        for label in [(re.search(r"本户已表决：<strong>([^<]+)</strong>", body) or [None, None])[1]]
    }
    return {
        "step": step,
        "options": [int(i) for i in re.findall(r'data-option-id="(\d+)"', html)],
        "my_votes": receipts,
        "cosigned": sorted(int(i) for i in re.findall(r'data-cosigned="(\d+)"', html)),
        "proposer": re.search(r'id="proposer">(.*?) · ', text).group(1),
        # The proposal's photos come before the proposer's line.
        "photos": [int(i) for i in re.findall(
            r'<img src="/h5/topics/\d+/photos/(\d+)"', _section(html, "topic-facts").split('id="proposer"')[0])],
    }


def _api_topic(body: dict, mine: bool) -> dict:
    return {
        "step": body["step"],
        "options": [option["id"] for option in body["options"]],
        "my_votes": {r["household_id"]: (r["voted"], r["option_label"]) for r in body["my_votes"]},
        "cosigned": body["cosigned_household_ids"],
        # The page says 我 where the API names the proposer to themselves.
        "proposer": "我" if mine else body["proposer_name"],
        "photos": [photo["id"] for photo in body["photos"]],
    }


@pytest.mark.parametrize("role", ROLES)
def test_the_api_and_the_page_show_the_same_topic_and_actions(app, world, role):
    door = _door(app, world, role)
    for step, topic_id in world.topics.items():
        api, page = door.get_json(f"/topics/{topic_id}"), door.get_page(f"/topics/{topic_id}")
        if role == "stranger":
            assert (api.status_code, page.status_code) == (404, 404), step
            continue
        assert (api.status_code, page.status_code) == (200, 200), (step, page.get_data(as_text=True)[:500])
        html = page.get_data(as_text=True)
        assert _page_actions(html) == set(api.json["actions"]), step
        assert _page_topic(html) == _api_topic(api.json, api.json["mine"]), step


@pytest.mark.parametrize("role", ROLES)
def test_the_api_and_the_page_list_the_same_topics_and_offer_the_same_starts(app, world, role):
    door = _door(app, world, role)
    compound = world.compound
    for tab, (_label, steps) in TABS.items():
        page = door.get_page(f"/c/{compound.code}/topics?step={tab}")
        answers = [door.get_json(f"/compounds/{compound.id}/topics?step={step}&page_size=100") for step in steps]
        if role == "stranger":
            assert page.status_code == 404 and {a.status_code for a in answers} == {404}, tab
            continue
        html = page.get_data(as_text=True)
        listed = [int(i) for i in re.findall(r'data-topic="(\d+)"', html.split('id="topics"')[1])]
        from_api = sorted((item["id"] for answer in answers for item in answer.json["items"]), reverse=True)
        assert listed == from_api, tab
        assert _page_actions(html) == set(answers[0].json["actions"]), tab


@pytest.mark.parametrize("role", [role for role in ROLES if role not in ("qr_visitor", "stranger")])
def test_the_api_and_the_page_show_the_same_ballots_of_mine(app, world, role):
    """我的表决 of every topic, and 待我表决 of the compound."""
    door = _door(app, world, role)
    for step, topic_id in world.topics.items():
        mine = door.get_json(f"/topics/{topic_id}/my-vote").json["items"]
        page = _page_topic(door.get_page(f"/topics/{topic_id}").get_data(as_text=True))
        assert page["my_votes"] == {r["household_id"]: (r["voted"], r["option_label"]) for r in mine}, step

    compound = world.compound
    pending = door.get_json(f"/compounds/{compound.id}/pending-ballots").json["items"]
    html = door.get_page(f"/c/{compound.code}/topics").get_data(as_text=True)
    shown = re.findall(r'data-topic="(\d+)" data-households="([\d ]*)"', _section(html, "pending-ballots"))
    assert [(int(topic), [int(h) for h in households.split()]) for topic, households in shown] == [
        (item["topic"]["id"], item["household_ids"]) for item in pending
    ]
    expected_pending = [world.topics[Step.VOTING]] if role == "owner_on_roll" else []
    assert [item["topic"]["id"] for item in pending] == expected_pending
