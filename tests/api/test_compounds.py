"""Compounds, buildings and households: who sees which compound; the household list's envelope and bounds."""

from __future__ import annotations

import pytest

from backend.domain.compounds import AreaLevel
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Area, Compound, Household, Membership
from backend.services.auth import issue_tokens
from backend.services.qr import make_entry_token, revoke_qr_codes
from tests.support import assert_error_shape, buildings_of, first_household

HUGE_ID = 99999999999999


def bearer_for(user) -> dict[str, str]:
    """A bearer header minted as /auth/password mints it, without paying its deliberate argon2 cost."""
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"}


def entry_header(compound, building=None) -> dict[str, str]:
    return {"X-Entry-Token": make_entry_token(compound, building)}


def listed_ids(client, headers, **query) -> list[int]:
    response = client.get("/api/v1/compounds", headers=headers, query_string=query)
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


# ---- GET /compounds --------------------------------------------------------------------------------


def test_member_lists_only_their_own_compound(client, make_compound, make_user):
    mine, _other = make_compound(), make_compound()
    resident = make_user(Role.RESIDENT, mine, household=first_household(mine))
    assert listed_ids(client, bearer_for(resident)) == [mine.id]


def test_member_of_two_compounds_lists_both(client, make_compound, make_user):
    first, second, _third = make_compound(), make_compound(), make_compound()
    staff = make_user(Role.STAFF, first)
    db.session.add(Membership(user_id=staff.id, role=Role.STAFF, compound_id=second.id))
    db.session.commit()
    assert listed_ids(client, bearer_for(staff)) == sorted([first.id, second.id])


def test_official_over_a_street_lists_every_compound_below_it_and_none_elsewhere(
    client, area_tree, make_area, make_compound, make_user
):
    _city, district, street, community = area_tree
    second_community = make_area("第二社区", AreaLevel.COMMUNITY, street)
    other_street = make_area("其他街道", AreaLevel.STREET, district)
    other_community = make_area("其他社区", AreaLevel.COMMUNITY, other_street)
    below = [
        make_compound(area=community),
        make_compound(area=community),
        make_compound(area=second_community),
    ]
    elsewhere = make_compound(area=other_community)
    official = make_user(Role.OFFICIAL, area=street)

    ids = listed_ids(client, bearer_for(official))

    assert ids == sorted(c.id for c in below)
    assert elsewhere.id not in ids


def test_official_over_a_district_sees_compounds_of_all_its_streets(
    client, area_tree, make_area, make_compound, make_user
):
    _city, district, street, community = area_tree
    other_community = make_area(
        "其他社区", AreaLevel.COMMUNITY, make_area("其他街道", AreaLevel.STREET, district)
    )
    compounds = [make_compound(area=community), make_compound(area=other_community)]
    official = make_user(Role.OFFICIAL, area=district)
    assert listed_ids(client, bearer_for(official)) == sorted(c.id for c in compounds)


def test_community_official_does_not_see_a_sibling_community(
    client, area_tree, make_area, make_compound, make_user
):
    _city, _district, street, community = area_tree
    own = make_compound(area=community)
    make_compound(area=make_area("隔壁社区", AreaLevel.COMMUNITY, street))
    official = make_user(Role.OFFICIAL, area=community)
    assert listed_ids(client, bearer_for(official)) == [own.id]


def test_official_does_not_see_an_area_whose_id_merely_starts_with_theirs(client, make_compound, make_user):
    # Paths are "/7001/" and "/70011/": a prefix match without the closing slash would leak the second.
    own_area, other_area = (
        Area(id=7001, name="甲区", level=AreaLevel.DISTRICT),
        Area(id=70011, name="乙区", level=AreaLevel.DISTRICT),
    )
    own_area.path, other_area.path = "/7001/", "/70011/"
    db.session.add_all([own_area, other_area])
    db.session.commit()
    own, other = make_compound(area=own_area), make_compound(area=other_area)
    official = make_user(Role.OFFICIAL, area=own_area)
    assert listed_ids(client, bearer_for(official)) == [own.id]
    assert_error_shape(client.get(f"/api/v1/compounds/{other.id}", headers=bearer_for(official)), 404)


def test_admin_lists_every_compound(client, make_compound, make_user):
    compounds = [make_compound(), make_compound(), make_compound()]
    admin = make_user(Role.ADMIN)
    body = client.get("/api/v1/compounds", headers=bearer_for(admin), query_string={"page_size": 100}).json
    assert {c.id for c in compounds} <= {item["id"] for item in body["items"]}
    assert body["total"] == db.session.scalar(db.select(db.func.count()).select_from(Compound))


def test_user_without_roles_lists_nothing(client, make_compound, make_user):
    make_compound()
    body = client.get("/api/v1/compounds", headers=bearer_for(make_user())).json
    assert body == {"items": [], "total": 0, "page": 1, "page_size": 20}


