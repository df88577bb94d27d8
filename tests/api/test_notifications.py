"""My inbox through the API: listing, the unread filter, pages, marking read, push settings per kind; and
the binding decisions and requests reaching the right inboxes through a real worker on real Redis."""
from __future__ import annotations

from datetime import timedelta

import pytest
from rq import Queue, SimpleWorker

from backend.demo import factories
from backend.domain.notifications import (
    BINDING_DECISION,
    BINDING_REVIEW,
    FEE_BILL,
    KINDS,
    SURVEY_REMINDER,
    VOTE_RECEIPT,
    VOTE_REMINDER,
    WORK_ORDER_ASSIGNED,
    Urgency,
    receivable_kinds,
)
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import BindingRequest, Delivery, Household, Notification
from backend.services.auth import issue_tokens
from backend.services.notifications import notify
from backend.services.qr import make_entry_token
from backend.services.queueing import QUEUES, push_committed_jobs
from backend.services.surveys.campaigns import CampaignDraft, appoint_evaluator, create_campaign
from backend.shared.clock import utcnow
from tests.support import assert_error_shape, buildings_of, first_household, link_wechat

ITEM_FIELDS = {"id", "kind", "kind_label", "title", "body", "link", "urgency", "created_at", "read_at"}


def bearer_for(user) -> dict[str, str]:
    """A bearer header minted as /auth/password mints it, without paying its deliberate argon2 cost."""
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"}


def burst(app) -> None:
    """Run every queued job in this process (the test's app context is the job's)."""
    connection = app.extensions["linli_redis"]
    SimpleWorker([Queue(name, connection=connection) for name in QUEUES], connection=connection).work(
        burst=True, logging_level="WARNING"
    )


def send(app, users, *titles: str, urgency: Urgency = Urgency.NORMAL, kind: str = BINDING_DECISION) -> None:
    """notify() each title to `users` as a service would, commit, and let a worker write the inbox rows."""
    for title in titles:
        notify([user.id for user in users], kind, title, f"{title}的内容", link="/h5/", urgency=urgency,
               dedupe_key=f"test-{title}")
    db.session.commit()
    push_committed_jobs()
    burst(app)


def inbox(client, user, **query) -> dict:
    response = client.get("/api/v1/me/notifications", headers=bearer_for(user), query_string=query)
    assert response.status_code == 200, response.json
    return response.json


def inbox_rows(user) -> list[Notification]:
    return list(db.session.scalars(db.select(Notification).where(Notification.user_id == user.id)))


@pytest.fixture
def resident(make_user):
    return make_user()


# ---- the inbox ---------------------------------------------------------------------------------------


def test_inbox_lists_only_my_notifications_newest_first(app, client, resident, make_user):
    neighbour = make_user()
    send(app, [resident, neighbour], "停水通知", "电梯检修")
    send(app, [neighbour], "只给邻居")
    send(app, [resident], "缴费提醒", urgency=Urgency.URGENT)

    body = inbox(client, resident)

    assert [item["title"] for item in body["items"]] == ["缴费提醒", "电梯检修", "停水通知"]
    assert (body["total"], body["page"], body["page_size"]) == (3, 1, 20)
    newest = body["items"][0]
    assert set(newest) == ITEM_FIELDS
    assert newest["urgency"] == "urgent" and newest["kind"] == BINDING_DECISION
    assert (newest["body"], newest["link"], newest["read_at"]) == ("缴费提醒的内容", "/h5/", None)
    assert body["items"][1]["urgency"] == "normal"


def test_unread_filter_leaves_out_what_i_have_read(app, client, resident):
    send(app, [resident], "一", "二", "三")
    second = inbox(client, resident)["items"][1]
    client.post(f"/api/v1/me/notifications/{second['id']}/read", headers=bearer_for(resident))

    unread = inbox(client, resident, unread="true")
    everything = inbox(client, resident, unread="false")

    assert [item["title"] for item in unread["items"]] == ["三", "一"]
    assert unread["total"] == 2
    assert everything["total"] == 3


