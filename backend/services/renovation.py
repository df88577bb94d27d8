"""Renovation projects (老旧小区改造): set up by the officials over a compound or its self-governance, with items by
class, category, budget and funding source, perhaps from an owners' vote (a topic of the same compound); progress
reported with photos by the responsible party alone (the same party as a rectification's); completion at 100%
opens the households' 1–5 ratings (one per household, the last counts: an upsert on (project, household))."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import case, func, select

from backend.domain import renovation as rules
from backend.domain.consultations import Step
from backend.domain.notifications import RENOVATION_UPDATE
from backend.domain.rectifications import RESPONSIBLE_PARTY_LABELS, ResponsibleParty
from backend.domain.refusals import Kind
from backend.domain.renovation import (
    FundingSource,
    ItemClass,
    ProjectAction,
    ProjectStatus,
    RenovationRefused,
)
from backend.domain.roles import Action, Role, allows
from backend.extensions import db, dialect_insert
from backend.models import (
    BallotResult,
    Compound,
    Membership,
    RenovationItem,
    RenovationPhoto,
    RenovationProject,
    RenovationRating,
    RenovationUpdate,
    Topic,
)
from backend.policy import authorize
from backend.services.audit import record_audit
from backend.services.notifications import notify
from backend.services.photos import PreparedPhoto, kept_only_on_commit, store_photo
from backend.services.rectifications import party_people
from backend.shared.clock import beijing_date, utcnow
from backend.shared.pagination import Page, paginate

NOT_FOUND = "改造项目不存在"
TOPIC_NOT_HERE = "请选择本小区的议题"
# Topics a project may come from: adopted ones (not declined or merged away).
LINKABLE_STEPS = (Step.DELIBERATION, Step.VOTING, Step.PUBLICITY, Step.IMPLEMENTATION, Step.DONE)
HOME_LIMIT = 3


@dataclass(frozen=True)
class ItemInput:
    item_class: ItemClass
    category: str
    budget_fen: int
    funding_source: FundingSource
    description: str = ""


@dataclass(frozen=True)
class ProjectInput:
    title: str
    responsible_party: ResponsibleParty
    items: Sequence[ItemInput]
    contractor: str = ""
    topic_id: int | None = None
    planned_start: date | None = None
    planned_end: date | None = None


@dataclass(frozen=True)
class Viewer:
    """Who looks at a project: their roles in its compound, whether they answer for its party, their verified
    households there; `actions` is the domain's answer for them."""

    user_id: int | None
    roles: frozenset[Role]
    party: bool
    households: tuple[int, ...]
    actions: frozenset[ProjectAction] = field(default_factory=frozenset)


def today() -> date:
    return beijing_date(utcnow())


def _hidden() -> RenovationRefused:
    return RenovationRefused(NOT_FOUND, Kind.NOT_FOUND)


def verified_households(user_id: int | None, compound_id: int) -> tuple[int, ...]:
    if user_id is None:
        return ()
    return tuple(db.session.scalars(
        select(Membership.household_id).distinct().where(
            Membership.user_id == user_id, Membership.compound_id == compound_id,
            Membership.role.in_((Role.OWNER, Role.RESIDENT)), Membership.household_id.is_not(None),
            Membership.verified_at.is_not(None))
        .order_by(Membership.household_id)
    ))


def _viewer(project: RenovationProject, user_id: int | None, roles: frozenset[Role]) -> Viewer:
    party = user_id is not None and user_id in party_people(project.compound_id, project.responsible_party)
    households = verified_households(user_id, project.compound_id)
    return Viewer(user_id=user_id, roles=roles, party=party, households=households,
                  actions=rules.allowed_actions(project.status, party=party, household=bool(households)))


def seen_by(project_id: int, user_id: int | None, entry_compound_id: int | None = None
            ) -> tuple[RenovationProject, Viewer]:
    """The project and how this person sees it: public to everyone of its compound (a QR visitor too), 404 to
    strangers."""
    project = db.session.get(RenovationProject, project_id)
    if project is None:
        raise _hidden()
    access = authorize(Action.VIEW_RENOVATION, project.compound_id, user_id, entry_compound_id)
    return project, _viewer(project, user_id, access.roles)


def may_manage(roles: frozenset[Role]) -> bool:
    return allows(roles, Action.MANAGE_RENOVATION)


# ---- setting up a project --------------------------------------------------------------------------------------


def linkable_topics(compound_id: int, user_id: int | None) -> list[Topic]:
    """The compound's adopted topics, latest first, for those who set up projects (404 strangers, 403 others)."""
    authorize(Action.MANAGE_RENOVATION, compound_id, user_id)
    return list(db.session.scalars(
        select(Topic).where(Topic.compound_id == compound_id, Topic.step.in_(LINKABLE_STEPS))
        .order_by(Topic.id.desc()).limit(50)
    ))


