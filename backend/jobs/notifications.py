"""Notification jobs: write a batch of inbox rows, plan their pushes, push them by channel (all on `high`), and
sweep up pushes whose job was lost.

All are idempotent: the inbox is unique on person and dedupe key (a rerun inserts nothing new and
queues no push), and a delivery is sent only while it is pending and marked sent before the next. A withdrawn
notice (services/notifications.withdraw) is written to no inbox and pushed to nobody it was withdrawn for."""
from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from flask import current_app
from sqlalchemy import Integer, any_, cast, exists, func, literal, select, true, update
from sqlalchemy.dialects import postgresql

from backend.domain.auth import WeChatApp, WeChatOpenid, push_order
from backend.domain.notifications import (
    DELIVERY_BATCH,
    Channel,
    DeliveryStatus,
    batches,
    deliver_after,
    push_channels,
)
from backend.domain.phones import mask_phone
from backend.extensions import db, dialect_insert
from backend.integrations import sms_sender, wechat_messages
from backend.integrations.sms import PROVIDER_LIMITED, SmsSendFailed
from backend.integrations.wechat_messages import RecipientDeclined, WeChatMessageError
from backend.models import Delivery, Notice, Notification, NotificationPreference, User, WeChatAccount
from backend.models.base import UTCDateTime
from backend.services.identity import decrypt_phone
from backend.services.queueing import enqueue_after_commit, push_committed_jobs
from backend.shared.clock import utcnow

log = logging.getLogger("linli.notifications")

PLAN_PUSHES_JOB = "backend.jobs.notifications.plan_pushes"
DELIVER_JOB = "backend.jobs.notifications.deliver"
# A push pending this long after its time lost its job; the sweep (cron, every 10 minutes) requeues it.
STALE_AFTER = timedelta(minutes=30)
STALE_SWEEP_LIMIT = 50_000
# SMS answers worth another try: the provider's flow control (per number and minute/hour) or no answer.
SMS_TRANSIENT = frozenset({PROVIDER_LIMITED, "Unreachable"})
THING_LENGTH = 20


class DeliveryPostponed(Exception):
    """Some pushes failed for a passing reason; RQ's retry runs the job again for those still pending."""


def fan_out(notice_id: int, user_ids: list[int]) -> int:
    """Write the inbox rows of one batch in one statement, then ask for its pushes to be planned; returns how
    many rows were new. Pushes are planned by a job of their own queued behind every fan-out job of the notice
    (one queue, first in first out), so every inbox row is written before any push work competes with it; and
    every push is planned (kept in the database, swept up if its job is lost) before the first of the slow
    deliveries, queued behind the plans, starts sending."""
    # Share-locked: a withdrawal for everyone marks the notice first, so it waits for these rows (and withdraws
    # them) or this sees the mark and writes none.
    notice = db.session.scalar(
        select(Notice).where(Notice.id == notice_id).with_for_update(read=True)
        .execution_options(populate_existing=True)
    )
    if notice.withdrawn_at is not None:
        db.session.commit()
        return 0
    recipients = _id_table(user_ids)
    statement = (
        dialect_insert(Notification)
        .from_select(
            ["user_id", "notice_id", "dedupe_key", "created_at"],
            # SQLite reads an upsert's SELECT without a WHERE as a join's ON: the WHERE is its documented cure.
            select(recipients.c.id, literal(notice.id), literal(notice.dedupe_key), literal(utcnow(), UTCDateTime()))
            .where(true()),
        )
        .on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"])
        .returning(Notification.id)
    )
    created = list(db.session.scalars(statement))
    if created:
        enqueue_after_commit(PLAN_PUSHES_JOB, notice.id, created, queue="high")
    db.session.commit()
    push_committed_jobs()
    return len(created)


def _among(column, ids: list[int]):
    """`column` is one of `ids`, bound as one parameter. On PostgreSQL `= ANY(array)` probes the index for each id
    whatever the table's statistics say (a join with the unnested array was planned as a hash over the whole
    table while the statistics lagged behind a bulk load)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(cast(ids, postgresql.ARRAY(Integer)))
    return column.in_(select(_id_table(ids).c.id))


def _id_table(ids: list[int]):
    """`ids` as a table of one column `id`, bound as one parameter (an array on PostgreSQL, a JSON text on
    SQLite): one short statement whatever the batch size, instead of thousands of bound values."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.unnest(cast(ids, postgresql.ARRAY(Integer))).table_valued("id").render_derived()
    return select(func.json_each(json.dumps(ids)).table_valued("value").c.value.label("id")).subquery()