def test_inbox_pages_through_older_notifications(app, client, resident):
    send(app, [resident], *(f"通知{n}" for n in range(1, 6)))

    pages = [inbox(client, resident, page=number, page_size=2) for number in (1, 2, 3)]

    assert [[item["title"] for item in page["items"]] for page in pages] == [
        ["通知5", "通知4"], ["通知3", "通知2"], ["通知1"],
    ]
    assert {page["total"] for page in pages} == {5}
    assert inbox(client, resident, page=4, page_size=2)["items"] == []


@pytest.mark.parametrize("query", [{"page": 0}, {"page": 10_001}, {"page_size": 101}, {"unread": "maybe"}])
def test_bad_list_queries_are_refused_with_the_error_shape(client, resident, query):
    response = client.get("/api/v1/me/notifications", headers=bearer_for(resident), query_string=query)
    assert_error_shape(response, 422)


def test_marking_read_returns_the_item_and_keeps_the_first_read_time(app, client, resident):
    send(app, [resident], "停水通知")
    notification_id = inbox(client, resident)["items"][0]["id"]

    first = client.post(f"/api/v1/me/notifications/{notification_id}/read", headers=bearer_for(resident))
    again = client.post(f"/api/v1/me/notifications/{notification_id}/read", headers=bearer_for(resident))

    assert first.status_code == 200
    assert set(first.json) == ITEM_FIELDS
    assert (first.json["id"], first.json["title"]) == (notification_id, "停水通知")
    assert first.json["read_at"] is not None
    assert again.json["read_at"] == first.json["read_at"]
    assert inbox(client, resident, unread="true")["total"] == 0


def test_another_persons_notification_is_not_found_and_stays_unread(app, client, resident, make_user):
    neighbour = make_user()
    send(app, [neighbour], "邻居的通知")
    theirs = inbox(client, neighbour)["items"][0]["id"]

    response = client.post(f"/api/v1/me/notifications/{theirs}/read", headers=bearer_for(resident))

    assert_error_shape(response, 404)
    assert inbox(client, neighbour, unread="true")["total"] == 1


@pytest.mark.parametrize("notification_id", ["2147483647", "99999999999999", "0", "abc"])
def test_unknown_or_out_of_range_ids_are_not_found(client, resident, notification_id):
    response = client.post(f"/api/v1/me/notifications/{notification_id}/read", headers=bearer_for(resident))
    assert_error_shape(response, 404)


def test_read_all_marks_only_my_notifications_read(app, client, resident, make_user):
    neighbour = make_user()
    send(app, [resident, neighbour], "停水通知", "电梯检修")

    response = client.post("/api/v1/me/notifications/read-all", headers=bearer_for(resident))

    assert response.status_code == 204
    assert response.get_data() == b""
    assert inbox(client, resident, unread="true")["total"] == 0
    assert all(item["read_at"] for item in inbox(client, resident)["items"])
    assert inbox(client, neighbour, unread="true")["total"] == 2


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/me/notifications"),
        ("post", "/api/v1/me/notifications/1/read"),
        ("post", "/api/v1/me/notifications/read-all"),
        ("get", "/api/v1/me/notification-preferences"),
        ("put", "/api/v1/me/notification-preferences/binding_decision"),
    ],
)
def test_the_inbox_needs_sign_in(client, method, path):
    response = getattr(client, method)(path, json={"enabled": False} if method == "put" else None)
    assert_error_shape(response, 401)


# ---- push settings ---------------------------------------------------------------------------------


def preferences(client, user) -> list[dict]:
    response = client.get("/api/v1/me/notification-preferences", headers=bearer_for(user))
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_every_kind_i_can_receive_is_on_until_turned_off(client, make_compound, make_user):
    compound = make_compound()
    owner = make_user(Role.OWNER, compound, household=first_household(compound))

    assert preferences(client, owner) == [
        {"kind": kind, "label": KINDS[kind], "enabled": True, "actions": ["turn_off"]}
        for kind in receivable_kinds([Role.OWNER])
    ]


