"""Choosing, contracting and handing over the property company (市场化: 选聘, 物业服务合同, 承接查验) as plain rules:
what a finished selection vote decides (only a passed owners' joint decision under Civil Code Art. 278 item 4
hires or dismisses), a contract's states and terms, the handover checklist and when it may be signed, and which
term-end reminder is due."""
from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from backend.domain.consultations import Step
from backend.domain.refusals import Kind, Refused
from backend.domain.voting import VoteKind

# Art. 278 para. 1 item (4): 选聘和解聘物业服务企业或者其他管理人.
SELECTION_ITEM = 4
MAX_CANDIDATES = 5
NOTE_LIMIT = 300
ITEM_NAME_LIMIT = 30
MAX_PHOTOS = 6
# The longest term a contract may state: a typing error past it.
MAX_TERM_YEARS = 10
# Contract dates a compound can have: past them a typing error, and a renewal's start (the day after the end)
# stays a date.
EARLIEST_TERM, LATEST_TERM = date(2000, 1, 1), date(2099, 12, 31)
# Days before the term ends that the committee is reminded, furthest first.
REMINDER_DAYS = (180, 90)


class ContractsRefused(Refused):
    default_kind = Kind.CONFLICT


class SelectionPurpose(enum.StrEnum):
    HIRE = "hire"  # 选聘 (also 重新选聘 at a term's end)
    RENEW = "renew"  # 续聘 the company under contract
    DISMISS = "dismiss"  # 解聘


SELECTION_PURPOSE_LABELS = {
    SelectionPurpose.HIRE: "选聘物业服务企业",
    SelectionPurpose.RENEW: "续聘物业服务企业",
    SelectionPurpose.DISMISS: "解聘物业服务企业",
}


class SelectionStatus(enum.StrEnum):
    VOTING = "voting"
    DECIDED = "decided"  # passed under item 4: a contract was made, or the contract dismissed
    FAILED = "failed"  # not adopted, not passed, or decided under another item


SELECTION_STATUS_LABELS = {
    SelectionStatus.VOTING: "表决中",
    SelectionStatus.DECIDED: "已决定",
    SelectionStatus.FAILED: "未通过",
}


class ContractStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ENDED = "ended"
    DISMISSED = "dismissed"


CONTRACT_STATUS_LABELS = {
    ContractStatus.DRAFT: "待签订",
    ContractStatus.ACTIVE: "履行中",
    ContractStatus.ENDED: "已到期",
    ContractStatus.DISMISSED: "已解聘",
}

# 物业服务等级 一级…五级 (一级 the highest, as the provincial standards count them).
SERVICE_LEVELS = (1, 2, 3, 4, 5)
SERVICE_LEVEL_LABELS = {1: "一级", 2: "二级", 3: "三级", 4: "四级", 5: "五级"}


class HandoverDirection(enum.StrEnum):
    TAKE_OVER = "take_over"  # the company takes the compound over (承接查验)
    HAND_BACK = "hand_back"  # a dismissed or ended company hands it back (移交)


HANDOVER_DIRECTION_LABELS = {HandoverDirection.TAKE_OVER: "承接查验", HandoverDirection.HAND_BACK: "退出移交"}


class HandoverStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


HANDOVER_STATUS_LABELS = {HandoverStatus.OPEN: "查验中", HandoverStatus.CLOSED: "已签字完成"}


class ItemState(enum.StrEnum):
    UNCHECKED = "unchecked"
    GOOD = "good"
    DEFECTIVE = "defective"
    MISSING = "missing"


ITEM_STATE_LABELS = {
    ItemState.UNCHECKED: "未查验",
    ItemState.GOOD: "完好",
    ItemState.DEFECTIVE: "有缺陷",
    ItemState.MISSING: "缺失",
}

# The common parts and facilities of an old compound's handover (物业承接查验办法, Art. 7–8), one line each.
DEFAULT_CHECKLIST = (
    "房屋共用部位", "供水设施", "供电及照明设施", "消防设施", "电梯", "监控门禁", "道路与停车场", "绿化",
    "垃圾收集设施", "竣工图纸与设备档案",
)


class Side(enum.StrEnum):
    COMMITTEE = "committee"
    COMPANY = "company"


SIDE_LABELS = {Side.COMMITTEE: "业委会", Side.COMPANY: "物业服务企业"}


