"""Users' own settings."""
from __future__ import annotations

from backend.extensions import db
from backend.models import User


def get_user(user_id: int) -> User:
    return db.session.get(User, user_id)


def update_profile(user_id: int, *, large_text: bool | None = None, display_name: str | None = None) -> User:
    user = db.session.get(User, user_id)
    if large_text is not None:
        user.large_text = large_text
    if display_name is not None:
        user.display_name = display_name.strip()
    db.session.commit()
    return user
