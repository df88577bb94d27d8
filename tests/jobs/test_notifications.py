"""Notifications end to end with real Redis, the real database and an in-process RQ worker: every reminder
reaches each inbox once and each WeChat / SMS push is sent once, through retries, repeats, a Redis outage and
quiet hours. Pushes go through the real clients to local stand-ins of WeChat and Alibaba Cloud SMS."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rq import Queue, SimpleWorker
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import func, insert, select, update

from backend import integrations
from backend.domain.auth import WeChatApp
from backend.domain.notifications import Channel, DeliveryStatus, Urgency
from backend.domain.roles import Role
from backend.extensions import db
from backend.integrations.sms import AliyunSms
from backend.integrations.wechat_login import WeChatLoginClient
from backend.integrations.wechat_messages import OFFICIAL_ACCOUNT, WeChatMessages
from backend.jobs.notifications import DELIVER_JOB, PLAN_PUSHES_JOB, _claim, requeue_stale_deliveries
from backend.models import Delivery, Household, Notice, Notification, OutboxJob, User, WeChatAccount
from backend.redis_conn import connect
from backend.services.auth import issue_tokens
from backend.services.notifications import FAN_OUT_JOB, notify, set_kind_enabled
from backend.services.qr import make_entry_token
from backend.services.queueing import QUEUES, REPUSH_AFTER, push_committed_jobs, relay_outbox
from tests.integrations import aliyun_sms_standin, wechat_messages_standin, wechat_standin
from tests.integrations.wechat_messages_standin import BIZSEND_PATH, WeChatMessagesStandIn

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Monday morning in Beijing: outside quiet hours, whatever the clock of the machine running the tests.
MORNING = datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)
NOTICE_TEMPLATE = "SMS_465390002"
PHONE = "13912345678"
CLOSED_PORT_URL = "redis://127.0.0.1:9/0"
_openids = iter(range(1, 10**6))


# ---- stand-ins, clock and worker -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def morning():
    with time_machine.travel(MORNING, tick=True) as traveller:
        yield traveller


@pytest.fixture
def redis_conn(app):
    return app.extensions["linli_redis"]


@pytest.fixture(scope="module")
def wechat_server() -> Iterator[WeChatMessagesStandIn]:
    with wechat_messages_standin.running_standin() as standin:
        yield standin


@pytest.fixture
def wechat(app, monkeypatch, wechat_server, redis_conn) -> Iterator[WeChatMessagesStandIn]:
    """The real subscribe-message client (official account, bizsend) talking to the stand-in."""
    wechat_server.reset()
    client = WeChatMessages(
        wechat_messages_standin.APPID,
        wechat_messages_standin.SECRET,
        redis_conn,
        kind=OFFICIAL_ACCOUNT,
        api_base=wechat_server.url,
    )
    monkeypatch.setitem(app.extensions, "linli_wechat_messages", {WeChatApp.OFFICIAL_ACCOUNT: client})
    yield wechat_server
    client.http.close()


@pytest.fixture(scope="module")
def sms_server() -> Iterator[aliyun_sms_standin.AliyunSmsStandIn]:
    with aliyun_sms_standin.running_standin() as standin:
        standin.template_code = NOTICE_TEMPLATE
        yield standin


@pytest.fixture
def sms(app, monkeypatch, sms_server) -> Iterator[aliyun_sms_standin.AliyunSmsStandIn]:
    """The real Alibaba Cloud SMS client, with a notice template, talking to the stand-in."""
    sms_server.reset()
    sender = AliyunSms(
        aliyun_sms_standin.ACCESS_KEY_ID,
        aliyun_sms_standin.ACCESS_KEY_SECRET,
        aliyun_sms_standin.SIGN_NAME,
        aliyun_sms_standin.TEMPLATE_CODE,
        endpoint=sms_server.url,
        notice_template_code=NOTICE_TEMPLATE,
    )
    monkeypatch.setitem(app.extensions, "linli_sms", sender)
    yield sms_server
    sender.http.close()


def work(redis_conn, *, scheduler: bool = False) -> None:
    """Run every queued job in this thread; with the scheduler, first move the scheduled jobs now due."""
    worker = SimpleWorker([Queue(name, connection=redis_conn) for name in QUEUES], connection=redis_conn)
    worker.work(burst=True, with_scheduler=scheduler, logging_level="WARNING")


# ---- people and lookups ----------------------------------------------------------------------------


@pytest.fixture
def compound(make_compound):
    return make_compound(buildings=1, households_per_building=4)


@pytest.fixture
def person(make_user):
    """A user, with a WeChat openid (signed in through WeChat) and/or a phone when asked."""

    def make(
        *, wechat: bool = True, phone: str | None = None, role: Role | None = None, compound=None
    ) -> User:
        user = make_user(role, compound, phone=phone)
        if wechat:
            db.session.add(WeChatAccount(user_id=user.id, app=WeChatApp.OFFICIAL_ACCOUNT,
                                         openid=f"oLinliNotice{next(_openids):016d}"))
            db.session.commit()
        return user

    return make


def inbox(user: User) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)))


def deliveries(user: User) -> list[Delivery]:
    return list(
        db.session.scalars(
            select(Delivery)
            .join(Notification, Notification.id == Delivery.notification_id)
            .where(Notification.user_id == user.id)
            .order_by(Delivery.id)
        )
    )


def openid_of(user: User, app: WeChatApp = WeChatApp.OFFICIAL_ACCOUNT) -> str:
    return db.session.scalar(
        select(WeChatAccount.openid).where(WeChatAccount.user_id == user.id, WeChatAccount.app == app)
    )


def wechat_to(standin: WeChatMessagesStandIn, user: User) -> list:
    return [message for message in standin.messages if message.touser == openid_of(user)]


def send_attempts_to(standin: WeChatMessagesStandIn, user: User) -> int:
    return sum(
        1 for call in standin.calls_to(BIZSEND_PATH) if (call.body or {}).get("touser") == openid_of(user)
    )


def tell(user_ids, *, key: str, urgency: Urgency = Urgency.NORMAL, kind: str = "repair_update") -> Notice:
    """A service notifies and commits, then pushes its jobs, as a request (after_request) or a job does."""
    notice = notify(
        user_ids, kind, "报修已受理", "3栋1单元 水管漏水", link="/h5/inbox", urgency=urgency, dedupe_key=key
    )
    db.session.commit()
    push_committed_jobs()
    return notice


def ask_binding(client, compound, user, household: Household):
    """POST a binding request as a visitor who scanned the compound's QR code; it notifies the reviewers."""
    body = {
        "building_id": household.building_id,
        "unit": household.unit,
        "room": household.room,
        "name": "张三",
        "relation": "owner",
    }
    headers = {
        "Authorization": f"Bearer {issue_tokens(user)[0]}",
        "X-Entry-Token": make_entry_token(compound),
    }
    return client.post(f"/api/v1/compounds/{compound.id}/bindings", json=body, headers=headers)


