"""Request and response schemas of the deliberation (五步议事法) API."""

from __future__ import annotations

from datetime import UTC

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema
from werkzeug.datastructures import FileStorage

from backend.domain.consultations import (
    CHANNEL_LABELS,
    MAX_DELIBERATION_LEAD,
    MAX_OPTIONS,
    MAX_RATING_STARS,
    MAX_VOTING_HOURS,
    MEETING_KIND_LABELS,
    MIN_OPTIONS,
    MIN_VOTING_HOURS,
    STEP_LABELS,
    STEP_NUMBER,
    Channel,
    MeetingKind,
    Step,
)
from backend.domain.voting import ITEM_LABELS, VoteKind
from backend.schemas.common import ID, NOT_BLANK, PageQuery, envelope
from backend.services.consultations import MAX_TOPIC_PHOTOS, OptionDraft
from backend.shared.clock import utcnow

TITLE = validate.Length(min=1, max=60)


def photo_url(topic_id: int, photo_id: int) -> str:
    return f"/api/v1/topics/{topic_id}/photos/{photo_id}"


def _string() -> dict:
    """What a computed string field is in the OpenAPI document (apispec cannot tell from a function)."""
    return {"metadata": {"type": "string"}}


class Text(fields.String):
    """Text with its surrounding spaces dropped before the length and not-blank checks see it."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class Photo(Upload):
    """One uploaded file of a multipart body; a text part under the same name is not a photo."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise ValidationError("请上传一张照片")
        return value


def _household_id() -> fields.Integer:
    return fields.Integer(
        strict=True,
        validate=ID,
        allow_none=True,
        load_default=None,
        metadata={"description": "以哪一户的名义；本人只有一户可用时可省略"},
    )


# ---- requests ---------------------------------------------------------------------------------------


class TopicListQuery(PageQuery):
    step = fields.Enum(Step, by_value=True)


class ProposeSchema(Schema):
    title = Text(required=True, validate=[TITLE, NOT_BLANK])
    body = Text(required=True, validate=[validate.Length(min=1, max=2000), NOT_BLANK])
    household_id = _household_id()
    raise_ = fields.Boolean(
        data_key="raise",
        load_default=False,
        metadata={"description": "业委会成员或党组织书记直接提出议题（无需联名，直接进入议题确定）"},
    )

    @validates_schema
    def _raised_without_household(self, data, **_):
        if data["raise_"] and data["household_id"] is not None:
            raise ValidationError("直接提出的议题不以某一户的名义", "household_id")


class HouseholdChoiceSchema(Schema):
    household_id = _household_id()


class ReviewSchema(Schema):
    """accept: vote_kind (civil_code_item for owners_joint), deliberation_ends_at and voting_hours;
    decline: a public reason; merge: the open topic to merge into."""

    decision = fields.String(required=True, validate=validate.OneOf(("accept", "decline", "merge")))
    vote_kind = fields.Enum(VoteKind, by_value=True, allow_none=True, load_default=None)
    civil_code_item = fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=1, max=9),
        metadata={"description": "《民法典》第二百七十八条第一款第几项（1–9），仅业主共同决定事项"},
    )
    open_voting = fields.Boolean(
        load_default=False, metadata={"description": "公开表决：结果中列出每户的选择"}
    )
    deliberation_ends_at = fields.AwareDateTime(
        allow_none=True,
        load_default=None,
        metadata={"description": "ISO 8601，须带时区；须晚于现在且在一年以内"},
    )
    voting_hours = fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=MIN_VOTING_HOURS, max=MAX_VOTING_HOURS),
    )
    publicity_days = fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=1, max=30),
        metadata={"description": "省略时用小区设置的公示天数"},
    )
    responsible_party = Text(load_default="", validate=validate.Length(max=60))
    reason = Text(load_default="", validate=validate.Length(max=300))
    merge_into_id = fields.Integer(strict=True, validate=ID, allow_none=True, load_default=None)

    @validates_schema
    def _what_the_decision_needs(self, data, **_):
        decision = data["decision"]
        if decision == "decline" and not data["reason"]:
            raise ValidationError("请填写不予采纳的原因（会公开显示）", "reason")
        if decision == "merge" and data["merge_into_id"] is None:
            raise ValidationError("请填写要合并到的议题编号", "merge_into_id")
        if decision == "accept":
            self._check_acceptance(data)

    @staticmethod
    def _check_acceptance(data: dict) -> None:
        missing = [
            name for name in ("vote_kind", "deliberation_ends_at", "voting_hours") if data[name] is None
        ]
        if missing:
            raise ValidationError({name: ["确定议题时必须填写"] for name in missing})
        joint = data["vote_kind"] is VoteKind.OWNERS_JOINT
        if joint and data["civil_code_item"] is None:
            raise ValidationError(
                "业主共同决定事项须选择《民法典》第二百七十八条的表决事项", "civil_code_item"
            )
        if not joint and data["civil_code_item"] is not None:
            raise ValidationError("一般协商事项不对应《民法典》第二百七十八条的表决事项", "civil_code_item")
        try:
            ends_at = data["deliberation_ends_at"].astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValidationError("协商讨论截止时间须在一年以内", "deliberation_ends_at") from None
        if ends_at - utcnow() > MAX_DELIBERATION_LEAD:
            raise ValidationError("协商讨论截止时间须在一年以内", "deliberation_ends_at")


