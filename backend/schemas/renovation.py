"""Request and response schemas of renovation projects (老旧小区改造): the API's bodies and the pages' forms, whose
limits and messages are written here once (the page's item budget in yuan, the API's in fen); the responses dump what
presenters/renovation.py builds."""
from __future__ import annotations

from marshmallow import Schema, fields, post_load, validate

from backend.domain.consultations import Step
from backend.domain.rectifications import RESPONSIBLE_PARTY_LABELS, ResponsibleParty
from backend.domain.renovation import (
    COMMENT_LIMIT,
    CONTRACTOR_LIMIT,
    DESCRIPTION_LIMIT,
    FUNDING_SOURCE_LABELS,
    ITEM_CLASS_LABELS,
    MAX_BUDGET_FEN,
    MAX_ITEMS,
    MAX_PHOTOS,
    MAX_STARS,
    NOTE_LIMIT,
    PROJECT_STATUS_LABELS,
    TITLE_LIMIT,
    FundingSource,
    ItemClass,
    ProjectStatus,
)
from backend.schemas.actions import Actions
from backend.schemas.consultations import Photo, whole
from backend.schemas.fees import Yuan
from backend.schemas.text import text_field
from backend.services.renovation import ItemInput, ProjectInput

BUDGET_MESSAGE = "预算须为0至100亿元"


def _described(labels: dict) -> str:
    return "；".join(f"{value}：{label}" for value, label in labels.items())


def _choice(enum_cls, labels: dict, message: str, **kwargs) -> fields.Enum:
    return fields.Enum(enum_cls, by_value=True, required=True,
                       error_messages={"required": message, "unknown": message, "null": message},
                       metadata={"description": _described(labels)}, **kwargs)


def _date(message: str) -> fields.Date:
    return fields.Date(load_default=None, allow_none=True, error_messages={"invalid": message})


class RenovationItemInputSchema(Schema):
    item_class = _choice(ItemClass, ITEM_CLASS_LABELS, "请选择改造类别")
    category = text_field("改造内容", 20, blank="请选择改造内容")
    description = text_field("说明", DESCRIPTION_LIMIT, required=False)
    budget_fen = whole(BUDGET_MESSAGE, low=0, high=MAX_BUDGET_FEN, required=True, metadata={"description": "预算（分）"})
    funding_source = _choice(FundingSource, FUNDING_SOURCE_LABELS, "请选择资金来源")

    @post_load
    def _item(self, data, **_) -> ItemInput:
        return ItemInput(**data)


class RenovationItemFormSchema(RenovationItemInputSchema):
    """The page's item row: the budget in yuan."""

    budget_fen = Yuan(data_key="budget", required=True,
                      error_messages={"required": "请填写预算（元）", "null": "请填写预算（元）"},
                      validate=validate.Range(min=0, max=MAX_BUDGET_FEN, error=BUDGET_MESSAGE))


class RenovationProjectInputSchema(Schema):
    title = text_field("项目名称", TITLE_LIMIT)
    responsible_party = _choice(ResponsibleParty, RESPONSIBLE_PARTY_LABELS, "请选择责任方")
    contractor = text_field("施工单位", CONTRACTOR_LIMIT, required=False)
    topic_id = whole("请选择本小区的议题", load_default=None, allow_none=True,
                     metadata={"description": "项目来自的业主表决议题（本小区的），可不填"})
    planned_start = _date("请填写计划开工日期")
    planned_end = _date("请填写计划完工日期")
    items = fields.List(fields.Nested(RenovationItemInputSchema), required=True,
                        validate=validate.Length(min=1, max=MAX_ITEMS, error=f"改造内容须为1–{MAX_ITEMS}项"),
                        error_messages={"required": "请填写改造内容"})

    @post_load
    def _project(self, data, **_) -> ProjectInput:
        return ProjectInput(**data)


class RenovationProjectFormSchema(RenovationProjectInputSchema):
    items = fields.List(fields.Nested(RenovationItemFormSchema), required=True,
                        validate=validate.Length(min=1, max=MAX_ITEMS, error=f"改造内容须为1–{MAX_ITEMS}项"),
                        error_messages={"required": "请填写改造内容"})


