"""Company scores and stars (issue 14): a rating round over 1,000 companies.

PostgreSQL (LINLI_BENCH_DATABASE_URL, default a fresh `bench_rating` database on 127.0.0.1, else SQLite), real
Redis as in bench/fanout.py. `linli init-db`, then one district with 4 streets, 1,000 companies each serving 2
compounds (2,000 compounds), bulk-inserted with: one closed survey's overall tally per compound (every tenth
compound below the minimum sample), three months of company score snapshots, one inspection per company, and a
credit record for every tenth company (a 黑榜 listing for every hundredth); then VACUUM ANALYZE. The round is
created through the service (rank cut-offs), then `services.rating.compute_round` — what the job runs — is timed
three times (the compute is rerun while the round awaits review); the rows of every run are checked identical.
Target: the median compute under 5 s."""
from __future__ import annotations

import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert, select, text

from bench.fanout import _redis_url, fresh_database_url

COMPANIES = int(os.environ.get("LINLI_BENCH_RATING_COMPANIES", "1000"))
COMPOUNDS_EACH = 2
STREETS = 4
RUNS = 3
TARGET_SECONDS = 5.0
PERIOD_START = date(2026, 7, 1)


def _load() -> int:
    """The district, its companies, compounds and their figures; returns the round's id."""
    from backend.domain.compounds import AreaLevel, ManagementModel
    from backend.domain.rating import CreditKind, PeriodKind, StarMethod, figures_from_counts
    from backend.domain.roles import Role
    from backend.extensions import db
    from backend.models import (
        Area,
        Compound,
        CreditRecord,
        Inspection,
        Membership,
        PropertyCompany,
        RatingMethod,
        ScoreSnapshot,
        Survey,
        SurveyCompound,
        SurveyTally,
        User,
    )
    from backend.services import rating as service

    def area(name: str, level: AreaLevel, parent: Area | None) -> Area:
        row = Area(name=name, level=level, parent_id=parent.id if parent else None)
        db.session.add(row)
        db.session.flush()
        row.path = f"{parent.path if parent else '/'}{row.id}/"
        return row

    district = area("压测区", AreaLevel.DISTRICT, area("压测市", AreaLevel.CITY, None))
    communities = [area(f"压测社区{n}", AreaLevel.COMMUNITY, area(f"压测街道{n}", AreaLevel.STREET, district))
                   for n in range(STREETS)]
    official = User(display_name="压测区住建", username="bench-official")
    db.session.add(official)
    db.session.flush()
    db.session.add(Membership(user_id=official.id, role=Role.OFFICIAL, area_id=district.id))
    db.session.add(RatingMethod(area_id=district.id, survey_weight=50, service_weight=30, inspection_weight=20,
                                method=StarMethod.RANK, bands=[], cutoffs_bp=[1000, 3500, 8500, 9700],
                                min_stars=0, publicity_days=7))
    company_ids = db.session.scalars(
        insert(PropertyCompany).returning(PropertyCompany.id, sort_by_parameter_order=True),
        [{"name": f"压测物业{n:04d}", "credit_code": f"91510400BR{n:08d}", "has_party_org": n % 3 == 0}
         for n in range(COMPANIES)],
    ).all()
    compound_rows = [
        {"code": f"rt{n:05d}", "name": f"压测小区{n:05d}", "area_id": communities[n % STREETS].id,
         "management_model": ManagementModel.MARKET, "property_company_id": company_ids[n // COMPOUNDS_EACH]}
        for n in range(COMPANIES * COMPOUNDS_EACH)
    ]
    compound_ids = db.session.scalars(
        insert(Compound).returning(Compound.id, sort_by_parameter_order=True), compound_rows).all()
    closed = datetime(2026, 9, 20, 2, 0, tzinfo=UTC)
    survey = Survey(title="压测测评", area_id=district.id, created_by_id=official.id,
                    opens_at=datetime(2026, 9, 1, tzinfo=UTC), closes_at=closed, closed_at=closed)
    db.session.add(survey)
    db.session.flush()
    db.session.execute(insert(SurveyCompound), [
        {"survey_id": survey.id, "compound_id": compound_id, "property_company_id": row["property_company_id"],
         "households": 300}
        for compound_id, row in zip(compound_ids, compound_rows, strict=True)
    ])
    tallies = []
    for n, compound_id in enumerate(compound_ids):
        counts = [n % 5, n % 3, n % 7, 10 + n % 11, 30 + n % 13, 40 + n % 17]
        figures = figures_from_counts(dict(enumerate(counts)))
        tallies.append({"survey_id": survey.id, "compound_id": compound_id, "subject": "overall", "households": 300,
                        "answered": sum(counts), "counts": counts, "valid": figures.valid,
                        "satisfied": figures.satisfied, "rate_bp": figures.rate_bp,
                        "score_centi": figures.score_centi, "sufficient": n % 10 != 0})
    db.session.execute(insert(SurveyTally), tallies)
    db.session.execute(insert(ScoreSnapshot), [
        {"month": date(2026, month, 1), "scope": "company", "subject_id": company_id, "orders": 40 + n % 9,
         "accepted": 40, "closed": 38, "closed_within_sla": 30 + n % 8, "confirmed": 25 + n % 13,
         "closed_unconfirmed": 5, "disputed": 1, "rating_count": 20, "rating_sum": 70 + n % 30,
         "median_accept_seconds": 600, "median_close_seconds": 7200}
        for n, company_id in enumerate(company_ids) for month in (7, 8, 9)
    ])
    db.session.execute(insert(Inspection), [
        {"compound_id": compound_ids[n * COMPOUNDS_EACH], "company_id": company_id, "inspector_id": official.id,
         "inspected_on": date(2026, 8, 10), "points": 40 + n % 21, "max_points": 60, "note": ""}
        for n, company_id in enumerate(company_ids)
    ])
    db.session.execute(insert(CreditRecord), [
        {"company_id": company_id, "kind": CreditKind.BLACKLIST if n % 100 == 0 else CreditKind.BAD,
         "points_centi": 0 if n % 100 == 0 else -300, "reason": "压测", "occurred_on": date(2026, 8, 1),
         "expires_on": date(2027, 8, 1), "recorded_by_id": official.id, "area_id": district.id}
        for n, company_id in enumerate(company_ids) if n % 10 == 0
    ])
    db.session.commit()
    district_id, official_id = district.id, official.id
    if db.engine.dialect.name == "postgresql":
        db.session.remove()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return service.create_round(district_id, official_id, PeriodKind.QUARTER, PERIOD_START).id


def _digest(round_id: int) -> str:
    from backend.extensions import db
    from backend.models import CompanyRating

    columns = [column for column in CompanyRating.__table__.columns if column.key != "id"]
    rows = db.session.execute(select(*columns).where(CompanyRating.round_id == round_id)
                              .order_by(CompanyRating.company_id)).all()
    return hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()


def main() -> int:
    instance = Path(tempfile.mkdtemp(prefix="linli-bench-rating-"))
    os.environ.update(
        LINLI_INSTANCE_PATH=str(instance),
        LINLI_DATABASE_URL=fresh_database_url(instance, "bench_rating"),
        LINLI_REDIS_URL=_redis_url(instance),
    )
    linli = str(Path(sys.executable).with_name("linli"))
    subprocess.run([linli, "init-db"], check=True, capture_output=True)

    from backend import create_app
    from backend.extensions import db
    from backend.models import CompanyRating
    from backend.services import rating as service

    with create_app().app_context():
        started = time.perf_counter()
        round_id = _load()
        loaded = time.perf_counter() - started
        database = db.engine.dialect.name
        seconds, digests = [], set()
        for _ in range(RUNS):
            db.session.remove()
            started = time.perf_counter()
            assert service.compute_round(round_id)
            seconds.append(time.perf_counter() - started)
            digests.add(_digest(round_id))
        rows = db.session.scalar(select(db.func.count()).where(CompanyRating.round_id == round_id))
        db.session.remove()
    shutil.rmtree(instance, ignore_errors=True)
    median = statistics.median(seconds)
    print(f"\nrating round over {COMPANIES} companies ({COMPANIES * COMPOUNDS_EACH} compounds), {database}; "
          f"data loaded in {loaded:.1f} s")
    print("| runs | seconds each | median | rows | reruns identical | target |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| {RUNS} | {', '.join(f'{value:.2f}' for value in seconds)} | {median:.2f} | {rows} | "
          f"{'yes' if len(digests) == 1 else 'NO'} | < {TARGET_SECONDS:.0f} s |")
    ok = median < TARGET_SECONDS and len(digests) == 1 and rows == COMPANIES
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
