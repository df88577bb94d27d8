"""The Flask extensions, created unbound and initialised in create_app, and the session's dialect INSERT."""
from __future__ import annotations

from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.dialects import postgresql, sqlite

from backend.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = Api()
jwt = JWTManager()
# Keyed on the client address unless a limit says otherwise (the sign-in limits: backend/rate_limits.py).
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def dialect_insert(model):
    """INSERT into `model` in the session's own dialect, whose insert alone has ON CONFLICT (upserts)."""
    return (postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert)(model)
