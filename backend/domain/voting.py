"""Owners' vote tally (业主表决): Civil Code Art. 278 thresholds for joint decisions, simple majority for consultations."""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from fractions import Fraction

ABSTAIN = "abstain"


class VoteKind(enum.StrEnum):
    CONSULTATION = "consultation"  # 一般协商事项: simple majority of votes cast
    OWNERS_JOINT = "owners_joint"  # 业主共同决定事项: Civil Code Art. 278


# Civil Code Art. 278 para. 1, items (1)–(9).
ITEM_LABELS = {
    1: "制定和修改业主大会议事规则",
    2: "制定和修改管理规约",
    3: "选举业主委员会或者更换业主委员会成员",
    4: "选聘和解聘物业服务企业或者其他管理人",
    5: "使用建筑物及其附属设施的维修资金",
    6: "筹集建筑物及其附属设施的维修资金",
    7: "改建、重建建筑物及其附属设施",
    8: "改变共有部分的用途或者利用共有部分从事经营活动",
    9: "有关共有和共同管理权利的其他重大事项",
}

# Civil Code Art. 278 para. 2: items (6)–(8) need 3/4 of the participating area and headcount.
SUPERMAJORITY_ITEMS = frozenset({6, 7, 8})

ONE_HALF = Fraction(1, 2)
TWO_THIRDS = Fraction(2, 3)
THREE_QUARTERS = Fraction(3, 4)

FRACTION_WORDS = {ONE_HALF: "二分之一", TWO_THIRDS: "三分之二", THREE_QUARTERS: "四分之三"}

PASSED = "表决通过"
PARTICIPATION_FAILED = "未达到参与表决要求"
APPROVAL_FAILED = "未达到通过比例要求"

OPTION_WORDS = {"yes": "同意", "no": "反对", ABSTAIN: "弃权"}


@dataclass(frozen=True)
class EligibleHousehold:
    """One exclusive part (专有部分) on the roll; `owner_key` is the same for every household of one owner."""

    household_id: int
    owner_key: str
    area_centi_m2: int

    def __post_init__(self):
        if self.area_centi_m2 < 0:
            raise ValueError("专有部分面积不能为负数")


@dataclass(frozen=True)
class CastVote:
    household_id: int
    option: str


@dataclass(frozen=True)
class VoteCounts:
    """What a ballot's votes add up to, before any rule is applied (a service may aggregate this in SQL)."""

    eligible_households: int
    total_area_centi_m2: int
    total_headcount: int
    participating_households: int
    participating_area_centi_m2: int
    participating_headcount: int
    option_households: Mapping[str, int]
    option_area_centi_m2: Mapping[str, int]
    option_headcount: Mapping[str, int]


def _reaches(part: int, whole: int, share: Fraction, *, strict: bool) -> bool:
    """part/whole > share (strict, 过半数) or ≥ share (以上), cross-multiplied so it stays in integers.

    Civil Code Art. 1259: "以上" includes the number itself, so "三分之二以上" is met at exactly 2/3."""
    if whole == 0:
        return False
    left, right = part * share.denominator, share.numerator * whole
    return left > right if strict else left >= right


def meets_participation_line(part: int, whole: int) -> bool:
    """Civil Code Art. 278 para. 2: taking part, "三分之二以上" of the area (or of the owners); 0 of 0 is not met."""
    return _reaches(part, whole, TWO_THIRDS, strict=False)


def _is_item_number(item: object) -> bool:
    return isinstance(item, int) and not isinstance(item, bool) and item in ITEM_LABELS


