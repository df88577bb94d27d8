"""What the environment campaign (卫生评比, 垃圾分类) screens show, built once for the API to dump and the pages to
render: a campaign with its rounds and this person's actions, a round's ranking (红旗楼栋) with its findings, a finding
with its photos and links, the score form, and a compound's board of its own buildings' ranks."""
from __future__ import annotations

from backend.domain import campaigns as rules
from backend.domain.campaigns import CAMPAIGN_KIND_LABELS, CAMPAIGN_STATUS_LABELS, CampaignAction
from backend.domain.rectifications import RESPONSIBLE_PARTY_LABELS
from backend.models import CampaignFinding, CampaignPhoto, EnvironmentCampaign
from backend.services import campaigns as service
from backend.services.campaigns import Standing


def photo_url(finding_id: int, photo_id: int) -> str:
    return f"/api/v1/campaign-findings/{finding_id}/photos/{photo_id}"


def _photo(photo: CampaignPhoto) -> dict:
    return {"id": photo.id, "url": photo_url(photo.finding_id, photo.id), "width": photo.width,
            "height": photo.height}


def _checklist(campaign: EnvironmentCampaign) -> list[dict]:
    return [{"name": item.name, "max_points": item.max_points} for item in service.checklist_of(campaign)]


def _brief(campaign: EnvironmentCampaign) -> dict:
    return {"id": campaign.id, "title": campaign.title, "kind": campaign.kind,
            "kind_label": CAMPAIGN_KIND_LABELS[campaign.kind], "status": campaign.status,
            "status_label": CAMPAIGN_STATUS_LABELS[campaign.status], "red_flag_count": campaign.red_flag_count,
            "max_total": rules.max_total(service.checklist_of(campaign))}


def _finding(finding: CampaignFinding, photos: list[CampaignPhoto], standing: Standing) -> dict:
    actions = {action for action in (CampaignAction.TO_WORK_ORDER, CampaignAction.TO_RECTIFICATION)
               if action in standing.actions}
    if finding.work_order_id is not None:
        actions.discard(CampaignAction.TO_WORK_ORDER)
    if finding.rectification_id is not None:
        actions.discard(CampaignAction.TO_RECTIFICATION)
    return {"id": finding.id, "round_id": finding.round_id, "building_id": finding.building_id,
            "item": finding.item, "note": finding.note, "work_order_id": finding.work_order_id,
            "rectification_id": finding.rectification_id, "created_at": finding.created_at,
            "photos": [_photo(photo) for photo in photos], "actions": actions}


def campaign(campaign_id: int, user_id: int | None) -> dict:
    """The campaign as those who run or score it see it: its checklist, compounds, evaluators and rounds."""
    found, standing = service.seen_by(campaign_id, user_id)
    return _brief(found) | {
        "area_name": service.area_name(found.area_id), "checklist": _checklist(found),
        "compounds": [{"id": each.id, "name": each.name} for each in service.compounds_of(found.id)],
        "evaluators": service.evaluator_names(found.id),
        "rounds": [{"id": each.id, "number": each.number, "inspected_on": each.inspected_on}
                   for each in service.rounds_of(found.id)],
        "created_at": found.created_at, "actions": standing.actions,
    }


def round_view(round_id: int, user_id: int | None) -> dict:
    """A round's ranking (best first, ties share a rank, 红旗楼栋 flagged), each scored building with its points and
    findings, and the buildings not scored yet."""
    held, found, standing = service.round_seen_by(round_id, user_id)
    ranked = service.ranking(found, held.id)
    findings = service.findings_of_round(held.id)
    photos: dict[int, list[CampaignPhoto]] = {}
    for photo in service.photos_of([finding.id for finding in findings]):
        photos.setdefault(photo.finding_id, []).append(photo)
    by_building: dict[int, list[dict]] = {}
    for finding in findings:
        by_building.setdefault(finding.building_id, []).append(_finding(finding, photos.get(finding.id, []), standing))
    scored = {row.score.building_id for row in ranked}
    return {
        "id": held.id, "number": held.number, "inspected_on": held.inspected_on, "campaign": _brief(found),
        "checklist": _checklist(found),
        "ranking": [{"building_id": row.score.building_id, "building_name": row.building_name,
                     "compound_id": row.score.compound_id, "compound_name": row.compound_name,
                     "rank": row.rank, "total": row.score.total, "red_flag": row.red_flag,
                     "points": [{"item": item["name"], "points": row.score.points.get(item["name"], 0)}
                                for item in found.checklist],
                     "note": row.score.note, "findings": by_building.get(row.score.building_id, [])}
                    for row in ranked],
        "unscored": [{"building_id": building.id, "building_name": building.name, "compound_name": compound}
                     for building, compound in service.buildings_of(found.id) if building.id not in scored],
        "actions": standing.actions & {CampaignAction.SCORE},
    }


def score_form(round_id: int, building_id: int, user_id: int | None) -> dict:
    """What the score form offers: the checklist with the points given before (or full marks), and the findings."""
    held, found, standing = service.round_seen_by(round_id, user_id)
    building = service.building_in_campaign(found.id, building_id)
    score = service.score_of(held.id, building.id)
    given = score.points if score is not None else {}
    notes = {finding.item: finding.note for finding in service.findings_of_round(held.id)
             if finding.building_id == building.id}
    return {"round_id": held.id, "number": held.number, "campaign": _brief(found), "building_id": building.id,
            "building_name": building.name,
            "items": [{"name": item["name"], "max_points": item["max_points"],
                       "points": given.get(item["name"], item["max_points"]), "finding": notes.get(item["name"], "")}
                      for item in found.checklist],
            "note": score.note if score is not None else "", "actions": standing.actions & {CampaignAction.SCORE}}


def finding(finding_id: int, user_id: int | None) -> dict:
    found_finding, found, standing = service.finding_seen_by(finding_id, user_id)
    return _finding(found_finding, service.photos_of([found_finding.id]), standing) | {
        "campaign": _brief(found), "party_labels": RESPONSIBLE_PARTY_LABELS}


def photo(finding_id: int, photo_id: int, user_id: int | None) -> CampaignPhoto | None:
    return service.visible_photo(finding_id, photo_id, user_id)


def mine(user_id: int) -> dict:
    """The campaigns a person runs or scores, and the areas where they may start one."""
    return {"items": [_brief(each) for each in service.my_campaigns(user_id)],
            "areas": [{"id": area.id, "name": area.name} for area in service.official_areas(user_id)]}


def compound_board(compound_id: int, user_id: int | None, entry_compound_id: int | None = None) -> dict:
    """A compound's buildings in each campaign covering it: rank among all buildings ranked in the latest scored
    round, total and red flag; how many were ranked and how many flags flew. Nothing of other compounds by name."""
    return {"compound_id": compound_id, "campaigns": [
        _brief(entry.campaign) | {
            "round": {"number": entry.round.number, "inspected_on": entry.round.inspected_on}
            if entry.round is not None else None,
            "ranked": entry.ranked, "red_flags": entry.red_flags,
            "buildings": [{"building_id": row.score.building_id, "building_name": row.building_name,
                           "rank": row.rank, "total": row.score.total, "red_flag": row.red_flag}
                          for row in entry.buildings],
        }
        for entry in service.compound_board(compound_id, user_id, entry_compound_id)]}


def has_campaign_work(user_id: int | None) -> bool:
    """An official or admin (who may start campaigns) or an appointed evaluator: the start page links to 环境评比."""
    return user_id is not None and service.has_campaign_work(user_id)
