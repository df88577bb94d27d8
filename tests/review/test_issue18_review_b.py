"""Review of issue 18 (reviewer b): the vote in three round trips keeps every refusal and counts a vote at the
close one way only; a vote is told once however many jobs run at once; the close waits for a vote in flight;
/metrics stays closed to a remote client behind the proxy; error reports blank phone numbers however written;
a restore refuses an archive whose files would leave the store."""
from __future__ import annotations

import io
import json
import tarfile
import threading
import time
from datetime import datetime, timedelta
from datetime import time as dt_time

import pytest
import time_machine
from rq import Queue, SimpleWorker
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix

from backend.domain.auth import WeChatApp
from backend.domain.consultations import Channel
from backend.domain.notifications import VOTE_RECEIPT, DeliveryStatus
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import (
    Delivery,
    Household,
    Notice,
    Notification,
    NotificationPreference,
    Topic,
    Vote,
    WeChatAccount,
)
from backend.observability.error_reports import FILTERED, blank_private_text
from backend.policy import roles_in_compound
from backend.services import consultations as service
from backend.services.auth import issue_tokens
from backend.services.notifications import notify, withdraw
from backend.services.queueing import QUEUES, push_committed_jobs
from backend.shared.clock import SHANGHAI, beijing_date, utcnow
from tests import ballots
from tests import test_backup_restore as backups
from tests.support import assert_error_shape

# A scratch database and photo folder of its own, to restore into (tests/test_backup_restore.py).
scratch_app = backups.scratch_app

ballot = ballots.ballot


def _put(client, user, topic_id: int, household_id: int | None, option_id: int):
    response = client.put(f"/api/v1/topics/{topic_id}/vote",
                          headers={"Authorization": f"Bearer {issue_tokens(user)[0]}"},
                          json={"household_id": household_id, "option_id": option_id})
    return response


def _votes(topic_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Vote).where(Vote.topic_id == topic_id))


# ---- (1) the vote's refusals ---------------------------------------------------------------------------------


def test_every_refusal_of_the_one_statement_vote_keeps_its_status_and_message(ballot, client, make_compound,
                                                                              make_user):
    compound, topic_id, options, owner, homes, committee = ballot
    tenant = make_user(Role.RESIDENT, compound, household=homes[1])
    # A household built after the roll was frozen: its verified owner is not on this ballot's roll.
    late_home = Household(compound_id=compound.id, building_id=homes[0].building_id, unit="1", room="901",
                          floor_area_centi_m2=9000)
    db.session.add(late_home)
    db.session.commit()
    late_owner = make_user(Role.OWNER, compound, household=late_home)
    other = make_compound(buildings=1, households_per_building=1)
    other_home = db.session.scalar(select(Household).where(Household.compound_id == other.id))
    other_topic_id, other_options = ballots.open_ballot(other, make_user(Role.COMMITTEE, other))

    cases = {
        "option of another topic": (owner, topic_id, homes[0].id, other_options["同意"], 422, "没有这个表决选项"),
        "a tenant where owners only vote": (tenant, topic_id, homes[1].id, options["同意"], 403,
                                            "只有这户已认证的业主可以表决"),
        "a household not the caller's": (owner, topic_id, homes[2].id, options["同意"], 403,
                                         "只有这户已认证的业主可以表决"),
        "a household not on the roll": (late_owner, topic_id, late_home.id, options["同意"], 403,
                                        "这户不在本次表决名单中"),
        "another compound's topic": (owner, other_topic_id, other_home.id, other_options["同意"], 404, None),
        "another compound's household": (owner, topic_id, other_home.id, options["同意"], 403,
                                         "只有这户已认证的业主可以表决"),
    }
    for name, (who, topic, household_id, option_id, status, message) in cases.items():
        response = _put(client, who, topic, household_id, option_id)
        assert_error_shape(response, status)
        if message is not None:
            assert response.get_json()["message"] == message, name
    assert _votes(topic_id) == 0 and _votes(other_topic_id) == 0


