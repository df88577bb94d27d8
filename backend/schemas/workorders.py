"""Request and response schemas of the work-order (报事报修) API."""
from __future__ import annotations

import re
from datetime import timedelta

from flask_smorest.fields import Upload
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_dump,
    pre_load,
    validate,
    validates_schema,
)

from backend.domain import workorders as rules
from backend.domain.workorders import (
    ESCALATION_LABELS,
    RATING_TAGS,
    STATUS_LABELS,
    URGENCY_LABELS,
    Action,
    EscalationLevel,
    HalfDay,
    Sla,
    Status,
    Urgency,
    is_overdue,
)
from backend.schemas.common import ID, NOT_BLANK, PageQuery
from backend.services.photos import MAX_PHOTOS_PER_ORDER
from backend.services.workorders import CategorySla, category_minutes
from backend.shared.clock import beijing_date, utcnow

CATEGORY_NAME_MAX = 16
CATEGORY = validate.Length(min=1, max=CATEGORY_NAME_MAX)
# The time to accept an order: a minute to a week; to close it: an hour to 30 days. A longer one is a typo.
ACCEPT_MINUTES = (1, 10_080)
CLOSE_MINUTES = (60, 43_200)
MAX_CATEGORIES = 20
# The spot of a common area in the resident's words ("3楼楼道"), as a report and a duplicate search take it.
LOCATION_TEXT = validate.Length(max=100, error="具体位置不能超过{max}个字")
CHOOSE_CATEGORY = "请选择报修类别"
DESCRIBE = "请描述遇到的问题"
CHOOSE_PLACE = "请选择报修位置"
CHOOSE_VISIT_DATE = "请选择预约上门日期"
# A whole number as a page's form sends it; "#12" is how an order's number is shown and typed.
_TYPED_NUMBER = re.compile(r"#?([0-9]{1,10})")
# A year at most: a longer deadline is a typo, and no deadline arithmetic comes near an overflow.
MINUTES = validate.Range(min=1, max=525_600)
# Months the figures can be asked for: YYYY-MM, this century.
MONTH = validate.Regexp(r"^20\d\d-(0[1-9]|1[0-2])$", error="月份格式为 YYYY-MM")


def photo_url(order_id: int, photo_id: int) -> str:
    return f"/api/v1/work-orders/{order_id}/photos/{photo_id}"


def place_label(order) -> str:
    """Where the order is, in the words every screen uses (rules.place_label)."""
    household = order.household
    return rules.place_label(
        order.building.name if order.building is not None else None,
        household.unit if household is not None else None, household.room if household is not None else None,
        order.location_text,
    )


def _string() -> dict:
    """What a computed string field is in the OpenAPI document (apispec cannot tell from a function)."""
    return {"metadata": {"type": "string"}}


# ---- requests ---------------------------------------------------------------------------------------


class PlaceQuery(Schema):
    """My household, or a common area: a building of the compound and/or a description of the spot."""

    household_id = fields.Integer(validate=ID, load_default=None)
    building_id = fields.Integer(validate=ID, load_default=None)
    location_text = fields.String(load_default="", validate=LOCATION_TEXT)


class PageForm(Schema):
    """A page's form for an API body: the same fields, limits and messages, read from the text a form sends.
    The API's number fields take JSON numbers only (strict: 1.5 is not household 1); a whole number typed or
    chosen on a page arrives as text and is read as the number here. Anything else stays text, for the field
    to refuse with its own message."""

    @pre_load
    def _typed_numbers(self, data, **_):
        numbers = {}
        for name, field in self.load_fields.items():
            key = field.data_key or name
            typed = data.get(key)
            if isinstance(field, fields.Integer) and isinstance(typed, str) and (match := _TYPED_NUMBER.fullmatch(typed)):
                numbers[key] = int(match.group(1))
        return {**data, **numbers}


