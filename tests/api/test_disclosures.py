"""The notice board (公示栏, Civil Code Art. 943) through the API: the company posts (the committee where it keeps the
books), every reader of the compound's money reads the board and its history, visitors of other compounds and
strangers see nothing; the quarter's public-income statement is generated from the journal (reversals included)
and the fee items from the fee schedules, both frozen with the posting; residents are told of a posting once; the
street is told once per compound and quarter when the statement is late."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from backend.demo import factories
from backend.domain import disclosures as rules
from backend.domain.compounds import AreaLevel, HouseholdKind, ManagementModel
from backend.domain.fees import BillingCycle
from backend.domain.funds import AccountKind, Category, EntryOrigin
from backend.domain.notifications import DISCLOSURE_OVERDUE, DISCLOSURE_POSTED
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import (
    AuditEvent,
    Compound,
    Disclosure,
    FundAccount,
    FundEntry,
    Household,
    Notice,
    Notification,
    User,
)
from backend.services import disclosures as service
from backend.shared.clock import SHANGHAI, beijing_date, utcnow
from tests import photo_samples as samples
from tests.rating_support import run_jobs
from tests.support import assert_error_shape

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass
class World:
    trust: Compound
    market: Compound
    other: Compound  # another street's
    manager: User  # the company's manager of the market compound
    trust_manager: User
    committee: User  # of the trust compound: keeps its books
    market_committee: User  # of the market compound: reads only
    owner: User
    tenant: User  # a verified resident without ownership
    staff: User
    street_official: User
    community_official: User
    other_street: User
    stranger: User
    homes: list[Household]


@pytest.fixture
def world(area_tree, make_area, make_compound, make_user) -> World:
    _, district, street, community = area_tree
    trust = make_compound(name="信托小区", area=community, model=ManagementModel.TRUST, buildings=1,
                          households_per_building=3)
    market = make_compound(name="市场小区", area=community, model=ManagementModel.MARKET, buildings=1,
                           households_per_building=1)
    other_street = make_area("B街道", AreaLevel.STREET, district)
    other = make_compound(name="乙小区", area=make_area("B社区", AreaLevel.COMMUNITY, other_street), buildings=1,
                          households_per_building=1)
    homes = list(db.session.scalars(select(Household).where(Household.compound_id == trust.id)
                                    .order_by(Household.id)))
    return World(
        trust=trust, market=market, other=other,
        manager=make_user(Role.MANAGER, market),
        trust_manager=make_user(Role.MANAGER, trust),
        committee=make_user(Role.COMMITTEE, trust),
        market_committee=make_user(Role.COMMITTEE, market),
        owner=make_user(Role.OWNER, trust, household=homes[0]),
        tenant=make_user(Role.RESIDENT, trust, household=homes[1]),
        staff=make_user(Role.STAFF, trust),
        street_official=make_user(Role.OFFICIAL, area=street),
        community_official=make_user(Role.OFFICIAL, area=community),
        other_street=make_user(Role.OFFICIAL, area=other_street),
        stranger=make_user(),
        homes=homes,
    )


def _today():
    return beijing_date(utcnow())


def _post(client, headers, compound: Compound, status: int = 201, **fields):
    files = fields.pop("file", None)
    data = {"kind": "service_standards", "body": "保洁每日两次，秩序维护24小时值守"} | fields
    if files is not None:
        data["file"] = files
    response = client.post(f"/api/v1/compounds/{compound.id}/disclosures", data=data, headers=headers,
                           content_type="multipart/form-data")
    if status >= 400:
        assert_error_shape(response, status)
    else:
        assert response.status_code == status, response.json
    return response


def _errors(response) -> dict:
    """The fields at fault: the schema's nest under the body's location, the rules' do not."""
    errors = response.json["errors"]
    return errors.get("files", errors)


def _account(compound: Compound, opened_on) -> FundAccount:
    account = FundAccount(compound_id=compound.id, kind=AccountKind.TRUST, bank_name="攀枝花农商行",
                          account_no_masked="6230****1234", holder="信托小区业主大会", opening_balance_fen=0,
                          opened_on=opened_on)
    db.session.add(account)
    db.session.flush()
    return account


