"""What the 治理骨干 screens show, built once for the API to dump and the pages to render: the roster by kind (the
public sees active entries' names, kinds, buildings and skills, never a phone; keepers also see applications and
history, with what they may do to each), a person's own entries, and the dashboard's counts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from backend.domain.backbones import (
    KIND_LABELS,
    LIVE_STATUSES,
    SELF_KINDS,
    STATUS_LABELS,
    BackboneAction,
    BackboneKind,
    BackboneRefused,
    BackboneStatus,
    keeper_actions,
)
from backend.domain.refusals import Kind
from backend.domain.roles import Action
from backend.models import Area
from backend.policy import Access, authorize
from backend.services import backbones as service
from backend.services import compounds as compound_service

# The roster's tabs for keepers: the live entries first, then the history.
KEEPER_TABS = [("live", "在册与待确认"), (BackboneStatus.ENDED.value, "已退出"), (BackboneStatus.DECLINED.value, "未通过")]
KIND_CHOICES = [(kind.value, KIND_LABELS[kind]) for kind in BackboneKind]
SELF_KIND_CHOICES = [(kind.value, KIND_LABELS[kind]) for kind in SELF_KINDS]


@dataclass(frozen=True)
class MemberLine:
    id: int
    compound_id: int
    name: str
    kind: BackboneKind
    kind_label: str
    skills: list[str]
    building_id: int | None
    building_name: str | None
    since: date
    status: BackboneStatus
    status_label: str
    has_account: bool
    # A volunteer's words about themselves or a keeper's reason: for keepers and the person only.
    note: str
    actions: frozenset[BackboneAction]


@dataclass(frozen=True)
class KindGroup:
    kind: BackboneKind
    kind_label: str
    items: list[MemberLine]


@dataclass(frozen=True)
class Roster:
    compound_id: int
    compound_name: str
    keeps: bool
    status: str
    groups: list[KindGroup]
    pending: int
    mine: list[MemberLine]
    actions: frozenset[str]


def line(entry: service.Entry, *, keeps: bool, own: bool = False) -> MemberLine:
    member = entry.member
    return MemberLine(
        id=member.id, compound_id=member.compound_id, name=member.name, kind=member.kind,
        kind_label=KIND_LABELS[member.kind], skills=list(member.skills or []), building_id=member.building_id,
        building_name=entry.building_name, since=member.since, status=member.status,
        status_label=STATUS_LABELS[member.status], has_account=member.user_id is not None,
        note=member.note if keeps or own else "", actions=keeper_actions(member.status, keeps),
    )


def _statuses(keeps: bool, status: str) -> tuple[BackboneStatus, ...]:
    if not keeps:
        return (BackboneStatus.ACTIVE,)
    return tuple(LIVE_STATUSES) if status == "live" else (BackboneStatus(status),)


def roster(compound_id: int, user_id: int | None, entry_compound_id: int | None = None, status: str = "live",
           kind: BackboneKind | None = None) -> Roster:
    """The compound's roster for whoever may see the compound (a QR visitor too): active entries by kind; keepers
    (the party secretary, the officials over it) also the applications waiting and, by `status`, the history."""
    access = authorize(Action.VIEW_COMPOUND, compound_id, user_id, entry_compound_id)
    keeps = access.may(Action.KEEP_BACKBONES)
    status = status if keeps else "live"
    found = service.roster(compound_id, _statuses(keeps, status), kind)
    groups = []
    for each in BackboneKind:
        items = [line(entry, keeps=keeps) for entry in found if entry.member.kind is each]
        if items:
            groups.append(KindGroup(each, KIND_LABELS[each], items))
    actions = set()
    if keeps:
        actions.add("add")
    if access.may(Action.VOLUNTEER_AS_BACKBONE):
        actions.add("volunteer")
    mine = [line(entry, keeps=keeps, own=True) for entry in service.entries_of(compound_id, user_id)] if user_id else []
    return Roster(
        compound_id=compound_id, compound_name=access.compound.name, keeps=keeps, status=status, groups=groups,
        pending=service.pending_count(compound_id) if keeps else 0, mine=mine, actions=frozenset(actions),
    )


def keeping(member_id: int, user_id: int | None) -> Access:
    """The keeper's access to the entry's compound: 404 for an unknown entry or one of a compound that is none of
    theirs, 403 for someone there who does not keep the roster."""
    compound_id = service.member_compound_id(member_id)
    if compound_id is None:
        raise BackboneRefused("没有找到该骨干", Kind.NOT_FOUND)
    return authorize(Action.KEEP_BACKBONES, compound_id, user_id)


def member(member_id: int, *, keeps: bool, own: bool = False) -> MemberLine:
    """One entry read afresh (a decision's commit expired the row)."""
    entry = service.get_entry(member_id)
    if entry is None:
        raise BackboneRefused("没有找到该骨干", Kind.NOT_FOUND)
    return line(entry, keeps=keeps, own=own)


def buildings(compound_id: int) -> list[tuple[int, str]]:
    return [(building.id, building.name) for building in compound_service.list_buildings(compound_id)]


def volunteer_form_name(user_id: int) -> str:
    """The volunteer form starts with the name the person goes by."""
    return service.display_name(user_id)


# ---- the officials' dashboard -----------------------------------------------------------------------------------


def counts_line(counts: dict[BackboneKind, int] | None) -> dict:
    counts = counts or {}
    return {"total": sum(counts.values()),
            "by_kind": [{"kind": kind.value, "label": KIND_LABELS[kind], "count": counts.get(kind, 0)}
                        for kind in BackboneKind]}


def compound_counts(compound_ids: list[int]) -> dict[int, dict]:
    """Per compound of a dashboard table page: active backbones by kind."""
    found = service.counts_by_compound(compound_ids)
    return {compound_id: counts_line(found.get(compound_id)) for compound_id in compound_ids}


def area_block(area: Area) -> dict:
    """The dashboard's block (the dashboard has authorized): active backbones by kind below the area, and how many
    compounds have a roster."""
    counts, with_roster = service.area_counts(area)
    return counts_line(counts) | {"compounds_with_roster": with_roster}
