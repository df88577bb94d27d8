"""The four meetings (四会) through the API: convening and reading, refused input in the error shape, who may
do what, isolation from other compounds, check-in once per person at the window's exact edges with a signed
code, minutes residents see once published, the attendance list and the check-in QR code."""

from __future__ import annotations

import shutil
import subprocess
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from backend.domain.compounds import AreaLevel
from backend.domain.consultations import MeetingKind, Step
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import AuditEvent, Compound, Meeting, MeetingAttendance, Topic, User
from backend.services import meetings as service
from backend.services.auth import issue_tokens
from backend.services.qr import make_entry_token
from backend.shared.clock import utcnow
from tests.support import assert_error_shape, first_household

pytestmark = pytest.mark.calendar

# 10:00 on a Tuesday in Beijing; the meeting is three days later at 19:30.
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
START = datetime(2026, 12, 4, 11, 30, tzinfo=UTC)
HOUR, SECOND = timedelta(hours=1), timedelta(seconds=1)


@dataclass
class World:
    a: Compound
    b: Compound
    committee: User
    secretary: User
    manager: User
    resident: User
    official: User  # over A's community
    b_resident: User
    b_committee: User
    b_official: User  # over B's street only


@pytest.fixture
def world(area_tree, make_area, make_compound, make_user) -> World:
    _, district, street_a, community_a = area_tree
    street_b = make_area("B街道", AreaLevel.STREET, district)
    a = make_compound(name="甲小区", area=community_a, buildings=1, households_per_building=3)
    b = make_compound(name="乙小区", area=make_area("B社区", AreaLevel.COMMUNITY, street_b))
    return World(
        a=a,
        b=b,
        committee=make_user(Role.COMMITTEE, a),
        secretary=make_user(Role.PARTY_SECRETARY, a),
        manager=make_user(Role.MANAGER, a),
        resident=make_user(Role.OWNER, a, household=first_household(a)),
        official=make_user(Role.OFFICIAL, area=community_a),
        b_resident=make_user(Role.OWNER, b, household=first_household(b)),
        b_committee=make_user(Role.COMMITTEE, b),
        b_official=make_user(Role.OFFICIAL, area=street_b),
    )


@pytest.fixture
def api(client):
    """Call the API as `user` at the moment `at` (the bearer token is minted then, so it is valid then)."""

    def call(method: str, path: str, user: User | None = None, at: datetime = T0, json=None, headers=None):
        with time_machine.travel(at, tick=False):
            auth = {"Authorization": f"Bearer {issue_tokens(user)[0]}"} if user else {}
            return client.open(path, method=method, json=json, headers=auth | (headers or {}))

    return call


def body(world: World, **overrides) -> dict:
    return {
        "kind": "hearing",
        "title": "物业费调整听证会",
        "agenda": "一、物业说明调价方案\n二、居民代表发言",
        "starts_at": START.isoformat(),
        "place": "党群服务站",
        "invitees": [
            {"party": "party_organisation", "user_id": world.secretary.id},
            {"party": "property_company", "user_id": world.manager.id},
            {"party": "merchant", "name": "东门超市 李老板"},
            {"party": "resident", "name": "王秀英"},
        ],
    } | overrides


@pytest.fixture
def meeting_id(world, api) -> int:
    response = api("POST", f"/api/v1/compounds/{world.a.id}/meetings", world.committee, json=body(world))
    assert response.status_code == 201, response.json
    return response.json["id"]


def token(meeting_id: int) -> str:
    return service.make_checkin_token(db.session.get(Meeting, meeting_id))


# ---- convening and reading ---------------------------------------------------------------------------------------


