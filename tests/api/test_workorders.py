"""Work orders through the API: the whole life of an order, refused steps, merging, duplicates, urging,
lists and their filters, categories, figures, rating, and photos."""
from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from PIL import ExifTags, Image

from backend.domain.roles import Role
from backend.extensions import db
from backend.models import AuditEvent, Household, WorkOrderEvent
from backend.services import photos
from backend.services.auth import issue_tokens
from backend.services.workorders import submit_order
from tests import photo_samples as samples
from tests.support import assert_error_shape, buildings_of

pytestmark = pytest.mark.calendar

# A Tuesday 10:00 in Shanghai, mid-month: far from any month or day boundary of the figures.
T0 = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)


def bearer_for(user) -> dict[str, str]:
    """A bearer header minted as /auth/password mints it, without paying its deliberate argon2 cost."""
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"}


@pytest.fixture
def compound(make_compound):
    return make_compound(buildings=2, households_per_building=3)


@pytest.fixture
def households(compound) -> list[Household]:
    return list(
        db.session.scalars(
            db.select(Household).where(Household.compound_id == compound.id).order_by(Household.id)
        )
    )


@pytest.fixture
def resident(make_user, compound, households):
    return make_user(Role.OWNER, compound, household=households[0])


@pytest.fixture
def neighbour(make_user, compound, households):
    """Lives in the same building as `resident`, another household."""
    return make_user(Role.RESIDENT, compound, household=households[1])


@pytest.fixture
def staff(make_user, compound):
    return make_user(Role.STAFF, compound)


@pytest.fixture
def manager(make_user, compound):
    return make_user(Role.MANAGER, compound)


# Each report differs: the same report again within two minutes is a double tap and files once.
_reports = itertools.count(1)


def submit(client, compound, user, **overrides):
    body = {"category": "水电维修", "description": f"厨房水管漏水（{next(_reports)}）", "urgency": "normal"} | overrides
    if not {"household_id", "building_id", "location_text"} & overrides.keys():
        body["location_text"] = "3栋北侧路灯"
    return client.post(f"/api/v1/compounds/{compound.id}/work-orders", json=body, headers=bearer_for(user))


def submitted(client, compound, user, **overrides) -> dict:
    response = submit(client, compound, user, **overrides)
    assert response.status_code == 201, response.json
    return response.json


def act(client, order_id: int, user, action: str, **body):
    path = f"/api/v1/work-orders/{order_id}/transitions"
    return client.post(path, json={"action": action, **body}, headers=bearer_for(user))


def acted(client, order_id: int, user, action: str, **body) -> dict:
    response = act(client, order_id, user, action, **body)
    assert response.status_code == 200, response.json
    return response.json


def upload(client, order_id: int, user, sample: samples.Sample):
    return client.post(
        f"/api/v1/work-orders/{order_id}/photos", data={"photo": sample.upload()},
        headers=bearer_for(user), content_type="multipart/form-data",
    )


def detail(client, order_id: int, user) -> dict:
    response = client.get(f"/api/v1/work-orders/{order_id}", headers=bearer_for(user))
    assert response.status_code == 200, response.json
    return response.json


def in_progress(client, compound, resident, staff, **overrides) -> dict:
    order = submitted(client, compound, resident, **overrides)
    acted(client, order["id"], staff, "accept")
    return acted(client, order["id"], staff, "start")


def closed(client, compound, resident, staff) -> dict:
    order = in_progress(client, compound, resident, staff)
    return acted(client, order["id"], staff, "close", note="已更换水管")


# ---- the whole life of an order ------------------------------------------------------------------------


