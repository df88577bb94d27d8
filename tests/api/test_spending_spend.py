"""A spending request above the threshold cannot be spent before the owners' vote passes; the vote's item matches the
purpose. Spent through the journal's API (POST /api/v1/compounds/<id>/fund-entries)."""
from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from backend.domain.compounds import ManagementModel
from backend.domain.funds import AccountKind
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import FundAccount, FundEntry, Household, User
from backend.services.auth import issue_tokens
from backend.shared.clock import beijing_date, utcnow
from tests import photo_samples as samples

VOUCHER_FIELD = "vouchers"
MOTION = [{"label": "同意", "is_approval": True}, {"label": "不同意"}, {"label": "弃权", "is_abstain": True}]


def bearer(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"}


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def expense(client, compound_id: int, account_id: int, request_id: int, user: User, amount_fen: int):
    form = {"account_id": str(account_id), "entry_date": beijing_date(utcnow()).isoformat(), "category": "repair",
            "amount_fen": str(amount_fen), "counterparty": "电梯维保公司", "note": "电梯大修首付款",
            "spending_request_id": str(request_id), VOUCHER_FIELD: [samples.camera_jpeg(160, 120).upload()]}
    return client.post(f"/api/v1/compounds/{compound_id}/fund-entries", data=form, headers=bearer(user),
                       content_type="multipart/form-data")


def test_above_the_threshold_nothing_is_spent_before_the_owners_vote_of_the_purposes_item_passes(
        client, area_tree, make_compound, make_user):
    compound = make_compound(area=area_tree[3], model=ManagementModel.TRUST, buildings=2, households_per_building=4)
    homes = list(db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                    .order_by(Household.id)))
    owners = [make_user(Role.OWNER, compound, household=home) for home in homes]
    requester, member = make_user(Role.COMMITTEE, compound), make_user(Role.COMMITTEE, compound)
    today = beijing_date(utcnow())
    account = FundAccount(compound_id=compound.id, kind=AccountKind.TRUST, bank_name="成都银行",
                          account_no_masked="****1234", holder="五十四街坊业主大会", opening_balance_fen=5_000_000,
                          opened_on=today.replace(day=1))
    db.session.add(account)
    db.session.commit()

    with time_machine.travel(utcnow(), tick=False) as clock:
        filed = ok(client.post(f"/api/v1/compounds/{compound.id}/spending-requests", headers=bearer(requester),
                               content_type="multipart/form-data", data={
                                   "title": "电梯大修", "purpose": "maintenance_fund", "amount_fen": "800000",
                                   "category": "repair", "payee": "电梯维保公司",
                                   "quotes": [samples.camera_jpeg(160, 120).upload()]}), 201)
        assert (filed["status"], filed["vote"]["civil_code_item"]) == ("voting", 5)
        refused = expense(client, compound.id, account.id, filed["id"], requester, 300_000)
        assert refused.status_code == 422, refused.get_json()
        assert "spending_request_id" in str(refused.get_json())

        topic_id = filed["topic"]["id"]
        start = utcnow()
        ok(client.post(f"/api/v1/topics/{topic_id}/review", headers=bearer(member), json={
            "decision": "accept", "vote_kind": "owners_joint", "civil_code_item": 5,
            "deliberation_ends_at": (start + timedelta(days=3)).isoformat(), "voting_hours": 72,
            "publicity_days": 7, "responsible_party": "业委会"}))
        options = ok(client.put(f"/api/v1/topics/{topic_id}/options", headers=bearer(member),
                                json={"options": MOTION}))["items"]
        yes = next(option["id"] for option in options if option["label"] == "同意")
        ok(client.post(f"/api/v1/topics/{topic_id}/ballot/open", headers=bearer(member)))
        for owner in owners[:-1]:
            ok(client.put(f"/api/v1/topics/{topic_id}/vote", headers=bearer(owner), json={"option_id": yes}))
        still_voting = expense(client, compound.id, account.id, filed["id"], requester, 300_000)
        assert still_voting.status_code == 422, still_voting.get_json()
        clock.move_to(start + timedelta(hours=73))
        assert ok(client.post(f"/api/v1/topics/{topic_id}/ballot/close", headers=bearer(member)))["passed"]

        ok(expense(client, compound.id, account.id, filed["id"], requester, 300_000), 201)
        # Never above the request's amount.
        over = expense(client, compound.id, account.id, filed["id"], requester, 500_001)
        assert over.status_code == 422, over.get_json()
        assert db.session.scalar(select(func.count()).where(FundEntry.spending_request_id == filed["id"])) == 1