def test_committee_convenes_and_everyone_of_the_compound_reads_it(world, api, meeting_id):
    created = api("GET", f"/api/v1/meetings/{meeting_id}", world.committee).json
    assert created["kind"] == "hearing" and created["kind_label"] == "听证会"
    assert created["starts_at"] == "2026-12-04T11:30:00+00:00"
    assert created["checkin_opens_at"] == "2026-12-04T10:30:00+00:00"
    assert created["checkin_closes_at"] == "2026-12-04T13:30:00+00:00"
    assert [(i["party_label"], i["name"]) for i in created["invitees"]] == [
        ("党组织", world.secretary.display_name),
        ("物业服务企业", world.manager.display_name),
        ("商户代表", "东门超市 李老板"),
        ("居民代表", "王秀英"),
    ]
    assert (created["attendance_count"], created["can_manage"], created["minutes"]) == (0, True, "")
    assert created["convener_name"] == world.committee.display_name and created["upcoming"] is True

    seen = api("GET", f"/api/v1/meetings/{meeting_id}", world.resident).json
    assert (seen["can_manage"], seen["minutes"], seen["resolutions"]) == (False, None, None)
    listing = api("GET", f"/api/v1/compounds/{world.a.id}/meetings", world.resident).json
    assert (listing["total"], listing["page"], listing["page_size"]) == (1, 1, 20)
    assert [item["id"] for item in listing["items"]] == [meeting_id]
    # Someone who only scanned the compound's poster reads the list too.
    visitor = api(
        "GET",
        f"/api/v1/compounds/{world.a.id}/meetings",
        headers={"X-Entry-Token": make_entry_token(world.a)},
    )
    assert visitor.status_code == 200 and visitor.json["total"] == 1


def test_a_start_in_beijing_time_is_stored_and_shown_in_utc(world, api):
    response = api(
        "POST",
        f"/api/v1/compounds/{world.a.id}/meetings",
        world.official,
        json=body(world, kind="coordination", starts_at="2026-12-04T19:30:00+08:00", invitees=[]),
    )
    assert response.status_code == 201, response.json
    assert response.json["starts_at"] == "2026-12-04T11:30:00+00:00"
    assert response.json["invitees"] == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"starts_at": "2026-12-04T19:30:00"},  # no time zone
        {"starts_at": "2026-12-01T01:00:00+00:00"},  # in the past
        {"starts_at": "9999-12-31T23:59:00-05:00"},  # no overflow, just refused
        {"starts_at": "0001-01-01T00:00:00+05:00"},
        {"starts_at": "明天"},
        {"kind": "party"},
        {"title": "  "},
        {"title": "长" * 61},
        {"agenda": ""},
        {"place": None},
        {"topic_id": 0},
        {"topic_id": 2_147_483_648},
        {"invitees": [{"party": "resident"}]},
        {"invitees": [{"party": "landlord", "name": "张三"}]},
        {"invitees": [{"party": "committee", "user_id": "1"}]},
        {"invitees": [{"party": "resident", "name": f"代表{n}"} for n in range(101)]},
        {"invitees": "王秀英"},
    ],
)
def test_bad_meetings_are_422_in_the_error_shape(world, api, overrides):
    response = api(
        "POST", f"/api/v1/compounds/{world.a.id}/meetings", world.committee, json=body(world, **overrides)
    )
    assert_error_shape(response, 422)
    assert db.session.scalar(db.select(db.func.count()).select_from(Meeting)) == 0


def test_invitees_and_topic_must_belong_to_the_compound(world, api):
    theirs = Topic(
        compound_id=world.b.id,
        proposer_id=world.b_committee.id,
        title="乙的议题",
        body="…",
        step=Step.DELIBERATION,
    )
    mine = Topic(
        compound_id=world.a.id,
        proposer_id=world.committee.id,
        title="甲的议题",
        body="…",
        step=Step.DELIBERATION,
    )
    db.session.add_all([theirs, mine])
    db.session.commit()
    path = f"/api/v1/compounds/{world.a.id}/meetings"

    for user in (world.b_resident, world.b_official):
        stranger = body(world, invitees=[{"party": "resident", "user_id": user.id}])
        assert_error_shape(api("POST", path, world.committee, json=stranger), 422)
    assert_error_shape(api("POST", path, world.committee, json=body(world, topic_id=theirs.id)), 422)
    linked = api("POST", path, world.committee, json=body(world, topic_id=mine.id))
    assert (linked.status_code, linked.json["topic_id"], linked.json["topic_title"]) == (
        201,
        mine.id,
        "甲的议题",
    )


