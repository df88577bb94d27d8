"""Request and response schemas of the deliberation (五步议事法) API. The pages load their forms through the same
request schemas (a `…FormSchema` only reads a form's own widgets into the API's fields), so every limit and
message is written once, in words a resident can act on."""

from __future__ import annotations

from datetime import UTC

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema
from werkzeug.datastructures import FileStorage

from backend.domain.consultations import (
    CHOOSE_HOUSEHOLD,
    MAX_COSIGN_THRESHOLD,
    MAX_DELIBERATION_LEAD,
    MAX_OPTIONS,
    MAX_PUBLICITY_DAYS,
    MAX_RATING_STARS,
    MAX_VOTING_HOURS,
    MIN_COSIGN_THRESHOLD,
    MIN_OPTIONS,
    MIN_PUBLICITY_DAYS,
    MIN_VOTING_HOURS,
    VOTING_HOURS_MESSAGE,
    Channel,
    MeetingKind,
    Schedule,
    Step,
)
from backend.domain.voting import VoteKind, VoteRule
from backend.schemas.common import ID, MAX_ID, PageQuery, envelope
from backend.services.consultations import MAX_TOPIC_PHOTOS, Acceptance, Decline, Merge, OptionDraft
from backend.shared.clock import beijing_moment, utcnow

TITLE_LIMIT, BODY_LIMIT, OPTION_LIMIT = 60, 2000, 40
PHOTO_COUNT = validate.Length(max=MAX_TOPIC_PHOTOS, error="最多上传{max}张照片")
# A page's 同意/不同意/弃权 button: a motion decided by its 同意.
MOTION = ({"label": "同意", "is_approval": True}, {"label": "不同意"}, {"label": "弃权", "is_abstain": True})
ABSTAIN_LABEL = "弃权"
PUBLICITY_DAYS_MESSAGE = f"公示天数须在{MIN_PUBLICITY_DAYS}至{MAX_PUBLICITY_DAYS}天之间"


def photo_url(topic_id: int, photo_id: int) -> str:
    return f"/api/v1/topics/{topic_id}/photos/{photo_id}"


def _string() -> dict:
    """What a computed string field is in the OpenAPI document (apispec cannot tell from a function)."""
    return {"metadata": {"type": "string"}}