def test_compound_list_pages_with_the_envelope(client, area_tree, make_compound, make_user):
    community = area_tree[3]
    compounds = [make_compound(area=community) for _ in range(3)]
    headers = bearer_for(make_user(Role.OFFICIAL, area=community))
    first = client.get("/api/v1/compounds", headers=headers, query_string={"page_size": 2}).json
    second = client.get("/api/v1/compounds", headers=headers, query_string={"page_size": 2, "page": 2}).json
    assert (first["total"], first["page"], first["page_size"], len(first["items"])) == (3, 1, 2, 2)
    assert (second["total"], second["page"], len(second["items"])) == (3, 2, 1)
    assert [i["id"] for i in first["items"] + second["items"]] == [c.id for c in compounds]


def test_compound_list_item_carries_ledger_figures(client, area_tree, make_compound, make_user):
    community = area_tree[3]
    compound = make_compound(area=community, buildings=2, households_per_building=3)
    item = client.get("/api/v1/compounds", headers=bearer_for(make_user(Role.COMMITTEE, compound))).json[
        "items"
    ][0]
    assert item["name"] == compound.name and item["code"] == compound.code
    assert item["area_name"] == community.name
    assert item["management_model"] == "market"
    assert (item["building_count"], item["household_count"]) == (2, 6)
    assert item["total_floor_area_centi_m2"] == 2 * sum(8000 + h * 125 for h in (1, 2, 3))


def test_compound_list_needs_sign_in(client, make_compound):
    make_compound()
    assert_error_shape(client.get("/api/v1/compounds"), 401)


def test_compound_list_refuses_a_forged_bearer_token(client):
    assert_error_shape(client.get("/api/v1/compounds", headers={"Authorization": "Bearer not.a.jwt"}), 401)


@pytest.mark.parametrize(
    "query",
    [{"page": 0}, {"page": 10001}, {"page_size": 0}, {"page_size": 101}, {"page": "x"}, {"page": HUGE_ID}],
)
def test_compound_list_bad_paging_is_422(client, make_user, query):
    assert_error_shape(
        client.get("/api/v1/compounds", headers=bearer_for(make_user()), query_string=query), 422
    )


# ---- GET /compounds/<id> ---------------------------------------------------------------------------


def test_member_reads_their_compound(client, make_compound, make_user):
    compound = make_compound(buildings=2, households_per_building=4)
    owner = make_user(Role.OWNER, compound, household=first_household(compound))
    body = client.get(f"/api/v1/compounds/{compound.id}", headers=bearer_for(owner)).json
    assert (body["id"], body["name"], body["code"]) == (compound.id, compound.name, compound.code)
    assert (body["building_count"], body["household_count"]) == (2, 8)
    assert body["total_floor_area_centi_m2"] == 66500


def test_official_above_reads_the_compound(client, area_tree, make_compound, make_user):
    _city, district, _street, community = area_tree
    compound = make_compound(area=community)
    official = make_user(Role.OFFICIAL, area=district)
    response = client.get(f"/api/v1/compounds/{compound.id}", headers=bearer_for(official))
    assert response.status_code == 200 and response.json["name"] == compound.name


def test_visitor_with_the_compound_qr_entry_reads_it_without_signing_in(client, make_compound):
    compound = make_compound()
    response = client.get(f"/api/v1/compounds/{compound.id}", headers=entry_header(compound))
    assert response.status_code == 200 and response.json["name"] == compound.name


def test_visitor_with_a_building_qr_entry_reads_the_compound(client, make_compound):
    compound = make_compound()
    headers = entry_header(compound, buildings_of(compound)[1])
    assert client.get(f"/api/v1/compounds/{compound.id}", headers=headers).status_code == 200


def test_revoked_qr_entry_no_longer_opens_the_compound(client, make_compound):
    compound = make_compound()
    headers = entry_header(compound)
    revoke_qr_codes(compound.id, actor_id=None)
    assert_error_shape(client.get(f"/api/v1/compounds/{compound.id}", headers=headers), 404)


def test_stranger_gets_404_and_no_data(client, make_compound, make_user):
    compound = make_compound()
    response = client.get(f"/api/v1/compounds/{compound.id}", headers=bearer_for(make_user()))
    assert_error_shape(response, 404)
    assert compound.name not in response.get_data(as_text=True)


def test_anonymous_without_entry_gets_404(client, make_compound):
    compound = make_compound()
    assert_error_shape(client.get(f"/api/v1/compounds/{compound.id}"), 404)


@pytest.mark.parametrize("compound_id", ["0", "-1", "abc", str(HUGE_ID), "2147483648", "1.5"])
def test_impossible_compound_ids_are_404(client, make_user, compound_id):
    admin = make_user(Role.ADMIN)
    assert_error_shape(client.get(f"/api/v1/compounds/{compound_id}", headers=bearer_for(admin)), 404)