def households_of(compound) -> list[Household]:
    return list(
        db.session.scalars(
            select(Household).where(Household.compound_id == compound.id).order_by(Household.id)
        )
    )


def outbox_rows(func_path: str) -> list[OutboxJob]:
    return list(
        db.session.scalars(select(OutboxJob).where(OutboxJob.func_path == func_path).order_by(OutboxJob.id))
    )


# ---- a reminder asked for during a request ---------------------------------------------------------


def test_a_review_reminder_asked_for_in_a_request_reaches_each_reviewer_exactly_once(
    client, app, compound, person, make_user, wechat, redis_conn
):
    on_wechat = person(role=Role.COMMITTEE, compound=compound)
    in_app_only = person(wechat=False, role=Role.PARTY_SECRETARY, compound=compound)
    applicant = make_user()

    response = ask_binding(client, compound, applicant, households_of(compound)[0])
    assert response.status_code == 201, response.json
    # The fan-out job reached Redis after the request's commit, not before and not twice.
    [fan_out_row] = outbox_rows(FAN_OUT_JOB)
    assert fan_out_row.pushed_at is not None
    assert Queue("high", connection=redis_conn).job_ids == [fan_out_row.job_id]
    assert inbox(on_wechat) == []

    work(redis_conn)
    work(redis_conn)

    for reviewer in (on_wechat, in_app_only):
        [row] = inbox(reviewer)
        notice = db.session.get(Notice, row.notice_id)
        assert notice.kind == "binding_review" and notice.title == "有新的房屋绑定申请待审核：1栋1单元101室"
        assert row.read_at is None
    assert inbox(applicant) == []
    [message] = wechat_to(wechat, on_wechat)
    assert message.path == BIZSEND_PATH
    # A subscribe message's field holds 20 characters: the sentence is cut with an ellipsis.
    assert message.data["thing1"] == {"value": "有新的房屋绑定申请待审核：1栋1单元1…"}
    assert message.page == f"{app.config['LINLI_PUBLIC_URL']}/h5/c/{compound.code}/bindings"
    [push] = deliveries(on_wechat)
    assert (push.channel, push.status, push.attempts) == (Channel.WECHAT, DeliveryStatus.SENT, 1)
    assert push.sent_at is not None
    assert deliveries(in_app_only) == []

    # RQ may run a job again (a worker lost after the commit): every job of the chain is idempotent.
    for row in db.session.scalars(select(OutboxJob).order_by(OutboxJob.id)):
        Queue(row.queue, connection=redis_conn).enqueue(row.func_path, *row.args)
    assert relay_outbox() == 0
    work(redis_conn)
    assert len(inbox(on_wechat)) == len(inbox(in_app_only)) == 1
    assert len(wechat_to(wechat, on_wechat)) == 1
    assert send_attempts_to(wechat, on_wechat) == 1


