"""The demo's fingerprint: how many rows each table holds, the rows a visitor meets first (places, accounts,
phones, passwords, households, work orders, topics, the meeting, schedules, bills and payments) and what
load_demo returns. Loaded at one fixed moment, so the bills of the month are the same on any day the suite runs;
a change here is a change of the demo data, on purpose or not."""
from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import case, func, select

from backend.demo import DEMO_PASSWORD, Demo, load_demo
from backend.extensions import db
from backend.models import (
    Announcement,
    AnnouncementCompound,
    Area,
    Base,
    Bill,
    BindingRequest,
    Building,
    CompanyRating,
    Compound,
    FeeSchedule,
    FundAccount,
    FundEntry,
    FundMonth,
    Household,
    Meeting,
    MeetingInvitee,
    Membership,
    Payment,
    PropertyCompany,
    RatingRound,
    RegisteredOwner,
    SubsidyPolicy,
    Survey,
    SurveyResponse,
    SurveyTally,
    Topic,
    User,
    WorkOrder,
)
from backend.services.identity import verify_password

# 10:00 in Beijing on 25 November 2026, whatever `--now` the run has.
LOADED_AT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.fixture
def demo(app) -> Demo:
    with time_machine.travel(LOADED_AT, tick=True):
        return load_demo()


def _counts() -> dict[str, int]:
    counts = {table.name: db.session.scalar(select(func.count()).select_from(table))
              for table in Base.metadata.sorted_tables}
    return {name: count for name, count in sorted(counts.items()) if count}


def _usernames() -> dict[int, str]:
    return dict(db.session.execute(select(User.id, User.username)).all())


def _rooms() -> dict[int, str]:
    """Household id → compound code, building, unit and room, e.g. `yangguang 1栋 1-101`."""
    rows = db.session.execute(
        select(Household.id, Compound.code, Building.name, Household.unit, Household.room)
        .join(Compound, Compound.id == Household.compound_id).join(Building, Building.id == Household.building_id)
    ).all()
    return {row.id: f"{row.code} {row.name} {row.unit}-{row.room}" for row in rows}


def _places() -> dict:
    areas = db.session.execute(select(Area.level, Area.name).order_by(Area.path)).all()
    compounds = db.session.execute(
        select(Compound.code, Compound.name, Compound.address, Compound.built_year, Compound.management_model,
               Compound.party_org_form, Compound.first_secretary_name, Compound.governance_body,
               Compound.fee_standard_fen_per_m2, Compound.renovation_status, Compound.open_problems,
               PropertyCompany.name, PropertyCompany.credit_code)
        .join(PropertyCompany, PropertyCompany.id == Compound.property_company_id).order_by(Compound.code)
    ).all()
    homes = db.session.execute(
        select(Compound.code, Household.kind, func.count(), func.sum(Household.floor_area_centi_m2))
        .join(Compound, Compound.id == Household.compound_id)
        .group_by(Compound.code, Household.kind)
    ).all()
    buildings = db.session.execute(
        select(Compound.code, Building.name).join(Compound, Compound.id == Building.compound_id)
        .order_by(Compound.code, Building.id)
    ).all()
    return {
        "areas": [(level.value, name) for level, name in areas],
        "compounds": [tuple(value.value if hasattr(value, "value") else value for value in row) for row in compounds],
        "homes": sorted((code, kind.value, count, area) for code, kind, count, area in homes),
        "buildings": [tuple(row) for row in buildings],
    }