def test_a_resident_may_not_convene_and_a_stranger_does_not_find_the_compound(world, api):
    path = f"/api/v1/compounds/{world.a.id}/meetings"
    assert_error_shape(api("POST", path, world.resident, json=body(world)), 403)
    for user in (world.b_committee, world.b_official):
        assert_error_shape(api("POST", path, user, json=body(world)), 404)
    assert_error_shape(api("POST", path, json=body(world)), 401)
    assert db.session.scalar(db.select(db.func.count()).select_from(Meeting)) == 0


# ---- isolation -------------------------------------------------------------------------------------------------------

MEETING_ENDPOINTS = {
    "detail": ("GET", "/api/v1/meetings/{id}", None),
    "attendance": ("GET", "/api/v1/meetings/{id}/attendance", None),
    "qr": ("GET", "/api/v1/meetings/{id}/checkin-qr.png", None),
    "invite": ("POST", "/api/v1/meetings/{id}/invitees", {"invitees": [{"party": "resident", "name": "乙"}]}),
    "minutes": ("PUT", "/api/v1/meetings/{id}/minutes", {"minutes": "乙写的", "publish": True}),
}


@pytest.mark.parametrize("caller", ["b_resident", "b_committee", "b_official"])
@pytest.mark.parametrize("name", sorted(MEETING_ENDPOINTS))
def test_another_compound_reaches_nothing_of_the_meeting(world, api, meeting_id, caller, name):
    method, path, json = MEETING_ENDPOINTS[name]
    response = api(method, path.format(id=meeting_id), getattr(world, caller), at=START, json=json)
    assert_error_shape(response, 404)
    assert "物业费调整" not in response.get_data(as_text=True)
    meeting = db.session.get(Meeting, meeting_id)
    assert (meeting.minutes, len(service.invitee_lines(meeting_id))) == ("", 4)


@pytest.mark.parametrize("caller", ["b_resident", "b_committee", "b_official"])
def test_another_compound_lists_nothing(world, api, meeting_id, caller):
    assert_error_shape(api("GET", f"/api/v1/compounds/{world.a.id}/meetings", getattr(world, caller)), 404)


def test_signed_out_reads_nothing(world, api, meeting_id):
    assert_error_shape(api("GET", f"/api/v1/meetings/{meeting_id}"), 404)
    assert_error_shape(api("GET", f"/api/v1/compounds/{world.a.id}/meetings"), 404)
    assert_error_shape(
        api("POST", f"/api/v1/meetings/{meeting_id}/checkin", json={"token": token(meeting_id)}), 401
    )


@pytest.mark.parametrize("name", ["attendance", "qr", "invite", "minutes"])
def test_residents_may_not_run_the_meeting(world, api, meeting_id, name):
    method, path, json = MEETING_ENDPOINTS[name]
    assert_error_shape(api(method, path.format(id=meeting_id), world.resident, at=START, json=json), 403)


def test_ids_out_of_range_are_404_not_500(world, api):
    for path in (
        "/api/v1/meetings/2147483648",
        "/api/v1/meetings/0",
        "/api/v1/compounds/99999999999/meetings",
    ):
        assert_error_shape(api("GET", path, world.committee), 404)
    assert_error_shape(
        api("POST", "/api/v1/meetings/2147483647/checkin", world.resident, json={"token": "x"}), 404
    )


# ---- check-in ---------------------------------------------------------------------------------------------------------


def checkin(api, meeting_id: int, user: User, at: datetime, code: str | None = None):
    return api(
        "POST",
        f"/api/v1/meetings/{meeting_id}/checkin",
        user,
        at=at,
        json={"token": code or token(meeting_id)},
    )


