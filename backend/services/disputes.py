"""Dispute mediation (矛盾纠纷调解): opening a case in a compound with its parties and mediator, recording steps and
the outcome (once), the signed agreement (a photo or a checked PDF), who stands where to a case, the lists
(a compound's, an area's, one's own), telling the resident parties, and the counts other features read."""
from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import exists, func, or_, select, update

from backend.domain import disputes as rules
from backend.domain.compounds import household_label
from backend.domain.disputes import (
    OPEN_DISPUTE_STATUSES,
    OUTCOME_LABELS,
    OUTCOME_STATUS,
    CaseRole,
    DisputeAction,
    DisputeKind,
    DisputeRefused,
    DisputeStatus,
    LinkKind,
    Outcome,
    PartyKind,
)
from backend.domain.notifications import DISPUTE_UPDATE
from backend.domain.refusals import Kind
from backend.domain.roles import Action, Role, allows
from backend.extensions import db
from backend.models import (
    Area,
    Building,
    Compound,
    DisputeCase,
    DisputeParty,
    DisputeStep,
    Household,
    Membership,
    Rectification,
    Topic,
    User,
    WorkOrder,
)
from backend.policy import ancestor_area_ids, authorize, authorize_area, roles_in_compound
from backend.services.audit import record_audit
from backend.services.documents import JPEG, PDF, PreparedDocument, prepare_document, store_document
from backend.services.notifications import notify
from backend.services.photos import (
    delete_photos,
    kept_only_on_commit,
    load_photo,
)
from backend.shared.clock import SHANGHAI, beijing_date, utcnow
from backend.shared.pagination import Page, paginate

NOT_FOUND = "调解案件不存在"
CHOOSE_MEDIATOR = "请选择社区或街道的调解员"
_HOUSEHOLD_ROLES = (Role.OWNER, Role.RESIDENT)
_LINKED = {LinkKind.WORK_ORDER: (WorkOrder, "work_order_id"), LinkKind.TOPIC: (Topic, "topic_id"),
           LinkKind.RECTIFICATION: (Rectification, "rectification_id")}


@dataclass(frozen=True)
class PartyInput:
    kind: PartyKind
    name: str = ""
    user_id: int | None = None
    household_id: int | None = None


@dataclass(frozen=True)
class CaseDraft:
    title: str
    kind: DisputeKind
    parties: Sequence[PartyInput]
    summary: str = ""
    mediator_id: int | None = None
    link_kind: LinkKind | None = None
    link_id: int | None = None


@dataclass(frozen=True)
class Standing:
    """How this person stands to the case (rules.case_role) and what they may do with it now."""

    role: CaseRole
    actions: frozenset[DisputeAction]


def today() -> date:
    return beijing_date(utcnow())


def _hidden() -> DisputeRefused:
    return DisputeRefused(NOT_FOUND, Kind.NOT_FOUND)


# ---- standing ---------------------------------------------------------------------------------------------------


def _memberships(user_id: int):
    return db.session.execute(select(Membership.role, Membership.area_id, Membership.household_id,
                                     Membership.verified_at).where(Membership.user_id == user_id)).all()


def _official_areas(memberships) -> set[int]:
    return {row.area_id for row in memberships if row.role == Role.OFFICIAL and row.area_id is not None}


def _own_households(memberships) -> set[int]:
    return {row.household_id for row in memberships
            if row.role in _HOUSEHOLD_ROLES and row.household_id is not None and row.verified_at is not None}


def own_households(user_id: int | None) -> set[int]:
    """The households where this person is a verified owner or resident."""
    return _own_households(_memberships(user_id)) if user_id is not None else set()


def _area_path(area_id: int | None) -> str:
    return db.session.scalar(select(Area.path).where(Area.id == area_id)) or "" if area_id is not None else ""


def _compound_path(compound_id: int) -> str:
    return db.session.scalar(select(Area.path).join(Compound, Compound.area_id == Area.id)
                             .where(Compound.id == compound_id)) or ""