def test_the_settings_list_only_the_kinds_my_roles_receive(client, resident, make_compound, make_user):
    compound, elsewhere = make_compound(), make_compound()
    homes = db.session.scalars(db.select(Household.id).where(Household.compound_id == compound.id)
                               .order_by(Household.id)).all()
    owner = make_user(Role.OWNER, compound, household=db.session.get(Household, homes[0]))
    staff, committee = make_user(Role.STAFF, compound), make_user(Role.COMMITTEE, compound)
    # Roles in two compounds: the switches of both.
    both = make_user(Role.OWNER, compound, household=db.session.get(Household, homes[1]))
    factories.grant_role(both, Role.STAFF, compound=elsewhere)
    db.session.commit()
    # Appointed to a campaign by phone: an evaluator holds no membership.
    now = utcnow()
    survey = create_campaign(CampaignDraft(title="物业服务满意度测评", opens_at=now, closes_at=now + timedelta(days=7),
                                           compound_id=compound.id), committee.id)
    evaluator = appoint_evaluator(survey.id, committee.id, "13900001234", "王测评")

    kinds = {person.id: [item["kind"] for item in preferences(client, person)]
             for person in (resident, owner, staff, both, evaluator)}

    assert kinds[resident.id] == [BINDING_DECISION]
    assert WORK_ORDER_ASSIGNED not in kinds[owner.id] and BINDING_REVIEW not in kinds[owner.id]
    assert {VOTE_REMINDER, VOTE_RECEIPT, FEE_BILL} <= set(kinds[owner.id])
    assert {WORK_ORDER_ASSIGNED, BINDING_REVIEW} <= set(kinds[staff.id]) and FEE_BILL not in kinds[staff.id]
    assert set(kinds[both.id]) == set(kinds[owner.id]) | set(kinds[staff.id])
    assert kinds[evaluator.id] == [BINDING_DECISION, SURVEY_REMINDER]


def test_turning_a_kind_off_and_on_again(client, make_compound, make_user):
    compound = make_compound()
    reviewer, other_reviewer = make_user(Role.COMMITTEE, compound), make_user(Role.COMMITTEE, compound)
    url = f"/api/v1/me/notification-preferences/{BINDING_REVIEW}"

    off = client.put(url, json={"enabled": False}, headers=bearer_for(reviewer))
    listed = preferences(client, reviewer)
    someone_else = preferences(client, other_reviewer)
    on = client.put(url, json={"enabled": True}, headers=bearer_for(reviewer))

    assert off.status_code == 200
    assert off.json == {"kind": BINDING_REVIEW, "label": KINDS[BINDING_REVIEW], "enabled": False, "actions": ["turn_on"]}
    assert {item["kind"]: item["enabled"] for item in listed} == {
        kind: kind != BINDING_REVIEW for kind in receivable_kinds([Role.COMMITTEE])}
    assert all(item["enabled"] for item in someone_else)
    assert on.json["enabled"] is True


def test_a_kind_not_listed_for_me_can_still_be_turned_off(client, resident):
    """A switch set while holding a role keeps working once the role is given up (nothing is refused)."""
    response = client.put(f"/api/v1/me/notification-preferences/{WORK_ORDER_ASSIGNED}", json={"enabled": False},
                          headers=bearer_for(resident))

    assert response.status_code == 200 and response.json["enabled"] is False
    assert [item["kind"] for item in preferences(client, resident)] == [BINDING_DECISION]


def test_an_unknown_kind_is_not_found(client, resident):
    response = client.put("/api/v1/me/notification-preferences/lottery", json={"enabled": False},
                          headers=bearer_for(resident))
    assert_error_shape(response, 404)


@pytest.mark.parametrize("body", [{}, {"enabled": "perhaps"}, {"enabled": None}, [True]])
def test_a_bad_preference_body_is_refused_with_the_error_shape(client, resident, body):
    response = client.put(f"/api/v1/me/notification-preferences/{BINDING_DECISION}", json=body,
                          headers=bearer_for(resident))
    assert_error_shape(response, 422)


# ---- binding decisions and requests reach the right inboxes --------------------------------------------


@pytest.fixture
def compound(make_compound):
    return make_compound(buildings=2, households_per_building=4)