def test_a_person_is_recorded_once_however_often_they_scan(world, api, meeting_id):
    first = checkin(api, meeting_id, world.resident, START - 10 * 60 * SECOND)
    again = [checkin(api, meeting_id, world.resident, START + n * SECOND) for n in range(1, 4)]

    assert first.status_code == 200
    assert (first.json["message"], first.json["already_checked_in"]) == ("签到成功", False)
    assert first.json["checked_in_at"] == "2026-12-04T11:20:00+00:00"
    for response in again:
        assert response.status_code == 200
        assert (response.json["message"], response.json["checked_in_at"]) == (
            "已签到",
            first.json["checked_in_at"],
        )
    rows = db.session.scalars(
        db.select(MeetingAttendance).where(MeetingAttendance.meeting_id == meeting_id)
    ).all()
    assert [row.user_id for row in rows] == [world.resident.id]
    detail = api("GET", f"/api/v1/meetings/{meeting_id}", world.resident, at=START).json
    assert (detail["attendance_count"], detail["my_checked_in_at"]) == (1, first.json["checked_in_at"])


def test_check_in_window_edges(world, api, meeting_id, make_user):
    opens, closes = START - HOUR, START + 2 * HOUR
    people = [make_user() for _ in range(4)]

    early = checkin(api, meeting_id, people[0], opens - SECOND)
    assert_error_shape(early, 409)
    assert early.json["message"] == "签到时间为会议开始前1小时至开始后2小时"
    assert checkin(api, meeting_id, people[1], opens).status_code == 200
    assert checkin(api, meeting_id, people[2], closes).status_code == 200
    late = checkin(api, meeting_id, people[3], closes + SECOND)
    assert_error_shape(late, 409)
    assert late.json["message"] == "签到时间为会议开始前1小时至开始后2小时"
    assert service.attendance_count(meeting_id) == 2


def test_a_representative_without_a_role_checks_in_with_the_code(world, api, meeting_id, make_user):
    # A merchant's representative has an account but no role in the compound; the code is the invitation.
    for user in (make_user(), world.b_resident):
        assert checkin(api, meeting_id, user, START).json["message"] == "签到成功"
    assert service.attendance_count(meeting_id) == 2


def test_forged_or_foreign_codes_are_403(world, api, meeting_id):
    other = api("POST", f"/api/v1/compounds/{world.a.id}/meetings", world.committee, json=body(world)).json[
        "id"
    ]
    for code in (token(meeting_id)[:-3] + "abc", token(other), "not-a-token", "x" * 512):
        assert_error_shape(checkin(api, meeting_id, world.resident, START, code), 403)
    assert_error_shape(checkin(api, meeting_id, world.resident, START, "x" * 513), 422)
    assert service.attendance_count(meeting_id) == 0


# ---- minutes, attendance, the code -----------------------------------------------------------------------------------


def test_minutes_are_seen_by_residents_only_once_published(world, api, meeting_id):
    path = f"/api/v1/meetings/{meeting_id}/minutes"
    draft = api(
        "PUT", path, world.committee, at=START - 2 * HOUR, json={"minutes": "草稿", "resolutions": "草案"}
    )
    assert draft.status_code == 200 and draft.json["minutes_published_at"] is None
    assert api("GET", f"/api/v1/meetings/{meeting_id}", world.resident).json["minutes"] is None

    early = api("PUT", path, world.committee, at=START - HOUR, json={"minutes": "纪要", "publish": True})
    assert_error_shape(early, 409)
    empty = api("PUT", path, world.committee, at=START + HOUR, json={"minutes": " ", "publish": True})
    assert_error_shape(empty, 422)

    published = api(
        "PUT",
        path,
        world.secretary,
        at=START + 3 * HOUR,
        json={
            "minutes": "各方充分发言",
            "resolutions": "同意物业费每平方米上调0.2元",
            "publish": True,
        },
    )
    assert published.status_code == 200
    assert published.json["minutes_published_at"] == "2026-12-04T14:30:00+00:00"
    seen = api("GET", f"/api/v1/meetings/{meeting_id}", world.resident, at=START + 4 * HOUR).json
    assert (seen["minutes"], seen["resolutions"]) == ("各方充分发言", "同意物业费每平方米上调0.2元")
    listed = api("GET", f"/api/v1/compounds/{world.a.id}/meetings", world.resident, at=START + 4 * HOUR).json
    assert listed["items"][0]["minutes_published"] is True and listed["items"][0]["upcoming"] is False