def test_a_binding_decision_reaches_the_applicant_once(client, compound, person, wechat, redis_conn):
    reviewer = person(wechat=False, role=Role.COMMITTEE, compound=compound)
    applicant = person()
    binding_id = ask_binding(client, compound, applicant, households_of(compound)[0]).json["id"]

    headers = {"Authorization": f"Bearer {issue_tokens(reviewer)[0]}"}
    assert client.post(f"/api/v1/bindings/{binding_id}/approve", json={}, headers=headers).status_code == 200
    work(redis_conn)

    [row] = inbox(applicant)
    assert db.session.get(Notice, row.notice_id).title == "您的房屋绑定申请已通过：1栋1单元101室"
    assert [m.data["thing1"]["value"] for m in wechat_to(wechat, applicant)] == ["您的房屋绑定申请已通过：1栋1单元10…"]


# ---- the same notify call repeated ----------------------------------------------------------------


def test_the_same_notify_call_repeated_reaches_each_person_once(person, wechat, redis_conn):
    first, second = person(), person()

    for _ in range(3):
        tell([first.id, second.id], key="water-cut-2026-11-02")
    work(redis_conn)
    tell([first.id, second.id, first.id], key="water-cut-2026-11-02")  # again, after it went out
    work(redis_conn)

    assert (
        db.session.scalar(
            select(func.count()).select_from(Notice).where(Notice.dedupe_key == "water-cut-2026-11-02")
        )
        == 1
    )
    for user in (first, second):
        assert len(inbox(user)) == 1
        assert len(deliveries(user)) == 1
        assert len(wechat_to(wechat, user)) == 1


def test_a_repeat_in_the_same_transaction_is_one_notice(person, wechat, redis_conn):
    user = person()
    notify([user.id], "repair_update", "报修已受理", dedupe_key="repair-7-accepted")
    notify([user.id], "repair_update", "报修已受理", dedupe_key="repair-7-accepted")
    db.session.commit()
    push_committed_jobs()
    work(redis_conn)

    assert len(inbox(user)) == 1
    assert len(wechat_to(wechat, user)) == 1


def test_notices_without_a_dedupe_key_are_each_delivered(person, wechat, redis_conn):
    user = person()
    notify([user.id], "announcement", "停水通知")
    notify([user.id], "announcement", "停电通知")
    db.session.commit()
    push_committed_jobs()
    work(redis_conn)

    titles = sorted(db.session.get(Notice, row.notice_id).title for row in inbox(user))
    assert titles == ["停水通知", "停电通知"]
    assert sorted(m.data["thing1"]["value"] for m in wechat_to(wechat, user)) == ["停水通知", "停电通知"]


def test_a_dedupe_key_longer_than_its_column_still_dedupes(person, wechat, redis_conn):
    user = person()
    key = "survey-2026-q4-" + "x" * 200

    tell([user.id], key=key)
    tell([user.id], key=key)
    work(redis_conn)

    assert len(inbox(user)) == 1
    assert len(wechat_to(wechat, user)) == 1


# ---- WeChat's answers: busy, declined, bad template data -------------------------------------------


def test_a_push_that_fails_transiently_is_retried_and_sent_once(person, wechat, redis_conn, morning):
    unlucky, lucky = person(), person()
    wechat.answer_for(openid_of(unlucky), -1, times=1)

    tell([unlucky.id, lucky.id], key="meeting-12-invite")
    started = datetime.now(UTC)
    work(redis_conn)

    [waiting] = deliveries(unlucky)
    assert (waiting.status, waiting.attempts) == (DeliveryStatus.PENDING, 1)
    assert "-1" in waiting.last_error
    assert len(wechat_to(wechat, lucky)) == 1 and wechat_to(wechat, unlucky) == []
    # RQ holds the failed attempt for its first retry interval (10 s).
    registry = ScheduledJobRegistry(queue=Queue("high", connection=redis_conn))
    [job_id] = registry.get_job_ids()
    assert timedelta(seconds=9) <= registry.get_scheduled_time(job_id) - started <= timedelta(seconds=12)

    work(redis_conn, scheduler=True)  # not due yet
    assert wechat_to(wechat, unlucky) == []

    morning.shift(timedelta(seconds=12))
    work(redis_conn, scheduler=True)
    [sent] = deliveries(unlucky)
    assert (sent.status, sent.attempts) == (DeliveryStatus.SENT, 2)
    assert len(wechat_to(wechat, unlucky)) == 1
    assert len(wechat_to(wechat, lucky)) == 1  # the retry did not send the others again

    morning.shift(timedelta(minutes=10))
    work(redis_conn, scheduler=True)
    assert registry.get_job_ids() == []
    assert len(wechat_to(wechat, unlucky)) == 1 and send_attempts_to(wechat, unlucky) == 2
    assert len(wechat_to(wechat, lucky)) == 1 and send_attempts_to(wechat, lucky) == 1


def test_a_push_busy_through_every_retry_ends_as_a_failed_job_and_stays_pending(
    person, wechat, redis_conn, morning
):
    user = person()
    wechat.answer_for(openid_of(user), -1)

    tell([user.id], key="meeting-13-invite")
    work(redis_conn)
    for wait in (10, 60, 300):  # Retry(max=3, interval=[10, 60, 300])
        morning.shift(timedelta(seconds=wait + 1))
        work(redis_conn, scheduler=True)

    [push] = deliveries(user)
    assert (push.status, push.attempts) == (DeliveryStatus.PENDING, 4)
    [deliver_row] = outbox_rows(DELIVER_JOB)
    assert FailedJobRegistry(queue=Queue("high", connection=redis_conn)).get_job_ids() == [deliver_row.job_id]
    assert wechat_to(wechat, user) == []


