"""Deliberation rounds (五步议事法) API: topics from proposal and co-signs through review, discussion, the ballot
and its frozen result to objections, implementation and ratings; the compound's settings and "待我表决".

Refusals keep the error shape: a topic or compound the caller has nothing to do with → 404 (its existence
stays hidden), a role or household that may not → 403, the topic's step forbids it → 409, bad input → 422,
a photo over 10 MB → 413. How a household voted is shown only to that household's own people, and to
everyone in the result of an open vote (公开表决)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask.views import MethodView
from flask_jwt_extended import jwt_required
from flask_smorest import Blueprint, abort
from werkzeug.datastructures import CombinedMultiDict

from backend.api.arguments import ArgumentsParser
from backend.api.uploads import limit_photo_upload
from backend.domain import consultations as rules
from backend.domain.consultations import FIVE_STEPS, OPEN_STEPS, Channel, Schedule, Step, TopicRefused
from backend.domain.roles import Action, allows
from backend.domain.voting import ITEM_LABELS, VoteRule
from backend.errors import json_error
from backend.extensions import db
from backend.models import BallotOption, BallotResult, Compound, Topic, TopicComment, TopicObjection
from backend.policy import Access, authorize
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.schemas.common import ApiErrorSchema, PageQuery, envelope
from backend.schemas.consultations import (
    AnswerSchema,
    BallotResultSchema,
    CommentInputSchema,
    CommentSchema,
    ConsultationSettingsSchema,
    HideSchema,
    HouseholdChoiceSchema,
    ObjectionInputSchema,
    ObjectionListSchema,
    ObjectionSchema,
    OptionListInputSchema,
    OptionListSchema,
    PaperVoteSchema,
    PendingBallotListSchema,
    ProgressInputSchema,
    ProgressListSchema,
    ProgressSchema,
    ProposeSchema,
    RatingSummarySchema,
    ReviewSchema,
    TopicDetailSchema,
    TopicListQuery,
    TopicPhotoSchema,
    TopicPhotoUploadSchema,
    TopicRatingInputSchema,
    TopicSchema,
    TurnoutSchema,
    VoteInputSchema,
    VoteReceiptListSchema,
    VoteReceiptSchema,
    VoterSchema,
)
from backend.services import consultations as service
from backend.services import meetings as meeting_service
from backend.services import photos as photo_service
from backend.services.consultations import (
    MAX_TOPIC_PHOTOS,
    RESIDENT_TITLE,
    Acceptance,
    Participant,
    Speaker,
    household_label,
)
from backend.shared.clock import utcnow


class MultipartParser(ArgumentsParser):
    """Reads a multipart body as one form. flask-smorest documents one request body per view, so a photo and
    the fields sent beside it load through one schema at the "files" location."""

    def load_files(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)


blp = Blueprint("consultations", __name__, url_prefix="/api/v1", description="议事协商")
blp.ARGUMENTS_PARSER = MultipartParser()

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
TOPIC_ID = "<int(min=1, max=2147483647):topic_id>"
COMMENT_ID = "<int(min=1, max=2147483647):comment_id>"
OBJECTION_ID = "<int(min=1, max=2147483647):objection_id>"
PHOTO_ID = "<int(min=1, max=2147483647):topic_photo_id>"
# The first page of counted households that comes back with the result of a close.
COUNTED_PER_PAGE = 20
_AFTER_THE_BALLOT = frozenset({Step.PUBLICITY, Step.IMPLEMENTATION, Step.DONE})


@blp.errorhandler(TopicRefused)
def _refused(exc: TopicRefused):
    """Every view lets the service's refusal through: it answers in the error shape with the refusal's status."""
    # Nothing of a refused request may be committed later by accident; this also frees the topic's row lock.
    db.session.rollback()
    return json_error(exc.status, exc.message)


def _photo_refused(exc: photo_service.PhotoRefused):
    status = 413 if isinstance(exc, photo_service.PhotoTooLarge) else 422
    abort(status, message=str(exc), errors={"photo": [str(exc)]})


@dataclass(frozen=True)
class Seen:
    """A topic and the caller's standing in its compound."""

    topic: Topic
    access: Access
    person: Participant


