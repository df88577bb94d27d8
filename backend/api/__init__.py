"""The JSON API under /api/v1: flask-smorest blueprints and marshmallow schemas, one module per domain."""
