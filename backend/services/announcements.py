"""Announcements (通知公告): posting to a compound or to every compound below an area, editing, deleting (kept,
found by nobody), reading with each person's read recorded once, the compound's list and home block, and telling
each compound's verified people (a job, one notice per announcement and compound)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date

from sqlalchemy import String, and_, case, cast, delete, exists, func, or_, select
from sqlalchemy.orm import joinedload

from backend.domain import announcements as rules
from backend.domain.announcements import CATEGORY_LABELS, AnnouncementRefused, Category
from backend.domain.notifications import ANNOUNCEMENT, Urgency
from backend.domain.refusals import Kind
from backend.domain.roles import Action, Role
from backend.extensions import db, dialect_insert
from backend.models import (
    Announcement,
    AnnouncementCompound,
    AnnouncementPhoto,
    AnnouncementRead,
    Area,
    Compound,
    Membership,
    Notice,
)
from backend.policy import ancestor_area_ids, authorize_area, roles_in_compound
from backend.services.audit import record_audit
from backend.services.notifications import notify, withdraw
from backend.services.photos import PreparedPhoto, delete_photos, kept_only_on_commit, store_photo
from backend.services.queueing import enqueue_after_commit
from backend.shared.clock import beijing_date, utcnow
from backend.shared.pagination import Page, paginate

TELL_JOB = "backend.jobs.announcements.tell_residents"
NOT_FOUND = "通知公告不存在"
NO_COMPOUNDS = "该区域下还没有小区"
# What the inbox row says of the notice (the whole text is one tap away).
EXCERPT = 100
_HOUSEHOLD_ROLES = (Role.OWNER, Role.RESIDENT)
_OVER_AREA = (Role.OFFICIAL, Role.ADMIN)


@dataclass(frozen=True)
class Draft:
    title: str
    body: str
    category: Category
    pinned: bool = False
    urgent: bool = False
    ends_on: date | None = None


DRAFT_FIELDS = tuple(field.name for field in fields(Draft))


@dataclass(frozen=True)
class Viewer:
    """Who reads a notice, through which of its compounds (the one they belong to; for a QR visitor, the one they
    scanned), with their roles there; `manages`: they may edit and delete it (and see its read count)."""

    user_id: int | None
    compound_id: int
    roles: frozenset[Role]
    manages: bool


def today() -> date:
    return beijing_date(utcnow())


def _hidden() -> AnnouncementRefused:
    return AnnouncementRefused(NOT_FOUND, Kind.NOT_FOUND)


# ---- reading --------------------------------------------------------------------------------------------------


def _active(on: date):
    return or_(Announcement.ends_on.is_(None), Announcement.ends_on >= on)


def _of_compound(compound_id: int):
    return (
        select(Announcement)
        .join(AnnouncementCompound, and_(AnnouncementCompound.announcement_id == Announcement.id,
                                         AnnouncementCompound.compound_id == compound_id))
        .options(joinedload(Announcement.author))
        .where(Announcement.deleted_at.is_(None))
    )


def compound_page(compound_id: int, include_ended: bool, page: int, page_size: int) -> Page:
    """Current notices (and, when asked, ended ones): pinned current ones first, then newest. An ended notice's
    pin no longer counts: it is history, in the order it was posted."""
    on = today()
    query = _of_compound(compound_id)
    if not include_ended:
        query = query.where(_active(on))
    query = query.order_by(
        case((and_(Announcement.pinned, _active(on)), 0), else_=1), Announcement.created_at.desc(),
        Announcement.id.desc(),
    )
    rows = paginate(query, page, page_size)
    return Page(items=[row[0] for row in rows.items], total=rows.total, page=page, page_size=page_size)


def get_live(announcement_id: int) -> Announcement | None:
    """The notice unless deleted (a deleted one is not found by anyone)."""
    return db.session.scalar(
        select(Announcement).options(joinedload(Announcement.author))
        .where(Announcement.id == announcement_id, Announcement.deleted_at.is_(None))
    )


def _viewing_compound(announcement: Announcement, user_id: int | None, entry_compound_id: int | None) -> int | None:
    """The compound through which this person sees the notice: its own compound; for an area's notice, one of its
    compounds where they hold a role (their own before one they oversee), else the one whose QR code they scanned."""
    if announcement.compound_id is not None:
        return announcement.compound_id
    if user_id is not None:
        member_here = Membership.compound_id == Compound.id
        found = db.session.scalar(
            select(AnnouncementCompound.compound_id)
            .join(Compound, Compound.id == AnnouncementCompound.compound_id)
            .join(Area, Area.id == Compound.area_id)
            .join(Membership, or_(member_here, Membership.role == Role.ADMIN,
                                  Area.path.contains("/" + cast(Membership.area_id, String) + "/")))
            .where(AnnouncementCompound.announcement_id == announcement.id, Membership.user_id == user_id)
            .order_by(case((member_here, 0), else_=1), AnnouncementCompound.compound_id)
            .limit(1)
        )
        if found is not None:
            return found
    if entry_compound_id is not None and db.session.get(AnnouncementCompound, (announcement.id, entry_compound_id)):
        return entry_compound_id
    return None


def roles_over_area(user_id: int | None, area_id: int) -> frozenset[Role]:
    """An official's role over the area (theirs or an ancestor's), or an admin's: who may change an area's notice."""
    if user_id is None:
        return frozenset()
    path = db.session.scalar(select(Area.path).where(Area.id == area_id)) or ""
    return frozenset(db.session.scalars(
        select(Membership.role).where(
            Membership.user_id == user_id,
            or_(Membership.role == Role.ADMIN,
                and_(Membership.role == Role.OFFICIAL, Membership.area_id.in_(ancestor_area_ids(path)))))
    ))


def managed_among(announcements: Sequence[Announcement], user_id: int | None,
                  roles_here: frozenset[Role]) -> dict[int, bool]:
    """Whether the person may change each notice (and see its read count). `roles_here`: their roles in the
    compound the notices are seen through, which decide for a compound's notice; for an area's notice, their roles
    over its area decide, asked once per area rather than once per notice."""
    if user_id is None:
        return {announcement.id: False for announcement in announcements}
    over = {area_id: roles_over_area(user_id, area_id)
            for area_id in {item.area_id for item in announcements if item.area_id is not None}}
    return {
        item.id: rules.may_manage(area_post=item.area_id is not None,
                                  roles=over[item.area_id] if item.area_id is not None else roles_here)
        for item in announcements
    }


def compound_of(compound_id: int) -> Compound:
    return db.session.get(Compound, compound_id)


def seen_by(announcement_id: int, user_id: int | None, entry_compound_id: int | None) -> tuple[Announcement, Viewer]:
    """The notice and how this person sees it; NOT_FOUND when deleted or none of theirs (another compound's)."""
    announcement = get_live(announcement_id)
    if announcement is None:
        raise _hidden()
    compound_id = _viewing_compound(announcement, user_id, entry_compound_id)
    roles = roles_in_compound(user_id, compound_id, entry_compound_id) if compound_id is not None else frozenset()
    if not roles:
        raise _hidden()
    return announcement, Viewer(user_id=user_id, compound_id=compound_id, roles=roles,
                                manages=managed_among([announcement], user_id, roles)[announcement.id])


def photos_of(announcement_ids: Sequence[int]) -> dict[int, list[AnnouncementPhoto]]:
    found: dict[int, list[AnnouncementPhoto]] = {announcement_id: [] for announcement_id in announcement_ids}
    if announcement_ids:
        for photo in db.session.scalars(select(AnnouncementPhoto).where(
                AnnouncementPhoto.announcement_id.in_(announcement_ids)).order_by(AnnouncementPhoto.id)):
            found[photo.announcement_id].append(photo)
    return found


def visible_photo(announcement: Announcement, photo_id: int) -> AnnouncementPhoto | None:
    """A photo of a notice the person may read (the caller checked that); another notice's photo is not found."""
    photo = db.session.get(AnnouncementPhoto, photo_id)
    return photo if photo is not None and photo.announcement_id == announcement.id else None


def read_counts(announcement_ids: Sequence[int]) -> dict[int, int]:
    if not announcement_ids:
        return {}
    counts = dict(db.session.execute(
        select(AnnouncementRead.announcement_id, func.count()).where(
            AnnouncementRead.announcement_id.in_(announcement_ids)).group_by(AnnouncementRead.announcement_id)
    ).all())
    return {announcement_id: counts.get(announcement_id, 0) for announcement_id in announcement_ids}


def record_read(announcement_id: int, user_id: int) -> None:
    """Count the person once, however often (and however many at once) they open it: the database keeps one row.
    The read runs in a transaction of its own begun by the write itself, so on SQLite it waits its turn behind
    another writer (a page view's transaction began deferred and has read already; it could not wait)."""
    db.session.commit()
    db.session.execute(
        dialect_insert(AnnouncementRead).values(announcement_id=announcement_id, user_id=user_id, read_at=utcnow())
        .on_conflict_do_nothing(index_elements=["announcement_id", "user_id"])
    )
    db.session.commit()


def area_names(area_ids: Sequence[int]) -> dict[int, str]:
    if not area_ids:
        return {}
    return dict(db.session.execute(select(Area.id, Area.name).where(Area.id.in_(area_ids))).all())


def posting_areas(compound_id: int, user_id: int | None) -> list[Area]:
    """The areas above the compound to whose every compound this person may post (an official's area and those
    below it on the compound's path; an admin's: all of them), nearest first."""
    if user_id is None:
        return []
    compound = db.session.get(Compound, compound_id)
    path = ancestor_area_ids(compound.area.path)
    memberships = db.session.execute(
        select(Membership.role, Membership.area_id)
        .where(Membership.user_id == user_id, Membership.role.in_(_OVER_AREA))
    ).all()
    if any(row.role is Role.ADMIN for row in memberships):
        allowed = set(path)
    else:
        held = [path.index(row.area_id) for row in memberships if row.area_id in path]
        allowed = set(path[min(held):]) if held else set()
    areas = {area.id: area for area in db.session.scalars(select(Area).where(Area.id.in_(allowed)))}
    return [areas[area_id] for area_id in reversed(path) if area_id in areas]


# ---- posting, editing, deleting ----------------------------------------------------------------------------------


def _check_draft(draft: Draft, current_ends_on: date | None = None) -> None:
    rules.check_text(draft.title, draft.body)
    rules.check_ends_on(draft.ends_on, today(), current_ends_on)


def _add_photos(announcement: Announcement, uploader_id: int, photos: Sequence[PreparedPhoto],
                stored: list[str]) -> None:
    for prepared in photos:
        key = store_photo(prepared)
        stored.append(key)
        db.session.add(AnnouncementPhoto(
            announcement_id=announcement.id, uploader_id=uploader_id, storage_key=key, width=prepared.width,
            height=prepared.height, size_bytes=len(prepared.data),
        ))


def _post(draft: Draft, author_id: int, compound_ids: Sequence[int], photos: Sequence[PreparedPhoto], *,
          compound_id: int | None = None, area_id: int | None = None, ip: str | None = None) -> Announcement:
    _check_draft(draft)
    rules.check_photo_count(len(photos))
    with kept_only_on_commit() as stored:
        now = utcnow()
        announcement = Announcement(compound_id=compound_id, area_id=area_id, author_id=author_id, created_at=now,
                                    updated_at=now, **{name: getattr(draft, name) for name in DRAFT_FIELDS})
        db.session.add(announcement)
        db.session.flush()
        db.session.execute(AnnouncementCompound.__table__.insert(), [
            {"announcement_id": announcement.id, "compound_id": target} for target in compound_ids])
        _add_photos(announcement, author_id, photos, stored)
        record_audit(actor_id=author_id, action="announcement.post", target_type="announcement",
                     target_id=announcement.id, compound_id=compound_id, ip=ip,
                     after={"title": draft.title, "category": draft.category.value, "urgent": draft.urgent,
                            "area_id": area_id, "compounds": len(compound_ids)})
        enqueue_after_commit(TELL_JOB, announcement.id, queue="high")
        db.session.commit()
    return announcement


def post_to_compound(compound_id: int, user_id: int, draft: Draft, photos: Sequence[PreparedPhoto] = (),
                     ip: str | None = None) -> Announcement:
    """The compound's committee, party secretary or property manager, or an official over it, posts to it."""
    roles = roles_in_compound(user_id, compound_id)
    if not roles:
        raise _hidden()
    rules.check_poster(roles)
    return _post(draft, user_id, [compound_id], photos, compound_id=compound_id, ip=ip)


def post_to_area(area_id: int, user_id: int, draft: Draft, photos: Sequence[PreparedPhoto] = (),
                 ip: str | None = None) -> Announcement:
    """An official of the area (or above it) posts once to every compound below it, as they are now."""
    area = authorize_area(Action.POST_ANNOUNCEMENTS, area_id, user_id)
    compound_ids = list(db.session.scalars(
        select(Compound.id).join(Area, Area.id == Compound.area_id).where(Area.path.startswith(area.path))
        .order_by(Compound.id)
    ))
    if not compound_ids:
        raise AnnouncementRefused(NO_COMPOUNDS, Kind.INVALID)
    return _post(draft, user_id, compound_ids, photos, area_id=area_id, ip=ip)


def _managed(announcement_id: int, user_id: int, entry_compound_id: int | None) -> Announcement:
    """The notice locked for a change by someone who may change it: 404 for strangers, 403 for other readers."""
    _, viewer = seen_by(announcement_id, user_id, entry_compound_id)
    if not viewer.manages:
        raise AnnouncementRefused(rules.MANAGERS_ONLY, Kind.FORBIDDEN)
    announcement = db.session.scalar(
        select(Announcement).where(Announcement.id == announcement_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if announcement.deleted_at is not None:
        raise _hidden()
    return announcement


def _state(announcement: Announcement) -> dict:
    return {"title": announcement.title, "category": announcement.category.value, "pinned": announcement.pinned,
            "urgent": announcement.urgent,
            "ends_on": announcement.ends_on.isoformat() if announcement.ends_on else None}


def edit(announcement_id: int, user_id: int, changes: dict, photos: Sequence[PreparedPhoto] = (),
         remove_photo_ids: Sequence[int] = (), entry_compound_id: int | None = None,
         ip: str | None = None) -> Announcement:
    """Change what `changes` names (Draft's fields), add photos and remove some of its own. Made urgent now, it is
    pushed once more, urgently, to everyone it reaches."""
    announcement = _managed(announcement_id, user_id, entry_compound_id)
    before = _state(announcement)
    current = {name: getattr(announcement, name) for name in DRAFT_FIELDS}
    draft = Draft(**(current | {name: value for name, value in changes.items() if name in DRAFT_FIELDS}))
    _check_draft(draft, current_ends_on=announcement.ends_on)
    removed = list(db.session.scalars(select(AnnouncementPhoto.storage_key).where(
        AnnouncementPhoto.announcement_id == announcement_id, AnnouncementPhoto.id.in_(remove_photo_ids))))
    kept = db.session.scalar(select(func.count()).where(
        AnnouncementPhoto.announcement_id == announcement_id, AnnouncementPhoto.id.not_in(remove_photo_ids))) or 0
    rules.check_photo_count(kept + len(photos))
    made_urgent = draft.urgent and not announcement.urgent
    with kept_only_on_commit() as stored:
        for name in DRAFT_FIELDS:
            setattr(announcement, name, getattr(draft, name))
        announcement.updated_at = utcnow()
        if removed:
            db.session.execute(delete(AnnouncementPhoto).where(
                AnnouncementPhoto.announcement_id == announcement_id, AnnouncementPhoto.id.in_(remove_photo_ids)))
        _add_photos(announcement, user_id, photos, stored)
        record_audit(actor_id=user_id, action="announcement.edit", target_type="announcement",
                     target_id=announcement_id, compound_id=announcement.compound_id, before=before,
                     after=_state(announcement) | {"photos_added": len(photos), "photos_removed": len(removed)},
                     ip=ip)
        if made_urgent:
            enqueue_after_commit(TELL_JOB, announcement_id, queue="high")
        db.session.commit()
    # Only once the rows are gone: a failed commit must not leave rows pointing at missing files.
    delete_photos(removed)
    return announcement


def remove(announcement_id: int, user_id: int, entry_compound_id: int | None = None, ip: str | None = None) -> None:
    """Delete for everyone: the row stays (with who deleted it and when), nobody finds it any more, and its
    notices leave every inbox (a pending push is never sent): they would link to a notice that is gone."""
    announcement = _managed(announcement_id, user_id, entry_compound_id)
    announcement.deleted_at = utcnow()
    announcement.deleted_by_id = user_id
    withdraw([rules.dedupe_key(announcement_id, compound_id, urgent)
              for compound_id in target_compound_ids(announcement_id) for urgent in (False, True)])
    record_audit(actor_id=user_id, action="announcement.delete", target_type="announcement",
                 target_id=announcement_id, compound_id=announcement.compound_id, before=_state(announcement),
                 ip=ip)
    db.session.commit()


# ---- telling the compounds' people ---------------------------------------------------------------------------


def target_compound_ids(announcement_id: int) -> list[int]:
    return list(db.session.scalars(
        select(AnnouncementCompound.compound_id).where(AnnouncementCompound.announcement_id == announcement_id)
        .order_by(AnnouncementCompound.compound_id)
    ))


def verified_people(compound_id: int) -> list[int]:
    """The verified owners and residents of the compound's households, each once."""
    return list(db.session.scalars(
        select(Membership.user_id).distinct().where(
            Membership.compound_id == compound_id, Membership.role.in_(_HOUSEHOLD_ROLES),
            Membership.verified_at.is_not(None))
        .order_by(Membership.user_id)
    ))


def tell_compound(announcement_id: int, compound_id: int) -> int:
    """Tell the compound's verified people of the notice (an urgent one pushed at once, even in quiet hours;
    another in the inbox, its push held until 08:00); returns how many. Once per announcement and compound (and
    once more, urgently, if it was made urgent later): the notice's dedupe key makes a repeat reach nobody again."""
    announcement = get_live(announcement_id)
    if announcement is None:
        return 0
    key = rules.dedupe_key(announcement_id, compound_id, announcement.urgent)
    # The notice and its fan-out jobs committed together: once it exists, everyone it names will have it.
    if db.session.scalar(select(exists().where(Notice.dedupe_key == key))):
        return 0
    people = verified_people(compound_id)
    label = CATEGORY_LABELS[announcement.category]
    notify(
        # The inbox marks an urgent notice itself (紧急), from its urgency: the title names only the category.
        people, ANNOUNCEMENT, f"{label}：{announcement.title}",
        announcement.body[:EXCERPT], link=f"/h5/announcements/{announcement_id}",
        urgency=Urgency.URGENT if announcement.urgent else Urgency.NORMAL, dedupe_key=key,
    )
    db.session.commit()
    return len(people)
