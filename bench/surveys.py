"""Closing a satisfaction survey (issue 14): a street's campaign over 100 compounds × 500 households, every
household answered (50,000 sheets × 6 dimensions and no comment: 300,000 answers), then `tally()` timed
in-process against one raw SQL `GROUP BY` over the same answers, in the same run.

PostgreSQL (LINLI_BENCH_DATABASE_URL, default a fresh `bench_surveys` database on 127.0.0.1, else SQLite). The
data is bulk-inserted (households in one statement per compound; sheets and answers by `INSERT … SELECT`), then
VACUUM ANALYZE once. Each of TALLY_RUNS rounds times the tally at the close (its rows deleted first, untimed: it
writes all 700), the raw GROUP BY, and a rerun of the tally (the same figures: it writes nothing).

Target: tally ≤ 2 × the raw GROUP BY (medians)."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, text

from bench.fanout import _redis_url, fresh_database_url

COMPOUNDS = int(os.environ.get("LINLI_BENCH_SURVEY_COMPOUNDS", "100"))
HOUSEHOLDS_EACH = int(os.environ.get("LINLI_BENCH_SURVEY_HOUSEHOLDS", "500"))
TALLY_RUNS = int(os.environ.get("LINLI_BENCH_SURVEY_RUNS", "7"))
BUILDING_SIZE = 100
TARGET_RATIO = 2.0

RAW_GROUP_BY = text(
    "SELECT compound_id, question_id, value, count(*) FROM survey_answers WHERE survey_id = :survey_id "
    "GROUP BY compound_id, question_id, value"
)


def _place() -> tuple[int, int]:
    """The street, its compounds and households; returns (street id, official id)."""
    from backend.domain.compounds import (
        AreaLevel,
        GovernanceBody,
        HouseholdKind,
        ManagementModel,
        PartyOrgForm,
    )
    from backend.domain.roles import Role
    from backend.extensions import db
    from backend.models import Area, Building, Compound, Household, Membership, PropertyCompany, User

    parent = None
    for name, level in (("压测市", AreaLevel.CITY), ("压测区", AreaLevel.DISTRICT), ("压测街道", AreaLevel.STREET)):
        area = Area(name=name, level=level, parent_id=parent.id if parent else None)
        db.session.add(area)
        db.session.flush()
        area.path = f"{parent.path if parent else '/'}{area.id}/"
        parent = area
    companies = [PropertyCompany(name=f"压测物业{number}", credit_code=f"91510400MA6SV{number:04d}X")
                 for number in range(10)]
    official = User(display_name="压测街道干部", username="bench-official")
    db.session.add_all([*companies, official])
    db.session.flush()
    db.session.add(Membership(user_id=official.id, role=Role.OFFICIAL, area_id=parent.id))
    for number in range(COMPOUNDS):
        compound = Compound(
            code=f"sv{number:03d}", name=f"压测测评小区{number:03d}", address="攀枝花市东区压测路1号",
            area_id=parent.id, built_year=2000, management_model=ManagementModel.MARKET,
            party_org_form=PartyOrgForm.SINGLE, governance_body=GovernanceBody.OWNERS_COMMITTEE,
            property_company_id=companies[number % len(companies)].id,
        )
        db.session.add(compound)
        db.session.flush()
        building_ids = db.session.scalars(
            insert(Building).returning(Building.id, sort_by_parameter_order=True),
            [{"compound_id": compound.id, "name": f"{index + 1}栋"}
             for index in range(-(-HOUSEHOLDS_EACH // BUILDING_SIZE))],
        ).all()
        db.session.execute(insert(Household), [
            {"compound_id": compound.id, "building_id": building_ids[index // BUILDING_SIZE],
             "unit": str(index % BUILDING_SIZE // 50 + 1), "room": f"{index % 50 // 2 + 1}{index % 2 + 1:02d}",
             "floor_area_centi_m2": 9000, "kind": HouseholdKind.RESIDENTIAL}
            for index in range(HOUSEHOLDS_EACH)
        ])
    db.session.commit()
    return parent.id, official.id


def _everyone_answered(survey_id: int, official_id: int) -> int:
    """One sheet per household and six dimension answers per sheet, spread over 不了解 … 很满意."""
    from backend.extensions import db

    db.session.execute(text(
        "INSERT INTO survey_responses (survey_id, compound_id, household_id, answered_by_id, paper, revision, "
        "submitted_at, updated_at) "
        "SELECT :survey_id, h.compound_id, h.id, :user_id, false, 1, now(), now() FROM households h "
        "JOIN survey_compounds sc ON sc.compound_id = h.compound_id AND sc.survey_id = :survey_id"
    ), {"survey_id": survey_id, "user_id": official_id})
    db.session.execute(text(
        "INSERT INTO survey_answers (response_id, question_id, survey_id, compound_id, value, text) "
        "SELECT r.id, q.id, r.survey_id, r.compound_id, (r.id * 7 + q.id * 3) % 6, '' "
        "FROM survey_responses r JOIN survey_questions q ON q.survey_id = r.survey_id AND q.kind = 'dimension' "
        "WHERE r.survey_id = :survey_id"
    ), {"survey_id": survey_id})
    db.session.commit()
    return db.session.scalar(text("SELECT count(*) FROM survey_answers WHERE survey_id = :id"), {"id": survey_id})


def _admin(sql: str) -> None:
    from backend.extensions import db

    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(sql))


def main() -> int:
    instance = Path(tempfile.mkdtemp(prefix="linli-bench-surveys-"))
    os.environ.update(
        LINLI_INSTANCE_PATH=str(instance),
        LINLI_DATABASE_URL=fresh_database_url(instance, "bench_surveys"),
        LINLI_REDIS_URL=_redis_url(instance),
    )
    linli = str(Path(sys.executable).with_name("linli"))
    subprocess.run([linli, "init-db"], check=True, capture_output=True)

    from backend import create_app
    from backend.extensions import db
    from backend.services import surveys as service
    from backend.services.surveys import CampaignDraft
    from backend.shared.clock import utcnow

    with create_app().app_context():
        started = time.perf_counter()
        street_id, official_id = _place()
        survey = service.create_campaign(CampaignDraft(
            title="压测满意度测评", area_id=street_id, opens_at=utcnow() - timedelta(days=7),
            closes_at=utcnow() + timedelta(days=1)), official_id)
        survey_id = survey.id
        answers = _everyone_answered(survey_id, official_id)
        loaded = time.perf_counter() - started
        database = db.engine.dialect.name
        _admin("VACUUM ANALYZE")
        closes, reruns, raws = [], [], []
        for _ in range(TALLY_RUNS):
            # The tally at the close writes every row; the rows of the run before are gone first (not timed).
            db.session.execute(text("DELETE FROM survey_tallies WHERE survey_id = :id"), {"id": survey_id})
            db.session.commit()
            db.session.remove()
            begun = time.perf_counter()
            rows = service.tally(survey_id)
            closes.append(time.perf_counter() - begun)
            db.session.remove()
            begun = time.perf_counter()
            grouped = db.session.execute(RAW_GROUP_BY, {"survey_id": survey_id}).all()
            raws.append(time.perf_counter() - begun)
            db.session.remove()
            begun = time.perf_counter()
            rewritten = service.tally(survey_id)
            reruns.append(time.perf_counter() - begun)
            db.session.remove()
    shutil.rmtree(instance, ignore_errors=True)

    tally, rerun, raw = statistics.median(closes), statistics.median(reruns), statistics.median(raws)
    ratio = tally / raw
    print(f"\n{COMPOUNDS} compounds × {HOUSEHOLDS_EACH} households, {answers} answers, {database}, "
          f"{os.cpu_count()} cores; data loaded in {loaded:.1f} s\n")
    print("| measure | median | runs | target |")
    print("| --- | ---: | --- | ---: |")
    print(f"| `tally()` at the close: {rows} tally rows written | {tally:.3f} s | "
          f"{', '.join(f'{seconds:.3f}' for seconds in closes)} s | ≤ {TARGET_RATIO:g} × raw |")
    print(f"| `tally()` rerun: {rewritten} rows changed | {rerun:.3f} s | "
          f"{', '.join(f'{seconds:.3f}' for seconds in reruns)} s | |")
    print(f"| raw `GROUP BY` (compound, question, value): {len(grouped)} groups | {raw:.3f} s | "
          f"{', '.join(f'{seconds:.3f}' for seconds in raws)} s | |")
    print(f"| ratio (close / raw; rerun / raw {rerun / raw:.2f} ×) | {ratio:.2f} × | | "
          f"{'met' if ratio <= TARGET_RATIO else 'MISSED'} |")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
