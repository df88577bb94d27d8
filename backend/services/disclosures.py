"""The compound's notice board (公示栏, Civil Code Art. 943): posting a disclosure (its figures generated from the fee
schedules or the journal and frozen with it, its file checked like a voucher), the board and its history, telling
the compound's residents of a new posting, and the daily sweep telling the street's officials, once per compound
and quarter, of a public-income statement not posted by its due date."""
from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, func, select

from backend.domain import disclosures as rules
from backend.domain.compounds import HOUSEHOLD_KIND_LABELS, AreaLevel, HouseholdKind
from backend.domain.disclosures import DisclosureRefused, Quarter
from backend.domain.fees import CYCLE_LABELS
from backend.domain.funds import DISCLOSURE_KIND_LABELS, DisclosureKind, categories_kept
from backend.domain.notifications import DISCLOSURE_OVERDUE, DISCLOSURE_POSTED
from backend.domain.refusals import Kind
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Area, Compound, Disclosure, FundAccount, FundEntry, Membership, Notice, User
from backend.policy import ancestor_area_ids
from backend.services.audit import record_audit
from backend.services.documents import JPEG, PDF, prepare_document, store_document
from backend.services.fees import schedule_in_force
from backend.services.fund_access import FundAccess, fund_access, require
from backend.services.notifications import notify
from backend.services.photos import kept_only_on_commit, load_photo
from backend.services.queueing import push_committed_jobs
from backend.shared.clock import beijing_date, utcnow
from backend.shared.pagination import Page, paginate

NOT_FOUND = "公示不存在"
FOLDER = "disclosures"
_HOUSEHOLD_ROLES = (Role.OWNER, Role.RESIDENT)
EXCERPT = 100


@dataclass(frozen=True)
class Draft:
    kind: DisclosureKind
    period: str = ""
    title: str = ""
    body: str = ""
    staff: Sequence[str] = ()


def today() -> date:
    return beijing_date(utcnow())


def _hidden() -> DisclosureRefused:
    return DisclosureRefused(NOT_FOUND, Kind.NOT_FOUND)


# ---- generated figures ------------------------------------------------------------------------------------------


def public_income_figures(compound_id: int, quarter: Quarter) -> dict:
    """The quarter's journal, net of reversals, by category: one GROUP BY over the quarter's months."""
    compound = db.session.get(Compound, compound_id)
    rows = db.session.execute(
        select(FundEntry.category, func.sum(FundEntry.amount_fen), func.count())
        .where(FundEntry.compound_id == compound_id, FundEntry.month.in_(quarter.months))
        .group_by(FundEntry.category)
    ).all()
    amounts = {str(getattr(category, "value", category)): int(total or 0) for category, total, _ in rows}
    return rules.public_income_figures(quarter, categories_kept(compound.management_model), amounts,
                                       sum(count for *_, count in rows))


def fee_item_figures(compound_id: int, on: date) -> dict:
    """The fee standard in force today for each kind of household that has one."""
    items = []
    for kind in HouseholdKind:
        schedule = schedule_in_force(compound_id, kind, on)
        if schedule is None:
            continue
        items.append(rules.FeeItem(
            household_kind=kind.value, household_kind_label=HOUSEHOLD_KIND_LABELS[kind],
            standard_fen_per_m2=schedule.standard_fen_per_m2, cycle_label=CYCLE_LABELS[schedule.cycle],
            effective_from=schedule.effective_from, charges_fees=schedule.charges_fees, note=schedule.note))
    if not items:
        raise DisclosureRefused("本小区还没有收费标准，请先在物业费设置中填写", errors={"kind": ["本小区还没有收费标准"]})
    return rules.fee_item_figures(items)


def _figures(compound_id: int, draft: Draft, period: str, staff: list[str]) -> dict | None:
    if draft.kind is DisclosureKind.PUBLIC_INCOME:
        return public_income_figures(compound_id, rules.parse_quarter(period))
    if draft.kind is DisclosureKind.FEE_ITEMS:
        return fee_item_figures(compound_id, today())
    if draft.kind is DisclosureKind.STAFF_ON_DUTY:
        return {"staff": staff}
    return None


# ---- posting ----------------------------------------------------------------------------------------------------


def residents(compound_id: int) -> list[int]:
    """The compound's verified owners and residents, each once: those the board is for."""
    return list(db.session.scalars(
        select(Membership.user_id).distinct().where(
            Membership.compound_id == compound_id, Membership.role.in_(_HOUSEHOLD_ROLES),
            Membership.verified_at.is_not(None))
        .order_by(Membership.user_id)
    ))