def test_missing_compound_is_404_even_for_admin(client, make_user):
    assert_error_shape(
        client.get("/api/v1/compounds/2147483647", headers=bearer_for(make_user(Role.ADMIN))), 404
    )


# ---- GET /compounds/<id>/buildings -----------------------------------------------------------------


def test_visitor_with_qr_entry_lists_buildings_to_choose_a_household(client, make_compound):
    compound = make_compound(buildings=3)
    body = client.get(f"/api/v1/compounds/{compound.id}/buildings", headers=entry_header(compound)).json
    assert [b["name"] for b in body["items"]] == ["1栋", "2栋", "3栋"]
    assert [b["id"] for b in body["items"]] == [b.id for b in buildings_of(compound)]
    assert {b["compound_id"] for b in body["items"]} == {compound.id}
    assert body["total"] == 3


def test_member_lists_buildings(client, make_compound, make_user):
    compound = make_compound(buildings=2)
    resident = make_user(Role.RESIDENT, compound, household=first_household(compound))
    response = client.get(f"/api/v1/compounds/{compound.id}/buildings", headers=bearer_for(resident))
    assert response.status_code == 200 and response.json["total"] == 2


def test_stranger_cannot_list_buildings(client, make_compound, make_user):
    compound = make_compound()
    assert_error_shape(
        client.get(f"/api/v1/compounds/{compound.id}/buildings", headers=bearer_for(make_user())), 404
    )


# ---- GET /compounds/<id>/households ----------------------------------------------------------------


def households(client, compound, user, **query):
    return client.get(
        f"/api/v1/compounds/{compound.id}/households", headers=bearer_for(user), query_string=query
    )


def test_committee_lists_households_in_the_envelope_with_integer_areas(client, make_compound, make_user):
    compound = make_compound(buildings=2, households_per_building=4)
    body = households(client, compound, make_user(Role.COMMITTEE, compound)).json
    assert set(body) == {"items", "total", "page", "page_size"}
    assert (body["total"], body["page"], body["page_size"], len(body["items"])) == (8, 1, 20, 8)
    stored = {
        h.id: h for h in db.session.scalars(db.select(Household).where(Household.compound_id == compound.id))
    }
    for item in body["items"]:
        household = stored[item["id"]]
        assert type(item["floor_area_centi_m2"]) is int
        assert item["floor_area_centi_m2"] == household.floor_area_centi_m2
        assert (item["building_id"], item["unit"], item["room"]) == (
            household.building_id,
            household.unit,
            household.room,
        )
        assert item["building_name"] in ("1栋", "2栋")
        assert item["kind"] == "residential"


def test_verified_owner_count_counts_owners_not_tenants_or_pending_requests(client, make_compound, make_user):
    compound = make_compound(buildings=1, households_per_building=3)
    first, second, third = db.session.scalars(
        db.select(Household).where(Household.compound_id == compound.id).order_by(Household.room)
    ).all()
    make_user(Role.OWNER, compound, household=first)
    make_user(Role.OWNER, compound, household=first)
    make_user(Role.RESIDENT, compound, household=first)
    make_user(Role.OWNER, compound, household=second)
    make_user(Role.RESIDENT, compound, household=third)
    body = households(client, compound, make_user(Role.STAFF, compound)).json
    counts = {item["id"]: item["verified_owner_count"] for item in body["items"]}
    assert counts == {first.id: 2, second.id: 1, third.id: 0}


def test_building_filter_lists_only_that_building(client, make_compound, make_user):
    compound = make_compound(buildings=3, households_per_building=4)
    building = buildings_of(compound)[1]
    body = households(client, compound, make_user(Role.MANAGER, compound), building_id=building.id).json
    assert body["total"] == 4
    assert {item["building_id"] for item in body["items"]} == {building.id}


def test_household_pages_do_not_overlap(client, make_compound, make_user):
    compound = make_compound(buildings=2, households_per_building=4)
    user = make_user(Role.PARTY_SECRETARY, compound)
    pages = [households(client, compound, user, page=p, page_size=3).json for p in (1, 2, 3, 4)]
    ids = [item["id"] for page in pages for item in page["items"]]
    assert [len(page["items"]) for page in pages] == [3, 3, 2, 0]
    assert len(ids) == len(set(ids)) == 8
    assert all(page["total"] == 8 for page in pages)


@pytest.mark.parametrize("role", [Role.COMMITTEE, Role.PARTY_SECRETARY, Role.STAFF, Role.MANAGER])
def test_people_running_the_compound_list_households(client, make_compound, make_user, role):
    compound = make_compound()
    assert households(client, compound, make_user(role, compound)).status_code == 200


