"""Supervision inspections and rectification (整改台账, 限期销号): the area's checklist, recording an inspection whose
findings become items with a party, a deadline and an urgency; the party's answer, the inspector's 销号 or return;
the compound's and the area's lists (overdue first); the overdue sweep (each escalation step once, by the
database); and the figures the flags and reports read."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import and_, case, exists, func, select

from backend.domain import rectifications as rules
from backend.domain.compounds import AreaLevel
from backend.domain.notifications import (
    RECTIFICATION_ANSWERED,
    RECTIFICATION_DECIDED,
    RECTIFICATION_NEW,
    RECTIFICATION_OVERDUE,
    Urgency,
    quoted,
)
from backend.domain.rectifications import (
    RESPONSIBLE_PARTY_LABELS,
    UNFINISHED_RECTIFICATION_STATUSES,
    EscalationStep,
    RectificationAction,
    RectificationRefused,
    RectificationStatus,
    RectificationUrgency,
    ResponsibleParty,
)
from backend.domain.refusals import Kind
from backend.domain.roles import Action, Role
from backend.extensions import db, dialect_insert
from backend.models import (
    Area,
    Compound,
    Inspection,
    InspectionChecklist,
    InspectionItem,
    Membership,
    Rectification,
    RectificationEscalation,
    RectificationEvent,
    RectificationPhoto,
    User,
)
from backend.policy import ancestor_area_ids, authorize, authorize_area
from backend.services.audit import record_audit
from backend.services.notifications import notify
from backend.services.photos import KeptPhoto, PreparedPhoto, kept_only_on_commit, store_photo
from backend.shared.clock import SHANGHAI, beijing_date, utcnow
from backend.shared.pagination import Page, paginate

NOT_FOUND = "整改事项不存在"
INSPECTION_NOT_FOUND = "检查记录不存在"
# The sweep works through this many items per batch, committing each item on its own.
SWEEP_BATCH = 500


@dataclass(frozen=True)
class FindingInput:
    item: str
    finding: str
    responsible_party: ResponsibleParty
    deadline: date
    urgency: RectificationUrgency = RectificationUrgency.NORMAL
    photos: Sequence[PreparedPhoto] = field(default=())


@dataclass(frozen=True)
class Viewer:
    """Who looks at an item: their roles in its compound, whether they answer for its party, whether they are its
    inspector; `actions` is the domain's answer for them."""

    user_id: int
    roles: frozenset[Role]
    party: bool
    inspector: bool
    actions: frozenset[RectificationAction]


def today() -> date:
    return beijing_date(utcnow())


def _hidden(message: str = NOT_FOUND) -> RectificationRefused:
    return RectificationRefused(message, Kind.NOT_FOUND)


# ---- the area tree ---------------------------------------------------------------------------------------------


def _path_of_compound(compound_id: int) -> list[int]:
    path = db.session.scalar(select(Area.path).join(Compound, Compound.area_id == Area.id).where(
        Compound.id == compound_id))
    return ancestor_area_ids(path or "")


def _official_levels_over(user_id: int, area_ids: Sequence[int]) -> set[AreaLevel]:
    """The levels of these areas (a path) where the person is an official."""
    return set(db.session.scalars(
        select(Area.level).join(Membership, Membership.area_id == Area.id).where(
            Membership.user_id == user_id, Membership.role == Role.OFFICIAL, Area.id.in_(area_ids))
    ))


def _official_levels(user_id: int, compound_id: int) -> set[AreaLevel]:
    """The levels of the areas above the compound where the person is an official."""
    return _official_levels_over(user_id, _path_of_compound(compound_id))


def _officials_at(compound_id: int, level: AreaLevel) -> list[int]:
    """The officials of the compound's area of this level (its community, its street, its district)."""
    return list(db.session.scalars(
        select(Membership.user_id).distinct().join(Area, Area.id == Membership.area_id).where(
            Membership.role == Role.OFFICIAL, Area.level == level, Area.id.in_(_path_of_compound(compound_id)))
        .order_by(Membership.user_id)
    ))


def party_people(compound_id: int, party: ResponsibleParty) -> list[int]:
    """Who answers for the party: the compound's manager and staff, its committee and party secretary, or the
    officials of its community."""
    if party is ResponsibleParty.COMMUNITY:
        return _officials_at(compound_id, AreaLevel.COMMUNITY)
    return list(db.session.scalars(
        select(Membership.user_id).distinct().where(
            Membership.compound_id == compound_id, Membership.role.in_(rules.party_roles(party)))
        .order_by(Membership.user_id)
    ))