class Text(fields.String):
    """Text with its surrounding spaces dropped before the length and not-blank checks see it."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


def text(limit: int, *, missing: str | None = None, name: str = "") -> Text:
    """Text of at most `limit` characters (`name` says which, in the message). `missing`: it must be given, and
    what a resident is told when it is left empty."""
    too_long = validate.Length(max=limit, error=f"{name}不能超过{{max}}个字")
    if missing is None:
        return Text(load_default="", validate=too_long)
    return Text(required=True, validate=[validate.Length(min=1, error=missing), too_long],
                error_messages={"required": missing, "null": missing})


class Whole(fields.Integer):
    """A whole number: a JSON integer, or a form's text of ASCII digits (a page's form sends text). Never a float,
    a boolean, or "٣" and "９" (int() reads other scripts' digits)."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            digits = value.strip()
            if not (digits.isascii() and digits.isdigit() and len(digits) <= 10):
                raise self.make_error("invalid")
            value = int(digits)
        return super()._deserialize(value, attr, data, **kwargs)


def whole(message: str, low: int = 1, high: int = MAX_ID, **kwargs) -> Whole:
    """A whole number from `low` to `high`; `message` is what a resident is told of anything else."""
    return Whole(validate=validate.Range(min=low, max=high, error=message),
                 error_messages={"invalid": message, "required": message, "null": message}, **kwargs)


class Photo(Upload):
    """One uploaded file of a multipart body; a text part under the same name is not a photo."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise ValidationError("请上传一张照片")
        return value


class TopicNumber(Whole):
    """A topic's number as residents write it: 12 or #12."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.strip().removeprefix("#")
        return super()._deserialize(value, attr, data, **kwargs)


def _household_id() -> Whole:
    return whole(
        CHOOSE_HOUSEHOLD,
        allow_none=True,
        load_default=None,
        metadata={"description": "以哪一户的名义；本人只有一户可用时可省略"},
    )


# ---- requests ---------------------------------------------------------------------------------------


class TopicListQuery(PageQuery):
    step = fields.Enum(Step, by_value=True)


class ProposeSchema(Schema):
    title = text(TITLE_LIMIT, missing="请填写议题标题", name="标题")
    body = text(BODY_LIMIT, missing="请写明议题内容", name="内容")
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


class ProposeFormSchema(ProposeSchema):
    """The page's proposal: its photos come along; a raised topic ignores the household radio the form shows."""

    photos = fields.List(Photo(), load_default=list, validate=PHOTO_COUNT)

    @pre_load
    def _raised(self, data, **_):
        if str(data.get("raise", "")).strip() in ("1", "true", "on"):
            data = {key: value for key, value in data.items() if key != "household_id"}
        return data


class HouseholdChoiceSchema(Schema):
    household_id = _household_id()


class ReviewSchema(Schema):
    """accept: vote_kind (civil_code_item for owners_joint), deliberation_ends_at and voting_hours;
    decline: a public reason; merge: the open topic to merge into. Loads as `review`, the decision to take."""

    decision = fields.String(
        required=True, validate=validate.OneOf(("accept", "decline", "merge"), error="请选择确定、不予采纳或合并"),
        error_messages={"required": "请选择确定、不予采纳或合并"},
    )
    vote_kind = fields.Enum(VoteKind, by_value=True, allow_none=True, load_default=None,
                            error_messages={"unknown": "请选择决定方式"})
    civil_code_item = whole(
        "请选择《民法典》第二百七十八条的表决事项",
        1,
        9,
        allow_none=True,
        load_default=None,
        metadata={"description": "《民法典》第二百七十八条第一款第几项（1–9），仅业主共同决定事项"},
    )
    open_voting = fields.Boolean(
        load_default=False, metadata={"description": "公开表决：结果中列出每户的选择"}
    )
    deliberation_ends_at = fields.AwareDateTime(
        allow_none=True,
        load_default=None,
        error_messages={"invalid": "请选择协商讨论截止时间", "invalid_awareness": "协商讨论截止时间须带时区"},
        metadata={"description": "ISO 8601，须带时区；须晚于现在且在一年以内"},
    )
    voting_hours = whole(VOTING_HOURS_MESSAGE, MIN_VOTING_HOURS, MAX_VOTING_HOURS, allow_none=True, load_default=None)
    publicity_days = whole(
        PUBLICITY_DAYS_MESSAGE,
        MIN_PUBLICITY_DAYS,
        MAX_PUBLICITY_DAYS,
        allow_none=True,
        load_default=None,
        metadata={"description": "省略时用小区设置的公示天数"},
    )
    responsible_party = text(60, name="落实责任方")
    reason = text(300, name="原因")
    merge_into_id = TopicNumber(
        validate=ID, allow_none=True, load_default=None,
        error_messages={"invalid": "请填写要合并到的议题编号"},
    )

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

    @post_load
    def _review(self, data, **_) -> dict:
        if data["decision"] == "decline":
            return data | {"review": Decline(data["reason"])}
        if data["decision"] == "merge":
            return data | {"review": Merge(data["merge_into_id"])}
        acceptance = Acceptance(
            rule=VoteRule(kind=data["vote_kind"], item=data["civil_code_item"]),
            schedule=Schedule(data["deliberation_ends_at"], data["voting_hours"], data["publicity_days"]),
            open_voting=data["open_voting"],
            responsible_party=data["responsible_party"],
        )
        return data | {"review": acceptance}


class ReviewFormSchema(ReviewSchema):
    """The page's review form: the deadline in Beijing time from a datetime-local box, the ballot's length as an
    amount of days or of hours, and the item box, which an ordinary consultation leaves as it was."""

    voting_amount = fields.String(load_only=True)
    voting_unit = fields.String(load_only=True)

    @pre_load
    def _from_widgets(self, data, **_):
        data = dict(data)
        ends_at = beijing_moment(str(data.get("deliberation_ends_at", "")))
        if ends_at is not None:
            data["deliberation_ends_at"] = ends_at.isoformat()
        amount = str(data.pop("voting_amount", "")).strip()
        in_days = data.pop("voting_unit", "days") != "hours"
        if amount:
            # A number too long for days passes as it is, and is refused with the ballot's limits.
            whole_days = in_days and amount.isascii() and amount.isdigit() and len(amount) <= 4
            data["voting_hours"] = str(int(amount) * 24) if whole_days else amount
        if data.get("vote_kind") != VoteKind.OWNERS_JOINT:
            data.pop("civil_code_item", None)
        return data


class CommentInputSchema(Schema):
    body = text(500, missing="请填写评论内容", name="评论")
    parent_id = whole("要回复的评论不存在", allow_none=True, load_default=None, metadata={"description": "回复哪条评论"})


class HideSchema(Schema):
    reason = text(200, missing="请填写隐藏原因（会公开显示）", name="隐藏原因")


class OptionInputSchema(Schema):
    label = Text(required=True, validate=[validate.Length(min=1, error="选项不能为空，也不能重复"),
                                          validate.Length(max=OPTION_LIMIT, error="每个选项不超过{max}个字")])
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
        validate=validate.Length(min=MIN_OPTIONS, max=MAX_OPTIONS, error="表决选项须为{min}至{max}个"),
        error_messages={"required": f"表决选项须为{MIN_OPTIONS}至{MAX_OPTIONS}个"},
    )