# ---- what the vote decides -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BallotOutcome:
    """A finished ballot as frozen: its kind and item, whether it passed, and each option (label, whether it was
    the motion's "同意", whether it carried)."""

    kind: VoteKind | str
    item: int | None
    passed: bool
    options: tuple[tuple[str, bool, bool], ...]  # (label, is_approval, approved)


class Verdict(enum.StrEnum):
    WAITING = "waiting"
    CONTRACT = "contract"  # make a draft contract with `company_id`
    DISMISS = "dismiss"  # end the contract and hand back
    NONE = "none"  # nothing follows


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    note: str = ""
    company_id: int | None = None


NOT_ADOPTED = "议题未被采纳"
WRONG_ITEM = "表决事项不是《民法典》第二百七十八条第一款第4项（选聘和解聘物业服务企业），不产生合同"
NOT_PASSED = "业主表决未通过"
NO_CANDIDATE = "通过的选项不是候选企业，未产生合同"
CHOSEN = "业主表决通过，选定{name}"
DISMISSED = "业主表决通过解聘"


def decide(purpose: SelectionPurpose, candidates: Mapping[int, str], step: Step,
           outcome: BallotOutcome | None) -> Decision:
    """What a selection's topic decides. Only a passed owners' joint decision under item 4 acts: a dismissal's
    passed motion dismisses; a hire or renewal chooses the candidate whose name is the carried option's label, or
    the only candidate when the motion "同意" carried. Anything else — not adopted, failed, another kind or item —
    decides nothing."""
    if outcome is None:
        return Decision(Verdict.NONE, NOT_ADOPTED) if step in (Step.DECLINED, Step.MERGED) else Decision(
            Verdict.WAITING)
    if VoteKind(outcome.kind) is not VoteKind.OWNERS_JOINT or outcome.item != SELECTION_ITEM:
        return Decision(Verdict.NONE, WRONG_ITEM)
    if not outcome.passed:
        return Decision(Verdict.NONE, NOT_PASSED)
    motion_carried = any(is_approval and approved for _, is_approval, approved in outcome.options)
    if purpose is SelectionPurpose.DISMISS:
        return Decision(Verdict.DISMISS, DISMISSED) if motion_carried else Decision(Verdict.NONE, NO_CANDIDATE)
    by_name = {name: company_id for company_id, name in candidates.items()}
    carried = [by_name[label] for label, is_approval, approved in outcome.options
               if approved and not is_approval and label in by_name]
    if motion_carried and len(candidates) == 1:
        carried = list(candidates)
    if len(carried) != 1:
        return Decision(Verdict.NONE, NO_CANDIDATE)
    return Decision(Verdict.CONTRACT, CHOSEN.format(name=candidates[carried[0]]), carried[0])


def check_candidates(purpose: SelectionPurpose, candidate_ids: Iterable[int]) -> None:
    ids = list(candidate_ids)
    message = None
    if purpose is SelectionPurpose.DISMISS and ids:
        message = "解聘不需要候选企业"
    elif purpose is not SelectionPurpose.DISMISS and not 1 <= len(ids) <= MAX_CANDIDATES:
        message = f"候选企业须为1至{MAX_CANDIDATES}家"
    elif len(set(ids)) != len(ids):
        message = "候选企业不能重复"
    if message:
        raise ContractsRefused(message, Kind.INVALID, errors={"candidate_ids": [message]})


def ballot_hint(purpose: SelectionPurpose, candidate_names: Iterable[str]) -> str:
    names = list(candidate_names)
    if purpose is SelectionPurpose.DISMISS or len(names) == 1:
        return "表决选项用“同意/不同意/弃权”"
    return "表决选项为候选企业名称（" + "、".join(names) + "）及“弃权”"


# ---- the contract ------------------------------------------------------------------------------------------------


class ContractAction(enum.StrEnum):
    EDIT = "edit"
    ACTIVATE = "activate"
    START_HANDOVER = "start_handover"
    RENEW = "renew"
    RESELECT = "reselect"
    DISMISS = "dismiss"