# ---- the checklist ---------------------------------------------------------------------------------------------


def _checklists(area_ids: Sequence[int]) -> dict[int, list[str]]:
    return dict(db.session.execute(
        select(InspectionChecklist.area_id, InspectionChecklist.items).where(InspectionChecklist.area_id.in_(area_ids))
    ).all())


def checklist_for_compound(compound_id: int) -> tuple[str, ...]:
    path = _path_of_compound(compound_id)
    return rules.nearest_checklist(list(reversed(path)), _checklists(path))


@dataclass(frozen=True)
class AreaChecklist:
    area: Area
    items: tuple[str, ...]
    # The area whose checklist applies here (this one, or the nearest above with one); None: the default.
    source: Area | None


def area_checklist(area_id: int, user_id: int | None) -> AreaChecklist:
    """The checklist in force for the area, to officials of it (or above) and admins."""
    area = authorize_area(Action.INSPECT_COMPOUNDS, area_id, user_id)
    path = ancestor_area_ids(area.path)
    found = _checklists(path)
    source_id = next((each for each in reversed(path) if each in found), None)
    return AreaChecklist(area=area, items=rules.nearest_checklist(list(reversed(path)), found),
                         source=db.session.get(Area, source_id) if source_id is not None else None)


def may_set_checklist(area: Area, user_id: int | None) -> bool:
    """Those who inspect (an official of a street, district or city over the area, an admin) set its checklist."""
    if user_id is None:
        return False
    admin = db.session.scalar(select(exists().where(Membership.user_id == user_id, Membership.role == Role.ADMIN)))
    return rules.may_inspect(_official_levels_over(user_id, ancestor_area_ids(area.path)), admin=bool(admin))


def set_area_checklist(area_id: int, user_id: int | None, items: Sequence[str], ip: str | None = None) -> AreaChecklist:
    """An official of the area (or above) sets its checklist; compounds below without a nearer one follow it."""
    area = authorize_area(Action.INSPECT_COMPOUNDS, area_id, user_id)
    if not may_set_checklist(area, user_id):
        raise RectificationRefused(rules.CHECKLIST_BY_INSPECTORS_ONLY, Kind.FORBIDDEN)
    kept = list(rules.normalised_checklist(items))
    db.session.execute(
        dialect_insert(InspectionChecklist)
        .values(area_id=area.id, items=kept, updated_by_id=user_id, updated_at=utcnow())
        .on_conflict_do_update(index_elements=["area_id"],
                               set_={"items": kept, "updated_by_id": user_id, "updated_at": utcnow()})
    )
    record_audit(actor_id=user_id, action="inspection.checklist", target_type="area", target_id=area.id,
                 compound_id=None, after={"items": kept}, ip=ip)
    db.session.commit()
    return area_checklist(area_id, user_id)


# ---- recording an inspection ---------------------------------------------------------------------------------


def inspection_form(compound_id: int, user_id: int | None) -> tuple[str, ...]:
    """The checklist for those who may record an inspection here: 404 for strangers, 403 for others."""
    _check_inspector(compound_id, user_id)
    return checklist_for_compound(compound_id)


def _check_inspector(compound_id: int, user_id: int | None) -> None:
    access = authorize(Action.INSPECT_COMPOUNDS, compound_id, user_id)
    if not rules.may_inspect(_official_levels(user_id, compound_id), admin=Role.ADMIN in access.roles):
        raise RectificationRefused(rules.INSPECTORS_ONLY, Kind.FORBIDDEN)


def _add_photos(rectification_id: int, event_id: int, uploader_id: int, photos: Sequence[PreparedPhoto],
                stored: list[str]) -> None:
    for prepared in photos:
        key = store_photo(prepared)
        stored.append(key)
        db.session.add(RectificationPhoto(
            rectification_id=rectification_id, event_id=event_id, uploader_id=uploader_id, storage_key=key,
            width=prepared.width, height=prepared.height, size_bytes=len(prepared.data)))


def _event(rectification_id: int, actor_id: int | None, action: str, note: str = "") -> RectificationEvent:
    event = RectificationEvent(rectification_id=rectification_id, actor_id=actor_id, action=action, note=note,
                               created_at=utcnow())
    db.session.add(event)
    db.session.flush()
    return event