class WorkOrderSubmitSchema(Schema):
    category = fields.String(required=True, validate=validate.Length(min=1, max=CATEGORY_NAME_MAX, error=CHOOSE_CATEGORY),
                             error_messages={"required": CHOOSE_CATEGORY})
    description = fields.String(
        required=True, error_messages={"required": DESCRIBE},
        validate=[validate.Length(max=1000, error="问题描述不能超过{max}个字"), validate.Regexp(r"\s*\S", error=DESCRIBE)],
    )
    urgency = fields.Enum(Urgency, by_value=True, load_default=Urgency.NORMAL,
                          error_messages={"unknown": "请选择紧急程度"})
    # strict: a JSON 1.5 must not be truncated into household 1.
    household_id = fields.Integer(strict=True, validate=ID, allow_none=True, load_default=None,
                                  error_messages={"invalid": CHOOSE_PLACE})
    building_id = fields.Integer(strict=True, validate=ID, allow_none=True, load_default=None,
                                 error_messages={"invalid": "请选择本小区的楼栋"})
    location_text = fields.String(load_default="", validate=LOCATION_TEXT)
    # 预约上门时间 of a home repair: a day from today to 30 days on (Asia/Shanghai) and 上午/下午.
    visit_date = fields.Date(allow_none=True, load_default=None, error_messages={"invalid": CHOOSE_VISIT_DATE})
    visit_half_day = fields.Enum(HalfDay, by_value=True, allow_none=True, load_default=None,
                                 error_messages={"unknown": "请选择上午或下午"})

    @validates_schema
    def _visit(self, data, **_):
        try:
            rules.check_visit(data.get("visit_date"), data.get("visit_half_day"), beijing_date(utcnow()),
                              at_home=data.get("household_id") is not None)
        except rules.WorkOrderRefused as refused:
            raise ValidationError(refused.message, "visit_date") from refused


class WorkOrderSubmitForm(PageForm, WorkOrderSubmitSchema):
    """The page's report form: one choice of place, "common" (then a building and/or the spot's words) or one
    of my households' ids, and whether to file even though similar orders were offered."""

    place = fields.String(required=True, error_messages={"required": CHOOSE_PLACE},
                          validate=validate.Regexp(r"(common|[0-9]{1,10})\Z", error=CHOOSE_PLACE))
    confirm_new = fields.Boolean(load_default=False)

    @pre_load
    def _place_first(self, data, **_):
        """The chosen place decides, before the visit is checked: a common area's report has no visit time (the
        form's visit fields may still hold what was picked before switching), a home's no building."""
        place = data.get("place")
        if place == "common":
            return {key: value for key, value in data.items() if key not in ("visit_date", "visit_half_day")} | {
                "household_id": None}
        if isinstance(place, str) and _TYPED_NUMBER.fullmatch(place) and not place.startswith("#"):
            return {**data, "household_id": int(place), "building_id": None}
        return data

    @post_load
    def _chosen_place(self, data, **_):
        place = data.pop("place")
        if place == "common":
            return data | {"household_id": None}
        return data | {"household_id": int(place), "building_id": None}


class DuplicateQuery(PlaceQuery):
    category = fields.String(required=True, validate=[CATEGORY, NOT_BLANK])


class WorkOrderListQuery(PageQuery):
    status = fields.Enum(Status, by_value=True)
    category = fields.String(validate=CATEGORY)
    overdue = fields.Boolean()


class RatingInputSchema(Schema):
    stars = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5, error="请选择1到5星的评分"),
                           error_messages={"required": "请选择1到5星的评分"})
    comment = fields.String(load_default="", validate=validate.Length(max=300))
    tags = fields.List(
        fields.String(validate=validate.OneOf(RATING_TAGS)), load_default=list,
        validate=validate.Length(max=len(RATING_TAGS)),
    )


class TransitionSchema(Schema):
    action = fields.Enum(Action, by_value=True, required=True)
    # Required for reject, close and dispute (the resident reads it); the service says so with a 422.
    note = fields.String(load_default="", validate=validate.Length(max=500))
    assignee_id = fields.Integer(strict=True, validate=ID, allow_none=True, load_default=None)
    merge_into_id = fields.Integer(strict=True, validate=ID, allow_none=True, load_default=None)
    # Photos uploaded beforehand through POST /work-orders/<id>/photos, e.g. after-photos for close (办结).
    photo_ids = fields.List(
        fields.Integer(strict=True, validate=ID), load_default=list,
        validate=validate.Length(max=MAX_PHOTOS_PER_ORDER),
    )
    rating = fields.Nested(RatingInputSchema, allow_none=True, load_default=None)

    @validates_schema
    def _rating_only_when_confirming(self, data, **_):
        if data.get("rating") and data.get("action") is not Action.CONFIRM:
            raise ValidationError("只有确认已解决时可以评价", "rating")


