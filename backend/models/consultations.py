"""Deliberation rounds (五步议事法): topics, co-signs, comments, ballot options, the frozen roll, votes and their
history, the frozen result, objections, implementation progress and ratings; the compound's settings."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.domain.consultations import Channel, Step
from backend.domain.voting import VoteKind
from backend.models.base import Base, UTCDateTime, str_enum
from backend.models.people import User
from backend.models.places import Household
from backend.shared.clock import utcnow


class ConsultationSettings(Base):
    """A compound's choices for its deliberations; a compound without a row uses the defaults."""

    __tablename__ = "consultation_settings"

    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), primary_key=True)
    cosign_threshold: Mapped[int] = mapped_column(default=5)
    # For ordinary consultations only: owners' joint decisions (Art. 278) are always owners only.
    residents_may_vote: Mapped[bool] = mapped_column(default=False)
    publicity_days: Mapped[int] = mapped_column(default=7)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("cosign_threshold BETWEEN 1 AND 1000", name="cosign_threshold_range"),
        CheckConstraint("publicity_days BETWEEN 1 AND 30", name="publicity_days_range"),
    )


class Topic(Base):
    """A topic (议题) and its one deliberation round."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    proposer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The proposing household (its co-sign is the first); NULL when a committee member raised it directly.
    proposer_household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    title: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)
    step: Mapped[Step] = mapped_column(str_enum(Step, "topic_step"))
    cosign_count: Mapped[int] = mapped_column(default=0)
    # Set at review (议题确定).
    vote_kind: Mapped[VoteKind | None] = mapped_column(str_enum(VoteKind, "vote_kind"))
    civil_code_item: Mapped[int | None] = mapped_column(SmallInteger)
    # 公开表决: choices shown to everyone; fixed at review, before anyone votes.
    open_voting: Mapped[bool] = mapped_column(default=False)
    residents_may_vote: Mapped[bool] = mapped_column(default=False)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decline_reason: Mapped[str] = mapped_column(String(300), default="")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"))
    deliberation_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    voting_hours: Mapped[int | None]
    publicity_days: Mapped[int | None]
    ballot_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ballot_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ballot_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # How many of the pre-close reminders (24 h, 2 h) went out: the sweep sends each once.
    voting_reminders_sent: Mapped[int] = mapped_column(SmallInteger, default=0)
    publicity_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who carries out a passed decision (物业公司, 业委会 …), named when the result is published.
    responsible_party: Mapped[str] = mapped_column(String(60), default="")
    implemented_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The step's deadline the sweep watches (deliberation end, ballot close, publicity end); NULL otherwise.
    step_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    proposer: Mapped[User] = relationship(foreign_keys=[proposer_id])
    options: Mapped[list[BallotOption]] = relationship(order_by="BallotOption.position", lazy="raise",
                                                       viewonly=True)

    __table_args__ = (
        Index("ix_topics_compound_step", "compound_id", "step", "id"),
        Index("ix_topics_step_due_at", "step_due_at"),
        CheckConstraint("civil_code_item IS NULL OR civil_code_item BETWEEN 1 AND 9", name="civil_code_item_range"),
        CheckConstraint(
            "(vote_kind = 'owners_joint' AND civil_code_item IS NOT NULL)"
            " OR (COALESCE(vote_kind, '') <> 'owners_joint' AND civil_code_item IS NULL)",
            name="item_matches_kind",
        ),
    )


class TopicCosign(Base):
    """A household's co-sign (联名); one per household."""

    __tablename__ = "topic_cosigns"

    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TopicFollower(Base):
    """Who hears of every step change: the proposer, co-signers, voters and whoever chose to follow."""

    __tablename__ = "topic_followers"

    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TopicPhoto(Base):
    """A re-encoded photo of a topic: its proposal, a progress update, or a paper ballot (shown to the
    committee only). Served only through access-checked URLs."""

    __tablename__ = "topic_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), index=True)
    progress_id: Mapped[int | None] = mapped_column(ForeignKey("topic_progress.id"))
    vote_cast_id: Mapped[int | None] = mapped_column(ForeignKey("vote_casts.id"))
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    storage_key: Mapped[str] = mapped_column(String(128), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TopicComment(Base):
    """A comment or a reply (parent_id). Hidden comments stay in place as "已隐藏" with the reason."""

    __tablename__ = "topic_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("topic_comments.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(String(500))
    hidden_reason: Mapped[str] = mapped_column(String(200), default="")
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_topic_comments_topic", "topic_id", "id"),)


class BallotOption(Base):
    """One choice on the ballot (同意 / 不同意 / 弃权, or a candidate)."""

    __tablename__ = "ballot_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), index=True)
    label: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(SmallInteger)
    # An abstention participates but approves nothing (voting.ABSTAIN).
    is_abstain: Mapped[bool] = mapped_column(default=False)
    # The option whose approval decides a motion (同意); candidates are each judged on their own.
    is_approval: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (UniqueConstraint("topic_id", "position"),)


class BallotRoll(Base):
    """The households eligible to vote, frozen when the ballot opens: area and owner key as they were then,
    so the published result can list exactly who counted and nobody can be added afterwards."""

    __tablename__ = "ballot_rolls"

    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), primary_key=True)
    # One owner of several households counts once by headcount (Art. 278): the same key on each.
    owner_key: Mapped[str] = mapped_column(String(80))
    area_centi_m2: Mapped[int]
    # Set when the ballot closes: the household's vote was counted.
    counted: Mapped[bool] = mapped_column(default=False)

    household: Mapped[Household] = relationship(lazy="raise")


