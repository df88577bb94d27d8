"""Request and response schemas of satisfaction surveys (满意度测评): the API's bodies and the pages' forms, whose
limits and messages are written here once; the responses dump what presenters/surveys.py builds."""
from __future__ import annotations

import json
from datetime import UTC, datetime

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema

from backend.domain.rating import QuestionKind
from backend.domain.surveys import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_EXTRA_QUESTIONS,
    MAX_OPTIONS,
    MAX_RESPONSE_BP,
    MIN_HOUSEHOLDS_FLOOR,
    MIN_OPTIONS,
    MIN_RESPONSE_BP_FLOOR,
    QuestionDraft,
    SurveyState,
)
from backend.domain.text import MAX_JSON_DEPTH, nested_deeper_than
from backend.schemas.actions import Actions
from backend.schemas.auth import PhoneField
from backend.schemas.consultations import Photo, whole
from backend.schemas.meetings import BeijingDateTime
from backend.schemas.text import text_field
from backend.services.surveys import AnswerInput

MAX_HOUSEHOLDS = 1_000_000
MAX_ANSWERS = 50
CHOOSE_HOUSEHOLD = "请选择为哪一户作答"


# ---- requests ---------------------------------------------------------------------------------------


class QuestionInputSchema(Schema):
    """A campaign's own question after the template: single choice with its options, or free text."""

    kind = fields.Enum(QuestionKind, by_value=True, required=True, validate=validate.OneOf(
        (QuestionKind.CHOICE, QuestionKind.TEXT), error="附加题只能是单选题或文字题"),
        error_messages={"required": "请选择题型", "unknown": "附加题只能是单选题或文字题"})
    text = text_field("题目", 100)
    options = fields.List(text_field("选项", 30), load_default=list, validate=validate.Length(
        max=MAX_OPTIONS, error=f"选项最多{MAX_OPTIONS}个"))
    required = fields.Boolean(load_default=False)

    @validates_schema
    def _options(self, data, **_):
        if data.get("kind") is QuestionKind.CHOICE and len(data.get("options", [])) < MIN_OPTIONS:
            raise ValidationError(f"单选题至少需要{MIN_OPTIONS}个选项", "options")
        if data.get("kind") is QuestionKind.TEXT and data.get("options"):
            raise ValidationError("文字题没有选项", "options")

    @post_load
    def _draft(self, data, **_) -> QuestionDraft:
        return QuestionDraft(kind=data["kind"], text=data["text"], options=tuple(data["options"]),
                             required=data["required"])


def _questions() -> fields.List:
    return fields.List(fields.Nested(QuestionInputSchema), validate=validate.Length(
        max=MAX_EXTRA_QUESTIONS, error=f"附加题最多{MAX_EXTRA_QUESTIONS}道"), metadata={
        "description": "六项满意度和一道意见建议题之后的附加题"})


def _in_calendar(label: str):
    """A campaign time from FIRST_YEAR to LAST_YEAR, checked in UTC: an offset at the calendar's edge (year 1
    at +14:00, year 9999 at -14:00) has no UTC time at all."""
    message = f"{label}须在{FIRST_YEAR}年至{LAST_YEAR}年之间"

    def check(moment: datetime) -> None:
        try:
            year = moment.astimezone(UTC).year
        except (OverflowError, ValueError):
            raise ValidationError(message) from None
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValidationError(message)

    return check


def _moment(label: str, required: bool = True) -> fields.AwareDateTime:
    message = f"请选择{label}"
    return fields.AwareDateTime(
        validate=_in_calendar(label),
        error_messages={"required": message, "invalid": message, "invalid_awareness": f"{label}须带时区"},
        metadata={"description": f"ISO 8601，须带时区；{FIRST_YEAR}–{LAST_YEAR}年"},
        **({"required": True} if required else {"load_default": None}),
    )


