"""The Flask extensions, created unbound and initialised in create_app, the session's dialect INSERT, and the
errors that mean "the database is out of reach or busy: try again later"."""
from __future__ import annotations

from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from backend.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = Api()
jwt = JWTManager()
# Keyed on the client address unless a limit says otherwise (the sign-in limits: backend/rate_limits.py).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
# A refused or lost connection, a connect, statement or lock timeout, a deadlock, SQLite's "database is locked"
# (OperationalError); a connection closed under us (InterfaceError); no pooled connection free in time.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError)


def dialect_insert(model):
    """INSERT into `model` in the session's own dialect, whose insert alone has ON CONFLICT (upserts)."""
    return (postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert)(model)