def test_a_recipient_who_declined_43101_is_marked_declined_and_not_retried(
    person, wechat, redis_conn, morning
):
    user = person()
    wechat.answer_for(openid_of(user), 43101)

    tell([user.id], key="vote-5-open")
    work(redis_conn)
    morning.shift(timedelta(minutes=10))
    work(redis_conn, scheduler=True)

    [push] = deliveries(user)
    assert (push.status, push.attempts, push.sent_at) == (DeliveryStatus.DECLINED, 1, None)
    assert send_attempts_to(wechat, user) == 1
    assert ScheduledJobRegistry(queue=Queue("high", connection=redis_conn)).get_job_ids() == []
    assert len(inbox(user)) == 1  # the inbox row stays


def test_template_data_refused_47003_fails_the_push_is_logged_and_not_retried(
    person, wechat, redis_conn, morning, caplog
):
    caplog.set_level(logging.ERROR, logger="linli.wechat")
    user = person()
    wechat.answer_for(openid_of(user), 47003)

    tell([user.id], key="vote-6-open")
    work(redis_conn)
    morning.shift(timedelta(minutes=10))
    work(redis_conn, scheduler=True)

    [push] = deliveries(user)
    assert (push.status, push.attempts) == (DeliveryStatus.FAILED, 1)
    assert "47003" in push.last_error
    assert send_attempts_to(wechat, user) == 1
    assert ScheduledJobRegistry(queue=Queue("high", connection=redis_conn)).get_job_ids() == []
    [record] = [r for r in caplog.records if r.name == "linli.wechat" and r.levelno == logging.ERROR]
    assert "rejected the data" in record.getMessage() and "thing1" in record.getMessage()
    assert openid_of(user) not in record.getMessage()


# ---- Redis down ------------------------------------------------------------------------------------


def test_while_redis_is_down_100_requests_succeed_and_the_relay_delivers_exactly_100(
    client, app, make_compound, make_user, person, wechat, redis_conn, monkeypatch
):
    compound = make_compound(buildings=13, households_per_building=8)
    reviewer = person(role=Role.STAFF, compound=compound)
    applicants = [make_user() for _ in range(100)]
    homes = households_of(compound)

    monkeypatch.setitem(app.extensions, "linli_redis", connect(CLOSED_PORT_URL))
    statuses = [
        ask_binding(client, compound, user, home).status_code
        for user, home in zip(applicants, homes[:100], strict=True)
    ]
    assert statuses == [201] * 100
    waiting = outbox_rows(FAN_OUT_JOB)
    assert len(waiting) == 100 and all(row.pushed_at is None for row in waiting)
    assert inbox(reviewer) == []

    monkeypatch.setitem(app.extensions, "linli_redis", redis_conn)  # Redis is back
    assert relay_outbox() == 100
    queue = Queue("high", connection=redis_conn)
    assert sorted(queue.job_ids) == sorted(row.job_id for row in waiting)

    work(redis_conn)
    assert len(inbox(reviewer)) == 100
    assert len(wechat_to(wechat, reviewer)) == 100
    assert {push.status for push in deliveries(reviewer)} == {DeliveryStatus.SENT}

    assert relay_outbox() == 0
    work(redis_conn)
    assert queue.count == 0
    assert len(inbox(reviewer)) == 100 and len(wechat_to(wechat, reviewer)) == 100


def test_work_orders_queued_when_redis_lost_its_data_each_reach_every_staff_member_once(
    client, make_compound, make_user, person, wechat, redis_conn, morning
):
    compound = make_compound(buildings=1, households_per_building=2)
    staff = [person(role=Role.STAFF, compound=compound) for _ in range(2)]
    resident = make_user(Role.OWNER, compound, household=households_of(compound)[0])
    headers = {"Authorization": f"Bearer {issue_tokens(resident)[0]}"}

    # No worker runs: each order's fan-out job waits in Redis.
    for n in range(20):
        body = {"category": "水电维修", "description": f"{n + 1}号楼道灯不亮", "urgency": "normal",
                "location_text": f"{n + 1}号楼道"}
        assert client.post(f"/api/v1/compounds/{compound.id}/work-orders", json=body, headers=headers).status_code == 201
    rows = outbox_rows(FAN_OUT_JOB)
    assert len(rows) == 20 and all(row.pushed_at is not None and row.done_at is None for row in rows)
    assert Queue("high", connection=redis_conn).count == 20

    redis_conn.flushdb()  # Redis restarted without persistence: the 20 jobs are gone
    morning.shift(REPUSH_AFTER + timedelta(minutes=1))
    assert relay_outbox() == 20
    work(redis_conn)

    for member in staff:
        assert len(inbox(member)) == 20
        assert len(wechat_to(wechat, member)) == 20
    assert all(row.done_at is not None and row.pushes == 2 for row in outbox_rows(FAN_OUT_JOB))

    # Two more relay runs later: nothing is pushed again, nobody hears twice.
    for _ in range(2):
        morning.shift(REPUSH_AFTER + timedelta(minutes=1))
        relay_outbox()
        work(redis_conn)
    for member in staff:
        assert len(inbox(member)) == 20 and len(wechat_to(wechat, member)) == 20