def _seen(topic_id: int) -> Seen:
    """The topic and who is asking; 404 for anyone with nothing to do with its compound."""
    topic = service.get_topic(topic_id)
    if topic is None:
        abort(404)
    user_id = optional_user_id()
    access = authorize(Action.VIEW_TOPICS, topic.compound_id, user_id, entry_compound_id())
    return Seen(
        topic=topic, access=access, person=service.participant(user_id, access.compound_id, access.roles)
    )


def _require(person: Participant, action: Action, message: str) -> None:
    if not allows(person.roles, action):
        abort(403, message=message)


def _household(chosen: int | None, choices: tuple[int, ...], message: str) -> int:
    """The household to act for: the one named (the service checks it is the caller's), else the caller's
    only one."""
    if chosen is not None:
        return chosen
    if not choices:
        abort(403, message=message)
    if len(choices) > 1:
        abort(422, message="请选择房屋", errors={"household_id": ["请选择以哪一户的名义"]})
    return choices[0]


def _title(speaker: Speaker | None) -> str:
    return speaker.title if speaker else RESIDENT_TITLE


def _prepared(upload):
    try:
        return photo_service.prepare_photo(upload.stream)
    except photo_service.PhotoRefused as exc:
        _photo_refused(exc)


# ---- the detail ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """One of my households in the ballot and its recorded vote."""

    household_id: int
    household_label: str
    may_vote: bool
    on_roll: bool
    voted: bool
    option_id: int | None = None
    option_label: str | None = None
    channel: Channel | None = None
    cast_at: datetime | None = None
    casts: int = 0


def _receipts(topic: Topic, person: Participant, options: list[BallotOption]) -> list[Receipt]:
    """My households' receipts: each verified household's people see whether it voted; the choice only those
    who may vote for it."""
    labels = {option.id: option.label for option in options}
    return [
        Receipt(
            household_id=receipt.household.id,
            household_label=household_label(receipt.household),
            may_vote=receipt.may_vote,
            on_roll=receipt.on_roll,
            voted=receipt.voted,
            **(
                {
                    "option_id": receipt.vote.option_id,
                    "option_label": labels.get(receipt.vote.option_id),
                    "channel": receipt.vote.channel,
                    "cast_at": receipt.vote.cast_at,
                    "casts": receipt.vote.casts,
                }
                if receipt.vote
                else {}
            ),
        )
        for receipt in service.my_ballot_receipts(topic, person)
    ]


def _receipt_of(topic: Topic, person: Participant, household_id: int) -> Receipt:
    receipts = _receipts(topic, person, service.options_of(topic.id))
    return next(receipt for receipt in receipts if receipt.household_id == household_id)


@dataclass(frozen=True)
class TopicDetail:
    """A topic as one person sees it; TopicDetailSchema reads the topic's own columns through it."""

    topic: Topic
    five_steps: list[str]
    proposer_name: str
    mine: bool
    cosign_threshold: int
    cosigned_household_ids: list[int]
    voting_open: bool
    options: list[BallotOption]
    my_votes: list[Receipt]
    photos: list
    meetings: list
    following: bool
    rating_count: int
    rating_average: float | None
    actions: list[str]

    def __getattr__(self, name: str):
        return getattr(self.topic, name)


def _voting_open(topic: Topic, now: datetime) -> bool:
    return topic.step is Step.VOTING and topic.ballot_closes_at is not None and now < topic.ballot_closes_at


def _may_close(topic: Topic, now: datetime) -> bool:
    live = service.turnout(topic.id)
    return rules.may_close_ballot(now, topic.ballot_closes_at, live.voted_households, live.roll_households)


def _has_unanswered(topic_id: int) -> bool:
    return any(objection.answered_at is None for objection in service.objections(topic_id))


@dataclass(frozen=True)
class Standing:
    """What the actions of a detail depend on beyond the topic and the person."""

    compound: Compound
    options: list[BallotOption]
    cosigned: set[int]
    receipts: list[Receipt]
    following: bool
    now: datetime