def test_order_goes_from_report_to_rated_and_answered(client, compound, households, resident, staff, manager):
    order = submitted(client, compound, resident, household_id=households[0].id, location_text="厨房")
    assert (order["status"], order["status_label"], order["mine"]) == ("submitted", "待受理", True)
    assert order["place"] == "1栋 1单元 101室 · 厨房" and order["overdue"] is False
    assert order["actions"] == ["withdraw"]
    assert order["timeline"][0]["action"] == "submit" and order["timeline"][0]["mine"] is True
    order_id = order["id"]

    as_staff = detail(client, order_id, staff)
    assert set(as_staff["actions"]) == {"accept", "reject", "merge"}
    accepted = acted(client, order_id, staff, "accept")
    assert (accepted["status"], accepted["assignee_id"], accepted["assignee_name"]) == (
        "accepted", staff.id, staff.display_name,
    )
    assert acted(client, order_id, staff, "start")["status"] == "in_progress"

    after = upload(client, order_id, staff, samples.camera_jpeg())
    assert after.status_code == 201, after.json
    assert after.json["url"] == f"/api/v1/work-orders/{order_id}/photos/{after.json['id']}"
    assert detail(client, order_id, staff)["pending_photos"] == [after.json]
    first_close = acted(client, order_id, staff, "close", note="已更换水管", photo_ids=[after.json["id"]])
    assert first_close["status"] == "closed" and first_close["pending_photos"] == []
    assert first_close["timeline"][-1]["photos"] == [after.json]

    as_resident = detail(client, order_id, resident)
    assert as_resident["awaiting_confirmation"] is True
    assert set(as_resident["actions"]) == {"confirm", "dispute"}
    assert client.get(after.json["url"], headers=bearer_for(resident)).status_code == 200

    disputed = acted(client, order_id, resident, "dispute", note="还在漏")
    assert (disputed["status"], disputed["dispute_count"], disputed["closed_at"]) == ("in_progress", 1, None)
    acted(client, order_id, staff, "close", note="换了阀门")
    rating = {"stars": 5, "comment": "很快", "tags": ["及时"]}
    confirmed = acted(client, order_id, resident, "confirm", rating=rating)
    assert confirmed["confirmed_at"] and confirmed["awaiting_confirmation"] is False
    assert confirmed["rating"]["stars"] == 5 and confirmed["rating"]["tags"] == ["及时"]
    assert confirmed["actions"] == [] and confirmed["can_rate"] is False

    assert detail(client, order_id, manager)["can_reply"] is True
    reply = client.post(f"/api/v1/work-orders/{order_id}/rating/reply", json={"reply": " 感谢支持 "},
                        headers=bearer_for(manager))
    assert reply.status_code == 200, reply.json
    final = detail(client, order_id, resident)
    assert final["rating"]["reply"] == "感谢支持" and final["rating"]["replied_at"]
    assert [entry["action"] for entry in final["timeline"]] == [
        "submit", "accept", "start", "close", "dispute", "close", "confirm", "rate",
    ]
    staff_entries = [entry for entry in final["timeline"] if entry["action"] in ("accept", "start", "close")]
    assert {(entry["actor_name"], entry["actor_title"]) for entry in staff_entries} == {
        (staff.display_name, "物业人员")
    }
    audit = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "work_order.reply")).all()
    assert [row.target_id for row in audit] == [order_id]


def test_residents_never_see_other_residents_names(client, compound, households, resident, neighbour, staff):
    order = submitted(client, compound, resident, building_id=households[0].building_id, location_text="楼道灯")
    client.post(f"/api/v1/work-orders/{order['id']}/follow", headers=bearer_for(neighbour))
    seen_by_neighbour = detail(client, order["id"], neighbour)
    assert seen_by_neighbour["submitter_name"] == "居民"
    submit_entry, follow_entry = seen_by_neighbour["timeline"]
    assert (submit_entry["actor_name"], submit_entry["mine"]) == ("居民", False)
    assert (follow_entry["actor_name"], follow_entry["mine"]) == (neighbour.display_name, True)
    assert resident.display_name not in str(seen_by_neighbour)
    seen_by_staff = detail(client, order["id"], staff)
    assert seen_by_staff["submitter_name"] == resident.display_name
    assert seen_by_staff["timeline"][1]["actor_name"] == neighbour.display_name


# ---- refused steps ------------------------------------------------------------------------------------


def test_resident_cannot_take_staff_steps(client, compound, resident):
    order = submitted(client, compound, resident)
    for action in ("accept", "reject", "merge", "assign"):
        assert_error_shape(act(client, order["id"], resident, action, note="x"), 403)


def test_staff_cannot_withdraw_or_confirm_for_the_resident(client, compound, resident, staff):
    order = submitted(client, compound, resident)
    assert_error_shape(act(client, order["id"], staff, "withdraw"), 403)
    assert_error_shape(act(client, order["id"], staff, "confirm"), 409)


def test_accepting_twice_conflicts(client, compound, resident, staff, make_user):
    order = submitted(client, compound, resident)
    acted(client, order["id"], staff, "accept")
    response = act(client, order["id"], make_user(Role.STAFF, compound), "accept")
    assert_error_shape(response, 409)
    assert "已受理" in response.json["message"]


def test_steps_out_of_order_conflict(client, compound, resident, staff):
    order = submitted(client, compound, resident)
    assert_error_shape(act(client, order["id"], staff, "start"), 409)
    assert_error_shape(act(client, order["id"], staff, "close", note="好了"), 409)
    assert_error_shape(act(client, order["id"], resident, "dispute", note="没修"), 409)


def test_a_double_tap_files_one_order_and_the_same_report_later_another(client, compound, resident):
    body = {"category": "公共设施", "description": "楼道灯不亮", "location_text": "3楼", "urgency": "normal"}
    url = f"/api/v1/compounds/{compound.id}/work-orders"
    with time_machine.travel(datetime(2026, 11, 3, 2, 0, tzinfo=UTC), tick=False):
        first = client.post(url, json=body, headers=bearer_for(resident))
        again = client.post(url, json=body, headers=bearer_for(resident))
        other_spot = client.post(url, json=body | {"location_text": "5楼"}, headers=bearer_for(resident))
    with time_machine.travel(datetime(2026, 11, 3, 2, 2, 1, tzinfo=UTC), tick=False):
        later = client.post(url, json=body, headers=bearer_for(resident))

    assert first.status_code == again.status_code == 201
    assert again.json["id"] == first.json["id"]
    assert len({first.json["id"], other_spot.json["id"], later.json["id"]}) == 3