# ---- quiet hours and preferences -------------------------------------------------------------------


def test_a_normal_notice_at_23_beijing_is_in_the_inbox_at_once_and_pushed_at_8(
    person, wechat, redis_conn, morning
):
    user = person()
    morning.move_to(datetime(2026, 11, 2, 23, 0, tzinfo=SHANGHAI), tick=False)
    eight = datetime(2026, 11, 3, 8, 0, tzinfo=SHANGHAI)

    tell([user.id], key="fee-reminder-2026-11")
    work(redis_conn)

    assert len(inbox(user)) == 1
    [push] = deliveries(user)
    assert (push.status, push.deliver_after) == (DeliveryStatus.PENDING, eight)
    registry = ScheduledJobRegistry(queue=Queue("high", connection=redis_conn))
    [deliver_row] = outbox_rows(DELIVER_JOB)
    assert registry.get_job_ids() == [deliver_row.job_id]
    assert registry.get_scheduled_time(deliver_row.job_id) == eight
    assert wechat_to(wechat, user) == []

    morning.move_to(eight - timedelta(seconds=1), tick=False)
    work(redis_conn, scheduler=True)
    assert wechat_to(wechat, user) == []

    morning.move_to(eight, tick=False)
    work(redis_conn, scheduler=True)
    work(redis_conn, scheduler=True)
    assert len(wechat_to(wechat, user)) == 1
    [push] = deliveries(user)
    assert (push.status, push.sent_at) == (DeliveryStatus.SENT, eight)


def test_an_urgent_notice_at_23_beijing_is_pushed_at_once_by_wechat_and_sms(
    person, wechat, sms, redis_conn, morning
):
    with_phone = person(phone=PHONE)
    wechat_only = person()
    morning.move_to(datetime(2026, 11, 2, 23, 0, tzinfo=SHANGHAI), tick=False)

    tell([with_phone.id, wechat_only.id], key="gas-leak-2026-11-02", urgency=Urgency.URGENT)
    work(redis_conn)

    assert len(wechat_to(wechat, with_phone)) == len(wechat_to(wechat, wechat_only)) == 1
    [text] = sms.messages
    assert (text.phone, text.template_code, text.template_param) == (
        PHONE,
        NOTICE_TEMPLATE,
        {"title": "报修已受理"},
    )
    assert {(push.channel, push.status) for push in deliveries(with_phone)} == {
        (Channel.WECHAT, DeliveryStatus.SENT),
        (Channel.SMS, DeliveryStatus.SENT),
    }
    assert [push.channel for push in deliveries(wechat_only)] == [Channel.WECHAT]
    assert ScheduledJobRegistry(queue=Queue("high", connection=redis_conn)).get_job_ids() == []


def test_sms_is_never_used_for_a_normal_notice(person, wechat, sms, redis_conn):
    user = person(phone=PHONE)

    tell([user.id], key="survey-3-open")
    work(redis_conn)

    assert [push.channel for push in deliveries(user)] == [Channel.WECHAT]
    assert sms.messages == []


def test_a_kind_turned_off_gets_the_inbox_row_but_no_push_unless_urgent(person, wechat, sms, redis_conn):
    user = person(phone=PHONE)
    set_kind_enabled(user.id, "repair_update", False)

    tell([user.id], key="repair-8-accepted", kind="repair_update")
    work(redis_conn)
    assert len(inbox(user)) == 1
    assert deliveries(user) == [] and wechat_to(wechat, user) == [] and sms.messages == []

    tell([user.id], key="repair-8-flooding", kind="repair_update", urgency=Urgency.URGENT)
    tell([user.id], key="vote-9-open", kind="vote_open")  # another kind is still pushed
    work(redis_conn)
    assert len(inbox(user)) == 3
    assert len(wechat_to(wechat, user)) == 2
    assert [message.phone for message in sms.messages] == [PHONE]

    set_kind_enabled(user.id, "repair_update", True)
    tell([user.id], key="repair-8-closed", kind="repair_update")
    work(redis_conn)
    assert len(wechat_to(wechat, user)) == 3


# ---- batching --------------------------------------------------------------------------------------