def check_terms(term_start: date | None, term_end: date | None) -> None:
    for name, day in (("term_start", term_start), ("term_end", term_end)):
        if day is not None and not EARLIEST_TERM <= day <= LATEST_TERM:
            message = f"合同日期须在{EARLIEST_TERM.year}年至{LATEST_TERM.year}年之间"
            raise ContractsRefused(message, Kind.INVALID, errors={name: [message]})
    if term_start is None or term_end is None:
        return
    if term_end <= term_start:
        raise ContractsRefused("合同期限结束日须晚于开始日", Kind.INVALID, errors={"term_end": ["须晚于开始日"]})
    if term_end.year - term_start.year > MAX_TERM_YEARS:
        raise ContractsRefused(f"合同期限不能超过{MAX_TERM_YEARS}年", Kind.INVALID,
                               errors={"term_end": [f"不能超过{MAX_TERM_YEARS}年"]})


def missing_for_activation(term_start: date | None, term_end: date | None, service_level: int | None,
                           has_file: bool) -> list[str]:
    missing = []
    if term_start is None or term_end is None:
        missing.append("合同期限")
    if service_level is None:
        missing.append("服务等级")
    if not has_file:
        missing.append("合同文件")
    return missing


def check_activation(status: ContractStatus, missing: list[str]) -> None:
    if status is not ContractStatus.DRAFT:
        raise ContractsRefused("只有待签订的合同可以生效")
    if missing:
        raise ContractsRefused("请先填写：" + "、".join(missing))


def allowed_actions(status: ContractStatus, may_manage: bool, selection_open: bool,
                    handovers: frozenset[HandoverDirection]) -> frozenset[ContractAction]:
    """The contract's buttons: the committee edits and signs a draft, starts its takeover inspection once, and
    from an active contract raises one renewal, reselection or dismissal topic at a time."""
    if not may_manage:
        return frozenset()
    actions: set[ContractAction] = set()
    if status is ContractStatus.DRAFT:
        actions |= {ContractAction.EDIT, ContractAction.ACTIVATE}
    if status in (ContractStatus.DRAFT, ContractStatus.ACTIVE) and HandoverDirection.TAKE_OVER not in handovers:
        actions.add(ContractAction.START_HANDOVER)
    if status is ContractStatus.ACTIVE and not selection_open:
        actions |= {ContractAction.RENEW, ContractAction.RESELECT, ContractAction.DISMISS}
    return frozenset(actions)


def reminder_step(today: date, term_end: date | None) -> int | None:
    """Which term-end reminder is due today (Beijing dates): 180 from 180 days before the end, 90 from 90 days
    before, until the day itself; None outside. A missed day is caught up the next; the caller's unique key sends
    each step once."""
    if term_end is None:
        return None
    days_left = (term_end - today).days
    if days_left < 0:
        return None
    due = [step for step in REMINDER_DAYS if days_left <= step]
    return min(due) if due else None


# ---- the handover ------------------------------------------------------------------------------------------------


def is_open(state: ItemState, resolved: bool) -> bool:
    """An item not yet checked, or found defective or missing and not put right, keeps the inspection open."""
    return state is ItemState.UNCHECKED or (state in (ItemState.DEFECTIVE, ItemState.MISSING) and not resolved)


def open_count(items: Iterable[tuple[ItemState, bool]]) -> int:
    return sum(1 for state, resolved in items if is_open(state, resolved))


def check_may_sign(status: HandoverStatus, open_items: int, already_signed: bool) -> None:
    if status is not HandoverStatus.OPEN:
        raise ContractsRefused("查验已签字完成")
    if open_items:
        raise ContractsRefused(f"还有{open_items}项未查验或未整改完毕，不能签字")
    if already_signed:
        raise ContractsRefused("已经签过字了")


def check_may_record(status: HandoverStatus, signed_by_anyone: bool) -> None:
    if status is not HandoverStatus.OPEN or signed_by_anyone:
        raise ContractsRefused("已有一方签字，查验记录不能再改")


def check_may_resolve(state: ItemState, resolved: bool) -> None:
    if state not in (ItemState.DEFECTIVE, ItemState.MISSING):
        raise ContractsRefused("只有有缺陷或缺失的项目需要整改销项")
    if resolved:
        raise ContractsRefused("该项已整改完毕")


def check_photo_count(count: int) -> None:
    if count > MAX_PHOTOS:
        raise ContractsRefused(f"每项最多{MAX_PHOTOS}张照片", Kind.INVALID, errors={"photos": [f"最多{MAX_PHOTOS}张"]})
