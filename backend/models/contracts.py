"""The property company's life cycle (市场化): selections decided by an owners' vote, service contracts with their
file and fee standard, the term-end reminders sent, and handover inspections (承接查验) with items and photos."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.domain.contracts import (
    ITEM_NAME_LIMIT,
    NOTE_LIMIT,
    ContractStatus,
    HandoverDirection,
    HandoverStatus,
    ItemState,
    SelectionPurpose,
    SelectionStatus,
)
from backend.models.base import Base, UTCDateTime, str_enum
from backend.shared.clock import utcnow


class CompanySelection(Base):
    """An owners' vote on the company (Art. 278 item 4), one per topic; renewing, reselecting or dismissing names
    the contract it is about."""

    __tablename__ = "company_selections"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), index=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), unique=True)
    purpose: Mapped[SelectionPurpose] = mapped_column(str_enum(SelectionPurpose, "selection_purpose"))
    # [company id, …] in the order the committee named them.
    candidate_ids: Mapped[list] = mapped_column(JSON, default=list)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("property_contracts.id", use_alter=True))
    status: Mapped[SelectionStatus] = mapped_column(str_enum(SelectionStatus, "selection_status"),
                                                    default=SelectionStatus.VOTING)
    decision_note: Mapped[str] = mapped_column(String(NOTE_LIMIT), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        # One selection vote at a time per compound: a second tap on 发起选聘, 续聘, 重新选聘 or 解聘 finds the first.
        Index("uq_company_selections_one_voting", "compound_id", unique=True,
              postgresql_where=text("status = 'voting'"), sqlite_where=text("status = 'voting'")),
    )


class PropertyContract(Base):
    """物业服务合同: made as a draft by a passed selection (once: the selection is unique here), signed (active) by
    the committee, ended, or dismissed by another passed vote."""

    __tablename__ = "property_contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    company_id: Mapped[int] = mapped_column(ForeignKey("property_companies.id"))
    selection_id: Mapped[int] = mapped_column(ForeignKey("company_selections.id"), unique=True)
    status: Mapped[ContractStatus] = mapped_column(str_enum(ContractStatus, "contract_status"),
                                                   default=ContractStatus.DRAFT)
    term_start: Mapped[date | None] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date)
    service_level: Mapped[int | None] = mapped_column(SmallInteger)
    fee_schedule_id: Mapped[int | None] = mapped_column(ForeignKey("fee_schedules.id"))
    file_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    file_type: Mapped[str | None] = mapped_column(String(32))
    file_bytes: Mapped[int | None]
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_note: Mapped[str] = mapped_column(String(NOTE_LIMIT), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_property_contracts_compound_status", "compound_id", "status"),
        # One contract in force per compound.
        Index("uq_property_contracts_active_compound", "compound_id", unique=True,
              postgresql_where=text("status = 'active'"), sqlite_where=text("status = 'active'")),
        CheckConstraint("service_level BETWEEN 1 AND 5", name="service_level_range"),
    )


class ContractReminder(Base):
    """A term-end reminder sent: the key makes each step (180, 90 days) once per contract and term end."""

    __tablename__ = "contract_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("property_contracts.id"))
    term_end: Mapped[date] = mapped_column(Date)
    days_before: Mapped[int] = mapped_column(SmallInteger)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("contract_id", "term_end", "days_before"),)


class HandoverInspection(Base):
    """承接查验 (taking over) or 移交 (handing back) of one contract, once each; closed when the committee and the
    company have both signed, which they may only with no open item."""

    __tablename__ = "handover_inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("property_contracts.id"))
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), index=True)
    direction: Mapped[HandoverDirection] = mapped_column(str_enum(HandoverDirection, "handover_direction"))
    status: Mapped[HandoverStatus] = mapped_column(str_enum(HandoverStatus, "handover_status"),
                                                   default=HandoverStatus.OPEN)
    committee_signer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    committee_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    company_signer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    company_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("contract_id", "direction"),)


class HandoverItem(Base):
    """One common part or facility of the checklist: its state, a note, when a defect was put right."""

    __tablename__ = "handover_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("handover_inspections.id"))
    position: Mapped[int] = mapped_column(SmallInteger)
    name: Mapped[str] = mapped_column(String(ITEM_NAME_LIMIT))
    state: Mapped[ItemState] = mapped_column(str_enum(ItemState, "handover_item_state"), default=ItemState.UNCHECKED)
    note: Mapped[str] = mapped_column(String(NOTE_LIMIT), default="")
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (UniqueConstraint("inspection_id", "position"),)


class HandoverPhoto(Base):
    """A re-encoded photo (no EXIF) of an item."""

    __tablename__ = "handover_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("handover_items.id"), index=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    storage_key: Mapped[str] = mapped_column(String(128), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