class OptionFormSchema(OptionListInputSchema):
    """The page's two buttons: 同意/不同意/弃权 (kind=motion), or candidates one per line with 弃权 optional."""

    kind = fields.String(load_only=True)
    # Twenty lines of forty characters, with room for the blank lines people leave.
    candidates = fields.String(load_only=True, validate=validate.Length(max=2000))
    with_abstain = fields.String(load_only=True)

    @pre_load
    def _from_widgets(self, data, **_):
        if data.get("kind") == "motion":
            return data | {"options": [dict(option) for option in MOTION]}
        lines = str(data.get("candidates", "")).splitlines()
        labels = [label for label in dict.fromkeys(line.strip() for line in lines) if label]
        options = [{"label": label} for label in labels]
        if str(data.get("with_abstain", "")) == "1" and ABSTAIN_LABEL not in labels:
            options.append({"label": ABSTAIN_LABEL, "is_abstain": True})
        return data | {"options": options}


class VoteInputSchema(Schema):
    option_id = whole("请选择一个表决选项", required=True)
    household_id = _household_id()


class PaperVoteSchema(Schema):
    """书面表决票 or 委托书: one multipart body with the paper's photo."""

    household_id = whole(CHOOSE_HOUSEHOLD, required=True)
    option_id = whole("请选择楼栋和表决选项", required=True)
    channel = fields.String(
        required=True, validate=validate.OneOf((Channel.PAPER.value, Channel.PROXY.value),
                                               error="请选择书面表决票或委托书"),
        error_messages={"required": "请选择书面表决票或委托书"},
    )
    note = text(200, name="备注")
    photo = Photo(required=True, error_messages={"required": "请拍摄一张书面表决票或委托书的照片"},
                  metadata={"description": "书面表决票或委托书的照片，不超过 10 MB"})

    @post_load
    def _channel(self, data, **_) -> dict:
        return data | {"channel": Channel(data["channel"])}


class PaperVoteFormSchema(PaperVoteSchema):
    """The page finds the household by its address, as the paper gives it."""

    household_id = whole(CHOOSE_HOUSEHOLD, allow_none=True, load_default=None)
    building_id = whole("请选择楼栋和表决选项", required=True)
    unit = text(16, missing="请填写单元", name="单元")
    room = text(16, missing="请填写房号", name="房号")


