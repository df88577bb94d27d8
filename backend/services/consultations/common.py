"""What every step of a deliberation round shares: the compound's settings, who someone is to a topic and what
the permission table lets them do, the topic row locked for a change, its audit, its step change with the
followers told, the desk told, photos stored with the change."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from backend.domain import consultations as rules
from backend.domain.consultations import NEEDS, STEP_LABELS, Step, TopicAction, TopicRefused
from backend.domain.notifications import TOPIC_DESK, TOPIC_UPDATE, quoted
from backend.domain.refusals import Kind
from backend.domain.roles import Action, Role
from backend.extensions import db, dialect_insert
from backend.models import ConsultationSettings, Household, Membership, Topic, TopicFollower, TopicPhoto
from backend.policy import permits
from backend.services.audit import record_audit
from backend.services.notifications import notify
from backend.services.photos import MAX_PHOTOS_PER_ORDER, PreparedPhoto, store_photo
from backend.shared.clock import SHANGHAI, utcnow
from backend.shared.pagination import Page, paginate

MAX_TOPIC_PHOTOS = MAX_PHOTOS_PER_ORDER
# What a follower reads when the topic reaches a step (the step's note, e.g. the result or a reason, follows).
STEP_NEWS = {
    Step.REVIEW: "联名已达到要求，等待确定议题。",
    Step.DELIBERATION: "议题已确定，欢迎发表意见。",
    Step.VOTING: "表决已经开始。",
    Step.PUBLICITY: "表决已结束，结果正在公示。",
    Step.IMPLEMENTATION: "公示期满，决议进入落实。",
    Step.DONE: "本轮议事已结束。",
    Step.DECLINED: "议题未被采纳。",
    Step.MERGED: "议题已并入另一个议题。",
}


# ---- settings -------------------------------------------------------------------------------------------


def settings_for(compound_id: int) -> ConsultationSettings:
    """The compound's settings, or the defaults (not saved) when it has never changed them."""
    saved = db.session.get(ConsultationSettings, compound_id)
    return saved or ConsultationSettings(
        compound_id=compound_id, cosign_threshold=rules.DEFAULT_COSIGN_THRESHOLD, residents_may_vote=False,
        publicity_days=rules.DEFAULT_PUBLICITY_DAYS,
    )


def update_settings(compound_id: int, actor_id: int, cosign_threshold: int, residents_may_vote: bool,
                    publicity_days: int, ip: str | None = None) -> ConsultationSettings:
    current = settings_for(compound_id)
    before = _settings_dict(current)
    current.cosign_threshold = cosign_threshold
    current.residents_may_vote = residents_may_vote
    current.publicity_days = publicity_days
    db.session.merge(current)
    record_audit(actor_id=actor_id, action="consultation.settings", target_type="compound", target_id=compound_id,
                 compound_id=compound_id, before=before, after=_settings_dict(current), ip=ip)
    db.session.commit()
    return settings_for(compound_id)


def _settings_dict(settings: ConsultationSettings) -> dict:
    return {"cosign_threshold": settings.cosign_threshold, "residents_may_vote": settings.residents_may_vote,
            "publicity_days": settings.publicity_days}


# ---- who someone is to a topic ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Participant:
    """A person's standing in the topic's compound: their roles, and their verified households by role."""

    user_id: int
    compound_id: int
    roles: frozenset[Role]
    owned_household_ids: tuple[int, ...] = ()
    lived_household_ids: tuple[int, ...] = ()

    @property
    def household_ids(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(self.owned_household_ids + self.lived_household_ids))

    @property
    def signed_in(self) -> bool:
        return self.user_id != 0

    def may(self, action: Action) -> bool:
        """The permission table here, the compound's party organisation included (policy.permits)."""
        return permits(self.roles, action, self.compound_id)

    @property
    def runs_consultations(self) -> bool:
        return self.may(Action.RUN_CONSULTATIONS)


def participant(user_id: int | None, compound_id: int, roles: frozenset[Role]) -> Participant:
    """`user_id` None: a QR visitor who has not signed in, with no household and nothing to act for."""
    if user_id is None:
        return Participant(user_id=0, compound_id=compound_id, roles=roles)
    rows = db.session.execute(
        select(Membership.role, Membership.household_id).where(
            Membership.user_id == user_id, Membership.compound_id == compound_id,
            Membership.role.in_((Role.OWNER, Role.RESIDENT)), Membership.verified_at.is_not(None),
        ).order_by(Membership.household_id)
    ).all()
    return Participant(
        user_id=user_id, compound_id=compound_id, roles=roles,
        owned_household_ids=tuple(row.household_id for row in rows if row.role is Role.OWNER),
        lived_household_ids=tuple(row.household_id for row in rows if row.role is Role.RESIDENT),
    )


def require(person: Participant, action: TopicAction) -> None:
    """Refused (FORBIDDEN) unless the permission table lets this person take `action` in the topic's compound."""
    permission, message = NEEDS[action]
    if not person.may(permission):
        raise TopicRefused(message, Kind.FORBIDDEN)