def _actions(topic: Topic, person: Participant, standing: Standing) -> list[str]:
    """What the caller may do now; each check only runs its query once the cheaper conditions hold."""
    roles, step, runs = person.roles, topic.step, person.runs_consultations
    signed_in = person.user_id != 0
    speaks = signed_in and allows(roles, Action.COMMENT_ON_TOPICS)
    voting_open = _voting_open(topic, standing.now)
    checks = {
        "cosign": step is Step.PROPOSED
        and allows(roles, Action.PROPOSE_TOPIC)
        and bool(set(person.household_ids) - standing.cosigned),
        "add_photo": step in (Step.PROPOSED, Step.REVIEW) and topic.proposer_id == person.user_id,
        "review": step is Step.REVIEW and service.may_review(standing.compound, roles),
        "comment": speaks and step in OPEN_STEPS,
        "hide_comment": runs,
        "follow": speaks and step in OPEN_STEPS and not standing.following,
        "set_options": step is Step.DELIBERATION and runs,
        "open_ballot": step is Step.DELIBERATION and runs and len(standing.options) >= rules.MIN_OPTIONS,
        "vote": voting_open
        and allows(roles, Action.VOTE)
        and any(receipt.may_vote and receipt.on_roll for receipt in standing.receipts),
        "record_paper_vote": voting_open and runs,
        "close_ballot": step is Step.VOTING and runs and _may_close(topic, standing.now),
        "file_objection": rules.objections_open(step, standing.now, topic.publicity_ends_at)
        and bool(person.owned_household_ids)
        and allows(roles, Action.FILE_OBJECTION),
        "answer_objection": runs and step in _AFTER_THE_BALLOT and _has_unanswered(topic.id),
        "post_progress": step is Step.IMPLEMENTATION and allows(roles, Action.REPORT_PROGRESS),
        "rate": step in (Step.IMPLEMENTATION, Step.DONE)
        and bool(person.household_ids)
        and allows(roles, Action.RATE_IMPLEMENTATION),
    }
    return [name for name, allowed in checks.items() if allowed]


def _detail(seen: Seen) -> TopicDetail:
    topic, person = seen.topic, seen.person
    options = service.options_of(topic.id)
    cosigned = service.cosigned_household_ids(topic.id, person.household_ids)
    receipts = _receipts(topic, person, options)
    following = person.user_id != 0 and service.follows(topic.id, person.user_id)
    ratings = service.ratings_summary(topic.id)
    standing = Standing(
        compound=seen.access.compound,
        options=options,
        cosigned=cosigned,
        receipts=receipts,
        following=following,
        now=utcnow(),
    )
    return TopicDetail(
        topic=topic,
        five_steps=list(FIVE_STEPS),
        proposer_name=service.proposer_name(topic, person),
        mine=topic.proposer_id == person.user_id,
        cosign_threshold=service.settings_for(topic.compound_id).cosign_threshold,
        cosigned_household_ids=sorted(cosigned),
        voting_open=_voting_open(topic, standing.now),
        options=options,
        my_votes=receipts,
        photos=service.photos_of(topic.id, proposal=True),
        meetings=meeting_service.meetings_of_topic(topic.id),
        following=following,
        rating_count=ratings.count,
        rating_average=ratings.average,
        actions=_actions(topic, person, standing),
    )


def _fresh_detail(topic_id: int) -> TopicDetail:
    """The detail after a change, read again: the commit expired the rows."""
    return _detail(_seen(topic_id))


# ---- lines of the lists --------------------------------------------------------------------------------


def _comment_lines(topic: Topic, person: Participant, comments: list[TopicComment]) -> list[dict]:
    speakers = service.speakers(topic.compound_id, list({comment.author_id for comment in comments}))
    lines = []
    for comment in comments:
        speaker, mine = speakers.get(comment.author_id), comment.author_id == person.user_id
        title = _title(speaker)
        # Those who run the deliberation know who speaks; neighbours see the role only (个人信息保护法).
        named = (person.runs_consultations or mine) and speaker is not None and speaker.name
        lines.append(
            {
                "id": comment.id,
                "parent_id": comment.parent_id,
                "mine": mine,
                "created_at": comment.created_at,
                "body": "" if comment.hidden_at else comment.body,
                "hidden": comment.hidden_at is not None,
                "hidden_reason": comment.hidden_reason,
                "author_name": speaker.name if named else title,
                "author_title": title,
            }
        )
    return lines


def _objection_lines(topic: Topic, person: Participant, objections: list[TopicObjection]) -> list[dict]:
    speakers = service.speakers(topic.compound_id, list({objection.author_id for objection in objections}))
    lines = []
    for objection in objections:
        speaker, mine = speakers.get(objection.author_id), objection.author_id == person.user_id
        named = (person.runs_consultations or mine) and speaker is not None and speaker.name
        lines.append(
            {
                "id": objection.id,
                "body": objection.body,
                "author_name": speaker.name if named else "业主",
                "mine": mine,
                "answer": objection.answer,
                "answered_at": objection.answered_at,
                "created_at": objection.created_at,
            }
        )
    return lines


