"""Environment campaigns (卫生评比, 垃圾分类): starting one over an area's compounds, appointing its evaluators,
recording rounds and each building's score (an upsert: a second entry updates), findings with photos, turning a
finding into a work order or a rectification item (once each, under the finding's row lock), the ranking of a round,
and what a compound's people see of it."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import func, or_, select

from backend.domain import campaigns as rules
from backend.domain.campaigns import (
    CampaignAction,
    CampaignKind,
    CampaignRefused,
    CampaignStatus,
    ChecklistItem,
)
from backend.domain.rectifications import ResponsibleParty
from backend.domain.refusals import Kind
from backend.domain.roles import Action, Role
from backend.extensions import db, dialect_insert
from backend.models import (
    Area,
    Building,
    BuildingScore,
    CampaignCompound,
    CampaignEvaluator,
    CampaignFinding,
    CampaignPhoto,
    CampaignRound,
    Compound,
    EnvironmentCampaign,
    Membership,
    User,
)
from backend.policy import ancestor_area_ids, authorize, authorize_area
from backend.services import rectifications as rectification_service
from backend.services import workorders as workorder_service
from backend.services.audit import record_audit
from backend.services.identity import phone_columns, phone_hash
from backend.services.photos import KeptPhoto, PreparedPhoto, kept_only_on_commit, store_photo
from backend.shared.clock import beijing_date, utcnow

NOT_FOUND = "评比不存在"
ROUND_NOT_FOUND = "评比轮次不存在"
FINDING_NOT_FOUND = "问题记录不存在"


@dataclass(frozen=True)
class FindingDraft:
    item: str
    note: str
    photos: Sequence[PreparedPhoto] = field(default=())


@dataclass(frozen=True)
class Standing:
    """A person's standing in one campaign: runs it (an official over its area, an admin), scores for it (an
    appointed evaluator), and the actions the rule gives them."""

    runs: bool
    evaluator: bool
    actions: frozenset[CampaignAction]

    @property
    def knows(self) -> bool:
        return self.runs or self.evaluator


def today() -> date:
    return beijing_date(utcnow())


def _hidden(message: str = NOT_FOUND) -> CampaignRefused:
    return CampaignRefused(message, Kind.NOT_FOUND)


def checklist_of(campaign: EnvironmentCampaign) -> tuple[ChecklistItem, ...]:
    return tuple(ChecklistItem(item["name"], item["max_points"]) for item in campaign.checklist)


# ---- starting a campaign ----------------------------------------------------------------------------------------


def create_campaign(area_id: int, user_id: int | None, *, title: str, kind: CampaignKind,
                    checklist: Sequence[ChecklistItem], red_flag_count: int, compound_ids: Sequence[int] = (),
                    ip: str | None = None) -> EnvironmentCampaign:
    """An official of the area (a community, a street or above) or an admin starts a campaign over every compound
    below the area, or over the ones chosen (each must be below it)."""
    area = authorize_area(Action.RUN_CAMPAIGNS, area_id, user_id)
    kept = rules.normalised_checklist(checklist)
    below = dict(db.session.execute(
        select(Compound.id, Compound.name).join(Area, Area.id == Compound.area_id)
        .where(Area.path.startswith(area.path)).order_by(Compound.id)).all())
    chosen = list(dict.fromkeys(compound_ids)) or list(below)
    if not chosen:
        raise CampaignRefused("该区域下还没有小区", Kind.INVALID)
    outside = [each for each in chosen if each not in below]
    if outside:
        raise CampaignRefused("只能选择本区域内的小区", Kind.INVALID, errors={"compound_ids": ["只能选择本区域内的小区"]})
    campaign = EnvironmentCampaign(
        title=title, kind=kind, area_id=area.id, created_by_id=user_id, red_flag_count=red_flag_count,
        checklist=[{"name": item.name, "max_points": item.max_points} for item in kept],
        status=CampaignStatus.ACTIVE, created_at=utcnow())
    db.session.add(campaign)
    db.session.flush()
    db.session.execute(CampaignCompound.__table__.insert(),
                       [{"campaign_id": campaign.id, "compound_id": each} for each in chosen])
    record_audit(actor_id=user_id, action="campaign.create", target_type="environment_campaign",
                 target_id=campaign.id, compound_id=None, after={"title": title, "compounds": len(chosen)}, ip=ip)
    db.session.commit()
    return campaign


# ---- who a person is to a campaign --------------------------------------------------------------------------------


def standing_in(campaign: EnvironmentCampaign, user_id: int | None) -> Standing:
    if user_id is None:
        return Standing(False, False, frozenset())
    memberships = db.session.execute(
        select(Membership.role, Membership.area_id).where(
            Membership.user_id == user_id, Membership.role.in_((Role.ADMIN, Role.OFFICIAL)))).all()
    path = db.session.scalar(select(Area.path).where(Area.id == campaign.area_id)) or ""
    above = set(ancestor_area_ids(path))
    runs = any(row.role is Role.ADMIN or row.area_id in above for row in memberships)
    evaluator = db.session.get(CampaignEvaluator, (campaign.id, user_id)) is not None
    return Standing(runs, evaluator, rules.allowed_actions(campaign.status, runs=runs, evaluator=evaluator))


def seen_by(campaign_id: int, user_id: int | None) -> tuple[EnvironmentCampaign, Standing]:
    """The campaign's own screens are for those who run it and its evaluators; a compound's people read their
    buildings' ranks on the compound's board instead. 404 for everyone else."""
    campaign = db.session.get(EnvironmentCampaign, campaign_id)
    if campaign is None:
        raise _hidden()
    standing = standing_in(campaign, user_id)
    if not standing.knows:
        raise _hidden()
    return campaign, standing


def _require(standing: Standing, action: CampaignAction, message: str) -> None:
    if action in standing.actions:
        return
    if action in rules.allowed_actions(CampaignStatus.ACTIVE, runs=standing.runs, evaluator=standing.evaluator):
        raise CampaignRefused("评比已结束", Kind.CONFLICT)
    raise CampaignRefused(message, Kind.FORBIDDEN)


def _locked_campaign(campaign_id: int) -> EnvironmentCampaign:
    campaign = db.session.scalar(select(EnvironmentCampaign).where(EnvironmentCampaign.id == campaign_id)
                                 .with_for_update().execution_options(populate_existing=True))
    if campaign is None:
        raise _hidden()
    return campaign


def appoint_evaluator(campaign_id: int, user_id: int | None, phone: str, name: str = "",
                      ip: str | None = None) -> User:
    """The evaluator signs in by SMS like everyone: found by phone, or created with it now (as survey campaigns
    appoint their surveyors)."""
    campaign, standing = seen_by(campaign_id, user_id)
    _require(standing, CampaignAction.APPOINT, "只有组织评比的工作人员可以指定评比员")
    db.session.execute(
        dialect_insert(User).values(display_name=name, is_active=True, large_text=False, created_at=utcnow(),
                                    **phone_columns(phone))
        .on_conflict_do_nothing(index_elements=[User.phone_hash]))
    person = db.session.scalar(select(User).where(User.phone_hash == phone_hash(phone)))
    if not person.is_active:
        raise CampaignRefused("该账号已停用", Kind.CONFLICT)
    if name and not person.display_name:
        person.display_name = name
    db.session.execute(
        dialect_insert(CampaignEvaluator)
        .values(campaign_id=campaign.id, user_id=person.id, appointed_by_id=user_id, appointed_at=utcnow())
        .on_conflict_do_nothing())
    record_audit(actor_id=user_id, action="campaign.appoint_evaluator", target_type="environment_campaign",
                 target_id=campaign.id, compound_id=None, after={"user_id": person.id}, ip=ip)
    db.session.commit()
    return person


def close_campaign(campaign_id: int, user_id: int | None, ip: str | None = None) -> EnvironmentCampaign:
    seen_by(campaign_id, user_id)
    campaign = _locked_campaign(campaign_id)
    _require(standing_in(campaign, user_id), CampaignAction.CLOSE, "只有组织评比的工作人员可以结束评比")
    campaign.status = CampaignStatus.CLOSED
    campaign.closed_at = utcnow()
    record_audit(actor_id=user_id, action="campaign.close", target_type="environment_campaign",
                 target_id=campaign.id, compound_id=None, ip=ip)
    db.session.commit()
    return campaign


# ---- rounds and scores --------------------------------------------------------------------------------------------


def add_round(campaign_id: int, user_id: int | None, inspected_on: date, ip: str | None = None) -> CampaignRound:
    """The next round (第N轮), numbered under the campaign's row lock; a round is one day's, so the day's round when
    there is one already (a second tap, or a colleague's)."""
    seen_by(campaign_id, user_id)
    campaign = _locked_campaign(campaign_id)
    _require(standing_in(campaign, user_id), CampaignAction.ADD_ROUND, "只有评比员或组织评比的工作人员可以开始新一轮检查")
    if inspected_on > today():
        raise CampaignRefused("检查日期不能晚于今天", Kind.INVALID, errors={"inspected_on": ["检查日期不能晚于今天"]})
    same_day = db.session.scalar(select(CampaignRound).where(CampaignRound.campaign_id == campaign_id,
                                                             CampaignRound.inspected_on == inspected_on))
    if same_day is not None:
        db.session.rollback()
        return same_day
    number = (db.session.scalar(select(func.max(CampaignRound.number))
                                .where(CampaignRound.campaign_id == campaign_id)) or 0) + 1
    held = CampaignRound(campaign_id=campaign_id, number=number, inspected_on=inspected_on, created_by_id=user_id,
                         created_at=utcnow())
    db.session.add(held)
    db.session.flush()
    record_audit(actor_id=user_id, action="campaign.round", target_type="environment_campaign", target_id=campaign_id,
                 compound_id=None, after={"round": number}, ip=ip)
    db.session.commit()
    return held


def round_seen_by(round_id: int, user_id: int | None) -> tuple[CampaignRound, EnvironmentCampaign, Standing]:
    held = db.session.get(CampaignRound, round_id)
    if held is None:
        raise _hidden(ROUND_NOT_FOUND)
    try:
        campaign, standing = seen_by(held.campaign_id, user_id)
    except CampaignRefused:
        raise _hidden(ROUND_NOT_FOUND) from None
    return held, campaign, standing


def building_in_campaign(campaign_id: int, building_id: int) -> Building:
    building = db.session.scalar(
        select(Building).join(CampaignCompound, CampaignCompound.compound_id == Building.compound_id)
        .where(Building.id == building_id, CampaignCompound.campaign_id == campaign_id))
    if building is None:
        raise CampaignRefused("该楼栋不在本次评比范围内", Kind.NOT_FOUND)
    return building


def record_score(round_id: int, building_id: int, user_id: int | None, points: dict[str, int], note: str,
                 findings: Sequence[FindingDraft] = (), ip: str | None = None) -> BuildingScore:
    """A building's score in the round, by an evaluator or an official running the campaign: one row per (round,
    building), a second entry replaces the points (upsert, never a second row). Findings are kept per item (a
    second entry of the same item updates its note and adds its photos)."""
    held, campaign, standing = round_seen_by(round_id, user_id)
    # Shared lock on the campaign: a close waits for the scores in flight, and a score after the close sees it.
    status = db.session.scalar(select(EnvironmentCampaign.status).where(EnvironmentCampaign.id == campaign.id)
                               .with_for_update(read=True))
    standing = replace(standing, actions=rules.allowed_actions(status, runs=standing.runs,
                                                               evaluator=standing.evaluator))
    _require(standing, CampaignAction.SCORE, "只有评比员或组织评比的工作人员可以打分")
    building = building_in_campaign(campaign.id, building_id)
    checklist = checklist_of(campaign)
    total = rules.score_total(checklist, points)
    rules.check_findings(checklist, [each.item for each in findings])
    for each in findings:
        rules.check_photo_count(len(each.photos))
    now = utcnow()
    values = {"points": dict(points), "total": total, "note": note, "inspector_id": user_id, "updated_at": now}
    db.session.execute(
        dialect_insert(BuildingScore)
        .values(round_id=held.id, building_id=building.id, compound_id=building.compound_id, **values)
        .on_conflict_do_update(index_elements=["round_id", "building_id"], set_=values))
    score = db.session.scalar(select(BuildingScore).where(BuildingScore.round_id == held.id,
                                                          BuildingScore.building_id == building.id)
                              .execution_options(populate_existing=True))
    with kept_only_on_commit() as stored:
        for each in findings:
            db.session.execute(
                dialect_insert(CampaignFinding)
                .values(score_id=score.id, round_id=held.id, compound_id=building.compound_id,
                        building_id=building.id, item=each.item, note=each.note, recorded_by_id=user_id,
                        created_at=now)
                .on_conflict_do_update(index_elements=["score_id", "item"], set_={"note": each.note}))
            finding_id = db.session.scalar(select(CampaignFinding.id).where(
                CampaignFinding.score_id == score.id, CampaignFinding.item == each.item))
            kept = db.session.scalar(select(func.count()).where(CampaignPhoto.finding_id == finding_id)) or 0
            rules.check_photo_count(kept + len(each.photos))
            for prepared in each.photos:
                key = store_photo(prepared)
                stored.append(key)
                db.session.add(CampaignPhoto(finding_id=finding_id, uploader_id=user_id, storage_key=key,
                                             width=prepared.width, height=prepared.height,
                                             size_bytes=len(prepared.data), created_at=now))
        record_audit(actor_id=user_id, action="campaign.score", target_type="building_score", target_id=score.id,
                     compound_id=building.compound_id, after={"round": held.number, "total": total,
                                                              "findings": len(findings)}, ip=ip)
        db.session.commit()
    return score


def add_finding_photos(finding_id: int, user_id: int | None, photos: Sequence[PreparedPhoto]) -> CampaignFinding:
    finding, campaign, standing = finding_seen_by(finding_id, user_id)
    _require(standing, CampaignAction.SCORE, "只有评比员或组织评比的工作人员可以补充照片")
    # The finding's row lock: parallel uploads count the kept photos one at a time, so the cap holds.
    db.session.execute(select(CampaignFinding.id).where(CampaignFinding.id == finding_id).with_for_update())
    kept = db.session.scalar(select(func.count()).where(CampaignPhoto.finding_id == finding_id)) or 0
    rules.check_photo_count(kept + len(photos))
    with kept_only_on_commit() as stored:
        for prepared in photos:
            key = store_photo(prepared)
            stored.append(key)
            db.session.add(CampaignPhoto(finding_id=finding_id, uploader_id=user_id, storage_key=key,
                                         width=prepared.width, height=prepared.height, size_bytes=len(prepared.data)))
        db.session.commit()
    return finding


# ---- reading ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankedBuilding:
    score: BuildingScore
    building_name: str
    compound_name: str
    rank: int
    red_flag: bool


def ranking(campaign: EnvironmentCampaign, round_id: int) -> list[RankedBuilding]:
    """Every scored building of the round, best first, with its rank (1, 1, 3) and whether it flies the red flag."""
    rows = db.session.execute(
        select(BuildingScore, Building.name, Compound.name)
        .join(Building, Building.id == BuildingScore.building_id)
        .join(Compound, Compound.id == BuildingScore.compound_id)
        .where(BuildingScore.round_id == round_id)
        .order_by(BuildingScore.total.desc(), Compound.name, Building.name, Building.id)).all()
    places = rules.ranks({score.building_id: score.total for score, _, _ in rows})
    flags = rules.red_flags(places, campaign.red_flag_count)
    return [RankedBuilding(score, building, compound, places[score.building_id], score.building_id in flags)
            for score, building, compound in rows]


def rounds_of(campaign_id: int) -> list[CampaignRound]:
    return list(db.session.scalars(select(CampaignRound).where(CampaignRound.campaign_id == campaign_id)
                                   .order_by(CampaignRound.number.desc())))


def compounds_of(campaign_id: int) -> list[Compound]:
    return list(db.session.scalars(
        select(Compound).join(CampaignCompound, CampaignCompound.compound_id == Compound.id)
        .where(CampaignCompound.campaign_id == campaign_id).order_by(Compound.name, Compound.id)))


def buildings_of(campaign_id: int) -> list[tuple[Building, str]]:
    return [tuple(row) for row in db.session.execute(
        select(Building, Compound.name).join(Compound, Compound.id == Building.compound_id)
        .join(CampaignCompound, CampaignCompound.compound_id == Compound.id)
        .where(CampaignCompound.campaign_id == campaign_id).order_by(Compound.name, Building.name, Building.id))]


def evaluator_names(campaign_id: int) -> list[str]:
    return list(db.session.scalars(
        select(func.coalesce(func.nullif(User.display_name, ""), User.phone_masked))
        .join(CampaignEvaluator, CampaignEvaluator.user_id == User.id)
        .where(CampaignEvaluator.campaign_id == campaign_id).order_by(CampaignEvaluator.appointed_at, User.id)))


def findings_of_round(round_id: int) -> list[CampaignFinding]:
    return list(db.session.scalars(select(CampaignFinding).where(CampaignFinding.round_id == round_id)
                                   .order_by(CampaignFinding.building_id, CampaignFinding.id)))


def photos_of(finding_ids: Sequence[int]) -> list[CampaignPhoto]:
    if not finding_ids:
        return []
    return list(db.session.scalars(select(CampaignPhoto).where(CampaignPhoto.finding_id.in_(finding_ids))
                                   .order_by(CampaignPhoto.id)))


def score_of(round_id: int, building_id: int) -> BuildingScore | None:
    return db.session.scalar(select(BuildingScore).where(BuildingScore.round_id == round_id,
                                                         BuildingScore.building_id == building_id))


def finding_seen_by(finding_id: int, user_id: int | None) -> tuple[CampaignFinding, EnvironmentCampaign, Standing]:
    finding = db.session.get(CampaignFinding, finding_id)
    if finding is None:
        raise _hidden(FINDING_NOT_FOUND)
    try:
        _, campaign, standing = round_seen_by(finding.round_id, user_id)
    except CampaignRefused:
        raise _hidden(FINDING_NOT_FOUND) from None
    return finding, campaign, standing


def visible_photo(finding_id: int, photo_id: int, user_id: int | None) -> CampaignPhoto | None:
    finding_seen_by(finding_id, user_id)
    return db.session.scalar(select(CampaignPhoto).where(CampaignPhoto.id == photo_id,
                                                         CampaignPhoto.finding_id == finding_id))


def my_campaigns(user_id: int) -> list[EnvironmentCampaign]:
    """The campaigns a person runs (an official's at or below their areas; every one for an admin) or scores."""
    memberships = db.session.execute(select(Membership.role, Membership.area_id).where(
        Membership.user_id == user_id, Membership.role.in_((Role.ADMIN, Role.OFFICIAL)))).all()
    conditions = [EnvironmentCampaign.id.in_(select(CampaignEvaluator.campaign_id)
                                             .where(CampaignEvaluator.user_id == user_id))]
    if any(row.role is Role.ADMIN for row in memberships):
        conditions = [EnvironmentCampaign.id.is_not(None)]
    else:
        area_ids = [row.area_id for row in memberships]
        if area_ids:
            paths = db.session.scalars(select(Area.path).where(Area.id.in_(area_ids))).all()
            conditions.append(EnvironmentCampaign.area_id.in_(
                select(Area.id).where(or_(*[Area.path.startswith(path) for path in paths]))))
    return list(db.session.scalars(select(EnvironmentCampaign).where(or_(*conditions))
                                   .order_by(EnvironmentCampaign.created_at.desc(), EnvironmentCampaign.id.desc())
                                   .limit(100)))


def has_campaign_work(user_id: int) -> bool:
    return bool(db.session.scalar(select(
        select(Membership.user_id).where(Membership.user_id == user_id,
                                         Membership.role.in_((Role.ADMIN, Role.OFFICIAL))).exists()
        | select(CampaignEvaluator.user_id).where(CampaignEvaluator.user_id == user_id).exists())))


def official_areas(user_id: int) -> list[Area]:
    """Where the person may start a campaign: the areas they are an official of (every area for an admin)."""
    memberships = db.session.execute(select(Membership.role, Membership.area_id).where(
        Membership.user_id == user_id, Membership.role.in_((Role.ADMIN, Role.OFFICIAL)))).all()
    query = select(Area).order_by(Area.path).limit(100)
    if not any(row.role is Role.ADMIN for row in memberships):
        query = query.where(Area.id.in_([row.area_id for row in memberships]))
    return list(db.session.scalars(query))


def area_name(area_id: int) -> str:
    return db.session.scalar(select(Area.name).where(Area.id == area_id)) or ""


@dataclass(frozen=True)
class BoardEntry:
    campaign: EnvironmentCampaign
    round: CampaignRound | None
    ranked: int
    red_flags: int
    buildings: list[RankedBuilding]


def compound_board(compound_id: int, user_id: int | None, entry_compound_id: int | None = None) -> list[BoardEntry]:
    """What everyone of the compound sees: each campaign covering it (latest first), its latest scored round, and
    only this compound's buildings in that round's ranking (rank among all buildings ranked, total, red flag) with
    how many were ranked and how many flags flew. Other compounds' buildings, scores and findings stay unnamed."""
    authorize(Action.VIEW_CAMPAIGNS, compound_id, user_id, entry_compound_id)
    campaigns = list(db.session.scalars(
        select(EnvironmentCampaign).join(CampaignCompound, CampaignCompound.campaign_id == EnvironmentCampaign.id)
        .where(CampaignCompound.compound_id == compound_id)
        .order_by(EnvironmentCampaign.created_at.desc(), EnvironmentCampaign.id.desc()).limit(20)))
    board = []
    for campaign in campaigns:
        latest = db.session.scalar(
            select(CampaignRound).where(CampaignRound.campaign_id == campaign.id,
                                        CampaignRound.id.in_(select(BuildingScore.round_id)))
            .order_by(CampaignRound.number.desc()).limit(1))
        ranked = ranking(campaign, latest.id) if latest is not None else []
        board.append(BoardEntry(campaign, latest, len(ranked), sum(1 for row in ranked if row.red_flag),
                                [row for row in ranked if row.score.compound_id == compound_id]))
    return board


# ---- findings become work ------------------------------------------------------------------------------------------


def _locked_finding(finding_id: int, user_id: int | None, action: CampaignAction,
                    message: str) -> tuple[CampaignFinding, EnvironmentCampaign]:
    """The finding, row-locked for the one who may take `action` (strangers are refused before any lock)."""
    _, campaign, standing = finding_seen_by(finding_id, user_id)
    _require(standing, action, message)
    finding = db.session.scalar(select(CampaignFinding).where(CampaignFinding.id == finding_id)
                                .with_for_update().execution_options(populate_existing=True))
    return finding, campaign


def _kept_photos(finding_id: int) -> list[KeptPhoto]:
    return [KeptPhoto(photo.storage_key, photo.width, photo.height, photo.size_bytes)
            for photo in photos_of([finding_id])]


def _described(finding: CampaignFinding, campaign: EnvironmentCampaign) -> str:
    return f"【{campaign.title}】{finding.item}：{finding.note}"[:500]


def finding_to_work_order(finding_id: int, user_id: int | None, ip: str | None = None) -> int:
    """One tap: the finding becomes a common-area work order of its building with the finding's photos (the same
    files). Once: the finding's row is locked and its link set in the same transaction; a second tap (or a
    parallel one, which waits for the lock) gets the same order."""
    finding, campaign = _locked_finding(finding_id, user_id, CampaignAction.TO_WORK_ORDER,
                                        "只有评比员或组织评比的工作人员可以转为工单")
    if finding.work_order_id is not None:
        made = finding.work_order_id
        db.session.rollback()
        return made
    order = workorder_service.open_order_with_kept_photos(
        user_id=user_id, compound_id=finding.compound_id, building_id=finding.building_id,
        description=_described(finding, campaign), photos=_kept_photos(finding.id))
    finding.work_order_id = order.id
    record_audit(actor_id=user_id, action="campaign.finding_to_work_order", target_type="campaign_finding",
                 target_id=finding.id, compound_id=finding.compound_id, after={"work_order_id": order.id}, ip=ip)
    db.session.commit()
    return order.id


def finding_to_rectification(finding_id: int, user_id: int | None, party: ResponsibleParty, deadline: date,
                             ip: str | None = None) -> int:
    """One tap: the finding becomes a rectification item (整改台账) with its photos, recorded by the official who taps
    (a street's or the housing department's, as every supervision inspection is). Once, as for work orders."""
    finding, campaign = _locked_finding(finding_id, user_id, CampaignAction.TO_RECTIFICATION,
                                        "只有组织评比的工作人员可以转为整改事项")
    if finding.rectification_id is not None:
        made = finding.rectification_id
        db.session.rollback()
        return made
    held = db.session.get(CampaignRound, finding.round_id)
    item = rectification_service.record_campaign_finding(
        finding.compound_id, user_id, held.inspected_on, finding.item, finding.note or finding.item, party, deadline,
        _kept_photos(finding.id), note=f"{campaign.title}·第{held.number}轮")
    finding.rectification_id = item.id
    record_audit(actor_id=user_id, action="campaign.finding_to_rectification", target_type="campaign_finding",
                 target_id=finding.id, compound_id=finding.compound_id, after={"rectification_id": item.id}, ip=ip)
    db.session.commit()
    return item.id
