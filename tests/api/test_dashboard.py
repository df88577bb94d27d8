"""The officials' dashboard API: every figure equals the feature's own endpoint for every compound of the demo;
the area tree scopes it (another street's official 404, residents and staff 403/404); the compound table's
filters, sorts and bounds; the refresh is idempotent."""
from __future__ import annotations

from sqlalchemy import select

from backend.demo import DEMO_PASSWORD
from backend.domain.compounds import AreaLevel, ManagementModel
from backend.domain.roles import Role
from backend.domain.workorders import OPEN_STATUSES
from backend.extensions import db
from backend.models import Area, Compound, CompoundFigures, CompoundMonthFigures
from backend.services import dashboard
from backend.shared.clock import beijing_date, utcnow
from tests.support import first_household


def _demo_bearer(client, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/password", json={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def _all_pages(client, url: str, headers: dict) -> list[dict]:
    items, page = [], 1
    while True:
        answer = client.get(url, query_string={"page": page, "page_size": 100}, headers=headers)
        assert answer.status_code == 200, answer.json
        items += answer.json["items"]
        if len(items) >= answer.json["total"]:
            return items
        page += 1


def _own_figures(client, compound_id: int, headers: dict) -> dict:
    """What each feature's own endpoint says of the compound."""
    periods = _all_pages(client, f"/api/v1/compounds/{compound_id}/collection", headers)
    year = beijing_date(utcnow()).year
    in_year = [p for p in periods if int(p["period_start"][:4]) == year]
    orders = f"/api/v1/compounds/{compound_id}/work-orders"
    open_count = sum(client.get(orders, query_string={"status": status.value}, headers=headers).json["total"]
                     for status in OPEN_STATUSES)
    overdue = client.get(orders, query_string={"overdue": "true"}, headers=headers).json["total"]
    held = eligible = voted = 0
    for topic in _all_pages(client, f"/api/v1/compounds/{compound_id}/topics", headers):
        result = client.get(f"/api/v1/topics/{topic['id']}/result", headers=headers)
        if result.status_code == 200 and int(result.json["computed_at"][:4]) >= year - 1:
            # The dashboard counts ballots closed in the Beijing year; the demo's are all recent.
            held += 1
            eligible += result.json["eligible_households"]
            voted += result.json["participating_households"]
    newest = periods[0] if periods else None
    return {
        "period_start": newest["period_start"] if newest else None,
        "period": {k: newest[k] for k in ("billed_households", "paid_households", "billed_fen", "paid_fen")}
        if newest else {"billed_households": 0, "paid_households": 0, "billed_fen": 0, "paid_fen": 0},
        "year": {k: sum(p[k] for p in in_year)
                 for k in ("billed_households", "paid_households", "billed_fen", "paid_fen")},
        "orders_open": open_count, "orders_overdue": overdue,
        "deliberations_held": held, "turnout_eligible": eligible, "turnout_households": voted,
    }


def test_every_demo_figure_equals_the_features_own_endpoint(client, demo):
    dashboard.refresh()
    headers = _demo_bearer(client, "official")
    street_id = db.session.scalar(select(Area.id).where(Area.level == AreaLevel.STREET))
    table = _all_pages(client, f"/api/v1/areas/{street_id}/compounds", headers)
    assert table and {line["id"] for line in table} == set(db.session.scalars(
        select(Compound.id).join(Area).where(Area.path.startswith(db.session.get(Area, street_id).path))))
    walked = 0
    for line in table:
        own, shown = _own_figures(client, line["id"], headers), line["figures"]
        assert shown["period_start"] == own["period_start"], line["name"]
        for key in ("billed_households", "paid_households", "billed_fen", "paid_fen"):
            assert shown["period"][key] == own["period"][key], (line["name"], key)
            assert shown["year"][key] == own["year"][key], (line["name"], key)
        for key in ("orders_open", "orders_overdue", "turnout_eligible", "turnout_households"):
            assert shown[key] == own[key], (line["name"], key)
        walked += 1
    assert walked == len(table)
    # The walk compared something: the demo has bills, open and overdue orders and closed ballots.
    assert all(sum(line["figures"][key] for line in table) > 0
               for key in ("orders_open", "orders_overdue", "turnout_eligible", "deliberations_held"))
    assert sum(line["figures"]["year"]["paid_fen"] for line in table) > 0
    # The area's totals are its compounds added up, to the fen.
    board = client.get(f"/api/v1/areas/{street_id}/dashboard", headers=headers).json
    assert board["totals"]["period"]["paid_fen"] == sum(line["figures"]["period"]["paid_fen"] for line in table)
    assert board["totals"]["orders_overdue"] == sum(line["figures"]["orders_overdue"] for line in table)


def test_the_refresh_is_idempotent(demo):
    now = utcnow()
    dashboard.refresh(now=now)
    first = [tuple(row) for row in db.session.execute(select(CompoundFigures.__table__)).all()]
    months = [tuple(row) for row in db.session.execute(select(CompoundMonthFigures.__table__)).all()]
    dashboard.refresh(now=now)
    assert [tuple(row) for row in db.session.execute(select(CompoundFigures.__table__)).all()] == first
    assert [tuple(row) for row in db.session.execute(select(CompoundMonthFigures.__table__)).all()] == months


def _street_with_compounds(make_area, make_compound, parent, count=2):
    street = make_area(level=AreaLevel.STREET, parent=parent)
    community = make_area(level=AreaLevel.COMMUNITY, parent=street)
    return street, community, [make_compound(area=community) for _ in range(count)]


def test_scope_by_the_area_tree(client, make_area, make_compound, make_user, sign_in, area_tree):
    city, district, _, _ = area_tree
    mine, my_community, my_compounds = _street_with_compounds(make_area, make_compound, district)
    other, _, other_compounds = _street_with_compounds(make_area, make_compound, district)
    dashboard.refresh([c.id for c in my_compounds + other_compounds])
    official = sign_in(make_user(Role.OFFICIAL, area=mine))
    listed = client.get(f"/api/v1/areas/{mine.id}/compounds", headers=official)
    assert {item["id"] for item in listed.json["items"]} == {c.id for c in my_compounds}
    board = client.get(f"/api/v1/areas/{mine.id}/dashboard", headers=official).json
    assert board["compounds"] == 2 and [child["id"] for child in board["children"]] == [my_community.id]
    assert board["totals"]["households"] == 16
    # Drill-down goes below, never sideways or up.
    assert client.get(f"/api/v1/areas/{my_community.id}/dashboard", headers=official).status_code == 200
    for area in (other, district, city):
        for path in ("dashboard", "compounds"):
            assert client.get(f"/api/v1/areas/{area.id}/{path}", headers=official).status_code in (403, 404)
    assert client.get(f"/api/v1/areas/{other.id}/dashboard", headers=official).status_code == 404
    district_official = sign_in(make_user(Role.OFFICIAL, area=district))
    assert client.get(f"/api/v1/areas/{district.id}/compounds", headers=district_official).json["total"] >= 4
    home = first_household(my_compounds[0])
    for role in (Role.RESIDENT, Role.STAFF, Role.COMMITTEE):
        person = sign_in(make_user(role, compound=my_compounds[0], household=home if role is Role.RESIDENT else None))
        for area in (mine, my_community, other):
            assert client.get(f"/api/v1/areas/{area.id}/dashboard", headers=person).status_code in (403, 404)
            assert client.get(f"/api/v1/areas/{area.id}/compounds", headers=person).status_code in (403, 404)
    assert client.get(f"/api/v1/areas/{mine.id}/dashboard").status_code == 401


def test_the_table_filters_sorts_and_refuses_bad_input(client, make_area, make_compound, make_user, sign_in):
    street, community, compounds = _street_with_compounds(make_area, make_compound, None, count=3)
    compounds[1].management_model = ManagementModel.TRUST
    db.session.commit()
    dashboard.refresh([c.id for c in compounds])
    headers = sign_in(make_user(Role.OFFICIAL, area=street))
    url = f"/api/v1/areas/{street.id}/compounds"
    trust = client.get(url, query_string={"model": "trust"}, headers=headers).json
    assert [item["id"] for item in trust["items"]] == [compounds[1].id]
    assert client.get(url, query_string={"street": community.id}, headers=headers).json["total"] == 3
    assert client.get(url, query_string={"flag": "any"}, headers=headers).json["total"] == 0
    paged = client.get(url, query_string={"sort": "overdue", "page": 2, "page_size": 2}, headers=headers).json
    assert paged["total"] == 3 and len(paged["items"]) == 1
    for bad in ({"sort": "drop table"}, {"page": 0}, {"page_size": 1000}, {"model": "x"}, {"flag": "x"},
                {"area_id": 2**31}):
        assert client.get(url, query_string=bad, headers=headers).status_code == 422, bad
    assert client.get("/api/v1/areas/2147483648/compounds", headers=headers).status_code == 404
