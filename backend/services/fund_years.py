"""A trust compound's year in the open: the year's figures from its journal, the owners' decision about the surplus
(recorded once per compound and year: the database's unique key decides between two at the same instant), the
refunds per household by floor area, and the officials' view of which compounds below an area keep accounts of
which kind."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from backend.domain import fund_years as rules
from backend.domain.compounds import ManagementModel
from backend.domain.fund_years import YearResult
from backend.domain.funds import AccountKind, Category, FundRefused, SurplusUse
from backend.domain.refusals import Kind
from backend.domain.roles import Action
from backend.extensions import db
from backend.models import (
    Area,
    Building,
    Compound,
    FundAccount,
    FundEntry,
    FundMonth,
    FundYear,
    Household,
    Membership,
    SurplusRefund,
    Topic,
)
from backend.policy import authorize_area
from backend.services.audit import record_audit
from backend.services.fund_access import FundAccess


@dataclass(frozen=True)
class YearFigures:
    year: int
    result: YearResult
    by_category: dict[Category, int]
    # The first days of the months still open that the year needs closed, per account id.
    months_open: dict[int, list[date]]
    has_accounts: bool

    @property
    def closed(self) -> bool:
        return self.has_accounts and not any(self.months_open.values())


def figures(compound_id: int, year: int) -> YearFigures:
    """Net amounts by category of the entries dated in the year (one GROUP BY), and the months still to close."""
    rows = db.session.execute(
        select(FundEntry.category, func.sum(FundEntry.amount_fen))
        .where(FundEntry.compound_id == compound_id, FundEntry.month >= date(year, 1, 1),
               FundEntry.month <= date(year, 12, 1))
        .group_by(FundEntry.category)
    ).all()
    by_category = {Category(category): int(total) for category, total in rows if total}
    accounts = db.session.execute(
        select(FundAccount.id, FundAccount.opened_on).where(FundAccount.compound_id == compound_id)
        .order_by(FundAccount.id)
    ).all()
    closed = {(account_id, month) for account_id, month in db.session.execute(
        select(FundMonth.account_id, FundMonth.month)
        .where(FundMonth.compound_id == compound_id, FundMonth.month >= date(year, 1, 1),
               FundMonth.month <= date(year, 12, 1)))}
    needed = {account_id: rules.months_to_close(opened_on, year) for account_id, opened_on in accounts}
    months_open = {account_id: [month for month in months if (account_id, month) not in closed]
                   for account_id, months in needed.items() if months}
    return YearFigures(year=year, result=rules.result_of(by_category), by_category=by_category,
                       months_open=months_open, has_accounts=any(needed.values()))


def decision_of(compound_id: int, year: int) -> FundYear | None:
    return db.session.scalar(select(FundYear).where(FundYear.compound_id == compound_id, FundYear.year == year))


def refusal_to_decide(access: FundAccess, year_figures: YearFigures) -> FundRefused | None:
    """Why the bookkeepers may not record the decision now (the state, not the person), or None."""
    if access.model is not ManagementModel.TRUST:
        return FundRefused(rules.NOT_TRUST)
    if not year_figures.has_accounts:
        return FundRefused(rules.NO_ACCOUNTS)
    if not year_figures.closed:
        return FundRefused(rules.YEAR_NOT_CLOSED)
    return None


def record_decision(access: FundAccess, year: int, use: SurplusUse, note: str, topic_id: int | None,
                    ip: str | None = None) -> FundYear:
    """Freeze the year's figures with the owners' decision, and for a refund each household's share by floor area.
    Only the bookkeepers of a trust compound, once the year's months are all closed; once per year (409 after)."""
    compound_id = access.compound_id
    year_figures = figures(compound_id, year)
    refusal = refusal_to_decide(access, year_figures)
    if refusal is not None:
        raise refusal
    if topic_id is not None and db.session.scalar(
            select(Topic.id).where(Topic.id == topic_id, Topic.compound_id == compound_id)) is None:
        raise FundRefused("请选择本小区的议题", Kind.INVALID, errors={"topic_id": ["请选择本小区的议题"]})
    result = year_figures.result
    areas: dict[int, int] = {}
    if use is SurplusUse.REFUND:
        if result.surplus_fen <= 0:
            raise FundRefused(rules.NOTHING_TO_REFUND, Kind.INVALID, errors={"use": [rules.NOTHING_TO_REFUND]})
        areas = {household_id: area for household_id, area in db.session.execute(
            select(Household.id, Household.floor_area_centi_m2).where(Household.compound_id == compound_id))}
        if not areas:
            raise FundRefused(rules.NO_HOUSEHOLDS, Kind.INVALID, errors={"use": [rules.NO_HOUSEHOLDS]})
    decided = FundYear(compound_id=compound_id, year=year, income_fen=result.income_fen,
                       expense_fen=result.expense_fen, remuneration_fen=result.remuneration_fen,
                       surplus_fen=result.surplus_fen, use=use, note=note, topic_id=topic_id,
                       recorded_by_id=access.user_id)
    try:
        with db.session.begin_nested():
            db.session.add(decided)
            db.session.flush()
    except IntegrityError:
        raise FundRefused(rules.ALREADY_DECIDED) from None
    if areas:
        shares = rules.split_by_area(result.surplus_fen, areas)
        db.session.add_all(SurplusRefund(fund_year_id=decided.id, household_id=household_id,
                                         area_centi_m2=areas[household_id], amount_fen=shares[household_id])
                           for household_id in sorted(areas))
    record_audit(actor_id=access.user_id, action="fund_year.decide", target_type="fund_year", target_id=decided.id,
                 compound_id=compound_id, ip=ip,
                 after={"year": year, "use": use.value, "surplus_fen": result.surplus_fen, "topic_id": topic_id,
                        "refunds": len(areas)})
    db.session.commit()
    return decided


