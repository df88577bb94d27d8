"""Steps 1–3 of a deliberation round (五步议事法): proposing and co-signing, the review (确定议题: accept, decline
or merge), the discussion with its moderation and the ballot's options; and what the topic's pages read."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from backend.domain import consultations as rules
from backend.domain.consultations import (
    OPEN_STEPS,
    Schedule,
    Step,
    TopicAction,
    TopicRefused,
    acting_household,
    speaker_title,
)
from backend.domain.refusals import Kind
from backend.domain.roles import Action, Role
from backend.domain.voting import VoteKind, VoteRule
from backend.extensions import db
from backend.models import (
    BallotOption,
    Membership,
    Topic,
    TopicComment,
    TopicCosign,
    TopicFollower,
    TopicObjection,
    TopicPhoto,
    User,
)
from backend.services.consultations.common import (
    MAX_TOPIC_PHOTOS,
    Participant,
    add_photos,
    audit,
    change_step,
    entity_page,
    follow,
    follower_ids,
    locked,
    require,
    settings_for,
    tell_desk,
)
from backend.services.photos import PreparedPhoto, kept_only_on_commit
from backend.shared.clock import utcnow
from backend.shared.pagination import Page

# ---- reading ---------------------------------------------------------------------------------------------


def options_of(topic_id: int) -> list[BallotOption]:
    return list(db.session.scalars(
        select(BallotOption).where(BallotOption.topic_id == topic_id).order_by(BallotOption.position)
    ))


def option_label(option_id: int) -> str | None:
    return db.session.scalar(select(BallotOption.label).where(BallotOption.id == option_id))


def photos_of(topic_id: int, *, progress_id: int | None = None, proposal: bool = False) -> list[TopicPhoto]:
    query = select(TopicPhoto).where(TopicPhoto.topic_id == topic_id).order_by(TopicPhoto.id)
    if proposal:
        query = query.where(TopicPhoto.progress_id.is_(None), TopicPhoto.vote_cast_id.is_(None))
    if progress_id is not None:
        query = query.where(TopicPhoto.progress_id == progress_id)
    return list(db.session.scalars(query))


def visible_photo(topic: Topic, photo_id: int, person: Participant) -> TopicPhoto | None:
    """Proposal and progress photos are public within the compound; a paper ballot's photo shows how a
    household voted, so only those who run the ballot see it."""
    photo = db.session.get(TopicPhoto, photo_id)
    if photo is None or photo.topic_id != topic.id:
        return None
    if photo.vote_cast_id is not None and not person.runs_consultations:
        return None
    return photo


def cosigned_household_ids(topic_id: int, household_ids: Sequence[int]) -> set[int]:
    if not household_ids:
        return set()
    return set(db.session.scalars(select(TopicCosign.household_id).where(
        TopicCosign.topic_id == topic_id, TopicCosign.household_id.in_(household_ids))))


def follows(topic_id: int, user_id: int) -> bool:
    return db.session.get(TopicFollower, (topic_id, user_id)) is not None


@dataclass(frozen=True)
class Speaker:
    """Who wrote a comment: the name (for those who run consultations) and the roles that say who speaks."""

    name: str
    roles: frozenset[Role]

    @property
    def title(self) -> str:
        return speaker_title(self.roles)


def speakers(compound_id: int, user_ids: Sequence[int]) -> dict[int, Speaker]:
    if not user_ids:
        return {}
    roles: dict[int, set[Role]] = {user_id: set() for user_id in user_ids}
    for user_id, role in db.session.execute(
        select(Membership.user_id, Membership.role).where(
            Membership.user_id.in_(user_ids),
            or_(Membership.compound_id == compound_id, Membership.role.in_((Role.OFFICIAL, Role.ADMIN))))
    ):
        roles[user_id].add(role)
    names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all())
    return {user_id: Speaker(name=names.get(user_id) or "", roles=frozenset(held)) for user_id, held in roles.items()}


def option_counts(topic_ids: Sequence[int]) -> dict[int, int]:
    """How many ballot options each topic has (the desk shows which deliberations still need theirs)."""
    if not topic_ids:
        return {}
    counts = dict(db.session.execute(
        select(BallotOption.topic_id, func.count()).where(BallotOption.topic_id.in_(topic_ids))
        .group_by(BallotOption.topic_id)
    ).all())
    return {topic_id: counts.get(topic_id, 0) for topic_id in topic_ids}


def topics_awaiting_answers(compound_id: int) -> list[tuple[Topic, int]]:
    """Topics with objections the committee has not yet answered publicly, and how many each."""
    return [(topic, count) for topic, count in db.session.execute(
        select(Topic, func.count(TopicObjection.id)).join(TopicObjection, TopicObjection.topic_id == Topic.id)
        .where(Topic.compound_id == compound_id, TopicObjection.answered_at.is_(None))
        .group_by(Topic.id).order_by(func.min(TopicObjection.id))
    ).all()]


# ---- step 1: propose and co-sign ---------------------------------------------------------------------------


def propose_topic(compound_id: int, person: Participant, household_id: int | None, title: str, body: str,
                  photos: Sequence[PreparedPhoto] = (), ip: str | None = None) -> Topic:
    """议题征集: a verified household's person proposes; their household is the first co-signer. `household_id`
    None: their only household."""
    if not person.may(Action.PROPOSE_TOPIC):
        raise TopicRefused("绑定并认证房屋后才能发起议题", Kind.FORBIDDEN)
    household_id = acting_household(household_id, person.household_ids)
    if household_id not in person.household_ids:
        raise TopicRefused("只能以本人已认证的房屋发起议题", Kind.FORBIDDEN)
    threshold = settings_for(compound_id).cosign_threshold
    with kept_only_on_commit() as stored:
        topic = Topic(compound_id=compound_id, proposer_id=person.user_id, proposer_household_id=household_id,
                      title=title, body=body, step=Step.PROPOSED, cosign_count=1)
        db.session.add(topic)
        db.session.flush()
        db.session.add(TopicCosign(topic_id=topic.id, household_id=household_id, user_id=person.user_id))
        add_photos(topic, person.user_id, photos, stored)
        follow(topic.id, person.user_id)
        audit(topic, person.user_id, "topic.propose", after={"title": title}, ip=ip)
        if rules.reached_cosign_threshold(topic.cosign_count, threshold):
            _to_review(topic, person.user_id, ip)
        db.session.commit()
    return topic


def raise_topic(compound_id: int, person: Participant, title: str, body: str,
                photos: Sequence[PreparedPhoto] = (), ip: str | None = None) -> Topic:
    """A committee member or the party secretary raises a topic straight to 议题确定 (no co-signs needed)."""
    if not person.may(Action.RAISE_TOPIC):
        raise TopicRefused("只有业委会成员或党组织书记可以直接提出议题", Kind.FORBIDDEN)
    with kept_only_on_commit() as stored:
        topic = Topic(compound_id=compound_id, proposer_id=person.user_id, title=title, body=body,
                      step=Step.REVIEW)
        db.session.add(topic)
        db.session.flush()
        add_photos(topic, person.user_id, photos, stored)
        follow(topic.id, person.user_id)
        audit(topic, person.user_id, "topic.raise", after={"title": title, "step": Step.REVIEW}, ip=ip)
        tell_desk(topic, f"新议题“{topic.title}”等待确定", "topic-review",
                  "请在议事台确定议题，或说明不予采纳的原因。")
        db.session.commit()
    return topic


def add_proposal_photo(topic_id: int, person: Participant, photo: PreparedPhoto,
                       ip: str | None = None) -> TopicPhoto:
    """The proposer adds a photo to the proposal, one at a time, until the topic is accepted (what the
    co-signers and the reviewer saw must not change afterwards)."""
    topic = locked(topic_id)
    if topic.proposer_id != person.user_id:
        raise TopicRefused("只有议题发起人可以添加照片", Kind.FORBIDDEN)
    rules.require_step(topic.step, Step.PROPOSED, Step.REVIEW, message="议题确定后不能再添加照片")
    if len(photos_of(topic_id, proposal=True)) >= MAX_TOPIC_PHOTOS:
        raise TopicRefused(f"最多上传{MAX_TOPIC_PHOTOS}张照片", Kind.INVALID)
    with kept_only_on_commit() as stored:
        [added] = add_photos(topic, person.user_id, [photo], stored)
        db.session.flush()
        audit(topic, person.user_id, "topic.photo", after={"photo_id": added.id}, ip=ip)
        db.session.commit()
    return added


def cosign(topic_id: int, person: Participant, household_id: int | None, ip: str | None = None) -> Topic:
    """联名: one co-sign per household (None: their only one); reaching the threshold moves the topic to 议题确定."""
    require(person, TopicAction.COSIGN)
    household_id = acting_household(household_id, person.household_ids)
    topic = locked(topic_id)
    rules.require_step(topic.step, Step.PROPOSED, message="议题已不在征集阶段，不能再联名")
    if household_id not in person.household_ids:
        raise TopicRefused("只能以本人已认证的房屋联名", Kind.FORBIDDEN)
    try:
        with db.session.begin_nested():
            db.session.add(TopicCosign(topic_id=topic.id, household_id=household_id, user_id=person.user_id))
    except IntegrityError:
        raise TopicRefused("这户已经联名过了") from None
    topic.cosign_count += 1
    follow(topic.id, person.user_id)
    audit(topic, person.user_id, "topic.cosign", after={"cosign_count": topic.cosign_count}, ip=ip)
    if rules.reached_cosign_threshold(topic.cosign_count, settings_for(topic.compound_id).cosign_threshold):
        # The co-sign that reached the threshold moved the topic: its signer is not told of their own act.
        _to_review(topic, person.user_id, ip)
    db.session.commit()
    return topic


def _to_review(topic: Topic, actor_id: int | None, ip: str | None) -> None:
    change_step(topic, Step.REVIEW, actor_id, ip)
    tell_desk(topic, f"议题“{topic.title}”已有{topic.cosign_count}户联名，等待确定", "topic-review",
              "请在议事台确定议题，或说明不予采纳的原因。")


# ---- step 2: review ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Acceptance:
    rule: VoteRule
    schedule: Schedule
    open_voting: bool = False
    responsible_party: str = ""


@dataclass(frozen=True)
class Decline:
    reason: str


@dataclass(frozen=True)
class Merge:
    into_id: int


def review_topic(topic_id: int, person: Participant, decision: Acceptance | Decline | Merge,
                 ip: str | None = None) -> Topic:
    """议题确定 as one decision: accept it for deliberation, decline it with a public reason, or merge it."""
    if isinstance(decision, Acceptance):
        return accept_topic(topic_id, person, decision, ip=ip)
    if isinstance(decision, Decline):
        return decline_topic(topic_id, person, decision.reason, ip=ip)
    return merge_topic(topic_id, person, decision.into_id, ip=ip)


def accept_topic(topic_id: int, person: Participant, acceptance: Acceptance, ip: str | None = None,
                 now: datetime | None = None) -> Topic:
    """议题确定: set the kind of decision (which fixes the thresholds), secret or open voting, and the deadlines."""
    now = now or utcnow()
    topic = _reviewable(topic_id, person)
    acceptance.schedule.check(now)
    topic.vote_kind = acceptance.rule.kind
    topic.civil_code_item = acceptance.rule.item
    topic.open_voting = acceptance.open_voting
    # Owners' joint decisions are the owners' alone (Art. 278); a compound may open ordinary ones to residents.
    topic.residents_may_vote = (acceptance.rule.kind is VoteKind.CONSULTATION
                                and settings_for(topic.compound_id).residents_may_vote)
    topic.deliberation_ends_at = acceptance.schedule.deliberation_ends_at
    topic.voting_hours = acceptance.schedule.voting_hours
    topic.publicity_days = acceptance.schedule.publicity_days or settings_for(topic.compound_id).publicity_days
    topic.responsible_party = acceptance.responsible_party
    topic.reviewer_id, topic.reviewed_at = person.user_id, now
    topic.step_due_at = acceptance.schedule.deliberation_ends_at
    change_step(topic, Step.DELIBERATION, person.user_id, ip, after={
        "vote_kind": topic.vote_kind, "civil_code_item": topic.civil_code_item, "open_voting": topic.open_voting,
        "deliberation_ends_at": topic.deliberation_ends_at.isoformat(), "voting_hours": topic.voting_hours,
        "publicity_days": topic.publicity_days,
    })
    db.session.commit()
    return topic


def decline_topic(topic_id: int, person: Participant, reason: str, ip: str | None = None) -> Topic:
    topic = _reviewable(topic_id, person)
    topic.decline_reason = reason
    topic.reviewer_id, topic.reviewed_at = person.user_id, utcnow()
    change_step(topic, Step.DECLINED, person.user_id, ip, note=reason)
    db.session.commit()
    return topic


def merge_topic(topic_id: int, person: Participant, into_id: int, ip: str | None = None) -> Topic:
    """A duplicate joins an open topic of the same compound; its followers follow that one from now on."""
    topic = _reviewable(topic_id, person)
    target = db.session.get(Topic, into_id)
    if target is None or target.compound_id != topic.compound_id or target.id == topic.id:
        raise TopicRefused("要合并到的议题不存在", Kind.INVALID)
    if target.step not in OPEN_STEPS:
        raise TopicRefused("只能合并到进行中的议题", Kind.INVALID)
    topic.merged_into_id = target.id
    topic.reviewer_id, topic.reviewed_at = person.user_id, utcnow()
    for follower_id in follower_ids(topic.id):
        follow(target.id, follower_id)
    change_step(topic, Step.MERGED, person.user_id, ip, note=f"合并至议题#{target.id}",
                 after={"merged_into_id": target.id})
    db.session.commit()
    return topic


def _reviewable(topic_id: int, person: Participant) -> Topic:
    topic = locked(topic_id)
    require(person, TopicAction.REVIEW)
    rules.require_step(topic.step, Step.REVIEW, message="议题不在待确定阶段")
    return topic


# ---- step 3: discussion and options ------------------------------------------------------------------------


def comments_page(topic_id: int, page: int, page_size: int) -> Page:
    query = (select(TopicComment).where(TopicComment.topic_id == topic_id)
             .order_by(func.coalesce(TopicComment.parent_id, TopicComment.id), TopicComment.id))
    return entity_page(query, page, page_size)


def has_visible_comments(topic_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(
        TopicComment.topic_id == topic_id, TopicComment.hidden_at.is_(None)))))


def add_comment(topic_id: int, user_id: int, body: str, parent_id: int | None = None,
                ip: str | None = None) -> TopicComment:
    topic = db.session.get(Topic, topic_id)
    if topic is None:
        raise TopicRefused("议题不存在", Kind.NOT_FOUND)
    rules.require_step(topic.step, *OPEN_STEPS, message="议题已结束，不能再评论")
    if parent_id is not None:
        parent = db.session.get(TopicComment, parent_id)
        if parent is None or parent.topic_id != topic_id:
            raise TopicRefused("要回复的评论不存在", Kind.INVALID)
        # Replies stay one level deep, so a thread reads top to bottom on a phone.
        parent_id = parent.parent_id or parent.id
    comment = TopicComment(topic_id=topic_id, author_id=user_id, body=body, parent_id=parent_id)
    db.session.add(comment)
    db.session.flush()
    follow(topic_id, user_id)
    audit(topic, user_id, "topic.comment", after={"comment_id": comment.id, "parent_id": parent_id}, ip=ip)
    db.session.commit()
    return comment


def hide_comment(topic_id: int, comment_id: int, person: Participant, reason: str,
                 ip: str | None = None) -> TopicComment:
    """Moderation keeps the comment's place: it shows as hidden, with the reason, never silently gone."""
    require(person, TopicAction.HIDE_COMMENT)
    comment = db.session.get(TopicComment, comment_id)
    if comment is None or comment.topic_id != topic_id:
        raise TopicRefused("评论不存在", Kind.NOT_FOUND)
    if comment.hidden_at is not None:
        raise TopicRefused("这条评论已隐藏")
    comment.hidden_reason, comment.hidden_by_id, comment.hidden_at = reason, person.user_id, utcnow()
    topic = db.session.get(Topic, topic_id)
    audit(topic, person.user_id, "topic.hide_comment", note=reason, after={"comment_id": comment_id}, ip=ip)
    db.session.commit()
    return comment


