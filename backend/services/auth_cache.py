"""A person's standing for the sign-in check, in one Redis round trip, with the database as the truth.

One hash per person, `linli:auth:<user id>`:
  v        the person's version: a random token, new each time the hash is loaded from the database (never a
           counter, so a flushed Redis cannot bring an old version back); per-worker caches of the person's
           roles are keyed by it (policy.py)
  a        1 while the account is active, 0 once deactivated
  g        the account's token generation (signing out everywhere starts the next one)
  r:<jti>  1 when that token was signed out, 0 when it was not when last looked up
  w        a random mark every writer replaces, before its commit and after it

A request asks `HMGET v a g r:<jti> r:<rjti>`. A missing field means "ask the database": the mark is read first,
then one statement, then (in one script) HSETNX of each field only if the mark is still the one read. A writer
that committed while the database was read has replaced the mark, so the loader cannot put back what it read
before that commit (a deactivation, a generation); a writer's own values are never overwritten either.

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
import re
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
# users.id is a 32-bit integer: a larger `sub` names no one (and would overflow the database's parameter).
_LARGEST_USER_ID = 2**31 - 1
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
    if not (identity.isascii() and identity.isdigit()) or int(identity) > _LARGEST_USER_ID:
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
        return _from_row(_database_row(user_id, jti, rjti), generation)
    if not isinstance(values, list):
        return _from_row(values, generation)
    version, active, account_generation, jti_revoked, rjti_revoked = values
    revoked = jti_revoked == b"1" or rjti_revoked == b"1"
    verdict = token_standing(active == b"1", revoked, generation, int(account_generation))
    return Standing(verdict, version.decode())


def _database_row(user_id: int, jti: str, rjti: str):
    return db.session.execute(_FROM_DATABASE, {"user_id": user_id, "jti": jti, "rjti": rjti}).first()


def _from_row(row, generation: int) -> Standing:
    """The standing as the database gave it, without a version (nothing is cached by it)."""
    if row is None:
        return Standing(TokenStanding.NO_ACCOUNT, None)
    revoked = row.jti_revoked or row.rjti_revoked
    return Standing(token_standing(row.is_active, revoked, generation, row.token_generation), None)


# KEYS[1] the hash; ARGV[1] the writers' mark read before the database, ARGV[2] the TTL, then the fields to
# answer (ARGV[3] of them) and field/value pairs to fill. A mark replaced (or gone with a flush) means a writer
# may have committed after the database was read: nothing is filled, the caller uses its row uncached.
_FILL_UNLESS_WRITTEN = """
if redis.call('HGET', KEYS[1], 'w') ~= ARGV[1] then return false end
local answer = tonumber(ARGV[3])
for i = 4 + answer, #ARGV, 2 do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return redis.call('HMGET', KEYS[1], unpack(ARGV, 4, 3 + answer))
"""


def _load(r: redis.Redis, user_id: int, jti: str, rjti: str, fields: tuple[str, ...]):
    """Fill the missing fields from the database without overwriting what a writer put there meanwhile, nor
    putting back what a writer changed while the database was read. The hash's answer (a list), else the
    database's row (None: no such account)."""
    key = _key(user_id)
    pipe = r.pipeline(transaction=False)
    pipe.hsetnx(key, "w", secrets.token_hex(8))
    pipe.expire(key, HASH_TTL_SECONDS)
    pipe.hget(key, "w")
    mark = pipe.execute()[-1]
    row = _database_row(user_id, jti, rjti)
    if row is None:
        return None
    filled = {"v": secrets.token_hex(8), "a": int(row.is_active), "g": row.token_generation,
              f"r:{jti}": int(row.jti_revoked), f"r:{rjti}": int(row.rjti_revoked)}
    pairs = [item for pair in filled.items() for item in pair]
    answer = r.register_script(_FILL_UNLESS_WRITTEN)(
        keys=[key], args=[mark, HASH_TTL_SECONDS, len(fields), *fields, *pairs])
    return answer or row


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
    """Bulk statements bypass the flush: an insert names its people in its parameters or its values; an update or
    a delete does not, so it is refused here rather than leave the sign-in cache unaware of it. Statements on
    the bare tables count as well as those on the classes."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    classes = {mapper.class_ for mapper in state.all_mappers}
    table = getattr(state.statement.table, "name", None)
    watched = {cls for cls in _WATCHED if cls in classes or cls.__tablename__ == table}
    if not watched:
        return
    if not state.is_insert:
        if watched <= _DELETED_FREELY and state.is_delete:
            return
        raise RuntimeError(f"bulk update or delete of {watched}: change the rows through the session instead, "
                           "so the sign-in cache hears of it (services/auth_cache.py)")
    if watched == {User}:
        return  # a new account has no standing to change
    rows = _inserted_rows(state)
    if rows is None:
        raise RuntimeError(f"insert into {watched} whose rows cannot be told (INSERT … SELECT): add them through "
                           "the session or with their values, so the sign-in cache hears of it")
    changes = _changes(state.session)
    for row in rows:
        if RevokedToken in watched:
            changes.revoke(row.get("user_id"), row["jti"])
        elif row.get("user_id") is not None:
            changes.people.add(row["user_id"])
    stop_caching_roles_of(changes.people)


_MULTI_VALUES_KEY = re.compile(r"(?P<name>\w+?)_m(?P<row>\d+)")


def _inserted_rows(state: ORMExecuteState) -> list[dict] | None:
    """The rows an insert writes, by column name: from its parameters (one row or many), else from the values in
    the statement itself (`.values(...)`, one row or many). None for an INSERT … SELECT."""
    statement = state.statement
    if statement._select_names is not None:
        return None
    parameters = state.parameters
    if parameters:
        return parameters if isinstance(parameters, list) else [parameters]
    stated = statement.compile().params
    if not statement._multi_values:
        return [stated]
    rows: dict[int, dict] = {}
    for key, value in stated.items():
        match = _MULTI_VALUES_KEY.fullmatch(key)
        if match:
            rows.setdefault(int(match["row"]), {})[match["name"]] = value
    return list(rows.values())


def _before_commit(session: Session) -> None:
    # SQLAlchemy calls the commit events for a savepoint released too: the enclosing transaction's commit is the
    # one that makes the change visible, so it is the one that tells Redis (and keeps the changes until then).
    if session.in_nested_transaction():
        return
    session.flush()
    changes = session.info.get(_CHANGES_KEY)
    if changes is None or not changes.people:
        return
    pipe = current_app.extensions["linli_redis"].pipeline(transaction=False)
    for user_id in changes.people:
        key = _key(user_id)
        pipe.hdel(key, "v")
        pipe.hset(key, "w", secrets.token_hex(8))
        if user_id in changes.deactivated:
            pipe.hset(key, "a", 0)
    for user_id, jti in changes.revoked:
        pipe.hset(_key(user_id), f"r:{jti}", 1)
    # Last: a hash these writes created gets its expiry too.
    for user_id in changes.people:
        pipe.expire(_key(user_id), HASH_TTL_SECONDS)
    try:
        pipe.execute()
    except redis.RedisError as exc:
        log.error("sign-in cache unreachable, change refused: %s", exc)
        raise Refused(UNAVAILABLE, Kind.UNAVAILABLE) from exc
    changes.written = True


def _after_transaction(session: Session) -> None:
    """After a commit, and after a rollback too: a deactivation written before a commit that then failed must
    not outlive it."""
    if session.in_nested_transaction():
        return
    changes = session.info.pop(_CHANGES_KEY, None)
    if changes is None or not changes.written:
        return
    pipe = current_app.extensions["linli_redis"].pipeline(transaction=False)
    for user_id in changes.people:
        key = _key(user_id)
        pipe.hdel(key, "v", "a", "g")
        pipe.hset(key, "w", secrets.token_hex(8))
        pipe.expire(key, HASH_TTL_SECONDS)
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