def plan_pushes(notice_id: int, notification_ids: list[int]) -> int:
    """Create the push deliveries of new inbox rows (one fan-out batch, one statement per channel) and queue
    their delivery jobs, by channel and DELIVERY_BATCH pushes at a time."""
    notice = db.session.get(Notice, notice_id)
    people = db.session.execute(
        select(Notification.id, exists().where(WeChatAccount.user_id == User.id), User.phone_cipher.is_not(None),
               ~exists().where(NotificationPreference.user_id == User.id, NotificationPreference.kind == notice.kind,
                               NotificationPreference.enabled.is_(False)))
        .join(User, User.id == Notification.user_id)
        .where(_among(Notification.id, notification_ids), Notification.withdrawn_at.is_(None))
    ).all()
    by_channel: dict[Channel, list[int]] = defaultdict(list)
    for notification_id, has_wechat, has_phone, kind_enabled in people:
        for channel in push_channels(notice.urgency, has_wechat, has_phone, kind_enabled):
            by_channel[channel].append(notification_id)
    now = utcnow()
    when = deliver_after(now, notice.urgency)
    planned = 0
    for channel, ids in by_channel.items():
        pushes = _id_table(ids)
        created = sorted(db.session.scalars(
            dialect_insert(Delivery)
            .from_select(
                ["notification_id", "channel", "status", "deliver_after", "attempts", "last_error"],
                select(pushes.c.id, literal(channel, Delivery.channel.type),
                       literal(DeliveryStatus.PENDING, Delivery.status.type), literal(when, UTCDateTime()),
                       literal(0), literal("")).where(true()),
            )
            .on_conflict_do_nothing(index_elements=["notification_id", "channel"])
            .returning(Delivery.id)
        ))
        planned += len(created)
        for batch in batches(created, DELIVERY_BATCH):
            enqueue_after_commit(DELIVER_JOB, channel.value, batch, queue="high", run_at=when if when > now else None)
    db.session.commit()
    push_committed_jobs()
    return planned


def deliver(channel: str, delivery_ids: list[int]) -> int:
    """Push the pending deliveries of one batch; returns how many were sent. A push that may not go yet
    (quiet hours, also for a retry that would fall into them) is queued again for its time; one that
    failed for a passing reason makes the job fail, so RQ retries it (only pending pushes are resent)."""
    rows = db.session.execute(
        select(Delivery, Notice, User, Notification.withdrawn_at)
        .join(Notification, Notification.id == Delivery.notification_id)
        .join(Notice, Notice.id == Notification.notice_id)
        .join(User, User.id == Notification.user_id)
        .where(Delivery.id.in_(delivery_ids), Delivery.status == DeliveryStatus.PENDING)
        .order_by(Delivery.id)
    ).all()
    openids = _openids_of([row.User.id for row in rows]) if rows and channel == Channel.WECHAT else {}
    sent = postponed = 0
    later: list[Delivery] = []
    for delivery, notice, user, withdrawn_at in rows:
        if withdrawn_at is not None:
            # Withdrawn after its push was planned: it is no longer true, so it is never sent.
            delivery.status = DeliveryStatus.WITHDRAWN
            db.session.commit()
            continue
        now = datetime.now(UTC)
        # Checked again at send time: a retry or a late job must not wake people in quiet hours either.
        due = max(delivery.deliver_after, deliver_after(now, notice.urgency))
        if due > now:
            delivery.deliver_after = due
            later.append(delivery)
            continue
        if not _claim(delivery):
            continue  # another job (a sweep racing a slow one) is sending it
        try:
            _send(Channel(channel), notice, user, openids.get(user.id, []))
        except RecipientDeclined:
            delivery.status = DeliveryStatus.DECLINED
        except (WeChatMessageError, SmsSendFailed) as exc:
            delivery.last_error = str(exc)[:255]
            transient = exc.transient if isinstance(exc, WeChatMessageError) else exc.code in SMS_TRANSIENT
            if transient:
                postponed += 1
            else:
                delivery.status = DeliveryStatus.FAILED
        else:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = utcnow()
            sent += 1
        # One commit per push: a crash after a send must not send it again.
        db.session.commit()
    if later:
        enqueue_after_commit(DELIVER_JOB, channel, [d.id for d in later], queue="high",
                             run_at=min(d.deliver_after for d in later))
        db.session.commit()
        push_committed_jobs()
    if postponed:
        raise DeliveryPostponed(f"{postponed} of {len(rows)} {channel} pushes postponed")
    return sent