def standing(case: DisputeCase, user_id: int | None) -> Standing:
    if user_id is None:
        return Standing(CaseRole.NONE, frozenset())
    memberships = _memberships(user_id)
    admin = any(row.role == Role.ADMIN for row in memberships)
    officials = _official_areas(memberships)
    over = bool(officials & set(ancestor_area_ids(_compound_path(case.compound_id))))
    # Strictly above the mediator's community or street: the street over a community, the district, the city.
    above_ids = set(ancestor_area_ids(_area_path(case.mediator_area_id))) - {case.mediator_area_id}
    households = _own_households(memberships)
    party = db.session.scalar(select(exists().where(
        DisputeParty.case_id == case.id,
        or_(DisputeParty.user_id == user_id, DisputeParty.household_id.in_(households or {0})))))
    role = rules.case_role(is_mediator=over and case.mediator_id == user_id,
                           above_mediator=admin or (over and bool(officials & above_ids)),
                           official_over=over, party=bool(party))
    return Standing(role, rules.allowed_actions(role, case.status))


def seen_by(case_id: int, user_id: int | None) -> tuple[DisputeCase, Standing]:
    """The case and this person's standing; NOT_FOUND for anyone who is neither an official over it nor a party."""
    case = db.session.get(DisputeCase, case_id)
    if case is None:
        raise _hidden()
    found = standing(case, user_id)
    if found.role is CaseRole.NONE:
        raise _hidden()
    return case, found


def _for_change(case_id: int, user_id: int, action: DisputeAction) -> DisputeCase:
    """The case locked for a change by someone whose standing allows `action` in its state now."""
    # Standing is read from the locked row: a mediator replaced a moment ago is no longer this case's mediator.
    case = db.session.scalar(select(DisputeCase).where(DisputeCase.id == case_id).with_for_update()
                             .execution_options(populate_existing=True))
    if case is None:
        raise _hidden()
    found = standing(case, user_id)
    if found.role is CaseRole.NONE:
        raise _hidden()
    rules.check_allowed(found.role, case.status, action)
    return case


# ---- mediators ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mediator:
    user_id: int
    name: str
    area_id: int
    area_name: str


def mediator_candidates(compound_id: int) -> list[Mediator]:
    """Officials of the compound's community and street, the community's first (one line per person and area)."""
    path = ancestor_area_ids(_compound_path(compound_id))
    rows = db.session.execute(
        select(User.id, User.display_name, Area.id, Area.name, Area.level)
        .join(Membership, Membership.user_id == User.id).join(Area, Area.id == Membership.area_id)
        .where(Membership.role == Role.OFFICIAL, Area.id.in_(path or [0]), User.is_active)
    ).all()
    found = [Mediator(user_id, name or "工作人员", area_id, area_name)
             for user_id, name, area_id, area_name, level in rows if rules.may_mediate(str(level))]
    return sorted(found, key=lambda item: (-path.index(item.area_id), item.user_id))


def _mediator_area(compound_id: int, mediator_id: int | None) -> int:
    """The community or street over the compound where this person is an official (the nearest)."""
    for candidate in mediator_candidates(compound_id):
        if candidate.user_id == mediator_id:
            return candidate.area_id
    raise DisputeRefused(CHOOSE_MEDIATOR, errors={"mediator_id": [CHOOSE_MEDIATOR]})


# ---- opening a case ---------------------------------------------------------------------------------------------


def _check_link(compound_id: int, link_kind: LinkKind | None, link_id: int | None) -> dict:
    """The column and id of where it arose: a row of this compound, or refused (another compound's is not found)."""
    if link_kind is None and link_id is None:
        return {}
    if link_kind is None or link_id is None:
        raise DisputeRefused("请同时选择关联类型和编号", errors={"link_id": ["请同时选择关联类型和编号"]})
    model, column = _LINKED[link_kind]
    found = db.session.scalar(select(model.compound_id).where(model.id == link_id))
    if found != compound_id:
        message = f"本小区没有这个{rules.LINK_KIND_LABELS[link_kind]}"
        raise DisputeRefused(message, errors={"link_id": [message]})
    return {column: link_id}


