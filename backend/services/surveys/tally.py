"""The close (once), the tally that writes each compound's figures from one GROUP BY (a rerun writes the same rows),
the figures and comments the results read, and what the jobs ask: campaigns to close, to tally, to remind."""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select, text, update

from backend.domain import surveys as rules
from backend.domain.notifications import SURVEY_REMINDER
from backend.domain.rating import (
    QuestionKind,
    figures_from_counts,
)
from backend.domain.refusals import Kind
from backend.domain.roles import Role
from backend.domain.surveys import SurveyRefused, reminder_key, reminder_keys
from backend.extensions import db, dialect_insert
from backend.models import (
    Membership,
    Notice,
    Survey,
    SurveyAnswer,
    SurveyCompound,
    SurveyQuestion,
    SurveyResponse,
    SurveyTally,
)
from backend.services.audit import record_audit
from backend.services.notifications import notify, withdraw
from backend.services.surveys.common import HOUSEHOLD_ROLES, OVERALL, link, local, subject_of
from backend.shared.clock import utcnow

# What the tally writes into a row; the rest is the row's key.
TALLIED = ("households", "answered", "counts", "valid", "satisfied", "rate_bp", "score_centi", "sufficient")
REMINDER_BEFORE_HOURS = 24


def close(survey_id: int, actor_id: int | None, now: datetime | None = None, ip: str | None = None) -> bool:
    """Close once (early by its creator's side, or by the job at closes_at), then tally. False when it was
    already closed: the second close changes nothing."""
    now = now or utcnow()
    closed = db.session.execute(
        update(Survey).where(Survey.id == survey_id, Survey.closed_at.is_(None))
        .values(closed_at=now, closed_by_id=actor_id)
    ).rowcount
    if not closed:
        db.session.rollback()
        return False
    survey = db.session.get(Survey, survey_id, populate_existing=True)
    if survey.opens_at > now:
        db.session.rollback()
        raise SurveyRefused("测评尚未开始，不能结束", Kind.CONFLICT)
    record_audit(actor_id=actor_id, action="survey.close", target_type="survey", target_id=survey_id,
                 compound_id=survey.compound_id, ip=ip)
    # Nobody can answer any more: "请在…前完成测评" is no longer true for anyone.
    withdraw(reminder_keys(survey_id), now=now)
    tally(survey_id, now, commit=False)
    db.session.commit()
    return True


def tally(survey_id: int, now: datetime | None = None, commit: bool = True) -> int:
    """Each compound's figures, per question and all dimensions pooled (`overall`), from ONE GROUP BY over the
    answers (compound, question, value); the rows that changed are written by upsert on (survey,
    compound, subject), so a rerun over the same sheets leaves the same rows with the same ids. Returns how many
    rows it wrote."""
    survey = db.session.get(Survey, survey_id)
    questions = list(db.session.scalars(
        select(SurveyQuestion).where(SurveyQuestion.survey_id == survey_id,
                                     SurveyQuestion.kind != QuestionKind.TEXT).order_by(SurveyQuestion.position)))
    scope = db.session.execute(select(SurveyCompound.compound_id, SurveyCompound.households).where(
        SurveyCompound.survey_id == survey_id)).all()
    counts: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    for compound_id, question_id, value, count in db.session.execute(
        select(SurveyAnswer.compound_id, SurveyAnswer.question_id, SurveyAnswer.value, func.count())
        .where(SurveyAnswer.survey_id == survey_id, SurveyAnswer.value.is_not(None))
        .group_by(SurveyAnswer.compound_id, SurveyAnswer.question_id, SurveyAnswer.value)
    ).all():
        counts[(compound_id, question_id)][value] = count
    # Every sheet answers every required question (checked on submit; the first answer froze the questions), so
    # a compound's sheets are the answers to its first required dimension: no second scan for them.
    first = next(question.id for question in questions
                 if question.kind is QuestionKind.DIMENSION and question.required)
    answered = {compound_id: sum(found.values()) for (compound_id, question_id), found in counts.items()
                if question_id == first}
    rows = []
    for compound_id, households in scope:
        sheets = answered.get(compound_id, 0)
        common = {"survey_id": survey_id, "compound_id": compound_id, "households": households, "answered": sheets,
                  "sufficient": rules.compound_sufficient(sheets, households, survey.min_response_bp,
                                                  survey.min_households)}
        pooled: dict[int, int] = defaultdict(int)
        for question in questions:
            found = counts.get((compound_id, question.id), {})
            if question.kind is QuestionKind.DIMENSION:
                for value, count in found.items():
                    pooled[value] += count
                rows.append(common | _figures(subject_of(question.id), found, 6))
            else:
                rows.append(common | _choice_counts(subject_of(question.id), found, len(question.options)))
        rows.append(common | _figures(OVERALL, pooled, 6))
    written = _changed(survey_id, rows)
    if written:
        _upsert_tallies(written)
    survey.tallied_at = now or utcnow()
    if commit:
        db.session.commit()
    return len(written)


