"""The company's life cycle through the API: a selection raised as an owners' vote and driven through the
consultation API to its end makes the draft contract only when passed under Art. 278 item 4, once; the draft's
terms, file and activation (the compound's company, audited); the handover inspection that cannot close with
open items; one-tap renewal and dismissal (with its hand-back); and who may see or do what (another compound's
people get 404)."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from backend.demo.factories import make_schedule
from backend.domain.compounds import HouseholdKind
from backend.domain.fees import BillingCycle
from backend.domain.notifications import CONTRACT_DECIDED, TOPIC_DESK
from backend.domain.roles import Role
from backend.extensions import db
from backend.jobs.contracts import sweep
from backend.models import (
    AuditEvent,
    Compound,
    Household,
    Notice,
    PropertyCompany,
    PropertyContract,
    Topic,
    User,
)
from backend.services.auth import issue_tokens
from backend.shared.clock import beijing_date, utcnow
from tests import photo_samples as samples
from tests.contracts_support import contract_in_force, drafted_contract
from tests.support import assert_error_shape

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
MOTION = [{"label": "同意", "is_approval": True}, {"label": "不同意"}, {"label": "弃权", "is_abstain": True}]


@dataclass
class World:
    compound: Compound
    owners: list[User]
    tenant: User
    manager: User
    members: list[User]
    official: User
    other: Compound
    other_member: User
    companies: list[PropertyCompany]


@pytest.fixture
def world(area_tree, make_compound, make_user) -> World:
    community = area_tree[3]
    compound = make_compound(name="攀钢三街坊", area=community)
    other = make_compound(name="乙小区", area=community, buildings=1, households_per_building=1)
    homes = list(db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                    .order_by(Household.id)))
    companies = [PropertyCompany(name=name, credit_code=f"91510400MA6TEST{index:02d}X")
                 for index, name in enumerate(("安居物业", "宜居物业", "康泰物业"))]
    db.session.add_all(companies)
    db.session.commit()
    return World(
        compound=compound, owners=[make_user(Role.OWNER, compound, household=home) for home in homes],
        tenant=make_user(Role.RESIDENT, compound, household=homes[0]), manager=make_user(Role.MANAGER, compound),
        members=[make_user(Role.COMMITTEE, compound) for _ in range(2)],
        official=make_user(Role.OFFICIAL, area=community), other=other,
        other_member=make_user(Role.COMMITTEE, other), companies=companies,
    )


def call(client, method: str, path: str, user: User, **kwargs):
    return client.open(path, method=method, headers={"Authorization": f"Bearer {issue_tokens(user)[0]}"}, **kwargs)


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def run_the_vote(client, world: World, clock, topic_id: int, options: list[dict], choose: list[str],
                 kind: str = "owners_joint", item: int | None = 4) -> dict:
    """议题确定 → 协商 → 表决 → 结果 through the consultation API: owner i votes choose[i] (the last owner abstains
    from voting)."""
    start = utcnow()
    review = {"decision": "accept", "vote_kind": kind, "civil_code_item": item,
              "deliberation_ends_at": (start + timedelta(days=3)).isoformat(), "voting_hours": 72,
              "publicity_days": 7, "responsible_party": "业委会"}
    ok(call(client, "POST", f"/api/v1/topics/{topic_id}/review", world.members[1], json=review))
    made = ok(call(client, "PUT", f"/api/v1/topics/{topic_id}/options", world.members[1],
                   json={"options": options}))["items"]
    by_label = {option["label"]: option["id"] for option in made}
    ok(call(client, "POST", f"/api/v1/topics/{topic_id}/ballot/open", world.members[1]))
    for owner, label in zip(world.owners, choose, strict=False):
        ok(call(client, "PUT", f"/api/v1/topics/{topic_id}/vote", owner, json={"option_id": by_label[label]}))
    clock.move_to(start + timedelta(hours=73))
    return ok(call(client, "POST", f"/api/v1/topics/{topic_id}/ballot/close", world.members[1]))


def select_companies(client, world: World, *companies: PropertyCompany) -> dict:
    return ok(call(client, "POST", f"/api/v1/compounds/{world.compound.id}/company-selections", world.members[0],
                   json={"candidate_ids": [company.id for company in companies]}), 201)


def candidates_ballot(*companies: PropertyCompany) -> list[dict]:
    return [{"label": company.name} for company in companies] + [{"label": "弃权", "is_abstain": True}]


def hire(client, world: World, clock, company: PropertyCompany) -> int:
    """A passed item-4 selection of `company` settled by the sweep: the draft contract's id."""
    selection = select_companies(client, world, company)
    run_the_vote(client, world, clock, selection["topic_id"], MOTION, ["同意"] * 7)
    sweep()
    return db.session.scalar(select(PropertyContract.id).where(PropertyContract.selection_id == selection["id"]))


