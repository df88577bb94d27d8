"""Step 5: publicity with objections and their public answers, implementation progress, and ratings (民事民评)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import exists, func, select

from backend.domain import consultations as rules
from backend.domain.consultations import Step, TopicAction, TopicRefused, acting_household
from backend.domain.notifications import TOPIC_UPDATE, quoted
from backend.domain.refusals import Kind
from backend.extensions import db, dialect_insert
from backend.models import Topic, TopicObjection, TopicProgress, TopicRating
from backend.services.consultations.common import (
    Participant,
    add_photos,
    audit,
    change_step,
    link,
    locked,
    require,
    tell_desk,
    tell_followers,
)
from backend.services.notifications import notify
from backend.services.photos import PreparedPhoto, kept_only_on_commit
from backend.shared.clock import utcnow

# ---- step 5: publicity, objections, implementation, ratings ------------------------------------------------


def objections(topic_id: int) -> list[TopicObjection]:
    return list(db.session.scalars(
        select(TopicObjection).where(TopicObjection.topic_id == topic_id).order_by(TopicObjection.id)))


def has_unanswered_objections(topic_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(
        TopicObjection.topic_id == topic_id, TopicObjection.answered_at.is_(None)))))


def file_objection(topic_id: int, person: Participant, household_id: int | None, body: str,
                   ip: str | None = None) -> TopicObjection:
    require(person, TopicAction.FILE_OBJECTION)
    household_id = acting_household(household_id, person.owned_household_ids)
    topic = locked(topic_id)
    if not rules.objections_open(topic.step, utcnow(), topic.publicity_ends_at):
        raise TopicRefused("只能在结果公示期内提出异议")
    if household_id not in person.owned_household_ids:
        raise TopicRefused("只有这户已认证的业主可以提出异议", Kind.FORBIDDEN)
    objection = TopicObjection(topic_id=topic_id, author_id=person.user_id, household_id=household_id, body=body)
    db.session.add(objection)
    db.session.flush()
    audit(topic, person.user_id, "topic.objection", note=body, after={"objection_id": objection.id}, ip=ip)
    tell_desk(topic, f"议题“{topic.title}”收到一条异议，请公开答复", f"topic-objection-{objection.id}",
              "公示期内的异议都答复后，公示才会结束。")
    db.session.commit()
    return objection


def answer_objection(topic_id: int, objection_id: int, person: Participant, answer: str,
                     ip: str | None = None) -> TopicObjection:
    require(person, TopicAction.ANSWER_OBJECTION)
    topic = locked(topic_id)
    objection = db.session.get(TopicObjection, objection_id)
    if objection is None or objection.topic_id != topic_id:
        raise TopicRefused("异议不存在", Kind.NOT_FOUND)
    if objection.answered_at is not None:
        raise TopicRefused("这条异议已经答复过了")
    objection.answer, objection.answered_by_id, objection.answered_at = answer, person.user_id, utcnow()
    audit(topic, person.user_id, "topic.answer_objection", note=answer, after={"objection_id": objection_id}, ip=ip)
    notify([objection.author_id], TOPIC_UPDATE, f"您对议题“{topic.title}”的异议已答复",
           body=f"业委会的答复：{quoted(answer[:200])}",
           link=link(topic), dedupe_key=f"topic-objection-answer-{objection_id}")
    db.session.commit()
    return objection


def progress_updates(topic_id: int) -> list[TopicProgress]:
    return list(db.session.scalars(
        select(TopicProgress).where(TopicProgress.topic_id == topic_id).order_by(TopicProgress.id)))


def post_progress(topic_id: int, person: Participant, body: str, is_final: bool,
                  photos: Sequence[PreparedPhoto] = (), ip: str | None = None) -> TopicProgress:
    """落实: the responsible party reports progress with photos; the final update ends the round."""
    require(person, TopicAction.POST_PROGRESS)
    topic = locked(topic_id)
    rules.require_step(topic.step, Step.IMPLEMENTATION, message="议题不在落实阶段")
    with kept_only_on_commit() as stored:
        progress = TopicProgress(topic_id=topic_id, author_id=person.user_id, body=body, is_final=is_final)
        db.session.add(progress)
        db.session.flush()
        add_photos(topic, person.user_id, photos, stored, progress_id=progress.id)
        audit(topic, person.user_id, "topic.progress", note=body, after={"progress_id": progress.id}, ip=ip)
        if is_final:
            topic.implemented_at = utcnow()
            change_step(topic, Step.DONE, person.user_id, ip, note="落实完成")
        else:
            tell_followers(topic, f"落实进展：{topic.title}", body, f"topic-{topic.id}-progress-{progress.id}",
                            except_user_id=person.user_id)
        db.session.commit()
    return progress


@dataclass(frozen=True)
class RatingSummary:
    count: int
    average: float | None
    mine: dict[int, TopicRating] = field(default_factory=dict)


def ratings_summary(topic_id: int, household_ids: Sequence[int] = ()) -> RatingSummary:
    count, total = db.session.execute(
        select(func.count(), func.coalesce(func.sum(TopicRating.stars), 0)).where(TopicRating.topic_id == topic_id)
    ).one()
    mine = {rating.household_id: rating for rating in db.session.scalars(
        select(TopicRating).where(TopicRating.topic_id == topic_id, TopicRating.household_id.in_(household_ids))
    )} if household_ids else {}
    return RatingSummary(count=count, average=round(total / count, 1) if count else None, mine=mine)


def rate_implementation(topic_id: int, person: Participant, household_id: int | None, stars: int,
                        comment: str = "", ip: str | None = None) -> TopicRating:
    """民事民评: one rating per household (None: their only one), changeable; only once implementation has begun."""
    require(person, TopicAction.RATE)
    household_id = acting_household(household_id, person.household_ids)
    topic = db.session.get(Topic, topic_id)
    if topic is None:
        raise TopicRefused("议题不存在", Kind.NOT_FOUND)
    rules.require_step(topic.step, Step.IMPLEMENTATION, Step.DONE, message="决议落实后才能评价")
    if household_id not in person.household_ids:
        raise TopicRefused("只能以本人已认证的房屋评价", Kind.FORBIDDEN)
    if not 1 <= stars <= rules.MAX_RATING_STARS:
        raise TopicRefused("评分为1至5星", Kind.INVALID)
    now = utcnow()
    db.session.execute(
        dialect_insert(TopicRating)
        .values(topic_id=topic_id, household_id=household_id, user_id=person.user_id, stars=stars,
                comment=comment, created_at=now)
        .on_conflict_do_update(index_elements=[TopicRating.topic_id, TopicRating.household_id],
                               set_={"stars": stars, "comment": comment, "user_id": person.user_id,
                                     "created_at": now})
    )
    audit(topic, person.user_id, "topic.rate", after={"household_id": household_id, "stars": stars}, ip=ip)
    db.session.commit()
    return db.session.scalar(select(TopicRating).where(
        TopicRating.topic_id == topic_id, TopicRating.household_id == household_id
    ).execution_options(populate_existing=True))


