"""Dispute mediation (矛盾纠纷调解, measure 6): the kinds of case, where a case stands, and the words for them."""
from __future__ import annotations

import enum
from datetime import date, timedelta

from backend.domain.refusals import Kind, Refused


class DisputeKind(enum.StrEnum):
    FEES = "fees"
    SERVICE = "service"
    REPAIR = "repair"
    NEIGHBOUR = "neighbour"
    SELECTION = "selection"
    OTHER = "other"


DISPUTE_KIND_LABELS = {
    DisputeKind.FEES: "费用",
    DisputeKind.SERVICE: "服务质量",
    DisputeKind.REPAIR: "维修",
    DisputeKind.NEIGHBOUR: "邻里",
    DisputeKind.SELECTION: "选聘",
    DisputeKind.OTHER: "其他",
}


class DisputeStatus(enum.StrEnum):
    OPEN = "open"
    SETTLED = "settled"
    REFERRED = "referred"


DISPUTE_STATUS_LABELS = {
    DisputeStatus.OPEN: "调解中",
    DisputeStatus.SETTLED: "调解成功",
    DisputeStatus.REFERRED: "未成功，已移交",
}

# A case counts as open (in the flags, the dashboard and the reports) until it has an outcome.
OPEN_DISPUTE_STATUSES = frozenset({DisputeStatus.OPEN})


# ---- the case's limits, its parties and outcome, and who may do what (the presenter's one source of buttons) ----

TITLE_LIMIT = 60
SUMMARY_LIMIT = 2000
NOTE_LIMIT = 2000
NAME_LIMIT = 40
REFERRED_TO_LIMIT = 60
MAX_PARTIES = 10
# A step is written down after it happened; a date further back than this is a typing mistake.
MAX_STEP_DAYS_BACK = 366

OPENERS_ONLY = "只有社区及以上工作人员可以登记调解案件"
MEDIATOR_ONLY = "只有本案调解员或其上级可以记录调解过程和结果"
ABOVE_ONLY = "只有调解员的上级部门可以更换调解员"
CLOSED = "该案件已有调解结果，不能再添加记录"
ALREADY_DECIDED = "该案件已记录调解结果"
NO_AGREEMENT_NOW = "只有调解中或调解成功的案件可以上传调解协议"


class DisputeRefused(Refused):
    default_kind = Kind.INVALID


class PartyKind(enum.StrEnum):
    OWNER = "owner"
    COMPANY = "company"
    COMMITTEE = "committee"
    NEIGHBOUR = "neighbour"


PARTY_KIND_LABELS = {
    PartyKind.OWNER: "业主",
    PartyKind.COMPANY: "物业服务企业",
    PartyKind.COMMITTEE: "业委会/物管委",
    PartyKind.NEIGHBOUR: "邻居",
}
# Residents (an owner, a neighbour) may be named by their household or account, so they can see their own case.
RESIDENT_PARTIES = frozenset({PartyKind.OWNER, PartyKind.NEIGHBOUR})


class Outcome(enum.StrEnum):
    SETTLED = "settled"
    REFERRED = "referred"


OUTCOME_LABELS = {Outcome.SETTLED: "调解成功", Outcome.REFERRED: "调解未成功，移交"}
OUTCOME_STATUS = {Outcome.SETTLED: DisputeStatus.SETTLED, Outcome.REFERRED: DisputeStatus.REFERRED}


class LinkKind(enum.StrEnum):
    """Where the dispute arose, in the same compound."""

    WORK_ORDER = "work_order"
    TOPIC = "topic"
    RECTIFICATION = "rectification"


LINK_KIND_LABELS = {LinkKind.WORK_ORDER: "报事报修", LinkKind.TOPIC: "议题", LinkKind.RECTIFICATION: "整改事项"}


class CaseRole(enum.StrEnum):
    """How a person stands to one case: its mediator, an official above the mediator's area (or an admin), another
    official over the compound (reads), a resident party (reads their own case), or nobody (404)."""

    MEDIATOR = "mediator"
    ABOVE = "above"
    OFFICIAL = "official"
    PARTY = "party"
    NONE = "none"


class DisputeAction(enum.StrEnum):
    """What the dispute screens offer; the API names them in `actions`, the pages in `data-action`."""

    OPEN = "open"
    ADD_STEP = "add_step"
    RECORD_OUTCOME = "record_outcome"
    ATTACH_AGREEMENT = "attach_agreement"
    CHANGE_MEDIATOR = "change_mediator"
    # Parties' phone numbers (masked) are for those who mediate, never for the other side.
    VIEW_CONTACTS = "view_contacts"


_MEDIATING = frozenset({CaseRole.MEDIATOR, CaseRole.ABOVE})


