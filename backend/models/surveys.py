"""Satisfaction surveys (满意度测评): the campaign, its questions, the compounds in scope, appointed surveyors,
one answer sheet per household with its answers, and the tally the close writes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.domain.rating import DEFAULT_MIN_HOUSEHOLDS, DEFAULT_MIN_RESPONSE_BP, QuestionKind
from backend.models.base import Base, UTCDateTime, str_enum
from backend.shared.clock import utcnow


class Survey(Base):
    """A campaign, run by an official over an area or by the committee of one compound."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(60))
    # Exactly one: the official's area, or the committee's compound.
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    min_response_bp: Mapped[int] = mapped_column(default=DEFAULT_MIN_RESPONSE_BP)
    min_households: Mapped[int] = mapped_column(default=DEFAULT_MIN_HOUSEHOLDS)
    owners_only: Mapped[bool] = mapped_column(default=False)
    # Comments reach the company (as text, without the household) only when the campaign says so.
    publish_comments: Mapped[bool] = mapped_column(default=False)
    # Set by the first answer: questions cannot change under answers.
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set once by the close (early by hand, or by the job at closes_at); results are public from then.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    tallied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    questions: Mapped[list[SurveyQuestion]] = relationship(
        order_by="SurveyQuestion.position", back_populates="survey", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("(area_id IS NULL) <> (compound_id IS NULL)", name="one_owner"),
        CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
        CheckConstraint("min_response_bp BETWEEN 0 AND 10000", name="min_response_range"),
        CheckConstraint("min_households >= 0", name="min_households_nonnegative"),
        Index("ix_surveys_closes_at_open", "closes_at", "closed_at"),
    )


class SurveyQuestion(Base):
    __tablename__ = "survey_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    position: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[QuestionKind] = mapped_column(str_enum(QuestionKind, "survey_question_kind"))
    text: Mapped[str] = mapped_column(String(100))
    # A choice question's options, in order; an answer is the option's index.
    options: Mapped[list] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(default=True)

    survey: Mapped[Survey] = relationship(back_populates="questions")

    __table_args__ = (UniqueConstraint("survey_id", "position"),)


class SurveyCompound(Base):
    """A compound in scope, with the company evaluated and the households counted when the campaign began."""

    __tablename__ = "survey_compounds"

    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), primary_key=True)
    property_company_id: Mapped[int | None] = mapped_column(ForeignKey("property_companies.id"))
    households: Mapped[int]

    __table_args__ = (Index("ix_survey_compounds_compound", "compound_id"),)


class SurveyEvaluator(Base):
    """A third-party surveyor (第三方评价) appointed by an official to one campaign."""

    __tablename__ = "survey_evaluators"

    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    appointed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    appointed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SurveyResponse(Base):
    """One answer sheet per household and campaign (the last one counts). `answered_by_id` is kept for the
    audit of paper entry and for the household's own receipt; nothing shown to others reads it."""

    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    answered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    paper: Mapped[bool] = mapped_column(default=False)
    # The scanned paper sheet (storage key).
    photo_key: Mapped[str | None] = mapped_column(String(128))
    # Bumped by every change, so a receipt names the version that counts.
    revision: Mapped[int] = mapped_column(default=1)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("survey_id", "household_id"),
        CheckConstraint("NOT paper OR photo_key IS NOT NULL", name="paper_has_photo"),
        Index("ix_survey_responses_survey_compound", "survey_id", "compound_id"),
    )


class SurveyAnswer(Base):
    """One answer of a sheet. survey_id and compound_id are repeated so the tally is one GROUP BY."""

    __tablename__ = "survey_answers"

    response_id: Mapped[int] = mapped_column(ForeignKey("survey_responses.id"), primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_questions.id"), primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    # A dimension's 0–5, or a choice's option index; NULL for a text answer.
    value: Mapped[int | None] = mapped_column(SmallInteger)
    text: Mapped[str] = mapped_column(String(300), default="")

    __table_args__ = (Index("ix_survey_answers_tally", "survey_id", "compound_id", "question_id", "value"),)


class SurveyTally(Base):
    """A compound's figures for one question (or all dimensions together, question_id NULL → `overall`),
    rewritten by the tally, so a rerun gives identical rows."""

    __tablename__ = "survey_tallies"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    # "q<question id>" or "overall"; a string so the unique key has no NULL in it.
    subject: Mapped[str] = mapped_column(String(16))
    households: Mapped[int]
    answered: Mapped[int]
    # Answers per value 0–5 (不了解 … 很满意).
    counts: Mapped[list] = mapped_column(JSON)
    valid: Mapped[int]
    satisfied: Mapped[int]
    rate_bp: Mapped[int]
    score_centi: Mapped[int]
    sufficient: Mapped[bool]

    __table_args__ = (UniqueConstraint("survey_id", "compound_id", "subject"),)