def test_resident_withdraws_before_accept_only(client, compound, resident, staff):
    order = submitted(client, compound, resident)
    withdrawn = acted(client, order["id"], resident, "withdraw")
    assert (withdrawn["status"], withdrawn["status_label"], withdrawn["actions"]) == ("withdrawn", "已撤回", [])
    assert_error_shape(act(client, order["id"], staff, "accept"), 409)

    accepted = submitted(client, compound, resident)
    acted(client, accepted["id"], staff, "accept")
    assert_error_shape(act(client, accepted["id"], resident, "withdraw"), 409)


def test_reject_needs_a_reason_the_resident_reads(client, compound, resident, staff):
    order = submitted(client, compound, resident)
    assert_error_shape(act(client, order["id"], staff, "reject"), 422)
    assert_error_shape(act(client, order["id"], staff, "reject", note="   "), 422)
    acted(client, order["id"], staff, "reject", note="属于业主自用部分，请自行维修")
    seen = detail(client, order["id"], resident)
    assert (seen["status"], seen["reject_reason"]) == ("rejected", "属于业主自用部分，请自行维修")
    assert seen["timeline"][-1]["note"] == "属于业主自用部分，请自行维修"


def test_a_rejection_reason_over_200_characters_is_refused_not_cut(client, compound, resident, staff):
    order = submitted(client, compound, resident)
    assert_error_shape(act(client, order["id"], staff, "reject", note="原" * 201), 422)
    assert detail(client, order["id"], resident)["status"] == "submitted"


def test_close_needs_a_note(client, compound, resident, staff):
    order = in_progress(client, compound, resident, staff)
    assert_error_shape(act(client, order["id"], staff, "close"), 422)


def test_rating_is_only_sent_with_confirm(client, compound, resident, staff):
    order = closed(client, compound, resident, staff)
    response = act(client, order["id"], resident, "dispute", note="没修好", rating={"stars": 1})
    assert_error_shape(response, 422)
    assert "rating" in response.json["errors"]["json"]


@pytest.mark.parametrize(
    "body",
    [
        {"action": "fly"},
        {"action": "accept", "note": "x" * 501},
        {"action": "accept", "photo_ids": [1.5]},
        {"action": "assign", "assignee_id": "7"},
        {"action": "confirm", "rating": {"stars": 6}},
        {"action": "confirm", "rating": {"stars": 5, "tags": ["好评返现"]}},
    ],
)
def test_malformed_transitions_are_422(client, compound, resident, staff, body):
    order = submitted(client, compound, resident)
    path = f"/api/v1/work-orders/{order['id']}/transitions"
    response = client.post(path, json=body, headers=bearer_for(staff))
    assert_error_shape(response, 422)


def test_someone_elses_pending_photo_cannot_be_attached(client, compound, resident, staff, make_user):
    order = in_progress(client, compound, resident, staff)
    manager = make_user(Role.MANAGER, compound)
    photo = upload(client, order["id"], manager, samples.camera_jpeg()).json
    assert_error_shape(act(client, order["id"], staff, "close", note="好了", photo_ids=[photo["id"]]), 422)
    assert detail(client, order["id"], staff)["status"] == "in_progress"


# ---- assigning and merging ----------------------------------------------------------------------------


def test_manager_assigns_and_only_the_assignee_handles_it(
    client, compound, resident, staff, manager, make_user
):
    other = make_user(Role.STAFF, compound)
    order = submitted(client, compound, resident)
    assert_error_shape(act(client, order["id"], manager, "assign", assignee_id=resident.id), 422)
    assigned = acted(client, order["id"], manager, "assign", assignee_id=other.id)
    assert (assigned["status"], assigned["assignee_id"]) == ("submitted", other.id)
    assert_error_shape(act(client, order["id"], staff, "accept"), 403)
    assert "accept" not in detail(client, order["id"], staff)["actions"]
    assert acted(client, order["id"], other, "accept")["status"] == "accepted"


def test_merge_makes_both_submitters_follow_the_survivor(
    client, compound, households, resident, neighbour, staff
):
    building_id = households[0].building_id
    survivor = submitted(client, compound, resident, category="公共设施", building_id=building_id,
                         location_text="单元门禁")
    duplicate = submitted(client, compound, neighbour, category="公共设施", building_id=building_id,
                          location_text="门禁坏了")
    assert_error_shape(act(client, duplicate["id"], staff, "merge", merge_into_id=duplicate["id"]), 422)
    merged = acted(client, duplicate["id"], staff, "merge", merge_into_id=survivor["id"])
    assert (merged["status"], merged["merged_into_id"]) == ("rejected", survivor["id"])
    assert f"#{survivor['id']}" in merged["reject_reason"]

    seen = detail(client, survivor["id"], neighbour)
    assert seen["following"] is True and seen["mine"] is False and seen["submitter_name"] == "居民"
    listed = client.get(f"/api/v1/compounds/{compound.id}/work-orders", headers=bearer_for(neighbour)).json
    assert {item["id"] for item in listed["items"]} == {survivor["id"], duplicate["id"]}
    # Both hear about the survivor's progress from now on.
    acted(client, survivor["id"], staff, "accept")
    assert detail(client, survivor["id"], resident)["following"] is True