def test_fan_out_to_10001_recipients_is_two_jobs_and_each_gets_one_row_and_one_planned_push(redis_conn):
    db.session.execute(
        insert(User),
        [{"username": f"fanout{n}", "display_name": f"居民{n}", "is_active": True} for n in range(10_001)],
    )
    user_ids = list(
        db.session.scalars(select(User.id).where(User.username.like("fanout%")).order_by(User.id))
    )
    on_wechat = user_ids[:1200]
    db.session.execute(insert(WeChatAccount), [
        {"user_id": uid, "app": WeChatApp.OFFICIAL_ACCOUNT, "openid": f"oLinliFanout{uid:016d}"} for uid in on_wechat
    ])
    db.session.commit()

    # Asked twice, and with people twice in the list: still one row and one push each.
    notice = tell(user_ids + user_ids[:10], key="water-cut-all")
    tell(user_ids, key="water-cut-all")

    high = Queue("high", connection=redis_conn)
    assert [len(job.args[1]) for job in high.jobs] == [10_000, 1, 10_000, 1]
    assert [uid for job in high.jobs[:2] for uid in job.args[1]] == user_ids
    fan_outs = high.job_ids
    SimpleWorker([high], connection=redis_conn).work(burst=True, max_jobs=len(fan_outs), logging_level="WARNING")
    # The second call's fan-outs found every row written: only the first call's batches plan pushes, behind the
    # fan-outs in the one queue.
    plans = high.jobs
    assert [(job.func_name, len(job.args[1])) for job in plans] == [(PLAN_PUSHES_JOB, 10_000), (PLAN_PUSHES_JOB, 1)]
    SimpleWorker([high], connection=redis_conn).work(burst=True, max_jobs=len(plans), logging_level="WARNING")

    rows = db.session.execute(
        select(Notification.user_id, func.count()).where(Notification.notice_id == notice.id)
        .group_by(Notification.user_id)
    ).all()
    assert sorted(uid for uid, _ in rows) == user_ids
    assert {count for _, count in rows} == {1}
    pushes = db.session.execute(
        select(Delivery.id, Notification.user_id).join(Notification, Notification.id == Delivery.notification_id)
        .where(Notification.notice_id == notice.id)
    ).all()
    assert sorted(uid for _, uid in pushes) == on_wechat
    # Each planned push is in exactly one delivery job, DELIVERY_BATCH (500) at a time.
    delivery_jobs = high.jobs
    assert [(job.func_name, len(job.args[1])) for job in delivery_jobs] == [(DELIVER_JOB, 500), (DELIVER_JOB, 500),
                                                                            (DELIVER_JOB, 200)]
    assert sorted(delivery_id for job in delivery_jobs for delivery_id in job.args[1]) == sorted(
        delivery_id for delivery_id, _ in pushes
    )


# ---- SMS answers ----------------------------------------------------------------------------------


def test_an_sms_refused_by_flow_control_is_retried_and_sent_once(person, wechat, sms, redis_conn, morning):
    user = person(phone=PHONE)
    sms.limit(PHONE, times=1)

    tell([user.id], key="lift-stuck-3", urgency=Urgency.URGENT)
    work(redis_conn)
    text_push = next(push for push in deliveries(user) if push.channel is Channel.SMS)
    assert (text_push.status, text_push.attempts) == (DeliveryStatus.PENDING, 1)
    assert "BUSINESS_LIMIT_CONTROL" in text_push.last_error

    morning.shift(timedelta(seconds=12))
    work(redis_conn, scheduler=True)
    morning.shift(timedelta(minutes=10))
    work(redis_conn, scheduler=True)

    assert [message.phone for message in sms.messages] == [PHONE]
    assert {(push.channel, push.status) for push in deliveries(user)} == {
        (Channel.WECHAT, DeliveryStatus.SENT),
        (Channel.SMS, DeliveryStatus.SENT),
    }
    assert len(wechat_to(wechat, user)) == 1


def test_an_sms_to_a_number_the_carrier_refuses_fails_and_is_not_retried(
    person, wechat, sms, redis_conn, morning
):
    user = person(wechat=False, phone=PHONE)
    sms.refuse(PHONE)

    tell([user.id], key="lift-stuck-4", urgency=Urgency.URGENT)
    work(redis_conn)
    morning.shift(timedelta(minutes=10))
    work(redis_conn, scheduler=True)

    [push] = deliveries(user)
    assert (push.channel, push.status, push.attempts) == (Channel.SMS, DeliveryStatus.FAILED, 1)
    assert "MOBILE_NUMBER_ILLEGAL" in push.last_error
    assert sum(1 for call in sms.calls if call.params.get("PhoneNumbers") == PHONE) == 1


def test_an_sms_gateway_out_of_reach_is_tried_again_once_it_answers(
    app, monkeypatch, person, sms, redis_conn, morning
):
    user = person(wechat=False, phone=PHONE)
    answering = app.extensions["linli_sms"]
    unreachable = AliyunSms(
        aliyun_sms_standin.ACCESS_KEY_ID,
        aliyun_sms_standin.ACCESS_KEY_SECRET,
        aliyun_sms_standin.SIGN_NAME,
        aliyun_sms_standin.TEMPLATE_CODE,
        endpoint="http://127.0.0.1:9",
        notice_template_code=NOTICE_TEMPLATE,
    )
    monkeypatch.setitem(app.extensions, "linli_sms", unreachable)

    tell([user.id], key="fire-drill-1", urgency=Urgency.URGENT)
    work(redis_conn)
    [push] = deliveries(user)
    assert (push.status, push.attempts) == (DeliveryStatus.PENDING, 1)
    assert push.last_error.startswith("Unreachable")

    monkeypatch.setitem(app.extensions, "linli_sms", answering)
    morning.shift(timedelta(seconds=12))
    work(redis_conn, scheduler=True)

    [push] = deliveries(user)
    assert (push.status, push.attempts) == (DeliveryStatus.SENT, 2)
    assert [message.phone for message in sms.messages] == [PHONE]
    unreachable.http.close()