def _accounts() -> list[tuple]:
    """Every account but owner01…owner40: name, masked phone and what it holds where."""
    rooms, usernames = _rooms(), _usernames()
    places = dict(db.session.execute(select(Compound.id, Compound.code)).all())
    places |= {-area_id: name for area_id, name in db.session.execute(select(Area.id, Area.name)).all()}
    held: dict[int, list[tuple]] = {}
    for row in db.session.execute(select(Membership).order_by(Membership.id)).scalars():
        held.setdefault(row.user_id, []).append((
            row.role.value,
            places[row.compound_id] if row.compound_id else places[-row.area_id] if row.area_id else None,
            rooms.get(row.household_id),
            usernames.get(row.verified_by_id),
        ))
    users = db.session.execute(
        select(User.id, User.username, User.display_name, User.phone_masked).order_by(User.id)
    ).all()
    return [
        (row.username, row.display_name, row.phone_masked, held.get(row.id, []))
        for row in users if not re.fullmatch(r"owner\d\d", row.username or "")
    ]


def _owners() -> list[tuple]:
    rooms = _rooms()
    rows = db.session.execute(
        select(User.username, User.display_name, Membership.role, Membership.household_id)
        .join(Membership, Membership.user_id == User.id).where(User.username.like("owner__"))
        .order_by(User.username)
    ).all()
    return [(row.username, row.display_name, row.role.value, rooms[row.household_id]) for row in rows]


def _registers_and_requests() -> dict:
    rooms = _rooms()
    registered = db.session.execute(
        select(RegisteredOwner.name, RegisteredOwner.phone_masked, RegisteredOwner.household_id)
        .order_by(RegisteredOwner.id)
    ).all()
    requests = db.session.execute(
        select(BindingRequest.claimed_name, BindingRequest.relation, BindingRequest.status, User.phone_masked,
               BindingRequest.household_id)
        .join(User, User.id == BindingRequest.user_id).order_by(BindingRequest.id)
    ).all()
    return {
        "registered": [(name, masked, rooms[home]) for name, masked, home in registered],
        "requests": [(name, relation.value, status.value, masked, rooms[home])
                     for name, relation, status, masked, home in requests],
    }


def _work_orders() -> list[tuple]:
    usernames = _usernames()
    rows = db.session.execute(select(WorkOrder).order_by(WorkOrder.created_at)).scalars()
    return [(usernames[order.submitter_id], order.category, order.description, order.status.value,
             order.urgency.value, order.escalation_level, order.rating_stars, order.dispute_count, order.urge_count)
            for order in rows]


def _topics() -> list[tuple]:
    usernames = _usernames()
    rows = db.session.execute(select(Topic).order_by(Topic.id)).scalars()
    return [(usernames[topic.proposer_id], topic.title, topic.step.value, topic.cosign_count,
             topic.vote_kind.value if topic.vote_kind else None, topic.voting_hours, topic.responsible_party)
            for topic in rows]


def _meetings() -> list[tuple]:
    rows = db.session.execute(
        select(Meeting.title, Meeting.kind, Meeting.place, Topic.title, func.count(MeetingInvitee.id))
        .join(Topic, Topic.id == Meeting.topic_id).join(MeetingInvitee, MeetingInvitee.meeting_id == Meeting.id)
        .group_by(Meeting.id, Meeting.title, Meeting.kind, Meeting.place, Topic.title).order_by(Meeting.id)
    ).all()
    return [(title, kind.value, place, topic, invitees) for title, kind, place, topic, invitees in rows]


def _announcements() -> list[tuple]:
    """(author, title, category, pinned, urgent, last day, where it was posted, the compounds it reaches)"""
    usernames = _usernames()
    codes = dict(db.session.execute(select(Compound.id, Compound.code)).all())
    areas = dict(db.session.execute(select(Area.id, Area.name)).all())
    reaches: dict[int, list[str]] = {}
    for announcement_id, compound_id in db.session.execute(
            select(AnnouncementCompound.announcement_id, AnnouncementCompound.compound_id)):
        reaches.setdefault(announcement_id, []).append(codes[compound_id])
    rows = db.session.execute(select(Announcement).order_by(Announcement.id)).scalars()
    return [(usernames[row.author_id], row.title, row.category.value, row.pinned, row.urgent,
             row.ends_on.isoformat() if row.ends_on else None,
             codes[row.compound_id] if row.compound_id else areas[row.area_id], sorted(reaches[row.id]))
            for row in rows]