def _entry(account: FundAccount, day, category: Category, amount_fen: int, reverses: FundEntry | None = None):
    entry = FundEntry(compound_id=account.compound_id, account_id=account.id, entry_date=day,
                      month=day.replace(day=1), category=category, amount_fen=amount_fen,
                      origin=EntryOrigin.REVERSAL if reverses else EntryOrigin.MANUAL,
                      reverses_id=reverses.id if reverses else None, reason="金额记错" if reverses else "")
    db.session.add(entry)
    db.session.flush()
    return entry


# ---- posting and reading ----------------------------------------------------------------------------------------


def test_the_company_posts_and_every_reader_of_the_compound_sees_the_board(client, sign_in, world):
    posted = _post(client, sign_in(world.manager), world.market).json
    assert posted["kind"] == "service_standards" and posted["kind_label"] == "服务事项和标准"
    assert posted["title"] == "服务事项和标准公示" and posted["current"] is True and posted["superseded"] is False
    assert posted["body"] == "保洁每日两次，秩序维护24小时值守"
    for reader in (world.manager, world.market_committee, world.street_official, world.community_official):
        board = client.get(f"/api/v1/compounds/{world.market.id}/disclosures", headers=sign_in(reader)).json
        standing = {item["kind"]: item["current"] for item in board["board"]}
        assert standing["service_standards"]["id"] == posted["id"]
        assert standing["fee_items"] is None
        assert [item["id"] for item in board["items"]] == [posted["id"]] and board["total"] == 1
        assert board["actions"] == (["post"] if reader is world.manager else [])
        assert client.get(f"/api/v1/disclosures/{posted['id']}", headers=sign_in(reader)).json["body"] \
            == posted["body"]
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "disclosure.post"))
    assert audit.target_id == posted["id"] and audit.actor_id == world.manager.id


def test_who_reads_and_who_posts_in_a_trust_compound(client, sign_in, world):
    posted = _post(client, sign_in(world.committee), world.trust, kind="staff_on_duty", body="",
                   staff=["张师傅 秩序维护 白班", "李阿姨 保洁", ""]).json
    assert posted["staff"] == ["张师傅 秩序维护 白班", "李阿姨 保洁"]
    assert _post(client, sign_in(world.trust_manager), world.trust).json["kind"] == "service_standards"
    for reader in (world.owner, world.tenant, world.staff, world.street_official):
        headers = sign_in(reader)
        board = client.get(f"/api/v1/compounds/{world.trust.id}/disclosures", headers=headers).json
        assert board["total"] == 2 and board["actions"] == []
        assert client.get(f"/api/v1/disclosures/{posted['id']}", headers=headers).json["staff"] == posted["staff"]
        _post(client, headers, world.trust, status=403)
    for outsider in (world.other_street, world.stranger, world.manager):
        headers = sign_in(outsider)
        assert_error_shape(client.get(f"/api/v1/compounds/{world.trust.id}/disclosures", headers=headers), 404)
        assert_error_shape(client.get(f"/api/v1/disclosures/{posted['id']}", headers=headers), 404)
        _post(client, headers, world.trust, status=404)
    assert_error_shape(client.get("/api/v1/disclosures/2147483647", headers=sign_in(world.owner)), 404)
    # The market compound's committee reads its board; the company posts there.
    _post(client, sign_in(world.market_committee), world.market, status=403)


def test_a_later_posting_of_the_same_kind_and_period_stands_the_earlier_is_kept(client, sign_in, world):
    headers = sign_in(world.manager)
    first = _post(client, headers, world.market, body="第一版").json
    second = _post(client, headers, world.market, body="第二版（更正）").json
    board = client.get(f"/api/v1/compounds/{world.market.id}/disclosures", headers=headers).json
    current = {item["kind"]: item["current"] for item in board["board"]}
    assert current["service_standards"]["id"] == second["id"]
    lines = {item["id"]: item for item in board["items"]}
    assert [item["id"] for item in board["items"]] == [second["id"], first["id"]]
    assert lines[first["id"]]["superseded"] is True and lines[first["id"]]["current"] is False
    assert lines[second["id"]]["superseded"] is False and lines[second["id"]]["current"] is True
    assert client.get(f"/api/v1/disclosures/{first['id']}", headers=headers).json["body"] == "第一版"