def test_a_retry_that_would_fall_into_quiet_hours_waits_until_8(person, wechat, redis_conn, morning):
    user = person()
    wechat.answer_for(openid_of(user), -1, times=1)
    morning.move_to(datetime(2026, 11, 2, 21, 59, 55, tzinfo=SHANGHAI))

    tell([user.id], key="meeting-21-invite")
    work(redis_conn)  # the first attempt, at 21:59:55, fails for a passing reason
    morning.move_to(datetime(2026, 11, 2, 22, 0, 10, tzinfo=SHANGHAI))
    work(redis_conn, scheduler=True)  # RQ's retry comes in quiet hours: it is put off to 08:00

    [waiting] = deliveries(user)
    assert waiting.status == DeliveryStatus.PENDING
    assert waiting.deliver_after == datetime(2026, 11, 3, 8, 0, tzinfo=SHANGHAI)
    assert wechat_to(wechat, user) == []
    morning.move_to(datetime(2026, 11, 3, 7, 59, 50, tzinfo=SHANGHAI))
    work(redis_conn, scheduler=True)
    assert wechat_to(wechat, user) == []
    morning.move_to(datetime(2026, 11, 3, 8, 0, 5, tzinfo=SHANGHAI))
    work(redis_conn, scheduler=True)
    assert len(wechat_to(wechat, user)) == 1
    assert deliveries(user)[0].status == DeliveryStatus.SENT


def test_pushes_whose_job_gave_up_are_queued_again_by_the_sweep(person, wechat, redis_conn, morning):
    user = person()
    wechat.answer_for(openid_of(user), -1, times=4)  # busy through the first try and all three retries
    tell([user.id], key="meeting-22-invite")
    work(redis_conn)
    for wait in (10, 60, 300):
        morning.shift(timedelta(seconds=wait + 1))
        work(redis_conn, scheduler=True)
    assert deliveries(user)[0].status == DeliveryStatus.PENDING

    assert requeue_stale_deliveries() == 0  # not late enough yet
    morning.shift(timedelta(minutes=31))
    assert requeue_stale_deliveries() == 1
    work(redis_conn)

    assert deliveries(user)[0].status == DeliveryStatus.SENT
    assert len(wechat_to(wechat, user)) == 1
    assert requeue_stale_deliveries() == 0