def _claim(delivery: Delivery) -> bool:
    """Count the attempt with a compare-and-set on it, committed before the send: of two jobs holding the
    same pending push, only one gets to send it."""
    claimed = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id, Delivery.status == DeliveryStatus.PENDING,
               Delivery.attempts == delivery.attempts)
        .values(attempts=delivery.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()  # also expires `delivery`, which reloads with the new count
    return bool(claimed)


def requeue_stale_deliveries() -> int:
    """Pushes still pending long after their time (Redis lost a job, or a job used up its retries) are
    queued again; `deliver` is idempotent, so a push that is merely slow is not sent twice."""
    stale_before = datetime.now(UTC) - STALE_AFTER
    stale = db.session.execute(
        select(Delivery.id, Delivery.channel)
        .where(Delivery.status == DeliveryStatus.PENDING, Delivery.deliver_after < stale_before)
        .order_by(Delivery.id)
        .limit(STALE_SWEEP_LIMIT)
    ).all()
    for channel in Channel:
        ids = [delivery_id for delivery_id, delivery_channel in stale if delivery_channel == channel]
        for batch in batches(ids, DELIVERY_BATCH):
            enqueue_after_commit(DELIVER_JOB, channel.value, batch, queue="high")
    db.session.commit()
    push_committed_jobs()
    return len(stale)


def _openids_of(user_ids: list[int]) -> dict[int, list[WeChatOpenid]]:
    """Each person's openids, one query for the batch, in the order a push tries them."""
    found: dict[int, list[WeChatOpenid]] = defaultdict(list)
    for user_id, app, openid, last_signed_in_at in db.session.execute(
        select(WeChatAccount.user_id, WeChatAccount.app, WeChatAccount.openid, WeChatAccount.last_signed_in_at)
        .where(WeChatAccount.user_id.in_(user_ids))
    ):
        found[user_id].append(WeChatOpenid(app, openid, last_signed_in_at))
    return {user_id: push_order(openids) for user_id, openids in found.items()}


def _send(channel: Channel, notice: Notice, user: User, openids: list[WeChatOpenid]) -> None:
    if channel is Channel.WECHAT:
        _send_wechat(notice, openids)
    else:
        phone = decrypt_phone(user.phone_cipher)
        log.info("SMS notice %s to %s", notice.id, mask_phone(phone))
        sms_sender().send_notice(phone, notice.title)


def _thing(text: str) -> str:
    """A subscribe message's `thing` field holds at most 20 characters: a longer sentence ends in "…"."""
    return text if len(text) <= THING_LENGTH else text[: THING_LENGTH - 1] + "…"


def _send_wechat(notice: Notice, openids: list[WeChatOpenid]) -> None:
    """Through the app of the openid, best first; a person who declined in one app may have agreed in the
    other, so a decline moves on to the next openid (and the last one's decline is the answer)."""
    config = current_app.config
    link = notice.link or "/h5/inbox"
    data = {"thing1": _thing(notice.title), "thing2": _thing(notice.body or notice.title)}
    for position, account in enumerate(openids):
        if account.app is WeChatApp.MINIPROGRAM:
            template_id = config["LINLI_WECHAT_MINIPROGRAM_NOTICE_TEMPLATE_ID"] or "sandbox-notice"
            # A mini-program card opens a page of the mini-program (a web URL is refused): that page opens the link.
            page = f"{config['LINLI_WECHAT_MINIPROGRAM_NOTICE_PAGE']}?link={quote(link, safe='')}"
        else:
            template_id = config["LINLI_WECHAT_NOTICE_TEMPLATE_ID"] or "sandbox-notice"
            page = config["LINLI_PUBLIC_URL"] + link
        try:
            wechat_messages(account.app).send(account.openid, template_id, data, page=page)
            return
        except RecipientDeclined:
            if position == len(openids) - 1:
                raise
