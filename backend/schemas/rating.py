"""Request and response schemas of company scores and stars (评星定级): the API's bodies and the pages' forms, whose
limits and messages are written here once; the responses dump what presenters/rating.py builds."""
from __future__ import annotations

from marshmallow import Schema, fields, post_load, validate

from backend.domain.rating import CreditKind, PeriodKind, StarMethod
from backend.schemas.actions import Actions
from backend.schemas.consultations import Photo, Whole, text, whole
from backend.schemas.text import text_field
from backend.services.rating import ItemInput, MethodInput

MAX_ITEMS = 30
MAX_ITEM_POINTS = 1000
# One credit record moves a composite score by at most 100 points (centi-points).
MAX_CREDIT_CENTI = 10000


def _weight(label: str) -> Whole:
    return whole(f"{label}权重须为0–100的整数", low=0, high=100, required=True)


class BandSchema(Schema):
    min_score_centi = whole("最低分须为0–100分", low=0, high=10000, required=True)
    stars = whole("星级须为1–5星", low=1, high=5, required=True)


class RatingMethodSchema(Schema):
    """The area's rating method: weights in percent (adding to 100), stars by bands or by rank cut-offs."""

    survey_weight = _weight("满意度测评")
    service_weight = _weight("工单服务")
    inspection_weight = _weight("现场检查")
    method = fields.Enum(StarMethod, by_value=True, required=True,
                         error_messages={"required": "请选择评星方式", "unknown": "请选择评星方式"})
    bands = fields.List(fields.Nested(BandSchema), load_default=list, validate=validate.Length(max=5),
                        metadata={"description": "按分数评星：各星级的最低分（百分之一分）"})
    cutoffs_bp = fields.List(whole("名次比例须为0–100%", low=1, high=10000), load_default=list,
                             validate=validate.Length(max=5, error="最多5档名次比例"),
                             metadata={"description": "按名次评星：★5、★4…的累计名次比例（万分比），逐级递增"})
    min_stars = whole("最低星级须为0–5", low=0, high=5, load_default=0)
    publicity_days = whole("公示天数须为1–30天", low=1, high=30, load_default=7)

    @post_load
    def _input(self, data, **_) -> MethodInput:
        return MethodInput(
            survey_weight=data["survey_weight"], service_weight=data["service_weight"],
            inspection_weight=data["inspection_weight"], method=data["method"],
            bands=[(band["min_score_centi"], band["stars"]) for band in data["bands"]],
            cutoffs_bp=data["cutoffs_bp"], min_stars=data["min_stars"], publicity_days=data["publicity_days"],
        )


class RatingMethodOutSchema(Schema):
    area_id = fields.Integer(metadata={"description": "所查询的区域"})
    source_area_id = fields.Integer(allow_none=True, metadata={"description": "生效办法所属区域（本级或最近的上级）"})
    source_area_name = fields.String(allow_none=True)
    inherited = fields.Boolean()
    survey_weight = fields.Integer(allow_none=True)
    service_weight = fields.Integer(allow_none=True)
    inspection_weight = fields.Integer(allow_none=True)
    method = fields.String(allow_none=True)
    bands = fields.List(fields.Nested(BandSchema))
    cutoffs_bp = fields.List(fields.Integer())
    min_stars = fields.Integer(allow_none=True)
    publicity_days = fields.Integer(allow_none=True)


