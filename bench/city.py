"""A city for the officials' benchmarks (dashboard, reports): `build_city()` bulk-loads, on PostgreSQL, 5 districts
× 4 streets × 5 communities, 2,000 compounds of 100 households each (200,000), a year of monthly bills (2.4 million,
about 85 % paid) and a year of work orders (one per two households, the last weeks' still open, some overdue), in a
few INSERT … SELECT statements over generate_series, then ANALYZE. Deterministic: the same city every run."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text

DISTRICTS, STREETS_EACH, COMMUNITIES_EACH = 5, 4, 5
COMPOUNDS = 2000
HOUSEHOLDS_EACH = 100
BUILDINGS_EACH = 4
MONTHS = 12
MODELS = ("market", "owner_self", "unit_self", "trust", "community_fallback")


@dataclass(frozen=True)
class City:
    city_id: int
    official_username: str
    compounds: int
    households: int
    bills: int
    work_orders: int
    seconds: float


def _months_back(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def build_city(now: datetime, password_hash: str, compounds: int = COMPOUNDS) -> City:
    """The city, its areas and compounds, households, bills and work orders; an official over the city
    (`city_official`, signing in with the password of `password_hash`). Call inside an app context."""
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
    db.session.commit()
    db.session.remove()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SET statement_timeout = 0"))
        conn.execute(text("VACUUM ANALYZE"))
    return City(city_id=city_id, official_username="city_official", compounds=compounds,
                households=compounds * HOUSEHOLDS_EACH, bills=bills, work_orders=orders,
                seconds=time.perf_counter() - started)

