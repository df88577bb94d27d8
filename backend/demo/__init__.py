"""Demo data for `make run` and the benchmarks: one street, two compounds, ~120 households, a user per role,
a handful of work orders in every state, a deliberation topic in every step of the five-step method, four
months of property fee bills under a 先买后补 subsidy, partly paid online and in cash, last quarter's
satisfaction survey and rating round to 授牌, this quarter's survey open, three notices, two dispute cases, a
supervision inspection with one item open and one accepted, both compounds' governance history and a first
secretary with her log, both compounds' public money (公共账本), 东区's problem-compound thresholds with the flags
they raise, and the street's monthly report made of it all (`load_demo`); on request
a `bench` compound scaled to any number of households (`bench`) and any number of work orders spread over the
last six months (`bench_work_orders`). Built on the factories the tests use (`factories`)."""
from __future__ import annotations

from dataclasses import dataclass

from backend.demo.activities import make_activities
from backend.demo.announcements import make_announcements
from backend.demo.backbones import make_backbones
from backend.demo.campaigns import make_campaigns
from backend.demo.contracts import make_contracts
from backend.demo.council import Council
from backend.demo.disputes import make_disputes
from backend.demo.evaluation import make_evaluation
from backend.demo.fees import make_fees
from backend.demo.flags import make_flags
from backend.demo.funds import make_funds
from backend.demo.governance import make_governance
from backend.demo.inspections import make_inspections
from backend.demo.people import DEMO_PASSWORD, make_people
from backend.demo.places import demo_compound, demo_loaded, make_places
from backend.demo.renovation import make_renovation
from backend.demo.reports import make_reports
from backend.demo.topics import make_topics
from backend.demo.work_orders import make_work_orders
from backend.domain.compounds import AreaLevel
from backend.extensions import db
from backend.services.dashboard import refreshed_after
from backend.shared.clock import utcnow

__all__ = ["DEMO_PASSWORD", "Demo", "demo_compound", "load_demo"]


@dataclass(frozen=True)
class Demo:
    """What `load_demo` made, as ids: they stay good after the session that made the rows is gone."""

    # The city, district, street (炳草岗街道) and community (金沙社区).
    areas: dict[AreaLevel, int]
    # By code: `yangguang` (阳光花园, where the demo's people and stories live) and `wushisi` (五十四街坊).
    compounds: dict[str, int]
    # Every account by username: admin, official, secretary, committee, manager, staff, owner, tenant, owner2,
    # owner01…owner40, staff2, district (the district's housing official), evaluator (a third-party surveyor),
    # first_secretary (sent to 五十四街坊), committee2 and committee3 (五十四街坊's committee, who keep its books);
    # all sign in with DEMO_PASSWORD.
    users: dict[str, int]
    # The household of each verified resident by username (owner and tenant share one).
    homes: dict[str, int]


def load_demo() -> Demo | None:
    """Load the demo once, at the current clock; None when it is already there. The dashboard's figures are
    refreshed once at the end."""
    if demo_loaded():
        return None
    with refreshed_after():
        return _load()


def _load() -> Demo:
    now = utcnow()
    places = make_places()
    people = make_people(places, now)
    make_work_orders(places, people, now)
    # Read before the commit expires the rows they come from.
    areas = {level: area.id for level, area in places.areas.items()}
    compounds = {places.first.code: places.first.id, places.second.code: places.second.id}
    first_id = places.first.id
    db.session.commit()
    make_topics(Council(first_id, people.accounts, people.homes), now)
    cashier_id = make_fees(places, people, now)
    evaluation = make_evaluation(places, people, now)
    make_announcements(first_id, areas[AreaLevel.STREET], people.accounts, now)
    make_disputes(first_id, people.accounts, dict(people.homes), now)
    make_inspections(first_id, people.accounts, now)
    first_secretary_id = make_governance([first_id, compounds["wushisi"]], people.accounts["official"], evaluation.district_official,
                    people.password_hash, now)
    treasurers = make_funds(compounds, people.accounts | {"first_secretary": first_secretary_id}, people.password_hash,
                            now)
    make_flags(areas[AreaLevel.DISTRICT], evaluation.district_official, list(compounds.values()), now)
    # Issue 19: 社区活动 (no notices: signing up tells nobody but the screen).
    make_activities(first_id, people.accounts, now)
    # Issue 19.
    make_renovation(first_id, people.accounts, now)
    # Issue 19, contracts: the first compound's contract in force and its takeover inspection.
    make_contracts(first_id, people.accounts, now)
    # Issue 19: the 治理骨干 roster.
    make_backbones(first_id, people.accounts, dict(people.homes), now)
    # Issue 19: environment campaigns.
    make_campaigns(areas[AreaLevel.STREET], people.accounts["official"], now)
    # Last: the report is made of everything above.
    make_reports(areas[AreaLevel.STREET], now)
    return Demo(areas=areas, compounds=compounds, homes=dict(people.homes), users=people.accounts | {
        "staff2": cashier_id, "district": evaluation.district_official, "evaluator": evaluation.evaluator,
        "first_secretary": first_secretary_id} | treasurers)