def post(compound_id: int, user_id: int | None, draft: Draft, upload: typing.BinaryIO | None = None,
         ip: str | None = None) -> Disclosure:
    """Post a disclosure (the company's manager; the committee where it keeps the books): dated and kept, the
    newest of its kind and period stands on the board. Its residents are told once (the notice's key is the
    posting's)."""
    access = fund_access(compound_id, user_id)
    require(access, "post_disclosures")
    period = rules.check_period(draft.kind, draft.period, today())
    staff = rules.staff_lines(draft.staff)
    rules.check_posting(draft.kind, draft.body, staff, upload is not None)
    figures = _figures(compound_id, draft, period, staff)
    # Only those who may post get their file read: a stranger learns nothing from a refused upload.
    document = prepare_document(upload) if upload is not None else None
    with kept_only_on_commit() as stored:
        disclosure = Disclosure(
            compound_id=compound_id, kind=draft.kind, period=period,
            title=draft.title or rules.default_title(draft.kind, period), body=draft.body, figures=figures,
            file_key=store_document(document, FOLDER, stored) if document else None,
            file_type=document.content_type if document else None, posted_by_id=user_id, posted_at=utcnow())
        db.session.add(disclosure)
        db.session.flush()
        record_audit(actor_id=user_id, action="disclosure.post", target_type="disclosure", target_id=disclosure.id,
                     compound_id=compound_id, ip=ip,
                     after={"kind": draft.kind.value, "period": period, "title": disclosure.title,
                            "file": document is not None, "figures": figures is not None})
        label = DISCLOSURE_KIND_LABELS[draft.kind]
        notify(residents(compound_id), DISCLOSURE_POSTED, f"公示栏：{disclosure.title}",
               (draft.body[:EXCERPT] or f"物业服务人更新了{label}，请查看"), link=f"/h5/disclosures/{disclosure.id}",
               dedupe_key=rules.posted_dedupe_key(disclosure.id))
        db.session.commit()
    return disclosure


# ---- reading ----------------------------------------------------------------------------------------------------


def seen_by(disclosure_id: int, user_id: int | None,
            entry_compound_id: int | None = None) -> tuple[Disclosure, FundAccess]:
    """The posting and the reader's rights; NOT_FOUND for anyone who may not read the compound's board."""
    disclosure = db.session.get(Disclosure, disclosure_id)
    if disclosure is None:
        raise _hidden()
    access = fund_access(disclosure.compound_id, user_id, entry_compound_id)
    require(access, "see_disclosures")
    return disclosure, access


def compound_name(compound_id: int) -> str:
    return db.session.scalar(select(Compound.name).where(Compound.id == compound_id)) or ""


def board_access(compound_id: int, user_id: int | None, entry_compound_id: int | None = None) -> FundAccess:
    access = fund_access(compound_id, user_id, entry_compound_id)
    require(access, "see_disclosures")
    return access


def current_ids(compound_id: int) -> dict[DisclosureKind, int]:
    """The posting that stands on the board for each kind: the newest of the latest period."""
    rows = db.session.execute(
        select(Disclosure.id, Disclosure.kind, Disclosure.period, Disclosure.posted_at)
        .where(Disclosure.compound_id == compound_id)
    ).all()
    best: dict[DisclosureKind, tuple] = {}
    for row in rows:
        key = (rules.period_order(row.period), row.posted_at, row.id)
        if row.kind not in best or key > best[row.kind][0]:
            best[row.kind] = (key, row.id)
    return {kind: found[1] for kind, found in best.items()}


def by_ids(ids: Sequence[int]) -> dict[int, Disclosure]:
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(Disclosure).where(Disclosure.id.in_(list(ids))))}


def history_page(compound_id: int, kind: DisclosureKind | None, page: int, page_size: int) -> Page:
    """Every posting, kept: newest first."""
    query = select(Disclosure).where(Disclosure.compound_id == compound_id)
    if kind is not None:
        query = query.where(Disclosure.kind == kind)
    rows = paginate(query.order_by(Disclosure.posted_at.desc(), Disclosure.id.desc()), page, page_size)
    return Page(items=[row[0] for row in rows.items], total=rows.total, page=page, page_size=page_size)


def superseded_ids(disclosures: Sequence[Disclosure]) -> set[int]:
    """Those a later posting of the same kind and period replaced (a correction): one statement."""
    if not disclosures:
        return set()
    rows = db.session.execute(
        select(Disclosure.id, Disclosure.kind, Disclosure.period, Disclosure.posted_at)
        .where(Disclosure.compound_id == disclosures[0].compound_id,
               Disclosure.kind.in_({row.kind for row in disclosures}))
    ).all()
    newest: dict[tuple, tuple] = {}
    for row in rows:
        key = (row.kind, row.period)
        newest[key] = max(newest.get(key, (row.posted_at, row.id)), (row.posted_at, row.id))
    return {row.id for row in disclosures if newest[(row.kind, row.period)] != (row.posted_at, row.id)}


def poster_names(user_ids: Sequence[int | None]) -> dict[int, str]:
    ids = sorted({user_id for user_id in user_ids if user_id is not None})
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


@dataclass(frozen=True)
class Due:
    quarter: Quarter
    due_on: date
    posted: bool
    overdue: bool