@dataclass(frozen=True)
class VoteRule:
    """What is being decided: a consultation, or an owners' joint decision on one item of Art. 278."""

    kind: VoteKind | str
    item: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "kind", VoteKind(self.kind))
        if self.kind is VoteKind.CONSULTATION and self.item is not None:
            raise ValueError("一般协商事项不对应《民法典》第二百七十八条的表决事项")
        if self.kind is VoteKind.OWNERS_JOINT and not _is_item_number(self.item):
            raise ValueError("业主共同决定事项须为《民法典》第二百七十八条第一款第一至九项之一")

    @property
    def participation_threshold(self) -> Fraction | None:
        return TWO_THIRDS if self.kind is VoteKind.OWNERS_JOINT else None

    @property
    def approval_threshold(self) -> Fraction:
        return THREE_QUARTERS if self.item in SUPERMAJORITY_ITEMS else ONE_HALF

    @property
    def approval_strict(self) -> bool:
        # "过半数" is strictly more than half; "四分之三以上" includes 3/4 itself (Art. 1259).
        return self.item not in SUPERMAJORITY_ITEMS

    def participation_met(self, counts: VoteCounts) -> bool:
        if self.kind is VoteKind.CONSULTATION:
            return counts.participating_households > 0
        return meets_participation_line(
            counts.participating_area_centi_m2, counts.total_area_centi_m2
        ) and meets_participation_line(counts.participating_headcount, counts.total_headcount)

    def approves(self, counts: VoteCounts, option: str) -> bool:
        """Whether `option` carries; each candidate of a list is judged on its own by the same rule."""
        if option == ABSTAIN or not self.participation_met(counts):
            return False
        if self.kind is VoteKind.CONSULTATION:
            # Simple majority of votes cast, by household; abstentions count as cast.
            households = counts.option_households.get(option, 0)
            return _reaches(households, counts.participating_households, ONE_HALF, strict=True)
        share, strict = self.approval_threshold, self.approval_strict
        area = _reaches(
            counts.option_area_centi_m2.get(option, 0),
            counts.participating_area_centi_m2,
            share,
            strict=strict,
        )
        heads = _reaches(
            counts.option_headcount.get(option, 0), counts.participating_headcount, share, strict=strict
        )
        return area and heads


@dataclass(frozen=True)
class TallyResult(VoteCounts):
    """The counts together with the judgment of `approve_option` under `rule`."""

    rule: VoteRule
    approve_option: str
    participation_met: bool
    passed: bool
    reason: str
    participation_threshold: Fraction | None
    approval_threshold: Fraction
    approval_strict: bool

    def approves(self, option: str) -> bool:
        return self.rule.approves(self, option)


def count_votes(eligible: Iterable[EligibleHousehold], votes: Iterable[CastVote]) -> VoteCounts:
    """Add up the votes of households on the roll; a household's last vote is the one that counts."""
    roll: dict[int, EligibleHousehold] = {}
    for household in eligible:
        if household.household_id in roll:
            raise ValueError("同一户在表决名单中重复出现")
        roll[household.household_id] = household
    chosen = {vote.household_id: vote.option for vote in votes if vote.household_id in roll}

    participating_owners: set[str] = set()
    option_owners: defaultdict[str, set[str]] = defaultdict(set)
    option_households: Counter[str] = Counter()
    option_area: Counter[str] = Counter()
    for household_id, option in chosen.items():
        household = roll[household_id]
        participating_owners.add(household.owner_key)
        option_owners[option].add(household.owner_key)
        option_households[option] += 1
        option_area[option] += household.area_centi_m2

    # One owner of several households counts as one person: SPC interpretation on disputes over building
    # ownership (建筑物区分所有权司法解释), Art. 9.
    return VoteCounts(
        eligible_households=len(roll),
        total_area_centi_m2=sum(household.area_centi_m2 for household in roll.values()),
        total_headcount=len({household.owner_key for household in roll.values()}),
        participating_households=len(chosen),
        participating_area_centi_m2=sum(roll[household_id].area_centi_m2 for household_id in chosen),
        participating_headcount=len(participating_owners),
        option_households=dict(option_households),
        option_area_centi_m2=dict(option_area),
        option_headcount={option: len(owners) for option, owners in option_owners.items()},
    )


def judge(rule: VoteRule, counts: VoteCounts, approve_option: str) -> TallyResult:
    participation_met = rule.participation_met(counts)
    passed = rule.approves(counts, approve_option)
    if passed:
        reason = PASSED
    elif not participation_met:
        reason = PARTICIPATION_FAILED
    else:
        reason = APPROVAL_FAILED
    return TallyResult(
        **{field.name: getattr(counts, field.name) for field in fields(VoteCounts)},
        rule=rule,
        approve_option=approve_option,
        participation_met=participation_met,
        passed=passed,
        reason=reason,
        participation_threshold=rule.participation_threshold,
        approval_threshold=rule.approval_threshold,
        approval_strict=rule.approval_strict,
    )


def tally(
    rule: VoteRule, eligible: Iterable[EligibleHousehold], votes: Iterable[CastVote], approve_option: str
) -> TallyResult:
    return judge(rule, count_votes(eligible, votes), approve_option)


def format_area(centi_m2: int) -> str:
    return f"{centi_m2 // 100:,}.{centi_m2 % 100:02d}㎡"


def format_share(part: int, whole: int) -> str:
    """part/whole as a percentage with one decimal, rounded half-up; for display only, never for the decision."""
    if whole == 0:
        return "—"
    tenths = (part * 2000 + whole) // (2 * whole)  # floor(part/whole × 1000 + 1/2), in integers
    return f"{tenths // 10}.{tenths % 10}%"


