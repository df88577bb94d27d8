"""The receipt of a household's satisfaction sheet (满意度测评) through the API, a real worker and Redis: the person
who answered is told that the household's sheet was recorded, with a link to the household's receipt page and
none of the answers; a changed sheet's earlier receipt is withdrawn; nobody else hears of it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from rq import Queue, SimpleWorker

from backend.domain.notifications import SURVEY_RECEIPT
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Household, User
from backend.services.auth import issue_tokens
from backend.services.queueing import QUEUES
from backend.shared.clock import utcnow

TITLE = "2026年物业服务满意度测评"


def headers(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"}


def work(app) -> None:
    connection = app.extensions["linli_redis"]
    SimpleWorker([Queue(name, connection=connection) for name in QUEUES], connection=connection).work(
        burst=True, logging_level="WARNING")


def receipts(client, user: User) -> list[dict]:
    response = client.get("/api/v1/me/notifications", headers=headers(user))
    assert response.status_code == 200, response.json
    return [item for item in response.json["items"] if item["kind"] == SURVEY_RECEIPT]


@pytest.fixture
def campaign(client, make_compound, make_user):
    compound = make_compound(buildings=1, households_per_building=3)
    homes = list(db.session.scalars(
        db.select(Household).where(Household.compound_id == compound.id).order_by(Household.id)))
    committee = make_user(Role.COMMITTEE, compound)
    now = utcnow()
    response = client.post("/api/v1/surveys", headers=headers(committee), json={
        "title": TITLE, "compound_id": compound.id, "opens_at": (now - timedelta(hours=1)).isoformat(),
        "closes_at": (now + timedelta(days=7)).isoformat()})
    assert response.status_code == 201, response.json
    people = {
        "owner": make_user(Role.OWNER, compound, household=homes[0]),
        "co_owner": make_user(Role.OWNER, compound, household=homes[0]),
        "neighbour": make_user(Role.OWNER, compound, household=homes[1]),
        "committee": committee,
    }
    return response.json, homes, people


def answer(client, survey: dict, user: User, value: int, comment: str = "") -> dict:
    answers = [{"question_id": q["id"], "value": value} for q in survey["questions"] if q["kind"] == "dimension"]
    answers += [{"question_id": q["id"], "text": comment} for q in survey["questions"] if q["kind"] == "text"
                and comment]
    response = client.put(f"/api/v1/surveys/{survey['id']}/response", headers=headers(user),
                          json={"answers": answers})
    assert response.status_code == 200, response.json
    return response.json


def test_the_person_who_answered_gets_a_receipt_linking_to_the_households_receipt_page(app, client, campaign):
    survey, homes, people = campaign

    answer(client, survey, people["owner"], 2, comment="楼道灯坏了没人修")
    work(app)

    [receipt] = receipts(client, people["owner"])
    assert receipt["title"] == f"您已提交“{TITLE}”的满意度测评"
    assert receipt["body"].startswith("1栋1单元101室的答卷已于") and "以最后一次提交为准" in receipt["body"]
    # The answers are the household's alone: the receipt names none of them.
    for private in ("不满意", "楼道灯"):
        assert private not in receipt["title"] and private not in receipt["body"]
    assert receipt["link"] == f"/h5/surveys/{survey['id']}/receipt?household_id={homes[0].id}"
    for other in ("co_owner", "neighbour", "committee"):
        assert receipts(client, people[other]) == [], other


def test_a_changed_sheet_gets_a_new_receipt_and_the_old_one_is_withdrawn(app, client, campaign):
    survey, _, people = campaign
    answer(client, survey, people["owner"], 3)
    work(app)
    # The household's other owner changes the household's sheet: the receipt is theirs now.
    answer(client, survey, people["co_owner"], 5)
    work(app)

    assert receipts(client, people["owner"]) == []
    [receipt] = receipts(client, people["co_owner"])
    assert receipt["title"] == f"您已提交“{TITLE}”的满意度测评"