def test_refusals_keep_the_error_shape(client, sign_in, world):
    headers = sign_in(world.manager)
    owed = rules.quarter_due(_today())
    running = rules.quarter_of(_today())
    for fields, field in (
        ({"kind": "public_income", "period": str(running)}, "period"),
        ({"kind": "public_income", "period": "2026-3"}, "period"),
        ({"kind": "public_income"}, "period"),
        ({"kind": "service_standards", "period": str(owed)}, "period"),
        ({"kind": "service_standards", "body": ""}, "body"),
        ({"kind": "staff_on_duty", "body": ""}, "staff"),
        ({"kind": "annual_audit", "period": str(_today().year - 1)}, "file"),
        ({"kind": "annual_audit", "period": str(_today().year), "file": (io.BytesIO(PDF), "a.pdf")}, "period"),
        ({"kind": "service_standards", "file": (io.BytesIO(PDF), "a.pdf")}, "file"),
        ({"kind": "maintenance_fund", "body": "更换电梯钢丝绳", "period": "Q3"}, "period"),
        ({"kind": "noticeboard"}, "kind"),
        ({"title": "题" * 61}, "title"),
    ):
        response = _post(client, headers, world.market, status=422, **fields)
        assert field in _errors(response), (fields, response.json)
    response = _post(client, headers, world.market, status=422, kind="annual_audit",
                     period=str(_today().year - 1), file=(io.BytesIO(b"not a picture"), "x.jpg"))
    assert db.session.scalar(select(func.count()).select_from(Disclosure)) == 0
    assert_error_shape(client.get(f"/api/v1/compounds/{world.market.id}/disclosures?page=0", headers=headers), 422)
    assert_error_shape(client.get(f"/api/v1/compounds/{world.market.id}/disclosures?kind=x", headers=headers), 422)
    # Fee items need a fee schedule to be generated from.
    assert "kind" in _errors(_post(client, headers, world.market, status=422, kind="fee_items", body=""))


# ---- generated figures --------------------------------------------------------------------------------------------


def test_the_public_income_statement_equals_the_journal_of_the_quarter(client, sign_in, world):
    quarter = rules.quarter_due(_today())
    before, after = quarter.first_day - timedelta(days=1), quarter.last_day + timedelta(days=1)
    months = quarter.months
    account = _account(world.trust, before - timedelta(days=60))
    second = _account(world.trust, before - timedelta(days=60))
    _entry(account, before, Category.PARKING, 99_999)  # the quarter before: not counted
    _entry(account, after, Category.ADVERTISING, 88_888)  # the quarter after: not counted
    parking = _entry(account, months[0].replace(day=5), Category.PARKING, 120_000)
    _entry(account, months[1].replace(day=28), Category.PARKING, 30_050)
    _entry(second, months[2].replace(day=1), Category.ADVERTISING, 500_000)
    _entry(account, quarter.last_day, Category.PROPERTY_FEE, 1_000_000)
    _entry(account, months[1].replace(day=3), Category.CLEANING, 45_000)
    _entry(account, months[2].replace(day=9), Category.REMUNERATION, 100_000)
    # Corrected by a reversal in the same quarter: both count, net of each other.
    _entry(account, months[2].replace(day=10), Category.PARKING, -120_000, reverses=parking)
    _entry(account, months[2].replace(day=11), Category.PARKING, 12_000)
    _entry(account, months[0].replace(day=2), Category.INTEREST, 1)
    db.session.commit()
    posted = _post(client, sign_in(world.committee), world.trust, kind="public_income", period=str(quarter),
                   body="").json
    assert posted["title"] == f"{quarter.label}公共收益季度收支公示" and posted["period_label"] == quarter.label

    journal = dict(db.session.execute(
        select(FundEntry.category, func.sum(FundEntry.amount_fen))
        .where(FundEntry.compound_id == world.trust.id, FundEntry.entry_date >= quarter.first_day,
               FundEntry.entry_date <= quarter.last_day).group_by(FundEntry.category)).all())
    figures = posted["figures"]
    lines = {line["category"]: line["amount_fen"]
             for section in ("public_income", "other_income", "costs") for line in figures[section]}
    for category, amount in journal.items():
        assert lines[category.value] == amount
    assert lines["parking"] == 30_050 + 12_000 and lines["advertising"] == 500_000 and lines["interest"] == 1
    assert sum(value for key, value in lines.items() if key not in journal) == 0
    assert figures["public_income_fen"] == 30_050 + 12_000 + 500_000 + 1
    assert figures["other_income_fen"] == 1_000_000
    assert figures["cost_fen"] == 45_000 + 100_000
    assert figures["net_fen"] == figures["public_income_fen"] + figures["other_income_fen"] - figures["cost_fen"]
    assert figures["entry_count"] == 9
    # Frozen: an entry posted afterwards into the quarter changes the posting not at all, the next one does.
    _entry(account, months[0].replace(day=20), Category.VENUE_RENTAL, 7_000)
    db.session.commit()
    headers = sign_in(world.owner)
    assert client.get(f"/api/v1/disclosures/{posted['id']}", headers=headers).json["figures"] == figures
    again = _post(client, sign_in(world.committee), world.trust, kind="public_income", period=str(quarter)).json
    assert again["figures"]["public_income_fen"] == figures["public_income_fen"] + 7_000


