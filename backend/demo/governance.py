"""The demo's party and self-governance records: both compounds' current state as the first history row (阳光花园's
业委会 term ends within 90 days, so its reminder is due), and a first secretary (李红梅) sent by the district to
五十四街坊 with goals and this month's log."""
from __future__ import annotations

from datetime import datetime, timedelta

from backend.demo import factories
from backend.domain.compounds import GovernanceBody, PartyOrgForm
from backend.extensions import db
from backend.models import Compound
from backend.services import first_secretaries, governance
from backend.shared.clock import SHANGHAI


def make_governance(compound_ids: list[int], official_id: int, district_official_id: int, password_hash: str,
                    now: datetime) -> int:
    """Returns the first secretary's user id."""
    today = now.astimezone(SHANGHAI).date()
    first, second = (db.session.get(Compound, compound_id) for compound_id in compound_ids)
    governance.apply(first, {
        "party_org_form": PartyOrgForm.SINGLE, "party_secretary_name": "李红梅", "party_members": 23,
        "body": GovernanceBody.OWNERS_COMMITTEE, "body_formed_on": today - timedelta(days=5 * 365 - 80),
        "body_term_ends_on": today + timedelta(days=80), "body_members": 5,
    }, official_id, governance.SOURCE_FORM)
    governance.apply(second, {
        "party_org_form": PartyOrgForm.SINGLE, "party_secretary_name": "李红梅", "party_members": 9,
        "body": GovernanceBody.OWNERS_COMMITTEE, "body_formed_on": today - timedelta(days=400),
        "body_term_ends_on": today + timedelta(days=5 * 365 - 400), "body_members": 3,
    }, official_id, governance.SOURCE_FORM)
    secretary = factories.make_user("first_secretary", "李红梅", password_hash)
    db.session.commit()
    secretary_id = secretary.id
    assignment = first_secretaries.assign(
        second.id, district_official_id, user_id=secretary_id, started_on=today - timedelta(days=45),
        goals="半年内理顺物业收费，推动成立业主委员会，每月走访不少于30户。",
    )
    first_secretaries.write_log(assignment.id, secretary_id,
                                "本月走访住户32户，收集诉求9条；召开党员议事会1次，研究楼道照明和雨污管网问题。")
    return secretary_id
