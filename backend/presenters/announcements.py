"""What the announcement (通知公告) screens show, built once for the API to dump and the pages to render: the
compound's list and its home-page block, a notice as this person sees it (its read count only to those who may
change it) with the actions open to them, and the post form's choices."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from backend.domain import announcements as rules
from backend.domain.announcements import (
    CATEGORY_LABELS,
    ENDED_LABEL,
    HOME_LIMIT,
    AnnouncementAction,
    Category,
)
from backend.domain.refusals import Kind
from backend.domain.roles import Action, Role
from backend.models import Announcement, AnnouncementPhoto
from backend.policy import authorize
from backend.services import announcements as service
from backend.services.announcements import Viewer

# The list line's excerpt of the body.
EXCERPT = 60


@dataclass(frozen=True)
class AnnouncementLine:
    id: int
    compound_id: int | None
    area_id: int | None
    source: str
    title: str
    excerpt: str
    category: Category
    category_label: str
    pinned: bool
    urgent: bool
    ends_on: date | None
    active: bool
    status_label: str
    author_name: str
    created_at: datetime
    updated_at: datetime
    photo_count: int
    read_count: int | None


@dataclass(frozen=True)
class AnnouncementDetail(AnnouncementLine):
    body: str
    photos: list[AnnouncementPhoto]
    actions: frozenset[AnnouncementAction]
    # The compound it is seen through: the pages' way back.
    compound_code: str
    compound_name: str


@dataclass(frozen=True)
class AnnouncementList:
    items: list[AnnouncementLine]
    total: int
    page: int
    page_size: int
    include_ended: bool
    actions: frozenset[AnnouncementAction]


@dataclass(frozen=True)
class HomeBlock:
    """The compound home page's 通知公告: the current notices, pinned first, then newest, at most HOME_LIMIT."""

    items: list[AnnouncementLine]
    more: bool
    may_post: bool


@dataclass(frozen=True)
class PostingForm:
    compound_id: int | None
    categories: list[tuple[str, str]]
    # Where the notice goes: ("compound", "仅本小区"), then ("area:<id>", "金沙社区全部小区") for an official.
    scopes: list[tuple[str, str]]
    max_photos: int