def _link(rectification_id: int) -> str:
    return f"/h5/rectifications/{rectification_id}"


def _brief(text: str, limit: int = 40) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def record_inspection(compound_id: int, user_id: int | None, inspected_on: date, note: str, checked: Sequence[str],
                      findings: Sequence[FindingInput], ip: str | None = None) -> Inspection:
    """A street's or the housing department's official over the compound records a supervision inspection: the
    checklist items looked at and the findings, each kept as a rectification item whose party is told."""
    _check_inspector(compound_id, user_id)
    checked = list(dict.fromkeys(checked))
    rules.check_inspection(inspected_on, today(), checked, checklist_for_compound(compound_id),
                           [each.item for each in findings], [each.deadline for each in findings])
    for each in findings:
        rules.check_photo_count(len(each.photos))
    compound = db.session.get(Compound, compound_id)
    with kept_only_on_commit() as stored:
        now = utcnow()
        inspection = Inspection(
            compound_id=compound_id, company_id=compound.property_company_id, inspector_id=user_id,
            inspected_on=inspected_on, note=note, points=None, max_points=None, created_at=now,
            items=[InspectionItem(position=index + 1, name=name, max_points=None, points=None,
                                  finding="；".join(_brief(each.finding, 60) for each in findings if each.item == name)[:300])
                   for index, name in enumerate(checked)],
        )
        db.session.add(inspection)
        db.session.flush()
        for each in findings:
            item = Rectification(
                compound_id=compound_id, inspection_id=inspection.id, inspector_id=user_id, item=each.item,
                finding=each.finding, responsible_party=each.responsible_party, deadline=each.deadline,
                urgency=each.urgency, status=RectificationStatus.OPEN, created_at=now, updated_at=now)
            db.session.add(item)
            db.session.flush()
            event = _event(item.id, user_id, "record", each.finding)
            _add_photos(item.id, event.id, user_id, each.photos, stored)
            notify(party_people(compound_id, each.responsible_party), RECTIFICATION_NEW,
                   f"整改通知：{compound.name}·{each.item}",
                   f"{_brief(each.finding)}，请于{each.deadline.isoformat()}前整改并回复",
                   link=_link(item.id),
                   urgency=Urgency.URGENT if each.urgency is RectificationUrgency.URGENT else Urgency.NORMAL,
                   dedupe_key=f"rectification-{item.id}-new")
        record_audit(actor_id=user_id, action="inspection.record", target_type="inspection", target_id=inspection.id,
                     compound_id=compound_id, ip=ip,
                     after={"inspected_on": inspected_on.isoformat(), "items": checked, "findings": len(findings)})
        db.session.commit()
    return inspection


def record_campaign_finding(compound_id: int, user_id: int | None, inspected_on: date, item: str, finding: str,
                            party: ResponsibleParty, deadline: date, photos: Sequence[KeptPhoto],
                            note: str) -> Rectification:
    """A finding of an environment campaign kept as a rectification item, in the caller's transaction (the caller
    commits): by those who record supervision inspections, as a one-finding inspection of its own whose photos
    are the finding's files under the same keys. The campaign's checklist, not the area's, names the item."""
    _check_inspector(compound_id, user_id)
    rules.check_inspection(inspected_on, today(), [item], [item], [item], [deadline])
    compound = db.session.get(Compound, compound_id)
    now = utcnow()
    inspection = Inspection(
        compound_id=compound_id, company_id=compound.property_company_id, inspector_id=user_id,
        inspected_on=inspected_on, note=note, points=None, max_points=None, created_at=now,
        items=[InspectionItem(position=1, name=item, max_points=None, points=None, finding=_brief(finding, 60))])
    db.session.add(inspection)
    db.session.flush()
    rectification = Rectification(
        compound_id=compound_id, inspection_id=inspection.id, inspector_id=user_id, item=item, finding=finding,
        responsible_party=party, deadline=deadline, urgency=RectificationUrgency.NORMAL,
        status=RectificationStatus.OPEN, created_at=now, updated_at=now)
    db.session.add(rectification)
    db.session.flush()
    event = _event(rectification.id, user_id, "record", finding)
    for photo in photos:
        db.session.add(RectificationPhoto(
            rectification_id=rectification.id, event_id=event.id, uploader_id=user_id,
            storage_key=photo.storage_key, width=photo.width, height=photo.height, size_bytes=photo.size_bytes))
    notify(party_people(compound_id, party), RECTIFICATION_NEW, f"整改通知：{compound.name}·{item}",
           f"{_brief(finding)}，请于{deadline.isoformat()}前整改并回复", link=_link(rectification.id),
           dedupe_key=f"rectification-{rectification.id}-new")
    return rectification