def signed(client, world: World, clock, company: PropertyCompany) -> int:
    """A hired company's contract with its terms and file, in force."""
    contract_id = hire(client, world, clock, company)
    today = beijing_date(utcnow())
    ok(call(client, "PUT", f"/api/v1/contracts/{contract_id}", world.members[0], json={
        "term_start": today.isoformat(), "term_end": (today + timedelta(days=3 * 365)).isoformat(),
        "service_level": 2}))
    ok(call(client, "POST", f"/api/v1/contracts/{contract_id}/file", world.members[0],
            data={"file": (io.BytesIO(PDF), "合同.pdf", "application/pdf")},
            content_type="multipart/form-data"))
    ok(call(client, "POST", f"/api/v1/contracts/{contract_id}/activation", world.members[0]))
    return contract_id


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# ---- the vote's result makes the contract ----------------------------------------------------------------------


def test_a_passed_item_4_selection_makes_one_draft_contract_with_the_chosen_company(client, world):
    first, second, _ = world.companies
    with time_machine.travel(utcnow(), tick=False) as clock:
        selection = select_companies(client, world, first, second)
        assert (selection["status"], selection["purpose"]) == ("voting", "hire")
        assert [c["label"] for c in selection["candidates"]] == ["安居物业", "宜居物业"]
        topic = db.session.get(Topic, selection["topic_id"])
        assert topic.step == "review" and "第4项" in topic.body and "安居物业、宜居物业" in topic.body
        assert count(Notice, Notice.kind == TOPIC_DESK, Notice.dedupe_key == f"topic-{topic.id}-topic-review") == 1
        assert sweep() == {"settled": 0}

        result = run_the_vote(client, world, clock, topic.id, candidates_ballot(first, second),
                              ["宜居物业"] * 5 + ["安居物业"] * 2)
        assert result["passed"] is True
        # Read before the sweep: reading settles it, and the sweep then finds nothing to do.
        listing = ok(call(client, "GET", f"/api/v1/compounds/{world.compound.id}/contracts", world.tenant))
        assert sweep() == {"settled": 0}
        assert [(c["company_name"], c["status"]) for c in listing["contracts"]] == [("宜居物业", "draft")]
        assert (listing["selections"][0]["status"], listing["selections"][0]["decision_note"]) == (
            "decided", "业主表决通过，选定宜居物业")
        assert listing["actions"] == []
        assert count(PropertyContract, PropertyContract.compound_id == world.compound.id) == 1
        assert count(Notice, Notice.kind == CONTRACT_DECIDED,
                     Notice.dedupe_key == f"company-selection-{selection['id']}-decided") == 1


@pytest.mark.parametrize(("kind", "item", "choose", "note"), [
    ("owners_joint", 4, ["同意"] * 2 + ["不同意"] * 5, "业主表决未通过"),
    ("owners_joint", 9, ["同意"] * 7, "不是《民法典》第二百七十八条第一款第4项"),
    ("consultation", None, ["同意"] * 7, "不是《民法典》第二百七十八条第一款第4项"),
])
def test_no_contract_unless_passed_under_item_4(client, world, kind, item, choose, note):
    with time_machine.travel(utcnow(), tick=False) as clock:
        selection = select_companies(client, world, world.companies[0])
        run_the_vote(client, world, clock, selection["topic_id"], MOTION, choose, kind=kind, item=item)
        assert (sweep(), sweep()) == ({"settled": 1}, {"settled": 0})
    listing = ok(call(client, "GET", f"/api/v1/compounds/{world.compound.id}/contracts", world.members[0]))
    assert listing["contracts"] == []
    assert listing["selections"][0]["status"] == "failed" and note in listing["selections"][0]["decision_note"]


