"""Problem compounds (问题小区, measure 1): the rules that flag a compound. Each rule is a pure function of a
compound's figures and its area's thresholds, and says why it fires (the reason names the figures).

Every comparison is on integers (basis points, counts); "above" and "below" are strict, so a figure exactly at
its threshold never fires."""
from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields

from backend.domain.compounds import GovernanceBody
from backend.domain.voting import meets_participation_line


class FlagRule(enum.StrEnum):
    NO_SELF_GOVERNANCE = "no_self_governance"
    LOW_COLLECTION = "low_collection"
    OVERDUE_ORDERS = "overdue_orders"
    LOW_SATISFACTION = "low_satisfaction"
    OPEN_DISPUTES = "open_disputes"
    FAILED_VOTES = "failed_votes"
    OVERDUE_RECTIFICATIONS = "overdue_rectifications"


FLAG_RULE_LABELS = {
    FlagRule.NO_SELF_GOVERNANCE: "未成立自治组织",
    FlagRule.LOW_COLLECTION: "收缴率持续偏低",
    FlagRule.OVERDUE_ORDERS: "超时工单过多",
    FlagRule.LOW_SATISFACTION: "满意度低",
    FlagRule.OPEN_DISPUTES: "矛盾纠纷较多",
    FlagRule.FAILED_VOTES: "业主表决两次未达参与门槛",
    FlagRule.OVERDUE_RECTIFICATIONS: "整改逾期",
}

# How many of the newest billed months must all be low, and how many of the newest decided owners' votes must all
# have missed participation: fixed by the policy's words ("连续三个月", "两次"), not per area.
COLLECTION_MONTHS = 3
FAILED_VOTES_IN_A_ROW = 2


@dataclass(frozen=True)
class FlagThresholds:
    """An area's thresholds (the nearest area up with its own row wins; these defaults when none has one)."""

    # Fires when each of the three newest billed months already due has a collection rate (by amount) below this.
    collection_min_bp: int = 6000
    # Fires when the open orders past their SLA deadline are more than this.
    overdue_orders_max: int = 5
    # Fires when the newest sufficient survey's overall 满意率 is below this …
    satisfaction_min_bp: int = 6000
    # … or the compound's company's newest published stars are at most this.
    low_stars: int = 2
    # Fires when the open dispute cases are more than this.
    open_disputes_max: int = 2
    # Fires when the unfinished rectification items past their deadline are more than this.
    overdue_rectifications_max: int = 0


DEFAULT_THRESHOLDS = FlagThresholds()
THRESHOLD_FIELDS = tuple(item.name for item in fields(FlagThresholds))


@dataclass(frozen=True)
class MonthCollection:
    """One billed month (its period start, "YYYY-MM") and its collection rate by amount."""

    month: str
    rate_bp: int


@dataclass(frozen=True)
class DecidedBallot:
    """An owners' joint-decision ballot as frozen at its close: who took part out of whom."""

    topic_id: int
    participating_area_centi_m2: int
    total_area_centi_m2: int
    participating_headcount: int
    total_headcount: int

    @property
    def participation_met(self) -> bool:
        # Civil Code Art. 278 para. 2: 2/3 of the area and 2/3 of the owners, both "以上" (the line itself counts).
        return (meets_participation_line(self.participating_area_centi_m2, self.total_area_centi_m2)
                and meets_participation_line(self.participating_headcount, self.total_headcount))


@dataclass(frozen=True)
class CompoundFacts:
    """What the rules read of one compound, gathered by services/flags.py."""

    governance_body: GovernanceBody = GovernanceBody.OWNERS_COMMITTEE
    # Newest first; only billed months (a month without bills is not a month of collection).
    collections: Sequence[MonthCollection] = ()
    overdue_orders: int = 0
    # The newest sufficient survey's overall 满意率, None when there is none.
    satisfaction_bp: int | None = None
    # The company's newest published stars, None when it has no company or no published rating.
    stars: int | None = None
    open_disputes: int = 0
    # Newest first.
    decided_ballots: Sequence[DecidedBallot] = ()
    overdue_rectifications: int = 0


def percent(bp: int) -> str:
    """Basis points as a percentage, exactly (no rounding, so 5999 never shows as 60%): 4120 → 41.2%."""
    whole, rest = divmod(bp, 100)
    if rest == 0:
        return f"{whole}%"
    return f"{whole}.{rest // 10}%" if rest % 10 == 0 else f"{whole}.{rest:02d}%"


def no_self_governance(facts: CompoundFacts, thresholds: FlagThresholds) -> str | None:
    """Fires when the compound has no self-governance body (业主大会/业委会, 物管委 or 自管委)."""
    if facts.governance_body is GovernanceBody.NONE:
        return "未成立业主大会、业委会、物管委或自管委"
    return None


def low_collection(facts: CompoundFacts, thresholds: FlagThresholds) -> str | None:
    """Fires when each of the three newest billed months already due is strictly below `collection_min_bp` (a month
    exactly at it does not count); fewer than three such months never fire."""
    months = list(facts.collections[:COLLECTION_MONTHS])
    if len(months) < COLLECTION_MONTHS or any(m.rate_bp >= thresholds.collection_min_bp for m in months):
        return None
    oldest_first = list(reversed(months))
    rates = "、".join(percent(m.rate_bp) for m in oldest_first)
    return (f"近三个月（{oldest_first[0].month}至{oldest_first[-1].month}）收缴率 {rates}，"
            f"均低于 {percent(thresholds.collection_min_bp)}")


