"""Deliberation rounds (五步议事法): propose and co-sign, review, discuss and draft options, the ballot (roll,
votes, paper ballots, close and the frozen result), publicity with objections, implementation and ratings;
the sweep that moves topics on at their deadlines and reminds non-voters."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from backend.domain import consultations as rules
from backend.domain import voting
from backend.domain.bindings import BindingRefused
from backend.domain.consultations import (
    NEEDS,
    OPEN_STEPS,
    STEP_LABELS,
    Channel,
    Schedule,
    Step,
    TopicAction,
    TopicRefused,
    acting_household,
    speaker_title,
)
from backend.domain.notifications import TOPIC_DESK, TOPIC_UPDATE, VOTE_REMINDER
from backend.domain.refusals import Kind
from backend.domain.roles import Action, Role
from backend.domain.voting import ABSTAIN, VoteCounts, VoteKind, VoteRule
from backend.extensions import db, dialect_insert
from backend.models import (
    BallotOption,
    BallotResult,
    BallotRoll,
    Building,
    ConsultationSettings,
    Household,
    Membership,
    RegisteredOwner,
    Topic,
    TopicComment,
    TopicCosign,
    TopicFollower,
    TopicObjection,
    TopicPhoto,
    TopicProgress,
    TopicRating,
    User,
    Vote,
    VoteCast,
)
from backend.policy import permits
from backend.services.audit import record_audit
from backend.services.bindings import find_household
from backend.services.notifications import notify
from backend.services.photos import MAX_PHOTOS_PER_ORDER, PreparedPhoto, kept_only_on_commit, store_photo
from backend.shared.clock import SHANGHAI, utcnow
from backend.shared.pagination import Page, paginate

MAX_TOPIC_PHOTOS = MAX_PHOTOS_PER_ORDER


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


# ---- reading ---------------------------------------------------------------------------------------------


def get_topic(topic_id: int) -> Topic | None:
    return db.session.scalar(
        select(Topic).options(joinedload(Topic.proposer)).where(Topic.id == topic_id)
    )


def topics_page(compound_id: int, steps: Sequence[Step] | None, page: int, page_size: int) -> Page:
    query = select(Topic).where(Topic.compound_id == compound_id)
    if steps:
        query = query.where(Topic.step.in_(steps))
    return _entity_page(query.order_by(Topic.id.desc()), page, page_size)


def _entity_page(query, page: int, page_size: int) -> Page:
    """paginate() hands back result rows; these lists hand back the objects themselves."""
    rows = paginate(query, page, page_size)
    return Page(items=[row[0] for row in rows.items], total=rows.total, page=page, page_size=page_size)


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


def households_of(household_ids: Sequence[int]) -> list[Household]:
    """These households with their buildings, for the labels of the forms (1栋 1单元 101室)."""
    if not household_ids:
        return []
    return list(db.session.scalars(
        select(Household).options(joinedload(Household.building)).where(Household.id.in_(household_ids))
        .order_by(Household.id)
    ))


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


def _add_photos(topic: Topic, uploader_id: int, photos: Sequence[PreparedPhoto], stored: list[str],
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
        _add_photos(topic, person.user_id, photos, stored)
        _follow(topic.id, person.user_id)
        _audit(topic, person.user_id, "topic.propose", after={"title": title}, ip=ip)
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
        _add_photos(topic, person.user_id, photos, stored)
        _follow(topic.id, person.user_id)
        _audit(topic, person.user_id, "topic.raise", after={"title": title, "step": Step.REVIEW}, ip=ip)
        _tell_desk(topic, f"新议题待确定：{topic.title}", "topic-review")
        db.session.commit()
    return topic


def add_proposal_photo(topic_id: int, person: Participant, photo: PreparedPhoto,
                       ip: str | None = None) -> TopicPhoto:
    """The proposer adds a photo to the proposal, one at a time, until the topic is accepted (what the
    co-signers and the reviewer saw must not change afterwards)."""
    topic = _locked(topic_id)
    if topic.proposer_id != person.user_id:
        raise TopicRefused("只有议题发起人可以添加照片", Kind.FORBIDDEN)
    rules.require_step(topic.step, Step.PROPOSED, Step.REVIEW, message="议题确定后不能再添加照片")
    if len(photos_of(topic_id, proposal=True)) >= MAX_TOPIC_PHOTOS:
        raise TopicRefused(f"最多上传{MAX_TOPIC_PHOTOS}张照片", Kind.INVALID)
    with kept_only_on_commit() as stored:
        [added] = _add_photos(topic, person.user_id, [photo], stored)
        db.session.flush()
        _audit(topic, person.user_id, "topic.photo", after={"photo_id": added.id}, ip=ip)
        db.session.commit()
    return added


def cosign(topic_id: int, person: Participant, household_id: int | None, ip: str | None = None) -> Topic:
    """联名: one co-sign per household (None: their only one); reaching the threshold moves the topic to 议题确定."""
    require(person, TopicAction.COSIGN)
    household_id = acting_household(household_id, person.household_ids)
    topic = _locked(topic_id)
    rules.require_step(topic.step, Step.PROPOSED, message="议题已不在征集阶段，不能再联名")
    if household_id not in person.household_ids:
        raise TopicRefused("只能以本人已认证的房屋联名", Kind.FORBIDDEN)
    try:
        with db.session.begin_nested():
            db.session.add(TopicCosign(topic_id=topic.id, household_id=household_id, user_id=person.user_id))
    except IntegrityError:
        raise TopicRefused("这户已经联名过了") from None
    topic.cosign_count += 1
    _follow(topic.id, person.user_id)
    _audit(topic, person.user_id, "topic.cosign", after={"cosign_count": topic.cosign_count}, ip=ip)
    if rules.reached_cosign_threshold(topic.cosign_count, settings_for(topic.compound_id).cosign_threshold):
        # The co-sign that reached the threshold moved the topic: its signer is not told of their own act.
        _to_review(topic, person.user_id, ip)
    db.session.commit()
    return topic


def _to_review(topic: Topic, actor_id: int | None, ip: str | None) -> None:
    _change_step(topic, Step.REVIEW, actor_id, ip)
    _tell_desk(topic, f"议题联名已达到{topic.cosign_count}户，待确定：{topic.title}", "topic-review")


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
    _change_step(topic, Step.DELIBERATION, person.user_id, ip, after={
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
    _change_step(topic, Step.DECLINED, person.user_id, ip, note=reason)
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
    for follower_id in _follower_ids(topic.id):
        _follow(target.id, follower_id)
    _change_step(topic, Step.MERGED, person.user_id, ip, note=f"合并至议题#{target.id}",
                 after={"merged_into_id": target.id})
    db.session.commit()
    return topic


def _reviewable(topic_id: int, person: Participant) -> Topic:
    topic = _locked(topic_id)
    require(person, TopicAction.REVIEW)
    rules.require_step(topic.step, Step.REVIEW, message="议题不在待确定阶段")
    return topic


# ---- step 3: discussion and options ------------------------------------------------------------------------


def comments_page(topic_id: int, page: int, page_size: int) -> Page:
    query = (select(TopicComment).where(TopicComment.topic_id == topic_id)
             .order_by(func.coalesce(TopicComment.parent_id, TopicComment.id), TopicComment.id))
    return _entity_page(query, page, page_size)


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
    _follow(topic_id, user_id)
    _audit(topic, user_id, "topic.comment", after={"comment_id": comment.id, "parent_id": parent_id}, ip=ip)
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
    _audit(topic, person.user_id, "topic.hide_comment", note=reason, after={"comment_id": comment_id}, ip=ip)
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
    topic = _locked(topic_id)
    rules.require_step(topic.step, Step.DELIBERATION, message="只能在协商讨论阶段拟定表决选项")
    _check_drafts(drafts)
    db.session.execute(delete(BallotOption).where(BallotOption.topic_id == topic_id))
    options = [BallotOption(topic_id=topic_id, label=draft.label, position=position, is_abstain=draft.is_abstain,
                            is_approval=draft.is_approval)
               for position, draft in enumerate(drafts, start=1)]
    db.session.add_all(options)
    _audit(topic, person.user_id, "topic.options", after={"options": [draft.label for draft in drafts]}, ip=ip)
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


# ---- step 4: the ballot --------------------------------------------------------------------------------------


def open_ballot(topic_id: int, actor_id: int | None, ip: str | None = None, now: datetime | None = None) -> Topic:
    """Freeze the roll (every household of the compound, its area and owner key as they are now) and open the
    ballot for the topic's window. `actor_id` None: the sweep, at the end of the deliberation."""
    now = now or utcnow()
    topic = _locked(topic_id)
    rules.require_step(topic.step, Step.DELIBERATION, message="只能在协商讨论阶段开启表决")
    if len(options_of(topic_id)) < rules.MIN_OPTIONS:
        raise TopicRefused("请先拟定至少两个表决选项")
    _freeze_roll(topic)
    topic.ballot_opened_at = now
    topic.ballot_closes_at = rules.voting_closes_at(now, topic.voting_hours or rules.MIN_VOTING_HOURS)
    topic.step_due_at = topic.ballot_closes_at
    # A reminder already due at opening is the opening notice itself: a 24-hour ballot would otherwise send
    # "不足24小时" in the same minute as "表决已开始".
    topic.voting_reminders_sent = rules.due_voting_reminders(now, topic.ballot_closes_at, 0)
    _change_step(topic, Step.VOTING, actor_id, ip, after={"ballot_closes_at": topic.ballot_closes_at.isoformat()})
    notify(_eligible_voter_ids(topic), VOTE_REMINDER, f"表决已开始：{topic.title}",
           body=f"请在{_local(topic.ballot_closes_at)}前完成表决", link=_link(topic),
           dedupe_key=f"topic-{topic.id}-ballot-open")
    db.session.commit()
    return topic