def _fees() -> dict:
    schedules = db.session.execute(
        select(Compound.code, FeeSchedule.household_kind, FeeSchedule.standard_fen_per_m2, FeeSchedule.effective_from,
               FeeSchedule.cycle, FeeSchedule.due_day, FeeSchedule.note)
        .join(Compound, Compound.id == FeeSchedule.compound_id).order_by(FeeSchedule.id)
    ).all()
    policies = db.session.execute(
        select(SubsidyPolicy.name, SubsidyPolicy.built_before_year, SubsidyPolicy.period_start, SubsidyPolicy.tiers,
               SubsidyPolicy.cap_fen_per_month, SubsidyPolicy.budget_fen, SubsidyPolicy.committed_fen)
    ).all()
    bills = db.session.execute(
        select(Compound.code, Bill.period_start, Bill.status, func.count(), func.sum(Bill.amount_fen),
               func.sum(Bill.subsidy_fen), func.sum(Bill.paid_fen))
        .join(Compound, Compound.id == Bill.compound_id)
        .group_by(Compound.code, Bill.period_start, Bill.status)
    ).all()
    payments = db.session.execute(
        select(Payment.method, func.count(), func.sum(Payment.amount_fen), func.sum(Payment.subsidy_fen))
        .group_by(Payment.method)
    ).all()
    return {
        "schedules": [(code, kind.value, standard, start.isoformat(), cycle.value, due_day, note)
                      for code, kind, standard, start, cycle, due_day, note in schedules],
        "policies": [(name, before, start.isoformat(), tiers, cap, budget, committed)
                     for name, before, start, tiers, cap, budget, committed in policies],
        "bills": sorted((code, start.isoformat(), status.value, count, amount, subsidy, paid)
                        for code, start, status, count, amount, subsidy, paid in bills),
        "payments": sorted((method.value, count, amount, subsidy) for method, count, amount, subsidy in payments),
    }


def _passwords() -> dict:
    """How many accounts have a password and whether each signs in with the demo password (one hash for all
    today, so checking each distinct hash is checking them all)."""
    hashes = Counter(db.session.execute(
        select(User.password_hash).where(User.password_hash.is_not(None))
    ).scalars())
    return {"accounts": sum(hashes.values()),
            "demo_password": all(verify_password(password_hash, DEMO_PASSWORD) for password_hash in hashes)}


def _evaluation() -> dict:
    """The surveys with each compound's overall figures, and the rating round's rows."""
    surveys = db.session.execute(
        select(Survey.title, Survey.closed_at.is_not(None), func.count(SurveyResponse.id),
               func.sum(case((SurveyResponse.paper, 1), else_=0)))
        .outerjoin(SurveyResponse, SurveyResponse.survey_id == Survey.id).group_by(Survey.id).order_by(Survey.id)
    ).all()
    tallies = db.session.execute(
        select(Compound.code, SurveyTally.households, SurveyTally.answered, SurveyTally.counts, SurveyTally.rate_bp,
               SurveyTally.score_centi, SurveyTally.sufficient)
        .join(Compound, Compound.id == SurveyTally.compound_id)
        .where(SurveyTally.subject == "overall").order_by(Compound.code)
    ).all()
    ratings = db.session.execute(
        select(RatingRound.status, CompanyRating.compounds_rated, CompanyRating.compounds_insufficient,
               CompanyRating.survey_score_centi, CompanyRating.service_score_centi,
               CompanyRating.inspection_score_centi, CompanyRating.credit_centi, CompanyRating.composite_centi,
               CompanyRating.rank, CompanyRating.stars)
        .join(RatingRound, RatingRound.id == CompanyRating.round_id)
    ).all()
    return {"surveys": [tuple(row) for row in surveys], "tallies": [tuple(row) for row in tallies],
            "ratings": [tuple(row) for row in ratings]}