def test_merge_never_opens_one_households_order_to_another(
    client, compound, households, resident, neighbour, staff
):
    """Merging makes the duplicate's followers follow the survivor: a household's own repair may survive only
    a duplicate of the same household, or a neighbour would read it (and a common-area order's joiners too)."""
    at_home = submitted(client, compound, resident, household_id=households[0].id, description="我家卫生间漏水")
    theirs = submitted(client, compound, neighbour, household_id=households[1].id)
    common = submitted(client, compound, neighbour, building_id=households[0].building_id)
    for duplicate in (theirs, common):
        assert_error_shape(act(client, duplicate["id"], staff, "merge", merge_into_id=at_home["id"]), 422)
    response = client.get(f"/api/v1/work-orders/{at_home['id']}", headers=bearer_for(neighbour))
    assert_error_shape(response, 404)
    again = submitted(client, compound, resident, household_id=households[0].id, description="还是漏水")
    assert acted(client, again["id"], staff, "merge", merge_into_id=at_home["id"])["merged_into_id"] == at_home["id"]


def test_a_manager_accepting_leaves_the_order_to_the_staff(client, compound, resident, staff, manager):
    """Only staff handle orders (assign refuses anyone else): a manager's 受理 must not make them its handler and
    take the order out of every staff queue."""
    order = submitted(client, compound, resident)
    accepted = acted(client, order["id"], manager, "accept")
    assert accepted["assignee_id"] is None
    queue = client.get(f"/h5/c/{compound.code}/work-orders/queue", headers=bearer_for(staff))
    assert f'data-order="{order["id"]}"' in queue.get_data(as_text=True)
    assert acted(client, order["id"], staff, "start")["assignee_id"] is None
    assert acted(client, order["id"], staff, "close", note="已修好")["status"] == "closed"


# ---- duplicates and following ----------------------------------------------------------------------------


def test_duplicates_offer_open_orders_at_the_same_place(
    client, compound, households, resident, neighbour, staff
):
    building_id = households[0].building_id
    lamp = submitted(
        client, compound, resident, category="公共设施", building_id=building_id, location_text="楼道灯"
    )
    submitted(client, compound, resident, category="环境卫生", building_id=building_id, location_text="垃圾")
    elsewhere = buildings_of(compound)[1].id
    submitted(client, compound, resident, category="公共设施", building_id=elsewhere, location_text="楼道灯")
    # The resident's own household repair is not a common problem the neighbour may join.
    submitted(client, compound, resident, category="公共设施", household_id=households[0].id)
    url = f"/api/v1/compounds/{compound.id}/work-orders/duplicates"

    found = client.get(url, query_string={"category": "公共设施", "building_id": building_id},
                       headers=bearer_for(neighbour))
    assert found.status_code == 200, found.json
    assert [item["id"] for item in found.json["items"]] == [lamp["id"]]
    assert found.json["items"][0]["place"] == "1栋 公共区域 · 楼道灯"
    assert resident.display_name not in found.get_data(as_text=True)
    # A repair at home is offered only that household's own open orders: not the stairwell's lamp of its building.
    own = client.get(url, query_string={"category": "公共设施", "household_id": households[1].id},
                     headers=bearer_for(neighbour))
    assert own.json["items"] == []
    at_home = client.get(url, query_string={"category": "公共设施", "household_id": households[0].id},
                         headers=bearer_for(resident))
    assert [item["place"] for item in at_home.json["items"]] == ["1栋 1单元 101室"]
    assert client.get(url, query_string={"category": "绿化", "building_id": building_id},
                      headers=bearer_for(neighbour)).json["items"] == []
    # The same answer for staff: a household's repair is never offered as a common problem.
    assert [item["id"] for item in client.get(url, query_string={"category": "公共设施", "building_id": building_id},
                                              headers=bearer_for(staff)).json["items"]] == [lamp["id"]]
    assert_error_shape(client.get(url, query_string={"category": "公共设施", "household_id": households[0].id},
                                  headers=bearer_for(neighbour)), 422)
    assert_error_shape(client.get(url, query_string={"category": "公共设施"}, headers=bearer_for(neighbour)), 422)

    joined = client.post(f"/api/v1/work-orders/{lamp['id']}/follow", headers=bearer_for(neighbour))
    assert joined.status_code == 200, joined.json
    assert joined.json["following"] is True
    listed = client.get(f"/api/v1/compounds/{compound.id}/work-orders", headers=bearer_for(neighbour)).json
    assert [item["id"] for item in listed["items"]] == [lamp["id"]]