def _form_moment(label: str) -> BeijingDateTime:
    message = f"请选择{label}"
    return BeijingDateTime(required=True, validate=_in_calendar(label),
                           error_messages={"required": message, "invalid": message})


class SurveyCreateSchema(Schema):
    title = text_field("测评名称", 60)
    area_id = whole("请选择测评区域", allow_none=True, load_default=None,
                    metadata={"description": "街道或区的测评：辖区内全部小区（与 compound_id 二选一）"})
    compound_id = whole("请选择小区", allow_none=True, load_default=None,
                        metadata={"description": "业委会为本小区发起（与 area_id 二选一）"})
    opens_at = _moment("开始时间")
    closes_at = _moment("结束时间")
    min_response_bp = whole(f"最低参与率须在{MIN_RESPONSE_BP_FLOOR // 100}%到{MAX_RESPONSE_BP // 100}%之间",
                            low=MIN_RESPONSE_BP_FLOOR, high=MAX_RESPONSE_BP, load_default=MIN_RESPONSE_BP_FLOOR,
                            metadata={"description": f"样本要求：最低参与率（万分比），不低于 {MIN_RESPONSE_BP_FLOOR}"})
    min_households = whole(f"最低参与户数不能少于{MIN_HOUSEHOLDS_FLOOR}户", low=MIN_HOUSEHOLDS_FLOOR,
                           high=MAX_HOUSEHOLDS, load_default=MIN_HOUSEHOLDS_FLOOR,
                           metadata={"description": f"样本要求：最少参与户数，不少于 {MIN_HOUSEHOLDS_FLOOR}"})
    owners_only = fields.Boolean(load_default=False, metadata={"description": "只允许业主作答（租户不能作答）"})
    publish_comments = fields.Boolean(load_default=False,
                                      metadata={"description": "结束后向物业公司公开意见建议（只有文字，不含房号）"})
    questions = _questions()

    @validates_schema
    def _one_owner(self, data, **_):
        if (data.get("area_id") is None) == (data.get("compound_id") is None):
            raise ValidationError("请选择测评区域或小区（二选一）", "area_id")

    @post_load
    def _drafts(self, data, **_) -> dict:
        return data | {"questions": tuple(data.get("questions") or ())}


class SurveyEditSchema(Schema):
    title = text_field("测评名称", 60, required=False)
    opens_at = _moment("开始时间", required=False)
    closes_at = _moment("结束时间", required=False)
    publish_comments = fields.Boolean(load_default=None, allow_none=True)
    questions = fields.List(fields.Nested(QuestionInputSchema), load_default=None, allow_none=True,
                            validate=validate.Length(max=MAX_EXTRA_QUESTIONS,
                                                     error=f"附加题最多{MAX_EXTRA_QUESTIONS}道"))

    @post_load
    def _drafts(self, data, **_) -> dict:
        return data | {"title": data.get("title") or None,
                       "questions": None if data.get("questions") is None else tuple(data["questions"])}


class AnswerInputSchema(Schema):
    question_id = whole("没有这道题", required=True)
    value = whole("请选择满意程度", low=0, high=99, allow_none=True, load_default=None,
                  metadata={"description": "满意度题 5很满意 4满意 3一般 2不满意 1很不满意 0不了解；单选题为选项序号"})
    text = text_field("意见建议", 300, required=False)

    @post_load
    def _input(self, data, **_) -> AnswerInput:
        return AnswerInput(question_id=data["question_id"], value=data["value"], text=data["text"])


def _answers() -> fields.List:
    return fields.List(fields.Nested(AnswerInputSchema), required=True, validate=validate.Length(
        min=1, max=MAX_ANSWERS, error="请回答问卷"), error_messages={"required": "请回答问卷"})


class SheetSchema(Schema):
    household_id = whole(CHOOSE_HOUSEHOLD, allow_none=True, load_default=None,
                         metadata={"description": "为哪一户作答；只有一户时可省略"})
    answers = _answers()