def voting_household_ids(topic: Topic, person: Participant) -> tuple[int, ...]:
    """The households this person may vote for: owned ones, and lived-in ones where the topic lets residents
    vote (an ordinary consultation of a compound that allows it)."""
    if topic.residents_may_vote:
        return person.household_ids
    return person.owned_household_ids


# ---- reading and writing, for every step ---------------------------------------------------------------------


def get_topic(topic_id: int) -> Topic | None:
    return db.session.scalar(
        select(Topic).options(joinedload(Topic.proposer)).where(Topic.id == topic_id)
    )


def topics_page(compound_id: int, steps: Sequence[Step] | None, page: int, page_size: int) -> Page:
    query = select(Topic).where(Topic.compound_id == compound_id)
    if steps:
        query = query.where(Topic.step.in_(steps))
    return entity_page(query.order_by(Topic.id.desc()), page, page_size)


def entity_page(query, page: int, page_size: int) -> Page:
    """paginate() hands back result rows; these lists hand back the objects themselves."""
    rows = paginate(query, page, page_size)
    return Page(items=[row[0] for row in rows.items], total=rows.total, page=page, page_size=page_size)




def households_of(household_ids: Sequence[int]) -> list[Household]:
    """These households with their buildings, for the labels of the forms (1栋1单元101室)."""
    if not household_ids:
        return []
    return list(db.session.scalars(
        select(Household).options(joinedload(Household.building)).where(Household.id.in_(household_ids))
        .order_by(Household.id)
    ))




def add_photos(topic: Topic, uploader_id: int, photos: Sequence[PreparedPhoto], stored: list[str],
                progress_id: int | None = None, vote_cast_id: int | None = None) -> list[TopicPhoto]:
    if len(photos) > MAX_TOPIC_PHOTOS:
        raise TopicRefused(f"最多上传{MAX_TOPIC_PHOTOS}张照片", Kind.INVALID)
    added = []
    for prepared in photos:
        key = store_photo(prepared)
        stored.append(key)
        added.append(TopicPhoto(
            topic_id=topic.id, progress_id=progress_id, vote_cast_id=vote_cast_id, uploader_id=uploader_id,
            storage_key=key, width=prepared.width, height=prepared.height, size_bytes=len(prepared.data),
        ))
    db.session.add_all(added)
    return added






def locked(topic_id: int) -> Topic:
    topic = db.session.scalar(
        select(Topic).where(Topic.id == topic_id).with_for_update().execution_options(populate_existing=True)
    )
    if topic is None:
        raise TopicRefused("议题不存在", Kind.NOT_FOUND)
    return topic


def audit(topic: Topic, actor_id: int | None, action: str, *, note: str = "", after: dict | None = None,
           ip: str | None = None) -> None:
    after = dict(after or {})
    if note:
        after["note"] = note
    record_audit(actor_id=actor_id, action=action, target_type="topic", target_id=topic.id,
                 compound_id=topic.compound_id, after=after, ip=ip)


def change_step(topic: Topic, step: Step, actor_id: int | None, ip: str | None, *, note: str = "",
                 after: dict | None = None) -> None:
    before = topic.step
    topic.step = step
    if step not in (Step.DELIBERATION, Step.VOTING, Step.PUBLICITY):
        topic.step_due_at = None
    record_audit(actor_id=actor_id, action=f"topic.{step.value}", target_type="topic", target_id=topic.id,
                 compound_id=topic.compound_id, before={"step": before},
                 after={"step": step, **({"note": note} if note else {}), **(after or {})}, ip=ip)
    tell_followers(topic, f"您关注的议题“{topic.title}”进入了“{STEP_LABELS[step]}”阶段",
                   STEP_NEWS.get(step, "") + (quoted(note) if note else ""),
                   f"topic-{topic.id}-step-{step.value}", except_user_id=actor_id)


def follow(topic_id: int, user_id: int) -> None:
    db.session.execute(
        dialect_insert(TopicFollower).values(topic_id=topic_id, user_id=user_id, created_at=utcnow())
        .on_conflict_do_nothing()
    )


def follower_ids(topic_id: int) -> list[int]:
    return list(db.session.scalars(select(TopicFollower.user_id).where(TopicFollower.topic_id == topic_id)))


def tell_followers(topic: Topic, title: str, body: str, dedupe_key: str, except_user_id: int | None) -> None:
    recipients = [user_id for user_id in follower_ids(topic.id) if user_id != except_user_id]
    if recipients:
        notify(recipients, TOPIC_UPDATE, title, body=body[:200], link=link(topic), dedupe_key=dedupe_key)


def tell_desk(topic: Topic, title: str, dedupe_suffix: str, body: str = "") -> None:
    desk = list(db.session.scalars(select(Membership.user_id).distinct().where(
        Membership.compound_id == topic.compound_id,
        Membership.role.in_((Role.COMMITTEE, Role.PARTY_SECRETARY)))))
    if desk:
        notify(desk, TOPIC_DESK, title, body, link=link(topic), dedupe_key=f"topic-{topic.id}-{dedupe_suffix}")


def link(topic: Topic) -> str:
    return f"/h5/topics/{topic.id}"


def local(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%m月%d日 %H:%M")
