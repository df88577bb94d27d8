"""What one vote costs the database, counted so it cannot silently grow: after the sign-in check, the upsert
(every check folded into it, the receipt's labels returned by it) and the cast row, then the commit; the
notices it asks for are a job's (told once, and told by the sweep when that job was lost)."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from rq import Queue, SimpleWorker
from sqlalchemy import select

from backend.domain.notifications import VOTE_RECEIPT
from backend.extensions import db
from backend.jobs.consultations import tell_untold_votes
from backend.models import Notice, Notification, TopicFollower, Vote
from backend.policy import roles_in_compound
from backend.services import consultations as service
from backend.services.auth import issue_tokens
from backend.services.queueing import QUEUES, push_committed_jobs
from backend.shared.clock import utcnow
from tests import ballots

ballot = ballots.ballot


def work(app) -> None:
    connection = app.extensions["linli_redis"]
    push_committed_jobs()
    SimpleWorker([Queue(name, connection=connection) for name in QUEUES], connection=connection).work(
        burst=True, logging_level="WARNING")


def vote_statements(client, count_queries, topic_id: int, headers: dict, household_id: int, option_id: int):
    db.session.expire_all()
    with count_queries() as statements:
        response = client.put(f"/api/v1/topics/{topic_id}/vote", headers=headers,
                              json={"household_id": household_id, "option_id": option_id})
    assert response.status_code == 200, response.get_json()
    first = next(n for n, statement in enumerate(statements) if statement.lstrip().startswith("INSERT INTO votes"))
    return statements[:first], statements[first:], response.get_json()


def test_a_vote_and_a_change_each_run_the_upsert_and_the_cast_row_and_nothing_more(app, client, count_queries,
                                                                                   ballot):
    topic_id, options, owner, home = ballot.topic_id, ballot.options, ballot.owner, ballot.homes[0]
    headers = {"Authorization": f"Bearer {issue_tokens(owner)[0]}"}
    for label, casts in (("同意", 1), ("不同意", 2)):
        before, own, receipt = vote_statements(client, count_queries, topic_id, headers, home.id, options[label])
        # Before the vote's own statements only the sign-in check runs (the account, its revocations).
        assert len(before) <= 1, "\n".join(before)
        assert [statement.split("(")[0].strip() for statement in own] == [
            "INSERT INTO votes", "INSERT INTO vote_casts"], "\n".join(own)
        assert (receipt["option_label"], receipt["household_label"], receipt["casts"]) == (label, "1栋1单元101室",
                                                                                           casts)
    work(app)
    [shown] = db.session.scalars(select(Notice.body).join(Notification, Notification.notice_id == Notice.id).where(
        Notification.user_id == owner.id, Notice.kind == VOTE_RECEIPT, Notification.withdrawn_at.is_(None)))
    assert "表决：不同意。" in shown


def test_the_refusals_keep_their_answers_when_the_upsert_records_nothing(client, ballot, make_user):
    topic_id, options, owner, home = ballot.topic_id, ballot.options, ballot.owner, ballot.homes[0]
    headers = {"Authorization": f"Bearer {issue_tokens(owner)[0]}"}

    def put(topic: int, household_id: int | None, option_id: int, who=headers):
        response = client.put(f"/api/v1/topics/{topic}/vote", headers=who,
                              json={"household_id": household_id, "option_id": option_id})
        return response.status_code, response.get_json().get("message")

    assert put(topic_id, home.id, 999_999) == (422, "没有这个表决选项")
    assert put(999_999, home.id, options["同意"])[0] == 404
    assert put(topic_id, home.id + 1, options["同意"]) == (403, "只有这户已认证的业主可以表决")
    assert put(topic_id, None, options["同意"])[0] == 200
    with time_machine.travel(utcnow() + timedelta(days=7), tick=False):
        later = {"Authorization": f"Bearer {issue_tokens(owner)[0]}"}
        assert put(topic_id, home.id, options["同意"], later) == (409, "表决已截止")


def test_a_vote_whose_job_was_lost_is_told_by_the_sweep_once(app, ballot):
    topic_id, options, owner, home = ballot.topic_id, ballot.options, ballot.owner, ballot.homes[0]
    person = service.participant(owner.id, home.compound_id, roles_in_compound(owner.id, home.compound_id))
    service.cast_vote(topic_id, person, home.id, options["同意"])
    # The push after the commit never reached Redis (the process died, or Redis went away).
    db.session.info.pop("linli_pushes_committed")
    assert tell_untold_votes() == 0  # its own job still has its grace minute

    with time_machine.travel(utcnow() + timedelta(minutes=2), tick=False):
        assert tell_untold_votes() == 1
        assert tell_untold_votes() == 0
    assert service.tell_of_vote(topic_id, home.id) is False
    work(app)

    receipts = db.session.scalars(select(Notice.id).where(Notice.kind == VOTE_RECEIPT)).all()
    assert len(receipts) == 1
    assert db.session.scalar(select(Vote.told_casts).where(Vote.topic_id == topic_id)) == 1
    assert owner.id in db.session.scalars(select(TopicFollower.user_id).where(TopicFollower.topic_id == topic_id))