# ---- the contract ------------------------------------------------------------------------------------------------


def test_the_committee_completes_and_signs_the_draft_which_sets_the_compounds_company(client, world):
    company = world.companies[1]
    month_start = beijing_date(utcnow()).replace(day=1)
    schedule_of_other = make_schedule(
        world.other, HouseholdKind.RESIDENTIAL, 90, month_start, BillingCycle.MONTHLY, 15)
    schedule = make_schedule(
        world.compound, HouseholdKind.RESIDENTIAL, 85, month_start, BillingCycle.MONTHLY, 15)
    db.session.commit()
    with time_machine.travel(utcnow(), tick=False) as clock:
        contract_id = hire(client, world, clock, company)
    path = f"/api/v1/contracts/{contract_id}"
    draft = ok(call(client, "GET", path, world.members[0]))
    assert draft["actions"] == ["activate", "edit", "start_handover"]
    refused = call(client, "POST", f"{path}/activation", world.members[0])
    assert_error_shape(refused, 409)
    assert "合同期限、服务等级、合同文件" in refused.get_json()["message"]

    today = beijing_date(utcnow())
    terms = {"term_start": today.isoformat(), "term_end": (today + timedelta(days=730)).isoformat(),
             "service_level": 2, "fee_schedule_id": schedule_of_other.id}
    assert_error_shape(call(client, "PUT", path, world.members[0], json=terms), 422)
    assert_error_shape(call(client, "PUT", path, world.members[0],
                            json=terms | {"term_end": today.isoformat(), "fee_schedule_id": schedule.id}), 422)
    assert_error_shape(call(client, "PUT", path, world.members[0], json=terms | {"service_level": 6}), 422)
    assert_error_shape(call(client, "PUT", path, world.tenant, json=terms), 403)
    ok(call(client, "PUT", path, world.members[0], json=terms | {"fee_schedule_id": schedule.id}))
    upload = ok(call(client, "POST", f"{path}/file", world.members[1],
                     data={"file": samples.camera_jpeg(320, 240).upload()}, content_type="multipart/form-data"))
    assert upload["file"]["is_pdf"] is False and upload["fee_standard_label"].startswith("¥0.85/㎡·月")

    active = ok(call(client, "POST", f"{path}/activation", world.members[0]))
    assert (active["status"], active["service_level_label"], active["actions"]) == (
        "active", "二级", ["dismiss", "renew", "reselect", "start_handover"])
    db.session.expire_all()
    assert db.session.get(Compound, world.compound.id).property_company_id == company.id
    assert count(AuditEvent, AuditEvent.action == "compound.property_company",
                 AuditEvent.compound_id == world.compound.id) == 1
    assert_error_shape(call(client, "PUT", path, world.members[0], json=terms), 409)
    file = call(client, "GET", f"{path}/file", world.owners[3])
    assert file.status_code == 200 and file.mimetype == "image/jpeg"


