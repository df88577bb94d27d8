"""A person's standing for the sign-in check, in one Redis round trip, with the database as the truth.

One hash per person, `linli:auth:<user id>`:
  v        the person's version: a random token, new each time the hash is loaded from the database (never a
           counter, so a flushed Redis cannot bring an old version back); per-worker caches of the person's
           roles are keyed by it (policy.py)
  a        1 while the account is active, 0 once deactivated
  g        the account's token generation (signing out everywhere starts the next one)
  r:<jti>  1 when that token was signed out, 0 when it was not when last looked up

A request asks `HMGET v a g r:<jti> r:<rjti>`. A missing field means "ask the database": one statement, then
HSETNX of each field (a writer's value, set meanwhile, is never overwritten) and HMGET again.

Writers never need to remember this: session events watch every flush for memberships added, changed or
removed, users' `is_active` and `token_generation`, and revoked tokens. Before the commit they write Redis
(revocations and deactivations at once; the version dropped), and a Redis out of reach refuses the commit (503)
rather than leave a cache that would let a removed right through. After the commit (or a rollback) they drop
the version and the account fields again, so nothing read from the database between the two writes survives.
Hashes expire after HASH_TTL: a process killed between its commit and that second write leaves a stale hash
for at most that long.

While Redis is down the check falls back to the database (one statement): revocations and deactivations still
hold, and no roles are cached."""
from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

import redis
from flask import current_app
from sqlalchemy import bindparam, event, exists, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session

from backend.domain.auth import TokenStanding, token_standing
from backend.domain.refusals import Kind, Refused
from backend.extensions import db
from backend.models import Membership, RevokedToken, User
from backend.policy import stop_caching_roles_of

log = logging.getLogger("linli.auth")

HASH_TTL_SECONDS = 600
UNAVAILABLE = "服务暂时不可用，请稍后再试"
_CHANGES_KEY = "linli.auth_changes"


@dataclass(frozen=True)
class Standing:
    """A token's standing, and the person's version when Redis gave one (None: do not cache by it)."""

    verdict: TokenStanding
    version: str | None


def _key(user_id: int) -> str:
    return f"linli:auth:{user_id}"


# Asked when Redis has no answer (a field missing, or Redis down): built once.
_FROM_DATABASE = select(
    User.is_active,
    User.token_generation,
    exists().where(RevokedToken.jti == bindparam("jti")).label("jti_revoked"),
    exists().where(RevokedToken.jti == bindparam("rjti")).label("rjti_revoked"),
).where(User.id == bindparam("user_id"))


def standing_of(claims: dict) -> Standing:
    """Whether a genuine, unexpired token still stands (domain.auth.token_standing), and the person's version."""
    identity = str(claims.get("sub", ""))
    if not (identity.isascii() and identity.isdigit()):
        return Standing(TokenStanding.NO_ACCOUNT, None)
    user_id = int(identity)
    jti = claims["jti"]
    rjti = claims.get("rjti") or jti
    generation = claims.get("gen", 0)
    fields = ("v", "a", "g", f"r:{jti}", f"r:{rjti}")
    try:
        r = current_app.extensions["linli_redis"]
        values = r.hmget(_key(user_id), fields)
        if None in values:
            values = _load(r, user_id, jti, rjti, fields)
    except redis.RedisError as exc:
        log.warning("sign-in cache unreachable, asking the database: %s", exc)
        row = _database_row(user_id, jti, rjti)
        if row is None:
            return Standing(TokenStanding.NO_ACCOUNT, None)
        revoked = row.jti_revoked or row.rjti_revoked
        return Standing(token_standing(row.is_active, revoked, generation, row.token_generation), None)
    if values is None:
        return Standing(TokenStanding.NO_ACCOUNT, None)
    version, active, account_generation, jti_revoked, rjti_revoked = values
    revoked = jti_revoked == b"1" or rjti_revoked == b"1"
    verdict = token_standing(active == b"1", revoked, generation, int(account_generation))
    return Standing(verdict, version.decode())


def _database_row(user_id: int, jti: str, rjti: str):
    return db.session.execute(_FROM_DATABASE, {"user_id": user_id, "jti": jti, "rjti": rjti}).first()


def _load(r: redis.Redis, user_id: int, jti: str, rjti: str, fields: tuple[str, ...]) -> list | None:
    """Fill the missing fields from the database without overwriting what a writer put there meanwhile."""
    row = _database_row(user_id, jti, rjti)
    if row is None:
        return None
    key = _key(user_id)
    pipe = r.pipeline(transaction=False)
    pipe.hsetnx(key, "v", secrets.token_hex(8))
    pipe.hsetnx(key, "a", int(row.is_active))
    pipe.hsetnx(key, "g", row.token_generation)
    pipe.hsetnx(key, f"r:{jti}", int(row.jti_revoked))
    pipe.hsetnx(key, f"r:{rjti}", int(row.rjti_revoked))
    pipe.expire(key, HASH_TTL_SECONDS)
    pipe.hmget(key, fields)
    return pipe.execute()[-1]


