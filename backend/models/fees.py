"""Property fees and subsidies (DESIGN §4): fee schedules, bills, subsidy policies and grants, payment orders,
payments and refunds. Money is integer fen; a bill's figures are copied onto it when issued, so a later fee
change never rewrites it."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.domain.compounds import HouseholdKind
from backend.domain.fees import BillingCycle, BillStatus, GrantStatus, PaymentMethod
from backend.models.base import Base, UTCDateTime, str_enum
from backend.models.places import Compound, Household
from backend.shared.clock import utcnow


class FeeSchedule(Base):
    """A compound's fee standard for one kind of household from a date on; the latest one in force applies."""

    __tablename__ = "fee_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    household_kind: Mapped[HouseholdKind] = mapped_column(str_enum(HouseholdKind, "household_kind"))
    standard_fen_per_m2: Mapped[int]
    effective_from: Mapped[date] = mapped_column(Date)
    cycle: Mapped[BillingCycle] = mapped_column(str_enum(BillingCycle, "billing_cycle"))
    due_day: Mapped[int]
    # A community_fallback compound charges nothing unless it decides to (DESIGN §7).
    charges_fees: Mapped[bool] = mapped_column(default=True)
    # The 听证会 that discussed the change, when there was one.
    hearing_meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("compound_id", "household_kind", "effective_from"),
        CheckConstraint("standard_fen_per_m2 >= 0", name="standard_nonnegative"),
        CheckConstraint("due_day BETWEEN 1 AND 28", name="due_day_range"),
    )


class Bill(Base):
    """One household's fees for one billing period. Never deleted: waived or adjusted with a reason."""

    __tablename__ = "bills"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    schedule_id: Mapped[int] = mapped_column(ForeignKey("fee_schedules.id"))
    period_start: Mapped[date] = mapped_column(Date)
    months: Mapped[int]
    # The first month after the period, so "a bill covering this month" is one range test.
    period_end: Mapped[date] = mapped_column(Date)
    floor_area_centi_m2: Mapped[int]
    standard_fen_per_m2: Mapped[int]
    original_amount_fen: Mapped[int]
    amount_fen: Mapped[int]
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[BillStatus] = mapped_column(str_enum(BillStatus, "bill_status"), default=BillStatus.UNPAID)
    # The subsidy fixed for this bill (held from the first payment attempt, granted when paid).
    subsidy_fen: Mapped[int] = mapped_column(default=0)
    # What the household paid, less refunds.
    paid_fen: Mapped[int] = mapped_column(default=0)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    adjust_reason: Mapped[str] = mapped_column(String(500), default="")

    household: Mapped[Household] = relationship()
    compound: Mapped[Compound] = relationship()

    __table_args__ = (
        UniqueConstraint("household_id", "period_start"),
        Index("ix_bills_compound_period", "compound_id", "period_start"),
        Index("ix_bills_status_due", "status", "due_date"),
        CheckConstraint("amount_fen >= 0 AND original_amount_fen >= 0", name="amount_nonnegative"),
        CheckConstraint("subsidy_fen >= 0 AND subsidy_fen <= amount_fen", name="subsidy_within_bill"),
        CheckConstraint("paid_fen >= 0", name="paid_nonnegative"),
        CheckConstraint("months >= 1", name="months_positive"),
    )

    @property
    def resident_share_fen(self) -> int:
        return self.amount_fen - self.subsidy_fen

    @property
    def outstanding_fen(self) -> int:
        return max(self.resident_share_fen - self.paid_fen, 0) if self.status is BillStatus.UNPAID else 0

    @property
    def overpaid_fen(self) -> int:
        # A waived bill owes nothing, so anything paid on it goes back.
        if self.status is BillStatus.WAIVED:
            return self.paid_fen
        return max(self.paid_fen - self.resident_share_fen, 0)