class RenovationProgressSchema(Schema):
    """A multipart body: what was done, the percent reached (100 completes the project), up to six photos."""

    note = text_field("进度说明", NOTE_LIMIT)
    percent = whole("进度须为0–100", low=0, high=100, required=True)
    photos = fields.List(Photo(), load_default=list,
                         validate=validate.Length(max=MAX_PHOTOS, error=f"最多上传{MAX_PHOTOS}张照片"))


class RenovationRatingSchema(Schema):
    stars = whole("评分为1至5星", high=MAX_STARS, required=True)
    comment = text_field("评价", COMMENT_LIMIT, required=False)
    household_id = whole("请选择以哪一户的名义", load_default=None, allow_none=True,
                         metadata={"description": "以哪一户的名义（只有一户时可不填）"})


# ---- responses ------------------------------------------------------------------------------------------------


class RenovationPhotoSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    width = fields.Integer()
    height = fields.Integer()


class RenovationProjectSchema(Schema):
    id = fields.Integer()
    compound_id = fields.Integer()
    title = fields.String()
    status = fields.Enum(ProjectStatus, by_value=True, metadata={"description": _described(PROJECT_STATUS_LABELS)})
    status_label = fields.String()
    percent = fields.Integer()
    responsible_party = fields.Enum(ResponsibleParty, by_value=True)
    responsible_party_label = fields.String()
    contractor = fields.String()
    topic_id = fields.Integer(allow_none=True)
    planned_start = fields.Date(allow_none=True)
    planned_end = fields.Date(allow_none=True)
    actual_start = fields.Date(allow_none=True)
    actual_end = fields.Date(allow_none=True)
    budget_fen = fields.Integer()
    created_at = fields.DateTime()
    rating_count = fields.Integer()
    rating_average_centi = fields.Integer(allow_none=True, metadata={"description": "平均星级×100，四舍五入"})


class RenovationItemSchema(Schema):
    position = fields.Integer()
    item_class = fields.Enum(ItemClass, by_value=True)
    item_class_label = fields.String()
    category = fields.String()
    description = fields.String()
    budget_fen = fields.Integer()
    funding_source = fields.Enum(FundingSource, by_value=True)
    funding_source_label = fields.String()


class RenovationFundingSchema(Schema):
    funding_source = fields.Enum(FundingSource, by_value=True)
    funding_source_label = fields.String()
    budget_fen = fields.Integer()


class RenovationTopicSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    step = fields.Enum(Step, by_value=True)
    step_label = fields.String()
    passed = fields.Boolean(allow_none=True, metadata={"description": "表决结果；未表决为空"})


class RenovationTimelineStepSchema(Schema):
    key = fields.String(metadata={"description": "proposal, decision, project, started, completed, rating"})
    label = fields.String()
    done = fields.Boolean()
    at = fields.DateTime(allow_none=True)
    on = fields.Date(allow_none=True, metadata={"description": "开工、完工：北京时间的日期"})
    note = fields.String()


class RenovationUpdateSchema(Schema):
    id = fields.Integer()
    note = fields.String()
    percent = fields.Integer()
    author_name = fields.String()
    created_at = fields.DateTime()
    photos = fields.List(fields.Nested(RenovationPhotoSchema))


class RenovationCommentSchema(Schema):
    stars = fields.Integer()
    comment = fields.String()
    at = fields.DateTime()


class RenovationMyRatingSchema(Schema):
    household_id = fields.Integer()
    stars = fields.Integer()
    comment = fields.String()


class RenovationProjectDetailSchema(RenovationProjectSchema):
    items = fields.List(fields.Nested(RenovationItemSchema))
    funding = fields.List(fields.Nested(RenovationFundingSchema))
    topic = fields.Nested(RenovationTopicSchema, allow_none=True)
    timeline = fields.List(fields.Nested(RenovationTimelineStepSchema))
    updates = fields.List(fields.Nested(RenovationUpdateSchema))
    comments = fields.List(fields.Nested(RenovationCommentSchema), metadata={"description": "评价留言（不显示评价人）"})
    my_ratings = fields.List(fields.Nested(RenovationMyRatingSchema))
    households = fields.List(fields.Integer(), metadata={"description": "此人在本小区已认证的房屋"})
    actions = Actions("此人可做的事：progress（责任方）, rate（完工后，已认证住户）")


class RenovationPageSchema(Schema):
    items = fields.List(fields.Nested(RenovationProjectSchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()
    actions = Actions("create：此人可新建改造项目")