# ---- reading -------------------------------------------------------------------------------------------------


def _viewer(item: Rectification, user_id: int, roles: frozenset[Role], levels: set[AreaLevel] | None = None) -> Viewer:
    """`levels`: the person's official levels over the item's compound, when the caller has them already."""
    if levels is None and Role.OFFICIAL in roles and item.responsible_party is ResponsibleParty.COMMUNITY:
        levels = _official_levels(user_id, item.compound_id)
    community = item.responsible_party is ResponsibleParty.COMMUNITY and AreaLevel.COMMUNITY in (levels or set())
    party = rules.answers_for(item.responsible_party, roles, community)
    inspector = item.inspector_id == user_id
    return Viewer(user_id=user_id, roles=roles, party=party, inspector=inspector,
                  actions=rules.allowed_actions(item.status, party=party, inspector=inspector))


def seen_by(rectification_id: int, user_id: int | None) -> tuple[Rectification, Viewer]:
    """The item and how this person sees it: 404 for strangers to its compound, 403 for its residents."""
    item = db.session.get(Rectification, rectification_id)
    if item is None or user_id is None:
        raise _hidden()
    access = authorize(Action.VIEW_RECTIFICATIONS, item.compound_id, user_id)
    return item, _viewer(item, user_id, access.roles)


def viewers_of(items: Sequence[Rectification], user_id: int) -> dict[int, Viewer]:
    """How this person sees each item. An area's ledger spans many compounds: the person's memberships and the
    compounds' area paths are read once (two statements, however many compounds), and each compound's roles
    follow the policy's rule — a role in the compound, an admin's, or an official's over an area on its path."""
    compound_ids = {item.compound_id for item in items}
    if not compound_ids:
        return {}
    paths = dict(db.session.execute(
        select(Compound.id, Area.path).join(Area, Area.id == Compound.area_id).where(Compound.id.in_(compound_ids))
    ).all())
    held = db.session.execute(
        select(Membership.role, Membership.compound_id, Membership.area_id, Area.level)
        .outerjoin(Area, Area.id == Membership.area_id).where(Membership.user_id == user_id)
    ).all()
    roles: dict[int, frozenset[Role]] = {}
    levels: dict[int, set[AreaLevel]] = {}
    for compound_id in compound_ids:
        above = set(ancestor_area_ids(paths.get(compound_id, "")))
        mine = [m for m in held if m.compound_id == compound_id or m.role == Role.ADMIN or m.area_id in above]
        roles[compound_id] = frozenset(m.role for m in mine)
        levels[compound_id] = {m.level for m in mine if m.role == Role.OFFICIAL}
    return {item.id: _viewer(item, user_id, roles[item.compound_id], levels[item.compound_id]) for item in items}


def _overdue_first(on: date):
    unfinished = Rectification.status.in_(UNFINISHED_RECTIFICATION_STATUSES)
    return (case((and_(unfinished, Rectification.deadline < on), 0), (unfinished, 1), else_=2),
            Rectification.deadline, Rectification.id)


def _filtered(query, status: RectificationStatus | None, overdue: bool):
    if status is not None:
        query = query.where(Rectification.status == status)
    if overdue:
        query = query.where(Rectification.status.in_(UNFINISHED_RECTIFICATION_STATUSES),
                            Rectification.deadline < today())
    return query


def compound_page(compound_id: int, user_id: int | None, status: RectificationStatus | None, overdue: bool,
                  page: int, page_size: int) -> Page:
    """The compound's items, overdue first, then by deadline."""
    authorize(Action.VIEW_RECTIFICATIONS, compound_id, user_id)
    query = _filtered(select(Rectification).where(Rectification.compound_id == compound_id), status, overdue)
    found = paginate(query.order_by(*_overdue_first(today())), page, page_size)
    return Page([row[0] for row in found.items], found.total, page, page_size)