class SubsidyPolicy(Base):
    """A 先买后补 subsidy of an area (every compound below it) or of one compound."""

    __tablename__ = "subsidy_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"), index=True)
    built_before_year: Mapped[int | None]
    # Management model values; empty = every model.
    management_models: Mapped[list] = mapped_column(JSON, default=list)
    period_start: Mapped[date] = mapped_column(Date)
    # [[months, rate_bp], …] in order.
    tiers: Mapped[list] = mapped_column(JSON)
    cap_fen_per_month: Mapped[int | None]
    # A city's budget can pass the 2^31 fen (≈ ¥21 million) of an INTEGER.
    budget_fen: Mapped[int | None] = mapped_column(BigInteger)
    # Held and granted together: what the budget can no longer give.
    committed_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint("(area_id IS NULL) <> (compound_id IS NULL)", name="area_or_compound"),
        # The last line of defence: the database itself refuses an overspent budget.
        CheckConstraint("budget_fen IS NULL OR committed_fen <= budget_fen", name="within_budget"),
        CheckConstraint("committed_fen >= 0", name="committed_nonnegative"),
        CheckConstraint("cap_fen_per_month IS NULL OR cap_fen_per_month >= 0", name="cap_nonnegative"),
    )

    @property
    def budget_left_fen(self) -> int | None:
        return None if self.budget_fen is None else self.budget_fen - self.committed_fen


class SubsidyGrant(Base):
    """The subsidy fixed for one bill: held at the first payment attempt, granted when paid, released when the
    bill is waived or adjusted or the attempt abandoned. The street is copied when held, the property company
    and the settlement month when granted."""

    __tablename__ = "subsidy_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("subsidy_policies.id"), index=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), unique=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    property_company_id: Mapped[int | None] = mapped_column(ForeignKey("property_companies.id"))
    amount_fen: Mapped[int]
    # [{month, amount_fen, rate_bp, subsidy_fen}, …]: the bill line by line.
    per_month: Mapped[list] = mapped_column(JSON)
    status: Mapped[GrantStatus] = mapped_column(str_enum(GrantStatus, "grant_status"), default=GrantStatus.HELD)
    # The first day of the Asia/Shanghai month it was granted in: the settlement month.
    settlement_month: Mapped[date | None] = mapped_column(Date)
    granted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_subsidy_grants_settlement", "status", "settlement_month", "street_id"),
        CheckConstraint("amount_fen >= 0", name="amount_nonnegative"),
    )


# Neither paid nor closed: the order someone may be paying right now.
LIVE_ORDER = "paid_at IS NULL AND closed_at IS NULL"


class PaymentOrder(Base):
    """An online payment started for one or several bills of a household (WeChat Pay JSAPI or the sandbox), by
    its out_trade_no; its bills and what it pays of each are its lines (payment_order_bills). Live until paid
    or closed; a bill is in at most one live order."""

    __tablename__ = "payment_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    out_trade_no: Mapped[str] = mapped_column(String(32), unique=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    provider: Mapped[PaymentMethod] = mapped_column(str_enum(PaymentMethod, "payment_method"))
    # The sum of its lines' amounts: what WeChat Pay charges, and what a notification must say.
    amount_fen: Mapped[int]
    payer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    openid: Mapped[str] = mapped_column(String(64), default="")
    prepay_id: Mapped[str] = mapped_column(String(64), default="")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When it became unpayable without being paid: WeChat Pay closed it or never had it. A late payment of a
    # closed order is still recorded (the money was taken) and keeps this.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # LIVE_ORDER as a column (the CHECK keeps the two in step): the order's lines carry it by a cascading
    # foreign key, so one UPDATE of the order frees or holds every bill of it at once.
    live: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lines: Mapped[list[PaymentOrderBill]] = relationship(
        primaryjoin="PaymentOrder.id == foreign(PaymentOrderBill.order_id)", viewonly=True,
        order_by="PaymentOrderBill.bill_id",
    )

    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint(f"live = ({LIVE_ORDER})", name="live_flag"),
        # What payment_order_bills' (order_id, live) refers to.
        UniqueConstraint("id", "live"),
    )

    @property
    def bill_ids(self) -> list[int]:
        return [line.bill_id for line in self.lines]


