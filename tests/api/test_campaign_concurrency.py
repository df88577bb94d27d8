"""Environment campaigns under parallel requests (PostgreSQL): the same building scored from several phones at once
keeps one score row; a round started from several phones on the same day is one round; a finding tapped into a work order and a rectification item from several phones at once
makes one of each, and every tap answers the same one."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.domain.campaigns import DEFAULT_CHECKLIST, CampaignKind
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import BuildingScore, CampaignFinding, CampaignRound, Inspection, WorkOrder
from backend.services import campaigns as service
from backend.services.auth import issue_tokens
from tests.support import buildings_of, race


@pytest.mark.postgresql
@pytest.mark.live
def test_parallel_scores_and_taps_make_one_score_one_order_and_one_rectification(app, area_tree, make_compound,
                                                                                 make_user):
    _, _, street, community = area_tree
    compound = make_compound(area=community, buildings=1, households_per_building=1)
    official = make_user(Role.OFFICIAL, area=street)
    campaign = service.create_campaign(street.id, official.id, title="整治", kind=CampaignKind.CLEAN_UP, checklist=[],
                                       red_flag_count=1)
    held = service.add_round(campaign.id, official.id, service.today())
    (building,) = buildings_of(compound)
    service.record_score(held.id, building.id, official.id, {item.name: 20 for item in DEFAULT_CHECKLIST}, "",
                         [service.FindingDraft("小广告", "电梯间小广告")])
    finding_id = db.session.scalar(select(CampaignFinding.id))
    token = {"Authorization": f"Bearer {issue_tokens(official)[0]}"}
    round_id, building_id, compound_id, campaign_id = held.id, building.id, compound.id, campaign.id
    deadline = service.today() + timedelta(days=5)
    db.session.commit()
    db.session.close()

    scores = [("PUT", f"/api/v1/campaign-rounds/{round_id}/buildings/{building_id}/score", token,
               {"points": [{"item": item.name, "points": points} for item in DEFAULT_CHECKLIST]})
              for points in range(8)]
    orders = [("POST", f"/api/v1/campaign-findings/{finding_id}/work-order", token, {})] * 6
    items = [("POST", f"/api/v1/campaign-findings/{finding_id}/rectification", token,
              {"responsible_party": "company", "deadline": deadline.isoformat()})] * 6
    rounds = [("POST", f"/api/v1/campaigns/{campaign_id}/rounds", token,
               {"inspected_on": (deadline - timedelta(days=6)).isoformat()})] * 4
    results = race(app, scores + orders + items + rounds)
    assert [status for status, _ in results] == [200] * 20 + [201] * 4, results
    assert len({body["id"] for _, body in results[20:]}) == 1
    assert len({body["work_order_id"] for _, body in results[8:14]}) == 1
    assert len({body["rectification_id"] for _, body in results[14:20]}) == 1
    assert db.session.scalar(select(func.count()).select_from(BuildingScore)) == 1
    assert db.session.scalar(select(func.count()).select_from(CampaignRound)) == 2
    assert db.session.scalar(select(BuildingScore.total)) in {points * len(DEFAULT_CHECKLIST) for points in range(8)}
    assert db.session.scalar(select(func.count()).select_from(WorkOrder).where(WorkOrder.compound_id == compound_id)) == 1
    assert db.session.scalar(select(func.count()).select_from(Inspection).where(
        Inspection.compound_id == compound_id)) == 1