def _check_party_people(compound_id: int, parties: Sequence[PartyInput]) -> None:
    """A household named must be of this compound; an account named must live here (a verified household)."""
    for index, party in enumerate(parties):
        if party.household_id is not None and db.session.scalar(
                select(Household.compound_id).where(Household.id == party.household_id)) != compound_id:
            message = "本小区没有这一户"
        elif party.user_id is not None and not db.session.scalar(select(exists().where(
                Membership.user_id == party.user_id, Membership.compound_id == compound_id,
                Membership.role.in_(_HOUSEHOLD_ROLES), Membership.verified_at.is_not(None)))):
            message = "此人不是本小区已认证的住户"
        else:
            continue
        raise DisputeRefused(message, errors={f"parties.{index}": [message]})


def open_case(compound_id: int, user_id: int, draft: CaseDraft, ip: str | None = None) -> DisputeCase:
    """An official over the compound opens a case; the mediator is the one named, else the opener (who must then
    be of the compound's community or street)."""
    authorize(Action.OPEN_DISPUTES, compound_id, user_id)
    rules.check_parties([(party.kind, party.name, party.user_id is not None or party.household_id is not None)
                         for party in draft.parties])
    _check_party_people(compound_id, draft.parties)
    link = _check_link(compound_id, draft.link_kind, draft.link_id)
    mediator_id = draft.mediator_id or user_id
    mediator_area_id = _mediator_area(compound_id, mediator_id)
    case = DisputeCase(compound_id=compound_id, kind=draft.kind, status=DisputeStatus.OPEN, opened_at=utcnow(),
                       title=draft.title, summary=draft.summary, opened_by_id=user_id, mediator_id=mediator_id,
                       mediator_area_id=mediator_area_id, **link)
    db.session.add(case)
    db.session.flush()
    db.session.add_all([DisputeParty(case_id=case.id, kind=party.kind, name=party.name, user_id=party.user_id,
                                     household_id=party.household_id) for party in draft.parties])
    record_audit(actor_id=user_id, action="dispute.open", target_type="dispute_case", target_id=case.id,
                 compound_id=compound_id, ip=ip,
                 after={"title": draft.title, "kind": draft.kind.value, "mediator_id": mediator_id,
                        "parties": len(draft.parties)} | link)
    db.session.commit()
    return case


# ---- steps, outcome, mediator -----------------------------------------------------------------------------------


def party_people(case_id: int) -> list[int]:
    """The resident parties: accounts named, and the verified people of households named, each once."""
    named = select(DisputeParty.user_id).where(DisputeParty.case_id == case_id, DisputeParty.user_id.is_not(None))
    of_households = (
        select(Membership.user_id)
        .join(DisputeParty, DisputeParty.household_id == Membership.household_id)
        .where(DisputeParty.case_id == case_id, Membership.role.in_(_HOUSEHOLD_ROLES),
               Membership.verified_at.is_not(None))
    )
    return sorted(set(db.session.scalars(named)) | set(db.session.scalars(of_households)))


def _tell_parties(case: DisputeCase, title: str, body: str, key: str) -> None:
    people = party_people(case.id)
    if people:
        notify(people, DISPUTE_UPDATE, title, body, link=f"/h5/disputes/{case.id}", dedupe_key=key)


def add_step(case_id: int, user_id: int, happened_on: date, note: str, ip: str | None = None) -> DisputeStep:
    """The mediator records what happened; refused (409) once the case has an outcome. The parties are told."""
    rules.check_step_date(happened_on, today())
    case = _for_change(case_id, user_id, DisputeAction.ADD_STEP)
    step = DisputeStep(case_id=case.id, happened_on=happened_on, note=note, author_id=user_id, created_at=utcnow())
    db.session.add(step)
    db.session.flush()
    record_audit(actor_id=user_id, action="dispute.step", target_type="dispute_case", target_id=case.id,
                 compound_id=case.compound_id, after={"step_id": step.id, "happened_on": happened_on.isoformat()},
                 ip=ip)
    _tell_parties(case, f"调解进展：{case.title}", note[:100], rules.step_dedupe_key(case.id, step.id))
    db.session.commit()
    return step


