"""marshmallow's messages in Chinese, for every schema of ours: the API's error shape and the pages' forms show
them to residents. marshmallow has no locale setting; its documented way is a field's `default_error_messages`
and a validator's message attributes, set here once, before any schema is built (Range formats its messages
when a validator is made)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

FIELD_MESSAGES: dict[type, dict[str, str]] = {
    fields.Field: {"required": "此项必填", "null": "此项不能为空", "validator_failed": "输入无效"},
    fields.String: {"invalid": "应为文字", "invalid_utf8": "含有无效的字符"},
    fields.Number: {"invalid": "应为数字", "too_large": "数字过大"},
    fields.Integer: {"invalid": "应为整数"},
    fields.Float: {"special": "应为有效的数字"},
    fields.Decimal: {"special": "应为有效的数字"},
    fields.Boolean: {"invalid": "应为是或否"},
    fields.Date: {"invalid": "日期格式不正确", "format": "日期格式不正确"},
    fields.DateTime: {"invalid": "时间格式不正确", "invalid_awareness": "时间须带时区", "format": "时间格式不正确"},
    fields.List: {"invalid": "应为列表"},
    fields.Mapping: {"invalid": "应为对象"},
    fields.Nested: {"type": "格式不正确"},
    fields.Enum: {"unknown": "请从以下选项中选择：{choices}"},
    fields.Email: {"invalid": "邮箱格式不正确"},
    fields.Url: {"invalid": "网址格式不正确"},
}


def use_chinese_messages() -> None:
    for field_class, messages in FIELD_MESSAGES.items():
        field_class.default_error_messages = {**field_class.default_error_messages, **messages}
    Schema._default_error_messages = {"type": "输入格式不正确", "unknown": "不认识的字段"}
    validate.Length.message_min = "至少{min}个字"
    validate.Length.message_max = "不能超过{max}个字"
    validate.Length.message_all = "须为{min}至{max}个字"
    validate.Length.message_equal = "须为{equal}个字"
    validate.Range.message_min = "不能小于{{min}}"
    validate.Range.message_max = "不能大于{{max}}"
    validate.Range.message_all = "须在{{min}}至{{max}}之间"
    validate.OneOf.default_message = "请从以下选项中选择：{choices}"
    validate.Regexp.default_message = "格式不正确"
    validate.Email.default_message = "邮箱格式不正确"
    validate.URL.default_message = "网址格式不正确"