class SignedWhole(Whole):
    """A form posts "-500" as text: Whole reads ASCII digits only, so take the sign off first."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and value.strip().startswith("-"):
            return -super()._deserialize(value.strip()[1:], attr, data, **kwargs)
        return super()._deserialize(value, attr, data, **kwargs)


class CreditRecordSchema(Schema):
    """A credit record (信用记录), multipart with an optional evidence photo."""

    kind = fields.Enum(CreditKind, by_value=True, required=True,
                       error_messages={"required": "请选择记录类型", "unknown": "请选择记录类型"})
    points_centi = SignedWhole(required=True, validate=validate.Range(min=-MAX_CREDIT_CENTI, max=MAX_CREDIT_CENTI,
                                                                error="分值须在±100分之间"),
                         error_messages={"required": "请填写分值", "invalid": "分值须为整数（百分之一分）"},
                         metadata={"description": "加减分（百分之一分），良好记录为正，其余为负或0"})
    reason = text_field("事由", 300)
    occurred_on = fields.Date(required=True, error_messages={"required": "请选择发生日期", "invalid": "请选择发生日期"})
    expires_on = fields.Date(allow_none=True, load_default=None, error_messages={"invalid": "请选择失效日期"},
                             metadata={"description": "缺省为发生日期起一年"})
    evidence = Photo(load_default=None, metadata={"description": "证据照片，不超过 10 MB"})


class CreditRecordOutSchema(Schema):
    id = fields.Integer()
    company_id = fields.Integer()
    kind = fields.String()
    kind_label = fields.String()
    points_centi = fields.Integer()
    reason = fields.String()
    has_evidence = fields.Boolean()
    occurred_on = fields.Date()
    expires_on = fields.Date()
    area_id = fields.Integer()
    recorded_by = fields.String()


class CreditRecordListSchema(Schema):
    company_id = fields.Integer()
    company_name = fields.String()
    items = fields.List(fields.Nested(CreditRecordOutSchema))


class InspectionItemSchema(Schema):
    name = text_field("检查项目", 60)
    max_points = whole("满分须为1–1000", high=MAX_ITEM_POINTS, required=True)
    points = whole("得分须为0–1000", low=0, high=MAX_ITEM_POINTS, required=True)
    finding = text(300, name="检查发现")

    @post_load
    def _item(self, data, **_) -> ItemInput:
        return ItemInput(**data)


class InspectionSchema(Schema):
    inspected_on = fields.Date(required=True, error_messages={"required": "请选择检查日期", "invalid": "请选择检查日期"})
    note = text(500, name="备注")
    items = fields.List(fields.Nested(InspectionItemSchema), required=True,
                        validate=validate.Length(min=1, max=MAX_ITEMS, error=f"检查项目须为1–{MAX_ITEMS}项"),
                        error_messages={"required": "请填写检查项目"})


class InspectionItemOutSchema(Schema):
    position = fields.Integer()
    name = fields.String()
    max_points = fields.Integer()
    points = fields.Integer()
    finding = fields.String()
    has_photo = fields.Boolean(metadata={"description": "照片见 GET /inspections/<id>/items/<position>/photo"})


class InspectionOutSchema(Schema):
    id = fields.Integer()
    compound_id = fields.Integer()
    company_id = fields.Integer()
    inspected_on = fields.Date()
    points = fields.Integer()
    max_points = fields.Integer()
    score_centi = fields.Integer(allow_none=True)
    note = fields.String()
    items = fields.List(fields.Nested(InspectionItemOutSchema))


class FindingPhotoSchema(Schema):
    photo = Photo(required=True, error_messages={"required": "请选择一张照片"},
                  metadata={"description": "检查发现的照片，不超过 10 MB"})


class RoundCreateSchema(Schema):
    area_id = whole("请选择区域", required=True)
    period_kind = fields.Enum(PeriodKind, by_value=True, required=True,
                              error_messages={"required": "请选择季度或年度", "unknown": "请选择季度或年度"})
    period_start = fields.Date(required=True, error_messages={"required": "请选择评星期间", "invalid": "请选择评星期间"},
                               metadata={"description": "季度或年度的第一天"})


class RatingObjectionSchema(Schema):
    company_id = whole("请选择物业企业", allow_none=True, load_default=None)
    reason = text_field("异议理由", 500)


class ObjectionAnswerSchema(Schema):
    answer = text_field("答复", 500)


class StepSchema(Schema):
    key = fields.String()
    label = fields.String()
    done = fields.Boolean()
    by = fields.String(allow_none=True)
    at = fields.AwareDateTime(allow_none=True)


class RatingLineSchema(Schema):
    company_id = fields.Integer()
    company_name = fields.String()
    compounds = fields.List(fields.String())
    compound_codes = fields.List(fields.String(), metadata={"description": "与 compounds 一一对应的小区编码"})
    compounds_rated = fields.Integer()
    compounds_insufficient = fields.Integer()
    survey_score_centi = fields.Integer(allow_none=True)
    service_score_centi = fields.Integer(allow_none=True)
    inspection_score_centi = fields.Integer(allow_none=True)
    credit_centi = fields.Integer()
    composite_centi = fields.Integer()
    rank = fields.Integer()
    stars = fields.Integer()
    no_star_reason = fields.String()
    red_property = fields.Boolean()


class RatingObjectionOutSchema(Schema):
    id = fields.Integer()
    company_id = fields.Integer(allow_none=True)
    company_name = fields.String(allow_none=True)
    reason = fields.String()
    answer = fields.String()
    answered_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    mine = fields.Boolean()


class RoundSchema(Schema):
    id = fields.Integer()
    area_id = fields.Integer()
    area_name = fields.String()
    period_kind = fields.String()
    period_label = fields.String()
    period_start = fields.Date()
    period_end = fields.Date()
    status = fields.String()
    status_label = fields.String()
    computed = fields.Boolean()
    publicity_ends_at = fields.AwareDateTime(allow_none=True)
    method = fields.Dict()
    steps = fields.List(fields.Nested(StepSchema))
    lines = fields.List(fields.Nested(RatingLineSchema))
    objections = fields.List(fields.Nested(RatingObjectionOutSchema))
    actions = Actions("review, confirm (starts the publicity), object, answer, publish, export")
    inspects = fields.Boolean(metadata={"description": "可录入和查看本区域各小区的现场检查（区县及以上住建部门、平台管理员）"})


class RoundLineSchema(Schema):
    id = fields.Integer()
    area_id = fields.Integer()
    area_name = fields.String()
    period_label = fields.String()
    status = fields.String()
    status_label = fields.String()


class RoundListSchema(Schema):
    items = fields.List(fields.Nested(RoundLineSchema))
    areas = fields.List(fields.Dict())


class HistoryLineSchema(Schema):
    round_id = fields.Integer()
    area_name = fields.String()
    period_label = fields.String()
    stars = fields.Integer()
    composite_centi = fields.Integer()
    rank = fields.Integer()
    no_star_reason = fields.String()
    published_at = fields.AwareDateTime(allow_none=True)


class CompanyPublicSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    has_party_org = fields.Boolean()
    stars = fields.Integer(allow_none=True, metadata={"description": "最近一次授牌的星级；尚未评星为空"})
    red_property = fields.Boolean(metadata={"description": "红色物业：★5且有党组织"})
    history = fields.List(fields.Nested(HistoryLineSchema))

