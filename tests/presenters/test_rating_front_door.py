"""One front door for a rating round (评星定级): at every step and for every person, the API's `actions` and the
page's data-action marks are the same, and both doors hide the round from the same people."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine

from backend.extensions import db
from backend.models import RatingObjection
from tests.api.test_rating import METHOD, World, headers, put_method, start_round, step, surveys
from tests.api.test_rating import world as world  # noqa: PLC0414  (the fixture)
from tests.presenters.two_doors import actions_on, api_headers, browser, text

PEOPLE = ["district_official", "street_official", "city_official", "community_official", "other_official",
          "resident", "stranger"]


def both_doors(app, client, round_id: int, person) -> tuple[int, set[str] | None, int, set[str] | None]:
    api = client.get(f"/api/v1/rating-rounds/{round_id}", headers=api_headers(person))
    page = browser(app, person).get(f"/h5/rating/rounds/{round_id}")
    api_actions = set(api.json["actions"]) if api.status_code == 200 else None
    page_actions = actions_on(text(page)) if page.status_code == 200 else None
    return api.status_code, api_actions, page.status_code, page_actions


def assert_same(app, client, world: World, round_id: int) -> dict[str, set[str] | None]:
    seen = {}
    for name in PEOPLE:
        api_status, api_actions, page_status, page_actions = both_doors(app, client, round_id, getattr(world, name))
        assert (api_status, api_actions) == (page_status, page_actions), name
        seen[name] = api_actions
    return seen


def test_the_rounds_actions_are_the_same_through_both_doors_at_every_step(app, client, world):
    put_method(client, world, METHOD)
    surveys(world)
    round_id = start_round(client, app, world)["id"]
    computed = assert_same(app, client, world, round_id)
    assert computed["street_official"] == {"review", "export"}
    assert computed["district_official"] == {"export"}
    assert computed["city_official"] == {"export"}
    # A community official below reads the ranking only once it is public; the 红黑榜 never.
    assert computed["community_official"] is None
    assert computed["resident"] is None and computed["other_official"] is None

    step(client, round_id, "review", world.street_official)
    reviewed = assert_same(app, client, world, round_id)
    assert reviewed["district_official"] == {"confirm", "export"}
    assert reviewed["city_official"] == {"confirm", "export"}
    assert reviewed["street_official"] == {"export"}
    assert reviewed["community_official"] is None

    ends = datetime.fromisoformat(step(client, round_id, "confirm", world.district_official).json["publicity_ends_at"])
    client.post(f"/api/v1/rating-rounds/{round_id}/objections", headers=headers(world.resident),
                json={"reason": "分数偏高"})
    publicity = assert_same(app, client, world, round_id)
    assert publicity["resident"] == {"object"}
    assert publicity["district_official"] == {"answer", "export"}
    assert publicity["stranger"] is None
    assert publicity["community_official"] == set()

    with time_machine.travel(ends + timedelta(minutes=1), tick=False):
        objection = db.session.scalar(db.select(RatingObjection).where(RatingObjection.round_id == round_id))
        client.post(f"/api/v1/rating-objections/{objection.id}/answer", headers=headers(world.district_official),
                    json={"answer": "已复核"})
        over = assert_same(app, client, world, round_id)
        assert over["district_official"] == {"publish", "export"}
        assert over["resident"] == set()


@pytest.mark.parametrize("person", ["resident", None])
def test_the_company_page_is_the_same_through_both_doors(app, client, world, person):
    someone = getattr(world, person) if person else None
    api = client.get(f"/api/v1/companies/{world.a.id}", headers=api_headers(someone))
    page = browser(app, someone).get(f"/h5/companies/{world.a.id}")
    assert api.status_code == page.status_code == 200
    assert api.json["name"] in text(page) and "尚未评星" in text(page)