def _returned(demo: Demo) -> dict:
    """What load_demo returned, its ids read back as names."""
    rooms, usernames = _rooms(), _usernames()
    areas = dict(db.session.execute(select(Area.id, Area.name)).all())
    codes = dict(db.session.execute(select(Compound.id, Compound.code)).all())
    return {
        "areas": {level.value: areas[area_id] for level, area_id in demo.areas.items()},
        "compounds": sorted(code for code, compound_id in demo.compounds.items() if codes[compound_id] == code),
        "users": sorted(username for username, user_id in demo.users.items() if usernames[user_id] == username),
        "homes": {username: rooms[home] for username, home in demo.homes.items()
                  if username in ("owner", "tenant", "owner2", "owner01", "owner40")},
        "residents": len(demo.homes),
        "again": load_demo(),
    }


def _funds() -> list[tuple]:
    """Each account: its compound, kind and opening day, its closed months (opening, income, expense, closing and
    the bank's balance) and the net of the entries after them, with the reversals."""
    accounts = db.session.execute(
        select(FundAccount.id, Compound.code, FundAccount.kind, FundAccount.opened_on)
        .join(Compound, Compound.id == FundAccount.compound_id).order_by(FundAccount.id)).all()
    found = []
    for account_id, code, kind, opened_on in accounts:
        months = db.session.execute(
            select(FundMonth.month, FundMonth.opening_fen, FundMonth.income_fen, FundMonth.expense_fen,
                   FundMonth.closing_fen, FundMonth.bank_balance_fen)
            .where(FundMonth.account_id == account_id).order_by(FundMonth.month)).all()
        after = db.session.scalar(select(func.count()).where(FundEntry.account_id == account_id,
                                                             FundEntry.month > months[-1].month))
        reversals = db.session.scalars(select(FundEntry.amount_fen).where(FundEntry.account_id == account_id,
                                                                          FundEntry.reverses_id.is_not(None))).all()
        found.append((code, kind.value, opened_on.isoformat(),
                      [(row.month.isoformat(), *row[1:]) for row in months], after, reversals))
    return found


def test_the_demo_is_the_one_it_was(demo):
    owners = _owners()
    fingerprint = {
        "counts": _counts(), "places": _places(), "accounts": _accounts(), "owners": len(owners),
        "first_and_last_owner": [owners[0], owners[-1]], "registers_and_requests": _registers_and_requests(),
        "passwords": _passwords(), "work_orders": _work_orders(), "topics": _topics(), "meetings": _meetings(),
        "announcements": _announcements(), "fees": _fees(), "evaluation": _evaluation(), "returned": _returned(demo),
        "funds": _funds(),
    }

    assert fingerprint == {
        "counts": COUNTS, "places": PLACES, "accounts": ACCOUNTS, "owners": 40,
        "first_and_last_owner": OWNERS_FIRST_AND_LAST, "registers_and_requests": REGISTERS_AND_REQUESTS,
        "passwords": {"accounts": 55, "demo_password": True}, "work_orders": WORK_ORDERS, "topics": TOPICS,
        "meetings": MEETINGS, "announcements": ANNOUNCEMENTS, "fees": FEES, "evaluation": EVALUATION,
        "returned": RETURNED, "funds": FUNDS,
    }