def test_another_households_order_cannot_be_joined(client, compound, households, resident, neighbour, staff):
    order = submitted(client, compound, resident, household_id=households[0].id)
    path = f"/api/v1/work-orders/{order['id']}/follow"
    assert_error_shape(client.post(path, headers=bearer_for(neighbour)), 404)
    assert_error_shape(client.post(path, headers=bearer_for(staff)), 403)


def test_a_finished_order_cannot_be_joined(client, compound, resident, neighbour):
    order = submitted(client, compound, resident)
    acted(client, order["id"], resident, "withdraw")
    path = f"/api/v1/work-orders/{order['id']}/follow"
    assert_error_shape(client.post(path, headers=bearer_for(neighbour)), 409)


# ---- urging ----------------------------------------------------------------------------------------------


def test_urging_once_per_four_hours(client, compound, resident, staff):
    with time_machine.travel(T0, tick=False) as traveller:
        order = submitted(client, compound, resident)
        assert detail(client, order["id"], resident)["can_urge"] is True
        first = client.post(f"/api/v1/work-orders/{order['id']}/urge", headers=bearer_for(resident))
        assert first.status_code == 200, first.json
        assert (first.json["urge_count"], first.json["can_urge"]) == (1, False)
        assert first.json["timeline"][-1]["action"] == "urge"

        traveller.shift(timedelta(hours=3, minutes=59))
        again = client.post(f"/api/v1/work-orders/{order['id']}/urge", headers=bearer_for(resident))
        assert_error_shape(again, 429)
        assert again.headers["Retry-After"] == "60"

        traveller.shift(timedelta(minutes=1))
        later = client.post(f"/api/v1/work-orders/{order['id']}/urge", headers=bearer_for(resident))
        assert later.status_code == 200, later.json
        assert later.json["urge_count"] == 2
        staff_urges = client.post(f"/api/v1/work-orders/{order['id']}/urge", headers=bearer_for(staff))
        assert_error_shape(staff_urges, 403)


def test_a_finished_order_cannot_be_urged(client, compound, resident):
    order = submitted(client, compound, resident)
    acted(client, order["id"], resident, "withdraw")
    path = f"/api/v1/work-orders/{order['id']}/urge"
    assert_error_shape(client.post(path, headers=bearer_for(resident)), 409)


# ---- lists ----------------------------------------------------------------------------------------------


def test_residents_list_only_their_own_orders(
    client, compound, households, resident, neighbour, staff, make_user
):
    mine = submitted(client, compound, resident)
    theirs = submitted(client, compound, neighbour, household_id=households[1].id)
    url = f"/api/v1/compounds/{compound.id}/work-orders"
    listed = client.get(url, headers=bearer_for(resident)).json
    assert ([item["id"] for item in listed["items"]], listed["total"]) == ([mine["id"]], 1)
    listed = client.get(url, headers=bearer_for(neighbour)).json
    assert [item["id"] for item in listed["items"]] == [theirs["id"]]
    for role in (Role.STAFF, Role.COMMITTEE, Role.PARTY_SECRETARY, Role.MANAGER):
        everyone = client.get(url, headers=bearer_for(make_user(role, compound))).json
        assert [item["id"] for item in everyone["items"]] == [mine["id"], theirs["id"]]


def test_list_filters_by_status_category_and_overdue(client, compound, resident, staff):
    url = f"/api/v1/compounds/{compound.id}/work-orders"
    with time_machine.travel(T0, tick=False) as traveller:
        urgent = submitted(client, compound, resident, category="电梯", urgency="urgent", description="有人被困")
        normal = submitted(client, compound, resident, category="绿化", description="树枝挡路")
        accepted = submitted(client, compound, resident, category="绿化", description="草坪积水")
        acted(client, accepted["id"], staff, "accept")

        def ids(**query) -> list[int]:
            response = client.get(url, query_string=query, headers=bearer_for(staff))
            assert response.status_code == 200, response.json
            return [item["id"] for item in response.json["items"]]

        # The board: open orders urgent (and overdue) first, then by their running deadline.
        assert ids(status="submitted") == [urgent["id"], normal["id"]]
        assert ids(category="绿化") == [normal["id"], accepted["id"]]
        assert ids(category="绿化", status="accepted") == [accepted["id"]]
        assert ids(overdue="true") == []

        # Urgent: accept within 30 minutes; normal: 4 hours.
        traveller.shift(timedelta(minutes=31))
        assert ids(overdue="true") == [urgent["id"]]
        assert ids(overdue="false") == [normal["id"], accepted["id"]]
        listed = client.get(url, headers=bearer_for(staff)).json["items"]
        assert {item["id"]: item["overdue"] for item in listed} == {
            urgent["id"]: True, normal["id"]: False, accepted["id"]: False,
        }
        assert detail(client, urgent["id"], resident)["overdue"] is True


