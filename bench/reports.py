"""Periodic reports (issue 16): a whole city's monthly report (定期通报), target ≤ 60 s.

PostgreSQL (LINLI_BENCH_DATABASE_URL, default a fresh `bench_reports` database on 127.0.0.1, else SQLite), real
Redis as in bench/fanout.py. `linli init-db`, then a city from a dataset builder: `LINLI_BENCH_REPORT_DATASET`
("module:function", default `bench.reports:dashboard_city`, backend/demo/city.py's city of 2,000 compounds and 200,000
households), which returns the city's area id; or `bench.reports:synthetic_city` (bulk inserts; 2,000 compounds
of LINLI_BENCH_REPORT_HOUSEHOLDS households each, default 20) with last month's and the month before's bills (half
paid), a vote, a survey tally per compound, disputes, flags and overdue rectifications. VACUUM ANALYZE, then
`services.reports.build` — what the job runs: the figures, the workbook and the PDF — of the city's monthly report
is timed; then the figures are computed again and checked identical."""
from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from bench.fanout import _redis_url, fresh_database_url

DATASET = os.environ.get("LINLI_BENCH_REPORT_DATASET", "bench.reports:dashboard_city")
COMPOUNDS = int(os.environ.get("LINLI_BENCH_REPORT_COMPOUNDS", "2000"))
HOUSEHOLDS = int(os.environ.get("LINLI_BENCH_REPORT_HOUSEHOLDS", "20"))
TARGET_SECONDS = 60.0


def synthetic_city() -> int:
    """1 city, 4 districts, 20 streets, 100 communities and COMPOUNDS compounds with their figures; the city's id."""
    from backend.domain.compounds import AreaLevel, ManagementModel
    from backend.domain.consultations import Step
    from backend.domain.disputes import DisputeKind
    from backend.domain.fees import BillingCycle, BillStatus
    from backend.domain.flags import FlagRule
    from backend.domain.rating import figures_from_counts
    from backend.domain.rectifications import ResponsibleParty
    from backend.domain.reports import ReportKind, last_complete_period, previous_period
    from backend.domain.roles import Role
    from backend.domain.voting import VoteKind
    from backend.extensions import db
    from backend.models import (
        Area,
        BallotResult,
        Bill,
        Building,
        Compound,
        DisputeCase,
        FeeSchedule,
        Household,
        Membership,
        ProblemFlag,
        Rectification,
        Survey,
        SurveyTally,
        Topic,
        User,
    )
    from backend.shared.clock import SHANGHAI, beijing_date, utcnow

    def area(name: str, level: AreaLevel, parent: Area | None) -> Area:
        row = Area(name=name, level=level, parent_id=parent.id if parent else None)
        db.session.add(row)
        db.session.flush()
        row.path = f"{parent.path if parent else '/'}{row.id}/"
        return row

    city = area("压测市", AreaLevel.CITY, None)
    communities = []
    for d in range(4):
        district = area(f"压测区{d}", AreaLevel.DISTRICT, city)
        for s in range(5):
            street = area(f"压测街道{d}-{s}", AreaLevel.STREET, district)
            communities += [area(f"压测社区{d}-{s}-{c}", AreaLevel.COMMUNITY, street) for c in range(5)]
    official = User(display_name="压测市住建", username="bench-city-official")
    db.session.add(official)
    db.session.flush()
    db.session.add(Membership(user_id=official.id, role=Role.OFFICIAL, area_id=city.id))
    compound_ids = db.session.scalars(insert(Compound).returning(Compound.id, sort_by_parameter_order=True), [
        {"code": f"rp{n:05d}", "name": f"压测小区{n:05d}", "area_id": communities[n % len(communities)].id,
         "management_model": ManagementModel.MARKET} for n in range(COMPOUNDS)]).all()
    building_ids = db.session.scalars(insert(Building).returning(Building.id, sort_by_parameter_order=True), [
        {"compound_id": compound_id, "name": "1栋"} for compound_id in compound_ids]).all()
    households = db.session.execute(
        insert(Household).returning(Household.id, Household.compound_id, sort_by_parameter_order=True),
        [{"compound_id": compound_id, "building_id": building_id, "unit": "1", "room": f"{h + 1:03d}",
          "floor_area_centi_m2": 8000 + h * 37}
         for compound_id, building_id in zip(compound_ids, building_ids, strict=True) for h in range(HOUSEHOLDS)],
    ).all()
    today = beijing_date(utcnow())
    period = last_complete_period(ReportKind.MONTHLY, today)
    before = previous_period(ReportKind.MONTHLY, period)
    schedule = FeeSchedule(compound_id=compound_ids[0], household_kind="residential", standard_fen_per_m2=150,
                           effective_from=before.start, cycle=BillingCycle.MONTHLY, due_day=15)
    db.session.add(schedule)
    db.session.flush()
    for month in (period, before):
        rows = [{"compound_id": compound_id, "household_id": household_id, "schedule_id": schedule.id,
                 "period_start": month.start, "months": 1, "period_end": month.end + timedelta(days=1),
                 "floor_area_centi_m2": 8000, "standard_fen_per_m2": 150, "original_amount_fen": 12000,
                 "amount_fen": 12000, "due_date": month.start + timedelta(days=14),
                 "status": BillStatus.PAID if n % 2 else BillStatus.UNPAID, "subsidy_fen": 0,
                 "paid_fen": 12000 if n % 2 else 0}
                for n, (household_id, compound_id) in enumerate(households)]
        for start in range(0, len(rows), 20_000):
            db.session.execute(insert(Bill), rows[start:start + 20_000])
    moment = datetime.combine(period.start + timedelta(days=9), datetime.min.time(), SHANGHAI).astimezone(UTC)
    topic_ids = db.session.scalars(insert(Topic).returning(Topic.id, sort_by_parameter_order=True), [
        {"compound_id": compound_id, "proposer_id": official.id, "title": "压测表决", "body": "压测",
         "step": Step.DONE, "vote_kind": VoteKind.CONSULTATION, "ballot_closed_at": moment}
        for compound_id in compound_ids]).all()
    db.session.execute(insert(BallotResult), [
        {"topic_id": topic_id, "vote_kind": "consultation", "civil_code_item": None,
         "eligible_households": HOUSEHOLDS, "total_area_centi_m2": HOUSEHOLDS * 8000, "total_headcount": HOUSEHOLDS,
         "participating_households": n % (HOUSEHOLDS + 1), "participating_area_centi_m2": 0,
         "participating_headcount": n % (HOUSEHOLDS + 1), "participation_met": False, "passed": False,
         "reason": "", "options": {}, "thresholds": {}} for n, topic_id in enumerate(topic_ids)])
    survey = Survey(title="压测测评", area_id=city.id, created_by_id=official.id,
                    opens_at=moment - timedelta(days=7), closes_at=moment,
                    closed_at=moment)
    db.session.add(survey)
    db.session.flush()
    tallies = []
    for n, compound_id in enumerate(compound_ids):
        counts = [n % 5, n % 3, n % 7, 10 + n % 11, 30 + n % 13, 40 + n % 17]
        figures = figures_from_counts(dict(enumerate(counts)))
        tallies.append({"survey_id": survey.id, "compound_id": compound_id, "subject": "overall",
                        "households": HOUSEHOLDS, "answered": sum(counts), "counts": counts, "valid": figures.valid,
                        "satisfied": figures.satisfied, "rate_bp": figures.rate_bp,
                        "score_centi": figures.score_centi, "sufficient": n % 10 != 0})
    db.session.execute(insert(SurveyTally), tallies)
    db.session.execute(insert(DisputeCase), [
        {"compound_id": compound_id, "kind": DisputeKind.FEES, "status": "open", "opened_at": moment}
        for n, compound_id in enumerate(compound_ids) if n % 7 == 0])
    db.session.execute(insert(ProblemFlag), [
        {"compound_id": compound_id, "rule": FlagRule.LOW_COLLECTION, "reason": "压测", "raised_at": moment}
        for n, compound_id in enumerate(compound_ids) if n % 20 == 0])
    db.session.execute(insert(Rectification), [
        {"compound_id": compound_id, "responsible_party": ResponsibleParty.COMPANY, "urgency": "normal",
         "deadline": period.start, "status": "open", "created_at": moment}
        for n, compound_id in enumerate(compound_ids) if n % 25 == 0])
    db.session.commit()
    return city.id


