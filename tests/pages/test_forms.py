"""A page's form is read by the API's schema: the same limits, the same required fields, Chinese messages."""
from __future__ import annotations

import pytest
from marshmallow import Schema, fields, validate
from werkzeug.datastructures import MultiDict

from backend.domain.refusals import Kind, Refused
from backend.pages.forms import load_form, maxlength
from backend.schemas.common import NOT_BLANK


class NoticeFormSchema(Schema):
    title = fields.String(required=True, validate=[validate.Length(max=10), NOT_BLANK])
    copies = fields.Integer(load_default=1, validate=validate.Range(min=1, max=5))
    tags = fields.List(fields.String(validate=validate.Length(max=4)), load_default=list)


def test_a_form_is_loaded_like_an_api_body(app):
    form = MultiDict([("title", "  停水通知 "), ("copies", "3"), ("tags", "水"), ("tags", ""), ("tags", "通知")])
    assert load_form(NoticeFormSchema(), form) == {"title": "停水通知", "copies": 3, "tags": ["水", "通知"]}


def test_an_empty_number_field_takes_the_schema_default(app):
    assert load_form(NoticeFormSchema(), MultiDict([("title", "通知"), ("copies", " ")]))["copies"] == 1


@pytest.mark.parametrize(("entries", "field", "message"), [
    ([], "title", "此项必填"),
    ([("title", "   ")], "title", "不能为空"),
    ([("title", "一" * 11)], "title", "不能超过10个字"),
    ([("title", "通知"), ("copies", "九")], "copies", "应为整数"),
    ([("title", "通知"), ("copies", "9")], "copies", "须在1至5之间"),
])
def test_bad_entries_are_refused_as_invalid_with_a_chinese_message(app, entries, field, message):
    with pytest.raises(Refused) as refused:
        load_form(NoticeFormSchema(), MultiDict(entries))
    assert refused.value.kind is Kind.INVALID
    assert refused.value.errors[field] == [message] and refused.value.message == message


def test_text_that_cannot_be_stored_is_refused(app):
    with pytest.raises(Refused) as refused:
        load_form(NoticeFormSchema(), MultiDict([("title", "停\x00水")]))
    assert refused.value.kind is Kind.INVALID and "title" in refused.value.errors


def test_a_template_reads_a_text_limit_from_the_schema():
    assert maxlength("NoticeFormSchema", "title") == 10
    assert maxlength("NoticeFormSchema", "tags") == 4
    assert maxlength("NoticeFormSchema", "copies") is None