def test_a_market_compounds_statement_holds_public_income_and_its_costs_only(client, sign_in, world):
    quarter = rules.quarter_due(_today())
    account = _account(world.market, quarter.first_day)
    _entry(account, quarter.first_day, Category.ADVERTISING, 60_000)
    _entry(account, quarter.last_day, Category.REPAIR, 20_000)
    db.session.commit()
    figures = _post(client, sign_in(world.manager), world.market, kind="public_income",
                    period=str(quarter)).json["figures"]
    assert figures["other_income"] == [] and "remuneration" not in {line["category"] for line in figures["costs"]}
    assert (figures["public_income_fen"], figures["cost_fen"], figures["net_fen"]) == (60_000, 20_000, 40_000)


def test_fee_items_are_generated_from_the_schedules_in_force(client, sign_in, world):
    this_quarter = rules.quarter_of(_today()).first_day
    this_month = _today().replace(day=1)
    factories.make_schedule(world.market, HouseholdKind.RESIDENTIAL, 80, date(this_quarter.year - 2, 1, 1),
                            BillingCycle.MONTHLY, 10)
    factories.make_schedule(world.market, HouseholdKind.RESIDENTIAL, 95, this_quarter, BillingCycle.QUARTERLY, 10,
                            note="业主大会表决调整")
    factories.make_schedule(world.market, HouseholdKind.RESIDENTIAL, 200, rules.quarter_of(_today()).next().first_day,
                            BillingCycle.MONTHLY, 10)
    factories.make_schedule(world.market, HouseholdKind.COMMERCIAL, 150, this_month, BillingCycle.MONTHLY, 5)
    db.session.commit()
    posted = _post(client, sign_in(world.manager), world.market, kind="fee_items", body="").json
    assert posted["figures"]["items"] == [
        {"household_kind": "residential", "household_kind_label": "住宅", "standard_fen_per_m2": 95,
         "cycle_label": "按季", "effective_from": this_quarter.isoformat(), "charges_fees": True,
         "note": "业主大会表决调整"},
        {"household_kind": "commercial", "household_kind_label": "商业用房", "standard_fen_per_m2": 150,
         "cycle_label": "按月", "effective_from": this_month.isoformat(), "charges_fees": True, "note": ""},
    ]


def test_the_audit_report_file_is_read_by_readers_only(client, sign_in, world):
    year = str(_today().year - 1)
    posted = _post(client, sign_in(world.committee), world.trust, kind="annual_audit", period=year,
                   file=(io.BytesIO(PDF), "审计报告.pdf")).json
    assert posted["file"] == {"url": f"/api/v1/disclosure-files/{posted['id']}", "content_type": "application/pdf"}
    response = client.get(posted["file"]["url"], headers=sign_in(world.tenant))
    assert response.status_code == 200 and response.data == PDF and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert_error_shape(client.get(posted["file"]["url"], headers=sign_in(world.other_street)), 404)
    photo = _post(client, sign_in(world.committee), world.trust, kind="maintenance_fund", body="更换2栋水泵",
                  file=(io.BytesIO(samples.camera_jpeg().data), "pump.jpg")).json
    assert photo["file"]["content_type"] == "image/jpeg"
    text_only = _post(client, sign_in(world.committee), world.trust, kind="maintenance_fund", body="本季度未使用")
    assert_error_shape(client.get(f"/api/v1/disclosure-files/{text_only.json['id']}",
                                  headers=sign_in(world.owner)), 404)


# ---- telling people ---------------------------------------------------------------------------------------------


