"""The officials' landing (辖区概况): after signing in, an official sees each compound of their area with its
collection rate and its open and overdue work orders, the area's subtotals, and the settlement one tap away."""
from __future__ import annotations

import re
from datetime import timedelta

import time_machine

from backend.domain.fees import PaymentMethod
from backend.domain.roles import Role
from backend.domain.workorders import Urgency
from backend.extensions import db
from backend.presenters import fees as fee_presenter
from backend.services import payments as payment_service
from backend.services import workorders as workorder_service
from backend.shared.clock import beijing_date, utcnow
from tests.fees_support import issue_bills_for, make_schedule
from tests.support import buildings_of, first_household


def report(user, compound, description):
    return workorder_service.submit_order(
        user_id=user.id, compound_id=compound.id, category="公共设施", description=description,
        urgency=Urgency.NORMAL, building_id=buildings_of(compound)[0].id, location_text="楼道",
    )


def figure(page: str, code: str, name: str) -> str:
    line = page.split(f'data-compound="{code}"', 1)[1]
    return re.search(rf'data-figure="{name}"[^>]*>([^<]*)<', line).group(1)


def test_an_official_lands_on_the_areas_figures(client, area_tree, make_compound, make_user, page_sign_in):
    _city, _district, street, community = area_tree
    jinsha, yangguang = make_compound(name="金沙苑", area=community), make_compound(name="阳光小区", area=community)
    elsewhere = make_compound(name="别区小区")
    official = make_user(role=Role.OFFICIAL, area=street)
    owner = make_user(role=Role.OWNER, compound=jinsha, household=first_household(jinsha))
    staff = make_user(role=Role.STAFF, compound=jinsha)

    # 金沙苑: this month's 8 bills, one paid in cash; two open orders, one of them long overdue.
    month = beijing_date(utcnow()).replace(day=1)
    make_schedule(jinsha, effective_from=month)
    bills = issue_bills_for(jinsha, month)
    payment_service.record_offline_payment(bills[0].id, PaymentMethod.CASH, bills[0].amount_fen - bills[0].subsidy_fen,
                                           "No.0001", staff.id, None)
    with time_machine.travel(utcnow() - timedelta(days=30)):
        report(owner, jinsha, "路灯坏了一个月")
    report(owner, jinsha, "楼道灯不亮")
    report(make_user(role=Role.OWNER, compound=elsewhere, household=first_household(elsewhere)), elsewhere, "别处")
    db.session.commit()

    page_sign_in(client, official)
    page = client.get("/h5/").get_data(as_text=True)
    assert 'id="area-overview"' in page
    assert 'id="settlement-link" href="/h5/settlement"' in page

    newest = fee_presenter.collection(jinsha.id, None, 1, 1).items[0]
    assert newest.paid_households == 1 and newest.billed_households == 8
    assert figure(page, jinsha.code, "collection") == "收缴率 12.5%"
    assert figure(page, jinsha.code, "open") == "在办 2"
    assert figure(page, jinsha.code, "overdue") == "超时 1"
    assert f'href="/h5/c/{jinsha.code}/work-orders?overdue=1"' in page
    assert figure(page, yangguang.code, "collection") == "收缴率 未开账"
    assert figure(page, yangguang.code, "open") == "在办 0"
    # Subtotals of the area; another area's compound is neither listed nor counted.
    assert re.search(r'id="total-open">2<', page) and re.search(r'id="total-overdue">1<', page)
    assert re.search(r'id="total-collection">12\.5%<', page)
    assert f'data-compound="{elsewhere.code}"' not in page


def test_residents_land_without_the_overview(client, make_compound, make_user, page_sign_in):
    compound = make_compound()
    page_sign_in(client, make_user(role=Role.OWNER, compound=compound, household=first_household(compound)))
    page = client.get("/h5/").get_data(as_text=True)
    assert 'id="area-overview"' not in page and "settlement" not in page


def test_the_landing_costs_the_same_statements_for_one_compound_as_for_four(client, area_tree, make_compound,
                                                                           make_user, page_sign_in, count_queries):
    """No query per compound: the collection rates and the orders of every compound are each read once."""
    community = area_tree[3]
    month = beijing_date(utcnow()).replace(day=1)

    def billed_compound():
        compound = make_compound(area=community, buildings=1, households_per_building=2)
        make_schedule(compound, effective_from=month)
        issue_bills_for(compound, month)
        return compound

    billed_compound()
    page_sign_in(client, make_user(role=Role.OFFICIAL, area=community))
    db.session.commit()

    def statements() -> int:
        db.session.expire_all()
        with count_queries() as seen:
            assert client.get("/h5/").status_code == 200
        return len(seen)

    one = statements()
    for _ in range(3):
        billed_compound()
    db.session.commit()
    assert statements() == one