class TopicPhotoUploadSchema(Schema):
    photo = Photo(
        required=True, error_messages={"required": "请选择一张照片"},
        metadata={"description": "一张照片：JPG、PNG、WebP（或 HEIC），不超过 10 MB"},
    )


class ObjectionInputSchema(Schema):
    body = text(500, missing="请写明异议内容", name="异议")
    household_id = _household_id()


class AnswerSchema(Schema):
    answer = text(500, missing="请填写答复内容", name="答复")


class ProgressInputSchema(Schema):
    """A multipart body: the update, whether it completes the decision, and up to six photos."""

    body = text(500, missing="请填写落实进展", name="落实进展")
    is_final = fields.Boolean(load_default=False, metadata={"description": "落实完成：议题办结"})
    photos = fields.List(Photo(), load_default=list, validate=PHOTO_COUNT)


class TopicRatingInputSchema(Schema):
    stars = whole(f"请选择1到{MAX_RATING_STARS}星的评分", 1, MAX_RATING_STARS, required=True)
    comment = text(300, name="评价")
    household_id = _household_id()


class ConsultationSettingsSchema(Schema):
    cosign_threshold = whole(
        f"联名户数请填写{MIN_COSIGN_THRESHOLD}到{MAX_COSIGN_THRESHOLD}之间的整数", MIN_COSIGN_THRESHOLD,
        MAX_COSIGN_THRESHOLD, required=True,
    )
    residents_may_vote = fields.Boolean(
        required=True, metadata={"description": "一般协商事项允许已认证住户（非业主）表决"}
    )
    publicity_days = whole(
        f"公示天数请填写{MIN_PUBLICITY_DAYS}到{MAX_PUBLICITY_DAYS}之间的整数", MIN_PUBLICITY_DAYS, MAX_PUBLICITY_DAYS,
        required=True,
    )


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
    step_label = fields.String()
    step_number = fields.Integer(metadata={"description": "五步议事法的第几步（1–5）；未采纳或已合并为 0"})
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
    channel_label = fields.String(allow_none=True)
    cast_at = fields.DateTime(allow_none=True)
    casts = fields.Integer(metadata={"description": "这户共表决过几次（修改也算一次），以最后一次为准"})


class VoteReceiptListSchema(Schema):
    items = fields.List(fields.Nested(VoteReceiptSchema), required=True)


class LinkedMeetingSchema(Schema):
    """A meeting held on the topic (its detail is GET /meetings/<id>)."""

    id = fields.Integer()
    kind = fields.Enum(MeetingKind, by_value=True)
    kind_label = fields.String()
    title = fields.String()
    starts_at = fields.DateTime()
    place = fields.String()


class TopicRenovationSchema(Schema):
    """Issue 19: a renovation project the topic led to."""

    id = fields.Integer()
    title = fields.String()
    status = fields.String(metadata={"description": "planned, in_progress, completed"})
    status_label = fields.String()
    percent = fields.Integer()


class TopicDetailSchema(TopicSchema):
    five_steps = fields.List(fields.String())
    proposer_name = fields.String(
        metadata={"description": "对其他居民只显示“居民”；业委会和党组织书记可见姓名"}
    )
    mine = fields.Boolean(metadata={"description": "我发起的议题"})
    cosign_threshold = fields.Integer()
    cosigned_household_ids = fields.List(fields.Integer(), metadata={"description": "我的房屋中已联名的"})
    civil_code_item_label = fields.String(allow_none=True)
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
    open_ballot_warnings = fields.List(fields.String(), metadata={"description": (
        "可以开启表决时，开启前应知道的事（提前结束协商讨论、相关会议尚未举行），每条一句；开启表决和结束表决不可撤销，"
        "接口不再询问，请客户端先向用户确认"
    )})
    renovation_projects = fields.List(fields.Nested(TopicRenovationSchema),
                                      metadata={"description": "由本议题形成的老旧小区改造项目"})


class TopicListSchema(envelope(TopicSchema)):
    actions = fields.List(
        fields.String(),
        metadata={"description": "我在这里可以开始的：propose（以房屋发起）、raise（直接提出）、run_consultations（议事台）"},
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