def _freeze_roll(topic: Topic) -> None:
    owner_keys = _owner_keys(topic.compound_id)
    households = db.session.execute(
        select(Household.id, Household.floor_area_centi_m2).where(Household.compound_id == topic.compound_id)
    ).all()
    if households:
        db.session.execute(
            BallotRoll.__table__.insert(),
            [{"topic_id": topic.id, "household_id": row.id, "owner_key": owner_keys.get(row.id, f"h:{row.id}"),
              "area_centi_m2": row.floor_area_centi_m2, "counted": False} for row in households],
        )


def _owner_keys(compound_id: int) -> dict[int, str]:
    """Who owns each household, as a key equal across the households of one owner (Art. 278 counts an owner
    once). The phone is the identity the register and the app share: a verified owner's phone, else the
    register's; an owner without either is a person of their own (`u:`/`h:`)."""
    keys: dict[int, str] = {}
    for row in db.session.execute(
        select(RegisteredOwner.household_id, RegisteredOwner.phone_hash)
        .join(Household, Household.id == RegisteredOwner.household_id)
        .where(Household.compound_id == compound_id, RegisteredOwner.phone_hash.is_not(None))
        .order_by(RegisteredOwner.id)
    ):
        keys.setdefault(row.household_id, f"p:{row.phone_hash}")
    verified: dict[int, str] = {}
    for row in db.session.execute(
        select(Membership.household_id, Membership.user_id, User.phone_hash)
        .join(User, User.id == Membership.user_id)
        .where(Membership.compound_id == compound_id, Membership.role == Role.OWNER,
               Membership.verified_at.is_not(None))
        .order_by(Membership.user_id)
    ):
        verified.setdefault(row.household_id, f"p:{row.phone_hash}" if row.phone_hash else f"u:{row.user_id}")
    keys.update(verified)
    return keys