class CommentInputSchema(Schema):
    body = Text(required=True, validate=[validate.Length(min=1, max=500), NOT_BLANK])
    parent_id = fields.Integer(
        strict=True, validate=ID, allow_none=True, load_default=None, metadata={"description": "回复哪条评论"}
    )


class HideSchema(Schema):
    reason = Text(required=True, validate=[validate.Length(min=1, max=200), NOT_BLANK])


class OptionInputSchema(Schema):
    label = Text(required=True, validate=[validate.Length(min=1, max=40), NOT_BLANK])
    is_abstain = fields.Boolean(
        load_default=False, metadata={"description": "弃权：计入参与，不赞成任何选项"}
    )
    is_approval = fields.Boolean(
        load_default=False, metadata={"description": "动议的“同意”：以它是否通过为准"}
    )

    @post_load
    def _draft(self, data, **_) -> OptionDraft:
        return OptionDraft(data["label"], is_abstain=data["is_abstain"], is_approval=data["is_approval"])


class OptionListInputSchema(Schema):
    options = fields.List(
        fields.Nested(OptionInputSchema),
        required=True,
        validate=validate.Length(min=MIN_OPTIONS, max=MAX_OPTIONS),
    )


class VoteInputSchema(Schema):
    option_id = fields.Integer(strict=True, validate=ID, required=True)
    household_id = _household_id()


class PaperVoteSchema(Schema):
    """书面表决票 or 委托书: one multipart body with the paper's photo."""

    household_id = fields.Integer(validate=ID, required=True)
    option_id = fields.Integer(validate=ID, required=True)
    channel = fields.String(
        required=True, validate=validate.OneOf((Channel.PAPER.value, Channel.PROXY.value))
    )
    note = Text(load_default="", validate=validate.Length(max=200))
    photo = Photo(required=True, metadata={"description": "书面表决票或委托书的照片，不超过 10 MB"})


class TopicPhotoUploadSchema(Schema):
    photo = Photo(
        required=True, metadata={"description": "一张照片：JPG、PNG、WebP（或 HEIC），不超过 10 MB"}
    )


class ObjectionInputSchema(Schema):
    body = Text(required=True, validate=[validate.Length(min=1, max=500), NOT_BLANK])
    household_id = _household_id()


class AnswerSchema(Schema):
    answer = Text(required=True, validate=[validate.Length(min=1, max=500), NOT_BLANK])


class ProgressInputSchema(Schema):
    """A multipart body: the update, whether it completes the decision, and up to six photos."""

    body = Text(required=True, validate=[validate.Length(min=1, max=500), NOT_BLANK])
    is_final = fields.Boolean(load_default=False, metadata={"description": "落实完成：议题办结"})
    photos = fields.List(Photo(), load_default=list, validate=validate.Length(max=MAX_TOPIC_PHOTOS))


class TopicRatingInputSchema(Schema):
    stars = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=MAX_RATING_STARS))
    comment = Text(load_default="", validate=validate.Length(max=300))
    household_id = _household_id()


class ConsultationSettingsSchema(Schema):
    cosign_threshold = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=1000))
    residents_may_vote = fields.Boolean(
        required=True, metadata={"description": "一般协商事项允许已认证住户（非业主）表决"}
    )
    publicity_days = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=30))


# ---- responses --------------------------------------------------------------------------------------


class TopicPhotoSchema(Schema):
    id = fields.Integer()
    url = fields.Function(lambda photo: photo_url(photo.topic_id, photo.id), **_string())
    width = fields.Integer()
    height = fields.Integer()


