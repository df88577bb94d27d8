"""The Flask extensions, created unbound and initialised in create_app."""
from __future__ import annotations

from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy

from backend.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = Api()
jwt = JWTManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
# Per client address and endpoint, for every sign-in endpoint of the API and the pages.
SIGN_IN_LIMIT = "10 per minute"