class ReceiptQuery(Schema):
    household_id = whole("没有找到这户的答卷", allow_none=True, load_default=None,
                         metadata={"description": "我的哪一户；只有一户时可省略"})


class JsonAnswers(fields.Field):
    """The answers of a multipart body: one part holding the JSON list (a page passes the list itself)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):
                raise ValidationError("请回答问卷") from None
        if not isinstance(value, list):
            raise ValidationError("请回答问卷")
        if nested_deeper_than(value, MAX_JSON_DEPTH):
            raise ValidationError(f"JSON 嵌套层数过多（最多{MAX_JSON_DEPTH}层）")
        return _answers().deserialize(value)


class PaperSheetSchema(Schema):
    """入户测评: a surveyor's paper sheet for one household, with the photo of the paper."""

    household_id = whole("请选择楼栋和房号", required=True)
    answers = JsonAnswers(required=True, error_messages={"required": "请回答问卷"},
                          metadata={"description": "JSON 数组，与 PUT /response 的 answers 相同"})
    photo = Photo(required=True, error_messages={"required": "请拍摄一张纸质问卷的照片"},
                  metadata={"description": "纸质问卷的照片，不超过 10 MB"})


class PaperSheetFormSchema(PaperSheetSchema):
    """The page finds the household by its address, as the paper gives it."""

    household_id = whole("请选择楼栋和房号", allow_none=True, load_default=None)
    building_id = whole("请选择楼栋", required=True)
    unit = text_field("单元", 16)
    room = text_field("房号", 16)


class EvaluatorSchema(Schema):
    phone = PhoneField(required=True, validate=validate.Length(max=20), error_messages={"required": "请输入手机号"},
                       metadata={"example": "13800138000"})
    name = text_field("测评员姓名", 32, required=False)