class Vote(Base):
    """The vote that counts for a household: one row per topic and household, replaced by each later cast."""

    __tablename__ = "votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    option_id: Mapped[int] = mapped_column(ForeignKey("ballot_options.id"))
    # The household's roll entry, copied when the vote is cast: the counts are then one scan of this table,
    # with no join whose plan could go wrong while a new topic's rows are not yet in the planner's statistics.
    area_centi_m2: Mapped[int]
    owner_key: Mapped[str] = mapped_column(String(80))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "vote_channel"))
    cast_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # How many times the household's vote was cast (a change is a new cast).
    casts: Mapped[int] = mapped_column(default=1)
    # How many of those casts were told (receipt, reminders withdrawn) by the job after the vote; fewer means a
    # job still to run, or lost and found again by the sweep (services/consultations/ballots.tell_of_vote).
    told_casts: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (
        UniqueConstraint("topic_id", "household_id"),
        Index("ix_votes_topic_option", "topic_id", "option_id"),
        Index("ix_votes_untold", "cast_at", postgresql_where=text("told_casts < casts"),
              sqlite_where=text("told_casts < casts")),
    )


class VoteCast(Base):
    """Every cast, in order, kept as the audit trail (a changed vote leaves its earlier casts here)."""

    __tablename__ = "vote_casts"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    option_id: Mapped[int] = mapped_column(ForeignKey("ballot_options.id"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "vote_cast_channel"))
    # The owner who voted online, or the committee member who recorded the paper ballot or proxy.
    cast_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_vote_casts_topic_household", "topic_id", "household_id", "id"),)


class BallotResult(Base):
    """The result as computed at close, frozen with its inputs (figures, thresholds, pass/fail and why)."""

    __tablename__ = "ballot_results"

    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), primary_key=True)
    vote_kind: Mapped[str] = mapped_column(String(16))
    civil_code_item: Mapped[int | None] = mapped_column(SmallInteger)
    eligible_households: Mapped[int]
    total_area_centi_m2: Mapped[int]
    total_headcount: Mapped[int]
    participating_households: Mapped[int]
    participating_area_centi_m2: Mapped[int]
    participating_headcount: Mapped[int]
    participation_met: Mapped[bool]
    passed: Mapped[bool]
    reason: Mapped[str] = mapped_column(String(100))
    # Per option id: {"label", "households", "area_centi_m2", "headcount", "approved"}.
    options: Mapped[dict] = mapped_column(JSON)
    # The rule as applied: {"participation": "2/3", "approval": "1/2", "approval_strict": true}.
    thresholds: Mapped[dict] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TopicObjection(Base):
    """An owner's objection (异议) during publicity, answered publicly by the committee."""

    __tablename__ = "topic_objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    body: Mapped[str] = mapped_column(String(500))
    answer: Mapped[str] = mapped_column(String(500), default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TopicProgress(Base):
    """An implementation update with photos; the last one may mark the decision carried out."""

    __tablename__ = "topic_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(String(500))
    is_final: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TopicRating(Base):
    """民事民评: a household's rating of how the decision was carried out; one per household, changeable."""

    __tablename__ = "topic_ratings"

    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    stars: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),)