def _eligible_voter_ids(topic: Topic, only_not_voted: bool = False) -> list[int]:
    """The verified people of the households on the roll (those who have not voted, for reminders). Three scans
    by key, matched here: while the planner's statistics predate a fresh roll, a join with it goes quadratic."""
    roles = (Role.OWNER, Role.RESIDENT) if topic.residents_may_vote else (Role.OWNER,)
    people = db.session.execute(
        select(Membership.user_id, Membership.household_id).where(
            Membership.compound_id == topic.compound_id, Membership.role.in_(roles),
            Membership.verified_at.is_not(None))
    ).all()
    on_roll = set(db.session.scalars(select(BallotRoll.household_id).where(BallotRoll.topic_id == topic.id)))
    if only_not_voted:
        on_roll -= set(db.session.scalars(select(Vote.household_id).where(Vote.topic_id == topic.id)))
    return list(dict.fromkeys(user_id for user_id, household_id in people if household_id in on_roll))


def cast_vote(topic_id: int, person: Participant, household_id: int | None, option_id: int,
              now: datetime | None = None) -> Vote:
    """One vote per household (None: the only one they may vote for), changeable until the ballot closes; the
    last cast counts. Many owners vote at once, so the topic row is only share-locked here (closing takes the
    exclusive lock and waits for them)."""
    now = now or utcnow()
    require(person, TopicAction.VOTE)
    topic = db.session.scalar(
        select(Topic).where(Topic.id == topic_id).with_for_update(read=True)
        .execution_options(populate_existing=True)
    )
    if topic is None:
        raise TopicRefused("议题不存在", Kind.NOT_FOUND)
    household_id = acting_household(household_id, voting_household_ids(topic, person))
    _check_ballot_open(topic, now)
    if household_id not in voting_household_ids(topic, person):
        raise TopicRefused("只有这户已认证的业主可以表决" if not topic.residents_may_vote
                           else "只有这户已认证的业主或住户可以表决", Kind.FORBIDDEN)
    return _record_vote(topic, household_id, option_id, Channel.ONLINE, person.user_id, now)


def record_paper_vote(topic_id: int, person: Participant, household_id: int, option_id: int, channel: Channel,
                      photo: PreparedPhoto, note: str = "", ip: str | None = None,
                      now: datetime | None = None) -> Vote:
    """书面表决票 or 委托书, recorded by a committee member with a photo of the paper, as an audit event."""
    now = now or utcnow()
    require(person, TopicAction.RECORD_PAPER_VOTE)
    if channel is Channel.ONLINE:
        raise TopicRefused("请选择书面表决票或委托书", Kind.INVALID)
    topic = db.session.scalar(
        select(Topic).where(Topic.id == topic_id).with_for_update(read=True)
        .execution_options(populate_existing=True)
    )
    if topic is None:
        raise TopicRefused("议题不存在", Kind.NOT_FOUND)
    _check_ballot_open(topic, now)
    with kept_only_on_commit() as stored:
        vote = _record_vote(topic, household_id, option_id, channel, person.user_id, now, note=note, commit=False)
        cast_id = db.session.scalar(select(func.max(VoteCast.id)).where(
            VoteCast.topic_id == topic_id, VoteCast.household_id == household_id))
        _add_photos(topic, person.user_id, [photo], stored, vote_cast_id=cast_id)
        _audit(topic, person.user_id, "topic.paper_vote", note=note,
               after={"household_id": household_id, "channel": channel, "vote_cast_id": cast_id}, ip=ip)
        db.session.commit()
    return vote


def household_at(compound_id: int, building_id: int, unit: str, room: str) -> Household:
    """The household a paper ballot names by its address (楼栋、单元、房号). Not finding it is a mistake in the
    form (INVALID), whatever the binding service's own refusal says about a binding request."""
    try:
        return find_household(compound_id, building_id, unit, room)
    except BindingRefused as refused:
        raise TopicRefused(refused.message, Kind.INVALID) from None