def test_the_handover_cannot_close_with_open_items(client, world):
    with time_machine.travel(utcnow(), tick=False) as clock:
        contract_id = hire(client, world, clock, world.companies[0])
    started = ok(call(client, "POST", f"/api/v1/contracts/{contract_id}/handovers", world.members[0]), 201)
    assert_error_shape(call(client, "POST", f"/api/v1/contracts/{contract_id}/handovers", world.members[0]), 409)
    path = f"/api/v1/handovers/{started['id']}"
    items = started["items"]
    assert len(items) == 10 and started["open_items"] == 10 and started["actions"] == []
    assert_error_shape(call(client, "POST", f"{path}/signatures", world.members[0], json={"side": "committee"}), 409)

    for item in items[1:]:
        ok(call(client, "POST", f"{path}/items/{item['id']}", world.members[0], data={"state": "good"},
                content_type="multipart/form-data"))
    found = ok(call(client, "POST", f"{path}/items/{items[0]['id']}", world.members[1],
                    data={"state": "defective", "note": "3栋屋面渗水",
                          "photos": [samples.camera_jpeg(320, 240).upload(), samples.camera_jpeg(200, 150).upload()]},
                    content_type="multipart/form-data"))
    assert (found["open_items"], found["items"][0]["state_label"], len(found["items"][0]["photos"])) == (1, "有缺陷", 2)
    assert found["items"][0]["actions"] == ["record", "resolve"]
    refused = call(client, "POST", f"{path}/signatures", world.members[0], json={"side": "committee"})
    assert_error_shape(refused, 409)
    assert "还有1项" in refused.get_json()["message"]
    photo = call(client, "GET", found["items"][0]["photos"][0]["url"], world.owners[2])
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"

    resolved = ok(call(client, "POST", f"{path}/items/{items[0]['id']}/resolution", world.members[0]))
    assert resolved["open_items"] == 0 and resolved["items"][0]["is_open"] is False
    assert_error_shape(call(client, "POST", f"{path}/signatures", world.members[0], json={"side": "company"}), 403)
    ok(call(client, "POST", f"{path}/signatures", world.members[0], json={"side": "committee"}))
    assert_error_shape(call(client, "POST", f"{path}/items/{items[1]['id']}", world.members[0],
                            data={"state": "missing"}, content_type="multipart/form-data"), 409)
    closed = ok(call(client, "POST", f"{path}/signatures", world.manager, json={"side": "company"}))
    assert (closed["status"], closed["actions"]) == ("closed", [])
    assert [bool(s["signed_at"]) for s in closed["signatures"]] == [True, True]


def test_renewal_in_one_tap_makes_the_next_contract_and_a_dismissal_hands_back(client, world):
    company = world.companies[2]
    with time_machine.travel(utcnow(), tick=False) as clock:
        contract_id = signed(client, world, clock, company)
        path = f"/api/v1/contracts/{contract_id}/follow-up"
        renewal = ok(call(client, "POST", path, world.members[0], json={"purpose": "renew"}), 201)
        assert [c["label"] for c in renewal["candidates"]] == ["康泰物业"]
        assert_error_shape(call(client, "POST", path, world.members[1], json={"purpose": "dismiss"}), 409)
        assert db.session.get(Topic, renewal["topic_id"]).title == "续聘物业服务企业：康泰物业"
        run_the_vote(client, world, clock, renewal["topic_id"], MOTION, ["同意"] * 7)
        assert sweep() == {"settled": 1}
        old = ok(call(client, "GET", f"/api/v1/contracts/{contract_id}", world.members[0]))
        renewed = next(c for c in contracts_of_compound(client, world) if c["id"] != contract_id)
        assert (renewed["company_name"], renewed["status"]) == ("康泰物业", "draft")
        assert renewed["term_start"] == (
            date.fromisoformat(old["term_end"]) + timedelta(days=1)).isoformat()

        dismissal = ok(call(client, "POST", path, world.members[1], json={"purpose": "dismiss"}), 201)
        run_the_vote(client, world, clock, dismissal["topic_id"], MOTION, ["同意"] * 6)
        assert sweep() == {"settled": 1}
    ended = ok(call(client, "GET", f"/api/v1/contracts/{contract_id}", world.owners[0]))
    assert (ended["status"], ended["end_note"]) == ("dismissed", "业主表决通过解聘")
    assert [(i["direction"], i["status"]) for i in ended["inspections"]] == [("hand_back", "open")]
    db.session.expire_all()
    assert db.session.get(Compound, world.compound.id).property_company_id is None


def contracts_of_compound(client, world: World) -> list[dict]:
    return ok(call(client, "GET", f"/api/v1/compounds/{world.compound.id}/contracts", world.members[0]))["contracts"]


# ---- who sees what -----------------------------------------------------------------------------------------------


