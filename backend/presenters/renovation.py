"""What the renovation (老旧小区改造) screens show, built once for the API to dump and the pages to render: a project
as this person sees it (its items and budget by funding source, the topic it came from, the accountability timeline,
its progress reports with photos, the ratings and comments, the actions open to them), the compound's list, the
set-up form's choices, the compound home's 改造进度 block and the topic page's link back to its projects."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from backend.domain import renovation as rules
from backend.domain.consultations import STEP_LABELS
from backend.domain.rectifications import RESPONSIBLE_PARTY_LABELS
from backend.domain.renovation import (
    CATEGORIES,
    FUNDING_SOURCE_LABELS,
    ITEM_CLASS_LABELS,
    PROJECT_STATUS_LABELS,
)
from backend.domain.roles import Role
from backend.models import RenovationPhoto, RenovationProject
from backend.services import renovation as service
from backend.services.rectifications import user_names
from backend.services.renovation import Viewer


def photo_url(project_id: int, photo_id: int) -> str:
    return f"/api/v1/renovation-projects/{project_id}/photos/{photo_id}"


def _rating_fields(count: int, stars: list[int]) -> dict:
    return {"rating_count": count, "rating_average_centi": rules.average_centi(stars)}


def _line(project: RenovationProject, ratings: tuple[int, list[int]]) -> dict:
    return {
        "id": project.id, "compound_id": project.compound_id, "title": project.title, "status": project.status,
        "status_label": PROJECT_STATUS_LABELS[project.status], "percent": project.percent,
        "responsible_party": project.responsible_party,
        "responsible_party_label": RESPONSIBLE_PARTY_LABELS[project.responsible_party],
        "contractor": project.contractor, "topic_id": project.topic_id,
        "planned_start": project.planned_start, "planned_end": project.planned_end,
        "actual_start": project.actual_start, "actual_end": project.actual_end,
        "budget_fen": rules.budget_total([item.budget_fen for item in project.items]),
        "created_at": project.created_at,
    } | _rating_fields(*ratings)


def _lines(projects: Sequence[RenovationProject]) -> list[dict]:
    summaries = service.ratings_summaries([project.id for project in projects])
    return [_line(project, summaries[project.id]) for project in projects]


def _topic(project: RenovationProject) -> dict | None:
    link = service.topic_link(project.topic_id)
    if link is None:
        return None
    return {"id": link.id, "title": link.title, "step": link.step, "step_label": STEP_LABELS[link.step],
            "passed": link.passed}


def _decision_note(link: service.TopicLink | None) -> str:
    if link is None or link.passed is None:
        return ""
    return "表决通过" if link.passed else "表决未通过"


def detail(project_id: int, user_id: int | None, entry_compound_id: int | None = None) -> dict:
    """The project with its items, the timeline, progress and ratings, as this person sees it."""
    project, viewer = service.seen_by(project_id, user_id, entry_compound_id)
    return _detail(project, viewer)


def _detail(project: RenovationProject, viewer: Viewer) -> dict:
    ratings = service.ratings_of(project.id)
    stars = [rating.stars for rating in ratings]
    link = service.topic_link(project.topic_id)
    updates = service.updates_of(project.id)
    photos: dict[int, list[dict]] = {}
    for photo in service.photos_of(project.id):
        photos.setdefault(photo.update_id, []).append(_photo(photo))
    names = user_names([update.author_id for update in updates])
    mine = {rating.household_id: rating for rating in ratings if rating.household_id in viewer.households}
    steps = rules.timeline(
        topic_proposed_at=link.created_at if link else None, topic_decided_at=link.decided_at if link else None,
        decision_note=_decision_note(link), created_at=project.created_at, started_on=project.actual_start,
        completed_on=project.actual_end, ratings=len(ratings), average=rules.average_centi(stars))
    return _line(project, (len(ratings), stars)) | {
        "items": [{"position": item.position, "item_class": item.item_class,
                   "item_class_label": ITEM_CLASS_LABELS[item.item_class], "category": item.category,
                   "description": item.description, "budget_fen": item.budget_fen,
                   "funding_source": item.funding_source,
                   "funding_source_label": FUNDING_SOURCE_LABELS[item.funding_source]}
                  for item in project.items],
        "funding": [{"funding_source": source, "funding_source_label": FUNDING_SOURCE_LABELS[source],
                     "budget_fen": total}
                    for source, total in rules.budget_by_source(
                        [(item.funding_source, item.budget_fen) for item in project.items])],
        "topic": _topic(project),
        "timeline": [asdict(step) for step in steps],
        "updates": [{"id": update.id, "note": update.note, "percent": update.percent,
                     "author_name": names.get(update.author_id, "工作人员"), "created_at": update.created_at,
                     "photos": photos.get(update.id, [])} for update in updates],
        # Stars and words only: who rated is nobody's business but the household's.
        "comments": [{"stars": rating.stars, "comment": rating.comment, "at": rating.updated_at}
                     for rating in ratings if rating.comment],
        "my_ratings": [{"household_id": household_id, "stars": rating.stars, "comment": rating.comment}
                       for household_id, rating in mine.items()],
        "households": list(viewer.households),
        "actions": viewer.actions,
    }


def _photo(photo: RenovationPhoto) -> dict:
    return {"id": photo.id, "url": photo_url(photo.project_id, photo.id), "width": photo.width,
            "height": photo.height}


def compound_list(compound_id: int, user_id: int | None, entry_compound_id: int | None, page: int,
                  page_size: int) -> dict:
    roles, found = service.compound_page(compound_id, user_id, entry_compound_id, page, page_size)
    return {"items": _lines(found.items), "total": found.total, "page": found.page, "page_size": found.page_size,
            "actions": ["create"] if service.may_manage(roles) else []}


def photo(project_id: int, photo_id: int, user_id: int | None,
          entry_compound_id: int | None = None) -> RenovationPhoto | None:
    return service.visible_photo(project_id, photo_id, user_id, entry_compound_id)


def create_form(compound_id: int, user_id: int | None) -> dict:
    """The set-up form's choices, for those who may set up a project here (404 strangers, 403 others)."""
    topics = service.linkable_topics(compound_id, user_id)
    return {
        "topics": [(topic.id, f"#{topic.id} {topic.title}") for topic in topics],
        "parties": list(RESPONSIBLE_PARTY_LABELS.items()),
        "classes": list(ITEM_CLASS_LABELS.items()),
        "categories": CATEGORIES,
        "sources": list(FUNDING_SOURCE_LABELS.items()),
    }


def home_block(compound_id: int, roles: frozenset[Role]) -> dict | None:
    """The compound home's 改造进度: None where the compound has no project and the person sets none up."""
    projects, total = service.home_projects(compound_id)
    may_create = service.may_manage(roles)
    # Those who set projects up see where to start before there is one.
    if not total and not may_create:
        return None
    return {"items": _lines(projects), "total": total, "more": total > len(projects),
            "may_create": may_create}


def topic_projects(topic_id: int) -> list[dict]:
    """The projects a topic led to, for the topic's page and its API detail (the way back of the timeline)."""
    return [{"id": project.id, "title": project.title, "status": project.status,
             "status_label": PROJECT_STATUS_LABELS[project.status], "percent": project.percent}
            for project in service.projects_of_topic(topic_id)]
