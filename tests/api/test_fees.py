"""The fees API: fee schedules (history, the one in force, the 听证会 hint, a change that leaves issued bills
alone), bills for the desk, the household and its people, the bill's detail with its subsidy line by line and
what the caller may do, adjustments and waivers, cash and bank payments that settle the bill to the fen,
refunds of an overpayment, the collection rate and arrears; refused input, states and roles in the error shape,
and an audit event for every change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from backend.domain.compounds import GovernanceBody, ManagementModel
from backend.domain.consultations import MeetingKind
from backend.domain.fees import BillingCycle, BillStatus
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import (
    AuditEvent,
    Bill,
    Compound,
    Household,
    Membership,
    SubsidyPolicy,
    User,
)
from backend.services import meetings as meeting_service
from backend.services import payments as payment_service
from backend.services.auth import issue_tokens
from backend.services.payment_provider import wechat_pay
from backend.services.qr import make_entry_token
from backend.shared.clock import utcnow
from tests.fees_support import issue_bills_for, make_policy, make_schedule
from tests.support import assert_error_shape

pytestmark = pytest.mark.calendar

# 10:00 on 10 February 2026 in Beijing: January's bills (due the 15th) are overdue, February's are not yet due.
T0 = datetime(2026, 2, 10, 2, 0, tzinfo=UTC)
JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
NOTIFY_URL = "http://linli.test/api/v1/payments/wechat/notify"
# Floor areas 81.25, 82.50 and 83.75 m² at ¥1.50 per m² a month: 121.875 rounds half-up to 121.88.
JAN_AMOUNTS = [12188, 12375, 12563]


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@dataclass
class World:
    a: Compound
    b: Compound
    homes: list[Household]
    committee: User
    secretary: User
    staff: User
    manager: User
    official: User  # over A's community
    admin: User
    owner: User  # of homes[0]
    tenant: User  # of homes[0]
    neighbour: User  # owner of homes[1]
    b_staff: User


def households_of(compound: Compound) -> list[Household]:
    return list(db.session.scalars(
        select(Household).where(Household.compound_id == compound.id).order_by(Household.id)
    ))


@pytest.fixture
def world(area_tree, make_area, make_compound, make_user) -> World:
    community = area_tree[3]
    a = make_compound(name="甲小区", area=community, buildings=1, households_per_building=3)
    a.governance_body = GovernanceBody.OWNERS_COMMITTEE
    db.session.commit()
    b = make_compound(name="乙小区", area=make_area("乙社区"), buildings=1, households_per_building=1)
    homes = households_of(a)
    return World(
        a=a, b=b, homes=homes,
        committee=make_user(Role.COMMITTEE, a), secretary=make_user(Role.PARTY_SECRETARY, a),
        staff=make_user(Role.STAFF, a), manager=make_user(Role.MANAGER, a),
        official=make_user(Role.OFFICIAL, area=community), admin=make_user(Role.ADMIN),
        owner=make_user(Role.OWNER, a, household=homes[0]), tenant=make_user(Role.RESIDENT, a, household=homes[0]),
        neighbour=make_user(Role.OWNER, a, household=homes[1]), b_staff=make_user(Role.STAFF, b),
    )


@pytest.fixture
def api(client):
    def call(method: str, path: str, user: User | None = None, json=None, headers=None, query=None):
        auth = {"Authorization": f"Bearer {issue_tokens(user)[0]}"} if user else {}
        return client.open(path, method=method, json=json, headers=auth | (headers or {}), query_string=query)

    return call


@pytest.fixture
def billed(world) -> dict[date, list[Bill]]:
    """A's monthly ¥1.50 schedule from January, January's and February's bills, and the district's 50/30/10
    subsidy from July 2025 (January 2026 is its 7th month: 50%)."""
    make_schedule(world.a, standard_fen_per_m2=150, effective_from=JAN, due_day=15)
    make_policy(compound_id=world.a.id, period_start=date(2025, 7, 1))
    return {JAN: issue_bills_for(world.a, JAN), FEB: issue_bills_for(world.a, FEB)}


def schedule_body(**overrides) -> dict:
    return {"household_kind": "residential", "standard_fen_per_m2": 150, "effective_from": "2026-01-01",
            "cycle": "monthly", "due_day": 15, "note": "2026年收费标准"} | overrides


def audit_events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def pay_cash(api, world: World, bill_id: int, receipt: str = "XJ0001"):
    owed = api("GET", f"/api/v1/bills/{bill_id}", world.staff).json["subsidy"]
    amount = db.session.get(Bill, bill_id).amount_fen - (owed["subsidy_fen"] if owed else 0)
    return api("POST", f"/api/v1/bills/{bill_id}/offline-payments", world.staff,
               json={"method": "cash", "amount_fen": amount, "offline_receipt_no": receipt})


# ---- fee schedules ---------------------------------------------------------------------------------------


def test_committee_sets_a_fee_standard_and_everyone_of_the_compound_reads_it(world, api):
    response = api("POST", f"/api/v1/compounds/{world.a.id}/fee-schedules", world.committee, json=schedule_body())
    assert response.status_code == 201, response.json
    created = response.json
    assert (created["standard_fen_per_m2"], created["effective_from"], created["cycle"], created["due_day"]) == (
        150, "2026-01-01", "monthly", 15)
    assert (created["cycle_label"], created["household_kind_label"], created["note"]) == ("按月", "住宅", "2026年收费标准")
    # A market compound charges fees unless told otherwise; the standard is effective today.
    assert created["charges_fees"] is True and created["in_force"] is True
    # The compound has an owners' committee and no 听证会 was linked.
    assert created["hearing_recommended"] is True

    [event] = audit_events("fee_schedule.create")
    assert (event.actor_id, event.target_id, event.compound_id) == (world.committee.id, created["id"], world.a.id)
    assert event.before is None and event.after["standard_fen_per_m2"] == 150

    for reader in (world.owner, world.staff, world.official):
        listing = api("GET", f"/api/v1/compounds/{world.a.id}/fee-schedules", reader)
        assert listing.status_code == 200 and [line["id"] for line in listing.json] == [created["id"]]
    visitor = api("GET", f"/api/v1/compounds/{world.a.id}/fee-schedules",
                  headers={"X-Entry-Token": make_entry_token(world.a)})
    assert visitor.status_code == 200 and visitor.json[0]["standard_fen_per_m2"] == 150


def test_schedules_are_history_newest_first_with_the_one_in_force_marked(world, api):
    path = f"/api/v1/compounds/{world.a.id}/fee-schedules"
    for body in (schedule_body(), schedule_body(effective_from="2026-07-01", standard_fen_per_m2=180),
                 schedule_body(effective_from="2025-01-01", cycle="yearly", standard_fen_per_m2=120),
                 schedule_body(household_kind="commercial", standard_fen_per_m2=300, effective_from="2026-04-01",
                               cycle="quarterly")):
        assert api("POST", path, world.official, json=body).status_code == 201
    lines = api("GET", path, world.owner).json
    by_kind = {kind: [(line["effective_from"], line["in_force"]) for line in lines if line["household_kind"] == kind]
               for kind in ("residential", "commercial")}
    # In February 2026 January's standard applies; July's is still to come, 2025's is history.
    assert by_kind["residential"] == [("2026-07-01", False), ("2026-01-01", True), ("2025-01-01", False)]
    assert by_kind["commercial"] == [("2026-04-01", False)]


def test_linking_the_hearing_takes_the_hint_away(world, api):
    hearing = meeting_service.create_meeting(
        compound_id=world.a.id, convener_id=world.committee.id, kind=MeetingKind.HEARING, title="物业费听证会",
        agenda="调价方案", starts_at=T0 + timedelta(days=3), place="党群服务站",
    )
    response = api("POST", f"/api/v1/compounds/{world.a.id}/fee-schedules", world.secretary,
                   json=schedule_body(hearing_meeting_id=hearing.id))
    assert response.status_code == 201, response.json
    assert response.json["hearing_meeting_id"] == hearing.id and response.json["hearing_recommended"] is False


def test_a_compound_without_a_committee_is_not_told_to_hold_a_hearing(world, api):
    world.a.governance_body = GovernanceBody.NONE
    db.session.commit()
    response = api("POST", f"/api/v1/compounds/{world.a.id}/fee-schedules", world.official, json=schedule_body())
    assert response.status_code == 201 and response.json["hearing_recommended"] is False


def test_a_community_fallback_compound_charges_nothing_unless_it_decides_to(world, api, make_compound):
    fallback = make_compound(model=ManagementModel.COMMUNITY_FALLBACK)
    path = f"/api/v1/compounds/{fallback.id}/fee-schedules"
    assert api("POST", path, world.admin, json=schedule_body()).json["charges_fees"] is False
    decided = api("POST", path, world.admin, json=schedule_body(effective_from="2026-02-01", charges_fees=True))
    assert decided.json["charges_fees"] is True


@pytest.mark.parametrize("overrides, field", [
    ({"effective_from": "2026-01-15"}, "effective_from"),
    ({"effective_from": "2026-02-01", "cycle": "quarterly"}, "effective_from"),
    ({"effective_from": "2026-04-01", "cycle": "yearly"}, "effective_from"),
    ({"effective_from": "1999-01-01"}, "effective_from"),
    ({"effective_from": "2026-13-01"}, "effective_from"),
    ({"standard_fen_per_m2": 0}, "standard_fen_per_m2"),
    ({"standard_fen_per_m2": 100_001}, "standard_fen_per_m2"),
    ({"standard_fen_per_m2": "150"}, "standard_fen_per_m2"),
    ({"due_day": 29}, "due_day"),
    ({"due_day": 0}, "due_day"),
    ({"cycle": "weekly"}, "cycle"),
    ({"household_kind": "garage"}, "household_kind"),
    ({"hearing_meeting_id": 0}, "hearing_meeting_id"),
    ({"note": "长" * 501}, "note"),
])
def test_bad_schedules_are_refused_with_the_field_named(world, api, overrides, field):
    response = api("POST", f"/api/v1/compounds/{world.a.id}/fee-schedules", world.committee,
                   json=schedule_body(**overrides))
    assert_error_shape(response, 422)
    assert field in str(response.json.get("errors"))
    assert audit_events("fee_schedule.create") == []


def test_a_hearing_must_be_a_hearing_of_this_compound(world, api):
    meetings = {
        "other_kind": meeting_service.create_meeting(
            compound_id=world.a.id, convener_id=world.committee.id, kind=MeetingKind.DELIBERATION, title="议事会",
            agenda="议程", starts_at=T0 + timedelta(days=3), place="活动室"),
        "other_compound": meeting_service.create_meeting(
            compound_id=world.b.id, convener_id=world.admin.id, kind=MeetingKind.HEARING, title="乙的听证会",
            agenda="议程", starts_at=T0 + timedelta(days=3), place="活动室"),
    }
    for meeting in meetings.values():
        response = api("POST", f"/api/v1/compounds/{world.a.id}/fee-schedules", world.committee,
                       json=schedule_body(hearing_meeting_id=meeting.id))
        assert_error_shape(response, 422)
        assert "听证会" in response.json["message"]
    missing = api("POST", f"/api/v1/compounds/{world.a.id}/fee-schedules", world.committee,
                  json=schedule_body(hearing_meeting_id=2_147_483_647))
    assert_error_shape(missing, 422)


def test_the_same_kind_and_day_twice_is_a_conflict(world, api):
    path = f"/api/v1/compounds/{world.a.id}/fee-schedules"
    assert api("POST", path, world.committee, json=schedule_body()).status_code == 201
    again = api("POST", path, world.committee, json=schedule_body(standard_fen_per_m2=999))
    assert_error_shape(again, 409)
    assert len(audit_events("fee_schedule.create")) == 1


@pytest.mark.parametrize("who", ["staff", "manager", "owner", "tenant"])
def test_only_the_committee_and_officials_set_fees(world, api, who):
    response = api("POST", f"/api/v1/compounds/{world.a.id}/fee-schedules", getattr(world, who),
                   json=schedule_body())
    assert_error_shape(response, 403)
    assert api("GET", f"/api/v1/compounds/{world.a.id}/fee-schedules", world.committee).json == []


def test_a_fee_change_mid_year_leaves_issued_bills_alone(world, api, billed):
    path = f"/api/v1/compounds/{world.a.id}/fee-schedules"
    before = api("GET", f"/api/v1/compounds/{world.a.id}/bills", world.committee).json["items"]
    # Backdated to February, whose bills are out already, and raised to ¥2.00.
    assert api("POST", path, world.committee, json=schedule_body(effective_from="2026-02-01",
                                                                 standard_fen_per_m2=200)).status_code == 201
    assert issue_bills_for(world.a, FEB) == billed[FEB]
    after = api("GET", f"/api/v1/compounds/{world.a.id}/bills", world.committee).json["items"]
    assert after == before
    assert {(line["standard_fen_per_m2"], line["amount_fen"]) for line in after if line["period_start"] == "2026-01-01"} \
        == {(150, amount) for amount in JAN_AMOUNTS}
    # March is the first period issued under the new standard: 81.25 m² × ¥2.00.
    issue_bills_for(world.a, MAR)
    march = api("GET", f"/api/v1/compounds/{world.a.id}/bills", world.committee, query={"period": "2026-03"}).json
    assert [(line["standard_fen_per_m2"], line["amount_fen"]) for line in march["items"]] == [
        (200, 16250), (200, 16500), (200, 16750)]
    in_force = [line for line in api("GET", path, world.owner).json if line["in_force"]]
    assert [(line["effective_from"], line["standard_fen_per_m2"]) for line in in_force] == [("2026-02-01", 200)]


# ---- bills -----------------------------------------------------------------------------------------------


def test_the_desk_lists_the_compounds_bills_by_period_and_status(world, api, billed):
    path = f"/api/v1/compounds/{world.a.id}/bills"
    everything = api("GET", path, world.staff).json
    assert (everything["total"], everything["page"], everything["page_size"]) == (6, 1, 20)
    assert [line["period_start"] for line in everything["items"]] == ["2026-02-01"] * 3 + ["2026-01-01"] * 3
    january = api("GET", path, world.manager, query={"period": "2026-01"}).json
    assert [line["amount_fen"] for line in january["items"]] == JAN_AMOUNTS
    first = january["items"][0]
    assert first["household_label"] == "1栋1单元101" and first["period_label"] == "2026年1月"
    assert (first["floor_area_centi_m2"], first["standard_fen_per_m2"], first["months"]) == (8125, 150, 1)
    assert (first["original_amount_fen"], first["subsidy_fen"], first["resident_share_fen"], first["paid_fen"]) == (
        12188, 0, 12188, 0)
    assert (first["outstanding_fen"], first["overpaid_fen"], first["status"], first["status_label"]) == (
        12188, 0, "unpaid", "待缴")
    assert first["due_date"] == "2026-01-15" and first["overdue"] is True and first["paid_at"] is None
    assert first["issued_at"] == "2026-02-10T02:00:00+00:00"
    february = api("GET", path, world.official, query={"period": "2026-02", "page_size": 2, "page": 2}).json
    assert (february["total"], len(february["items"]), february["items"][0]["overdue"]) == (3, 1, False)

    assert pay_cash(api, world, billed[JAN][0].id).status_code == 201
    paid = api("GET", path, world.committee, query={"status": "paid"}).json
    assert [line["id"] for line in paid["items"]] == [billed[JAN][0].id]
    assert paid["items"][0]["overdue"] is False


@pytest.mark.parametrize("query", [{"period": "2026-1"}, {"period": "2026-13"}, {"period": "0000-01"},
                                   {"period": "January"}, {"status": "late"}, {"page": 0}, {"page_size": 101}])
def test_bad_bill_filters_are_refused(world, api, query):
    assert_error_shape(api("GET", f"/api/v1/compounds/{world.a.id}/bills", world.staff, query=query), 422)


def test_the_bill_list_costs_the_same_queries_whatever_the_page_size(world, api, billed, count_queries):
    path = f"/api/v1/compounds/{world.a.id}/bills"
    sizes = []
    for page_size in (1, 6):
        db.session.expire_all()
        with count_queries() as statements:
            response = api("GET", path, world.staff, query={"page_size": page_size})
        assert len(response.json["items"]) == page_size
        sizes.append(len(statements))
    assert sizes[0] == sizes[1]


def test_residents_see_all_their_households_bills_newest_first(world, api, billed, make_user):
    mine = api("GET", f"/api/v1/compounds/{world.a.id}/my-bills", world.owner)
    assert mine.status_code == 200
    assert [(line["period_start"], line["household_id"]) for line in mine.json] == [
        ("2026-02-01", world.homes[0].id), ("2026-01-01", world.homes[0].id)]
    assert api("GET", f"/api/v1/compounds/{world.a.id}/my-bills", world.tenant).json == mine.json
    # An owner of two households sees both, the newest period first.
    landlord = make_user(Role.OWNER, world.a, household=world.homes[2])
    db.session.add(Membership(user_id=landlord.id, role=Role.OWNER, compound_id=world.a.id,
                              household_id=world.homes[1].id, verified_at=utcnow()))
    db.session.commit()
    both = api("GET", f"/api/v1/compounds/{world.a.id}/my-bills", landlord).json
    assert [(line["period_start"], line["household_id"]) for line in both] == [
        ("2026-02-01", world.homes[1].id), ("2026-02-01", world.homes[2].id),
        ("2026-01-01", world.homes[1].id), ("2026-01-01", world.homes[2].id)]


def test_an_unverified_claim_shows_no_bills(world, api, billed, make_user):
    claimant = make_user()
    db.session.add(Membership(user_id=claimant.id, role=Role.OWNER, compound_id=world.a.id,
                              household_id=world.homes[2].id, verified_at=None))
    db.session.commit()
    assert api("GET", f"/api/v1/compounds/{world.a.id}/my-bills", claimant).json == []
    assert_error_shape(api("GET", f"/api/v1/households/{world.homes[2].id}/bills", claimant), 404)
    assert_error_shape(api("GET", f"/api/v1/bills/{billed[JAN][2].id}", claimant), 404)


def test_my_bills_is_for_the_households_people(world, api, billed):
    for who in (world.staff, world.committee, world.official):
        assert_error_shape(api("GET", f"/api/v1/compounds/{world.a.id}/my-bills", who), 403)
    assert_error_shape(api("GET", f"/api/v1/compounds/{world.b.id}/my-bills", world.owner), 404)
    assert_error_shape(api("GET", f"/api/v1/compounds/{world.a.id}/my-bills"), 401)


def test_a_households_bills_for_its_people_and_the_desk(world, api, billed):
    path = f"/api/v1/households/{world.homes[0].id}/bills"
    for who in (world.owner, world.tenant, world.staff, world.committee, world.official, world.admin):
        response = api("GET", path, who)
        assert response.status_code == 200, who.username
        assert [line["id"] for line in response.json] == [billed[FEB][0].id, billed[JAN][0].id]
    for who in (world.neighbour, world.b_staff):
        assert_error_shape(api("GET", path, who), 404)
    assert_error_shape(api("GET", "/api/v1/households/2147483647/bills", world.admin), 404)


# ---- the bill's detail -----------------------------------------------------------------------------------


def test_the_bill_shows_its_subsidy_month_by_month_and_what_the_caller_may_do(world, api, billed):
    bill = billed[JAN][0]
    detail = api("GET", f"/api/v1/bills/{bill.id}", world.owner).json
    assert detail["id"] == bill.id and detail["amount_fen"] == 12188
    # Nothing paid yet: the subsidy is what the policy and its budget would give now.
    assert detail["subsidy"] == {
        "policy_name": "过渡期物业费补贴", "fixed": False, "subsidy_fen": 6094,
        "per_month": [{"month": "2026-01-01", "amount_fen": 12188, "rate_bp": 5000, "rate_label": "50%",
                       "subsidy_fen": 6094, "resident_fen": 6094}],
    }
    assert (detail["payments"], detail["refunds"], detail["actions"]) == ([], [], ["pay"])
    expected = {
        "tenant": ["pay"], "staff": ["record_payment"], "manager": ["record_payment"],
        "committee": ["adjust", "waive"], "secretary": ["adjust", "waive"], "official": ["adjust", "waive"],
        "admin": ["record_payment", "adjust", "waive"],
    }
    for who, actions in expected.items():
        assert api("GET", f"/api/v1/bills/{bill.id}", getattr(world, who)).json["actions"] == actions, who


def test_a_bill_spanning_two_tiers_shows_both_rates(world, api, make_compound):
    compound = make_compound(buildings=1, households_per_building=1)
    make_schedule(compound, standard_fen_per_m2=150, effective_from=date(2026, 4, 1), cycle=BillingCycle.QUARTERLY)
    # The transition began in May 2025: April 2026 is month 12 (50%), May and June months 13–14 (30%).
    make_policy(compound_id=compound.id, period_start=date(2025, 5, 1))
    [bill] = issue_bills_for(compound, date(2026, 4, 1))
    subsidy = api("GET", f"/api/v1/bills/{bill.id}", world.admin).json["subsidy"]
    # 81.25 m² × ¥1.50 × 3 = ¥365.625 → 36563 fen, spread 12188 + 12187 + 12188.
    assert [(line["month"], line["amount_fen"], line["rate_label"], line["subsidy_fen"])
            for line in subsidy["per_month"]] == [
        ("2026-04-01", 12188, "50%", 6094), ("2026-05-01", 12187, "30%", 3656), ("2026-06-01", 12188, "30%", 3656)]
    assert subsidy["subsidy_fen"] == 6094 + 3656 + 3656
    assert sum(line["amount_fen"] for line in subsidy["per_month"]) == bill.amount_fen == 36563


def test_a_bill_without_a_covering_policy_has_no_subsidy(world, api, make_compound):
    compound = make_compound(buildings=1, households_per_building=1)
    make_schedule(compound)
    [bill] = issue_bills_for(compound, JAN)
    detail = api("GET", f"/api/v1/bills/{bill.id}", world.admin).json
    assert detail["subsidy"] is None and detail["resident_share_fen"] == detail["amount_fen"] == 12188


def test_an_unknown_bill_is_not_found(world, api):
    assert_error_shape(api("GET", "/api/v1/bills/2147483647", world.admin), 404)
    assert_error_shape(api("GET", "/api/v1/bills/2147483648", world.admin), 404)


# ---- offline payments ------------------------------------------------------------------------------------


def test_cash_settles_the_bill_to_the_fen_with_the_subsidy_fixed(world, api, billed):
    bill = billed[JAN][2]
    response = api("POST", f"/api/v1/bills/{bill.id}/offline-payments", world.staff,
                   json={"method": "cash", "amount_fen": 6281, "offline_receipt_no": " XJ-0001 "})
    assert response.status_code == 201, response.json
    payment = response.json
    # ¥125.625 → 12563 fen; half of it rounds up to 6282 for the subsidy, the household pays 6281.
    assert (payment["amount_fen"], payment["subsidy_fen"], payment["method"], payment["method_label"]) == (
        6281, 6282, "cash", "现金")
    assert payment["offline_receipt_no"] == "XJ-0001" and payment["receipt_no"].startswith("R20260210")
    assert payment["paid_at"] == "2026-02-10T02:00:00+00:00"
    settled = payment["bill"]
    assert (settled["status"], settled["subsidy_fen"], settled["resident_share_fen"], settled["paid_fen"]) == (
        "paid", 6282, 6281, 6281)
    assert settled["subsidy_fen"] + settled["resident_share_fen"] == settled["amount_fen"] == 12563
    assert (settled["outstanding_fen"], settled["overpaid_fen"], settled["overdue"]) == (0, 0, False)
    assert settled["paid_at"] == "2026-02-10T02:00:00+00:00"

    detail = api("GET", f"/api/v1/bills/{bill.id}", world.committee).json
    assert detail["subsidy"]["fixed"] is True and detail["subsidy"]["subsidy_fen"] == 6282
    assert [(line["id"], line["receipt_no"], line["amount_fen"]) for line in detail["payments"]] == [
        (payment["id"], payment["receipt_no"], 6281)]
    assert detail["actions"] == []
    assert api("GET", f"/api/v1/bills/{bill.id}", world.staff).json["actions"] == []
    policy = db.session.scalar(select(SubsidyPolicy).where(SubsidyPolicy.compound_id == world.a.id))
    assert policy.committed_fen == 6282

    [event] = audit_events("payment.offline")
    assert (event.actor_id, event.target_id, event.compound_id) == (world.staff.id, payment["id"], world.a.id)
    assert event.after == {"bill_id": bill.id, "method": "cash", "amount_fen": 6281, "offline_receipt_no": "XJ-0001",
                           "receipt_id": payment["receipt_id"]}


def test_a_bank_transfer_by_the_manager(world, api, billed):
    response = api("POST", f"/api/v1/bills/{billed[FEB][1].id}/offline-payments", world.manager,
                   json={"method": "bank", "amount_fen": 12375 - 6188, "offline_receipt_no": "YH20260210"})
    assert response.status_code == 201, response.json
    assert (response.json["method_label"], response.json["bill"]["status"]) == ("银行转账", "paid")


def test_the_amount_must_be_what_is_owed_after_the_subsidy(world, api, billed):
    bill = billed[JAN][0]
    for amount in (12188, 6093, 6095):
        response = api("POST", f"/api/v1/bills/{bill.id}/offline-payments", world.staff,
                       json={"method": "cash", "amount_fen": amount, "offline_receipt_no": "XJ1"})
        assert_error_shape(response, 422)
        assert "¥60.94" in response.json["message"]
    db.session.expire_all()
    assert db.session.get(Bill, bill.id).status is BillStatus.UNPAID
    assert audit_events("payment.offline") == []
    # Nothing was held for a refused payment.
    assert db.session.scalar(select(SubsidyPolicy.committed_fen).where(SubsidyPolicy.compound_id == world.a.id)) == 0


@pytest.mark.parametrize("body, field", [
    ({"method": "wechat"}, "method"),
    ({"method": "sandbox"}, "method"),
    ({"amount_fen": 0}, "amount_fen"),
    ({"amount_fen": -1}, "amount_fen"),
    ({"amount_fen": 2_147_483_648}, "amount_fen"),
    ({"amount_fen": 60.94}, "amount_fen"),
    ({"offline_receipt_no": ""}, "offline_receipt_no"),
    ({"offline_receipt_no": "   "}, "offline_receipt_no"),
    ({"offline_receipt_no": "X" * 33}, "offline_receipt_no"),
])
def test_bad_offline_payments_are_refused(world, api, billed, body, field):
    response = api("POST", f"/api/v1/bills/{billed[JAN][0].id}/offline-payments", world.staff,
                   json={"method": "cash", "amount_fen": 6094, "offline_receipt_no": "XJ1"} | body)
    assert_error_shape(response, 422)
    assert field in response.json["errors"]["json"]


def test_a_paid_or_waived_bill_takes_no_more_payments(world, api, billed):
    paid, waived = billed[JAN][0], billed[JAN][1]
    assert pay_cash(api, world, paid.id, "XJ1").status_code == 201
    assert api("POST", f"/api/v1/bills/{waived.id}/waiver", world.committee, json={"reason": "低保户"}).status_code == 200
    for bill, message in ((paid, "已缴清"), (waived, "已减免")):
        response = api("POST", f"/api/v1/bills/{bill.id}/offline-payments", world.staff,
                       json={"method": "cash", "amount_fen": 6094, "offline_receipt_no": "XJ2"})
        assert_error_shape(response, 409)
        assert message in response.json["message"]


def test_a_paper_receipt_number_is_used_once_per_compound(world, api, billed):
    assert pay_cash(api, world, billed[JAN][0].id, "XJ0001").status_code == 201
    again = pay_cash(api, world, billed[JAN][1].id, "XJ0001")
    assert_error_shape(again, 409)
    assert "收据号" in again.json["message"]
    assert db.session.get(Bill, billed[JAN][1].id).status is BillStatus.UNPAID


@pytest.mark.parametrize("who, status", [("committee", 403), ("official", 403), ("owner", 403),
                                         ("neighbour", 404), ("b_staff", 404)])
def test_only_the_property_desk_records_payments(world, api, billed, who, status):
    response = api("POST", f"/api/v1/bills/{billed[JAN][0].id}/offline-payments", getattr(world, who),
                   json={"method": "cash", "amount_fen": 6094, "offline_receipt_no": "XJ1"})
    assert_error_shape(response, status)
    assert audit_events("payment.offline") == []


# ---- adjustments and waivers -----------------------------------------------------------------------------


def test_the_committee_adjusts_a_bill_with_a_reason(world, api, billed):
    bill = billed[JAN][1]
    response = api("POST", f"/api/v1/bills/{bill.id}/adjustments", world.committee,
                   json={"amount_fen": 10000, "reason": " 面积核减为68.00㎡ "})
    assert response.status_code == 200, response.json
    adjusted = response.json
    assert (adjusted["original_amount_fen"], adjusted["amount_fen"], adjusted["adjust_reason"]) == (
        12375, 10000, "面积核减为68.00㎡")
    assert (adjusted["status"], adjusted["outstanding_fen"]) == ("unpaid", 10000)
    # The subsidy follows the new amount: half of ¥100.00.
    assert api("GET", f"/api/v1/bills/{bill.id}", world.neighbour).json["subsidy"]["subsidy_fen"] == 5000
    [event] = audit_events("bill.adjust")
    assert (event.actor_id, event.target_id, event.compound_id) == (world.committee.id, bill.id, world.a.id)
    assert (event.before["amount_fen"], event.after) == (12375, {"amount_fen": 10000, "reason": "面积核减为68.00㎡"})


def test_adjusting_to_nothing_waives(world, api, billed):
    response = api("POST", f"/api/v1/bills/{billed[JAN][0].id}/adjustments", world.official,
                   json={"amount_fen": 0, "reason": "房屋空置核销"})
    assert response.status_code == 200
    assert (response.json["status"], response.json["status_label"], response.json["outstanding_fen"]) == (
        "waived", "已减免", 0)


def test_the_committee_waives_a_bill_and_it_stays_on_record(world, api, billed):
    bill = billed[JAN][2]
    response = api("POST", f"/api/v1/bills/{bill.id}/waiver", world.secretary, json={"reason": "特困户减免"})
    assert response.status_code == 200, response.json
    assert (response.json["status"], response.json["adjust_reason"], response.json["amount_fen"]) == (
        "waived", "特困户减免", 12563)
    assert (response.json["outstanding_fen"], response.json["overdue"]) == (0, False)
    assert api("GET", f"/api/v1/bills/{bill.id}", world.committee).json["actions"] == []
    listed = api("GET", f"/api/v1/compounds/{world.a.id}/bills", world.staff, query={"status": "waived"}).json
    assert [line["id"] for line in listed["items"]] == [bill.id]
    [event] = audit_events("bill.waive")
    assert (event.actor_id, event.target_id, event.after["reason"]) == (world.secretary.id, bill.id, "特困户减免")
    again = api("POST", f"/api/v1/bills/{bill.id}/waiver", world.secretary, json={"reason": "再减免"})
    assert_error_shape(again, 409)


def test_a_paid_bill_is_neither_adjusted_nor_waived(world, api, billed):
    bill = billed[JAN][0]
    assert pay_cash(api, world, bill.id).status_code == 201
    for path, body in (("adjustments", {"amount_fen": 1, "reason": "改"}), ("waiver", {"reason": "免"})):
        response = api("POST", f"/api/v1/bills/{bill.id}/{path}", world.committee, json=body)
        assert_error_shape(response, 409)
        assert "退款" in response.json["message"]
    assert audit_events("bill.adjust") == audit_events("bill.waive") == []


def test_an_open_payment_holds_the_bill_until_its_window_passes(world, api, billed, clock):
    bill = billed[JAN][0]
    start = payment_service.start_payment(bill.id, world.owner, NOTIFY_URL)
    assert start.order is not None and start.order.amount_fen == 6094
    policy_id = db.session.scalar(select(SubsidyPolicy.id).where(SubsidyPolicy.compound_id == world.a.id))
    assert db.session.get(SubsidyPolicy, policy_id).committed_fen == 6094
    response = api("POST", f"/api/v1/bills/{bill.id}/waiver", world.committee, json={"reason": "减免"})
    assert_error_shape(response, 409)
    assert "支付" in response.json["message"]

    clock.shift(timedelta(minutes=16))
    waived = api("POST", f"/api/v1/bills/{bill.id}/waiver", world.committee, json={"reason": "减免"})
    assert waived.status_code == 200 and waived.json["subsidy_fen"] == 0
    # The subsidy held for the abandoned payment is back in the budget.
    db.session.expire_all()
    assert db.session.get(SubsidyPolicy, policy_id).committed_fen == 0


@pytest.mark.parametrize("body, field", [
    ({"amount_fen": -1}, "amount_fen"),
    ({"amount_fen": 2_147_483_648}, "amount_fen"),
    ({"amount_fen": "100"}, "amount_fen"),
    ({"reason": ""}, "reason"),
    ({"reason": "  "}, "reason"),
    ({"reason": "因" * 501}, "reason"),
])
def test_bad_adjustments_are_refused(world, api, billed, body, field):
    response = api("POST", f"/api/v1/bills/{billed[JAN][0].id}/adjustments", world.committee,
                   json={"amount_fen": 100, "reason": "核减"} | body)
    assert_error_shape(response, 422)
    assert field in response.json["errors"]["json"]
    assert db.session.get(Bill, billed[JAN][0].id).amount_fen == 12188


def test_a_waiver_needs_a_reason(world, api, billed):
    for body in ({}, {"reason": ""}, {"reason": " \n"}):
        assert_error_shape(api("POST", f"/api/v1/bills/{billed[JAN][0].id}/waiver", world.committee, json=body), 422)


@pytest.mark.parametrize("who, status", [("staff", 403), ("manager", 403), ("owner", 403), ("neighbour", 404),
                                         ("b_staff", 404)])
def test_only_the_committee_and_officials_adjust_and_waive(world, api, billed, who, status):
    bill_id = billed[JAN][0].id
    assert_error_shape(api("POST", f"/api/v1/bills/{bill_id}/adjustments", getattr(world, who),
                           json={"amount_fen": 1, "reason": "改"}), status)
    assert_error_shape(api("POST", f"/api/v1/bills/{bill_id}/waiver", getattr(world, who),
                           json={"reason": "免"}), status)
    assert db.session.get(Bill, bill_id).status is BillStatus.UNPAID


# ---- refunds ---------------------------------------------------------------------------------------------


@pytest.fixture
def overpaid(world, api, billed) -> Bill:
    """January's bill of homes[0] paid twice: the owner's online order expired, WeChat Pay closed it when staff
    took cash, and then its notification came all the same (WeChat Pay took the money of the closed order)."""
    bill = billed[JAN][0]
    started_at = utcnow() - timedelta(minutes=20)
    order = payment_service.start_payment(bill.id, world.owner, NOTIFY_URL, now=started_at).order
    out_trade_no, amount_fen, openid = order.out_trade_no, order.amount_fen, order.openid
    assert pay_cash(api, world, bill.id).status_code == 201
    payment_service.accept_notification(*wechat_pay().signed_notification(
        out_trade_no, "4200002100202601010000000001", amount_fen, openid))
    db.session.expire_all()
    return db.session.get(Bill, bill.id)


def test_the_committee_refunds_an_overpayment(world, api, overpaid):
    detail = api("GET", f"/api/v1/bills/{overpaid.id}", world.committee).json
    assert (detail["paid_fen"], detail["overpaid_fen"], detail["actions"]) == (12188, 6094, ["refund"])
    assert [line["method"] for line in detail["payments"]] == ["cash", "sandbox"]

    too_much = api("POST", f"/api/v1/bills/{overpaid.id}/refunds", world.committee,
                   json={"amount_fen": 6095, "method": "cash", "reason": "重复缴费"})
    assert_error_shape(too_much, 422)
    assert "¥60.94" in too_much.json["message"]

    response = api("POST", f"/api/v1/bills/{overpaid.id}/refunds", world.official,
                   json={"amount_fen": 6094, "method": "bank", "reason": " 重复缴费，退回银行卡 "})
    assert response.status_code == 201, response.json
    refund = response.json
    assert (refund["bill_id"], refund["amount_fen"], refund["method"], refund["method_label"], refund["reason"]) == (
        overpaid.id, 6094, "bank", "银行转账", "重复缴费，退回银行卡")
    after = api("GET", f"/api/v1/bills/{overpaid.id}", world.owner).json
    assert (after["paid_fen"], after["overpaid_fen"], after["status"]) == (6094, 0, "paid")
    assert after["paid_fen"] + after["subsidy_fen"] == after["amount_fen"]
    assert [line["id"] for line in after["refunds"]] == [refund["id"]]
    [event] = audit_events("bill.refund")
    assert (event.actor_id, event.target_id, event.after["amount_fen"]) == (world.official.id, overpaid.id, 6094)

    nothing_left = api("POST", f"/api/v1/bills/{overpaid.id}/refunds", world.official,
                       json={"amount_fen": 1, "method": "cash", "reason": "再退"})
    assert_error_shape(nothing_left, 422)


def test_nothing_to_refund_on_a_bill_paid_once(world, api, billed):
    bill = billed[JAN][0]
    assert pay_cash(api, world, bill.id).status_code == 201
    response = api("POST", f"/api/v1/bills/{bill.id}/refunds", world.committee,
                   json={"amount_fen": 1, "method": "cash", "reason": "退"})
    assert_error_shape(response, 422)
    assert audit_events("bill.refund") == []


@pytest.mark.parametrize("body, field", [
    ({"amount_fen": 0}, "amount_fen"), ({"method": "wechat"}, "method"), ({"reason": ""}, "reason"),
])
def test_bad_refunds_are_refused(world, api, overpaid, body, field):
    response = api("POST", f"/api/v1/bills/{overpaid.id}/refunds", world.committee,
                   json={"amount_fen": 100, "method": "cash", "reason": "重复缴费"} | body)
    assert_error_shape(response, 422)
    assert field in response.json["errors"]["json"]


@pytest.mark.parametrize("who, status", [("staff", 403), ("manager", 403), ("owner", 403), ("neighbour", 404)])
def test_only_the_committee_and_officials_refund(world, api, overpaid, who, status):
    response = api("POST", f"/api/v1/bills/{overpaid.id}/refunds", getattr(world, who),
                   json={"amount_fen": 100, "method": "cash", "reason": "重复缴费"})
    assert_error_shape(response, status)
    assert db.session.get(Bill, overpaid.id).paid_fen == 12188


# ---- collection and arrears ------------------------------------------------------------------------------


def test_the_collection_rate_moves_with_a_cash_payment(world, api, billed):
    path = f"/api/v1/compounds/{world.a.id}/collection"
    before = api("GET", path, world.committee, query={"period": "2026-01"}).json
    assert before["total"] == 1
    assert before["items"] == [{
        "period": "2026-01", "period_start": "2026-01-01", "billed_households": 3, "paid_households": 0,
        "billed_fen": sum(JAN_AMOUNTS), "paid_fen": 0, "household_rate_bp": 0, "fen_rate_bp": 0,
    }]
    assert pay_cash(api, world, billed[JAN][0].id).status_code == 201
    [after] = api("GET", path, world.staff, query={"period": "2026-01"}).json["items"]
    # A paid bill counts in full: what the household paid and the subsidy together.
    assert (after["paid_households"], after["paid_fen"]) == (1, 12188)
    assert (after["household_rate_bp"], after["fen_rate_bp"]) == (3333, 3283)
    # A waived bill is no longer billed.
    assert api("POST", f"/api/v1/bills/{billed[JAN][2].id}/waiver", world.committee,
               json={"reason": "特困户"}).status_code == 200
    [waived] = api("GET", path, world.official, query={"period": "2026-01"}).json["items"]
    assert (waived["billed_households"], waived["billed_fen"], waived["household_rate_bp"]) == (2, 12188 + 12375, 5000)

    every = api("GET", path, world.manager).json
    assert every["total"] == 2
    assert [(line["period"], line["paid_households"]) for line in every["items"]] == [("2026-02", 0), ("2026-01", 1)]
    second_page = api("GET", path, world.manager, query={"page_size": 1, "page": 2}).json
    assert [line["period"] for line in second_page["items"]] == ["2026-01"]


def test_a_period_without_bills_collects_nothing(world, api, billed):
    [line] = api("GET", f"/api/v1/compounds/{world.a.id}/collection", world.staff, query={"period": "2030-01"}).json["items"]
    assert (line["billed_households"], line["fen_rate_bp"]) == (0, 0)


def test_arrears_are_the_households_past_their_due_date(world, api, billed, clock):
    path = f"/api/v1/compounds/{world.a.id}/arrears"
    listing = api("GET", path, world.staff).json
    # Only January is past due on 10 February; the most owed first.
    assert listing["total"] == 3
    assert [(line["label"], line["bills"], line["outstanding_fen"]) for line in listing["items"]] == [
        ("1栋1单元301", 1, 12563), ("1栋1单元201", 1, 12375), ("1栋1单元101", 1, 12188)]
    assert {(line["oldest_due"], line["days_overdue"]) for line in listing["items"]} == {("2026-01-15", 26)}
    assert pay_cash(api, world, billed[JAN][2].id).status_code == 201
    assert [line["household_id"] for line in api("GET", path, world.committee).json["items"]] == [
        world.homes[1].id, world.homes[0].id]
    # At 00:00 on 16 February in Beijing (still the 15th in UTC), February's bills are overdue too.
    clock.move_to(datetime(2026, 2, 15, 16, 0, tzinfo=UTC))
    late = api("GET", path, world.official, query={"page_size": 1}).json
    assert late["total"] == 3 and len(late["items"]) == 1
    assert (late["items"][0]["bills"], late["items"][0]["outstanding_fen"]) == (2, 12375 * 2)
    assert (late["items"][0]["oldest_due"], late["items"][0]["days_overdue"]) == ("2026-01-15", 32)


@pytest.mark.parametrize("tail", ["collection", "arrears", "bills"])
@pytest.mark.parametrize("who", ["owner", "tenant", "neighbour"])
def test_residents_see_neither_the_desks_bills_nor_collection_nor_arrears(world, api, billed, tail, who):
    assert_error_shape(api("GET", f"/api/v1/compounds/{world.a.id}/{tail}", getattr(world, who)), 403)


def test_no_bill_row_is_ever_deleted(world, api, billed):
    bill_id = billed[JAN][0].id
    for method in ("DELETE", "PUT", "PATCH"):
        assert api(method, f"/api/v1/bills/{bill_id}", world.admin).status_code == 405
    assert db.session.scalar(select(func.count()).select_from(Bill).where(Bill.compound_id == world.a.id)) == 6