class TopicSchema(Schema):
    """One line of the list: what the topic is and how far it has got; no names."""

    id = fields.Integer()
    compound_id = fields.Integer()
    title = fields.String()
    body = fields.String()
    step = fields.Enum(Step, by_value=True)
    step_label = fields.Function(lambda topic: STEP_LABELS[topic.step], **_string())
    step_number = fields.Function(
        lambda topic: STEP_NUMBER[topic.step],
        metadata={"type": "integer", "description": "五步议事法的第几步（1–5）；未采纳或已合并为 0"},
    )
    cosign_count = fields.Integer()
    vote_kind = fields.Enum(VoteKind, by_value=True, allow_none=True)
    civil_code_item = fields.Integer(allow_none=True)
    open_voting = fields.Boolean()
    ballot_closes_at = fields.DateTime(allow_none=True)
    publicity_ends_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class OptionSchema(Schema):
    id = fields.Integer()
    label = fields.String()
    position = fields.Integer()
    is_abstain = fields.Boolean()
    is_approval = fields.Boolean()


class OptionListSchema(Schema):
    items = fields.List(fields.Nested(OptionSchema), required=True)


class VoteReceiptSchema(Schema):
    """One of my households in the ballot and its recorded vote (only ever shown to that household's people)."""

    household_id = fields.Integer()
    household_label = fields.String()
    may_vote = fields.Boolean(metadata={"description": "我能以这户的名义表决"})
    on_roll = fields.Boolean(metadata={"description": "这户在开启表决时冻结的名单上"})
    voted = fields.Boolean()
    option_id = fields.Integer(allow_none=True)
    option_label = fields.String(allow_none=True)
    channel = fields.Enum(Channel, by_value=True, allow_none=True)
    channel_label = fields.Function(
        lambda receipt: CHANNEL_LABELS[receipt.channel] if receipt.channel else None,
        metadata={"type": "string", "nullable": True},
    )
    cast_at = fields.DateTime(allow_none=True)
    casts = fields.Integer(metadata={"description": "这户共表决过几次（修改也算一次），以最后一次为准"})


class VoteReceiptListSchema(Schema):
    items = fields.List(fields.Nested(VoteReceiptSchema), required=True)


class LinkedMeetingSchema(Schema):
    """A meeting held on the topic (its detail is GET /meetings/<id>)."""

    id = fields.Integer()
    kind = fields.Enum(MeetingKind, by_value=True)
    kind_label = fields.Function(lambda meeting: MEETING_KIND_LABELS[meeting.kind], **_string())
    title = fields.String()
    starts_at = fields.DateTime()
    place = fields.String()