_RECORDSET = text(
    "INSERT INTO survey_tallies (survey_id, compound_id, subject, households, answered, counts, valid, satisfied, "
    "rate_bp, score_centi, sufficient) "
    "SELECT * FROM json_to_recordset(CAST(:rows AS json)) AS r(survey_id int, compound_id int, subject text, "
    "households int, answered int, counts json, valid int, satisfied int, rate_bp int, score_centi int, "
    "sufficient bool) "
    "ON CONFLICT (survey_id, compound_id, subject) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in TALLIED)
)


def _upsert_tallies(rows: list[dict]) -> None:
    """On PostgreSQL one statement whatever the number of rows (a row per statement costs twice the GROUP BY at a
    district's scale, a long VALUES list more to plan); elsewhere the rows as one executemany."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_RECORDSET, {"rows": json.dumps(rows)})
        return
    statement = dialect_insert(SurveyTally.__table__)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["survey_id", "compound_id", "subject"],
        set_={name: statement.excluded[name] for name in TALLIED}), rows)


def _changed(survey_id: int, rows: list[dict]) -> list[dict]:
    """The rows whose figures differ from those stored: a rerun over the same sheets writes nothing."""
    table = SurveyTally.__table__
    stored = {
        (row[0], row[1]): tuple(row[2:])
        for row in db.session.execute(select(table.c.compound_id, table.c.subject, *[table.c[name] for name in TALLIED])
                                      .where(table.c.survey_id == survey_id)).all()
    }
    return [row for row in rows
            if stored.get((row["compound_id"], row["subject"])) != tuple(row[name] for name in TALLIED)]


def _figures(subject: str, counts: dict[int, int], width: int) -> dict:
    figures = figures_from_counts(counts)
    return {"subject": subject, "counts": [counts.get(value, 0) for value in range(width)], "valid": figures.valid,
            "satisfied": figures.satisfied, "rate_bp": figures.rate_bp, "score_centi": figures.score_centi}


def _choice_counts(subject: str, counts: dict[int, int], options: int) -> dict:
    """A choice question: answers per option; no satisfaction figures."""
    return {"subject": subject, "counts": [counts.get(value, 0) for value in range(options)],
            "valid": sum(counts.values()), "satisfied": 0, "rate_bp": 0, "score_centi": 0}


def tallies_of(survey_id: int, compound_ids: Sequence[int]) -> list[SurveyTally]:
    if not compound_ids:
        return []
    return list(db.session.scalars(select(SurveyTally).where(
        SurveyTally.survey_id == survey_id, SurveyTally.compound_id.in_(compound_ids))
        .order_by(SurveyTally.compound_id, SurveyTally.id)))


def live_answered(survey_id: int) -> dict[int, int]:
    """Sheets per compound right now, for the response-rate bar while the campaign runs."""
    return dict(db.session.execute(
        select(SurveyResponse.compound_id, func.count()).where(SurveyResponse.survey_id == survey_id)
        .group_by(SurveyResponse.compound_id)).all())


def comments_of(survey_id: int, compound_ids: Sequence[int]) -> dict[int, list[str]]:
    """The text answers of these compounds, per compound, as text only, in the order of their text."""
    if not compound_ids:
        return {}
    found: dict[int, list[str]] = defaultdict(list)
    for compound_id, comment in db.session.execute(
        select(SurveyAnswer.compound_id, SurveyAnswer.text)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .where(SurveyAnswer.survey_id == survey_id, SurveyAnswer.compound_id.in_(compound_ids),
               SurveyQuestion.kind == QuestionKind.TEXT)
    ):
        found[compound_id].append(comment)
    return {compound_id: rules.ordered_comments(texts) for compound_id, texts in found.items()}


def due_to_close(now: datetime) -> list[int]:
    return list(db.session.scalars(select(Survey.id).where(Survey.closed_at.is_(None), Survey.closes_at <= now)
                                   .order_by(Survey.closes_at, Survey.id)))


def running(now: datetime) -> list[int]:
    return list(db.session.scalars(select(Survey.id).where(
        Survey.closed_at.is_(None), Survey.opens_at <= now, Survey.closes_at > now).order_by(Survey.id)))


def due_reminders(now: datetime) -> list[int]:
    """Running campaigns within a day of their close whose reminder has not gone out."""
    soon = now + timedelta(hours=REMINDER_BEFORE_HOURS)
    return [survey_id for survey_id in db.session.scalars(select(Survey.id).where(
        Survey.closed_at.is_(None), Survey.opens_at <= now, Survey.closes_at > now, Survey.closes_at <= soon)
        .order_by(Survey.id))
        if not db.session.scalar(select(exists().where(Notice.dedupe_key == reminder_key(survey_id))))]


def not_answered_people(survey: Survey) -> list[int]:
    """The verified people of the households in scope that have no sheet yet (owners only where only they may
    answer)."""
    roles = (Role.OWNER,) if survey.owners_only else HOUSEHOLD_ROLES
    return list(dict.fromkeys(db.session.scalars(
        select(Membership.user_id)
        .join(SurveyCompound, (SurveyCompound.compound_id == Membership.compound_id)
              & (SurveyCompound.survey_id == survey.id))
        .where(Membership.role.in_(roles), Membership.verified_at.is_not(None),
               ~exists().where(SurveyResponse.survey_id == survey.id,
                               SurveyResponse.household_id == Membership.household_id))
        .order_by(Membership.user_id))))


def remind(survey_id: int) -> int:
    """The reminder a day before the close, once: one notice per campaign (its dedupe key), so a second run
    reaches nobody twice. Returns how many people it was sent to."""
    # Locked exclusively, as a close does: the sheets in flight (they share-lock it) are waited for and then
    # counted as answered; a sheet that comes after finds the reminder and withdraws it (withdraw_reminder).
    survey = db.session.scalar(select(Survey).where(Survey.id == survey_id).with_for_update()
                               .execution_options(populate_existing=True))
    if survey is None or survey.closed_at is not None:
        db.session.rollback()
        return 0
    people = not_answered_people(survey)
    if people:
        notify(people, SURVEY_REMINDER, f"满意度测评“{survey.title}”即将结束",
               body=f"您家还没有作答，请在{local(survey.closes_at)}前完成测评。答卷是匿名的。", link=link(survey),
               dedupe_key=reminder_key(survey_id))
    db.session.commit()
    return len(people)


def withdraw_reminder(survey: Survey, household_id: int, now: datetime) -> None:
    """The household's sheet is recorded (online or on paper, in the caller's transaction): the reminder leaves
    the inbox of its people, unless another household they answer for still has no sheet."""
    db.session.flush()
    roles = (Role.OWNER,) if survey.owners_only else HOUSEHOLD_ROLES
    people = set(db.session.scalars(select(Membership.user_id).where(
        Membership.household_id == household_id, Membership.role.in_(HOUSEHOLD_ROLES))))
    if not people:
        return
    still_to_answer = set(db.session.scalars(
        select(Membership.user_id)
        .join(SurveyCompound, (SurveyCompound.compound_id == Membership.compound_id)
              & (SurveyCompound.survey_id == survey.id))
        .where(Membership.user_id.in_(people), Membership.role.in_(roles), Membership.verified_at.is_not(None),
               ~exists().where(SurveyResponse.survey_id == survey.id,
                               SurveyResponse.household_id == Membership.household_id))))
    settled = sorted(people - still_to_answer)
    if settled:
        withdraw(reminder_keys(survey.id), settled, now)


def latest_overall(compound_ids: Sequence[int]) -> dict[int, SurveyTally]:
    """Each compound's overall tally of its newest tallied survey (the figure the survey's results page shows)."""
    if not compound_ids:
        return {}
    newest = (
        select(SurveyTally.compound_id, func.max(SurveyTally.survey_id).label("survey_id"))
        .where(SurveyTally.compound_id.in_(compound_ids), SurveyTally.subject == OVERALL)
        .group_by(SurveyTally.compound_id).subquery()
    )
    return {tally.compound_id: tally for tally in db.session.scalars(
        select(SurveyTally).join(newest, and_(SurveyTally.compound_id == newest.c.compound_id,
                                              SurveyTally.survey_id == newest.c.survey_id))
        .where(SurveyTally.subject == OVERALL)
    )}