def _put_agreement(case: DisputeCase, agreement: PreparedDocument, stored: list[str]) -> str | None:
    """Keep the new file on the case; the key of the one it replaces, to delete once the rows are committed."""
    old = case.agreement_key
    case.agreement_key = store_document(agreement, "disputes", stored)
    case.agreement_type = agreement.content_type
    case.agreement_uploaded_at = utcnow()
    return old


def record_outcome(case_id: int, user_id: int, outcome: Outcome, referred_to: str = "", note: str = "",
                   upload: typing.BinaryIO | None = None, ip: str | None = None) -> DisputeCase:
    """Close the case once: settled (with the signed agreement's upload, if any), or referred to someone. The
    database decides who was first (the update only changes an open case), so two people recording at once leave
    one outcome and the other a 409."""
    rules.check_outcome(outcome, referred_to)
    if upload is not None and outcome is not Outcome.SETTLED:
        raise DisputeRefused("只有调解成功的案件附调解协议", errors={"agreement": ["只有调解成功的案件附调解协议"]})
    case = _for_change(case_id, user_id, DisputeAction.RECORD_OUTCOME)
    # Only those who may record it get their file read: a stranger learns nothing from a refused upload.
    agreement = prepare_document(upload) if upload is not None else None
    now = utcnow()
    changed = db.session.execute(
        update(DisputeCase).where(DisputeCase.id == case.id, DisputeCase.status.in_(OPEN_DISPUTE_STATUSES))
        .values(status=OUTCOME_STATUS[outcome], closed_at=now, referred_to=referred_to, outcome_note=note,
                outcome_by_id=user_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        raise DisputeRefused(rules.ALREADY_DECIDED, Kind.CONFLICT)
    db.session.refresh(case)
    replaced = None
    with kept_only_on_commit() as stored:
        if agreement is not None:
            replaced = _put_agreement(case, agreement, stored)
        record_audit(actor_id=user_id, action="dispute.outcome", target_type="dispute_case", target_id=case.id,
                     compound_id=case.compound_id, ip=ip,
                     after={"outcome": outcome.value, "referred_to": referred_to, "agreement": agreement is not None})
        label = OUTCOME_LABELS[outcome] + (f"（移交{referred_to}）" if referred_to else "")
        _tell_parties(case, f"调解结果：{case.title}", label, rules.outcome_dedupe_key(case.id))
        db.session.commit()
    if replaced:
        delete_photos([replaced])
    return case


def attach_agreement(case_id: int, user_id: int, upload: typing.BinaryIO, ip: str | None = None) -> DisputeCase:
    """Attach (or replace) the signed agreement while the case is open or after it settled."""
    case = _for_change(case_id, user_id, DisputeAction.ATTACH_AGREEMENT)
    agreement = prepare_document(upload)
    with kept_only_on_commit() as stored:
        replaced = _put_agreement(case, agreement, stored)
        record_audit(actor_id=user_id, action="dispute.agreement", target_type="dispute_case", target_id=case.id,
                     compound_id=case.compound_id, ip=ip, after={"type": agreement.content_type,
                                                                  "bytes": len(agreement.data)})
        db.session.commit()
    if replaced:
        delete_photos([replaced])
    return case


def change_mediator(case_id: int, user_id: int, mediator_id: int, ip: str | None = None) -> DisputeCase:
    """An official above the mediator's community or street hands the open case to another mediator."""
    case = _for_change(case_id, user_id, DisputeAction.CHANGE_MEDIATOR)
    before = {"mediator_id": case.mediator_id}
    case.mediator_area_id = _mediator_area(case.compound_id, mediator_id)
    case.mediator_id = mediator_id
    record_audit(actor_id=user_id, action="dispute.mediator", target_type="dispute_case", target_id=case.id,
                 compound_id=case.compound_id, before=before, after={"mediator_id": mediator_id}, ip=ip)
    db.session.commit()
    return case


# ---- the agreement file -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementFile:
    data: bytes
    content_type: str
    filename: str


def agreement_file(case_id: int, user_id: int | None) -> AgreementFile:
    """The agreement of a case the person may read; NOT_FOUND when there is none or its file is gone."""
    case, _ = seen_by(case_id, user_id)
    if case.agreement_key is None:
        raise _hidden()
    try:
        data = load_photo(case.agreement_key)
    except LookupError:
        raise _hidden() from None
    extension = "pdf" if case.agreement_type == PDF else "jpg"
    return AgreementFile(data, case.agreement_type or JPEG, f"dispute-{case.id}-agreement.{extension}")


# ---- lists ------------------------------------------------------------------------------------------------------


def _listed(query, status: DisputeStatus | None, page: int, page_size: int) -> Page:
    if status is not None:
        query = query.where(DisputeCase.status == status)
    rows = paginate(query.order_by(DisputeCase.opened_at.desc(), DisputeCase.id.desc()), page, page_size)
    return Page(items=[row[0] for row in rows.items], total=rows.total, page=page, page_size=page_size)


def _party_filter(user_id: int):
    households = _own_households(_memberships(user_id))
    return DisputeCase.id.in_(select(DisputeParty.case_id).where(
        or_(DisputeParty.user_id == user_id, DisputeParty.household_id.in_(households or {0}))))


def compound_page(compound_id: int, user_id: int | None, status: DisputeStatus | None, page: int,
                  page_size: int) -> tuple[Page, bool]:
    """Officials over the compound see its every case; its residents only those they are a party to; others of the
    compound (staff, the committee as such) 403, strangers 404. Also: whether this person may open a case here."""
    roles = roles_in_compound(user_id, compound_id)
    if not roles:
        raise _hidden()
    query = select(DisputeCase).where(DisputeCase.compound_id == compound_id)
    if not allows(roles, Action.VIEW_DISPUTES):
        if not roles & set(_HOUSEHOLD_ROLES):
            raise DisputeRefused("没有权限查看调解案件", Kind.FORBIDDEN)
        query = query.where(_party_filter(user_id))
    return _listed(query, status, page, page_size), allows(roles, Action.OPEN_DISPUTES)


def area_page(area_id: int, user_id: int | None, status: DisputeStatus | None, page: int, page_size: int) -> Page:
    area = authorize_area(Action.VIEW_DISPUTES, area_id, user_id)
    query = (select(DisputeCase).join(Compound, Compound.id == DisputeCase.compound_id)
             .join(Area, Area.id == Compound.area_id).where(Area.path.startswith(area.path)))
    return _listed(query, status, page, page_size)


def my_page(user_id: int, page: int, page_size: int) -> Page:
    """The cases this person is a party to, anywhere (我的调解)."""
    return _listed(select(DisputeCase).where(_party_filter(user_id)), None, page, page_size)


def parties_of(case_ids: Sequence[int]) -> dict[int, list[DisputeParty]]:
    found: dict[int, list[DisputeParty]] = {case_id: [] for case_id in case_ids}
    if case_ids:
        for party in db.session.scalars(select(DisputeParty).where(DisputeParty.case_id.in_(case_ids))
                                        .order_by(DisputeParty.id)):
            found[party.case_id].append(party)
    return found


def steps_of(case_id: int) -> list[DisputeStep]:
    return list(db.session.scalars(select(DisputeStep).where(DisputeStep.case_id == case_id)
                                   .order_by(DisputeStep.happened_on, DisputeStep.id)))


def user_names(user_ids: Sequence[int]) -> dict[int, tuple[str, str | None]]:
    """Each account's name and masked phone."""
    ids = sorted({user_id for user_id in user_ids if user_id is not None})
    if not ids:
        return {}
    return {row.id: (row.display_name, row.phone_masked) for row in db.session.execute(
        select(User.id, User.display_name, User.phone_masked).where(User.id.in_(ids)))}


def household_labels(household_ids: Sequence[int]) -> dict[int, str]:
    ids = sorted({household_id for household_id in household_ids if household_id is not None})
    if not ids:
        return {}
    return {row.id: household_label(row.name, row.unit, row.room) for row in db.session.execute(
        select(Household.id, Building.name, Household.unit, Household.room)
        .join(Building, Building.id == Household.building_id).where(Household.id.in_(ids)))}


def households_with_people(compound_id: int) -> list[tuple[int, str]]:
    """The compound's households with verified people: the ones a resident party can be named by."""
    ids = list(db.session.scalars(select(Membership.household_id).distinct().where(
        Membership.compound_id == compound_id, Membership.role.in_(_HOUSEHOLD_ROLES),
        Membership.verified_at.is_not(None), Membership.household_id.is_not(None))))
    labels = household_labels(ids)
    return sorted(labels.items(), key=lambda item: item[1])


def area_name(area_id: int | None) -> str:
    return db.session.scalar(select(Area.name).where(Area.id == area_id)) or "" if area_id is not None else ""


def compound_code(compound_id: int) -> str:
    return db.session.scalar(select(Compound.code).where(Compound.id == compound_id)) or ""


def compound_names(compound_ids: Sequence[int]) -> dict[int, str]:
    ids = sorted(set(compound_ids))
    if not ids:
        return {}
    return dict(db.session.execute(select(Compound.id, Compound.name).where(Compound.id.in_(ids))).all())


def link_title(case: DisputeCase) -> tuple[LinkKind, int, str] | None:
    """Where it arose and a few words of it."""
    if case.work_order_id is not None:
        text = db.session.scalar(select(WorkOrder.description).where(WorkOrder.id == case.work_order_id)) or ""
        return LinkKind.WORK_ORDER, case.work_order_id, text[:30]
    if case.topic_id is not None:
        return LinkKind.TOPIC, case.topic_id, db.session.scalar(select(Topic.title).where(Topic.id == case.topic_id))
    if case.rectification_id is not None:
        return LinkKind.RECTIFICATION, case.rectification_id, f"整改事项 #{case.rectification_id}"
    return None


# ---- what others read: the dashboard, the flags, the reports ---------------------------------------------------


def open_counts(compound_ids: Sequence[int]) -> dict[int, int]:
    """Open cases per compound (every compound asked for, 0 when none): one statement."""
    counts = dict(db.session.execute(
        select(DisputeCase.compound_id, func.count()).where(
            DisputeCase.compound_id.in_(list(compound_ids) or [0]),
            DisputeCase.status.in_(OPEN_DISPUTE_STATUSES)).group_by(DisputeCase.compound_id)
    ).all()) if compound_ids else {}
    return {compound_id: counts.get(compound_id, 0) for compound_id in compound_ids}


@dataclass(frozen=True)
class PeriodCounts:
    opened: int
    settled: int
    referred: int


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC)


def period_counts(area_id: int, first_day: date, last_day: date) -> PeriodCounts:
    """Cases of the area's compounds opened, settled and referred from `first_day` to `last_day` (Beijing days,
    both included): the reports' 纠纷 figures (三升一降: disputes down)."""
    start, end = _start_of(first_day), _start_of(date.fromordinal(last_day.toordinal() + 1))
    path = _area_path(area_id)
    if not path:
        return PeriodCounts(opened=0, settled=0, referred=0)
    below = Area.path.startswith(path)
    base = select(func.count()).select_from(DisputeCase).join(Compound, Compound.id == DisputeCase.compound_id).join(
        Area, Area.id == Compound.area_id).where(below)
    opened = db.session.scalar(base.where(DisputeCase.opened_at >= start, DisputeCase.opened_at < end)) or 0
    closed = dict(db.session.execute(
        select(DisputeCase.status, func.count()).join(Compound, Compound.id == DisputeCase.compound_id)
        .join(Area, Area.id == Compound.area_id)
        .where(below, DisputeCase.closed_at >= start, DisputeCase.closed_at < end).group_by(DisputeCase.status)
    ).all())
    return PeriodCounts(opened=opened, settled=closed.get(DisputeStatus.SETTLED, 0),
                        referred=closed.get(DisputeStatus.REFERRED, 0))