def test_a_vote_at_the_exact_close_is_refused_and_one_just_before_is_counted_by_the_close(ballot, client):
    compound, topic_id, options, owner, homes, committee = ballot
    closes_at = db.session.get(Topic, topic_id).ballot_closes_at
    with time_machine.travel(closes_at - timedelta(microseconds=1), tick=False):
        assert _put(client, owner, topic_id, homes[0].id, options["同意"]).status_code == 200
    with time_machine.travel(closes_at, tick=False):
        response = _put(client, owner, topic_id, homes[0].id, options["不同意"])
        assert_error_shape(response, 409)
        assert response.get_json()["message"] == "表决已截止"
        result = service.close_ballot(topic_id, None)
    db.session.expire_all()
    vote = db.session.scalar(select(Vote).where(Vote.topic_id == topic_id))
    assert (vote.option_id, vote.casts) == (options["同意"], 1)
    assert service.tally_result(result).participating_households == 1


# ---- (1) concurrency on PostgreSQL -----------------------------------------------------------------------------


@pytest.mark.postgresql
@pytest.mark.live
def test_a_vote_in_flight_holds_the_topic_so_the_close_waits_for_it(ballot):
    compound, topic_id, options, owner, homes, committee = ballot
    db.session.commit()
    recorded = service.ballots._upsert_vote(topic_id, homes[0].id, options["同意"], Channel.ONLINE, owner.id,
                                            utcnow(), voter_id=owner.id)
    assert recorded is not None
    with db.engine.connect() as other, pytest.raises(OperationalError, match="could not obtain lock"):
        other.execute(text("SELECT id FROM topics WHERE id = :id FOR UPDATE NOWAIT"), {"id": topic_id})
    db.session.rollback()


@pytest.mark.postgresql
@pytest.mark.live
def test_a_vote_waiting_behind_a_close_is_refused_not_recorded_after_it(app, ballot):
    compound, topic_id, options, owner, homes, committee = ballot
    token = issue_tokens(owner)[0]
    household_id, option_id = homes[0].id, options["同意"]
    db.session.remove()
    answers: list[int] = []
    closer = db.engine.connect()
    closing = closer.begin()
    # The close holds the topic (FOR UPDATE) and moves the deadline into the past while the vote waits for it.
    closer.execute(update(Topic).where(Topic.id == topic_id).values(ballot_closes_at=utcnow() - timedelta(hours=1)))

    def vote():
        with app.test_client() as voter:
            response = voter.put(f"/api/v1/topics/{topic_id}/vote", headers={"Authorization": f"Bearer {token}"},
                                 json={"household_id": household_id, "option_id": option_id})
            answers.append(response.status_code)

    thread = threading.Thread(target=vote)
    thread.start()
    time.sleep(1.5)
    closing.commit()
    closer.close()
    thread.join(30)
    assert answers == [409]
    assert _votes(topic_id) == 0


@pytest.mark.postgresql
@pytest.mark.live
def test_a_vote_is_told_once_however_many_jobs_tell_it_at_once(app, ballot):
    compound, topic_id, options, owner, homes, committee = ballot
    person = service.participant(owner.id, compound.id, roles_in_compound(owner.id, compound.id))
    service.cast_vote(topic_id, person, homes[0].id, options["同意"])
    service.cast_vote(topic_id, person, homes[0].id, options["不同意"])
    db.session.info.pop("linli_pushes_committed", None)
    household_id = homes[0].id
    db.session.remove()
    barrier = threading.Barrier(4)
    told: list[bool] = []

    def tell():
        with app.app_context():
            barrier.wait()
            told.append(service.tell_of_vote(topic_id, household_id))
            db.session.remove()

    threads = [threading.Thread(target=tell) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(told) == [False, False, False, True]
    assert db.session.scalar(select(Vote.told_casts).where(Vote.topic_id == topic_id)) == 2
    assert db.session.scalar(select(func.count()).select_from(Notice).where(Notice.kind == VOTE_RECEIPT)) == 1


# ---- (4) /metrics behind nginx, error reports ------------------------------------------------------------------


def test_behind_the_proxy_a_remote_client_never_looks_like_the_loopback(app, client, monkeypatch):
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1))
    # nginx connects from 127.0.0.1 and sets X-Forwarded-For to the client's address (deploy/nginx-site.conf).
    through_nginx = {"REMOTE_ADDR": "127.0.0.1"}
    for forwarded in ("203.0.113.5", "127.0.0.1, 203.0.113.5"):
        response = client.get("/metrics", headers={"X-Forwarded-For": forwarded}, environ_base=through_nginx)
        assert_error_shape(response, 404)
    assert client.get("/metrics", environ_base=through_nginx).status_code == 200  # Prometheus on the machine