def _excerpt(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def _line(announcement: Announcement, today: date, source: str, photo_count: int,
          read_count: int | None) -> dict:
    active = rules.is_active(announcement.ends_on, today)
    return {
        "id": announcement.id,
        "compound_id": announcement.compound_id,
        "area_id": announcement.area_id,
        "source": source,
        "title": announcement.title,
        "excerpt": _excerpt(announcement.body, EXCERPT),
        "category": announcement.category,
        "category_label": CATEGORY_LABELS[announcement.category],
        "pinned": announcement.pinned,
        "urgent": announcement.urgent,
        "ends_on": announcement.ends_on,
        "active": active,
        "status_label": "" if active else ENDED_LABEL,
        "author_name": announcement.author.display_name or "发布人",
        "created_at": announcement.created_at,
        "updated_at": announcement.updated_at,
        "photo_count": photo_count,
        "read_count": read_count,
    }


def _sources(announcements: Sequence[Announcement]) -> dict[int, str]:
    names = service.area_names(sorted({item.area_id for item in announcements if item.area_id is not None}))
    return {item.id: names.get(item.area_id, "") if item.area_id is not None else "本小区" for item in announcements}


def _lines(announcements: Sequence[Announcement], user_id: int | None,
           roles: frozenset[Role]) -> list[AnnouncementLine]:
    """Lines of the compound's notices as this person sees them (read counts where they may change the notice)."""
    ids = [item.id for item in announcements]
    photos = service.photos_of(ids)
    counts = service.read_counts(ids)
    sources = _sources(announcements)
    managed = service.managed_among(announcements, user_id, roles)
    today = service.today()
    return [
        AnnouncementLine(**_line(item, today, sources[item.id], len(photos[item.id]),
                                 counts[item.id] if managed[item.id] else None))
        for item in announcements
    ]


def announcement_list(compound_id: int, user_id: int | None, entry_compound_id: int | None, include_ended: bool,
                      page: int, page_size: int) -> AnnouncementList:
    """Open to everyone of the compound, QR visitors included; `post` for those who may post here."""
    access = authorize(Action.VIEW_COMPOUND, compound_id, user_id, entry_compound_id)
    found = service.compound_page(compound_id, include_ended, page, page_size)
    return AnnouncementList(
        items=_lines(found.items, user_id, access.roles),
        total=found.total,
        page=found.page,
        page_size=found.page_size,
        include_ended=include_ended,
        actions=_list_actions(user_id, access.roles),
    )


def _list_actions(user_id: int | None, roles: frozenset[Role]) -> frozenset[AnnouncementAction]:
    return frozenset({AnnouncementAction.POST}) if user_id is not None and rules.may_post(roles) else frozenset()


def home_block(compound_id: int, user_id: int | None, roles: frozenset[Role]) -> HomeBlock:
    """`roles`: the person's in the compound, which the home page has already asked for."""
    found = service.compound_page(compound_id, False, 1, HOME_LIMIT)
    return HomeBlock(items=_lines(found.items, user_id, roles), more=found.total > HOME_LIMIT,
                     may_post=bool(_list_actions(user_id, roles)))


def _detail(announcement: Announcement, viewer: Viewer) -> AnnouncementDetail:
    photos = service.photos_of([announcement.id])[announcement.id]
    compound = service.compound_of(viewer.compound_id)
    read_count = service.read_counts([announcement.id])[announcement.id] if viewer.manages else None
    return AnnouncementDetail(
        **_line(announcement, service.today(), _sources([announcement])[announcement.id], len(photos), read_count),
        body=announcement.body,
        photos=photos,
        actions=rules.allowed_actions(manages=viewer.manages),
        compound_code=compound.code,
        compound_name=compound.name,
    )


def opened(announcement_id: int, user_id: int | None, entry_compound_id: int | None) -> AnnouncementDetail:
    """The notice as this person opens it: someone signed in is counted as having read it (once)."""
    announcement, viewer = service.seen_by(announcement_id, user_id, entry_compound_id)
    if user_id is not None:
        service.record_read(announcement_id, user_id)
    return _detail(announcement, viewer)


def detail(announcement_id: int, user_id: int | None, entry_compound_id: int | None = None) -> AnnouncementDetail:
    """The notice read afresh (after a change) as this person sees it, without counting a read."""
    announcement, viewer = service.seen_by(announcement_id, user_id, entry_compound_id)
    return _detail(announcement, viewer)


def managed(announcement_id: int, user_id: int | None, entry_compound_id: int | None) -> AnnouncementDetail:
    """The notice for its edit or delete page: 404 for strangers, 403 for those who may only read it."""
    found = detail(announcement_id, user_id, entry_compound_id)
    if AnnouncementAction.EDIT not in found.actions:
        raise rules.AnnouncementRefused(rules.MANAGERS_ONLY, Kind.FORBIDDEN)
    return found


def photo(announcement_id: int, photo_id: int, user_id: int | None,
          entry_compound_id: int | None) -> AnnouncementPhoto | None:
    """A photo of a notice the person may read; None (→ 404) for anything else."""
    announcement, _ = service.seen_by(announcement_id, user_id, entry_compound_id)
    return service.visible_photo(announcement, photo_id)


def _form(compound_id: int | None, scopes: list[tuple[str, str]]) -> PostingForm:
    return PostingForm(
        compound_id=compound_id,
        categories=[(category.value, label) for category, label in CATEGORY_LABELS.items()],
        scopes=scopes,
        max_photos=rules.MAX_PHOTOS,
    )


def posting_form(compound_id: int, user_id: int | None, entry_compound_id: int | None) -> PostingForm:
    """The post form's choices, for those who may post here (404 for strangers, 403 for other readers): the
    categories, and where to post (this compound; for an official or admin also every compound below each area
    above it that is theirs)."""
    access = authorize(Action.VIEW_COMPOUND, compound_id, user_id, entry_compound_id)
    rules.check_poster(access.roles)
    return _form(compound_id, [("compound", "仅本小区")] + [
        (f"area:{area.id}", f"{area.name}全部小区") for area in service.posting_areas(compound_id, user_id)
    ])


def editing_form() -> PostingForm:
    """The edit form's choices (where a notice was posted stays as it is)."""
    return _form(None, [])