def _check_ballot_open(topic: Topic, now: datetime) -> None:
    rules.require_step(topic.step, Step.VOTING, message="表决未开始或已结束")
    if now >= topic.ballot_closes_at:
        raise TopicRefused("表决已截止")


def _record_vote(topic: Topic, household_id: int, option_id: int, channel: Channel, cast_by_id: int,
                 now: datetime, note: str = "", commit: bool = True) -> Vote:
    topic_id = topic.id
    entry = db.session.execute(
        select(BallotRoll.area_centi_m2, BallotRoll.owner_key, BallotOption.id)
        .select_from(BallotRoll)
        .outerjoin(BallotOption, and_(BallotOption.id == option_id, BallotOption.topic_id == topic_id))
        .where(BallotRoll.topic_id == topic_id, BallotRoll.household_id == household_id)
    ).one_or_none()
    if entry is None:
        raise TopicRefused("这户不在本次表决名单中", Kind.FORBIDDEN)
    if entry[2] is None:
        raise TopicRefused("没有这个表决选项", Kind.INVALID)
    cast = {"option_id": option_id, "channel": channel, "cast_by_id": cast_by_id, "cast_at": now}
    # One statement, so fifty taps from one household at once still leave one row (the unique key decides).
    statement = (
        dialect_insert(Vote)
        .values(topic_id=topic_id, household_id=household_id, area_centi_m2=entry[0], owner_key=entry[1], casts=1,
                **cast)
        .on_conflict_do_update(index_elements=[Vote.topic_id, Vote.household_id],
                               set_={**cast, "casts": Vote.casts + 1})
        .returning(Vote)
    )
    vote = db.session.scalars(statement, execution_options={"populate_existing": True}).one()
    db.session.add(VoteCast(topic_id=topic_id, household_id=household_id, option_id=option_id, channel=channel,
                            cast_by_id=cast_by_id, note=note, created_at=now))
    _follow(topic_id, cast_by_id)
    if commit:
        # Detached, so the commit does not expire it: the caller's receipt needs no second round of reads.
        db.session.expunge(vote)
        db.session.commit()
    return vote


def household_votes(topic_id: int, household_ids: Sequence[int]) -> dict[int, Vote]:
    """The recorded vote of each of these households (each owner checks their own household's)."""
    if not household_ids:
        return {}
    return {vote.household_id: vote for vote in db.session.scalars(
        select(Vote).where(Vote.topic_id == topic_id, Vote.household_id.in_(household_ids)))}


def roll_household_ids(topic_id: int, household_ids: Sequence[int]) -> set[int]:
    if not household_ids:
        return set()
    return set(db.session.scalars(select(BallotRoll.household_id).where(
        BallotRoll.topic_id == topic_id, BallotRoll.household_id.in_(household_ids))))


@dataclass(frozen=True)
class BallotReceipt:
    """One of my households in a ballot: on the frozen roll or not, voted or not, and the recorded vote (the
    choice, its channel and time) where rules.choice_shown says so."""

    household: Household
    may_vote: bool
    on_roll: bool
    voted: bool
    vote: Vote | None


def my_ballot_receipts(topic: Topic, person: Participant) -> list[BallotReceipt]:
    """The ballot as each of my verified households stands in it (rules.in_my_ballots says which)."""
    if topic.ballot_opened_at is None or not person.household_ids:
        return []
    may_vote = set(voting_household_ids(topic, person))
    on_roll = roll_household_ids(topic.id, person.household_ids)
    votes = household_votes(topic.id, person.household_ids)
    households = {household.id: household for household in households_of(person.household_ids)}
    return [
        BallotReceipt(household=households[household_id], may_vote=household_id in may_vote,
                      on_roll=household_id in on_roll, voted=household_id in votes,
                      vote=votes.get(household_id) if rules.choice_shown(household_id in may_vote) else None)
        for household_id in person.household_ids
        if rules.in_my_ballots(household_id in may_vote, household_id in on_roll, household_id in votes)
    ]


@dataclass(frozen=True)
class Turnout:
    """The live participation bar: who has voted so far, against the 2/3 lines (no choices in it)."""

    roll_households: int
    voted_households: int
    total_area_centi_m2: int
    voted_area_centi_m2: int
    total_headcount: int
    voted_headcount: int

    def area_line_met(self) -> bool:
        return voting.meets_participation_line(self.voted_area_centi_m2, self.total_area_centi_m2)

    def headcount_line_met(self) -> bool:
        return voting.meets_participation_line(self.voted_headcount, self.total_headcount)


def turnout(topic_id: int) -> Turnout:
    totals = db.session.execute(_roll_totals(topic_id)).one()
    voted = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Vote.area_centi_m2), 0), func.count(func.distinct(Vote.owner_key)))
        .where(Vote.topic_id == topic_id)
    ).one()
    return Turnout(roll_households=totals[0], total_area_centi_m2=totals[1], total_headcount=totals[2],
                   voted_households=voted[0], voted_area_centi_m2=voted[1], voted_headcount=voted[2])


