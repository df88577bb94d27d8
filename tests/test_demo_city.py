"""`linli demo --city` (backend/demo/city.py): the city-size dataset the soak runs on. Its owners vote on their
compound's two open ballots and pay their bills in the H5 (WeChat), a staff member takes the new work orders; it is
built on PostgreSQL only, and once."""
from __future__ import annotations

import os
from collections.abc import Iterator

import click
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from backend import create_app
from backend.config import normalize_database_url
from backend.demo.city import OWNER_PREFIX, STAFF_PREFIX, build_city, load_city
from backend.domain.consultations import Step
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import (
    BallotOption,
    BallotRoll,
    Bill,
    Compound,
    Membership,
    Topic,
    User,
    Vote,
    WeChatAccount,
)
from backend.services.auth import issue_tokens
from backend.services.identity import hash_password
from backend.shared.clock import utcnow

COMPOUNDS = 3


@pytest.fixture
def city_app(app) -> Iterator:
    """An app on a database of its own, copied from the suite's migrated template: the city commits and runs
    VACUUM, which the per-test transaction cannot hold."""
    configured = make_url(normalize_database_url(os.environ["LINLI_TEST_DATABASE_URL"]))
    scratch = f"{configured.database}_city_{os.getpid()}"
    admin = create_engine(configured, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{scratch}" TEMPLATE "{configured.database}_template"'))
    city = create_app({**{key: app.config[key] for key in ("TESTING", "LINLI_REDIS_URL", "LINLI_PUBLIC_URL")},
                       "SQLALCHEMY_DATABASE_URI": configured.set(database=scratch).render_as_string(False)})
    try:
        yield city
    finally:
        with city.app_context():
            db.session.remove()
            db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


def _owner_of(household_id: int) -> User:
    return db.session.scalar(select(User).where(User.username == f"{OWNER_PREFIX}{household_id}"))


@pytest.mark.postgresql
def test_city_owners_vote_on_two_open_ballots_and_pay_in_wechat(city_app):
    client = city_app.test_client()
    with city_app.app_context():
        city = build_city(utcnow(), hash_password("city-test"), compounds=COMPOUNDS)
        assert (city.compounds, city.households, city.owners, city.ballots) == (3, 300, 300, 6)
        assert city.bills == 300 * 12
        compound = db.session.scalar(select(Compound).where(Compound.code == "city1"))
        topics = db.session.scalars(select(Topic).where(Topic.compound_id == compound.id).order_by(Topic.id)).all()
        assert [topic.step for topic in topics] == [Step.VOTING, Step.VOTING]
        assert all(topic.ballot_opened_at < utcnow() < topic.ballot_closes_at for topic in topics)
        staff = db.session.scalars(select(Membership.user_id).where(
            Membership.compound_id == compound.id, Membership.role == Role.STAFF)).all()
        assert [db.session.get(User, user_id).username for user_id in staff] == [f"{STAFF_PREFIX}{compound.id}"]

        topic = topics[0]
        roll = db.session.execute(select(BallotRoll.household_id, BallotRoll.owner_key)
                                  .where(BallotRoll.topic_id == topic.id)).all()
        assert len(roll) == 100
        household_id = roll[0].household_id
        owner = _owner_of(household_id)
        assert roll[0].owner_key == f"u:{owner.id}"
        assert db.session.scalar(select(func.count()).where(WeChatAccount.user_id == owner.id)) == 1
        against = db.session.scalar(select(BallotOption.id).where(BallotOption.topic_id == topic.id,
                                                                  BallotOption.label == "不同意"))
        unpaid = db.session.scalar(select(Bill.id).where(Bill.household_id == household_id, Bill.status == "unpaid")
                                   .order_by(Bill.id).limit(1))
        headers = {"Authorization": f"Bearer {issue_tokens(owner)[0]}"}
        topic_id = topic.id

    voted = client.put(f"/api/v1/topics/{topic_id}/vote", json={"option_id": against, "household_id": household_id},
                       headers=headers)
    assert voted.status_code == 200, voted.json
    paying = client.post(f"/api/v1/bills/{unpaid}/payments", headers=headers)
    assert paying.status_code == 201, paying.json
    assert paying.json["order"]["lines"][0]["bill_id"] == unpaid

    with city_app.app_context():
        assert db.session.scalar(select(Vote.option_id).where(Vote.topic_id == topic_id,
                                                              Vote.household_id == household_id)) == against
        assert load_city() == "压测市已存在，跳过"
        assert db.session.scalar(select(func.count()).select_from(Compound).where(Compound.code.like("city%"))) == 3


@pytest.mark.once
def test_city_is_refused_on_sqlite(app, tmp_path):
    sqlite = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'city.db'}",
                         "LINLI_REDIS_URL": app.config["LINLI_REDIS_URL"]})
    with sqlite.app_context(), pytest.raises(click.ClickException, match="PostgreSQL"):
        load_city()