def create_project(compound_id: int, user_id: int | None, data: ProjectInput, ip: str | None = None
                   ) -> RenovationProject:
    """Officials over the compound, its committee or party secretary set up a project; its party is told."""
    authorize(Action.MANAGE_RENOVATION, compound_id, user_id)
    if data.topic_id is not None:
        # Another compound's topic and a topic that does not exist read alike: nothing about it leaks. A topic
        # declined or merged away decided nothing.
        here = db.session.scalar(select(Topic.id).where(Topic.id == data.topic_id, Topic.compound_id == compound_id,
                                                        Topic.step.in_(LINKABLE_STEPS)))
        if here is None:
            raise RenovationRefused(TOPIC_NOT_HERE, errors={"topic_id": [TOPIC_NOT_HERE]})
    rules.check_plan(data.planned_start, data.planned_end, [item.category for item in data.items])
    now = utcnow()
    project = RenovationProject(
        compound_id=compound_id, title=data.title, status=ProjectStatus.PLANNED,
        responsible_party=data.responsible_party, contractor=data.contractor, topic_id=data.topic_id,
        planned_start=data.planned_start, planned_end=data.planned_end, percent=0, created_by_id=user_id,
        created_at=now, updated_at=now,
        items=[RenovationItem(position=index + 1, item_class=item.item_class, category=item.category,
                              description=item.description, budget_fen=item.budget_fen,
                              funding_source=item.funding_source)
               for index, item in enumerate(data.items)],
    )
    db.session.add(project)
    db.session.flush()
    compound_name = db.session.scalar(select(Compound.name).where(Compound.id == compound_id))
    notify(party_people(compound_id, data.responsible_party), RENOVATION_UPDATE,
           f"改造项目：{compound_name}·{data.title}", "您是该改造项目的责任方，请按进度更新施工情况",
           link=_link(project.id), dedupe_key=f"renovation-{project.id}-new")
    record_audit(actor_id=user_id, action="renovation.create", target_type="renovation_project",
                 target_id=project.id, compound_id=compound_id, ip=ip,
                 after={"title": data.title, "topic_id": data.topic_id, "items": len(data.items),
                        "budget_fen": rules.budget_total([item.budget_fen for item in data.items])})
    db.session.commit()
    return project


def _link(project_id: int) -> str:
    return f"/h5/renovation/{project_id}"


# ---- progress ----------------------------------------------------------------------------------------------------


def post_progress(project_id: int, user_id: int | None, note: str, percent: int, photos: Sequence[PreparedPhoto],
                  ip: str | None = None) -> RenovationProject:
    """The responsible party reports progress (only them); 100% completes the project and opens the ratings. The
    project row is locked, so two reports at once are ordered and the later one sees the earlier's percent."""
    if len(photos) > rules.MAX_PHOTOS:
        message = f"最多上传{rules.MAX_PHOTOS}张照片"
        raise RenovationRefused(message, errors={"photos": [message]})
    project, viewer = seen_by(project_id, user_id)
    project = db.session.scalar(select(RenovationProject).where(RenovationProject.id == project_id)
                                .with_for_update().execution_options(populate_existing=True))
    rules.require(ProjectAction.PROGRESS, project.status, party=viewer.party, household=bool(viewer.households))
    status = rules.status_after_progress(project.status, project.percent, percent)
    now = utcnow()
    if status is not ProjectStatus.PLANNED and project.actual_start is None:
        project.actual_start = beijing_date(now)
    if status is ProjectStatus.COMPLETED:
        project.actual_end = beijing_date(now)
    project.status, project.percent, project.updated_at = status, percent, now
    with kept_only_on_commit() as stored:
        update = RenovationUpdate(project_id=project.id, author_id=user_id, note=note, percent=percent, created_at=now)
        db.session.add(update)
        db.session.flush()
        for prepared in photos:
            key = store_photo(prepared)
            stored.append(key)
            db.session.add(RenovationPhoto(project_id=project.id, update_id=update.id, uploader_id=user_id,
                                           storage_key=key, width=prepared.width, height=prepared.height,
                                           size_bytes=len(prepared.data), created_at=now))
        if status is ProjectStatus.COMPLETED:
            notify([project.created_by_id], RENOVATION_UPDATE, f"改造项目已完工：{project.title}",
                   f"{RESPONSIBLE_PARTY_LABELS[project.responsible_party]}报告已完工，居民可以评价",
                   link=_link(project.id), dedupe_key=f"renovation-{project.id}-completed")
        record_audit(actor_id=user_id, action="renovation.progress", target_type="renovation_project",
                     target_id=project.id, compound_id=project.compound_id, ip=ip,
                     after={"percent": percent, "status": status.value, "photos": len(photos)})
        db.session.commit()
    return project


# ---- rating ------------------------------------------------------------------------------------------------------


