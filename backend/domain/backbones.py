"""治理骨干 roster (measure 2, 五社联动): the kinds of backbone, an entry's states, who may move it, and the skills
tags, as plain rules."""
from __future__ import annotations

import enum
import re
from collections.abc import Iterable

from backend.domain.refusals import Kind, Refused


class BackboneKind(enum.StrEnum):
    PARTY_MEMBER = "party_member"  # 党员骨干
    CAPABLE = "capable"  # 治理能人
    VOLUNTEER = "volunteer"  # 志愿者
    BUILDING_HEAD = "building_head"  # 楼栋长
    SOCIAL_ORG = "social_org"  # 社会组织
    SOCIAL_WORKER = "social_worker"  # 社工


class BackboneStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    DECLINED = "declined"
    ENDED = "ended"


class BackboneAction(enum.StrEnum):
    """What a keeper may do with one entry; the API names them in `actions`, the page in `data-action`."""

    CONFIRM = "confirm"
    DECLINE = "decline"
    END = "end"


KIND_LABELS = {
    BackboneKind.PARTY_MEMBER: "党员骨干",
    BackboneKind.CAPABLE: "治理能人",
    BackboneKind.VOLUNTEER: "志愿者",
    BackboneKind.BUILDING_HEAD: "楼栋长",
    BackboneKind.SOCIAL_ORG: "社会组织",
    BackboneKind.SOCIAL_WORKER: "社工",
}
STATUS_LABELS = {
    BackboneStatus.PENDING: "待确认",
    BackboneStatus.ACTIVE: "在册",
    BackboneStatus.DECLINED: "未通过",
    BackboneStatus.ENDED: "已退出",
}
# A pending or active entry is live: one per person, compound and kind (the database's partial unique index).
LIVE_STATUSES = frozenset({BackboneStatus.PENDING, BackboneStatus.ACTIVE})
# What a resident may put themselves forward as (我要当志愿者). A building head is appointed, since one building has
# one; organisations and social workers are not residents.
SELF_KINDS = (BackboneKind.VOLUNTEER, BackboneKind.CAPABLE, BackboneKind.PARTY_MEMBER)

NAME_LIMIT = 32
NOTE_LIMIT = 200
SKILL_LIMIT = 12
MAX_SKILLS = 6
_SEPARATORS = re.compile(r"[,，、;；/\s]+")


class BackboneRefused(Refused):
    """The roster cannot change this way; the message is shown to the person."""


def skills_of(raw: Iterable[str] | str) -> list[str]:
    """Short tags as kept: a form's text split on commas, 、 and spaces (a list taken as it is), stripped, each once
    in the order given. Too many or too long a tag is refused rather than cut: what the person typed is shown."""
    parts = _SEPARATORS.split(raw) if isinstance(raw, str) else list(raw)
    tags = list(dict.fromkeys(part.strip() for part in parts if part.strip()))
    if len(tags) > MAX_SKILLS:
        raise BackboneRefused(f"特长最多{MAX_SKILLS}项", Kind.INVALID, errors={"skills": [f"特长最多{MAX_SKILLS}项"]})
    too_long = next((tag for tag in tags if len(tag) > SKILL_LIMIT), None)
    if too_long is not None:
        message = f"每项特长不超过{SKILL_LIMIT}个字"
        raise BackboneRefused(message, Kind.INVALID, errors={"skills": [message]})
    return tags


def check_building(kind: BackboneKind, building_id: int | None) -> None:
    """A building head looks after one building; the others may name the building they live in, or none."""
    if kind is BackboneKind.BUILDING_HEAD and building_id is None:
        raise BackboneRefused("楼栋长请选择负责的楼栋", Kind.INVALID, errors={"building_id": ["请选择楼栋"]})


def check_self_kind(kind: BackboneKind) -> None:
    if kind not in SELF_KINDS:
        labels = "、".join(KIND_LABELS[k] for k in SELF_KINDS)
        raise BackboneRefused(f"只能申请成为{labels}", Kind.INVALID, errors={"kind": [f"只能申请成为{labels}"]})


_MOVES = {
    BackboneAction.CONFIRM: (BackboneStatus.PENDING, BackboneStatus.ACTIVE),
    BackboneAction.DECLINE: (BackboneStatus.PENDING, BackboneStatus.DECLINED),
    BackboneAction.END: (BackboneStatus.ACTIVE, BackboneStatus.ENDED),
}
_WHY_NOT = {
    BackboneAction.CONFIRM: "只能确认待确认的申请",
    BackboneAction.DECLINE: "只能婉拒待确认的申请",
    BackboneAction.END: "只能让在册的骨干退出",
}


def next_status(status: BackboneStatus, action: BackboneAction) -> BackboneStatus:
    source, target = _MOVES[action]
    if status is not source:
        raise BackboneRefused(f"{_WHY_NOT[action]}（现为{STATUS_LABELS[status]}）", Kind.CONFLICT)
    return target


def keeper_actions(status: BackboneStatus, keeps: bool) -> frozenset[BackboneAction]:
    """A keeper may move an entry along its state; everyone else sees it only."""
    if not keeps:
        return frozenset()
    return frozenset(action for action, (source, _) in _MOVES.items() if source is status)
