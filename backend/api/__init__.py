"""The JSON API under /api/v1: flask-smorest blueprints and marshmallow schemas, one module per domain."""
from flask_smorest import Blueprint

from backend.api.arguments import ArgumentsParser

# Here, before any API module loads: @blp.arguments binds the parser when it decorates a view.
Blueprint.ARGUMENTS_PARSER = ArgumentsParser()
# NOTES: the X-Pagination header fails schemathesis' header checks; lists carry paging in the body.
Blueprint.PAGINATION_HEADER_NAME = None