def test_the_attendance_list_names_who_came_in_order_for_those_who_run_it(world, api, meeting_id):
    checkin(api, meeting_id, world.manager, START - 30 * 60 * SECOND)
    checkin(api, meeting_id, world.resident, START - 20 * 60 * SECOND)

    listed = api("GET", f"/api/v1/meetings/{meeting_id}/attendance?page_size=1&page=2", world.committee).json
    assert (listed["total"], listed["page"], listed["page_size"]) == (2, 2, 1)
    assert listed["items"] == [
        {
            "user_id": world.resident.id,
            "name": world.resident.display_name,
            "checked_in_at": "2026-12-04T11:10:00+00:00",
        }
    ]
    assert api("GET", f"/api/v1/meetings/{meeting_id}/attendance", world.official).json["total"] == 2
    assert_error_shape(api("GET", f"/api/v1/meetings/{meeting_id}/attendance?page=0", world.committee), 422)


def test_invite_more_until_the_start(world, api, meeting_id, make_user):
    path = f"/api/v1/meetings/{meeting_id}/invitees"
    added = api(
        "POST",
        path,
        world.committee,
        json={
            "invitees": [
                {"party": "committee", "user_id": world.committee.id},
                {"party": "resident", "name": "王秀英"},
            ]
        },
    )
    assert added.status_code == 200
    assert [i["name"] for i in added.json["invitees"]][-2:] == ["东门超市 李老板", "王秀英"]
    assert len(added.json["invitees"]) == 5
    assert_error_shape(api("POST", path, world.committee, json={"invitees": []}), 422)
    late = api(
        "POST", path, world.committee, at=START, json={"invitees": [{"party": "resident", "name": "迟到"}]}
    )
    assert_error_shape(late, 409)