def _progress_lines(topic: Topic) -> list[dict]:
    updates = service.progress_updates(topic.id)
    photos = [photo for photo in service.photos_of(topic.id) if photo.progress_id is not None]
    speakers = service.speakers(topic.compound_id, list({update.author_id for update in updates}))
    return [
        {
            "id": update.id,
            "body": update.body,
            "is_final": update.is_final,
            "author_title": _title(speakers.get(update.author_id)),
            "created_at": update.created_at,
            "photos": [photo for photo in photos if photo.progress_id == update.id],
        }
        for update in updates
    ]


def _ratings(topic_id: int, person: Participant) -> dict:
    summary = service.ratings_summary(topic_id, person.household_ids)
    return {"count": summary.count, "average": summary.average, "mine": list(summary.mine.values())}


# ---- the result ---------------------------------------------------------------------------------------


def _result(topic: Topic, result: BallotResult, page: int, page_size: int) -> dict:
    counted = service.roll_page(topic.id, page, page_size, counted_only=True, with_choices=topic.open_voting)
    figures = (
        "eligible_households",
        "total_area_centi_m2",
        "total_headcount",
        "participating_households",
        "participating_area_centi_m2",
        "participating_headcount",
        "participation_met",
        "passed",
        "reason",
        "vote_kind",
        "civil_code_item",
        "thresholds",
        "computed_at",
    )
    return {
        **{name: getattr(result, name) for name in figures},
        "topic_id": topic.id,
        "civil_code_item_label": ITEM_LABELS.get(result.civil_code_item),
        "open_voting": topic.open_voting,
        # For a secret vote too the totals per option are public; only each household's choice is not.
        "options": [{"id": int(key), **option} for key, option in result.options.items()],
        "explanations": service.explanations(result),
        "counted": counted.__dict__,
    }


# ---- compound-level -----------------------------------------------------------------------------------


@blp.route(f"/compounds/{COMPOUND_ID}/topics")
class CompoundTopics(MethodView):
    @blp.arguments(TopicListQuery, location="query")
    @blp.response(200, envelope(TopicSchema))
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, query, compound_id):
        """Topics newest first, optionally of one step. Open to everyone of the compound, QR visitors too."""
        authorize(Action.VIEW_TOPICS, compound_id, optional_user_id(), entry_compound_id())
        steps = [query["step"]] if "step" in query else None
        return service.topics_page(compound_id, steps, query["page"], query["page_size"]).__dict__

    @blp.arguments(ProposeSchema)
    @blp.response(201, TopicDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, compound_id):
        """议题征集: a verified household's owner or resident proposes (their household is the first co-sign);
        a committee member or the party secretary may instead raise it straight to review ("raise": true).
        Photos follow through POST /topics/<id>/photos."""
        user_id = optional_user_id()
        raising = body["raise_"]
        access = authorize(
            Action.RAISE_TOPIC if raising else Action.PROPOSE_TOPIC, compound_id, user_id, entry_compound_id()
        )
        person = service.participant(user_id, compound_id, access.roles)
        if raising:
            topic = service.raise_topic(compound_id, person, body["title"], body["body"], ip=client_ip())
        else:
            household_id = _household(
                body["household_id"], person.household_ids, "绑定并认证房屋后才能发起议题"
            )
            topic = service.propose_topic(
                compound_id, person, household_id, body["title"], body["body"], ip=client_ip()
            )
        return _fresh_detail(topic.id)


@blp.route(f"/compounds/{COMPOUND_ID}/pending-ballots")
class PendingBallots(MethodView):
    @blp.response(200, PendingBallotListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, compound_id):
        """待我表决: open ballots in which one of my households may vote and has not yet, closing soonest first."""
        user_id = optional_user_id()
        authorize(Action.VIEW_TOPICS, compound_id, user_id, entry_compound_id())
        pending = service.pending_ballots(user_id, compound_id)
        households = {
            household.id: household
            for household in service.households_of(
                sorted({hid for entry in pending for hid in entry.household_ids})
            )
        }
        return {
            "items": [
                {
                    "topic": entry.topic,
                    "household_ids": list(entry.household_ids),
                    "household_labels": [household_label(households[hid]) for hid in entry.household_ids],
                }
                for entry in pending
            ]
        }