class SurveyFormSchema(SurveyCreateSchema):
    """The new-campaign page: the API's body with Beijing times, the minimum share in percent, and where as one
    choice ("area:<id>" or "compound:<id>"); the template's questions only."""

    class Meta:
        exclude = ("questions", "min_response_bp")

    opens_at = _form_moment("开始时间")
    closes_at = _form_moment("结束时间")
    min_percent = whole(f"最低参与率须在{MIN_RESPONSE_BP_FLOOR // 100}到{MAX_RESPONSE_BP // 100}之间",
                        low=MIN_RESPONSE_BP_FLOOR // 100, high=MAX_RESPONSE_BP // 100,
                        load_default=MIN_RESPONSE_BP_FLOOR // 100)

    @pre_load
    def _place(self, data, **_):
        data = dict(data)
        kind, _, place_id = str(data.pop("place", "")).partition(":")
        if kind in ("area", "compound") and place_id:
            data[f"{kind}_id"] = place_id
        return data

    @post_load
    def _percent(self, data, **_) -> dict:
        data = dict(data)
        return data | {"min_response_bp": data.pop("min_percent") * 100}


# ---- responses --------------------------------------------------------------------------------------


class QuestionSchema(Schema):
    id = fields.Integer()
    position = fields.Integer()
    kind = fields.Enum(QuestionKind, by_value=True)
    text = fields.String()
    options = fields.List(fields.String())
    required = fields.Boolean()


class ChoiceSchema(Schema):
    value = fields.Integer()
    label = fields.String()


class MyHouseholdSchema(Schema):
    household_id = fields.Integer()
    label = fields.String()
    may_answer = fields.Boolean(metadata={"description": "只允许业主作答时，租户为 false"})
    answered = fields.Boolean()


class SurveyLineSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    state = fields.Enum(SurveyState, by_value=True)
    state_label = fields.String()
    opens_at = fields.DateTime()
    closes_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    compounds = fields.Integer(metadata={"description": "参与测评的小区数"})
    actions = Actions("此人可做的事")


class SurveyListSchema(Schema):
    items = fields.List(fields.Nested(SurveyLineSchema), required=True)


class SurveyDetailSchema(SurveyLineSchema):
    area_id = fields.Integer(allow_none=True)
    compound_id = fields.Integer(allow_none=True)
    frozen = fields.Boolean(metadata={"description": "已有作答：问卷不能再修改"})
    owners_only = fields.Boolean()
    publish_comments = fields.Boolean()
    min_response_bp = fields.Integer()
    min_households = fields.Integer()
    questions = fields.List(fields.Nested(QuestionSchema))
    answer_choices = fields.List(fields.Nested(ChoiceSchema))
    my_households = fields.List(fields.Nested(MyHouseholdSchema))
    evaluator_count = fields.Integer()
    actions = Actions(
        "answer / change_answer（本户可作答）、enter_paper（测评员）、close、edit_questions（冻结前）、"
        "appoint_evaluator（街道、区）、view_results（结束后）"
    )


class SurveyReceiptAnswerSchema(Schema):
    question_id = fields.Integer()
    question = fields.String()
    value = fields.Integer(allow_none=True)
    label = fields.String()
    text = fields.String()


class SurveyReceiptSchema(Schema):
    survey_id = fields.Integer()
    household_id = fields.Integer()
    household_label = fields.String()
    revision = fields.Integer(metadata={"description": "第几次提交；以最后一次为准"})
    paper = fields.Boolean()
    submitted_at = fields.DateTime()
    updated_at = fields.DateTime()
    answers_shown = fields.Boolean(metadata={
        "description": "只允许业主作答时，租户只看到本户已作答及时间，answers 为空"})
    answers = fields.List(fields.Nested(SurveyReceiptAnswerSchema))


class FigureSchema(Schema):
    subject = fields.String(metadata={"description": "q<题目id> 或 overall（六项合并）"})
    label = fields.String()
    valid = fields.Integer(metadata={"description": "有效回答（不含不了解）"})
    satisfied = fields.Integer()
    rate_bp = fields.Integer(metadata={"description": "满意率（万分比）"})
    score_centi = fields.Integer(metadata={"description": "得分 ×100（0–10000）"})
    counts = fields.List(fields.Integer(), metadata={"description": "各答案的份数：下标 0 不了解 … 5 很满意"})


class CompoundResultSchema(Schema):
    compound_id = fields.Integer()
    compound_name = fields.String()
    households = fields.Integer()
    answered = fields.Integer()
    response_rate_bp = fields.Integer()
    needed = fields.Integer(metadata={"description": "达到样本要求所需的最少作答户数"})
    sufficient = fields.Boolean()
    sample_label = fields.String(allow_none=True, metadata={"description": "样本不足时为“样本不足”，不给出数据"})
    figures = fields.List(fields.Nested(FigureSchema))
    overall = fields.Nested(FigureSchema, allow_none=True)
    comments = fields.List(fields.String(), allow_none=True,
                           metadata={"description": "意见建议（只有文字，按文字排序，不含住户和时间）"})


class CampaignFiguresSchema(Schema):
    households = fields.Integer()
    answered = fields.Integer()
    response_rate_bp = fields.Integer()
    figures = fields.List(fields.Nested(FigureSchema))
    overall = fields.Nested(FigureSchema, allow_none=True)


class ResultsSchema(Schema):
    survey_id = fields.Integer()
    title = fields.String()
    state = fields.Enum(SurveyState, by_value=True)
    published = fields.Boolean(metadata={"description": "已结束并统计：各项数据公开；进行中只显示参与率"})
    min_response_bp = fields.Integer()
    min_households = fields.Integer()
    compounds = fields.List(fields.Nested(CompoundResultSchema))
    campaign = fields.Nested(CampaignFiguresSchema, allow_none=True,
                             metadata={"description": "整个测评（样本充足的小区合计）；发起方可见"})


class EvaluatorLineSchema(Schema):
    user_id = fields.Integer()
    name = fields.String()
    phone_masked = fields.String(allow_none=True)