def area_page(area_id: int, user_id: int | None, status: RectificationStatus | None, overdue: bool, page: int,
              page_size: int) -> tuple[Area, Page]:
    """The area's 整改台账: every item of every compound below it, overdue first, then by deadline."""
    area = authorize_area(Action.VIEW_RECTIFICATIONS, area_id, user_id)
    query = _filtered(select(Rectification).join(Compound, Compound.id == Rectification.compound_id)
                      .join(Area, Area.id == Compound.area_id).where(Area.path.startswith(area.path)),
                      status, overdue)
    found = paginate(query.order_by(*_overdue_first(today())), page, page_size)
    return area, Page([row[0] for row in found.items], found.total, page, page_size)


def compound_names(compound_ids: Sequence[int]) -> dict[int, str]:
    if not compound_ids:
        return {}
    return dict(db.session.execute(select(Compound.id, Compound.name).where(Compound.id.in_(compound_ids))).all())


def events_of(rectification_id: int) -> list[RectificationEvent]:
    return list(db.session.scalars(select(RectificationEvent).where(
        RectificationEvent.rectification_id == rectification_id).order_by(RectificationEvent.id)))


def photos_of(rectification_id: int) -> list[RectificationPhoto]:
    return list(db.session.scalars(select(RectificationPhoto).where(
        RectificationPhoto.rectification_id == rectification_id).order_by(RectificationPhoto.id)))


def escalations_of(rectification_id: int) -> list[RectificationEscalation]:
    return list(db.session.scalars(select(RectificationEscalation).where(
        RectificationEscalation.rectification_id == rectification_id).order_by(RectificationEscalation.step)))


def last_steps(rectification_ids: Sequence[int]) -> dict[int, int]:
    """The last escalation step taken for each item that has one."""
    if not rectification_ids:
        return {}
    return dict(db.session.execute(
        select(RectificationEscalation.rectification_id, func.max(RectificationEscalation.step))
        .where(RectificationEscalation.rectification_id.in_(rectification_ids))
        .group_by(RectificationEscalation.rectification_id)
    ).all())


def area_overdue_total(path: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Rectification).join(Compound, Compound.id == Rectification.compound_id)
        .join(Area, Area.id == Compound.area_id)
        .where(Area.path.startswith(path), Rectification.status.in_(UNFINISHED_RECTIFICATION_STATUSES),
               Rectification.deadline < today())
    ) or 0


def visible_photo(rectification_id: int, photo_id: int, user_id: int | None) -> RectificationPhoto | None:
    seen_by(rectification_id, user_id)
    photo = db.session.get(RectificationPhoto, photo_id)
    return photo if photo is not None and photo.rectification_id == rectification_id else None


def inspections_page(compound_id: int, user_id: int | None, page: int, page_size: int) -> Page:
    """The compound's supervision inspections, latest first, to those who follow its items."""
    authorize(Action.VIEW_RECTIFICATIONS, compound_id, user_id)
    query = (select(Inspection).where(Inspection.compound_id == compound_id, Inspection.points.is_(None))
             .order_by(Inspection.inspected_on.desc(), Inspection.id.desc()))
    found = paginate(query, page, page_size)
    return Page([row[0] for row in found.items], found.total, page, page_size)


def inspection_seen_by(inspection_id: int, user_id: int | None) -> tuple[Inspection, list[Rectification]]:
    inspection = db.session.get(Inspection, inspection_id)
    if inspection is None or inspection.points is not None or user_id is None:
        raise _hidden(INSPECTION_NOT_FOUND)
    authorize(Action.VIEW_RECTIFICATIONS, inspection.compound_id, user_id)
    return inspection, items_of_inspection(inspection_id)


def items_of_inspection(inspection_id: int) -> list[Rectification]:
    """The inspection's findings as rectification items, in the order recorded."""
    return list(db.session.scalars(select(Rectification).where(Rectification.inspection_id == inspection_id)
                                   .order_by(Rectification.id)))


def user_names(user_ids: Sequence[int]) -> dict[int, str]:
    ids = [each for each in set(user_ids) if each is not None]
    if not ids:
        return {}
    return {row.id: row.display_name or "工作人员" for row in db.session.execute(
        select(User.id, User.display_name).where(User.id.in_(ids)))}


# ---- answer, accept, return ----------------------------------------------------------------------------------