def test_list_pages(client, compound, resident, staff):
    made = [submitted(client, compound, resident, description=f"第{n}件事")["id"] for n in range(3)]
    response = client.get(
        f"/api/v1/compounds/{compound.id}/work-orders", query_string={"page": 2, "page_size": 2},
        headers=bearer_for(staff),
    )
    assert response.json == response.json | {"total": 3, "page": 2, "page_size": 2}
    # Same urgency, none late: the nearest deadline (the oldest report) first.
    assert [item["id"] for item in response.json["items"]] == [made[2]]


@pytest.mark.parametrize("query", [{"status": "lost"}, {"overdue": "maybe"}, {"page": 0}, {"page_size": 101}])
def test_bad_list_filters_are_422(client, compound, staff, query):
    response = client.get(f"/api/v1/compounds/{compound.id}/work-orders", query_string=query,
                          headers=bearer_for(staff))
    assert_error_shape(response, 422)


def _list_statements(client, count_queries, url, headers):
    db.session.expire_all()
    with count_queries() as statements:
        response = client.get(url, headers=headers, query_string={"page_size": 20})
    assert response.status_code == 200, response.json
    return statements, response.json


@pytest.mark.parametrize("role", [Role.STAFF, Role.OWNER])
def test_list_runs_the_same_queries_for_1_and_15_orders(
    client, count_queries, make_compound, make_user, role, staff
):
    few, many = (make_compound(buildings=1, households_per_building=1) for _ in range(2))
    counts = []
    for compound, count in ((few, 1), (many, 15)):
        household = db.session.scalar(db.select(Household).where(Household.compound_id == compound.id))
        submitter = make_user(Role.OWNER, compound, household=household)
        handler = make_user(Role.STAFF, compound)
        for n in range(count):
            order = submit_order(
                user_id=submitter.id, compound_id=compound.id, category="其他", description=f"第{n}件",
                urgency="normal", household_id=household.id if n % 2 else None, location_text="东门",
            )
            if n % 3 == 0:
                acted(client, order.id, handler, "accept")
        caller = submitter if role is Role.OWNER else make_user(role, compound)
        url = f"/api/v1/compounds/{compound.id}/work-orders"
        headers = bearer_for(caller)
        client.get(url, headers=headers)
        statements, body = _list_statements(client, count_queries, url, headers)
        assert len(body["items"]) == count and all(item["place"] for item in body["items"])
        counts.append(statements)
    assert len(counts[0]) == len(counts[1]), "\n".join(["-- 1:", *counts[0], "-- 15:", *counts[1]])


# ---- categories ----------------------------------------------------------------------------------------


def category(name: str, accept: int = 60, close: int = 600, urgent_accept: int = 15, urgent_close: int = 120):
    return {"name": name, "accept_minutes_normal": accept, "close_minutes_normal": close,
            "accept_minutes_urgent": urgent_accept, "close_minutes_urgent": urgent_close}


def test_categories_default_then_the_compounds_own(client, compound, resident, manager):
    url = f"/api/v1/compounds/{compound.id}/work-order-categories"
    defaults = client.get(url, headers=bearer_for(resident)).json["items"]
    assert [item["name"] for item in defaults][:3] == ["水电维修", "公共设施", "环境卫生"] and len(defaults) == 9
    assert defaults[0] == category("水电维修", 240, 4320, 30, 1440)

    saved = client.put(url, json={"items": [category(" 下水道 "), category("其他", 120, 1440, 30, 480)]},
                       headers=bearer_for(manager))
    assert saved.status_code == 200, saved.json
    assert saved.json["items"] == [category("下水道"), category("其他", 120, 1440, 30, 480)]
    assert client.get(url, headers=bearer_for(resident)).json == saved.json

    with time_machine.travel(T0, tick=False):
        order = submitted(client, compound, resident, category="下水道")
        assert datetime.fromisoformat(order["sla_due_at"]) == T0 + timedelta(minutes=60)
        assert datetime.fromisoformat(order["close_due_at"]) == T0 + timedelta(minutes=600)
    assert_error_shape(submit(client, compound, resident, category="水电维修"), 422)


@pytest.mark.parametrize(
    "items",
    [
        [],
        [category("水电", accept=120, close=60)],
        [category("水电", urgent_accept=30, urgent_close=10)],
        [category("水电"), category("水电")],
        [category("水电", accept=0)],
        [category("水电", close=10**9)],
        [category("")],
        [category("一二三四五六七八九十一二三四五六七")],
        [{"name": "水电"}],
    ],
)
def test_bad_categories_are_422(client, compound, manager, items):
    response = client.put(f"/api/v1/compounds/{compound.id}/work-order-categories", json={"items": items},
                          headers=bearer_for(manager))
    assert_error_shape(response, 422)


def test_only_those_who_run_the_compound_configure_categories(client, compound, resident, staff):
    url = f"/api/v1/compounds/{compound.id}/work-order-categories"
    for user in (resident, staff):
        assert_error_shape(client.put(url, json={"items": [category("水电")]}, headers=bearer_for(user)), 403)


# ---- submitting ----------------------------------------------------------------------------------------