FUNDS = [
    ("wushisi", "trust", "2026-07-01", [
        ("2026-07-01", 1268000, 550138, 151414, 1666724, 1666724),
        ("2026-08-01", 1666724, 143748, 110775, 1699697, 1699697),
        # The bank's interest, entered in October, explains the difference.
        ("2026-09-01", 1699697, 36000, 120000, 1615697, 1616047),
    ], 49, [-20000]),
    ("yangguang", "joint", "2026-08-01", [
        ("2026-08-01", 356000, 440000, 13000, 783000, 783000),
        ("2026-09-01", 783000, 260000, 13000, 1030000, 1030000),
    ], 5, []),
]
COUNTS = {
    "announcement_compounds": 4, "announcements": 3, "areas": 4, "audit_events": 492, "ballot_options": 15, "ballot_results": 4, "ballot_rolls": 288, "bills": 408,
    "binding_requests": 2, "buildings": 7, "company_ratings": 1, "compound_figures": 2, "compound_month_figures": 24, "compounds": 2, "credit_records": 1,
    # Issue 16. Two dispute cases: their parties, three mediation records, and a notice to the resident parties of
    # each record and of the outcome (with its fan-out job).
    "dispute_cases": 2, "dispute_parties": 5, "dispute_steps": 3,
    # Both compounds' governance rows, the first secretary sent to 五十四街坊 (a membership) and her log.
    "first_secretaries": 1, "first_secretary_logs": 1, "governance_records": 2,
    # 东区's flag thresholds (audited) and the flags they raise at this moment (阳光花园: its overdue order, and three
    # low months of collection), told to the district and the street in one notice.
    "flag_thresholds": 1, "problem_flags": 2,
    # Issue 17. 五十四街坊's trust account (every fee payment posted once, cleaning, parking, electricity, a roof
    # repair, the bank's interest, the remuneration posted at each close of a month with fee income, one electricity bill entered
    # twice and reversed) and 阳光花园's joint account (parking, lift advertising, taxes, parking lines), each entry
    # with its audit event, a voucher photo per manual entry, every ended month closed but the last; two committee
    # members of 五十四街坊 who keep its books; six spending requests (five approved by two members, one waiting).
    "fund_accounts": 2, "fund_entries": 149, "fund_months": 5, "fund_settings": 2, "fund_vouchers": 28,
    "spending_approvals": 11, "spending_requests": 6,
    "fee_schedules": 3, "households": 126, "inspection_items": 10, "inspections": 2, "meeting_invitees": 6,
    # One 缴费成功 notice (and its fan-out job) per online payment; a receipt per vote and per online survey sheet;
    # the rows of the vote reminders each household's vote withdrew from its people before any worker ran.
    # The street's monthly report (定期通报), with its 通报已生成 notice and that notice's fan-out job.
    "meetings": 1, "memberships": 54, "notices": 303, "notifications": 117, "outbox_jobs": 306,
    "payment_order_bills": 65, "payment_orders": 65, "payments": 245, "property_companies": 1, "rating_methods": 1,
    "rating_rounds": 1, "receipts": 245, "rectification_events": 4, "rectifications": 2, "registered_owners": 2, "reports": 1,
    "subsidy_grants": 245, "subsidy_policies": 1, "survey_answers": 460, "survey_compounds": 4,
    "survey_evaluators": 1, "survey_questions": 14, "survey_responses": 69, "survey_tallies": 14, "surveys": 2,
    "topic_comments": 6, "topic_cosigns": 33, "topic_followers": 147, "topic_objections": 1, "topic_progress": 4,
    "topic_ratings": 5, "topics": 9, "users": 57, "vote_casts": 118, "votes": 117, "work_order_escalations": 2,
    "work_order_events": 56, "work_order_followers": 15, "work_order_ratings": 4, "work_orders": 15,
    # Issue 19: a clinic with four sign-ups and a full clean-up with one waiting (and the two audit events above).
    "activities": 2, "activity_signups": 8,
    # Issue 19. 五十四街坊's renovation projects: the LED lights from the owners' topic (completed, rated by three
    # households), a lift under way, parking and greening planned; each step audited (9), a notice to each project's
    # party and one on completion (4 notices; the community's has no official to fan out to, so 3 jobs).
    "renovation_items": 6, "renovation_projects": 3, "renovation_ratings": 3, "renovation_updates": 3,
    # Issue 19, contracts: 阳光花园's company chosen on paper (the selection's topic, its result, the desk's and the
    # committee's notices with their jobs, twelve audit events), its contract in force and the takeover inspection.
    "company_selections": 1, "handover_inspections": 1, "handover_items": 10, "property_contracts": 1,
    # Issue 19. 阳光花园's 治理骨干: three entered by keepers, a volunteer confirmed and one waiting (six audit events;
    # the party secretary told of each application and the confirmed volunteer of the answer: three notices, each
    # with its fan-out job).
    "backbone_members": 5,
    # Issue 19, environment campaigns: 炳草岗街道's 卫生评比 over both compounds, one round scoring all seven buildings
    # with two findings (no photos); the campaign, the round and each score audited (9).
    "building_scores": 7, "campaign_compounds": 2, "campaign_findings": 2, "campaign_rounds": 1,
    "environment_campaigns": 1,
}
PLACES = {
    "areas": [
        ("city", "攀枝花市"),
        ("district", "东区"),
        ("street", "炳草岗街道"),
        ("community", "金沙社区"),
    ],
    "compounds": [
        ("wushisi", "五十四街坊", "攀枝花市东区炳草岗大道297号", 1988, "trust", "single", "李红梅", "owners_committee",
         60, "done", "部分楼栋雨污管网老化", "攀枝花安居物业服务有限公司", "91510400MA6DEMO01X"),
        ("yangguang", "阳光花园小区", "攀枝花市东区炳草岗大道14号", 1996, "market", "single", "李红梅", "owners_committee",
         85, "in_progress", "", "攀枝花安居物业服务有限公司", "91510400MA6DEMO01X"),
    ],
    "homes": [
        ("wushisi", "residential", 48, 419579),
        ("yangguang", "commercial", 6, 56300),
        ("yangguang", "residential", 72, 589578),
    ],
    "buildings": [
        ("wushisi", "1栋"),
        ("wushisi", "2栋"),
        ("wushisi", "3栋"),
        ("yangguang", "1栋"),
        ("yangguang", "2栋"),
        ("yangguang", "3栋"),
        ("yangguang", "临街商铺"),
    ],
}
ACCOUNTS = [
    ("admin", "平台管理员", None, [("admin", None, None, None)]),
    ("official", "炳草岗街道 王科长", None, [("official", "炳草岗街道", None, None)]),
    ("secretary", "李红梅（第一书记）", None, [("party_secretary", "yangguang", None, None)]),
    ("committee", "张建国（业委会主任）", None, [("committee", "yangguang", None, None)]),
    ("manager", "陈经理（安居物业）", None, [("manager", "yangguang", None, None)]),
    ("staff", "刘师傅（维修工）", None, [("staff", "yangguang", None, None)]),
    ("owner", "王秀英", "139****0001", [("owner", "yangguang", "yangguang 1栋 1-101", "admin")]),
    ("tenant", "赵小军", None, [("resident", "yangguang", "yangguang 1栋 1-101", "admin")]),
    ("owner2", "孙桂兰", None, [("owner", "wushisi", "wushisi 1栋 1-101", "admin")]),
    (None, "", "137****0045", []),
    (None, "", "137****0046", []),
    ("staff2", "何会计（五十四街坊收费员）", None, [("staff", "wushisi", None, None)]),
    ("district", "东区住建局 周科长", None, [("official", "东区", None, None)]),
    ("evaluator", "第三方测评员 何静", "139****0099", []),
    ("first_secretary", "李红梅", None, [("party_secretary", "wushisi", None, None)]),
    ("committee2", "刘淑芬（五十四街坊业委会主任）", None, [("committee", "wushisi", None, None)]),
    ("committee3", "黄志强（五十四街坊业委会委员）", None, [("committee", "wushisi", None, None)]),
]
OWNERS_FIRST_AND_LAST = [
    ("owner01", "业主01", "owner", "yangguang 1栋 1-102"),
    ("owner40", "业主40", "owner", "yangguang 2栋 2-301"),
]
REGISTERS_AND_REQUESTS = {
    "registered": [
        ("王秀英", "139****0001", "yangguang 1栋 1-101"),
        ("周德明", "139****0050", "yangguang 3栋 1-201"),
    ],
    "requests": [
        ("吴海燕", "owner", "pending", "137****0045", "yangguang 2栋 2-502"),
        ("郑大伟", "owner", "pending", "137****0046", "yangguang 2栋 2-601"),
    ],
}
WORK_ORDERS = [
    ("owner13", "停车", "有人把电动车推进楼道充电，有火灾隐患", "closed", "normal", 0, 5, 0, 0),
    ("owner12", "安全秩序", "小区北侧围墙有缺口，晚上有外人进出", "closed", "normal", 0, 3, 0, 0),
    ("owner01", "绿化", "窗前的黄葛树树枝伸进阳台，请修剪", "closed", "normal", 0, 5, 0, 0),
    ("owner09", "环境卫生", "楼道有人堆放旧家具，影响通行", "closed", "normal", 0, None, 0, 0),
    ("owner2", "其他", "快递柜无法取件", "withdrawn", "normal", 0, None, 0, 0),
    ("owner02", "水电维修", "卫生间地漏反水", "closed", "normal", 0, 4, 0, 0),
    ("tenant", "停车", "有车堵住了单元门口的消防通道", "withdrawn", "normal", 0, None, 0, 0),
    ("owner", "水电维修", "卫生间天花板渗水，怀疑楼上防水层坏了", "closed", "normal", 1, None, 1, 0),
    ("owner08", "噪音扰民", "楼上每天早上8点就开始装修，电钻声音很大", "rejected", "normal", 0, None, 0, 0),
    ("owner06", "环境卫生", "楼后面的垃圾站两天没清运，气味很大", "closed", "normal", 0, None, 0, 0),
    ("owner07", "公共设施", "单元门禁坏了，门关不上，外人随便进出", "in_progress", "normal", 0, None, 0, 0),
    ("owner05", "水电维修", "厨房水龙头关不紧，一直滴水", "accepted", "normal", 0, None, 0, 0),
    ("owner2", "公共设施", "单元门禁损坏，刷卡没反应", "submitted", "normal", 0, None, 0, 0),
    ("owner10", "水电维修", "一楼总水管爆裂，楼道大量积水", "submitted", "urgent", 1, None, 0, 1),
    ("owner03", "公共设施", "2单元3楼到5楼的楼道灯都不亮，晚上上下楼很黑", "submitted", "normal", 0, None, 0, 0),
]
TOPICS = [
    ("owner20", "小区路灯更换为LED节能灯", "done", 5, "consultation", 120, "攀枝花安居物业服务有限公司"),
    ("owner25", "在2栋与3栋之间增设公共晾衣架", "implementation", 5, "consultation", 72, "攀枝花安居物业服务有限公司"),
    ("owner30", "广场舞活动时间调整为每晚19:00—21:00", "publicity", 5, "consultation", 168, ""),
    ("committee", "续聘攀枝花安居物业服务有限公司（2027—2029年）", "voting", 0, "owners_joint", 168, ""),
    ("owner01", "使用维修资金修缮1栋屋面防水", "deliberation", 5, "owners_joint", 168, ""),
    ("owner19", "砍掉3栋前的黄葛树", "declined", 5, None, None, ""),
    ("owner14", "小区大门增设人脸识别门禁", "review", 5, None, None, ""),
    ("owner11", "增设电动自行车集中充电棚", "proposed", 3, None, None, ""),
    # Issue 19, contracts.
    ("committee", "选聘物业服务企业：攀枝花安居物业服务有限公司", "done", 0, "owners_joint", None, ""),
]
MEETINGS = [
    ("1栋屋面防水修缮议事会", "deliberation", "小区党群服务站二楼会议室", "使用维修资金修缮1栋屋面防水", 6),
]
# The pinned water cut and the roof meeting's notice end the day after the demo's day (25 November 2026).
ANNOUNCEMENTS = [
    ("manager", "3栋二次供水水箱清洗停水通知", "outage", True, False, "2026-11-27", "yangguang", ["yangguang"]),
    ("committee", "关于召开1栋屋面防水修缮议事会的通知", "deliberation", False, False, "2026-11-27", "yangguang",
     ["yangguang"]),
    ("official", "冬季用电用气安全提示", "other", False, False, None, "炳草岗街道", ["wushisi", "yangguang"]),
]
FEES = {
    "schedules": [
        ("yangguang", "residential", 85, "2026-01-01", "monthly", 15, "按物业服务合同约定的收费标准"),
        ("yangguang", "commercial", 200, "2026-01-01", "monthly", 15, "临街商铺"),
        ("wushisi", "residential", 60, "2026-01-01", "quarterly", 15, "信托制物业，按季收取"),
    ],
    "policies": [
        ("东区老旧小区物业费过渡期补贴（先买后补）", 2000, "2025-07-01", [[12, 5000], [12, 3000], [12, 1000]], 6000,
         20000000, 698474),
    ],
    "bills": [
        ("wushisi", "2026-07-01", "paid", 39, 621886, 186572, 435314),
        ("wushisi", "2026-07-01", "unpaid", 9, 133357, 0, 0),
        ("wushisi", "2026-10-01", "paid", 20, 317180, 95157, 222023),
        ("wushisi", "2026-10-01", "unpaid", 28, 438063, 0, 0),
        ("yangguang", "2026-08-01", "paid", 67, 517720, 152019, 365701),
        ("yangguang", "2026-08-01", "unpaid", 11, 96022, 0, 0),
        ("yangguang", "2026-09-01", "paid", 51, 361937, 108586, 253351),
        ("yangguang", "2026-09-01", "unpaid", 26, 246322, 0, 0),
        ("yangguang", "2026-09-01", "waived", 1, 5483, 0, 0),
        ("yangguang", "2026-10-01", "paid", 44, 353938, 102886, 251052),
        ("yangguang", "2026-10-01", "unpaid", 34, 259804, 0, 0),
        ("yangguang", "2026-11-01", "paid", 24, 177513, 53254, 124259),
        ("yangguang", "2026-11-01", "unpaid", 54, 436229, 0, 0),
    ],
    "payments": [
        ("bank", 35, 234538, 100517),
        ("cash", 145, 1088160, 456947),
        ("sandbox", 65, 329002, 141010),
    ],
}
# Last quarter's survey (closed; 五十四街坊's 8 paper sheets are 样本不足) and this quarter's (open), and last
# quarter's rating round, published: 阳光花园 rated, 五十四街坊 left out.
EVALUATION = {
    # (title, closed, sheets, of them on paper)
    "surveys": [("2026年第3季度物业服务满意度测评", True, 49, 8), ("2026年冬季物业服务满意度测评", False, 20, 0)],
    # (compound, households, answered, answers 不了解…很满意 over the six dimensions, 满意率, score, sufficient)
    "tallies": [("wushisi", 48, 8, [1, 0, 2, 3, 22, 20], 8936, 8191, False),
                ("yangguang", 78, 41, [2, 1, 1, 21, 80, 141], 9057, 8678, True)],
    # (status, compounds rated, 样本不足, survey, service (no snapshots), inspection, credit, composite, rank, stars)
    "ratings": [("published", 1, 1, 8678, None, 9500, 200, 9113, 1, 5)],
}
# What load_demo returns: every account it made by username, and the household of each verified resident.
RETURNED = {
    "areas": {"city": "攀枝花市", "district": "东区", "street": "炳草岗街道", "community": "金沙社区"},
    "compounds": ["wushisi", "yangguang"],
    "users": sorted(["admin", "official", "secretary", "committee", "manager", "staff", "owner", "tenant", "owner2",
                     "staff2", "district", "evaluator", "first_secretary", "committee2", "committee3", *(f"owner{number:02d}" for number in range(1, 41))]),
    "homes": {"owner": "yangguang 1栋 1-101", "tenant": "yangguang 1栋 1-101", "owner2": "wushisi 1栋 1-101",
              "owner01": "yangguang 1栋 1-102", "owner40": "yangguang 2栋 2-301"},
    "residents": 43,
    "again": None,
}