def test_another_compounds_people_find_nothing(client, world):
    with time_machine.travel(utcnow(), tick=False) as clock:
        contract_id = hire(client, world, clock, world.companies[0])
    inspection = ok(call(client, "POST", f"/api/v1/contracts/{contract_id}/handovers", world.members[0]), 201)
    item_id = inspection["items"][0]["id"]
    for method, path, kwargs in (
        ("GET", f"/api/v1/compounds/{world.compound.id}/contracts", {}),
        ("POST", f"/api/v1/compounds/{world.compound.id}/company-selections",
         {"json": {"candidate_ids": [world.companies[0].id]}}),
        ("GET", f"/api/v1/contracts/{contract_id}", {}),
        ("PUT", f"/api/v1/contracts/{contract_id}", {"json": {"service_level": 1}}),
        ("POST", f"/api/v1/contracts/{contract_id}/activation", {}),
        ("POST", f"/api/v1/contracts/{contract_id}/follow-up", {"json": {"purpose": "dismiss"}}),
        ("GET", f"/api/v1/handovers/{inspection['id']}", {}),
        ("POST", f"/api/v1/handovers/{inspection['id']}/items/{item_id}",
         {"data": {"state": "good"}, "content_type": "multipart/form-data"}),
        ("POST", f"/api/v1/handovers/{inspection['id']}/signatures", {"json": {"side": "committee"}}),
    ):
        assert_error_shape(call(client, method, path, world.other_member, **kwargs), 404)
    assert_error_shape(call(client, "GET", "/api/v1/contracts/2147483648", world.members[0]), 404)
    seen = ok(call(client, "GET", f"/api/v1/handovers/{inspection['id']}", world.official))
    assert seen["actions"] == [] and all(item["actions"] == [] for item in seen["items"])
    assert_error_shape(call(client, "POST", f"/api/v1/handovers/{inspection['id']}/items/{item_id}", world.owners[0],
                            data={"state": "good"}, content_type="multipart/form-data"), 403)
    assert_error_shape(call(client, "POST", f"/api/v1/compounds/{world.compound.id}/company-selections",
                            world.members[0], json={"candidate_ids": []}), 422)
    assert_error_shape(call(client, "POST", f"/api/v1/compounds/{world.compound.id}/company-selections",
                            world.members[0], json={"candidate_ids": [2147483647]}), 422)
    # The vote names the chosen company by its name: two candidates of one name could not be told apart.
    twin = PropertyCompany(name=world.companies[0].name, credit_code="91510400MA6TWIN001")
    db.session.add(twin)
    db.session.commit()
    assert_error_shape(call(client, "POST", f"/api/v1/compounds/{world.compound.id}/company-selections",
                            world.members[0], json={"candidate_ids": [world.companies[0].id, twin.id]}), 422)


def test_a_new_companys_contract_ends_the_old_one_and_opens_its_hand_back(client, world):
    old_company, new_company = world.companies[0], world.companies[1]
    today = beijing_date(utcnow())
    old = contract_in_force(world.compound.id, old_company.id, world.members[0].id, today - timedelta(days=700), today)
    new = drafted_contract(world.compound.id, new_company.id, world.members[0].id)
    ok(call(client, "PUT", f"/api/v1/contracts/{new}", world.members[0], json={
        "term_start": today.isoformat(), "term_end": (today + timedelta(days=1095)).isoformat(), "service_level": 1}))
    ok(call(client, "POST", f"/api/v1/contracts/{new}/file", world.members[0],
            data={"file": (io.BytesIO(PDF), "合同.pdf", "application/pdf")}, content_type="multipart/form-data"))
    assert ok(call(client, "POST", f"/api/v1/contracts/{new}/activation", world.members[0]))["status"] == "active"
    ended = ok(call(client, "GET", f"/api/v1/contracts/{old}", world.members[0]))
    assert (ended["status"], ended["end_note"]) == ("ended", "由新合同接续")
    assert [(i["direction"], i["open_items"]) for i in ended["inspections"]] == [("hand_back", 10)]
    db.session.expire_all()
    assert db.session.get(Compound, world.compound.id).property_company_id == new_company.id