def ask(client, compound, user):
    """POST a binding request for 1栋1单元201室 as a signed-in visitor who scanned the compound's QR code."""
    body = {"building_id": buildings_of(compound)[0].id, "unit": "1", "room": "201", "name": "张三", "relation": "owner"}
    headers = bearer_for(user) | {"X-Entry-Token": make_entry_token(compound)}
    response = client.post(f"/api/v1/compounds/{compound.id}/bindings", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_an_approved_applicant_gets_one_notification_linking_to_the_compound(app, client, compound, resident, make_user):
    reviewer = make_user(Role.COMMITTEE, compound)
    binding_id = ask(client, compound, resident)

    response = client.post(f"/api/v1/bindings/{binding_id}/approve", headers=bearer_for(reviewer))
    assert response.status_code == 200
    burst(app)
    burst(app)  # a second worker run (or a replayed job) writes nothing more

    items = inbox(client, resident)["items"]
    assert len(items) == 1
    assert (items[0]["kind"], items[0]["title"], items[0]["link"]) == (
        BINDING_DECISION, "您的房屋绑定申请已通过：1栋1单元201室", f"/h5/c/{compound.code}",
    )
    assert items[0]["body"] == "您已认证为1栋1单元201室的业主，现在可以使用小区的全部服务。"
    assert len(inbox_rows(resident)) == 1


def test_a_rejected_applicant_reads_the_reason(app, client, compound, resident, make_user):
    reviewer = make_user(Role.PARTY_SECRETARY, compound)
    binding_id = ask(client, compound, resident)

    response = client.post(f"/api/v1/bindings/{binding_id}/reject", json={"reason": "房号与产权证不符"},
                           headers=bearer_for(reviewer))
    assert response.status_code == 200
    burst(app)

    items = inbox(client, resident)["items"]
    assert [item["title"] for item in items] == ["您的房屋绑定申请未通过：1栋1单元201室"]
    assert items[0]["body"] == "未通过的原因：房号与产权证不符。核实后可以重新申请。"
    assert items[0]["link"] == f"/h5/c/{compound.code}"


def test_a_binding_request_reaches_each_reviewer_of_that_compound_once(app, client, compound, resident, make_user,
                                                                    make_compound):
    reviewers = [make_user(role, compound) for role in (Role.COMMITTEE, Role.PARTY_SECRETARY, Role.STAFF)]
    other = make_compound()
    elsewhere = [make_user(role, other) for role in (Role.COMMITTEE, Role.PARTY_SECRETARY, Role.STAFF)]
    # A manager does not review bindings; an owner of the same compound is no reviewer either.
    neighbours_home = db.session.scalar(
        db.select(Household).where(Household.building_id == buildings_of(compound)[1].id).limit(1)
    )
    bystanders = [make_user(Role.MANAGER, compound), make_user(Role.OWNER, compound, household=neighbours_home)]

    binding_id = ask(client, compound, resident)
    burst(app)

    for reviewer in reviewers:
        items = inbox(client, reviewer)["items"]
        assert [(item["kind"], item["title"]) for item in items] == [
            (BINDING_REVIEW, "有新的房屋绑定申请待审核：1栋1单元201室")]
        assert items[0]["link"] == f"/h5/c/{compound.code}/bindings"
        assert items[0]["body"] == "张三申请以业主身份绑定1栋1单元201室，请核实后通过或驳回。"
    for person in [*elsewhere, *bystanders, resident]:
        assert inbox_rows(person) == [], person.username
    assert db.session.get(BindingRequest, binding_id).status == "pending"


@pytest.mark.parametrize(("enabled", "pushes"), [(True, ["wechat"]), (False, [])])
def test_a_kind_turned_off_still_reaches_the_inbox_but_is_not_pushed(app, client, compound, resident, make_user,
                                                                     enabled, pushes):
    link_wechat(resident, "openid-resident")
    client.put(f"/api/v1/me/notification-preferences/{BINDING_DECISION}", json={"enabled": enabled},
               headers=bearer_for(resident))
    reviewer = make_user(Role.COMMITTEE, compound)
    binding_id = ask(client, compound, resident)

    client.post(f"/api/v1/bindings/{binding_id}/approve", headers=bearer_for(reviewer))
    burst(app)

    rows = inbox_rows(resident)
    assert len(rows) == 1
    deliveries = db.session.scalars(db.select(Delivery.channel).where(Delivery.notification_id == rows[0].id)).all()
    assert deliveries == pushes