class RatingForm(PageForm, RatingInputSchema):
    """The page's rating: stars chosen as text."""


class TransitionForm(PageForm, TransitionSchema):
    """The page's step forms: ids chosen or typed as text ("#12" for the order to merge into)."""


class ReplySchema(Schema):
    reply = fields.String(required=True, validate=[validate.Length(min=1, max=300), NOT_BLANK])


class StatsQuery(Schema):
    month = fields.String(validate=MONTH, metadata={"description": "YYYY-MM（上海时间），默认本月"})


class PhotoUploadSchema(Schema):
    photo = Upload(required=True, metadata={"description": "一张照片：JPG、PNG、WebP（或 HEIC），不超过 10 MB"})


def _deadline(urgency: str, phase: str) -> fields.Integer:
    """One of a category's four deadlines in minutes, with a sentence that names no unit to type in, for the API
    (minutes) and the settings page (minutes or hours, chosen per cell) alike: its bounds in the one way every page
    writes a time span ("请填写1分钟到168小时之间")."""
    word = URGENCY_LABELS[Urgency(urgency)]
    low, high = ACCEPT_MINUTES if phase == "accept" else CLOSE_MINUTES
    what = "受理" if phase == "accept" else "办结"
    message = (f"{word}报修的{what}时限请填写"
               f"{rules.format_duration(low * 60)}到{rules.format_duration(high * 60)}之间")
    return fields.Integer(required=True, strict=True, validate=validate.Range(min=low, max=high, error=message),
                          error_messages={"required": message, "invalid": message, "null": message})


class CategorySchema(Schema):
    """One category and its SLA in minutes: time to accept and to close, for normal and urgent orders."""

    name = fields.String(
        required=True, error_messages={"required": "请填写类别名称"},
        validate=[validate.Length(max=CATEGORY_NAME_MAX, error="类别名称最多{max}个字"),
                  validate.Regexp(r"\s*\S", error="请填写类别名称")],
    )
    accept_minutes_normal = _deadline("normal", "accept")
    close_minutes_normal = _deadline("normal", "close")
    accept_minutes_urgent = _deadline("urgent", "accept")
    close_minutes_urgent = _deadline("urgent", "close")

    @validates_schema
    def _close_after_accept(self, data, **_):
        for urgency in ("normal", "urgent"):
            if data[f"close_minutes_{urgency}"] < data[f"accept_minutes_{urgency}"]:
                word = URGENCY_LABELS[Urgency(urgency)]
                raise ValidationError(f"{word}报修的办结时限不能短于受理时限", f"close_minutes_{urgency}")

    @post_load
    def _category(self, data, **_) -> CategorySla:
        def sla(urgency: str) -> Sla:
            accept, close = data[f"accept_minutes_{urgency}"], data[f"close_minutes_{urgency}"]
            return Sla(timedelta(minutes=accept), timedelta(minutes=close))

        return CategorySla(data["name"].strip(), sla("normal"), sla("urgent"))

    @pre_dump
    def _minutes(self, category: CategorySla, **_) -> dict:
        return category_minutes(category)


def _how_many(items: list) -> None:
    if len(items) > MAX_CATEGORIES:
        raise ValidationError(f"最多设置{MAX_CATEGORIES}个报修类别（现有{len(items)}个），请删除一些")


class CategoryListSchema(Schema):
    items = fields.List(
        fields.Nested(CategorySchema), required=True,
        validate=[validate.Length(min=1, error="请至少保留一个报修类别"), _how_many],
    )

    @validates_schema
    def _names_unique(self, data, **_):
        seen, repeated = set(), {}
        for index, item in enumerate(data["items"]):
            if item.name in seen:
                repeated[index] = {"name": ["类别名称重复了"]}
            seen.add(item.name)
        if repeated:
            raise ValidationError(repeated, "items")