def overdue_orders(facts: CompoundFacts, thresholds: FlagThresholds) -> str | None:
    """Fires when the open orders past their SLA deadline are strictly more than `overdue_orders_max`."""
    if facts.overdue_orders <= thresholds.overdue_orders_max:
        return None
    return f"超时未办结工单 {facts.overdue_orders} 件，超过 {thresholds.overdue_orders_max} 件"


def low_satisfaction(facts: CompoundFacts, thresholds: FlagThresholds) -> str | None:
    """Fires when the newest sufficient survey's 满意率 is strictly below `satisfaction_min_bp`, or when the
    company's newest published stars are at most `low_stars` (★ ≤ 2 by default; no star at all is 0)."""
    reasons = []
    if facts.satisfaction_bp is not None and facts.satisfaction_bp < thresholds.satisfaction_min_bp:
        reasons.append(f"最近一次满意度测评满意率 {percent(facts.satisfaction_bp)}，"
                       f"低于 {percent(thresholds.satisfaction_min_bp)}")
    if facts.stars is not None and facts.stars <= thresholds.low_stars:
        reasons.append(f"物业服务企业最新评定 {facts.stars} 星，不高于 {thresholds.low_stars} 星")
    return "；".join(reasons) or None


def open_disputes(facts: CompoundFacts, thresholds: FlagThresholds) -> str | None:
    """Fires when the open dispute cases are strictly more than `open_disputes_max`."""
    if facts.open_disputes <= thresholds.open_disputes_max:
        return None
    return f"调解中的矛盾纠纷 {facts.open_disputes} 件，超过 {thresholds.open_disputes_max} 件"


def failed_votes(facts: CompoundFacts, thresholds: FlagThresholds) -> str | None:
    """Fires when the two newest decided owners' joint-decision ballots both missed Art. 278's participation
    line (2/3 of the area and 2/3 of the owners); one failed ballot, or a met one among the two newest, does not."""
    newest = list(facts.decided_ballots[:FAILED_VOTES_IN_A_ROW])
    if len(newest) < FAILED_VOTES_IN_A_ROW or any(ballot.participation_met for ballot in newest):
        return None
    shares = "；".join(
        f"议题#{b.topic_id} 参与面积 {_share(b.participating_area_centi_m2, b.total_area_centi_m2)}、"
        f"参与人数 {_share(b.participating_headcount, b.total_headcount)}"
        for b in reversed(newest)
    )
    return f"最近两次业主共同决定表决均未达到参与表决要求（面积和人数均须三分之二以上）：{shares}"


def overdue_rectifications(facts: CompoundFacts, thresholds: FlagThresholds) -> str | None:
    """Fires when the unfinished rectification items past their deadline are strictly more than
    `overdue_rectifications_max` (0 by default: one overdue item fires)."""
    if facts.overdue_rectifications <= thresholds.overdue_rectifications_max:
        return None
    return f"逾期未销号整改事项 {facts.overdue_rectifications} 项，超过 {thresholds.overdue_rectifications_max} 项"


def _share(part: int, whole: int) -> str:
    # Display only, truncated so a share below 2/3 never reads as 66.7%.
    return "—" if whole == 0 else percent(part * 10_000 // whole)


RULES: Mapping[FlagRule, Callable[[CompoundFacts, FlagThresholds], str | None]] = {
    FlagRule.NO_SELF_GOVERNANCE: no_self_governance,
    FlagRule.LOW_COLLECTION: low_collection,
    FlagRule.OVERDUE_ORDERS: overdue_orders,
    FlagRule.LOW_SATISFACTION: low_satisfaction,
    FlagRule.OPEN_DISPUTES: open_disputes,
    FlagRule.FAILED_VOTES: failed_votes,
    FlagRule.OVERDUE_RECTIFICATIONS: overdue_rectifications,
}


def firing(facts: CompoundFacts, thresholds: FlagThresholds) -> dict[FlagRule, str]:
    """Every rule that fires for the compound, with its reason."""
    reasons = {rule: check(facts, thresholds) for rule, check in RULES.items()}
    return {rule: reason for rule, reason in reasons.items() if reason is not None}


@dataclass(frozen=True)
class FlagChanges:
    """What a sweep does to one compound's flags: raise new ones, reword active ones, clear the rest."""

    raise_: dict[FlagRule, str] = field(default_factory=dict)
    reword: dict[FlagRule, str] = field(default_factory=dict)
    clear: frozenset[FlagRule] = frozenset()


def changes(active: Mapping[FlagRule, str], fired: Mapping[FlagRule, str]) -> FlagChanges:
    """From the active flags (rule → reason) and the rules firing now: a flag clears only when its rule stops
    firing; one still firing keeps its row (and its raised_at) and takes the new reason if the figures moved."""
    return FlagChanges(
        raise_={rule: reason for rule, reason in fired.items() if rule not in active},
        reword={rule: reason for rule, reason in fired.items() if rule in active and active[rule] != reason},
        clear=frozenset(rule for rule in active if rule not in fired),
    )


THRESHOLD_LIMITS = {
    "collection_min_bp": (0, 10_000),
    "overdue_orders_max": (0, 10_000),
    "satisfaction_min_bp": (0, 10_000),
    "low_stars": (0, 5),
    "open_disputes_max": (0, 10_000),
    "overdue_rectifications_max": (0, 10_000),
}

THRESHOLD_LABELS = {
    "collection_min_bp": "收缴率下限（连续三个月低于即标记）",
    "overdue_orders_max": "超时工单上限（超过即标记）",
    "satisfaction_min_bp": "满意率下限（低于即标记）",
    "low_stars": "物业企业星级（不高于即标记）",
    "open_disputes_max": "调解中纠纷上限（超过即标记）",
    "overdue_rectifications_max": "逾期整改上限（超过即标记）",
}
