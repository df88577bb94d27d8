"""A city-size dataset (`linli demo --city`; the dashboard, report and soak benchmarks): `build_city()` bulk-loads,
on PostgreSQL, 5 districts × 4 streets × 5 communities, 2,000 compounds of 100 households each (200,000), a year of
monthly bills (2.4 million, about 85 % paid), a year of work orders (one per two households, the last weeks' still
open, some overdue), one verified owner per household (with the WeChat account paying in the H5 needs), one staff
member per compound (who gets the new work orders' notices) and two ballots per compound open for another 13 days
(an owners' joint decision and an ordinary consultation, 同意/不同意/弃权, their rolls frozen), in a few
INSERT … SELECT statements over generate_series, then VACUUM ANALYZE. Deterministic: the same city every run."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import click
from sqlalchemy import text

DISTRICTS, STREETS_EACH, COMMUNITIES_EACH = 5, 4, 5
COMPOUNDS = 2000
HOUSEHOLDS_EACH = 100
BUILDINGS_EACH = 4
MONTHS = 12
MODELS = ("market", "owner_self", "unit_self", "trust", "community_fallback")
# Who is who, by username: an owner's names their household, a staff member's their compound.
OWNER_PREFIX, STAFF_PREFIX = "city-owner-", "city-staff-"
# Opened a day before the build and open for 14 days: far from the sweep's 24 h and 2 h reminders.
BALLOT_OPENED_BEFORE, VOTING_HOURS = timedelta(days=1), 14 * 24
# (title, body, vote kind, Civil Code Art. 278 item) of each compound's two ballots.
BALLOTS = (
    ("续聘物业服务企业", "物业服务合同明年到期，是否续聘现物业服务企业。", "owners_joint", 4),
    ("增设电动自行车充电桩", "在各栋楼前空地增设电动自行车充电桩，费用由使用者承担。", "consultation", None),
)
OPTIONS = (("同意", 1, False, True), ("不同意", 2, False, False), ("弃权", 3, True, False))


@dataclass(frozen=True)
class City:
    city_id: int
    official_username: str
    compounds: int
    households: int
    bills: int
    work_orders: int
    owners: int
    ballots: int
    seconds: float


def _months_back(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def build_city(now: datetime, password_hash: str, compounds: int = COMPOUNDS) -> City:
    """The city, its areas and compounds, households, bills, work orders, owners, staff and open ballots; an
    official over the city (`city_official`, signing in with the password of `password_hash`; the owners and staff
    have no password). Call inside an app context."""
    from backend.extensions import db
    from backend.shared.clock import beijing_date

    started = time.perf_counter()
    this_month = beijing_date(now).replace(day=1)
    first_month = _months_back(this_month, MONTHS - 1)
    communities = DISTRICTS * STREETS_EACH * COMMUNITIES_EACH
    run = db.session.execute
    params = {"now": now}
    # The app's per-statement limit is for requests; a bulk load of millions of rows runs longer.
    run(text("SET LOCAL statement_timeout = 0"))

    city_id = run(text("INSERT INTO areas (name, level, path) VALUES ('压测市', 'city', '') RETURNING id")).scalar()
    run(text("UPDATE areas SET path = '/' || id || '/' WHERE id = :id"), {"id": city_id})
    parents = [city_id]
    for level, name, each in (("district", "区", DISTRICTS), ("street", "街道", STREETS_EACH),
                              ("community", "社区", COMMUNITIES_EACH)):
        run(text(
            "INSERT INTO areas (name, level, parent_id, path) "
            "SELECT p.name || :name || n, :level, p.id, '' FROM areas p, generate_series(1, :each) n "
            "WHERE p.id = ANY(:parents)"), {"name": name, "level": level, "each": each, "parents": parents})
        run(text("UPDATE areas a SET path = p.path || a.id || '/' FROM areas p "
                 "WHERE a.parent_id = p.id AND a.parent_id = ANY(:parents)"), {"parents": parents})
        parents = list(db.session.scalars(text("SELECT id FROM areas WHERE parent_id = ANY(:p) ORDER BY id"),
                                          {"p": parents}))
    run(text("INSERT INTO property_companies (name, credit_code, has_party_org, created_at) "
             "SELECT '压测物业' || n, '9151040000BENCH' || lpad(n::text, 3, '0'), n % 3 = 0, :now "
             "FROM generate_series(1, 20) n"), params)
    company_ids = list(db.session.scalars(text("SELECT id FROM property_companies ORDER BY id DESC LIMIT 20")))
    run(text(
        "INSERT INTO compounds (code, name, address, area_id, built_year, management_model, party_org_form, "
        "first_secretary_name, governance_body, property_company_id, fee_standard_fen_per_m2, renovation_status, "
        "open_problems, is_problem_compound, qr_version, created_at, service_phone, committee_phone, "
        "committee_phone_public) "
        "SELECT 'city' || n, '压测小区' || n, '压测路' || n || '号', (CAST(:communities AS int[]))[1 + n % :c], 1980 + n % 20, "
        "(CAST(:models AS text[]))[1 + n % 5], (ARRAY['single','joint','grid','none'])[1 + n % 4], '', "
        "(ARRAY['owners_committee','property_committee','self_committee','none'])[1 + n % 4], "
        "CASE WHEN n % 5 = 0 THEN (CAST(:companies AS int[]))[1 + n % 20] END, 60 + n % 60, 'not_planned', '', false, 1, :now, "
        "'', '', false FROM generate_series(1, :compounds) n"),
        {**params, "communities": parents, "c": communities, "models": list(MODELS), "companies": company_ids,
         "compounds": compounds})
    run(text("INSERT INTO buildings (compound_id, name, qr_version) "
             "SELECT c.id, b || '栋', 1 FROM compounds c, generate_series(1, :b) b WHERE c.code LIKE 'city%'"),
        {"b": BUILDINGS_EACH})
    per_building = HOUSEHOLDS_EACH // BUILDINGS_EACH
    run(text(
        "INSERT INTO households (compound_id, building_id, unit, room, floor_area_centi_m2, kind) "
        "SELECT b.compound_id, b.id, '1', (100 * (1 + h / 4) + 1 + h % 4)::text, 5000 + (b.id * 7919 + h * 104729) "
        "% 7000, 'residential' FROM buildings b JOIN compounds c ON c.id = b.compound_id, generate_series(0, :h - 1) h "
        "WHERE c.code LIKE 'city%'"), {"h": per_building})
    run(text(
        "INSERT INTO fee_schedules (compound_id, household_kind, standard_fen_per_m2, effective_from, cycle, due_day, "
        "charges_fees, note, created_at) SELECT id, 'residential', fee_standard_fen_per_m2, :start, 'monthly', 15, "
        "true, '', :now FROM compounds WHERE code LIKE 'city%'"), {**params, "start": first_month})
    # A month's bill per household; about 85 % paid (fewer in compounds whose number ends in 7, and in the
    # newest month, which is still being collected).
    bills = run(text(
        "INSERT INTO bills (compound_id, household_id, schedule_id, period_start, months, period_end, "
        "floor_area_centi_m2, standard_fen_per_m2, original_amount_fen, amount_fen, due_date, status, subsidy_fen, "
        "paid_fen, issued_at, adjust_reason) "
        "SELECT h.compound_id, h.id, s.id, m.start, 1, (m.start + interval '1 month')::date, h.floor_area_centi_m2, "
        "s.standard_fen_per_m2, a.fen, a.fen, m.start + 14, "
        "CASE WHEN paid THEN 'paid' ELSE 'unpaid' END, 0, CASE WHEN paid THEN a.fen ELSE 0 END, :now, '' "
        "FROM households h JOIN compounds c ON c.id = h.compound_id AND c.code LIKE 'city%' "
        "JOIN fee_schedules s ON s.compound_id = h.compound_id "
        "CROSS JOIN LATERAL (SELECT (CAST(:first AS date) + make_interval(months => k))::date AS start, k "
        "FROM generate_series(0, :months - 1) k) m "
        "CROSS JOIN LATERAL (SELECT ((h.floor_area_centi_m2::bigint * s.standard_fen_per_m2 + 50) / 100)::int AS fen) a "
        "CROSS JOIN LATERAL (SELECT (h.id * 31 + m.k * 17) % 100 < CASE WHEN c.id % 10 = 7 THEN 55 "
        "WHEN m.k = :months - 1 THEN 60 ELSE 88 END AS paid) p"),
        {**params, "first": first_month, "months": MONTHS}).rowcount
    user_id = run(text(
        "INSERT INTO users (username, display_name, password_hash, is_active, large_text, created_at) "
        "VALUES ('city_official', '压测市住建局', :hash, true, false, :now) RETURNING id"),
        {**params, "hash": password_hash}).scalar()
    run(text("INSERT INTO memberships (user_id, role, area_id, created_at) VALUES (:u, 'official', :a, :now)"),
        {**params, "u": user_id, "a": city_id})
    # One order per two households over the year; those of the last 20 days still open, due 3 days after filing.
    orders = run(text(
        "INSERT INTO work_orders (compound_id, submitter_id, household_id, location_text, category, description, "
        "urgency, status, accept_due_at, close_due_at, sla_due_at, accepted_at, closed_at, closed_within_sla, "
        "seconds_to_accept, seconds_to_close, escalation_level, dispute_count, urge_count, rate_reminded, "
        "reject_reason, created_at, updated_at) "
        "SELECT h.compound_id, :u, h.id, '', '公共设施', '压测工单', 'normal', "
        "CASE WHEN age < 20 THEN (ARRAY['submitted','accepted','in_progress'])[1 + h.id % 3] ELSE 'closed' END, "
        "t + interval '1 day', t + interval '3 days', "
        "CASE WHEN age < 20 THEN t + interval '3 days' END, "
        "CASE WHEN age >= 20 OR h.id % 3 > 0 THEN t + interval '2 hours' END, "
        "CASE WHEN age >= 20 THEN t + make_interval(hours => 4 + h.id % 90) END, "
        "CASE WHEN age >= 20 THEN 4 + h.id % 90 <= 72 END, "
        "CASE WHEN age >= 20 OR h.id % 3 > 0 THEN 7200 END, "
        "CASE WHEN age >= 20 THEN (4 + h.id % 90) * 3600 END, 0, 0, 0, false, '', t, t "
        "FROM households h JOIN compounds c ON c.id = h.compound_id AND c.code LIKE 'city%' "
        "CROSS JOIN LATERAL (SELECT (h.id * 7919) % 365 AS age) a "
        "CROSS JOIN LATERAL (SELECT CAST(:now AS timestamptz) - make_interval(days => age, hours => h.id % 24) AS t) tt "
        "WHERE h.id % 2 = 0"), {**params, "u": user_id}).rowcount
    owners = _people(now)
    ballots = _ballots(now, user_id)
    db.session.commit()
    db.session.remove()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SET statement_timeout = 0"))
        conn.execute(text("VACUUM ANALYZE"))
    return City(city_id=city_id, official_username="city_official", compounds=compounds,
                households=compounds * HOUSEHOLDS_EACH, bills=bills, work_orders=orders, owners=owners,
                ballots=ballots, seconds=time.perf_counter() - started)


def _people(now: datetime) -> int:
    """A verified owner per household, each with an official-account openid, and a staff member per compound."""
    from backend.extensions import db

    run = db.session.execute
    params = {"now": now, "owner": OWNER_PREFIX, "staff": STAFF_PREFIX}
    owners = run(text(
        "INSERT INTO users (username, display_name, is_active, large_text, created_at) "
        "SELECT :owner || h.id, '业主' || h.room, true, false, :now "
        "FROM households h JOIN compounds c ON c.id = h.compound_id AND c.code LIKE 'city%'"), params).rowcount
    run(text(
        "INSERT INTO memberships (user_id, role, compound_id, household_id, verified_at, created_at) "
        "SELECT u.id, 'owner', h.compound_id, h.id, :now, :now "
        "FROM households h JOIN compounds c ON c.id = h.compound_id AND c.code LIKE 'city%' "
        "JOIN users u ON u.username = :owner || h.id"), params)
    run(text(
        "INSERT INTO wechat_accounts (user_id, app, openid, created_at, last_signed_in_at) "
        "SELECT id, 'official_account', 'city-openid-' || id, :now, :now FROM users "
        "WHERE username LIKE :owner || '%'"), params)
    run(text(
        "INSERT INTO users (username, display_name, is_active, large_text, created_at) "
        "SELECT :staff || id, '物业客服' || id, true, false, :now FROM compounds WHERE code LIKE 'city%'"), params)
    run(text(
        "INSERT INTO memberships (user_id, role, compound_id, verified_at, created_at) "
        "SELECT u.id, 'staff', c.id, :now, :now FROM compounds c JOIN users u ON u.username = :staff || c.id "
        "WHERE c.code LIKE 'city%'"), params)
    return owners


def _ballots(now: datetime, official_id: int) -> int:
    """Each compound's two ballots in voting, as `open_ballot` leaves them: options, the roll frozen with each
    household's owner (`u:<user id>`, one owner per household) and area."""
    from backend.extensions import db

    run = db.session.execute
    opened = now - BALLOT_OPENED_BEFORE
    closes = opened + timedelta(hours=VOTING_HOURS)
    topics = 0
    for title, body, kind, item in BALLOTS:
        topics += run(text(
            "INSERT INTO topics (compound_id, proposer_id, title, body, step, cosign_count, vote_kind, "
            "civil_code_item, open_voting, residents_may_vote, reviewer_id, reviewed_at, decline_reason, "
            "deliberation_ends_at, voting_hours, publicity_days, ballot_opened_at, ballot_closes_at, "
            "voting_reminders_sent, responsible_party, step_due_at, created_at, updated_at) "
            "SELECT id, :official, :title, :body, 'voting', 0, :kind, :item, false, false, :official, "
            ":reviewed, '', :opened, :hours, 7, :opened, :closes, 0, '', :closes, :raised, :opened "
            "FROM compounds WHERE code LIKE 'city%'"),
            {"official": official_id, "title": title, "body": body, "kind": kind, "item": item,
             "reviewed": opened - timedelta(days=7), "opened": opened, "hours": VOTING_HOURS, "closes": closes,
             "raised": opened - timedelta(days=10)}).rowcount
    city_topics = ("SELECT t.id, t.compound_id FROM topics t JOIN compounds c ON c.id = t.compound_id "
                   "AND c.code LIKE 'city%'")
    for label, position, abstain, approval in OPTIONS:
        run(text(f"INSERT INTO ballot_options (topic_id, label, position, is_abstain, is_approval) "
                 f"SELECT id, :label, :position, :abstain, :approval FROM ({city_topics}) t"),
            {"label": label, "position": position, "abstain": abstain, "approval": approval})
    run(text(
        f"INSERT INTO ballot_rolls (topic_id, household_id, owner_key, area_centi_m2, counted) "
        f"SELECT t.id, h.id, 'u:' || m.user_id, h.floor_area_centi_m2, false FROM ({city_topics}) t "
        f"JOIN households h ON h.compound_id = t.compound_id "
        f"JOIN memberships m ON m.household_id = h.id AND m.role = 'owner'"))
    return topics



def load_city() -> str:
    """`linli demo --city`: the city once (a second run finds it and adds nothing); what was done, in Chinese."""
    from sqlalchemy import select

    from backend.demo import DEMO_PASSWORD
    from backend.extensions import db
    from backend.models import User
    from backend.services.identity import hash_password
    from backend.shared.clock import utcnow

    if db.engine.dialect.name != "postgresql":
        raise click.ClickException("城市规模数据只能建在 PostgreSQL 上（LINLI_DATABASE_URL）")
    if db.session.scalar(select(User.id).where(User.username == "city_official")) is not None:
        return "压测市已存在，跳过"
    city = build_city(utcnow(), hash_password(DEMO_PASSWORD))
    return (f"已建压测市: {city.compounds} 个小区，{city.households} 户，{city.owners} 位业主，{city.bills} 张账单，"
            f"{city.work_orders} 张工单，{city.ballots} 个表决中的议题，用时 {city.seconds:.0f} 秒")