def test_of_two_jobs_holding_the_same_pending_push_only_one_may_send_it(person, wechat, redis_conn, morning):
    """A sweep may requeue a push whose first job is merely slow: each job claims the push (a compare-and-set
    on its attempt count) before sending, so the second one's claim fails."""
    user = person()
    wechat.answer_for(openid_of(user), -1)  # keep the push pending
    tell([user.id], key="meeting-23-invite")
    work(redis_conn)
    [push] = deliveries(user)
    seen_by_both = push.attempts

    # The first job claims it…
    db.session.execute(
        update(Delivery).where(Delivery.id == push.id).values(attempts=seen_by_both + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    # …and the second job, which read the same row before, cannot.
    stale_view = Delivery(id=push.id, attempts=seen_by_both, status=DeliveryStatus.PENDING)
    assert _claim(stale_view) is False
    assert _claim(db.session.get(Delivery, push.id)) is True


# ---- one person, two WeChat apps -------------------------------------------------------------------

MINI_TEMPLATE, WEB_TEMPLATE = "tmpl-mini-notice-0001", "tmpl-web-notice-0001"


@pytest.fixture
def two_apps(app, monkeypatch) -> Iterator[tuple[WeChatMessagesStandIn, wechat_standin.WeChatStandIn]]:
    """The configured `wechat` provider with a mini-program and an official account, each with its own appid,
    secret and notice template; subscribe messages go to a stand-in that knows both apps and whose openid is
    whose, sign-in to the login stand-in."""
    with (
        wechat_messages_standin.running_standin(
            miniprogram=(wechat_messages_standin.MINIPROGRAM_APPID, wechat_messages_standin.MINIPROGRAM_SECRET)
        ) as messages,
        wechat_standin.running_standin(
            miniprogram=(wechat_standin.MINIPROGRAM_APPID, wechat_standin.MINIPROGRAM_SECRET)
        ) as login,
    ):
        for key, value in {
            "LINLI_WECHAT_PROVIDER": "wechat",
            "LINLI_WECHAT_APPID": wechat_messages_standin.APPID,
            "LINLI_WECHAT_SECRET": wechat_messages_standin.SECRET,
            "LINLI_WECHAT_MINIPROGRAM_APPID": wechat_messages_standin.MINIPROGRAM_APPID,
            "LINLI_WECHAT_MINIPROGRAM_SECRET": wechat_messages_standin.MINIPROGRAM_SECRET,
            "LINLI_WECHAT_NOTICE_TEMPLATE_ID": WEB_TEMPLATE,
            "LINLI_WECHAT_MINIPROGRAM_NOTICE_TEMPLATE_ID": MINI_TEMPLATE,
            "LINLI_WECHAT_API_BASE": messages.url,
        }.items():
            monkeypatch.setitem(app.config, key, value)
        # Built from the settings as the app's start builds them (integrations.init_app).
        senders = integrations.wechat_messages_for(app)
        monkeypatch.setitem(app.extensions, "linli_wechat_messages", senders)
        logins = {
            WeChatApp.MINIPROGRAM: WeChatLoginClient(wechat_standin.MINIPROGRAM_APPID, wechat_standin.MINIPROGRAM_SECRET,
                                                     api_base=login.url),
            WeChatApp.OFFICIAL_ACCOUNT: WeChatLoginClient(wechat_standin.APPID, wechat_standin.SECRET,
                                                          api_base=login.url),
        }
        monkeypatch.setitem(app.extensions, "linli_wechat_login", logins)
        try:
            yield messages, login
        finally:
            for client in [*senders.values(), *logins.values()]:
                client.http.close()


def sign_in_through(client, apps, app: WeChatApp, openid: str, unionid: str | None) -> int:
    """Sign in through one app's WeChat login, as the mini-program or the H5 would; returns the user id."""
    messages, login = apps
    kind = "miniprogram" if app is WeChatApp.MINIPROGRAM else "oauth"
    appid = wechat_messages_standin.MINIPROGRAM_APPID if app is WeChatApp.MINIPROGRAM else wechat_messages_standin.APPID
    messages.openid_of(openid, appid)
    code = login.issue_code(openid, unionid, kind=wechat_standin.MINIPROGRAM if kind == "miniprogram" else wechat_standin.OAUTH)
    response = client.post("/api/v1/auth/wechat", json={"code": code, "kind": kind})
    assert response.status_code == 200, response.json
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {response.json['access_token']}"}).json["id"]


def sent(messages: WeChatMessagesStandIn) -> list[tuple[str, str, str, str]]:
    return [(message.path, message.touser, message.template_id, message.page) for message in messages.messages]


MINI_PAGE = "pages/index/index?link=%2Fh5%2Finbox"
WEB_PAGE = "http://linli.test/h5/inbox"


def test_one_person_of_both_apps_is_pushed_through_the_app_each_openid_belongs_to(client, two_apps, redis_conn):
    messages, _ = two_apps
    person = sign_in_through(client, two_apps, WeChatApp.MINIPROGRAM, "o-mini-zhou", "u-zhou")
    tell([person], key="water")
    work(redis_conn)

    assert sign_in_through(client, two_apps, WeChatApp.OFFICIAL_ACCOUNT, "o-web-zhou", "u-zhou") == person
    tell([person], key="power")
    work(redis_conn)

    # Once per notice, through the app the person came from last, with that app's openid, template and page.
    assert sent(messages) == [
        (wechat_messages_standin.SEND_PATH, "o-mini-zhou", MINI_TEMPLATE, MINI_PAGE),
        (BIZSEND_PATH, "o-web-zhou", WEB_TEMPLATE, WEB_PAGE),
    ]
    assert [push.status for push in deliveries(db.session.get(User, person))] == [DeliveryStatus.SENT] * 2
    assert [call.answer["errcode"] for call in messages.calls if call.path != wechat_messages_standin.TOKEN_PATH] == [0, 0]


def test_a_person_of_the_mini_program_alone_is_pushed_through_subscribe_send(client, two_apps, redis_conn):
    messages, _ = two_apps
    person = sign_in_through(client, two_apps, WeChatApp.MINIPROGRAM, "o-mini-only", None)

    tell([person], key="notice")
    work(redis_conn)

    assert sent(messages) == [(wechat_messages_standin.SEND_PATH, "o-mini-only", MINI_TEMPLATE, MINI_PAGE)]
    [push] = deliveries(db.session.get(User, person))
    assert push.status is DeliveryStatus.SENT


def test_declined_in_the_app_used_last_the_push_goes_through_the_other(client, two_apps, redis_conn):
    messages, _ = two_apps
    person = sign_in_through(client, two_apps, WeChatApp.OFFICIAL_ACCOUNT, "o-web-qian", "u-qian")
    sign_in_through(client, two_apps, WeChatApp.MINIPROGRAM, "o-mini-qian", "u-qian")
    messages.answer_for("o-mini-qian", 43101)

    tell([person], key="notice")
    work(redis_conn)

    assert sent(messages) == [(BIZSEND_PATH, "o-web-qian", WEB_TEMPLATE, WEB_PAGE)]
    [push] = deliveries(db.session.get(User, person))
    assert (push.status, push.attempts) == (DeliveryStatus.SENT, 1)

    messages.answer_for("o-web-qian", 43101)
    tell([person], key="another")
    work(redis_conn)

    assert [push.status for push in deliveries(db.session.get(User, person))] == [
        DeliveryStatus.SENT, DeliveryStatus.DECLINED]