def dashboard_city() -> int:
    """The dashboard bench's city (backend/demo/city.py): 2,000 compounds, 200,000 households, a year of bills and work
    orders."""
    from backend.demo.city import build_city
    from backend.services.identity import hash_password
    from backend.shared.clock import utcnow

    return build_city(utcnow(), hash_password("bench-password")).city_id


def _dataset():
    module_name, _, function = DATASET.partition(":")
    try:
        return getattr(importlib.import_module(module_name), function), DATASET
    except (ImportError, AttributeError):
        return synthetic_city, f"synthetic_city ({COMPOUNDS} compounds × {HOUSEHOLDS} households)"


def main() -> int:
    instance = Path(tempfile.mkdtemp(prefix="linli-bench-reports-"))
    os.environ.update(
        LINLI_INSTANCE_PATH=str(instance),
        LINLI_DATABASE_URL=fresh_database_url(instance, "bench_reports"),
        LINLI_REDIS_URL=_redis_url(instance),
    )
    linli = str(Path(sys.executable).with_name("linli"))
    subprocess.run([linli, "init-db"], check=True, capture_output=True)

    from backend import create_app
    from backend.domain.reports import Period, ReportKind, last_complete_period
    from backend.extensions import db
    from backend.models import Area, Report
    from backend.services import reports as service
    from backend.shared.clock import beijing_date, utcnow

    build_city, name = _dataset()
    with create_app().app_context():
        started = time.perf_counter()
        city_id = build_city()
        loaded = time.perf_counter() - started
        if db.engine.dialect.name == "postgresql":
            db.session.remove()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        database = db.engine.dialect.name
        today = beijing_date(utcnow())
        started = time.perf_counter()
        report_id = service.periodic_report_now(city_id, ReportKind.MONTHLY, today)
        seconds = time.perf_counter() - started
        report = db.session.get(Report, report_id)
        period = last_complete_period(ReportKind.MONTHLY, today)
        started = time.perf_counter()
        again = service.compute(db.session.get(Area, city_id), ReportKind.MONTHLY, Period(period.start, period.end))
        compute_seconds = time.perf_counter() - started
        identical = again == report.figures
        compounds, published = report.figures.get("compounds"), report.status.value
        headlines = {line["label"]: line["display"] for line in report.figures.get("headlines", [])}
        db.session.remove()
    shutil.rmtree(instance, ignore_errors=True)
    print(f"\nthe city's monthly report from {name}, {database}; data loaded in {loaded:.1f} s")
    print("| compounds | build (figures, xlsx, PDF) | figures alone | rerun identical | target |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| {compounds} | {seconds:.2f} s | {compute_seconds:.2f} s | {'yes' if identical else 'NO'} | "
          f"≤ {TARGET_SECONDS:.0f} s |")
    print(headlines)
    ok = seconds <= TARGET_SECONDS and identical and published == "published"
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