@dataclass(frozen=True)
class OptionDraft:
    label: str
    is_abstain: bool = False
    is_approval: bool = False


def set_options(topic_id: int, person: Participant, drafts: Sequence[OptionDraft],
                ip: str | None = None) -> list[BallotOption]:
    """The committee drafts the ballot during deliberation; the list is replaced whole until the ballot opens."""
    require(person, TopicAction.SET_OPTIONS)
    topic = locked(topic_id)
    rules.require_step(topic.step, Step.DELIBERATION, message="只能在协商讨论阶段拟定表决选项")
    _check_drafts(drafts)
    db.session.execute(delete(BallotOption).where(BallotOption.topic_id == topic_id))
    options = [BallotOption(topic_id=topic_id, label=draft.label, position=position, is_abstain=draft.is_abstain,
                            is_approval=draft.is_approval)
               for position, draft in enumerate(drafts, start=1)]
    db.session.add_all(options)
    audit(topic, person.user_id, "topic.options", after={"options": [draft.label for draft in drafts]}, ip=ip)
    db.session.commit()
    return options


def _check_drafts(drafts: Sequence[OptionDraft]) -> None:
    if not rules.MIN_OPTIONS <= len(drafts) <= rules.MAX_OPTIONS:
        raise TopicRefused(f"表决选项须为{rules.MIN_OPTIONS}至{rules.MAX_OPTIONS}个", Kind.INVALID)
    labels = [draft.label.strip() for draft in drafts]
    if any(not label for label in labels) or len(set(labels)) != len(labels):
        raise TopicRefused("选项不能为空，也不能重复", Kind.INVALID)
    if sum(draft.is_abstain for draft in drafts) > 1 or sum(draft.is_approval for draft in drafts) > 1:
        raise TopicRefused("最多一个“弃权”选项和一个“同意”选项", Kind.INVALID)
    if any(draft.is_abstain and draft.is_approval for draft in drafts):
        raise TopicRefused("“弃权”不能同时是“同意”", Kind.INVALID)
    if len(drafts) - sum(draft.is_abstain for draft in drafts) < 1:
        raise TopicRefused("至少要有一个可表决的选项", Kind.INVALID)


def follow_topic(topic_id: int, user_id: int) -> None:
    follow(topic_id, user_id)
    db.session.commit()