def case_role(*, is_mediator: bool, above_mediator: bool, official_over: bool, party: bool) -> CaseRole:
    """The strongest standing wins: an official who is also a party mediates through the official role."""
    if above_mediator:
        return CaseRole.ABOVE
    if is_mediator:
        return CaseRole.MEDIATOR
    if official_over:
        return CaseRole.OFFICIAL
    return CaseRole.PARTY if party else CaseRole.NONE


def allowed_actions(role: CaseRole, status: DisputeStatus) -> frozenset[DisputeAction]:
    """The mediator (and those above) record steps and the outcome while the case is open; an agreement can still
    be attached to a settled case (it is often signed after the meeting); those above change the mediator while it
    is open. Other officials over the compound and the parties read."""
    actions: set[DisputeAction] = set()
    if role in _MEDIATING or role is CaseRole.OFFICIAL:
        actions.add(DisputeAction.VIEW_CONTACTS)
    if role in _MEDIATING:
        if status in OPEN_DISPUTE_STATUSES:
            actions |= {DisputeAction.ADD_STEP, DisputeAction.RECORD_OUTCOME, DisputeAction.ATTACH_AGREEMENT}
        elif status is DisputeStatus.SETTLED:
            actions.add(DisputeAction.ATTACH_AGREEMENT)
    if role is CaseRole.ABOVE and status in OPEN_DISPUTE_STATUSES:
        actions.add(DisputeAction.CHANGE_MEDIATOR)
    return frozenset(actions)


def check_allowed(role: CaseRole, status: DisputeStatus, action: DisputeAction) -> None:
    """NOT_FOUND to a stranger; CONFLICT when the case's state forbids what its mediator could do before;
    FORBIDDEN to a reader."""
    if role is CaseRole.NONE:
        raise DisputeRefused("调解案件不存在", Kind.NOT_FOUND)
    if action in allowed_actions(role, status):
        return
    if action in allowed_actions(role, DisputeStatus.OPEN):
        message = NO_AGREEMENT_NOW if action is DisputeAction.ATTACH_AGREEMENT else (
            ALREADY_DECIDED if action is DisputeAction.RECORD_OUTCOME else CLOSED)
        raise DisputeRefused(message, Kind.CONFLICT)
    raise DisputeRefused(ABOVE_ONLY if action is DisputeAction.CHANGE_MEDIATOR else MEDIATOR_ONLY, Kind.FORBIDDEN)


# Mediators are officials of the compound's community or street (DESIGN §1); a district or the city oversees.
MEDIATOR_LEVELS = ("community", "street")


def may_mediate(level: str) -> bool:
    return level in MEDIATOR_LEVELS


def check_parties(parties: list[tuple[PartyKind, str, bool]]) -> None:
    """Each (kind, name, names_a_resident): at least two sides, a name or a resident for each; only owners and
    neighbours are residents named by household or account."""
    if len(parties) < 2:
        raise DisputeRefused("请至少填写两方当事人", errors={"parties": ["请至少填写两方当事人"]})
    if len(parties) > MAX_PARTIES:
        raise DisputeRefused(f"当事人最多{MAX_PARTIES}方", errors={"parties": [f"当事人最多{MAX_PARTIES}方"]})
    for index, (kind, name, resident) in enumerate(parties):
        if resident and kind not in RESIDENT_PARTIES:
            message = "只有业主或邻居可以关联住户"
        elif not resident and not name.strip():
            message = "请填写当事人名称或选择住户"
        else:
            continue
        raise DisputeRefused(message, errors={f"parties.{index}": [message]})


def check_step_date(happened_on: date, today: date) -> None:
    """A step is recorded on or after the day it happened (Beijing), within a year."""
    if happened_on > today:
        message = "调解日期不能晚于今天"
    elif happened_on < today - timedelta(days=MAX_STEP_DAYS_BACK):
        message = "调解日期不能早于一年以前"
    else:
        return
    raise DisputeRefused(message, errors={"happened_on": [message]})


def check_outcome(outcome: Outcome, referred_to: str) -> None:
    """An unsuccessful mediation is handed on to someone (人民调解委员会, 街道, 法院…); a settled one to nobody."""
    if outcome is Outcome.REFERRED and not referred_to.strip():
        raise DisputeRefused("请填写移交单位", errors={"referred_to": ["请填写移交单位"]})
    if outcome is Outcome.SETTLED and referred_to.strip():
        raise DisputeRefused("调解成功的案件无需移交", errors={"referred_to": ["调解成功的案件无需移交"]})


def step_dedupe_key(case_id: int, step_id: int) -> str:
    return f"dispute-{case_id}-step-{step_id}"


def outcome_dedupe_key(case_id: int) -> str:
    """One outcome per case, so one notice of it, however often the job or request is retried."""
    return f"dispute-{case_id}-outcome"
