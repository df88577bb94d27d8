"""Photos held for a form's second step (e.g. the work order's duplicate offer, 是否是同一问题): already checked and
re-encoded, kept in Redis for an hour under a random token bound to the person who chose them, so they are not
chosen (or sent over 3G) again. Nothing to clean up: an unused one expires."""
from __future__ import annotations

import re
import secrets

from flask import current_app

from backend.domain.refusals import Kind, Refused
from backend.services.photos import PreparedPhoto

HOLD_SECONDS = 3600
_TOKEN = re.compile(r"[0-9a-f]{32}")
EXPIRED = "之前选的照片已过期（保留1小时），请重新选择照片"


def _key(user_id: int, token: str) -> str:
    return f"linli:held-photo:{user_id}:{token}"


def valid_token(token: str) -> bool:
    return bool(_TOKEN.fullmatch(token))


def hold(user_id: int, photos: list[PreparedPhoto]) -> list[str]:
    """Keep each photo for HOLD_SECONDS; returns their tokens in order."""
    redis = current_app.extensions["linli_redis"]
    tokens = [secrets.token_hex(16) for _photo in photos]
    pipe = redis.pipeline()
    for token, photo in zip(tokens, photos, strict=True):
        key = _key(user_id, token)
        pipe.hset(key, mapping={"data": photo.data, "width": photo.width, "height": photo.height})
        pipe.expire(key, HOLD_SECONDS)
    pipe.execute()
    return tokens


def held(user_id: int, tokens: list[str]) -> list[PreparedPhoto]:
    """The photos this person holds under `tokens`; refuses (in Chinese) if any has expired or is not theirs."""
    redis = current_app.extensions["linli_redis"]
    photos = []
    for token in tokens:
        fields = redis.hgetall(_key(user_id, token)) if valid_token(token) else {}
        if not fields:
            raise Refused(EXPIRED, kind=Kind.INVALID)
        photos.append(PreparedPhoto(data=fields[b"data"], width=int(fields[b"width"]), height=int(fields[b"height"])))
    return photos


def still_held(user_id: int, tokens: list[str]) -> list[str]:
    """Those of `tokens` this person still holds: a form shown again offers only photos that can still be sent."""
    redis = current_app.extensions["linli_redis"]
    return [token for token in tokens if valid_token(token) and redis.exists(_key(user_id, token))]


def held_bytes(user_id: int, token: str) -> bytes | None:
    """One held JPEG for its thumbnail, only to the person who chose it."""
    if not valid_token(token):
        return None
    return current_app.extensions["linli_redis"].hget(_key(user_id, token), "data")


def release(user_id: int, tokens: list[str]) -> None:
    """Used: let them go now rather than at expiry."""
    keys = [_key(user_id, token) for token in tokens if valid_token(token)]
    if keys:
        current_app.extensions["linli_redis"].delete(*keys)