@pytest.mark.parametrize("written", ["+8613812345678", "8613812345678", "+86 13812345678", "138 1234 5678",
                                     "138-1234-5678"])
def test_error_reports_blank_a_phone_number_however_it_is_written(written):
    report = blank_private_text({"message": f"短信发送失败 {written} 超时", "extra": {"to": [written]}})
    assert "5678" not in json.dumps(report, ensure_ascii=False), report
    assert FILTERED in report["message"]


def test_error_reports_keep_an_order_number_that_merely_contains_digits():
    assert blank_private_text("order 2026120613812345678") == "order 2026120613812345678"


# ---- (3) the fan-out -----------------------------------------------------------------------------------------


def test_a_batch_fan_out_keeps_one_row_each_the_withdrawn_the_preferences_and_quiet_hours(app, make_user):

    tonight = datetime.combine(beijing_date(utcnow()), dt_time(23, 0), tzinfo=SHANGHAI)
    eight = tonight + timedelta(hours=9)
    people = [make_user() for _ in range(4)]
    follower, muted, withdrawn, without_wechat = people
    for user in (follower, muted, withdrawn):
        db.session.add(WeChatAccount(user_id=user.id, app=WeChatApp.OFFICIAL_ACCOUNT, openid=f"oReviewB{user.id:08d}"))
    db.session.add(NotificationPreference(user_id=muted.id, kind="repair_update", enabled=False))
    db.session.commit()
    with time_machine.travel(tonight, tick=False):
        notify([follower.id, follower.id, muted.id, withdrawn.id, without_wechat.id, follower.id], "repair_update",
               "报修已受理", dedupe_key="review-b-fan-out")
        withdraw(["review-b-fan-out"], [withdrawn.id])
        db.session.commit()
        connection = app.extensions["linli_redis"]
        push_committed_jobs()
        SimpleWorker([Queue(name, connection=connection) for name in QUEUES], connection=connection).work(
            burst=True, logging_level="WARNING")
    rows = {user.id: db.session.execute(select(Notification.id, Notification.withdrawn_at).where(
        Notification.user_id == user.id)).all() for user in people}
    assert all(len(found) == 1 for found in rows.values()), rows
    assert [user.id for user in people if rows[user.id][0].withdrawn_at is not None] == [withdrawn.id]
    pushes = db.session.execute(select(Notification.user_id, Delivery.status, Delivery.deliver_after).join(
        Notification, Notification.id == Delivery.notification_id)).all()
    assert [(user_id, status, when) for user_id, status, when in pushes] == [
        (follower.id, DeliveryStatus.PENDING, eight)]


# ---- (5) restore ---------------------------------------------------------------------------------------------


def test_an_archive_with_a_file_leaving_the_store_is_refused_before_the_database_is_touched(scratch_app, tmp_path):
    source = scratch_app("source")
    backups._cli(source, "init-db")
    backups._cli(source, "backup", "--out", str(tmp_path / "schema.tar"))
    evil = tmp_path / "evil.tar"
    with tarfile.open(tmp_path / "schema.tar") as original, tarfile.open(evil, "w") as copy:
        for member in original:
            copy.addfile(member, original.extractfile(member))
        info = tarfile.TarInfo("files/../../escaped.txt")
        info.size = 3
        copy.addfile(info, io.BytesIO(b"bad"))
    target = scratch_app("target")

    result = backups._invoke(target, "restore", str(evil))

    assert result.exit_code == 1
    assert "不可用" in result.output
    assert not (tmp_path / "escaped.txt").exists()
    # Refused means nothing restored: the same (corrected) archive can be restored into this database afterwards.
    assert backups._row_counts(target) == {}
