"""The one refusal: a rule or a service says no, with a kind and a message the person can act on. Services and
rules raise it (or a feature's subclass); one JSON handler and one HTML handler answer it (api/errors.py)."""
from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence


class Kind(enum.IntEnum):
    """What went wrong, valued as the HTTP status that says it."""

    INVALID = 422  # the input breaks a rule: fix it and try again
    MALFORMED = 400  # a message from an outside service (a WeChat Pay notification) we cannot read
    UNTRUSTED = 401  # a message from an outside service whose signature, key or age we cannot trust
    FORBIDDEN = 403  # this person may not do this
    NOT_FOUND = 404  # nothing of the kind here, or nothing this person may see
    CONFLICT = 409  # the thing's state does not allow it now
    TOO_MANY = 429  # again too soon
    TOO_LARGE = 413  # an upload over the size limit
    UPSTREAM = 502  # an outside service (WeChat Pay) refused what we asked of it
    UNAVAILABLE = 503  # busy, or an outside service out of reach: nothing was done, try again shortly


class Refused(Exception):
    """A subclass may set its usual kind (`default_kind`); `errors` names the fields at fault ({field: [message]}) when the input is; `retry_after` (seconds) when
    the person may try again later."""

    default_kind = Kind.CONFLICT

    def __init__(
        self,
        message: str,
        kind: Kind | None = None,
        *,
        errors: Mapping[str, Sequence[str]] | None = None,
        retry_after: int | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.kind = type(self).default_kind if kind is None else Kind(kind)
        self.errors = {key: list(value) for key, value in (errors or {}).items()}
        self.retry_after = retry_after

    @property
    def status(self) -> int:
        return int(self.kind)