def decode_qr(png: bytes, tmp_path: Path) -> str:
    """Read the code back the way a phone would: zbarimg from Debian's zbar-tools (make test installs it)."""
    zbarimg = shutil.which("zbarimg")
    assert zbarimg, "zbarimg is missing: install Debian's zbar-tools (make test does this)"
    image = tmp_path / "checkin.png"
    image.write_bytes(png)
    result = subprocess.run([zbarimg, "--raw", "-q", str(image)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_checkin_qr_png_opens_the_checkin_page_with_a_valid_token(world, api, meeting_id, tmp_path):
    response = api("GET", f"/api/v1/meetings/{meeting_id}/checkin-qr.png", world.committee)
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "private, no-store"
    url = decode_qr(response.data, tmp_path)
    assert url == f"http://linli.test/h5/meetings/{meeting_id}/checkin?t={token(meeting_id)}"
    code = url.split("?t=", 1)[1]
    assert checkin(api, meeting_id, world.resident, START, code).json["message"] == "签到成功"


def test_neighbours_see_residents_representatives_by_their_party_not_by_name(
    world, api, meeting_id, make_user
):
    """个人信息保护法: like the authors of comments, residents' representatives are named to those who run the
    meeting only; the parties that speak for an organisation keep their names."""
    neighbour = make_user(Role.RESIDENT, world.a, household=first_household(world.a))
    added = api(
        "POST",
        f"/api/v1/meetings/{meeting_id}/invitees",
        world.committee,
        json={"invitees": [{"party": "resident", "user_id": neighbour.id}]},
    )
    assert added.status_code == 200, added.json
    as_convener = [(i["party"], i["user_id"], i["name"]) for i in added.json["invitees"]]
    assert ("resident", None, "王秀英") in as_convener
    assert ("resident", neighbour.id, neighbour.display_name) in as_convener

    visitor = {"X-Entry-Token": make_entry_token(world.a)}
    for seen in (
        api("GET", f"/api/v1/meetings/{meeting_id}", world.resident).json,
        api("GET", f"/api/v1/meetings/{meeting_id}", headers=visitor).json,
    ):
        assert [(i["party"], i["user_id"], i["name"]) for i in seen["invitees"]] == [
            ("party_organisation", world.secretary.id, world.secretary.display_name),
            ("property_company", world.manager.id, world.manager.display_name),
            ("merchant", None, "东门超市 李老板"),
            ("resident", None, "居民代表"),
            ("resident", None, "居民代表"),
        ]
    official = api("GET", f"/api/v1/meetings/{meeting_id}", world.official).json
    assert ("resident", None, "王秀英") in [
        (i["party"], i["user_id"], i["name"]) for i in official["invitees"]
    ]


def test_the_convener_voids_a_shared_checkin_code_and_a_new_one_works(world, api, meeting_id):
    shared = token(meeting_id)
    assert checkin(api, meeting_id, world.manager, START, shared).status_code == 200
    path = f"/api/v1/meetings/{meeting_id}/checkin-qr/renew"
    for caller in (world.resident, world.b_committee):
        assert_error_shape(api("POST", path, caller), 403 if caller is world.resident else 404)

    renewed = api("POST", path, world.committee, at=START)
    assert renewed.status_code == 200 and renewed.json["id"] == meeting_id

    stale = checkin(api, meeting_id, world.resident, START, shared)
    assert_error_shape(stale, 403)
    assert "已停用" in stale.json["message"]
    assert checkin(api, meeting_id, world.resident, START, token(meeting_id)).json["message"] == "签到成功"
    # Who came before the code was voided stays on the list.
    assert service.attendance_count(meeting_id) == 2
    event = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "meeting.renew_checkin_code")
    ).one()
    assert (event.actor_id, event.target_id, event.before, event.after) == (
        world.committee.id,
        meeting_id,
        {"checkin_version": 1},
        {"checkin_version": 2},
    )


@pytest.mark.postgresql
@pytest.mark.live
def test_one_person_scanning_on_several_phones_at_once_is_recorded_once(app, make_compound, make_user):
    """On PostgreSQL with committed data: every scan answers 200, exactly one says 签到成功, one row is kept."""
    compound = make_compound(buildings=1, households_per_building=1)
    committee = make_user(Role.COMMITTEE, compound)
    resident = make_user(Role.OWNER, compound, household=first_household(compound))
    meeting = service.create_meeting(
        compound_id=compound.id,
        convener_id=committee.id,
        kind=MeetingKind.DELIBERATION,
        title="议事会",
        agenda="议程",
        starts_at=utcnow() + timedelta(minutes=30),
        place="会议室",
    )
    path, code = f"/api/v1/meetings/{meeting.id}/checkin", service.make_checkin_token(meeting)
    headers = {"Authorization": f"Bearer {issue_tokens(resident)[0]}"}
    db.session.commit()
    scans = 6
    barrier = threading.Barrier(scans)
    results: list = [None] * scans

    def scan(index: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                response = app.test_client().post(path, json={"token": code}, headers=headers)
                results[index] = (response.status_code, response.get_json()["message"])
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which fails the test with it
            results[index] = exc

    threads = [threading.Thread(target=scan, args=(index,)) for index in range(scans)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    assert sorted(results) == [(200, "已签到")] * (scans - 1) + [(200, "签到成功")]
    db.session.expire_all()
    assert service.attendance_count(meeting.id) == 1
