"""Issue 19 review A: probes of backbones, activities and campaigns that failed before their fixes."""
from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from backend.demo import factories
from backend.domain.campaigns import DEFAULT_CHECKLIST, CampaignKind
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Activity, CampaignFinding, CampaignPhoto, Membership, Notice, WorkOrderFollower
from backend.services import activities as activity_service
from backend.services import campaigns as campaign_service
from backend.services.auth import issue_tokens
from backend.services.people import remove_membership
from backend.shared.clock import utcnow
from tests import photo_samples as samples
from tests.presenters.two_doors import api_headers
from tests.support import assert_error_shape, buildings_of, first_household, race

HOUR = timedelta(hours=1)


def _organise(client, organiser, compound, capacity: int) -> int:
    starts = utcnow() + timedelta(days=1)
    response = client.post(f"/api/v1/compounds/{compound.id}/activities", headers=api_headers(organiser), json={
        "kind": "cleaning", "title": "楼道清洁", "starts_at": starts.isoformat(),
        "ends_at": (starts + 2 * HOUR).isoformat(), "place": "3号楼", "organiser": "党员志愿服务队",
        "capacity": capacity})
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_a_volunteer_checked_in_cannot_give_the_place_away_and_keep_the_hours(client, area_tree, make_compound,
                                                                               make_user):
    compound = make_compound(area=area_tree[3], buildings=1, households_per_building=2)
    home = first_household(compound)
    secretary = make_user(Role.PARTY_SECRETARY, compound)
    volunteer, waiting = (make_user(Role.OWNER, compound, household=home) for _ in range(2))
    activity_id = _organise(client, secretary, compound, capacity=1)
    for person, helps in ((volunteer, True), (waiting, False)):
        client.put(f"/api/v1/activities/{activity_id}/signup", json={"as_volunteer": helps},
                   headers=api_headers(person))
    token = activity_service.make_checkin_token(db.session.get(Activity, activity_id))
    # The check-in opens an hour before the start, while a sign-up can still be cancelled.
    with time_machine.travel(utcnow() + timedelta(days=1) - 30 * timedelta(minutes=1)):
        checked = client.post(f"/api/v1/activities/{activity_id}/checkin", json={"token": token},
                              headers=api_headers(volunteer))
        assert checked.json["as_volunteer"] is True
        detail = client.get(f"/api/v1/activities/{activity_id}", headers=api_headers(volunteer)).json
        assert "cancel_signup" not in detail["actions"]
        assert_error_shape(client.delete(f"/api/v1/activities/{activity_id}/signup", headers=api_headers(volunteer)),
                           409)
        assert client.get(f"/api/v1/activities/{activity_id}",
                          headers=api_headers(waiting)).json["my_signup"]["status"] == "waiting"


def test_a_building_head_who_left_the_compound_no_longer_follows_its_orders(client, area_tree, make_compound,
                                                                             make_user):
    compound = make_compound(area=area_tree[3], buildings=1, households_per_building=2)
    building = buildings_of(compound)[0]
    home = first_household(compound)
    secretary = make_user(Role.PARTY_SECRETARY, compound)
    admin = make_user(Role.ADMIN)
    head = make_user(Role.OWNER, compound, household=home, phone="13800138077")
    owner = make_user(Role.OWNER, compound, household=home)
    added = client.post(f"/api/v1/compounds/{compound.id}/backbones", headers=api_headers(secretary), json={
        "name": "张建国", "kind": "building_head", "building_id": building.id, "phone": "13800138077"})
    assert added.status_code == 201, added.json
    # The head moves away: the admin takes their household binding off; the roster entry is not ended.
    membership_id = db.session.scalar(select(Membership.id).where(Membership.user_id == head.id))
    remove_membership(membership_id, admin.id)
    order = client.post(f"/api/v1/compounds/{compound.id}/work-orders", headers=api_headers(owner),
                        json={"category": "水电维修", "description": "3单元楼道灯不亮，门禁坏了",
                              "building_id": building.id, "location_text": "3单元"})
    assert order.status_code == 201, order.json
    order_id = order.json["id"]
    assert db.session.get(WorkOrderFollower, (order_id, head.id)) is None
    assert db.session.scalar(select(func.count()).where(Notice.dedupe_key == f"wo-{order_id}-building-head")) == 0