class PaymentOrderBill(Base):
    """A line of an order: one bill and what the order pays of it (the bill's share after its subsidy, fixed when
    the order opened). `live` is the order's, copied here by the database itself (ON UPDATE CASCADE), so a
    partial unique index over the lines keeps every bill in at most one live order, single-bill or not."""

    __tablename__ = "payment_order_bills"

    order_id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), primary_key=True)
    amount_fen: Mapped[int]
    live: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (
        ForeignKeyConstraint(["order_id", "live"], ["payment_orders.id", "payment_orders.live"],
                             onupdate="CASCADE"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        Index("ix_payment_order_bills_bill_id", "bill_id"),
        # One live order per bill, whatever the requests racing: two orders payable at once charge the bill
        # twice (a double tap, two people of a household paying together, one month and "pay all" at once).
        Index("uq_payment_order_bills_live_bill", "bill_id", unique=True,
              postgresql_where=text("live"), sqlite_where=text("live")),
    )


class Receipt(Base):
    """One electronic receipt (电子收据): the payments taken together — a paid online order's, one per bill of it,
    or one desk entry's under one paper receipt number. Its number, the paper receipt's and the provider's
    transaction are each once per receipt (per compound for the paper one), so a replayed notification or a
    paper receipt entered twice never makes a second receipt."""

    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(32), unique=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    method: Mapped[PaymentMethod] = mapped_column(str_enum(PaymentMethod, "payment_method"))
    # The sum of its payments.
    amount_fen: Mapped[int]
    order_id: Mapped[int | None] = mapped_column(ForeignKey("payment_orders.id"), unique=True)
    transaction_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The paper receipt's number for cash and bank payments.
    offline_receipt_no: Mapped[str | None] = mapped_column(String(32))
    # Who paid online (the order's payer); who took cash at the desk.
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The payee: the property company serving the compound when the money was taken.
    payee_company_id: Mapped[int | None] = mapped_column(ForeignKey("property_companies.id"))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When what the payment asks for besides the money was done (payment_orders.follow_up_payment): an online
    # payment's notification records the money alone and leaves the rest to a job; the desk does it at once.
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("compound_id", "offline_receipt_no"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        Index("ix_receipts_household_paid", "household_id", "paid_at"),
        # The sweep of online payments whose follow-up job was lost reads only these.
        Index("ix_receipts_unhandled", "paid_at", postgresql_where=text("handled_at IS NULL"),
              sqlite_where=text("handled_at IS NULL")),
    )


class Payment(Base):
    """Money received for one bill, a line of its receipt: online (one per bill of a paid order) or recorded by
    staff."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id"), index=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    method: Mapped[PaymentMethod] = mapped_column(str_enum(PaymentMethod, "payment_method"))
    amount_fen: Mapped[int]
    # The subsidy of the bill at the time of this payment, for the receipt.
    subsidy_fen: Mapped[int] = mapped_column(default=0)
    order_id: Mapped[int | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    bill: Mapped[Bill] = relationship()
    # Read with every payment: its number, paper number and transaction are the receipt's.
    receipt: Mapped[Receipt] = relationship(lazy="joined")

    __table_args__ = (
        # An online payment is for a line of its order: one per bill of the order, however often WeChat Pay
        # tells of it.
        ForeignKeyConstraint(["order_id", "bill_id"], ["payment_order_bills.order_id", "payment_order_bills.bill_id"]),
        UniqueConstraint("order_id", "bill_id"),
        # A receipt lists a bill once.
        UniqueConstraint("receipt_id", "bill_id"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        Index("ix_payments_compound_paid", "compound_id", "paid_at"),
    )

    @property
    def receipt_no(self) -> str:
        return self.receipt.receipt_no

    @property
    def offline_receipt_no(self) -> str | None:
        return self.receipt.offline_receipt_no

    @property
    def transaction_id(self) -> str | None:
        return self.receipt.transaction_id


class Refund(Base):
    """Money given back from an overpaid bill, with the reason (committee or official)."""

    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    method: Mapped[PaymentMethod] = mapped_column(str_enum(PaymentMethod, "payment_method"))
    amount_fen: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    refunded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)