# ---- writers: session events ----------------------------------------------------------------------------


@dataclass
class _Changes:
    """What this transaction changes of people's standing: whose version goes, who is deactivated, which
    tokens are signed out (by person)."""

    people: set[int] = field(default_factory=set)
    deactivated: set[int] = field(default_factory=set)
    revoked: set[tuple[int, str]] = field(default_factory=set)
    written: bool = False

    def revoke(self, user_id: int | None, jti: str) -> None:
        if user_id is not None:
            self.people.add(user_id)
            self.revoked.add((user_id, jti))


def _changes(session: Session) -> _Changes:
    return session.info.setdefault(_CHANGES_KEY, _Changes())


def _history_values(obj, attribute: str) -> Iterable:
    history = inspect(obj).attrs[attribute].history
    return [*history.added, *history.deleted, *history.unchanged]


def _before_flush(session: Session, _flush_context, _instances) -> None:
    changes = None
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Membership):
            changes = changes or _changes(session)
            changes.people.update(value for value in _history_values(obj, "user_id") if value is not None)
        elif isinstance(obj, User) and obj not in session.new:
            state = inspect(obj)
            if state.attrs.is_active.history.has_changes() or state.attrs.token_generation.history.has_changes():
                changes = changes or _changes(session)
                changes.people.add(obj.id)
                if state.attrs.is_active.history.added == [False]:
                    changes.deactivated.add(obj.id)
        elif isinstance(obj, RevokedToken) and obj in session.new:
            _changes(session).revoke(obj.user_id, obj.jti)
    if changes is not None:
        stop_caching_roles_of(changes.people)


_WATCHED = (Membership, User, RevokedToken)
# A revocation row goes only once its token has expired (purge_expired_revocations): no standing changes.
_DELETED_FREELY = {RevokedToken}


def _on_execute(state: ORMExecuteState) -> None:
    """Bulk statements bypass the flush: an insert names its people in its parameters; an update or a delete
    does not, so it is refused here rather than leave the sign-in cache unaware of it."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    mappers = {mapper.class_ for mapper in state.all_mappers}
    watched = mappers.intersection(_WATCHED)
    if not watched:
        return
    if not state.is_insert:
        if watched <= _DELETED_FREELY and state.is_delete:
            return
        raise RuntimeError(f"bulk update or delete of {watched}: change the rows through the session instead, "
                           "so the sign-in cache hears of it (services/auth_cache.py)")
    parameters = state.parameters
    rows = parameters if isinstance(parameters, list) else [parameters or {}]
    changes = _changes(state.session)
    for row in rows:
        if RevokedToken in watched:
            changes.revoke(row.get("user_id"), row["jti"])
        elif row.get("user_id") is not None:
            changes.people.add(row["user_id"])
    stop_caching_roles_of(changes.people)


def _before_commit(session: Session) -> None:
    session.flush()
    changes = session.info.get(_CHANGES_KEY)
    if changes is None or not changes.people:
        return
    pipe = current_app.extensions["linli_redis"].pipeline(transaction=False)
    for user_id in changes.people:
        key = _key(user_id)
        pipe.hdel(key, "v")
        if user_id in changes.deactivated:
            pipe.hset(key, "a", 0)
        pipe.expire(key, HASH_TTL_SECONDS)
    for user_id, jti in changes.revoked:
        pipe.hset(_key(user_id), f"r:{jti}", 1)
    try:
        pipe.execute()
    except redis.RedisError as exc:
        log.error("sign-in cache unreachable, change refused: %s", exc)
        raise Refused(UNAVAILABLE, Kind.UNAVAILABLE) from exc
    changes.written = True


def _after_transaction(session: Session) -> None:
    """After a commit, and after a rollback too: a deactivation written before a commit that then failed must
    not outlive it."""
    changes = session.info.pop(_CHANGES_KEY, None)
    if changes is None or not changes.written:
        return
    pipe = current_app.extensions["linli_redis"].pipeline(transaction=False)
    for user_id in changes.people:
        pipe.hdel(_key(user_id), "v", "a", "g")
    try:
        pipe.execute()
    except redis.RedisError as exc:
        log.error("sign-in cache unreachable after a commit: hashes expire within %d s: %s", HASH_TTL_SECONDS, exc)


def _after_rollback(session: Session, previous_transaction) -> None:
    # Only the outermost: a savepoint rolled back (a lost race retried in begin_nested) leaves the changes the
    # enclosing transaction flushed before it, and its commit must still tell Redis.
    if previous_transaction.parent is None:
        _after_transaction(session)


def watch_standing_changes() -> None:
    """Listen on the app's session (once per process: the session factory is shared by every app)."""
    if event.contains(db.session, "before_flush", _before_flush):
        return
    event.listen(db.session, "before_flush", _before_flush)
    event.listen(db.session, "do_orm_execute", _on_execute)
    event.listen(db.session, "before_commit", _before_commit)
    event.listen(db.session, "after_commit", _after_transaction)
    event.listen(db.session, "after_soft_rollback", _after_rollback)