@blp.route(f"/compounds/{COMPOUND_ID}/consultation-settings")
class Settings(MethodView):
    @blp.response(200, ConsultationSettingsSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, compound_id):
        """The co-sign threshold, whether residents may vote on ordinary consultations, the publicity days."""
        authorize(Action.CONFIGURE_CONSULTATIONS, compound_id, optional_user_id(), entry_compound_id())
        return service.settings_for(compound_id)

    @blp.arguments(ConsultationSettingsSchema)
    @blp.response(200, ConsultationSettingsSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def put(self, body, compound_id):
        """Change the settings (committee, party secretary; audited). Topics already accepted keep theirs."""
        authorize(Action.CONFIGURE_CONSULTATIONS, compound_id, optional_user_id(), entry_compound_id())
        return service.update_settings(compound_id, optional_user_id(), ip=client_ip(), **body)


# ---- one topic ----------------------------------------------------------------------------------------


@blp.route(f"/topics/{TOPIC_ID}")
class TopicView(MethodView):
    @blp.response(200, TopicDetailSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, topic_id):
        """The topic with its step, options, my households' co-signs and recorded votes, its photos and what
        the caller may do now."""
        return _detail(_seen(topic_id))


@blp.route(f"/topics/{TOPIC_ID}/photos")
class TopicPhotos(MethodView):
    decorators = [limit_photo_upload()]

    @blp.arguments(TopicPhotoUploadSchema, location="files")
    @blp.response(201, TopicPhotoSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    @blp.alt_response(413, schema=ApiErrorSchema, description="照片超过 10 MB")
    @blp.alt_response(422, schema=ApiErrorSchema, description="不是可用的照片，或照片已达上限")
    @jwt_required()
    def post(self, files, topic_id):
        """Add one photo to my proposal (multipart field `photo`, re-encoded without EXIF), until the topic is
        accepted; at most six."""
        seen = _seen(topic_id)
        prepared = _prepared(files["photo"])
        return service.add_proposal_photo(topic_id, seen.person, prepared, ip=client_ip())


@blp.route(f"/topics/{TOPIC_ID}/photos/{PHOTO_ID}")
class TopicPhotoBytes(MethodView):
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="image/jpeg")
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, topic_id, topic_photo_id):
        """A proposal or progress photo, for everyone of the compound; a paper ballot's only for those who run
        the ballot (it shows how a household voted)."""
        seen = _seen(topic_id)
        return photo_service.photo_response(
            service.visible_photo(seen.topic, topic_photo_id, seen.person), max_age=3600
        )


@blp.route(f"/topics/{TOPIC_ID}/cosign")
class Cosign(MethodView):
    @blp.arguments(HouseholdChoiceSchema)
    @blp.response(200, TopicDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="已不在征集阶段，或这户已联名")
    @jwt_required()
    def post(self, body, topic_id):
        """联名 for one of my verified households; reaching the threshold moves the topic to 议题确定."""
        person = _seen(topic_id).person
        _require(person, Action.PROPOSE_TOPIC, "只有已认证房屋的业主或住户可以联名")
        household_id = _household(body["household_id"], person.household_ids, "绑定并认证房屋后才能联名")
        service.cosign(topic_id, person, household_id, ip=client_ip())
        return _fresh_detail(topic_id)


@blp.route(f"/topics/{TOPIC_ID}/review")
class Review(MethodView):
    @blp.arguments(ReviewSchema)
    @blp.response(200, TopicDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="议题不在待确定阶段")
    @jwt_required()
    def post(self, body, topic_id):
        """议题确定 (the party secretary; the committee where there is no party organisation): accept with the
        kind of decision and the deadlines, decline with a public reason, or merge into an open topic."""
        seen = _seen(topic_id)
        _require(
            seen.person, Action.REVIEW_TOPICS, "议题由小区党组织书记确定（未成立党组织的小区由业委会确定）"
        )
        if body["decision"] == "accept":
            service.accept_topic(topic_id, seen.person, _acceptance(body, seen.topic), ip=client_ip())
        elif body["decision"] == "decline":
            service.decline_topic(topic_id, seen.person, body["reason"], ip=client_ip())
        else:
            service.merge_topic(topic_id, seen.person, body["merge_into_id"], ip=client_ip())
        return _fresh_detail(topic_id)