def _roll_totals(topic_id: int):
    return select(func.count(), func.coalesce(func.sum(BallotRoll.area_centi_m2), 0),
                  func.count(func.distinct(BallotRoll.owner_key))).where(BallotRoll.topic_id == topic_id)


@dataclass(frozen=True)
class RollEntry:
    household_id: int
    building: str
    unit: str
    room: str
    voted: bool
    # Only in a published result of an open vote (公开表决); never in turnout lists.
    option_label: str | None = None

    @property
    def label(self) -> str:
        return rules.household_label(self.building, self.unit, self.room)


def voters(topic_id: int, person: Participant, page: int, page_size: int) -> Page:
    """The roll with who has voted, never how: for those who run the ballot, to remind those who have not."""
    if not person.runs_consultations:
        raise TopicRefused(rules.RUNS + "查看表决名单", Kind.FORBIDDEN)
    topic = db.session.get(Topic, topic_id)
    if topic is None or topic.ballot_opened_at is None:
        raise TopicRefused("表决尚未开始")
    return roll_page(topic_id, page, page_size)


def roll_page(topic_id: int, page: int, page_size: int, *, counted_only: bool = False,
              with_choices: bool = False) -> Page:
    """The roll with who has voted (for the committee's reminders) or, after close, the households counted.
    How a household voted is included only for open votes' published results."""
    # Two steps, each over one topic's rows by key: a join of the roll to the votes goes quadratic while the
    # planner's statistics predate the topic (the first hours of every ballot).
    query = (
        select(BallotRoll.household_id, Building.name, Household.unit, Household.room)
        .join(Household, Household.id == BallotRoll.household_id)
        .join(Building, Building.id == Household.building_id)
        .where(BallotRoll.topic_id == topic_id)
    )
    if counted_only:
        query = query.where(BallotRoll.counted.is_(True))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(
        query.order_by(Building.name, Household.unit, Household.room, BallotRoll.household_id)
        .limit(page_size).offset((page - 1) * page_size)
    ).all()
    choices = dict(db.session.execute(
        select(Vote.household_id, BallotOption.label).join(BallotOption, BallotOption.id == Vote.option_id)
        .where(Vote.topic_id == topic_id, Vote.household_id.in_([row[0] for row in rows]))
    ).all()) if rows else {}
    items = [RollEntry(household_id=row[0], building=row[1], unit=row[2], room=row[3], voted=row[0] in choices,
                       option_label=choices.get(row[0]) if with_choices else None) for row in rows]
    return Page(items=items, total=total, page=page, page_size=page_size)


def close_ballot(topic_id: int, actor_id: int | None, ip: str | None = None,
                 now: datetime | None = None) -> BallotResult:
    """Close the ballot, compute the result by SQL aggregation and the pure rule, and freeze it with its inputs.
    Early close (by the committee) only once every household on the roll has voted."""
    now = now or utcnow()
    topic = _locked(topic_id)
    rules.require_step(topic.step, Step.VOTING, message="表决未开始或已结束")
    live = turnout(topic_id)
    if not rules.may_close_ballot(now, topic.ballot_closes_at, live.voted_households, live.roll_households):
        raise TopicRefused(f"表决截止时间（{_local(topic.ballot_closes_at)}）未到，且仍有住户未表决，不能提前结束")
    result = _tally(topic, now)
    db.session.add(result)
    db.session.execute(
        # One index probe per roll row: a join here goes quadratic while the statistics predate the topic.
        update(BallotRoll).where(BallotRoll.topic_id == topic_id)
        .values(counted=exists().where(Vote.topic_id == BallotRoll.topic_id,
                                       Vote.household_id == BallotRoll.household_id))
        .execution_options(synchronize_session=False)
    )
    topic.ballot_closed_at = now
    topic.publicity_ends_at = now + timedelta(days=topic.publicity_days or rules.DEFAULT_PUBLICITY_DAYS)
    topic.step_due_at = topic.publicity_ends_at
    _change_step(topic, Step.PUBLICITY, actor_id, ip, note=result.reason,
                 after={"passed": result.passed, "participation_met": result.participation_met})
    db.session.commit()
    return result


def _rule_of(topic: Topic) -> VoteRule:
    return VoteRule(kind=topic.vote_kind or VoteKind.CONSULTATION, item=topic.civil_code_item)


def option_key(option: BallotOption) -> str:
    return ABSTAIN if option.is_abstain else str(option.id)


def count_ballot(topic_id: int, options: Sequence[BallotOption]) -> VoteCounts:
    """The ballot's figures in aggregate queries over the roll and the votes (each vote carries its household's
    area and owner key), so a 5,000-household close loads no votes into Python."""
    totals = db.session.execute(_roll_totals(topic_id)).one()
    counted = (func.count(), func.coalesce(func.sum(Vote.area_centi_m2), 0), func.count(func.distinct(Vote.owner_key)))
    participating = db.session.execute(select(*counted).where(Vote.topic_id == topic_id)).one()
    per_option = db.session.execute(
        select(Vote.option_id, *counted).where(Vote.topic_id == topic_id).group_by(Vote.option_id)
    ).all()
    keys = {option.id: option_key(option) for option in options}
    households: dict[str, int] = {}
    area: dict[str, int] = {}
    heads: dict[str, int] = {}
    for option_id, count, option_area, option_heads in per_option:
        key = keys[option_id]
        households[key], area[key], heads[key] = count, option_area, option_heads
    return VoteCounts(
        eligible_households=totals[0], total_area_centi_m2=totals[1], total_headcount=totals[2],
        participating_households=participating[0], participating_area_centi_m2=participating[1],
        participating_headcount=participating[2],
        option_households=households, option_area_centi_m2=area, option_headcount=heads,
    )