@dataclass(frozen=True)
class RefundLine:
    household_id: int
    building: str
    unit: str
    room: str
    area_centi_m2: int
    amount_fen: int


def refunds(fund_year_id: int, household_ids: set[int] | None = None) -> list[RefundLine]:
    """The year's refunds by household, in building and room order; only those of `household_ids` when given."""
    query = (select(SurplusRefund, Building.name, Household.unit, Household.room)
             .join(Household, Household.id == SurplusRefund.household_id)
             .join(Building, Building.id == Household.building_id)
             .where(SurplusRefund.fund_year_id == fund_year_id)
             .order_by(Building.name, Household.unit, Household.room, Household.id))
    if household_ids is not None:
        query = query.where(SurplusRefund.household_id.in_(household_ids))
    return [RefundLine(household_id=refund.household_id, building=building, unit=unit, room=room,
                       area_centi_m2=refund.area_centi_m2, amount_fen=refund.amount_fen)
            for refund, building, unit, room in db.session.execute(query)]


def households_of(user_id: int | None, compound_id: int) -> set[int]:
    """The caller's verified households in the compound (their refund lines are marked as theirs)."""
    if user_id is None:
        return set()
    return set(db.session.scalars(select(Membership.household_id).where(
        Membership.user_id == user_id, Membership.compound_id == compound_id, Membership.household_id.is_not(None),
        Membership.verified_at.is_not(None))))


# ---- officials' coverage ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageLine:
    compound_id: int
    compound_name: str
    management_model: ManagementModel
    # Accounts by kind; empty when the compound keeps no journal yet.
    accounts: dict[AccountKind, int]


def coverage(area_id: int, user_id: int | None) -> tuple[Area, list[CoverageLine]]:
    """For officials of the area or above (and admins)."""
    area = authorize_area(Action.VIEW_DASHBOARD, area_id, user_id)
    return area, coverage_lines(area)


def coverage_lines(area: Area) -> list[CoverageLine]:
    """Every compound below the area with its accounts counted by kind, in one GROUP BY (the caller has
    authorized)."""
    rows = db.session.execute(
        select(Compound.id, Compound.name, Compound.management_model, FundAccount.kind, func.count(FundAccount.id))
        .join(Area, Area.id == Compound.area_id)
        .outerjoin(FundAccount, FundAccount.compound_id == Compound.id)
        .where(Area.path.startswith(area.path))
        .group_by(Compound.id, Compound.name, Compound.management_model, FundAccount.kind)
        .order_by(Compound.name, Compound.id)
    ).all()
    lines: dict[int, CoverageLine] = {}
    for compound_id, name, model, kind, count in rows:
        line = lines.setdefault(compound_id, CoverageLine(compound_id, name, ManagementModel(model), {}))
        if kind is not None:
            line.accounts[AccountKind(kind)] = int(count)
    return list(lines.values())