def _locked(rectification_id: int, user_id: int | None, action: RectificationAction) -> tuple[Rectification, Viewer]:
    """The item locked for `action` by this person; the domain decides whether they may take it now."""
    item, viewer = seen_by(rectification_id, user_id)
    item = db.session.scalar(select(Rectification).where(Rectification.id == rectification_id).with_for_update()
                             .execution_options(populate_existing=True))
    viewer = _viewer(item, viewer.user_id, viewer.roles)
    status = rules.next_status(item.status, action, party=viewer.party, inspector=viewer.inspector)
    item.status = status
    item.updated_at = utcnow()
    return item, viewer


def answer(rectification_id: int, user_id: int | None, note: str, photos: Sequence[PreparedPhoto],
           ip: str | None = None) -> Rectification:
    """The party says what was done, with photos; the inspector is told."""
    rules.check_photo_count(len(photos))
    with kept_only_on_commit() as stored:
        item, _ = _locked(rectification_id, user_id, RectificationAction.ANSWER)
        item.answered_at = utcnow()
        event = _event(item.id, user_id, "answer", note)
        _add_photos(item.id, event.id, user_id, photos, stored)
        notify([item.inspector_id], RECTIFICATION_ANSWERED, f"整改已回复，待验收：{item.item}",
               f"{RESPONSIBLE_PARTY_LABELS[item.responsible_party]}回复：{quoted(_brief(note, 60))}",
               link=_link(item.id), dedupe_key=f"rectification-{item.id}-answer-{event.id}")
        record_audit(actor_id=user_id, action="rectification.answer", target_type="rectification",
                     target_id=item.id, compound_id=item.compound_id, after={"photos": len(photos)}, ip=ip)
        db.session.commit()
    return item


def add_photos(rectification_id: int, user_id: int | None, photos: Sequence[PreparedPhoto]) -> Rectification:
    """The inspector adds photos of the finding while it waits for its answer."""
    with kept_only_on_commit() as stored:
        item, _ = _locked(rectification_id, user_id, RectificationAction.ADD_PHOTOS)
        record_event = db.session.scalar(select(RectificationEvent).where(
            RectificationEvent.rectification_id == item.id, RectificationEvent.action == "record"))
        held = db.session.scalar(select(func.count()).where(RectificationPhoto.event_id == record_event.id)) or 0
        rules.check_photo_count(held + len(photos))
        _add_photos(item.id, record_event.id, user_id, photos, stored)
        db.session.commit()
    return item


def _decide(rectification_id: int, user_id: int | None, action: RectificationAction, note: str,
            ip: str | None) -> Rectification:
    item, _ = _locked(rectification_id, user_id, action)
    accepted = action is RectificationAction.ACCEPT
    if accepted:
        item.accepted_at = utcnow()
    event = _event(item.id, user_id, action.value, note)
    title = f"整改已验收销号：{item.item}" if accepted else f"整改被退回，请重新整改：{item.item}"
    body = _brief(item.finding) if accepted else f"退回原因：{quoted(_brief(note, 60))}期限{item.deadline.isoformat()}"
    notify(party_people(item.compound_id, item.responsible_party), RECTIFICATION_DECIDED, title, body,
           link=_link(item.id), dedupe_key=f"rectification-{item.id}-{action.value}-{event.id}")
    record_audit(actor_id=user_id, action=f"rectification.{action.value}", target_type="rectification",
                 target_id=item.id, compound_id=item.compound_id, after={"note": note[:100]}, ip=ip)
    db.session.commit()
    return item


def accept(rectification_id: int, user_id: int | None, note: str = "", ip: str | None = None) -> Rectification:
    """销号: the inspector who recorded the finding accepts the answer; final."""
    return _decide(rectification_id, user_id, RectificationAction.ACCEPT, note, ip)


def send_back(rectification_id: int, user_id: int | None, reason: str, ip: str | None = None) -> Rectification:
    """The inspector returns the answer with a reason; the item is open again under the same deadline."""
    return _decide(rectification_id, user_id, RectificationAction.RETURN, reason, ip)


# ---- escalation (cron sweep) ---------------------------------------------------------------------------------


def _step_recipients(item: Rectification, step: EscalationStep) -> list[int]:
    level = rules.step_level(step)
    if level is None:
        return party_people(item.compound_id, item.responsible_party)
    return _officials_at(item.compound_id, level)