def _tally(topic: Topic, now: datetime) -> BallotResult:
    options = options_of(topic.id)
    rule = _rule_of(topic)
    counts = count_ballot(topic.id, options)
    approval = next((option for option in options if option.is_approval), None)
    candidates = [option for option in options if not option.is_abstain]
    decided_by = [approval] if approval else candidates
    judged = {option.id: voting.judge(rule, counts, option_key(option)) for option in decided_by}
    first = next(iter(judged.values()))
    passed = any(result.passed for result in judged.values())
    reason = first.reason if approval else (voting.PASSED if passed else first.reason)
    return BallotResult(
        topic_id=topic.id, vote_kind=rule.kind, civil_code_item=rule.item,
        eligible_households=counts.eligible_households, total_area_centi_m2=counts.total_area_centi_m2,
        total_headcount=counts.total_headcount, participating_households=counts.participating_households,
        participating_area_centi_m2=counts.participating_area_centi_m2,
        participating_headcount=counts.participating_headcount,
        participation_met=first.participation_met, passed=passed, reason=reason,
        options={
            str(option.id): {
                "label": option.label, "is_abstain": option.is_abstain, "is_approval": option.is_approval,
                "households": counts.option_households.get(option_key(option), 0),
                "area_centi_m2": counts.option_area_centi_m2.get(option_key(option), 0),
                "headcount": counts.option_headcount.get(option_key(option), 0),
                "approved": first.approves(option_key(option)),
            } for option in options
        },
        thresholds={
            "participation": str(first.participation_threshold) if first.participation_threshold else None,
            "approval": str(first.approval_threshold), "approval_strict": first.approval_strict,
        },
        computed_at=now,
    )


def result_of(topic_id: int) -> BallotResult | None:
    return db.session.get(BallotResult, topic_id)


def tally_result(result: BallotResult, option_id: int | None = None) -> voting.TallyResult:
    """The frozen figures as the pure rule's result, for explain(): the approval option, or one candidate."""
    options = result.options
    chosen = str(option_id) if option_id is not None else next(
        (key for key, option in options.items() if option["is_approval"]),
        next(key for key, option in options.items() if not option["is_abstain"]))
    key_of = {key: ABSTAIN if option["is_abstain"] else key for key, option in options.items()}
    counts = VoteCounts(
        eligible_households=result.eligible_households, total_area_centi_m2=result.total_area_centi_m2,
        total_headcount=result.total_headcount, participating_households=result.participating_households,
        participating_area_centi_m2=result.participating_area_centi_m2,
        participating_headcount=result.participating_headcount,
        option_households={key_of[k]: o["households"] for k, o in options.items()},
        option_area_centi_m2={key_of[k]: o["area_centi_m2"] for k, o in options.items()},
        option_headcount={key_of[k]: o["headcount"] for k, o in options.items()},
    )
    return voting.judge(VoteRule(kind=result.vote_kind, item=result.civil_code_item), counts, key_of[chosen])


@dataclass(frozen=True)
class Explanation:
    option_id: int
    label: str
    lines: list[str]


def explanations(result: BallotResult) -> list[Explanation]:
    """voting.explain's lines: for a motion, of its 同意 option; for candidates, one block per candidate."""
    options = result.options
    approval = [key for key, option in options.items() if option["is_approval"]]
    decided = approval or [key for key, option in options.items() if not option["is_abstain"]]
    return [
        Explanation(option_id=int(key), label=options[key]["label"],
                    lines=voting.explain(tally_result(result, int(key)), options[key]["label"]))
        for key in decided
    ]


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
    topic = _locked(topic_id)
    if not rules.objections_open(topic.step, utcnow(), topic.publicity_ends_at):
        raise TopicRefused("只能在结果公示期内提出异议")
    if household_id not in person.owned_household_ids:
        raise TopicRefused("只有这户已认证的业主可以提出异议", Kind.FORBIDDEN)
    objection = TopicObjection(topic_id=topic_id, author_id=person.user_id, household_id=household_id, body=body)
    db.session.add(objection)
    db.session.flush()
    _audit(topic, person.user_id, "topic.objection", note=body, after={"objection_id": objection.id}, ip=ip)
    _tell_desk(topic, f"议题收到异议，请公开答复：{topic.title}", f"topic-objection-{objection.id}")
    db.session.commit()
    return objection