def _acceptance(body: dict, topic: Topic) -> Acceptance:
    publicity_days = body["publicity_days"] or service.settings_for(topic.compound_id).publicity_days
    return Acceptance(
        rule=VoteRule(kind=body["vote_kind"], item=body["civil_code_item"]),
        schedule=Schedule(
            deliberation_ends_at=body["deliberation_ends_at"],
            voting_hours=body["voting_hours"],
            publicity_days=publicity_days,
        ),
        open_voting=body["open_voting"],
        responsible_party=body["responsible_party"],
    )


@blp.route(f"/topics/{TOPIC_ID}/comments")
class Comments(MethodView):
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, envelope(CommentSchema))
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, query, topic_id):
        """Comments oldest first, each followed by its replies; hidden ones keep their place with the reason."""
        seen = _seen(topic_id)
        page = service.comments_page(topic_id, query["page"], query["page_size"])
        return {**page.__dict__, "items": _comment_lines(seen.topic, seen.person, page.items)}

    @blp.arguments(CommentInputSchema)
    @blp.response(201, CommentSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="议题已结束")
    @jwt_required()
    def post(self, body, topic_id):
        """Comment, or reply to a comment (parent_id); replies stay one level deep."""
        seen = _seen(topic_id)
        _require(seen.person, Action.COMMENT_ON_TOPICS, "小区住户和各方代表才能发表评论")
        comment = service.add_comment(
            topic_id, seen.person.user_id, body["body"], body["parent_id"], ip=client_ip()
        )
        return _comment_lines(seen.topic, seen.person, [comment])[0]


@blp.route(f"/topics/{TOPIC_ID}/comments/{COMMENT_ID}/hide")
class HideComment(MethodView):
    @blp.arguments(HideSchema)
    @blp.response(200, CommentSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="这条评论已隐藏")
    @jwt_required()
    def post(self, body, topic_id, comment_id):
        """Hide a comment with a public reason (committee, party secretary; audited): it shows as hidden."""
        seen = _seen(topic_id)
        comment = service.hide_comment(topic_id, comment_id, seen.person, body["reason"], ip=client_ip())
        return _comment_lines(seen.topic, seen.person, [comment])[0]


@blp.route(f"/topics/{TOPIC_ID}/options")
class Options(MethodView):
    @blp.arguments(OptionListInputSchema)
    @blp.response(200, OptionListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="只能在协商讨论阶段拟定")
    @jwt_required()
    def put(self, body, topic_id):
        """Draft the ballot (committee, party secretary) during deliberation: 2–20 options, at most one 弃权
        and one 同意 (a motion is decided by its 同意; candidates each on their own). Replaces the list."""
        seen = _seen(topic_id)
        service.set_options(topic_id, seen.person, body["options"], ip=client_ip())
        return {"items": service.options_of(topic_id)}


@blp.route(f"/topics/{TOPIC_ID}/ballot/open")
class OpenBallot(MethodView):
    @blp.response(200, TopicDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="不在协商讨论阶段，或选项不足两个")
    @jwt_required()
    def post(self, topic_id):
        """Open the ballot for the window set at review; the roll of households is frozen now."""
        seen = _seen(topic_id)
        _require(seen.person, Action.RUN_CONSULTATIONS, "只有业委会成员或党组织书记可以开启表决")
        service.open_ballot(topic_id, seen.person.user_id, ip=client_ip())
        return _fresh_detail(topic_id)


@blp.route(f"/topics/{TOPIC_ID}/vote")
class VoteView(MethodView):
    @blp.arguments(VoteInputSchema)
    @blp.response(200, VoteReceiptSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema, description="不是这户已认证的业主（或允许表决的住户）")
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="表决未开始或已截止")
    @blp.alt_response(422, schema=ApiErrorSchema, description="没有这个表决选项")
    @jwt_required()
    def put(self, body, topic_id):
        """Vote, or change the vote, for one of my households until the ballot closes; the last one counts.
        Answers with the household's receipt."""
        seen = _seen(topic_id)
        _require(seen.person, Action.VOTE, "只有已认证房屋的业主可以表决")
        household_id = _household(
            body["household_id"],
            service.voting_household_ids(seen.topic, seen.person),
            "只有已认证房屋的业主可以表决",
        )
        vote = service.cast_vote(topic_id, seen.person, household_id, body["option_id"])
        # Built from the vote just recorded: the last minute of a ballot is its busiest, so no re-reading.
        (household,) = service.households_of([household_id])
        return Receipt(
            household_id=household_id, household_label=household_label(household), may_vote=True, on_roll=True,
            voted=True, option_id=vote.option_id, option_label=service.option_label(vote.option_id),
            channel=vote.channel, cast_at=vote.cast_at, casts=vote.casts,
        )