def escalate(rectification_id: int, on: date) -> int:
    """Take the next step due for the item by `on`, if any: its row is inserted only if absent, and only the
    inserting run tells anyone (a second or parallel sweep finds the row and says nothing). Returns the steps taken.
    The item is locked like an answer locks it, so an answer made meanwhile is seen and nobody is told it is late."""
    item = db.session.scalar(select(Rectification).where(Rectification.id == rectification_id).with_for_update()
                             .execution_options(populate_existing=True))
    last = db.session.execute(
        select(RectificationEscalation.step, RectificationEscalation.created_at)
        .where(RectificationEscalation.rectification_id == item.id)
        .order_by(RectificationEscalation.step.desc()).limit(1)
    ).first()
    step = rules.next_step(item.status, item.deadline, on, EscalationStep(last.step) if last else None,
                           beijing_date(last.created_at) if last else None)
    if step is None:
        db.session.rollback()
        return 0
    inserted = db.session.scalar(
        dialect_insert(RectificationEscalation)
        .values(rectification_id=item.id, step=int(step), created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["rectification_id", "step"])
        .returning(RectificationEscalation.id)
    )
    if inserted is None:
        db.session.rollback()
        return 0
    _event(item.id, None, "escalate", rules.ESCALATION_LABELS[step])
    compound = db.session.get(Compound, item.compound_id)
    party = RESPONSIBLE_PARTY_LABELS[item.responsible_party]
    notify(_step_recipients(item, step), RECTIFICATION_OVERDUE, f"整改超期：{compound.name}·{item.item}",
           f"{party}未在{item.deadline.isoformat()}前完成整改：{_brief(item.finding)}，请督促",
           link=_link(item.id),
           urgency=Urgency.URGENT if item.urgency is RectificationUrgency.URGENT else Urgency.NORMAL,
           dedupe_key=rules.escalation_dedupe_key(item.id, step))
    db.session.commit()
    return 1


def sweep(on: date | None = None) -> int:
    """Escalate every open item past its deadline that still has a step to take; returns the steps taken."""
    on = on or today()
    last_step = int(max(EscalationStep))
    after, taken = 0, 0
    while True:
        due = list(db.session.scalars(
            select(Rectification.id).where(
                Rectification.id > after, Rectification.status == RectificationStatus.OPEN,
                Rectification.deadline < on,
                ~exists().where(RectificationEscalation.rectification_id == Rectification.id,
                                RectificationEscalation.step == last_step))
            .order_by(Rectification.id).limit(SWEEP_BATCH)
        ))
        db.session.rollback()
        if not due:
            return taken
        for rectification_id in due:
            taken += escalate(rectification_id, on)
        after = due[-1]


# ---- for the flags and the reports ---------------------------------------------------------------------------


def overdue_counts(compound_ids: Sequence[int], on: date) -> dict[int, int]:
    """Unfinished items past their deadline on `on` (a Beijing date), per compound (0 for none)."""
    counts = {compound_id: 0 for compound_id in compound_ids}
    if compound_ids:
        counts.update(db.session.execute(
            select(Rectification.compound_id, func.count()).where(
                Rectification.compound_id.in_(compound_ids),
                Rectification.status.in_(UNFINISHED_RECTIFICATION_STATUSES), Rectification.deadline < on)
            .group_by(Rectification.compound_id)
        ).all())
    return counts


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def overdue_in_area(area_id: int, start: date, end: date) -> list[Rectification]:
    """The items of the compounds below the area that were overdue on some day from `start` to `end` (Beijing
    dates, both included): past their deadline that day and not yet accepted by its start. Oldest deadline first."""
    path = db.session.scalar(select(Area.path).where(Area.id == area_id))
    if path is None:
        return []
    rows = db.session.scalars(
        select(Rectification).join(Compound, Compound.id == Rectification.compound_id)
        .join(Area, Area.id == Compound.area_id)
        .where(Area.path.startswith(path), Rectification.deadline < end,
               (Rectification.accepted_at.is_(None)) | (Rectification.accepted_at >= _day_start(start)))
        .order_by(Rectification.deadline, Rectification.id)
    ).all()
    found = []
    for item in rows:
        first = max(start, date.fromordinal(item.deadline.toordinal() + 1))
        if first <= end and (item.accepted_at is None or item.accepted_at >= _day_start(first)):
            found.append(item)
    return found
