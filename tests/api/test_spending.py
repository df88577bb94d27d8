"""Spending requests (支出申请) through the API: filing one with a quote, two distinct committee members approve (never
the requester, never one member twice), a rejection with its reason, the committee and the requester told once;
above the threshold the owners' vote driven through the consultation API to its end decides, approving only when
the ballot of the item the purpose fixes passed; emergency repairs; who sees what (bodies, not only statuses)."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from backend.domain import funds as funds_rules
from backend.domain.compounds import AreaLevel, ManagementModel
from backend.domain.notifications import SPENDING_DECIDED, SPENDING_DESK, TOPIC_DESK
from backend.domain.roles import Role
from backend.extensions import db
from backend.jobs.spending import sweep
from backend.models import AuditEvent, Compound, FundSettings, Household, Notice, SpendingRequest, Topic, User
from backend.services import spending as service
from backend.services.auth import issue_tokens
from backend.services.qr import make_entry_token
from backend.shared.clock import utcnow
from tests import photo_samples as samples
from tests.support import assert_error_shape

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass
class World:
    compound: Compound
    homes: list[Household]
    owners: list[User]  # owners[i] is the verified owner of homes[i]
    tenant: User
    staff: User
    manager: User
    members: list[User]  # three committee members
    official: User  # of the compound's community
    other_official: User  # of another street
    stranger: User
    other: Compound  # another compound, same community
    other_member: User  # its committee member


@pytest.fixture
def world(area_tree, make_area, make_compound, make_user) -> World:
    _, district, _street, community = area_tree
    compound = make_compound(name="五十四街坊", area=community, model=ManagementModel.TRUST, buildings=2,
                             households_per_building=4)
    other = make_compound(name="乙小区", area=community, model=ManagementModel.TRUST, buildings=1,
                          households_per_building=1)
    homes = list(db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                    .order_by(Household.id)))
    b_street = make_area("B街道", AreaLevel.STREET, district)
    return World(
        compound=compound, homes=homes,
        owners=[make_user(Role.OWNER, compound, household=home) for home in homes],
        tenant=make_user(Role.RESIDENT, compound, household=homes[7]),
        staff=make_user(Role.STAFF, compound),
        manager=make_user(Role.MANAGER, compound),
        members=[make_user(Role.COMMITTEE, compound) for _ in range(3)],
        official=make_user(Role.OFFICIAL, area=community),
        other_official=make_user(Role.OFFICIAL, area=b_street),
        stranger=make_user(),
        other=other,
        other_member=make_user(Role.COMMITTEE, other),
    )


def bearer(user: User) -> dict[str, str]:
    """Minted for the clock of the moment (the vote test moves it by days)."""
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"}


def call(client, method: str, path: str, user: User, **kwargs):
    return client.open(path, method=method, headers=bearer(user), **kwargs)


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def file_request(client, world: World, user: User | None = None, *, quotes=None, **fields):
    form = {"title": "更换3栋单元门禁", "purpose": "other", "amount_fen": "120000", "category": "repair",
            "payee": "安居门禁工程部", "description": "门禁损坏三个月"} | fields
    form["quotes"] = [samples.camera_jpeg(160, 120).upload()] if quotes is None else quotes
    return call(client, "POST", f"/api/v1/compounds/{world.compound.id}/spending-requests",
                user or world.members[0], data=form, content_type="multipart/form-data")


def spendable_now(request_id: int, world: World) -> bool:
    """What the journal finds when it locks the request to spend against it (the lock let go again)."""
    request = service.locked_for_spending(request_id, world.compound.id)
    answer = funds_rules.spendable(request.status, request.emergency)
    db.session.commit()
    return answer


def notices(kind: str, dedupe_key: str) -> int:
    return db.session.scalar(select(func.count()).where(Notice.kind == kind, Notice.dedupe_key == dedupe_key))


# ---- the committee's path --------------------------------------------------------------------------------------


def test_two_committee_members_approve_and_never_the_requester(client, world):
    filed = ok(file_request(client, world), 201)
    assert (filed["status"], filed["path"], filed["approvals_needed"], filed["amount_fen"]) == (
        "pending", "committee", 2, 120000)
    assert (filed["vote"], filed["topic"], filed["spendable"], filed["actions"]) == (None, None, False, [])
    assert len(filed["quotes"]) == 1 and filed["quotes"][0]["content_type"] == "image/jpeg"
    request_id = filed["id"]
    assert notices(SPENDING_DESK, f"spending-{request_id}-waiting") == 1

    path = f"/api/v1/spending-requests/{request_id}"
    assert_error_shape(call(client, "POST", f"{path}/approve", world.members[0]), 403)
    assert ok(call(client, "GET", path, world.members[1]))["actions"] == ["approve", "reject"]
    once = ok(call(client, "POST", f"{path}/approve", world.members[1]))
    assert (once["status"], once["approver_names"], once["actions"]) == (
        "pending", [world.members[1].display_name], [])
    assert_error_shape(call(client, "POST", f"{path}/approve", world.members[1]), 409)
    assert_error_shape(call(client, "POST", f"{path}/approve", world.owners[0]), 403)
    assert_error_shape(call(client, "POST", f"{path}/approve", world.manager), 403)
    assert_error_shape(call(client, "POST", f"{path}/approve", world.other_member), 404)
    approved = ok(call(client, "POST", f"{path}/approve", world.members[2]))
    assert (approved["status"], approved["status_label"], approved["spendable"]) == ("approved", "已批准", True)
    assert approved["decision_note"] == "业委会2名成员审批同意" and approved["decided_at"]
    assert_error_shape(call(client, "POST", f"{path}/reject", world.members[0], json={"note": "晚了"}), 409)
    assert notices(SPENDING_DECIDED, f"spending-{request_id}-decided") == 1
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.target_type == "spending_request", AuditEvent.target_id == request_id).order_by(AuditEvent.id))
    assert list(actions) == ["spending.request", "spending.approve", "spending.approve"]


def test_a_member_rejects_with_a_reason(client, world):
    request_id = ok(file_request(client, world), 201)["id"]
    path = f"/api/v1/spending-requests/{request_id}"
    assert_error_shape(call(client, "POST", f"{path}/reject", world.members[1], json={"note": " "}), 422)
    rejected = ok(call(client, "POST", f"{path}/reject", world.members[1], json={"note": "报价偏高，请再询价"}))
    assert (rejected["status"], rejected["decision_note"], rejected["spendable"]) == (
        "rejected", "报价偏高，请再询价", False)
    assert_error_shape(call(client, "POST", f"{path}/approve", world.members[2]), 409)
    assert notices(SPENDING_DECIDED, f"spending-{request_id}-decided") == 1


def test_bad_input_is_refused_with_the_field(client, world):
    cases = [({"amount_fen": "0"}, "amount_fen"), ({"category": "parking"}, "category"),
             ({"purpose": "party"}, "purpose"), ({"payee": ""}, "payee"),
             ({"amount_fen": "1000000001"}, "amount_fen")]
    for fields, name in cases:
        response = file_request(client, world, **fields)
        assert_error_shape(response, 422)
        assert name in response.get_json()["errors"]["files"], response.get_json()
    bad = file_request(client, world, quotes=[(io.BytesIO(b"not a photo at all"), "q.jpg", "image/jpeg")])
    assert_error_shape(bad, 422)
    assert db.session.scalar(select(func.count()).select_from(SpendingRequest)) == 0


def test_a_quote_may_be_a_pdf_and_reads_only_for_those_who_see_spending(client, world):
    filed = ok(file_request(client, world, quotes=[(io.BytesIO(PDF), "报价.pdf", "application/pdf")]), 201)
    url = filed["quotes"][0]["url"]
    got = call(client, "GET", url, world.owners[0])
    assert got.status_code == 200 and got.data == PDF and got.mimetype == "application/pdf"
    assert "attachment" in got.headers["Content-Disposition"]
    assert_error_shape(call(client, "GET", url, world.tenant), 403)
    assert_error_shape(call(client, "GET", url, world.stranger), 404)
    assert_error_shape(call(client, "GET", url, world.other_member), 404)


# ---- who sees what ---------------------------------------------------------------------------------------------


def test_who_sees_the_requests(client, world):
    request_id = ok(file_request(client, world, title="修补屋面"), 201)["id"]
    listing = f"/api/v1/compounds/{world.compound.id}/spending-requests"
    for reader, actions in [(world.owners[0], []), (world.members[1], ["request"]), (world.manager, []),
                            (world.official, [])]:
        body = ok(call(client, "GET", listing, reader))
        assert ([item["title"] for item in body["items"]], body["actions"]) == (["修补屋面"], actions), reader
        assert ok(call(client, "GET", f"/api/v1/spending-requests/{request_id}", reader))["title"] == "修补屋面"
    for reader, status in [(world.tenant, 403), (world.staff, 403), (world.stranger, 404),
                           (world.other_official, 404), (world.other_member, 404)]:
        for path in (listing, f"/api/v1/spending-requests/{request_id}"):
            response = call(client, "GET", path, reader)
            assert_error_shape(response, status)
            assert "修补屋面" not in response.get_data(as_text=True)
    # A QR visitor of the compound (signed in, no role of theirs there) sees nothing.
    visitor = bearer(world.stranger) | {"X-Entry-Token": make_entry_token(world.compound)}
    for path in (listing, f"/api/v1/spending-requests/{request_id}"):
        assert_error_shape(client.get(path, headers=visitor), 404)
    for filer, status in [(world.owners[0], 403), (world.tenant, 403), (world.official, 403),
                          (world.stranger, 404)]:
        assert_error_shape(file_request(client, world, filer), status)
    assert_error_shape(call(client, "GET", "/api/v1/spending-requests/2147483647", world.members[0]), 404)
    assert client.get("/api/v1/spending-requests/2147483648").status_code == 404


def test_under_the_market_model_the_manager_files_and_the_committee_approves(client, world, make_compound,
                                                                              make_user, area_tree):
    market = make_compound(model=ManagementModel.MARKET, area=area_tree[3])
    manager = make_user(Role.MANAGER, market)
    first, second = make_user(Role.COMMITTEE, market), make_user(Role.COMMITTEE, market)
    owner = make_user(Role.OWNER, market, household=db.session.scalars(
        select(Household).where(Household.compound_id == market.id)).first())
    tenant = make_user(Role.RESIDENT, market, household=db.session.scalars(
        select(Household).where(Household.compound_id == market.id).order_by(Household.id.desc())).first())
    world.compound = market
    filed = ok(file_request(client, world, manager, title="广告位维护"), 201)
    assert filed["status"] == "pending"
    # Public income's costs are the owners' to see under the market model too; a tenant's are the statements only.
    listing = f"/api/v1/compounds/{market.id}/spending-requests"
    assert [item["title"] for item in ok(call(client, "GET", listing, owner))["items"]] == ["广告位维护"]
    assert_error_shape(call(client, "GET", listing, tenant), 403)
    assert_error_shape(call(client, "GET", listing, world.members[0]), 404)
    assert_error_shape(file_request(client, world, owner), 403)
    for member in (first, second):
        ok(call(client, "POST", f"/api/v1/spending-requests/{filed['id']}/approve", member))
    assert_error_shape(call(client, "POST", f"/api/v1/spending-requests/{filed['id']}/approve", manager), 403)
    assert ok(call(client, "GET", f"/api/v1/spending-requests/{filed['id']}", manager))["status"] == "approved"


def test_an_emergency_repair_is_spendable_at_once_until_turned_down(client, world):
    filed = ok(file_request(client, world, emergency="true", title="水管爆裂抢修"), 201)
    assert (filed["emergency"], filed["status"], filed["spendable"]) == (True, "pending", True)
    assert spendable_now(filed["id"], world)
    rejected = ok(call(client, "POST", f"/api/v1/spending-requests/{filed['id']}/reject", world.members[1],
                       json={"note": "不属于紧急情况"}))
    assert (rejected["status"], rejected["spendable"]) == ("rejected", False)
    assert not spendable_now(filed["id"], world)
    assert service.locked_for_spending(filed["id"], world.other.id) is None


# ---- above the threshold: the owners' vote ---------------------------------------------------------------------


MOTION = [{"label": "同意", "is_approval": True}, {"label": "不同意"}, {"label": "弃权", "is_abstain": True}]


def run_the_vote(client, world: World, clock, topic_id: int, kind: str, item: int | None, yes: int) -> dict:
    """议题确定 → 协商 → 表决 → 结果, through the consultation API: `yes` owners vote 同意, the rest 不同意."""
    start = utcnow()
    review = {"decision": "accept", "vote_kind": kind, "civil_code_item": item,
              "deliberation_ends_at": (start + timedelta(days=3)).isoformat(), "voting_hours": 72,
              "publicity_days": 7, "responsible_party": "业委会"}
    ok(call(client, "POST", f"/api/v1/topics/{topic_id}/review", world.members[1], json=review))
    options = ok(call(client, "PUT", f"/api/v1/topics/{topic_id}/options", world.members[1],
                      json={"options": MOTION}))["items"]
    by_label = {option["label"]: option["id"] for option in options}
    ok(call(client, "POST", f"/api/v1/topics/{topic_id}/ballot/open", world.members[1]))
    for index, owner in enumerate(world.owners[:-1]):
        choice = by_label["同意"] if index < yes else by_label["不同意"]
        ok(call(client, "PUT", f"/api/v1/topics/{topic_id}/vote", owner, json={"option_id": choice}))
    clock.move_to(start + timedelta(hours=73))
    return ok(call(client, "POST", f"/api/v1/topics/{topic_id}/ballot/close", world.members[1]))


@pytest.mark.parametrize(("purpose", "kind", "item"), [
    ("maintenance_fund", "owners_joint", 5), ("common_parts_business", "owners_joint", 8),
    ("other", "consultation", None),
])
def test_above_the_threshold_only_the_owners_vote_of_the_purposes_item_approves(client, world, purpose, kind,
                                                                                  item):
    with time_machine.travel(utcnow(), tick=False) as clock:
        filed = ok(file_request(client, world, purpose=purpose, amount_fen="800000", title="电梯大修"), 201)
        assert (filed["status"], filed["path"], filed["spendable"], filed["threshold_fen"]) == (
            "voting", "owners", False, 500000)
        assert (filed["vote"]["kind"], filed["vote"]["civil_code_item"]) == (kind, item)
        assert (filed["topic"]["step"], filed["topic"]["url"]) == ("review", f"/h5/topics/{filed['topic']['id']}")
        topic = db.session.get(Topic, filed["topic"]["id"])
        assert topic.title == "支出表决：电梯大修" and "¥8,000.00" in topic.body
        assert notices(TOPIC_DESK, f"topic-{topic.id}-topic-review") == 1
        assert notices(SPENDING_DESK, f"spending-{filed['id']}-waiting") == 0
        path = f"/api/v1/spending-requests/{filed['id']}"
        assert_error_shape(call(client, "POST", f"{path}/approve", world.members[1]), 409)
        assert not spendable_now(filed["id"], world)

        result = run_the_vote(client, world, clock, topic.id, kind, item, yes=7)
        assert result["passed"] is True
        # The journal's lock settles the request by its vote before anyone has read it.
        assert spendable_now(filed["id"], world)
        approved = ok(call(client, "GET", path, world.owners[0]))
        assert (approved["status"], approved["spendable"], approved["decision_note"]) == (
            "approved", True, "业主表决通过")
        assert notices(SPENDING_DECIDED, f"spending-{filed['id']}-decided") == 1


def test_a_passed_vote_on_another_item_does_not_approve(client, world):
    with time_machine.travel(utcnow(), tick=False) as clock:
        filed = ok(file_request(client, world, purpose="maintenance_fund", amount_fen="800000"), 201)
        result = run_the_vote(client, world, clock, filed["topic"]["id"], "owners_joint", 4, yes=7)
        assert result["passed"] is True
        assert sweep() == {"settled": 1}
        seen = ok(call(client, "GET", f"/api/v1/spending-requests/{filed['id']}", world.members[0]))
        assert (seen["status"], seen["spendable"]) == ("rejected", False)
        assert "第5项" in seen["decision_note"]


def test_a_failed_vote_rejects_and_the_sweep_settles_once(client, world):
    with time_machine.travel(utcnow(), tick=False) as clock:
        filed = ok(file_request(client, world, purpose="other", amount_fen="600000"), 201)
        assert sweep() == {"settled": 0}
        result = run_the_vote(client, world, clock, filed["topic"]["id"], "consultation", None, yes=2)
        assert result["passed"] is False
        assert (sweep(), sweep()) == ({"settled": 1}, {"settled": 0})
        seen = ok(call(client, "GET", f"/api/v1/spending-requests/{filed['id']}", world.members[0]))
        assert (seen["status"], seen["decision_note"]) == ("rejected", "业主表决未通过")
        assert notices(SPENDING_DECIDED, f"spending-{filed['id']}-decided") == 1


def test_the_threshold_is_the_compounds_setting_at_filing(client, world):
    db.session.add(FundSettings(compound_id=world.compound.id, spending_threshold_fen=100000))
    db.session.commit()
    assert ok(file_request(client, world, amount_fen="100000"), 201)["status"] == "pending"
    over = ok(file_request(client, world, amount_fen="100001"), 201)
    assert (over["status"], over["threshold_fen"]) == ("voting", 100000)
    declined = {"decision": "decline", "reason": "请先在业委会会议讨论"}
    ok(call(client, "POST", f"/api/v1/topics/{over['topic']['id']}/review", world.members[1], json=declined))
    seen = ok(call(client, "GET", f"/api/v1/spending-requests/{over['id']}", world.members[0]))
    assert (seen["status"], seen["topic"]["step"]) == ("rejected", "declined")
    statuses = [item["status"] for item in ok(call(
        client, "GET", f"/api/v1/compounds/{world.compound.id}/spending-requests?status=rejected",
        world.members[0]))["items"]]
    assert statuses == ["rejected"]


def test_the_list_costs_the_same_queries_for_one_request_or_five(client, world, count_queries):
    listing = f"/api/v1/compounds/{world.compound.id}/spending-requests"
    ok(file_request(client, world, quotes=[]), 201)
    headers = bearer(world.owners[0])
    with count_queries() as one:
        ok(client.get(listing, headers=headers))
    for member in world.members[1:] * 2:
        ok(file_request(client, world, member, quotes=[]), 201)
    with count_queries() as five:
        assert ok(client.get(listing, headers=headers))["total"] == 5
    assert len(five) == len(one)