@blp.route(f"/topics/{TOPIC_ID}/paper-votes")
class PaperVotes(MethodView):
    decorators = [limit_photo_upload()]

    @blp.arguments(PaperVoteSchema, location="files")
    @blp.response(201, VoteReceiptSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="表决未开始或已截止")
    @blp.alt_response(413, schema=ApiErrorSchema, description="照片超过 10 MB")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, form, topic_id):
        """书面表决票 (paper) or 委托书 (proxy), recorded by a committee member with a photo of the paper
        (audited); it replaces the household's earlier vote like any later vote."""
        seen = _seen(topic_id)
        _require(seen.person, Action.RUN_CONSULTATIONS, "只有业委会成员或党组织书记可以录入书面表决")
        prepared = _prepared(form["photo"])
        vote = service.record_paper_vote(
            topic_id,
            seen.person,
            form["household_id"],
            form["option_id"],
            Channel(form["channel"]),
            prepared,
            note=form["note"],
            ip=client_ip(),
        )
        household = service.households_of([vote.household_id])[0]
        label = next(option.label for option in service.options_of(topic_id) if option.id == vote.option_id)
        return Receipt(
            household_id=vote.household_id,
            household_label=household_label(household),
            may_vote=vote.household_id in service.voting_household_ids(seen.topic, seen.person),
            on_roll=True,
            voted=True,
            option_id=vote.option_id,
            option_label=label,
            channel=vote.channel,
            cast_at=vote.cast_at,
            casts=vote.casts,
        )


@blp.route(f"/topics/{TOPIC_ID}/ballot/close")
class CloseBallot(MethodView):
    @blp.response(200, BallotResultSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="未到截止时间且仍有住户未表决，或表决未开始")
    @jwt_required()
    def post(self, topic_id):
        """Close the ballot (committee, party secretary): before its end only once every household has voted.
        The result is computed, frozen and published for the publicity period."""
        seen = _seen(topic_id)
        _require(seen.person, Action.RUN_CONSULTATIONS, "只有业委会成员或党组织书记可以结束表决")
        result = service.close_ballot(topic_id, seen.person.user_id, ip=client_ip())
        return _result(seen.topic, result, 1, COUNTED_PER_PAGE)


@blp.route(f"/topics/{TOPIC_ID}/turnout")
class TurnoutView(MethodView):
    @blp.response(200, TurnoutSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="表决尚未开始")
    def get(self, topic_id):
        """The live participation bar: households, area and owners voted so far against the two-thirds lines.
        Counts only, for everyone of the compound."""
        topic = _seen(topic_id).topic
        if topic.ballot_opened_at is None:
            abort(409, message="表决尚未开始")
        live = service.turnout(topic_id)
        return {
            **live.__dict__,
            "area_line_met": live.area_line_met(),
            "headcount_line_met": live.headcount_line_met(),
            "ballot_closes_at": topic.ballot_closes_at,
            "voting_open": _voting_open(topic, utcnow()),
        }


@blp.route(f"/topics/{TOPIC_ID}/voters")
class Voters(MethodView):
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, envelope(VoterSchema))
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="表决尚未开始")
    @jwt_required()
    def get(self, query, topic_id):
        """The roll with who has voted, never how (committee, party secretary), to remind those who have not."""
        seen = _seen(topic_id)
        _require(seen.person, Action.RUN_CONSULTATIONS, "只有业委会成员或党组织书记可以查看表决名单")
        if seen.topic.ballot_opened_at is None:
            abort(409, message="表决尚未开始")
        return service.roll_page(topic_id, query["page"], query["page_size"]).__dict__


@blp.route(f"/topics/{TOPIC_ID}/my-vote")
class MyVote(MethodView):
    @blp.response(200, VoteReceiptListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, topic_id):
        """My households' receipts: the recorded option, its channel and when (each household's own only)."""
        seen = _seen(topic_id)
        return {"items": _receipts(seen.topic, seen.person, service.options_of(topic_id))}