# ---- responses --------------------------------------------------------------------------------------


class PhotoSchema(Schema):
    id = fields.Integer()
    url = fields.Function(lambda photo: photo_url(photo.work_order_id, photo.id), **_string())
    width = fields.Integer()
    height = fields.Integer()


class RatingSchema(Schema):
    stars = fields.Integer()
    comment = fields.String()
    tags = fields.Function(
        lambda rating: [tag for tag in rating.tags.split(",") if tag],
        metadata={"type": "array", "items": {"type": "string", "enum": list(RATING_TAGS)}},
    )
    # The manager's public answer (empty until there is one).
    reply = fields.String()
    replied_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class WorkOrderSchema(Schema):
    """One line of a list: what the order is, where, how far it has got and whether it is late."""

    id = fields.Integer()
    compound_id = fields.Integer()
    category = fields.String()
    description = fields.String()
    urgency = fields.Enum(Urgency, by_value=True)
    urgency_label = fields.Function(lambda order: URGENCY_LABELS[order.urgency], **_string())
    status = fields.Enum(Status, by_value=True)
    status_label = fields.Function(lambda order: STATUS_LABELS[order.status], **_string())
    place = fields.Function(place_label, **_string())
    household_id = fields.Integer(allow_none=True)
    building_id = fields.Integer(allow_none=True)
    location_text = fields.String()
    assignee_id = fields.Integer(allow_none=True)
    sla_due_at = fields.DateTime(allow_none=True)
    overdue = fields.Function(
        lambda order: is_overdue(order.status, order.sla_due_at, utcnow()), metadata={"type": "boolean"}
    )
    escalation_level = fields.Integer()
    urge_count = fields.Integer()
    dispute_count = fields.Integer()
    rating_stars = fields.Function(
        lambda order: order.rating.stars if order.rating else None,
        metadata={"type": "integer", "nullable": True},
    )
    created_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    visit_date = fields.Date(allow_none=True)
    visit_half_day = fields.Enum(HalfDay, by_value=True, allow_none=True)
    # "12月8日 上午", empty when no visit was booked.
    visit_label = fields.Function(lambda order: rules.visit_label(order.visit_date, order.visit_half_day), **_string())


class DuplicateSchema(Schema):
    """An open order the resident may join instead of filing another; no names."""

    id = fields.Integer()
    category = fields.String()
    description = fields.String()
    status = fields.Enum(Status, by_value=True)
    status_label = fields.Function(lambda order: STATUS_LABELS[order.status], **_string())
    place = fields.Function(place_label, **_string())
    created_at = fields.DateTime()


class DuplicateListSchema(Schema):
    items = fields.List(fields.Nested(DuplicateSchema), required=True)


class TimelineEntrySchema(Schema):
    id = fields.Integer()
    action = fields.String()
    action_label = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    # The status the step led to, when it changed one (else empty).
    to_status_label = fields.String()
    note = fields.String()
    # Staff by name and title; another resident only as "居民" to residents (个人信息保护法).
    actor_name = fields.String()
    actor_title = fields.String()
    # Who did it, as the page shows it: "我", "系统", a title alone, or a title and a name.
    actor_label = fields.String()
    mine = fields.Boolean()
    photos = fields.List(fields.Nested(PhotoSchema))
    created_at = fields.DateTime()


class EscalationSchema(Schema):
    """A step the order took because it stalled: whom it reached, and which deadline it missed."""

    phase = fields.String()
    phase_label = fields.String()
    label = fields.String()
    created_at = fields.DateTime()