def explain(result: TallyResult, option_label: str | None = None) -> list[str]:
    """Plain-Chinese lines for the result page; `option_label` names a candidate or an option of the ballot."""
    if option_label is not None:
        chose = f"选择「{option_label}」"
    else:
        chose = OPTION_WORDS.get(result.approve_option, f"选择「{result.approve_option}」")
    if result.rule.kind is VoteKind.CONSULTATION:
        lines = _consultation_lines(result, chose)
    else:
        lines = _owners_joint_lines(result, chose)
    conclusion = PASSED if result.passed else f"{result.reason}，表决未通过"
    return [*lines, f"结论：{conclusion}"]


def rule_in_words(result: TallyResult, motion: bool) -> list[str]:
    """The rule a result was decided by, in plain Chinese (Civil Code Art. 278 for owners' joint decisions);
    `motion`: decided by its 同意 option rather than among candidates."""
    if result.rule.kind is VoteKind.CONSULTATION:
        return ["一般协商事项：至少一户参与表决；某一选项获得的户数超过参与表决户数的二分之一即为通过，"
                "弃权计入参与表决户数。"]
    item = result.rule.item
    who = "同意的业主" if motion else "选择某一候选项的业主"
    share = "过半数" if result.approval_strict else f"{FRACTION_WORDS[result.approval_threshold]}以上"
    return [
        f"业主共同决定事项：《民法典》第二百七十八条第一款第（{item}）项“{ITEM_LABELS[item]}”。",
        "参与表决的业主须占专有部分面积三分之二以上且占业主人数三分之二以上（第二百七十八条第二款）。",
        f"{who}须占参与表决专有部分面积{share}，且占参与表决人数{share}。",
        "一户（专有部分）一票，按建筑面积计；一位业主有多套房屋的，人数按一人计算。",
    ]


def _owners_joint_lines(result: TallyResult, chose: str) -> list[str]:
    area, total_area = result.participating_area_centi_m2, result.total_area_centi_m2
    heads, total_heads = result.participating_headcount, result.total_headcount
    option = result.approve_option
    option_area = result.option_area_centi_m2.get(option, 0)
    option_heads = result.option_headcount.get(option, 0)
    share, strict = result.approval_threshold, result.approval_strict
    # An abstention takes part but never approves, whatever its share.
    may_count = option != ABSTAIN
    return [
        _share_line(
            f"参与表决的专有部分面积 {format_area(area)}",
            f"总面积 {format_area(total_area)} ",
            area,
            total_area,
            share=TWO_THIRDS,
            strict=False,
        ),
        _share_line(
            f"参与表决人数 {heads} 人",
            f"业主总人数 {total_heads} 人",
            heads,
            total_heads,
            share=TWO_THIRDS,
            strict=False,
        ),
        _share_line(
            f"{chose}的面积 {format_area(option_area)}",
            f"参与表决面积 {format_area(area)} ",
            option_area,
            area,
            share=share,
            strict=strict,
            may_count=may_count,
        ),
        _share_line(
            f"{chose}的人数 {option_heads} 人",
            f"参与表决人数 {heads} 人",
            option_heads,
            heads,
            share=share,
            strict=strict,
            may_count=may_count,
        ),
    ]


def _consultation_lines(result: TallyResult, chose: str) -> list[str]:
    voted, eligible = result.participating_households, result.eligible_households
    households = result.option_households.get(result.approve_option, 0)
    return [
        f"参与表决 {voted} 户，占可参与表决 {eligible} 户的 {format_share(voted, eligible)}，要求至少一户参与 "
        f"{_mark(result.participation_met)}",
        _share_line(
            f"{chose} {households} 户",
            f"参与表决 {voted} 户",
            households,
            voted,
            share=ONE_HALF,
            strict=True,
            may_count=result.approve_option != ABSTAIN,
        ),
    ]


def _share_line(
    figure: str,
    of_whole: str,
    part: int,
    whole: int,
    *,
    share: Fraction,
    strict: bool,
    may_count: bool = True,
) -> str:
    requirement = f"要求{'超过' if strict else '不低于'}{FRACTION_WORDS[share]}"
    met = may_count and _reaches(part, whole, share, strict=strict)
    return f"{figure}，占{of_whole}的 {format_share(part, whole)}，{requirement} {_mark(met)}"


def _mark(met: bool) -> str:
    return "✓" if met else "✗"