@blp.route(f"/topics/{TOPIC_ID}/result")
class ResultView(MethodView):
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, BallotResultSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="表决结束后才会公布结果")
    def get(self, query, topic_id):
        """The frozen result: figures, per-option totals, the thresholds applied and why it passed or failed in
        plain Chinese; the households counted (paged), with their choices only in an open vote."""
        topic = _seen(topic_id).topic
        result = service.result_of(topic_id)
        if result is None:
            abort(409, message="表决结束后才会公布结果")
        return _result(topic, result, query["page"], query["page_size"])


@blp.route(f"/topics/{TOPIC_ID}/objections")
class Objections(MethodView):
    @blp.response(200, ObjectionListSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, topic_id):
        """Objections with the committee's public answers, oldest first."""
        seen = _seen(topic_id)
        return {"items": _objection_lines(seen.topic, seen.person, service.objections(topic_id))}

    @blp.arguments(ObjectionInputSchema)
    @blp.response(201, ObjectionSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="不在结果公示期内")
    @jwt_required()
    def post(self, body, topic_id):
        """异议 during the publicity period, by a verified owner; the committee must answer it publicly."""
        seen = _seen(topic_id)
        _require(seen.person, Action.FILE_OBJECTION, "只有已认证的业主可以提出异议")
        household_id = _household(
            body["household_id"], seen.person.owned_household_ids, "只有已认证的业主可以提出异议"
        )
        objection = service.file_objection(
            topic_id, seen.person, household_id, body["body"], ip=client_ip()
        )
        return _objection_lines(seen.topic, seen.person, [objection])[0]


@blp.route(f"/topics/{TOPIC_ID}/objections/{OBJECTION_ID}/answer")
class Answer(MethodView):
    @blp.arguments(AnswerSchema)
    @blp.response(200, ObjectionSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="已答复过")
    @jwt_required()
    def post(self, body, topic_id, objection_id):
        """The committee's public answer to an objection (audited); its author is told."""
        seen = _seen(topic_id)
        objection = service.answer_objection(
            topic_id, objection_id, seen.person, body["answer"], ip=client_ip()
        )
        return _objection_lines(seen.topic, seen.person, [objection])[0]


@blp.route(f"/topics/{TOPIC_ID}/progress")
class Progress(MethodView):
    decorators = [limit_photo_upload(MAX_TOPIC_PHOTOS)]

    @blp.response(200, ProgressListSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, topic_id):
        """落实: the implementation timeline with photos, oldest first."""
        return {"items": _progress_lines(_seen(topic_id).topic)}

    @blp.arguments(ProgressInputSchema, location="files")
    @blp.response(201, ProgressSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="议题不在落实阶段")
    @blp.alt_response(413, schema=ApiErrorSchema, description="照片超过 10 MB")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, form, topic_id):
        """A progress update by the responsible side (multipart: body, is_final, up to six `photos`); the final
        one marks the decision carried out."""
        seen = _seen(topic_id)
        _require(seen.person, Action.REPORT_PROGRESS, "只有落实责任方可以发布进展")
        prepared = [_prepared(upload) for upload in form["photos"]]
        progress = service.post_progress(
            topic_id, seen.person, form["body"], form["is_final"], prepared, ip=client_ip()
        )
        return next(line for line in _progress_lines(seen.topic) if line["id"] == progress.id)


@blp.route(f"/topics/{TOPIC_ID}/ratings")
class Ratings(MethodView):
    @blp.arguments(TopicRatingInputSchema)
    @blp.response(201, RatingSummarySchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="决议落实后才能评价")
    @jwt_required()
    def post(self, body, topic_id):
        """民事民评: rate the implementation for one of my households, 1–5 stars; a second rating replaces it."""
        seen = _seen(topic_id)
        _require(seen.person, Action.RATE_IMPLEMENTATION, "只有已认证房屋的业主或住户可以评价")
        household_id = _household(
            body["household_id"], seen.person.household_ids, "只有已认证房屋的业主或住户可以评价"
        )
        service.rate_implementation(
            topic_id, seen.person, household_id, body["stars"], body["comment"], ip=client_ip()
        )
        return _ratings(topic_id, seen.person)


@blp.route(f"/topics/{TOPIC_ID}/follow")
class Follow(MethodView):
    @blp.response(200, TopicDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, topic_id):
        """Follow the topic: hear of every step change."""
        seen = _seen(topic_id)
        _require(seen.person, Action.COMMENT_ON_TOPICS, "小区住户和各方代表才能关注议题")
        service.follow_topic(topic_id, seen.person.user_id)
        return _fresh_detail(topic_id)