class TopicDetailSchema(TopicSchema):
    five_steps = fields.List(fields.String())
    proposer_name = fields.String(
        metadata={"description": "对其他居民只显示“居民”；业委会和党组织书记可见姓名"}
    )
    mine = fields.Boolean(metadata={"description": "我发起的议题"})
    cosign_threshold = fields.Integer()
    cosigned_household_ids = fields.List(fields.Integer(), metadata={"description": "我的房屋中已联名的"})
    civil_code_item_label = fields.Function(
        lambda detail: ITEM_LABELS.get(detail.civil_code_item), metadata={"type": "string", "nullable": True}
    )
    residents_may_vote = fields.Boolean()
    decline_reason = fields.String()
    merged_into_id = fields.Integer(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    deliberation_ends_at = fields.DateTime(allow_none=True)
    voting_hours = fields.Integer(allow_none=True)
    publicity_days = fields.Integer(allow_none=True)
    ballot_opened_at = fields.DateTime(allow_none=True)
    ballot_closed_at = fields.DateTime(allow_none=True)
    voting_open = fields.Boolean(metadata={"description": "现在可以表决"})
    responsible_party = fields.String()
    implemented_at = fields.DateTime(allow_none=True)
    options = fields.List(fields.Nested(OptionSchema))
    my_votes = fields.List(fields.Nested(VoteReceiptSchema))
    photos = fields.List(fields.Nested(TopicPhotoSchema))
    meetings = fields.List(fields.Nested(LinkedMeetingSchema), metadata={"description": "关联本议题的会议"})
    following = fields.Boolean()
    rating_count = fields.Integer()
    rating_average = fields.Float(allow_none=True)
    actions = fields.List(
        fields.String(), metadata={"description": "我现在可以进行的操作，如 cosign、vote、close_ballot"}
    )


class CommentSchema(Schema):
    id = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    # A hidden comment keeps its place and shows why it was hidden; its text is shown to nobody.
    body = fields.String()
    hidden = fields.Boolean()
    hidden_reason = fields.String()
    author_name = fields.String(metadata={"description": "业委会和党组织书记可见姓名；其他人只见身份"})
    author_title = fields.String()
    mine = fields.Boolean()
    created_at = fields.DateTime()


class TurnoutSchema(Schema):
    """The live participation bar: how many households, how much area and how many owners have voted, against
    the two-thirds lines; never who chose what."""

    roll_households = fields.Integer()
    voted_households = fields.Integer()
    total_area_centi_m2 = fields.Integer()
    voted_area_centi_m2 = fields.Integer()
    total_headcount = fields.Integer()
    voted_headcount = fields.Integer()
    area_line_met = fields.Boolean()
    headcount_line_met = fields.Boolean()
    ballot_closes_at = fields.DateTime(allow_none=True)
    voting_open = fields.Boolean()


class VoterSchema(Schema):
    """A household of the roll and whether it has voted (for reminders), never how."""

    household_id = fields.Integer()
    building = fields.String()
    unit = fields.String()
    room = fields.String()
    voted = fields.Boolean()


class CountedSchema(Schema):
    """A household counted in the result; its choice only in an open vote (公开表决)."""

    household_id = fields.Integer()
    building = fields.String()
    unit = fields.String()
    room = fields.String()
    option_label = fields.String(allow_none=True)


class OptionResultSchema(Schema):
    id = fields.Integer()
    label = fields.String()
    is_abstain = fields.Boolean()
    is_approval = fields.Boolean()
    households = fields.Integer()
    area_centi_m2 = fields.Integer()
    headcount = fields.Integer()
    approved = fields.Boolean()


class ThresholdsSchema(Schema):
    participation = fields.String(allow_none=True, metadata={"description": "参与表决的最低比例，如 2/3"})
    approval = fields.String(metadata={"description": "通过比例，如 1/2"})
    approval_strict = fields.Boolean(
        metadata={"description": "true：须超过该比例（过半数）；false：达到即可"}
    )


class ExplanationSchema(Schema):
    option_id = fields.Integer()
    label = fields.String()
    lines = fields.List(fields.String())


class BallotResultSchema(Schema):
    topic_id = fields.Integer()
    vote_kind = fields.String()
    civil_code_item = fields.Integer(allow_none=True)
    civil_code_item_label = fields.String(allow_none=True)
    open_voting = fields.Boolean()
    eligible_households = fields.Integer()
    total_area_centi_m2 = fields.Integer()
    total_headcount = fields.Integer()
    participating_households = fields.Integer()
    participating_area_centi_m2 = fields.Integer()
    participating_headcount = fields.Integer()
    participation_met = fields.Boolean()
    passed = fields.Boolean()
    reason = fields.String()
    thresholds = fields.Nested(ThresholdsSchema)
    options = fields.List(fields.Nested(OptionResultSchema))
    explanations = fields.List(fields.Nested(ExplanationSchema))
    computed_at = fields.DateTime()
    counted = fields.Nested(
        envelope(CountedSchema), metadata={"description": "计入结果的房屋（分页）；公开表决时含每户的选择"}
    )


class ObjectionSchema(Schema):
    id = fields.Integer()
    body = fields.String()
    author_name = fields.String()
    mine = fields.Boolean()
    answer = fields.String()
    answered_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class ObjectionListSchema(Schema):
    items = fields.List(fields.Nested(ObjectionSchema), required=True)


class ProgressSchema(Schema):
    id = fields.Integer()
    body = fields.String()
    is_final = fields.Boolean()
    author_title = fields.String()
    photos = fields.List(fields.Nested(TopicPhotoSchema))
    created_at = fields.DateTime()


class ProgressListSchema(Schema):
    items = fields.List(fields.Nested(ProgressSchema), required=True)


class MyRatingSchema(Schema):
    household_id = fields.Integer()
    stars = fields.Integer()
    comment = fields.String()


class RatingSummarySchema(Schema):
    count = fields.Integer()
    average = fields.Float(allow_none=True)
    mine = fields.List(fields.Nested(MyRatingSchema))


class PendingBallotSchema(Schema):
    topic = fields.Nested(TopicSchema)
    household_ids = fields.List(fields.Integer())
    household_labels = fields.List(fields.String())


class PendingBallotListSchema(Schema):
    items = fields.List(fields.Nested(PendingBallotSchema), required=True)