def test_submit_refuses_a_place_that_is_not_mine_or_missing(
    client, compound, households, resident, staff, make_compound
):
    assert_error_shape(submit(client, compound, resident, household_id=households[1].id), 422)
    other_building = buildings_of(make_compound())[0].id
    assert_error_shape(submit(client, compound, resident, building_id=other_building), 422)
    assert_error_shape(submit(client, compound, resident, location_text=""), 422)
    assert_error_shape(submit(client, compound, resident, category="不存在"), 422)
    assert_error_shape(submit(client, compound, resident, description=" "), 422)
    assert_error_shape(submit(client, compound, resident, description="长" * 1001), 422)
    assert_error_shape(submit(client, compound, resident, household_id=1.5), 422)
    assert_error_shape(submit(client, compound, resident, urgency="panic"), 422)
    assert_error_shape(submit(client, compound, staff), 403)


def test_submit_without_signing_in_is_401(client, compound):
    body = {"category": "其他", "description": "路灯坏了", "location_text": "东门"}
    response = client.post(f"/api/v1/compounds/{compound.id}/work-orders", json=body)
    assert_error_shape(response, 401)


# ---- figures -------------------------------------------------------------------------------------------


def test_figures_change_as_orders_close_and_are_confirmed(client, compound, resident, staff, make_user):
    url = f"/api/v1/compounds/{compound.id}/work-orders/stats"
    with time_machine.travel(T0, tick=True):
        before = client.get(url, headers=bearer_for(resident))
        assert before.status_code == 200, before.json
        empty = {"month": "2026-11-01", "orders": 0, "closed": 0, "share_confirmed": None}
        assert before.json | empty == before.json

        order = in_progress(client, compound, resident, staff)
        submitted(client, compound, resident)
        opened = client.get(url, headers=bearer_for(resident)).json
        assert (opened["orders"], opened["accepted"], opened["closed"]) == (2, 1, 0)

        acted(client, order["id"], staff, "close", note="修好了")
        after_close = client.get(url, headers=bearer_for(resident)).json
        assert [after_close[key] for key in ("closed", "closed_within_sla", "confirmed")] == [1, 1, 0]
        assert after_close["share_closed_within_sla"] == 1.0 and after_close["share_confirmed"] == 0.0

        acted(client, order["id"], resident, "confirm", rating={"stars": 4})
        after_confirm = client.get(url, headers=bearer_for(make_user(Role.COMMITTEE, compound))).json
        assert [after_confirm[key] for key in ("confirmed", "rating_count", "average_rating")] == [1, 1, 4.0]
        assert after_confirm["share_confirmed"] == 1.0
        for name in (resident.display_name, staff.display_name):
            assert name not in str(after_confirm)

        earlier = client.get(url, query_string={"month": "2026-10"}, headers=bearer_for(resident)).json
        assert (earlier["month"], earlier["orders"]) == ("2026-10-01", 0)


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "1999-12", "2026-11-01", "abc"])
def test_figures_refuse_a_malformed_month(client, compound, resident, month):
    response = client.get(f"/api/v1/compounds/{compound.id}/work-orders/stats", query_string={"month": month},
                          headers=bearer_for(resident))
    assert_error_shape(response, 422)


# ---- rating --------------------------------------------------------------------------------------------


def test_rating_after_confirming_once_and_only_by_the_submitter(client, compound, resident, staff, manager):
    order = closed(client, compound, resident, staff)
    url = f"/api/v1/work-orders/{order['id']}/rating"
    assert_error_shape(client.post(url, json={"stars": 5}, headers=bearer_for(resident)), 409)
    acted(client, order["id"], resident, "confirm")
    assert detail(client, order["id"], resident)["can_rate"] is True
    assert_error_shape(client.post(url, json={"stars": 5}, headers=bearer_for(staff)), 403)
    assert_error_shape(client.post(url, json={"stars": 0}, headers=bearer_for(resident)), 422)
    too_long = client.post(url, json={"stars": 3, "comment": "长" * 301}, headers=bearer_for(resident))
    assert_error_shape(too_long, 422)
    rated = client.post(url, json={"stars": 2, "comment": "有点慢", "tags": ["拖延", "拖延"]},
                        headers=bearer_for(resident))
    assert rated.status_code == 201, rated.json
    assert (rated.json["stars"], rated.json["tags"], rated.json["reply"]) == (2, ["拖延"], "")
    assert_error_shape(client.post(url, json={"stars": 5}, headers=bearer_for(resident)), 409)
    assert detail(client, order["id"], staff)["rating_stars"] == 2


def test_only_managers_reply_and_only_to_a_rating(client, compound, resident, staff, manager):
    order = closed(client, compound, resident, staff)
    url = f"/api/v1/work-orders/{order['id']}/rating/reply"
    assert_error_shape(client.post(url, json={"reply": "谢谢"}, headers=bearer_for(manager)), 404)
    acted(client, order["id"], resident, "confirm", rating={"stars": 3})
    assert_error_shape(client.post(url, json={"reply": "谢谢"}, headers=bearer_for(staff)), 403)
    assert_error_shape(client.post(url, json={"reply": "谢谢"}, headers=bearer_for(resident)), 403)
    assert_error_shape(client.post(url, json={"reply": "  "}, headers=bearer_for(manager)), 422)
    assert client.post(url, json={"reply": "谢谢"}, headers=bearer_for(manager)).json["reply"] == "谢谢"


