"""Photos held for a form's second step (e.g. the work order's duplicate offer, 是否是同一问题): already checked and
re-encoded, kept in Redis for an hour under a random token bound to the person who chose them, so they are not
chosen (or sent over 3G) again. Nothing to clean up: an unused one expires. A token names one photo once however
often a form repeats it, and filing takes the photos out of Redis in one step, so two taps cannot file them twice."""
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


def _store(pipe, user_id: int, token: str, photo: PreparedPhoto) -> None:
    key = _key(user_id, token)
    pipe.hset(key, mapping={"data": photo.data, "width": photo.width, "height": photo.height})
    pipe.expire(key, HOLD_SECONDS)


def _unique(tokens: list[str]) -> list[str]:
    """A token sent twice (a form posted with it repeated) is still one photo."""
    return list(dict.fromkeys(tokens))


def hold(user_id: int, photos: list[PreparedPhoto]) -> list[str]:
    """Keep each photo for HOLD_SECONDS; returns their tokens in order."""
    redis = current_app.extensions["linli_redis"]
    tokens = [secrets.token_hex(16) for _photo in photos]
    pipe = redis.pipeline()
    for token, photo in zip(tokens, photos, strict=True):
        _store(pipe, user_id, token, photo)
    pipe.execute()
    return tokens


def put_back(user_id: int, tokens: list[str], photos: list[PreparedPhoto]) -> None:
    """Photos taken for an order that was then not filed are held again under the same tokens, so the form shown
    again still offers them."""
    pipe = current_app.extensions["linli_redis"].pipeline()
    for token, photo in zip(tokens, photos, strict=True):
        _store(pipe, user_id, token, photo)
    pipe.execute()


def keep(user_id: int, tokens: list[str]) -> list[str]:
    """The offer shown again keeps the same tokens (for another hour) rather than holding copies under new ones, so
    no token of an earlier offer can file the photos a second time; refuses if any has expired or is not theirs."""
    tokens = _unique(tokens)
    if not all(valid_token(token) for token in tokens):
        raise Refused(EXPIRED, kind=Kind.INVALID)
    pipe = current_app.extensions["linli_redis"].pipeline()
    for token in tokens:
        pipe.expire(_key(user_id, token), HOLD_SECONDS)
    if not all(pipe.execute()):
        raise Refused(EXPIRED, kind=Kind.INVALID)
    return tokens


# All or nothing in one Redis step: either every key is there and all are returned and deleted, or none is touched.
_TAKE = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 0 then return false end
end
local photos = {}
for i, key in ipairs(KEYS) do
  photos[i] = redis.call('HMGET', key, 'data', 'width', 'height')
end
redis.call('DEL', unpack(KEYS))
return photos
"""


def take(user_id: int, tokens: list[str]) -> tuple[list[str], list[PreparedPhoto]]:
    """Filing: takes this person's photos under `tokens` (each once) and lets them go in one atomic step, so a
    second request with the same tokens finds none; refuses (in Chinese) if any has expired or is not theirs.
    Returns the tokens taken with their photos, for `put_back` should the order not be filed."""
    tokens = _unique(tokens)
    if not all(valid_token(token) for token in tokens):
        raise Refused(EXPIRED, kind=Kind.INVALID)
    if not tokens:
        return [], []
    redis = current_app.extensions["linli_redis"]
    taken = redis.eval(_TAKE, len(tokens), *[_key(user_id, token) for token in tokens])
    if not taken:
        raise Refused(EXPIRED, kind=Kind.INVALID)
    return tokens, [PreparedPhoto(data=data, width=int(width), height=int(height)) for data, width, height in taken]


def still_held(user_id: int, tokens: list[str]) -> list[str]:
    """Those of `tokens` this person still holds: a form shown again offers only photos that can still be sent."""
    redis = current_app.extensions["linli_redis"]
    return [token for token in _unique(tokens) if valid_token(token) and redis.exists(_key(user_id, token))]


def held_bytes(user_id: int, token: str) -> bytes | None:
    """One held JPEG for its thumbnail, only to the person who chose it."""
    if not valid_token(token):
        return None
    return current_app.extensions["linli_redis"].hget(_key(user_id, token), "data")