def test_a_committee_member_who_stepped_down_no_longer_runs_the_activity_they_created(client, area_tree,
                                                                                       make_compound, make_user):
    compound = make_compound(area=area_tree[3], buildings=1, households_per_building=1)
    home = first_household(compound)
    admin = make_user(Role.ADMIN)
    member = make_user(Role.OWNER, compound, household=home)
    seat = factories.grant_role(member, Role.COMMITTEE, compound=compound)
    db.session.commit()
    seat_id = seat.id
    activity_id = _organise(client, member, compound, capacity=5)
    # The committee seat is taken away; the person still lives here as an owner.
    remove_membership(seat_id, admin.id)
    assert_error_shape(client.get(f"/api/v1/activities/{activity_id}/signups", headers=api_headers(member)), 403)
    assert_error_shape(client.post(f"/api/v1/activities/{activity_id}/cancellation", headers=api_headers(member)),
                       403)
    detail = client.get(f"/api/v1/activities/{activity_id}", headers=api_headers(member)).json
    assert not {"view_signups", "cancel", "print_checkin_poster"} & set(detail["actions"])


@pytest.mark.postgresql
@pytest.mark.live
def test_parallel_photo_uploads_to_one_finding_keep_its_cap(app, area_tree, make_compound, make_user):
    _, _, street, community = area_tree
    compound = make_compound(area=community, buildings=1, households_per_building=1)
    official = make_user(Role.OFFICIAL, area=street)
    campaign = campaign_service.create_campaign(street.id, official.id, title="整治", kind=CampaignKind.CLEAN_UP,
                                                checklist=[], red_flag_count=1)
    held = campaign_service.add_round(campaign.id, official.id, campaign_service.today())
    (building,) = buildings_of(compound)
    campaign_service.record_score(held.id, building.id, official.id, {item.name: 20 for item in DEFAULT_CHECKLIST},
                                  "", [campaign_service.FindingDraft("小广告", "电梯间小广告")])
    finding_id = db.session.scalar(select(CampaignFinding.id))
    token = {"Authorization": f"Bearer {issue_tokens(official)[0]}"}
    uploads = []
    for _ in range(3):
        boundary, body = encode_multipart(MultiDict(
            [("photos", FileStorage(*samples.camera_jpeg(160, 120).upload())) for _ in range(4)]))
        uploads.append(("POST", f"/api/v1/campaign-findings/{finding_id}/photos",
                        token | {"Content-Type": f"multipart/form-data; boundary={boundary}"}, body))
    db.session.commit()
    db.session.remove()

    answers = race(app, uploads)
    # Six photos a finding at most (four each): one upload is kept, the others are refused.
    assert sorted(status for status, _ in answers) == [200, 422, 422], answers
    assert db.session.scalar(select(func.count()).where(CampaignPhoto.finding_id == finding_id)) == 4


def test_an_application_of_someone_who_has_left_the_compound_cannot_be_confirmed(client, area_tree, make_compound,
                                                                                 make_user):
    compound = make_compound(area=area_tree[3], buildings=1, households_per_building=1)
    secretary, admin = make_user(Role.PARTY_SECRETARY, compound), make_user(Role.ADMIN)
    applicant = make_user(Role.OWNER, compound, household=first_household(compound))
    applied = client.post(f"/api/v1/compounds/{compound.id}/backbones/volunteer", headers=api_headers(applicant),
                          json={"name": "李明", "kind": "volunteer"})
    assert applied.status_code == 201, applied.json
    remove_membership(db.session.scalar(select(Membership.id).where(Membership.user_id == applicant.id)), admin.id)
    assert_error_shape(client.post(f"/api/v1/backbones/{applied.json['id']}/confirm", json={},
                                   headers=api_headers(secretary)), 409)
    # Declining it stays possible: the keeper clears the waiting list.
    assert client.post(f"/api/v1/backbones/{applied.json['id']}/decline", json={},
                       headers=api_headers(secretary)).status_code == 200