def test_official_above_lists_households(client, area_tree, make_compound, make_user):
    compound = make_compound(area=area_tree[3])
    assert households(client, compound, make_user(Role.OFFICIAL, area=area_tree[2])).status_code == 200


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.OWNER])
def test_residents_and_owners_cannot_list_households(client, make_compound, make_user, role):
    compound = make_compound()
    user = make_user(role, compound, household=first_household(compound))
    assert_error_shape(households(client, compound, user), 403)


def test_qr_visitor_cannot_list_households(client, make_compound, make_user):
    compound = make_compound()
    response = client.get(
        f"/api/v1/compounds/{compound.id}/households",
        headers=bearer_for(make_user()) | entry_header(compound),
    )
    # The household list ignores QR entries: to it the visitor is a stranger.
    assert_error_shape(response, 404)
    assert "items" not in response.json


def test_household_list_needs_sign_in(client, make_compound):
    compound = make_compound()
    assert_error_shape(
        client.get(f"/api/v1/compounds/{compound.id}/households", headers=entry_header(compound)), 401
    )


@pytest.mark.parametrize(
    "query",
    [
        {"page": 0},
        {"page": -1},
        {"page": 10001},
        {"page": HUGE_ID},
        {"page": "99999999999999999999999999"},
        {"page": "two"},
        {"page": "1.5"},
        {"page_size": 0},
        {"page_size": 101},
        {"page_size": "all"},
        {"building_id": 0},
        {"building_id": HUGE_ID},
        {"building_id": "first"},
        {"building_id": ""},
    ],
)
def test_bad_household_query_is_422_never_500(client, make_compound, make_user, query):
    compound = make_compound()
    assert_error_shape(households(client, compound, make_user(Role.COMMITTEE, compound), **query), 422)


@pytest.mark.parametrize("query", [{"page": 10000}, {"page_size": 100}, {"page_size": 1}])
def test_household_paging_bounds_are_inclusive(client, make_compound, make_user, query):
    compound = make_compound()
    assert households(client, compound, make_user(Role.COMMITTEE, compound), **query).status_code == 200


@pytest.mark.parametrize("compound_id", [str(HUGE_ID), "0", "abc"])
def test_household_list_of_impossible_compound_is_404(client, make_user, compound_id):
    response = client.get(
        f"/api/v1/compounds/{compound_id}/households", headers=bearer_for(make_user(Role.ADMIN))
    )
    assert_error_shape(response, 404)


# ---- the officials' assessment (problem compound, open problems) ------------------------------------

ASSESSMENT = {"is_problem_compound", "open_problems"}


@pytest.fixture
def problem_compound(area_tree, make_compound):
    compound = make_compound(area=area_tree[3])
    compound.is_problem_compound = True
    compound.open_problems = "业委会长期空缺"
    db.session.commit()
    return compound


@pytest.mark.parametrize("role", [Role.COMMITTEE, Role.PARTY_SECRETARY, Role.STAFF, Role.MANAGER])
def test_who_runs_the_compound_reads_its_assessment(client, problem_compound, make_user, role):
    headers = bearer_for(make_user(role, problem_compound))
    detail = client.get(f"/api/v1/compounds/{problem_compound.id}", headers=headers).json
    assert (detail["is_problem_compound"], detail["open_problems"]) == (True, "业委会长期空缺")
    assert set(client.get("/api/v1/compounds", headers=headers).json["items"][0]) >= ASSESSMENT


def test_official_above_reads_the_assessment_in_detail_and_list(client, area_tree, problem_compound, make_user):
    headers = bearer_for(make_user(Role.OFFICIAL, area=area_tree[2]))
    assert client.get(f"/api/v1/compounds/{problem_compound.id}", headers=headers).json["is_problem_compound"] is True
    assert client.get("/api/v1/compounds", headers=headers).json["items"][0]["open_problems"] == "业委会长期空缺"


@pytest.mark.parametrize("role", [Role.OWNER, Role.RESIDENT])
def test_residents_read_the_compound_without_the_assessment(client, problem_compound, make_user, role):
    headers = bearer_for(make_user(role, problem_compound, household=first_household(problem_compound)))
    detail = client.get(f"/api/v1/compounds/{problem_compound.id}", headers=headers).json
    listed = client.get("/api/v1/compounds", headers=headers).json["items"][0]
    assert detail["name"] == problem_compound.name and not ASSESSMENT & set(detail)
    assert not ASSESSMENT & set(listed)


def test_qr_visitor_reads_the_compound_without_the_assessment(client, problem_compound):
    detail = client.get(f"/api/v1/compounds/{problem_compound.id}", headers=entry_header(problem_compound)).json
    assert detail["name"] == problem_compound.name and not ASSESSMENT & set(detail)
