"""Builders for the rating tests: companies, closed surveys' per-compound tallies (written directly, as the
surveys' close writes them), monthly score snapshots, and running the compute job through a real worker."""
from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from rq import Queue, SimpleWorker

from backend.domain.rating import figures_from_counts
from backend.extensions import db
from backend.models import Compound, PropertyCompany, ScoreSnapshot, Survey, SurveyCompound, SurveyTally, User
from backend.services.queueing import QUEUES

_numbers = itertools.count(1)
# Inside 2026 Q3 (the period the tests rate).
Q3 = date(2026, 7, 1)
CLOSED_IN_Q3 = datetime(2026, 8, 15, 4, 0, tzinfo=UTC)


def make_company(name: str | None = None, has_party_org: bool = False) -> PropertyCompany:
    number = next(_numbers)
    company = PropertyCompany(name=name or f"物业公司{number}", credit_code=f"91510400RT{number:08d}",
                              has_party_org=has_party_org)
    db.session.add(company)
    db.session.flush()
    return company


def serve(compound: Compound, company: PropertyCompany) -> None:
    compound.property_company_id = company.id
    db.session.flush()


def closed_survey(creator: User, area_id: int, closed_at: datetime = CLOSED_IN_Q3) -> Survey:
    survey = Survey(title="满意度测评", area_id=area_id, created_by_id=creator.id,
                    opens_at=datetime(2026, 7, 1, tzinfo=UTC), closes_at=closed_at, closed_at=closed_at)
    db.session.add(survey)
    db.session.flush()
    return survey


def committee_survey(creator: User, compound: Compound, closed_at: datetime = CLOSED_IN_Q3) -> Survey:
    """A committee's own campaign in its compound (no area): never part of a company's score."""
    survey = Survey(title="小区自评", compound_id=compound.id, created_by_id=creator.id,
                    opens_at=datetime(2026, 7, 1, tzinfo=UTC), closes_at=closed_at, closed_at=closed_at)
    db.session.add(survey)
    db.session.flush()
    return survey


def tally(survey: Survey, compound: Compound, counts: list[int], sufficient: bool = True,
          households: int = 100) -> SurveyTally:
    """The compound's overall row as the close writes it: counts [不了解, 很不满意 … 很满意]."""
    db.session.add(SurveyCompound(survey_id=survey.id, compound_id=compound.id,
                                  property_company_id=compound.property_company_id, households=households))
    figures = figures_from_counts(dict(enumerate(counts)))
    row = SurveyTally(survey_id=survey.id, compound_id=compound.id, subject="overall", households=households,
                      answered=sum(counts), counts=counts, valid=figures.valid, satisfied=figures.satisfied,
                      rate_bp=figures.rate_bp, score_centi=figures.score_centi, sufficient=sufficient)
    db.session.add(row)
    db.session.flush()
    return row


def snapshot(company: PropertyCompany, month: date, orders: int, closed: int, within_sla: int, confirmed: int,
             rating_count: int = 0, rating_sum: int = 0) -> None:
    db.session.add(ScoreSnapshot(
        month=month, scope="company", subject_id=company.id, orders=orders, accepted=orders, closed=closed,
        closed_within_sla=within_sla, confirmed=confirmed, closed_unconfirmed=closed - confirmed, disputed=0,
        rating_count=rating_count, rating_sum=rating_sum, median_accept_seconds=None, median_close_seconds=None,
    ))
    db.session.flush()


def run_jobs(app) -> None:
    """Run every queued job in this process (the test's app context is the job's)."""
    connection = app.extensions["linli_redis"]
    SimpleWorker([Queue(name, connection=connection) for name in QUEUES], connection=connection).work(
        burst=True, logging_level="WARNING"
    )