def test_residents_are_told_of_each_posting_once(app, client, sign_in, world):
    posted = _post(client, sign_in(world.committee), world.trust).json
    run_jobs(app)
    run_jobs(app)
    notice = db.session.scalar(select(Notice).where(Notice.kind == DISCLOSURE_POSTED))
    assert notice.dedupe_key == f"disclosure-{posted['id']}" and notice.link == f"/h5/disclosures/{posted['id']}"
    assert notice.title == "公示栏：服务事项和标准公示"
    told = list(db.session.scalars(select(Notification.user_id).where(Notification.notice_id == notice.id)
                                   .order_by(Notification.user_id)))
    assert told == sorted([world.owner.id, world.tenant.id])
    _post(client, sign_in(world.committee), world.trust, body="第二版")
    run_jobs(app)
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == world.owner.id)) == 2


def _first_overdue_day():
    """The first day the statement owed at the test's moment is late, at 09:00 Beijing."""
    quarter = rules.quarter_of(_today())
    due = rules.due_on(quarter)
    return quarter, datetime.combine(due + timedelta(days=1), time(9), tzinfo=SHANGHAI)


def test_the_street_is_told_once_per_compound_and_quarter_when_the_statement_is_late(app, client, sign_in, world):
    quarter, late = _first_overdue_day()
    # Months before: the trust and the other street's compound keep a journal; the market compound none.
    _account(world.trust, quarter.first_day - timedelta(days=100))
    _account(world.other, quarter.first_day)
    db.session.commit()
    with time_machine.travel(late - timedelta(days=1)):
        assert service.sweep_overdue() == 0  # the due day itself is not late
    with time_machine.travel(late):
        owed = rules.quarter_due(_today())
        assert service.sweep_overdue() == 2
        assert service.sweep_overdue() == 0
        with time_machine.travel(late + timedelta(days=1)):
            assert service.sweep_overdue() == 0
        board = client.get(f"/api/v1/compounds/{world.trust.id}/disclosures",
                           headers=sign_in(world.street_official)).json
        assert board["public_income_due"] == {"quarter": str(owed), "quarter_label": owed.label,
                                              "due_on": rules.due_on(owed).isoformat(), "posted": False,
                                              "overdue": True}
    run_jobs(app)
    notices = {notice.dedupe_key: notice for notice in db.session.scalars(
        select(Notice).where(Notice.kind == DISCLOSURE_OVERDUE))}
    assert set(notices) == {f"disclosure-overdue-{world.trust.id}-{owed}", f"disclosure-overdue-{world.other.id}-{owed}"}
    trust_notice = notices[f"disclosure-overdue-{world.trust.id}-{owed}"]
    assert trust_notice.link == f"/h5/compounds/{world.trust.id}/disclosures"
    assert list(db.session.scalars(select(Notification.user_id).where(
        Notification.notice_id == trust_notice.id))) == [world.street_official.id]
    assert list(db.session.scalars(select(Notification.user_id).where(
        Notification.notice_id == notices[f"disclosure-overdue-{world.other.id}-{owed}"].id))) \
        == [world.other_street.id]


def test_a_posted_statement_is_not_late(client, sign_in, world):
    quarter, late = _first_overdue_day()
    _account(world.trust, quarter.first_day - timedelta(days=100))
    db.session.commit()
    with time_machine.travel(late - timedelta(days=3)):
        owed = rules.quarter_due(_today())
        _post(client, sign_in(world.committee), world.trust, kind="public_income", period=str(owed))
    with time_machine.travel(late):
        assert service.sweep_overdue() == 0
        board = client.get(f"/api/v1/compounds/{world.trust.id}/disclosures", headers=sign_in(world.owner)).json
        assert board["public_income_due"]["posted"] is True and board["public_income_due"]["overdue"] is False


def test_the_board_costs_the_same_statements_however_many_postings(client, sign_in, world, count_queries):
    headers = sign_in(world.manager)
    url = f"/api/v1/compounds/{world.market.id}/disclosures"
    _post(client, headers, world.market)
    with count_queries() as few:
        assert client.get(url, headers=headers).json["total"] == 1
    for kind, fields in (("staff_on_duty", {"staff": ["张三", "李四"], "body": ""}),
                         ("maintenance_fund", {"body": "本季度未使用"}), ("service_standards", {"body": "更正"})):
        for _ in range(3):
            _post(client, headers, world.market, kind=kind, **fields)
    with count_queries() as many:
        assert client.get(url, headers=headers).json["total"] == 10
    assert len(many) == len(few)