class WorkOrderDetailSchema(WorkOrderSchema):
    accepted_at = fields.DateTime(allow_none=True)
    confirmed_at = fields.DateTime(allow_none=True)
    accept_due_at = fields.DateTime()
    close_due_at = fields.DateTime()
    escalation_label = fields.Function(
        lambda detail: ESCALATION_LABELS[EscalationLevel(detail.escalation_level)]
        if detail.escalation_level
        else "",
        **_string(),
    )
    reject_reason = fields.String()
    merged_into_id = fields.Integer(allow_none=True)
    assignee_name = fields.String(allow_none=True)
    submitter_name = fields.String()
    mine = fields.Boolean()
    following = fields.Boolean()
    awaiting_confirmation = fields.Boolean()
    rating = fields.Nested(RatingSchema, allow_none=True)
    timeline = fields.List(fields.Nested(TimelineEntrySchema))
    escalations = fields.List(fields.Nested(EscalationSchema))
    # My uploads not yet used in a step: send their ids as photo_ids with the next transition.
    pending_photos = fields.List(fields.Nested(PhotoSchema))
    actions = fields.List(
        fields.Enum(Action, by_value=True),
        metadata={"description": "此人现在可以执行的流转操作（POST …/transitions 的 action）"},
    )
    can_urge = fields.Boolean()
    # Urged within the last 4 hours by someone: when the caller may urge again (else null).
    next_urge_at = fields.DateTime(allow_none=True)
    can_rate = fields.Boolean()
    can_reply = fields.Boolean()
    can_follow = fields.Boolean()
    can_upload_photos = fields.Boolean()
    # The reporter's phone as 138****1234, for those who see every order and the reporter (else null); the whole
    # number only through POST …/reporter-phone, to the assigned staff and the manager (can_reveal_phone).
    reporter_phone_masked = fields.String(allow_none=True)
    can_reveal_phone = fields.Boolean()


class RevealedPhoneSchema(Schema):
    phone = fields.String(metadata={"description": "报修人完整手机号（空：未留电话）"})
    tel = fields.String(metadata={"description": "tel: 链接"})


class WorkbenchItemSchema(WorkOrderSchema):
    can_accept = fields.Boolean()


class WorkbenchSchema(Schema):
    """我的待办 of a staff member or the manager: the counts, the orders to see to first (urgent, then the
    nearest deadline), and for the manager the ones nobody has been assigned yet."""

    to_accept = fields.Integer(metadata={"description": "待受理"})
    in_progress = fields.Integer(metadata={"description": "处理中（已受理和处理中）"})
    overdue = fields.Integer(metadata={"description": "已超时"})
    unassigned_count = fields.Integer(allow_none=True, metadata={"description": "未派单（仅物业经理）"})
    items = fields.List(fields.Nested(WorkbenchItemSchema))
    unassigned = fields.List(fields.Nested(WorkbenchItemSchema))


class CallButtonSchema(Schema):
    label = fields.String()
    phone = fields.String()
    tel = fields.String()


class ContactPhonesSchema(Schema):
    """A compound's call buttons: 物业服务电话 (set by the manager) and the committee's contact (set by the
    committee, shown on the home page only when it chooses)."""

    service_phone = fields.String()
    committee_phone = fields.String()
    committee_phone_public = fields.Boolean()
    buttons = fields.List(fields.Nested(CallButtonSchema), metadata={"description": "首页和工单页显示的拨号按钮"})


class ContactPhonesInput(Schema):
    """Only the fields this person may set; an empty number removes the button."""

    service_phone = fields.String(validate=validate.Length(max=30))
    committee_phone = fields.String(validate=validate.Length(max=30))
    committee_phone_public = fields.Boolean()


class ContactPhonesForm(PageForm, ContactPhonesInput):
    """The settings page: the same fields as text; an unticked box sends nothing, so it is read as "no"."""


class FiguresSchema(Schema):
    """One month's figures of the compound (orders submitted that month, Asia/Shanghai): counts, medians,
    shares; public to everyone of the compound, so no names."""

    month = fields.Date(metadata={"description": "该月第一天"})
    orders = fields.Integer()
    accepted = fields.Integer()
    closed = fields.Integer()
    closed_within_sla = fields.Integer()
    confirmed = fields.Integer()
    closed_unconfirmed = fields.Integer()
    disputed = fields.Integer()
    rating_count = fields.Integer()
    rating_sum = fields.Integer()
    median_accept_seconds = fields.Integer(allow_none=True)
    median_close_seconds = fields.Integer(allow_none=True)
    share_closed_within_sla = fields.Float(allow_none=True)
    share_confirmed = fields.Float(allow_none=True)
    average_rating = fields.Float(allow_none=True)
