"""Sign-in bodies and forms (password, SMS one-time code, WeChat) and the token answers; the API and the sign-in
page load them alike, so a limit and its Chinese message are written once."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from backend.domain.auth import LOGIN_KIND_APPS
from backend.domain.phones import InvalidPhone, normalize_phone

ASK_FOR_BOTH = "请输入用户名和密码"
CODE_FORMAT = "请输入6位数字验证码"


class PhoneField(fields.String):
    """A mainland mobile number, normalised on load (+86 and spaces removed)."""

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalize_phone(raw)
        except InvalidPhone as exc:
            raise ValidationError(str(exc)) from exc


class PasswordLoginSchema(Schema):
    username = fields.String(
        required=True, validate=validate.Length(min=1, max=64, error=ASK_FOR_BOTH),
        error_messages={"required": ASK_FOR_BOTH},
    )
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=128, error=ASK_FOR_BOTH),
        error_messages={"required": ASK_FOR_BOTH},
    )


class SmsRequestSchema(Schema):
    phone = PhoneField(
        required=True, validate=validate.Length(max=20), error_messages={"required": "请输入手机号"},
        metadata={"example": "13800138000"},
    )


class SmsVerifySchema(SmsRequestSchema):
    code = fields.String(
        required=True, validate=validate.Regexp(r"^\d{6}$", error=CODE_FORMAT), error_messages={"required": CODE_FORMAT}
    )


class WeChatLoginSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=128))
    kind = fields.String(load_default="miniprogram", validate=validate.OneOf(list(LOGIN_KIND_APPS)))


class LogoutSchema(Schema):
    refresh_token = fields.String(validate=validate.Length(max=4096))


class TokenSchema(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String()
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True)


class SmsSentSchema(Schema):
    expires_in = fields.Integer(required=True)