def rate(project_id: int, user_id: int | None, household_id: int | None, stars: int, comment: str = "",
         ip: str | None = None) -> RenovationRating:
    """A verified household rates the completed project (1–5, a comment); rating again replaces its rating."""
    project, viewer = seen_by(project_id, user_id)
    rules.require(ProjectAction.RATE, project.status, party=viewer.party, household=bool(viewer.households))
    if household_id is None:
        if len(viewer.households) > 1:
            raise RenovationRefused("请选择以哪一户的名义评价", errors={"household_id": ["请选择以哪一户的名义"]})
        household_id = viewer.households[0]
    elif household_id not in viewer.households:
        raise RenovationRefused("只能以本人已认证的房屋评价", Kind.FORBIDDEN)
    rules.check_stars(stars)
    now = utcnow()
    db.session.execute(
        dialect_insert(RenovationRating)
        .values(project_id=project.id, household_id=household_id, user_id=user_id, stars=stars, comment=comment,
                created_at=now, updated_at=now)
        .on_conflict_do_update(index_elements=["project_id", "household_id"],
                               set_={"stars": stars, "comment": comment, "user_id": user_id, "updated_at": now})
    )
    record_audit(actor_id=user_id, action="renovation.rate", target_type="renovation_project", target_id=project.id,
                 compound_id=project.compound_id, ip=ip, after={"household_id": household_id, "stars": stars})
    db.session.commit()
    return db.session.scalar(select(RenovationRating).where(
        RenovationRating.project_id == project_id, RenovationRating.household_id == household_id
    ).execution_options(populate_existing=True))


# ---- reading -----------------------------------------------------------------------------------------------------


def compound_page(compound_id: int, user_id: int | None, entry_compound_id: int | None, page: int,
                  page_size: int) -> tuple[frozenset[Role], Page]:
    """The compound's projects: under way first, then planned, then completed; latest first within each."""
    access = authorize(Action.VIEW_RENOVATION, compound_id, user_id, entry_compound_id)
    found = paginate(select(RenovationProject).where(RenovationProject.compound_id == compound_id)
                     .order_by(*_order()), page, page_size)
    return access.roles, Page([row[0] for row in found.items], found.total, page, page_size)


def _order():
    rank = case((RenovationProject.status == ProjectStatus.IN_PROGRESS, 0),
                (RenovationProject.status == ProjectStatus.PLANNED, 1), else_=2)
    return rank, RenovationProject.id.desc()


def home_projects(compound_id: int) -> tuple[list[RenovationProject], int]:
    """The compound home's 改造进度: the first few projects in the list's order, and how many there are."""
    total = db.session.scalar(select(func.count()).select_from(RenovationProject)
                              .where(RenovationProject.compound_id == compound_id)) or 0
    if not total:
        return [], 0
    return list(db.session.scalars(select(RenovationProject).where(RenovationProject.compound_id == compound_id)
                                   .order_by(*_order()).limit(HOME_LIMIT))), total


def updates_of(project_id: int) -> list[RenovationUpdate]:
    return list(db.session.scalars(select(RenovationUpdate).where(RenovationUpdate.project_id == project_id)
                                   .order_by(RenovationUpdate.id.desc())))


def photos_of(project_id: int) -> list[RenovationPhoto]:
    return list(db.session.scalars(select(RenovationPhoto).where(RenovationPhoto.project_id == project_id)
                                   .order_by(RenovationPhoto.id)))


def ratings_of(project_id: int) -> list[RenovationRating]:
    """Every household's rating, latest first (the pages show stars and comments, never who)."""
    return list(db.session.scalars(select(RenovationRating).where(RenovationRating.project_id == project_id)
                                   .order_by(RenovationRating.updated_at.desc(), RenovationRating.id.desc())))


def visible_photo(project_id: int, photo_id: int, user_id: int | None,
                  entry_compound_id: int | None = None) -> RenovationPhoto | None:
    seen_by(project_id, user_id, entry_compound_id)
    photo = db.session.get(RenovationPhoto, photo_id)
    return photo if photo is not None and photo.project_id == project_id else None


@dataclass(frozen=True)
class TopicLink:
    id: int
    title: str
    step: Step
    created_at: datetime
    decided_at: datetime | None
    passed: bool | None


def topic_link(topic_id: int | None) -> TopicLink | None:
    if topic_id is None:
        return None
    topic = db.session.get(Topic, topic_id)
    result = db.session.get(BallotResult, topic_id)
    return TopicLink(id=topic.id, title=topic.title, step=topic.step, created_at=topic.created_at,
                     decided_at=topic.ballot_closed_at, passed=result.passed if result is not None else None)


def projects_of_topic(topic_id: int) -> list[RenovationProject]:
    """The projects that came from a topic (the topic's page shows them; its reader already may see the compound)."""
    return list(db.session.scalars(select(RenovationProject).where(RenovationProject.topic_id == topic_id)
                                   .order_by(RenovationProject.id)))


def ratings_summaries(project_ids: Sequence[int]) -> dict[int, tuple[int, list[int]]]:
    """Per project: how many households rated it and their stars."""
    found: dict[int, tuple[int, list[int]]] = {each: (0, []) for each in project_ids}
    if project_ids:
        for project_id, stars in db.session.execute(
            select(RenovationRating.project_id, RenovationRating.stars)
            .where(RenovationRating.project_id.in_(project_ids))
        ):
            count, all_stars = found[project_id]
            all_stars.append(stars)
            found[project_id] = (count + 1, all_stars)
    return found
