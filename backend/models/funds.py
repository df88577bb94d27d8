"""The compound's public money (公共账本): accounts, the journal (日记账) with vouchers, closed months, spending
requests with their approvals and quotes, disclosures (公示栏) and the year's surplus."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.domain.funds import (
    DEFAULT_SPENDING_THRESHOLD_FEN,
    AccountKind,
    Category,
    DisclosureKind,
    EntryOrigin,
    SpendingPurpose,
    SpendingStatus,
    SurplusUse,
)
from backend.models.base import Base, UTCDateTime, str_enum
from backend.shared.clock import utcnow


class FundSettings(Base):
    """Per compound: the spending threshold above which the owners vote, and the trust model's remuneration (酬金)
    as a rate of the month's fee income or a fixed amount per month (at most one of the two)."""

    __tablename__ = "fund_settings"

    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), primary_key=True)
    spending_threshold_fen: Mapped[int] = mapped_column(BigInteger, default=DEFAULT_SPENDING_THRESHOLD_FEN)
    remuneration_rate_bp: Mapped[int | None]
    remuneration_fixed_fen: Mapped[int | None] = mapped_column(BigInteger)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("spending_threshold_fen >= 0", name="threshold_not_negative"),
        CheckConstraint("remuneration_rate_bp IS NULL OR remuneration_rate_bp BETWEEN 0 AND 10000",
                        name="rate_range"),
        CheckConstraint("remuneration_fixed_fen IS NULL OR remuneration_fixed_fen >= 0", name="fixed_not_negative"),
        CheckConstraint("remuneration_rate_bp IS NULL OR remuneration_fixed_fen IS NULL", name="rate_or_fixed"),
    )


class FundAccount(Base):
    """A bank account the compound's money sits in (or 未开设: the journal is kept without one). The number is stored
    masked: nobody needs the whole number to check a statement."""

    __tablename__ = "fund_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), index=True)
    kind: Mapped[AccountKind] = mapped_column(str_enum(AccountKind, "fund_account_kind"))
    bank_name: Mapped[str] = mapped_column(String(60), default="")
    account_no_masked: Mapped[str] = mapped_column(String(40), default="")
    holder: Mapped[str] = mapped_column(String(60), default="")
    opening_balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    opened_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FundEntry(Base):
    """One line of the journal, never edited or deleted. Income and expense are positive amounts; a reversal (红字冲销)
    repeats the category of the entry it reverses with the amount negated, names it, and gives a reason; an
    overpaid fee given back is negative fee income."""

    __tablename__ = "fund_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("fund_accounts.id"))
    # The Beijing day of the entry and the first day of its month (the month it is counted and closed in).
    entry_date: Mapped[date] = mapped_column(Date)
    month: Mapped[date] = mapped_column(Date)
    category: Mapped[Category] = mapped_column(str_enum(Category, "fund_category"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    counterparty: Mapped[str] = mapped_column(String(60), default="")
    note: Mapped[str] = mapped_column(String(300), default="")
    origin: Mapped[EntryOrigin] = mapped_column(str_enum(EntryOrigin, "fund_entry_origin"), default=EntryOrigin.MANUAL)
    # What posted it, each at most once (a replayed payment notification never posts twice).
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), unique=True)
    subsidy_grant_id: Mapped[int | None] = mapped_column(ForeignKey("subsidy_grants.id"), unique=True)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"), unique=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("fund_entries.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(300), default="")
    # A manual expense is spent against an approved request, or is an emergency repair whose posting made a request
    # to ratify it afterwards (emergency set on both).
    spending_request_id: Mapped[int | None] = mapped_column(ForeignKey("spending_requests.id"), index=True)
    emergency: Mapped[bool] = mapped_column(default=False)
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_fund_entries_compound_month", "compound_id", "month"),
        Index("ix_fund_entries_account_month", "account_id", "month"),
        CheckConstraint("amount_fen <> 0", name="amount_not_zero"),
        CheckConstraint("(amount_fen < 0) = (reverses_id IS NOT NULL OR origin = 'fee_refund')",
                        name="only_reversals_and_refunds_negative"),
    )