def public_income_due(compound_id: int) -> Due | None:
    """The quarter's statement owed now, when the compound keeps a journal (has an account) for that quarter."""
    quarter = rules.quarter_due(today())
    if not _keeps_journal_in(compound_id, quarter):
        return None
    posted = bool(db.session.scalar(select(exists().where(
        Disclosure.compound_id == compound_id, Disclosure.kind == DisclosureKind.PUBLIC_INCOME,
        Disclosure.period == str(quarter)))))
    return Due(quarter=quarter, due_on=rules.due_on(quarter), posted=posted,
               overdue=rules.is_overdue(quarter, today(), posted))


def _keeps_journal_in(compound_id: int, quarter: Quarter) -> bool:
    return bool(db.session.scalar(select(exists().where(
        FundAccount.compound_id == compound_id, FundAccount.opened_on <= quarter.last_day))))


@dataclass(frozen=True)
class DisclosureFile:
    data: bytes
    content_type: str
    filename: str


def file_of(disclosure_id: int, user_id: int | None, entry_compound_id: int | None = None) -> DisclosureFile:
    """The file of a posting the person may read; NOT_FOUND when it has none or its file is gone."""
    disclosure, _ = seen_by(disclosure_id, user_id, entry_compound_id)
    if disclosure.file_key is None:
        raise _hidden()
    try:
        data = load_photo(disclosure.file_key)
    except LookupError:
        raise _hidden() from None
    extension = "pdf" if disclosure.file_type == PDF else "jpg"
    return DisclosureFile(data, disclosure.file_type or JPEG, f"disclosure-{disclosure.id}.{extension}")


# ---- the overdue sweep ------------------------------------------------------------------------------------------


def street_officials(compound_id: int) -> list[int]:
    """The officials of the street (街道) the compound is under."""
    path = db.session.scalar(select(Area.path).join(Compound, Compound.area_id == Area.id)
                             .where(Compound.id == compound_id)) or ""
    return list(db.session.scalars(
        select(Membership.user_id).distinct().join(Area, Area.id == Membership.area_id).where(
            Membership.role == Role.OFFICIAL, Area.level == AreaLevel.STREET,
            Area.id.in_(ancestor_area_ids(path) or [0]))
        .order_by(Membership.user_id)
    ))


def overdue_compounds(on: date) -> list[int]:
    """Compounds keeping a journal in the quarter owed whose statement is late and whose street was not told yet."""
    quarter = rules.quarter_due(on)
    if not rules.is_overdue(quarter, on, posted=False):
        return []
    posted = exists().where(Disclosure.compound_id == Compound.id, Disclosure.kind == DisclosureKind.PUBLIC_INCOME,
                            Disclosure.period == str(quarter))
    keeps = exists().where(FundAccount.compound_id == Compound.id, FundAccount.opened_on <= quarter.last_day)
    candidates = list(db.session.scalars(select(Compound.id).where(keeps, ~posted).order_by(Compound.id)))
    keys = {rules.overdue_dedupe_key(compound_id, quarter): compound_id for compound_id in candidates}
    told = set(db.session.scalars(select(Notice.dedupe_key).where(Notice.dedupe_key.in_(list(keys))))) if keys \
        else set()
    return [compound_id for key, compound_id in keys.items() if key not in told]


def tell_street(compound_id: int, on: date) -> bool:
    """Tell the street's officials the compound's statement is late; once per compound and quarter however often
    (and however many at once) the sweep runs: the compound's row is locked, and the notice of that key looked for
    under the lock. Whether this run told them."""
    quarter = rules.quarter_due(on)
    key = rules.overdue_dedupe_key(compound_id, quarter)
    compound = db.session.scalar(select(Compound).where(Compound.id == compound_id).with_for_update()
                                 .execution_options(populate_existing=True))
    if db.session.scalar(select(exists().where(Notice.dedupe_key == key))):
        db.session.rollback()
        return False
    people = street_officials(compound_id)
    notify(people, DISCLOSURE_OVERDUE, f"公示逾期：{compound.name}{quarter.label}公共收益",
           f"应于{rules.due_on(quarter).isoformat()}前公示{quarter.label}公共收益收支情况，至今未公示，请督促。",
           link=f"/h5/compounds/{compound_id}/disclosures", dedupe_key=key)
    record_audit(actor_id=None, action="disclosure.overdue", target_type="compound", target_id=compound_id,
                 compound_id=compound_id, after={"quarter": str(quarter), "told": len(people)})
    db.session.commit()
    return True


def sweep_overdue(on: date | None = None) -> int:
    """Tell each street of every compound whose statement is late, each compound committing on its own; returns
    how many compounds this run told about."""
    on = on or today()
    due = overdue_compounds(on)
    db.session.rollback()
    told = 0
    for compound_id in due:
        told += tell_street(compound_id, on)
        push_committed_jobs()
    return told
