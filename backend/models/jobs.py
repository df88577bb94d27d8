"""The job outbox: every job a transaction asks for is a row first, pushed to Redis after the commit, and
settled (done or failed) by the job's own outcome, so a job lost with Redis's data is pushed again."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, UTCDateTime
from backend.shared.clock import utcnow

_OPEN = "done_at IS NULL AND failed_at IS NULL"


class OutboxJob(Base):
    __tablename__ = "outbox_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    queue: Mapped[str] = mapped_column(String(16))
    func_path: Mapped[str] = mapped_column(String(200))
    args: Mapped[list] = mapped_column(JSON, default=list)
    # The RQ job id: pushing the row twice (a relay racing the request) still queues one job.
    job_id: Mapped[str] = mapped_column(String(128), unique=True)
    run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Last time the row was pushed to Redis, or found still there by the relay.
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # How often the job was queued in Redis: more than once means Redis lost it (or its outcome) before.
    pushes: Mapped[int] = mapped_column(default=0, server_default="0")
    # The job ran to the end (RQ's success callback), or failed with no retry left (then `linli jobs`).
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        # The relay's scan, oldest first, over the open rows only: the settled ones (nearly all) stay out of it.
        Index("ix_outbox_jobs_open", "id", postgresql_where=text(_OPEN), sqlite_where=text(_OPEN)),
    )