# ---- photos --------------------------------------------------------------------------------------------


def test_a_camera_photo_is_served_without_its_gps(client, compound, resident, staff):
    order = in_progress(client, compound, resident, staff)
    sample = samples.camera_jpeg(2400, 1800)
    uploaded = upload(client, order["id"], staff, sample)
    assert uploaded.status_code == 201, uploaded.json
    assert (uploaded.json["width"], uploaded.json["height"]) == (1600, 1200)
    acted(client, order["id"], staff, "close", note="已修复", photo_ids=[uploaded.json["id"]])

    served = client.get(uploaded.json["url"], headers=bearer_for(resident))
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    assert served.headers["Cache-Control"].startswith("private")
    image = Image.open(io.BytesIO(served.data))
    assert image.size == (1600, 1200)
    assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {} and len(image.getexif()) == 0
    for marker in (b"GPS", b"Exif", b"HUAWEI", samples.CAMERA_COMMENT, b"xmpmeta"):
        assert marker not in served.data


def test_the_submitters_photos_belong_to_the_report(client, compound, resident, staff):
    order = submitted(client, compound, resident)
    uploaded = upload(client, order["id"], resident, samples.png_with_alpha())
    assert uploaded.status_code == 201, uploaded.json
    seen = detail(client, order["id"], staff)
    assert seen["timeline"][0]["action"] == "submit" and seen["timeline"][0]["photos"] == [uploaded.json]
    assert client.get(uploaded.json["url"], headers=bearer_for(staff)).status_code == 200


def test_a_pending_photo_is_shown_only_to_its_uploader(client, compound, resident, staff):
    order = in_progress(client, compound, resident, staff)
    uploaded = upload(client, order["id"], staff, samples.webp_photo()).json
    assert client.get(uploaded["url"], headers=bearer_for(staff)).status_code == 200
    assert_error_shape(client.get(uploaded["url"], headers=bearer_for(resident)), 404)
    assert detail(client, order["id"], resident)["pending_photos"] == []


@pytest.mark.parametrize(
    ("make_sample", "status"),
    [
        (samples.php_named_jpg, 422),
        (samples.php_with_jpeg_magic, 422),
        (samples.truncated_jpeg, 422),
        (samples.svg_image, 422),
        (samples.empty_file, 422),
        (samples.oversized_upload, 413),
    ],
)
def test_wrong_files_are_refused_with_the_error_shape(client, compound, resident, staff, make_sample, status):
    order = in_progress(client, compound, resident, staff)
    response = upload(client, order["id"], staff, make_sample())
    assert_error_shape(response, status)
    assert any("\u4e00" <= char <= "\u9fff" for char in response.json["message"])
    assert detail(client, order["id"], staff)["pending_photos"] == []


def test_a_photo_just_over_the_limit_is_413(client, compound, resident, staff):
    order = in_progress(client, compound, resident, staff)
    response = upload(client, order["id"], staff, samples.oversized_upload(photos.MAX_UPLOAD_BYTES + 1))
    assert_error_shape(response, 413)


def test_upload_without_a_file_is_422(client, compound, resident, staff):
    order = in_progress(client, compound, resident, staff)
    response = client.post(f"/api/v1/work-orders/{order['id']}/photos", data={"photo": "not a file"},
                           headers=bearer_for(staff), content_type="multipart/form-data")
    assert_error_shape(response, 422)


def test_at_most_six_photos_wait_for_a_step(client, compound, resident, staff):
    order = in_progress(client, compound, resident, staff)
    for _ in range(photos.MAX_PHOTOS_PER_ORDER):
        assert upload(client, order["id"], staff, samples.camera_jpeg(120, 90)).status_code == 201
    assert_error_shape(upload(client, order["id"], staff, samples.camera_jpeg(120, 90)), 422)


def test_followers_and_finished_orders_take_no_photos(
    client, compound, households, resident, neighbour, staff
):
    order = submitted(client, compound, resident, building_id=households[0].building_id, location_text="楼道")
    client.post(f"/api/v1/work-orders/{order['id']}/follow", headers=bearer_for(neighbour))
    assert_error_shape(upload(client, order["id"], neighbour, samples.camera_jpeg(120, 90)), 403)
    acted(client, order["id"], resident, "withdraw")
    assert_error_shape(upload(client, order["id"], resident, samples.camera_jpeg(120, 90)), 409)


def test_events_are_one_per_step(client, compound, resident, staff):
    order = closed(client, compound, resident, staff)
    actions = db.session.scalars(
        db.select(WorkOrderEvent.action)
        .where(WorkOrderEvent.work_order_id == order["id"])
        .order_by(WorkOrderEvent.id)
    ).all()
    assert actions == ["submit", "accept", "start", "close"]
