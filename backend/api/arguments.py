"""webargs' parser for every API view: bodies nested too deep and unstorable text are refused before a schema
sees them."""
from __future__ import annotations

from collections.abc import Mapping

from flask_smorest import abort
from marshmallow import ValidationError
from webargs import core
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from backend.domain.text import MAX_JSON_DEPTH, nested_deeper_than, unstorable


class ArgumentsParser(FlaskParser):
    """webargs' parser, refusing a JSON body nested too deep with a 400 and unstorable text in any argument
    with a 422, before a schema sees them."""

    def load_json(self, req, schema):
        try:
            data = super().load_json(req, schema)
        except RecursionError:
            data = None  # the decoder itself gave up: deeper than anything the check below would let through
        else:
            if data is core.missing or not nested_deeper_than(data, MAX_JSON_DEPTH):
                return data
        abort(400, message=f"JSON 嵌套层数过多（最多{MAX_JSON_DEPTH}层）")

    def pre_load(self, location_data, *, schema, req, location):
        if not isinstance(location_data, Mapping):
            return location_data  # a JSON list or scalar: the schema itself reports the wrong type
        bad = [key for key, value in location_data.items() if unstorable(key) or unstorable(value)]
        if bad:
            raise ValidationError(
                {("_schema" if unstorable(key) else key): ["含有无法保存的字符（如 NUL）"] for key in bad}
            )
        return location_data


class MultipartParser(ArgumentsParser):
    """Reads a multipart body as one form. flask-smorest documents one request body per view, so a photo and
    the fields sent beside it load through one schema at the "files" location."""

    def load_files(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)