def answer_objection(topic_id: int, objection_id: int, person: Participant, answer: str,
                     ip: str | None = None) -> TopicObjection:
    require(person, TopicAction.ANSWER_OBJECTION)
    topic = _locked(topic_id)
    objection = db.session.get(TopicObjection, objection_id)
    if objection is None or objection.topic_id != topic_id:
        raise TopicRefused("异议不存在", Kind.NOT_FOUND)
    if objection.answered_at is not None:
        raise TopicRefused("这条异议已经答复过了")
    objection.answer, objection.answered_by_id, objection.answered_at = answer, person.user_id, utcnow()
    _audit(topic, person.user_id, "topic.answer_objection", note=answer, after={"objection_id": objection_id}, ip=ip)
    notify([objection.author_id], TOPIC_UPDATE, f"您的异议已答复：{topic.title}", body=answer[:200],
           link=_link(topic), dedupe_key=f"topic-objection-answer-{objection_id}")
    db.session.commit()
    return objection


def progress_updates(topic_id: int) -> list[TopicProgress]:
    return list(db.session.scalars(
        select(TopicProgress).where(TopicProgress.topic_id == topic_id).order_by(TopicProgress.id)))


def post_progress(topic_id: int, person: Participant, body: str, is_final: bool,
                  photos: Sequence[PreparedPhoto] = (), ip: str | None = None) -> TopicProgress:
    """落实: the responsible party reports progress with photos; the final update ends the round."""
    require(person, TopicAction.POST_PROGRESS)
    topic = _locked(topic_id)
    rules.require_step(topic.step, Step.IMPLEMENTATION, message="议题不在落实阶段")
    with kept_only_on_commit() as stored:
        progress = TopicProgress(topic_id=topic_id, author_id=person.user_id, body=body, is_final=is_final)
        db.session.add(progress)
        db.session.flush()
        _add_photos(topic, person.user_id, photos, stored, progress_id=progress.id)
        _audit(topic, person.user_id, "topic.progress", note=body, after={"progress_id": progress.id}, ip=ip)
        if is_final:
            topic.implemented_at = utcnow()
            _change_step(topic, Step.DONE, person.user_id, ip, note="落实完成")
        else:
            _tell_followers(topic, f"落实进展：{topic.title}", body, f"topic-{topic.id}-progress-{progress.id}",
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
    _audit(topic, person.user_id, "topic.rate", after={"household_id": household_id, "stars": stars}, ip=ip)
    db.session.commit()
    return db.session.scalar(select(TopicRating).where(
        TopicRating.topic_id == topic_id, TopicRating.household_id == household_id
    ).execution_options(populate_existing=True))


def follow_topic(topic_id: int, user_id: int) -> None:
    _follow(topic_id, user_id)
    db.session.commit()


# ---- "待我表决" -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingBallot:
    topic: Topic
    household_ids: tuple[int, ...]


def pending_ballots(user_id: int, compound_id: int) -> list[PendingBallot]:
    """Open ballots in which one of my households may vote and has not yet."""
    rows = db.session.execute(
        select(Topic, BallotRoll.household_id, Membership.role)
        .join(BallotRoll, BallotRoll.topic_id == Topic.id)
        .join(Membership, Membership.household_id == BallotRoll.household_id)
        .where(Topic.compound_id == compound_id, Topic.step == Step.VOTING, Membership.user_id == user_id,
               Membership.verified_at.is_not(None),
               or_(Membership.role == Role.OWNER, and_(Membership.role == Role.RESIDENT, Topic.residents_may_vote)),
               ~exists().where(Vote.topic_id == Topic.id, Vote.household_id == BallotRoll.household_id))
        .order_by(Topic.ballot_closes_at, Topic.id, BallotRoll.household_id)
    ).all()
    pending: dict[int, PendingBallot] = {}
    for topic, household_id, _role in rows:
        entry = pending.get(topic.id)
        ids = (entry.household_ids if entry else ()) + (household_id,)
        pending[topic.id] = PendingBallot(topic=topic, household_ids=tuple(dict.fromkeys(ids)))
    return list(pending.values())


# ---- the sweep (cron) ------------------------------------------------------------------------------------------


def due_topic_ids(now: datetime, limit: int = 200) -> list[int]:
    """Topics whose step deadline has passed and that can move now. A publicity with an objection still
    unanswered waits for the answer: it is not due, so it neither comes back in every batch nor keeps the
    topics behind it from their turn."""
    unanswered = exists().where(TopicObjection.topic_id == Topic.id, TopicObjection.answered_at.is_(None))
    return list(db.session.scalars(
        select(Topic.id).where(Topic.step_due_at <= now,
                               Topic.step.in_((Step.DELIBERATION, Step.VOTING, Step.PUBLICITY)),
                               ~and_(Topic.step == Step.PUBLICITY, unanswered))
        .order_by(Topic.step_due_at).limit(limit)
    ))


def advance_topic(topic_id: int, now: datetime) -> Step | None:
    """Take the step whose deadline has passed, once: open the ballot, close it, or end the publicity. Returns
    the new step, or None when nothing moved (already moved, or it must wait for people)."""
    topic = _locked(topic_id)
    if topic.step_due_at is None or topic.step_due_at > now:
        db.session.rollback()
        return None
    if topic.step is Step.DELIBERATION:
        if len(options_of(topic_id)) < rules.MIN_OPTIONS:
            # Nothing to vote on yet: the committee is told once and opens the ballot by hand.
            topic.step_due_at = None
            _tell_desk(topic, f"协商讨论已到期，请拟定表决选项后开启表决：{topic.title}",
                       f"topic-{topic.id}-needs-options")
            db.session.commit()
            return None
        db.session.rollback()
        return open_ballot(topic_id, None, now=now).step
    if topic.step is Step.VOTING:
        db.session.rollback()
        close_ballot(topic_id, None, now=now)
        return Step.PUBLICITY
    if topic.step is Step.PUBLICITY:
        return _end_publicity(topic, now)
    db.session.rollback()
    return None


def _end_publicity(topic: Topic, now: datetime) -> Step | None:
    unanswered = db.session.scalar(select(func.count()).where(
        TopicObjection.topic_id == topic.id, TopicObjection.answered_at.is_(None)))
    if unanswered:
        # Publicity ends only once every objection has its public answer; the desk was told when each arrived.
        db.session.rollback()
        return None
    result = result_of(topic.id)
    step = rules.step_after_publicity(bool(result and result.passed))
    topic.step_due_at = None
    _change_step(topic, step, None, None)
    db.session.commit()
    return step


def send_voting_reminders(now: datetime) -> int:
    """Eligible non-voters 24 h and 2 h before the ballot closes, each reminder once."""
    first_due = now + max(rules.VOTING_REMINDERS)
    topic_ids = list(db.session.scalars(
        select(Topic.id).where(Topic.step == Step.VOTING, Topic.ballot_closes_at <= first_due,
                               Topic.ballot_closes_at > now,
                               Topic.voting_reminders_sent < len(rules.VOTING_REMINDERS))
    ))
    sent = 0
    for topic_id in topic_ids:
        topic = _locked(topic_id)
        due = rules.due_voting_reminders(now, topic.ballot_closes_at, topic.voting_reminders_sent)
        if due > topic.voting_reminders_sent and topic.step is Step.VOTING:
            hours = int(rules.VOTING_REMINDERS[due - 1].total_seconds() // 3600)
            notify(_eligible_voter_ids(topic, only_not_voted=True), VOTE_REMINDER,
                   f"表决即将截止：{topic.title}", body=f"距截止不足{hours}小时，请尽快表决",
                   link=_link(topic), dedupe_key=f"topic-{topic.id}-vote-reminder-{due}")
            topic.voting_reminders_sent = due
            sent += 1
        db.session.commit()
    return sent


# ---- shared ----------------------------------------------------------------------------------------------------


def _locked(topic_id: int) -> Topic:
    topic = db.session.scalar(
        select(Topic).where(Topic.id == topic_id).with_for_update().execution_options(populate_existing=True)
    )
    if topic is None:
        raise TopicRefused("议题不存在", Kind.NOT_FOUND)
    return topic


def _audit(topic: Topic, actor_id: int | None, action: str, *, note: str = "", after: dict | None = None,
           ip: str | None = None) -> None:
    after = dict(after or {})
    if note:
        after["note"] = note
    record_audit(actor_id=actor_id, action=action, target_type="topic", target_id=topic.id,
                 compound_id=topic.compound_id, after=after, ip=ip)


def _change_step(topic: Topic, step: Step, actor_id: int | None, ip: str | None, *, note: str = "",
                 after: dict | None = None) -> None:
    before = topic.step
    topic.step = step
    if step not in (Step.DELIBERATION, Step.VOTING, Step.PUBLICITY):
        topic.step_due_at = None
    record_audit(actor_id=actor_id, action=f"topic.{step.value}", target_type="topic", target_id=topic.id,
                 compound_id=topic.compound_id, before={"step": before},
                 after={"step": step, **({"note": note} if note else {}), **(after or {})}, ip=ip)
    _tell_followers(topic, f"议题进入“{STEP_LABELS[step]}”：{topic.title}", note,
                    f"topic-{topic.id}-step-{step.value}", except_user_id=actor_id)


def _follow(topic_id: int, user_id: int) -> None:
    db.session.execute(
        dialect_insert(TopicFollower).values(topic_id=topic_id, user_id=user_id, created_at=utcnow())
        .on_conflict_do_nothing()
    )


def _follower_ids(topic_id: int) -> list[int]:
    return list(db.session.scalars(select(TopicFollower.user_id).where(TopicFollower.topic_id == topic_id)))


def _tell_followers(topic: Topic, title: str, body: str, dedupe_key: str, except_user_id: int | None) -> None:
    recipients = [user_id for user_id in _follower_ids(topic.id) if user_id != except_user_id]
    if recipients:
        notify(recipients, TOPIC_UPDATE, title, body=body[:200], link=_link(topic), dedupe_key=dedupe_key)


def _tell_desk(topic: Topic, title: str, dedupe_suffix: str) -> None:
    desk = list(db.session.scalars(select(Membership.user_id).distinct().where(
        Membership.compound_id == topic.compound_id,
        Membership.role.in_((Role.COMMITTEE, Role.PARTY_SECRETARY)))))
    if desk:
        notify(desk, TOPIC_DESK, title, link=_link(topic), dedupe_key=f"topic-{topic.id}-{dedupe_suffix}")


def _link(topic: Topic) -> str:
    return f"/h5/topics/{topic.id}"


def _local(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%m月%d日 %H:%M")