class FundVoucher(Base):
    """A receipt, invoice or contract of an entry: a re-encoded photo or a checked PDF."""

    __tablename__ = "fund_vouchers"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("fund_entries.id"), index=True)
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    storage_key: Mapped[str] = mapped_column(String(128), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FundMonth(Base):
    """A closed month of one account, frozen: the balance of any later day is the last closed month's closing plus
    the entries after it, never a sum from the start. The bank's month-end balance, entered at close, differs from
    the closing balance only with an explanation."""

    __tablename__ = "fund_months"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("fund_accounts.id"))
    month: Mapped[date] = mapped_column(Date)
    opening_fen: Mapped[int] = mapped_column(BigInteger)
    income_fen: Mapped[int] = mapped_column(BigInteger)
    expense_fen: Mapped[int] = mapped_column(BigInteger)
    closing_fen: Mapped[int] = mapped_column(BigInteger)
    # {category: fen}, net of reversals.
    by_category: Mapped[dict] = mapped_column(JSON, default=dict)
    entry_count: Mapped[int] = mapped_column(default=0)
    bank_balance_fen: Mapped[int | None] = mapped_column(BigInteger)
    difference_note: Mapped[str] = mapped_column(String(300), default="")
    difference_explained_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    difference_explained_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("account_id", "month"),
        Index("ix_fund_months_compound_month", "compound_id", "month"),
        CheckConstraint("closing_fen = opening_fen + income_fen - expense_fen", name="balanced"),
    )


class SpendingRequest(Base):
    """A request to spend the owners' money: below the threshold two committee members approve it; above it the
    owners decide in a topic (the Art. 278 item its purpose names)."""

    __tablename__ = "spending_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(60))
    purpose: Mapped[SpendingPurpose] = mapped_column(str_enum(SpendingPurpose, "spending_purpose"))
    description: Mapped[str] = mapped_column(Text, default="")
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    category: Mapped[Category] = mapped_column(str_enum(Category, "spending_category"))
    payee: Mapped[str] = mapped_column(String(60))
    status: Mapped[SpendingStatus] = mapped_column(str_enum(SpendingStatus, "spending_status"),
                                                   default=SpendingStatus.PENDING)
    # The threshold in force when it was made: it decided committee or owners.
    threshold_fen: Mapped[int] = mapped_column(BigInteger)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"), unique=True)
    # Made by posting an emergency repair's expense (the entry names it): approval ratifies what was paid (追认).
    emergency: Mapped[bool] = mapped_column(default=False)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_spending_requests_compound_status", "compound_id", "status"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
    )


class SpendingApproval(Base):
    """One committee member's yes: a member approves a request once (the key), never their own."""

    __tablename__ = "spending_approvals"

    request_id: Mapped[int] = mapped_column(ForeignKey("spending_requests.id"), primary_key=True)
    approver_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SpendingQuote(Base):
    """A quote (报价) attached to a request: a re-encoded photo or a checked PDF."""

    __tablename__ = "spending_quotes"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("spending_requests.id"), index=True)
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    storage_key: Mapped[str] = mapped_column(String(128), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Disclosure(Base):
    """One posting on the compound's notice board (公示栏), dated and kept: a later posting of the same kind and
    period supersedes it on the board without removing it."""

    __tablename__ = "disclosures"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    kind: Mapped[DisclosureKind] = mapped_column(str_enum(DisclosureKind, "disclosure_kind"))
    # "2026Q3" for a quarter, "2026" for a year, "" for standing items.
    period: Mapped[str] = mapped_column(String(8), default="")
    title: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text, default="")
    # Figures generated from the journal or the fee schedules at posting, frozen with it.
    figures: Mapped[dict | None] = mapped_column(JSON)
    file_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    file_type: Mapped[str | None] = mapped_column(String(32))
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_disclosures_compound_kind_period", "compound_id", "kind", "period"),)


class FundYear(Base):
    """A trust compound's year in the open: income − expense − remuneration, and what the owners decided about the
    surplus. Recorded once per year."""

    __tablename__ = "fund_years"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    income_fen: Mapped[int] = mapped_column(BigInteger)
    expense_fen: Mapped[int] = mapped_column(BigInteger)
    remuneration_fen: Mapped[int] = mapped_column(BigInteger)
    surplus_fen: Mapped[int] = mapped_column(BigInteger)
    use: Mapped[SurplusUse] = mapped_column(str_enum(SurplusUse, "surplus_use"))
    note: Mapped[str] = mapped_column(String(300), default="")
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("compound_id", "year"),
        CheckConstraint("surplus_fen = income_fen - expense_fen - remuneration_fen", name="surplus_balanced"),
    )


class SurplusRefund(Base):
    """A household's share of a refunded surplus, by floor area, largest remainder: the shares add up to the total."""

    __tablename__ = "surplus_refunds"

    fund_year_id: Mapped[int] = mapped_column(ForeignKey("fund_years.id"), primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), primary_key=True)
    area_centi_m2: Mapped[int]
    amount_fen: Mapped[int] = mapped_column(BigInteger)
