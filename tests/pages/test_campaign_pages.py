"""Environment campaign pages without JavaScript: an official starts a campaign from the page with its own checklist
lines; a bad checklist and points over an item's maximum are refused on the form, keeping what was typed; a closed
campaign offers no forms."""
from __future__ import annotations

import html

from backend.domain.roles import Role
from backend.services import campaigns as service
from tests.support import buildings_of


def test_an_official_starts_a_campaign_and_scores_from_the_pages(client, page_sign_in, area_tree, make_compound,
                                                                  make_user):
    community = area_tree[3]
    compound = make_compound(area=community, buildings=1, households_per_building=1)
    official = make_user(Role.OFFICIAL, area=community)
    csrf = page_sign_in(client, official)
    url = f"/h5/areas/{community.id}/campaigns/new"
    assert "楼道堆物 20" in client.get(url).get_data(as_text=True)
    refused = client.post(url, data={"csrf_token": csrf, "title": "垃圾分类评比", "kind": "sorting",
                                     "red_flag_count": "1", "checklist_lines": "分类准确\n桶边整洁 50"})
    text = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422 and "每项满分须为1–100分" in text and "桶边整洁 50" in text
    created = client.post(url, data={"csrf_token": csrf, "title": "垃圾分类评比", "kind": "sorting",
                                     "red_flag_count": "1", "checklist_lines": "分类准确 50\n桶边整洁 50"})
    assert created.status_code == 302
    campaign_id = int(created.headers["Location"].rsplit("/", 1)[1])
    started = client.post(f"/h5/campaigns/{campaign_id}/rounds",
                          data={"csrf_token": csrf, "inspected_on": service.today().isoformat()})
    assert started.status_code == 302
    round_id = int(started.headers["Location"].rsplit("/", 1)[1])
    (building,) = buildings_of(compound)
    score_url = f"/h5/campaign-rounds/{round_id}/buildings/{building.id}/score"
    over = client.post(score_url, data={"csrf_token": csrf, "points_0": "60", "points_1": "50",
                                        "finding_1": "桶边有散落垃圾"})
    text = html.unescape(over.get_data(as_text=True))
    assert over.status_code == 422 and "“分类准确”的得分须在0–50分之间" in text and "桶边有散落垃圾" in text
    saved = client.post(score_url, data={"csrf_token": csrf, "points_0": "45", "points_1": "40",
                                         "finding_1": "桶边有散落垃圾"})
    assert saved.status_code == 302
    ranking = html.unescape(client.get(f"/h5/campaign-rounds/{round_id}").get_data(as_text=True))
    assert "第1名" in ranking and "85分" in ranking and "问题：桶边整洁（0张照片）" in ranking

    assert client.post(f"/h5/campaigns/{campaign_id}/close", data={"csrf_token": csrf}).status_code == 302
    closed = client.get(f"/h5/campaigns/{campaign_id}").get_data(as_text=True)
    assert "已结束" in closed and 'id="round-form"' not in closed and 'id="close-form"' not in closed
