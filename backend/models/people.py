"""People: users (WeChat / phone / staff password identities), their WeChat openids per app, and their roles
in compounds or areas."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.domain.auth import WeChatApp
from backend.domain.roles import Role
from backend.models.base import Base, UTCDateTime, str_enum
from backend.models.places import Household
from backend.shared.clock import utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # One person across the WeChat apps (when WeChat gives it): unique, so two first sign-ins of one person
    # through both apps at once still make one user.
    wechat_unionid: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The phone is kept three ways: a keyed hash to find the user, a ciphertext to send SMS, a mask to show.
    phone_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone_cipher: Mapped[str | None] = mapped_column(String(255))
    phone_masked: Mapped[str | None] = mapped_column(String(16))
    large_text: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Every token names the generation it was issued in (claim `gen`); signing out everywhere starts the next
    # one, so all the person's earlier tokens stop at once without a revocation row each.
    token_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", foreign_keys="Membership.user_id", lazy="raise"
    )


class WeChatAccount(Base):
    """A person's openid in one WeChat app: the mini-program and the official account each give their own,
    and a push or a payment must use the openid of the app that sends or charges."""

    __tablename__ = "wechat_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    app: Mapped[WeChatApp] = mapped_column(str_enum(WeChatApp, "wechat_app"))
    openid: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_signed_in_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("app", "openid"),)


class Membership(Base):
    """A role held in one compound, or (officials) over an area, or (admins) everywhere."""

    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    household: Mapped[Household | None] = relationship()

    __table_args__ = (
        CheckConstraint(
            "(role = 'official' AND area_id IS NOT NULL AND compound_id IS NULL)"
            " OR (role = 'admin' AND area_id IS NULL AND compound_id IS NULL)"
            " OR (role NOT IN ('official', 'admin') AND compound_id IS NOT NULL AND area_id IS NULL)",
            name="scope_matches_role",
        ),
        CheckConstraint(
            "role NOT IN ('owner', 'resident') OR household_id IS NOT NULL", name="household_roles_have_household"
        ),
        Index("ix_memberships_compound_role", "compound_id", "role"),
    )
