"""Owners' vote tally (DESIGN §3, Civil Code Art. 278): every threshold at its edge, multi-household owners,
abstentions, changed and stray votes, consultations, and a property test against a slow Fraction reference."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.voting import (
    ABSTAIN,
    ITEM_LABELS,
    CastVote,
    EligibleHousehold,
    TallyResult,
    VoteCounts,
    VoteKind,
    VoteRule,
    count_votes,
    explain,
    format_area,
    format_share,
    judge,
    meets_participation_line,
    rule_in_words,
    tally,
)

PASSED = "表决通过"
PARTICIPATION_FAILED = "未达到参与表决要求"
APPROVAL_FAILED = "未达到通过比例要求"

CONSULTATION = VoteRule("consultation")
ORDINARY_ITEMS = (1, 2, 3, 4, 5, 9)
SUPERMAJORITY_ITEMS = (6, 7, 8)


def joint(item: int = 4) -> VoteRule:
    return VoteRule(kind="owners_joint", item=item)


def roll(*areas: int, owners: tuple[str, ...] | None = None) -> list[EligibleHousehold]:
    """Households 1..n with these areas (centi-m²); each its own owner unless `owners` says otherwise."""
    owners = owners or tuple(f"u{number}" for number in range(1, len(areas) + 1))
    return [
        EligibleHousehold(household_id=number, owner_key=owner, area_centi_m2=area)
        for number, (owner, area) in enumerate(zip(owners, areas, strict=True), start=1)
    ]


def ballots(**households_by_option: list[int] | range) -> list[CastVote]:
    return [
        CastVote(household_id=household_id, option=option)
        for option, household_ids in households_by_option.items()
        for household_id in household_ids
    ]


# ---- participation (Art. 278 para. 2: 2/3 of the area and 2/3 of the owners, "以上" includes 2/3) ----------

PARTICIPATION_EDGES = [
    # 30,000 of 45,000 centi-m² is exactly 2/3; three of four owners vote.
    pytest.param((10000, 10000, 10000, 15000), range(1, 4), True, id="area exactly 2/3"),
    pytest.param((10000, 10000, 9999, 15001), range(1, 4), False, id="area one centi-m2 short"),
    pytest.param((10000, 10000, 9900, 15100), range(1, 4), False, id="area one m2 short"),
    # Four of six owners is exactly 2/3; the voters hold nearly all the area.
    pytest.param((10000,) * 4 + (1, 1), range(1, 5), True, id="headcount exactly 2/3"),
    pytest.param((10000,) * 4 + (1, 1), range(1, 4), False, id="headcount one owner short"),
    pytest.param((90000, 1, 1, 1), [1], False, id="area met, headcount not"),
    pytest.param((1, 1, 1, 90000), range(1, 4), False, id="headcount met, area not"),
]


@pytest.mark.parametrize("item", range(1, 10))
@pytest.mark.parametrize(("areas", "voters", "met"), PARTICIPATION_EDGES)
def test_participation_needs_two_thirds_of_area_and_of_owners(item, areas, voters, met):
    result = tally(joint(item), roll(*areas), ballots(yes=voters), approve_option="yes")
    assert result.participation_met is met
    # Everyone who took part said yes, so only participation decides.
    assert result.passed is met
    assert result.reason == (PASSED if met else PARTICIPATION_FAILED)


def test_participation_figures_are_reported_in_centi_m2_and_owners():
    result = tally(
        joint(), roll(10000, 10000, 10000, 15000), ballots(yes=[1, 2], no=[3]), approve_option="yes"
    )
    assert (result.total_area_centi_m2, result.participating_area_centi_m2) == (45000, 30000)
    assert (result.total_headcount, result.participating_headcount) == (4, 3)
    assert (result.eligible_households, result.participating_households) == (4, 3)
    assert result.option_area_centi_m2 == {"yes": 20000, "no": 10000}
    assert result.option_headcount == {"yes": 2, "no": 1}
    assert result.option_households == {"yes": 2, "no": 1}


def test_full_support_from_too_few_participants_fails_on_participation():
    result = tally(joint(), roll(100, 100, 100), ballots(yes=[1]), approve_option="yes")
    assert result.option_area_centi_m2["yes"] == result.participating_area_centi_m2
    assert (result.participation_met, result.passed) == (False, False)
    assert result.reason == PARTICIPATION_FAILED


def test_nobody_on_the_roll_never_meets_participation():
    result = tally(joint(), [], [], approve_option="yes")
    assert (result.total_area_centi_m2, result.total_headcount) == (0, 0)
    assert (result.participation_met, result.passed) == (False, False)


@pytest.mark.parametrize(
    ("part", "whole", "met"),
    [(2, 3, True), (200, 300, True), (199, 300, False), (3, 3, True), (0, 0, False), (0, 1, False)],
)
def test_the_live_participation_line_is_art_278s_two_thirds_inclusive(part, whole, met):
    """The bar of an open ballot and the frozen result apply the same line: 三分之二以上, exactly 2/3 included."""
    assert meets_participation_line(part, whole) is met


def test_a_roll_of_zero_area_never_meets_participation():
    result = tally(joint(), roll(0, 0, 0), ballots(yes=[1, 2, 3]), approve_option="yes")
    assert result.participating_headcount == result.total_headcount == 3
    assert result.participation_met is False


def test_a_zero_area_household_counts_on_the_roll_and_by_headcount():
    result = tally(joint(), roll(0, 0, 300), ballots(yes=[3]), approve_option="yes")
    assert (result.eligible_households, result.total_headcount, result.total_area_centi_m2) == (3, 3, 300)
    # All of the area took part, but one owner of three did not reach 2/3.
    assert result.participation_met is False


# ---- approval: more than half (过半数, strict) for items 1–5 and 9; 3/4 以上 for items 6–8 ------------------

ORDINARY_APPROVAL_EDGES = [
    pytest.param((100, 100, 100, 100), [1, 2], [3, 4], False, id="both exactly half"),
    pytest.param((100, 100, 100, 300), [1, 2, 3], [4], False, id="area exactly half, headcount above"),
    pytest.param((100, 100, 100, 299), [1, 2, 3], [4], True, id="area one centi-m2 above half"),
    pytest.param((1000, 1000, 1, 1), [1, 2], [3, 4], False, id="headcount exactly half, area above"),
    pytest.param((1000, 1000, 1, 1), [1, 2, 3], [4], True, id="headcount one owner above half"),
    pytest.param((100, 100, 100), [1, 2], [3], True, id="two thirds"),
]

SUPERMAJORITY_APPROVAL_EDGES = [
    pytest.param((100, 100, 100, 100), [1, 2, 3], [4], True, id="both exactly 3/4"),
    pytest.param((100, 100, 100, 101), [1, 2, 3], [4], False, id="area one centi-m2 short of 3/4"),
    pytest.param((99, 100, 100, 101), [1, 2, 3], [4], False, id="area one m2 short of 3/4"),
    pytest.param((1000,) * 5 + (1,) * 3, range(1, 7), range(7, 9), True, id="headcount exactly 3/4"),
    pytest.param(
        (1000,) * 5 + (1,) * 3, range(1, 6), range(6, 9), False, id="headcount one owner short of 3/4"
    ),
    pytest.param((1, 1, 1, 1000), [1, 2, 3], [4], False, id="headcount 3/4, area not"),
    pytest.param((1000, 1000, 1000, 1, 1), [1, 2, 3], [4, 5], False, id="area above 3/4, headcount 3/5"),
    pytest.param((100, 100, 100), [1, 2], [3], False, id="two thirds is not enough"),
]


@pytest.mark.parametrize("item", ORDINARY_ITEMS)
@pytest.mark.parametrize(("areas", "yes", "no", "passes"), ORDINARY_APPROVAL_EDGES)
def test_ordinary_items_need_more_than_half_of_area_and_of_owners(item, areas, yes, no, passes):
    result = tally(joint(item), roll(*areas), ballots(yes=yes, no=no), approve_option="yes")
    assert result.participation_met is True
    assert result.passed is passes
    assert result.reason == (PASSED if passes else APPROVAL_FAILED)


@pytest.mark.parametrize("item", SUPERMAJORITY_ITEMS)
@pytest.mark.parametrize(("areas", "yes", "no", "passes"), SUPERMAJORITY_APPROVAL_EDGES)
def test_items_six_to_eight_need_three_quarters_of_area_and_of_owners(item, areas, yes, no, passes):
    result = tally(joint(item), roll(*areas), ballots(yes=yes, no=no), approve_option="yes")
    assert result.participation_met is True
    assert result.passed is passes
    assert result.reason == (PASSED if passes else APPROVAL_FAILED)


EXPECTED_ITEM_LABELS = {
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


@pytest.mark.parametrize("item", range(1, 10))
def test_every_item_maps_to_its_thresholds(item):
    supermajority = item in SUPERMAJORITY_ITEMS
    result = tally(joint(item), roll(100), ballots(yes=[1]), approve_option="yes")
    assert result.participation_threshold == Fraction(2, 3)
    assert result.approval_threshold == (Fraction(3, 4) if supermajority else Fraction(1, 2))
    assert result.approval_strict is not supermajority
    assert result.rule == joint(item)


def test_consultation_thresholds():
    result = tally(CONSULTATION, roll(100), ballots(yes=[1]), approve_option="yes")
    assert result.participation_threshold is None
    assert (result.approval_threshold, result.approval_strict) == (Fraction(1, 2), True)


def test_the_items_labels_are_exactly_the_nine_items_of_article_278():
    assert ITEM_LABELS == EXPECTED_ITEM_LABELS


# ---- who counts: owners of several households, abstentions, changed and stray votes --------------------------


def test_an_owner_of_several_households_counts_once_by_headcount():
    # u1 holds three of five households: three owners in all, and u1 with u2 are two of the three.
    households = roll(300, 1, 1, 100, 100, owners=("u1", "u1", "u1", "u2", "u3"))
    result = tally(joint(), households, ballots(yes=[1, 4]), approve_option="yes")
    assert (result.total_headcount, result.participating_headcount) == (3, 2)
    assert (result.participating_area_centi_m2, result.total_area_centi_m2) == (400, 502)
    assert result.participation_met is True
    assert result.passed is True


def test_an_owner_who_splits_votes_counts_towards_each_option_chosen():
    households = roll(100, 200, 300, 400, owners=("u1", "u1", "u2", "u3"))
    result = tally(joint(), households, ballots(yes=[1, 3], no=[2]), approve_option="yes")
    assert (result.total_headcount, result.participating_headcount) == (3, 2)
    assert result.option_headcount == {"yes": 2, "no": 1}
    assert result.option_households == {"yes": 2, "no": 1}
    assert result.option_area_centi_m2 == {"yes": 400, "no": 200}


def test_abstentions_take_part_but_approve_nothing():
    households = roll(100, 100, 100)
    without = tally(joint(), households, ballots(yes=[1]), approve_option="yes")
    with_abstention = tally(joint(), households, ballots(yes=[1], abstain=[2]), approve_option="yes")
    assert without.reason == PARTICIPATION_FAILED
    # The abstention lifts participation to 2/3 and leaves "yes" at exactly half, which is not more than half.
    assert with_abstention.participation_met is True
    assert with_abstention.participating_area_centi_m2 == 200
    assert with_abstention.option_area_centi_m2[ABSTAIN] == 100
    assert (with_abstention.passed, with_abstention.reason) == (False, APPROVAL_FAILED)
    assert with_abstention.approves(ABSTAIN) is False


@pytest.mark.parametrize("rule", [joint(4), joint(7), CONSULTATION], ids=str)
def test_abstain_never_passes_even_when_everyone_abstains(rule):
    result = tally(rule, roll(100, 100, 100), ballots(abstain=[1, 2, 3]), approve_option=ABSTAIN)
    assert result.participation_met is True
    assert (result.passed, result.reason) == (False, APPROVAL_FAILED)


def test_a_changed_vote_counts_as_last_cast():
    votes = [
        CastVote(1, "no"),
        CastVote(2, "yes"),
        CastVote(3, "yes"),
        CastVote(1, "yes"),
        CastVote(3, ABSTAIN),
    ]
    result = tally(joint(), roll(100, 100, 100), votes, approve_option="yes")
    assert result.participating_households == 3
    assert result.option_households == {"yes": 2, ABSTAIN: 1}
    assert result.option_area_centi_m2 == {"yes": 200, ABSTAIN: 100}
    assert result.passed is True


def test_votes_for_households_not_on_the_roll_are_ignored():
    households = roll(100, 100, 100)
    counted = ballots(yes=[1, 2], no=[3])
    stray = ballots(no=[4, 99, 0])
    assert tally(joint(), households, counted + stray, "yes") == tally(joint(), households, counted, "yes")
    assert tally(joint(), households, stray, "no").participating_households == 0


def test_an_option_nobody_chose_approves_nothing():
    result = tally(joint(), roll(100, 100, 100), ballots(yes=[1, 2, 3]), approve_option="c1")
    assert result.participation_met is True
    assert (result.passed, result.reason) == (False, APPROVAL_FAILED)
    assert result.approves("yes") is True
    assert result.approves("unknown") is False


def test_each_candidate_is_judged_on_its_own_and_counts_can_be_judged_again():
    counts = count_votes(roll(100, 100, 100, 100, 100), ballots(c1=[1, 2, 3], c2=[4], c3=[5]))
    assert [judge(joint(3), counts, candidate).passed for candidate in ("c1", "c2", "c3")] == [
        True,
        False,
        False,
    ]
    result = judge(joint(3), counts, "c1")
    assert judge(joint(3), result, "c2") == judge(joint(3), counts, "c2")


# ---- consultations: simple majority of votes cast, by household ---------------------------------------------


CONSULTATION_CASES = [
    pytest.param({"yes": [1, 2, 3], "no": [4, 5]}, True, PASSED, id="majority"),
    pytest.param({"yes": [1, 2], "no": [3, 4]}, False, APPROVAL_FAILED, id="tie fails"),
    pytest.param({"yes": [1, 2], "no": [3]}, True, PASSED, id="two of three"),
    pytest.param(
        {"yes": [1, 2], "no": [3], ABSTAIN: [4]}, False, APPROVAL_FAILED, id="abstain in denominator"
    ),
    pytest.param({"yes": [1]}, True, PASSED, id="one vote of five households"),
    pytest.param({}, False, PARTICIPATION_FAILED, id="no votes"),
]


@pytest.mark.parametrize(("votes", "passes", "reason"), CONSULTATION_CASES)
def test_consultation_passes_on_a_simple_majority_of_votes_cast(votes, passes, reason):
    result = tally(CONSULTATION, roll(100, 100, 100, 100, 100), ballots(**votes), approve_option="yes")
    assert result.participation_met is bool(votes)
    assert (result.passed, result.reason) == (passes, reason)


def test_consultation_counts_households_not_area_and_still_reports_area():
    result = tally(CONSULTATION, roll(10000, 1, 1), ballots(yes=[1], no=[2, 3]), approve_option="yes")
    assert result.passed is False
    assert result.approves("no") is True
    assert (result.participating_area_centi_m2, result.total_area_centi_m2) == (10002, 10002)
    assert result.option_area_centi_m2 == {"yes": 10000, "no": 2}
    assert (result.participating_headcount, result.total_headcount) == (3, 3)


# ---- validation ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "item"),
    [
        ("owners_joint", 0),
        ("owners_joint", 10),
        ("owners_joint", None),
        ("owners_joint", -4),
        ("owners_joint", True),
        ("owners_joint", "4"),
        ("consultation", 4),
        ("referendum", None),
    ],
)
def test_a_rule_outside_article_278_is_refused(kind, item):
    with pytest.raises(ValueError):
        VoteRule(kind=kind, item=item)


def test_a_rule_takes_the_kind_as_text_or_enum():
    assert VoteRule("owners_joint", 4) == VoteRule(VoteKind.OWNERS_JOINT, 4)
    assert VoteRule("owners_joint", 4).kind is VoteKind.OWNERS_JOINT
    assert VoteRule("consultation").kind is VoteKind.CONSULTATION


def test_a_negative_area_is_refused():
    with pytest.raises(ValueError):
        EligibleHousehold(household_id=1, owner_key="u1", area_centi_m2=-1)


def test_a_household_listed_twice_is_refused():
    with pytest.raises(ValueError):
        count_votes([*roll(100), *roll(200)], [])


# ---- explain(): the lines of the result page ----------------------------------------------------------------


def test_explain_shows_each_share_against_its_requirement():
    counts = VoteCounts(
        eligible_households=60,
        total_area_centi_m2=800000,
        total_headcount=52,
        participating_households=36,
        participating_area_centi_m2=612050,
        participating_headcount=34,
        option_households={"yes": 22, "no": 14},
        option_area_centi_m2={"yes": 400000, "no": 212050},
        option_headcount={"yes": 20, "no": 14},
    )
    assert explain(judge(joint(4), counts, "yes")) == [
        "参与表决的专有部分面积 6,120.50㎡，占总面积 8,000.00㎡ 的 76.5%，要求不低于三分之二 ✓",
        "参与表决人数 34 人，占业主总人数 52 人的 65.4%，要求不低于三分之二 ✗",
        "同意的面积 4,000.00㎡，占参与表决面积 6,120.50㎡ 的 65.4%，要求超过二分之一 ✓",
        "同意的人数 20 人，占参与表决人数 34 人的 58.8%，要求超过二分之一 ✓",
        "结论：未达到参与表决要求，表决未通过",
    ]


def test_explain_three_quarters_is_met_at_exactly_three_quarters():
    result = tally(joint(7), roll(100, 100, 100, 100), ballots(yes=[1, 2, 3], no=[4]), approve_option="yes")
    assert explain(result) == [
        "参与表决的专有部分面积 4.00㎡，占总面积 4.00㎡ 的 100.0%，要求不低于三分之二 ✓",
        "参与表决人数 4 人，占业主总人数 4 人的 100.0%，要求不低于三分之二 ✓",
        "同意的面积 3.00㎡，占参与表决面积 4.00㎡ 的 75.0%，要求不低于四分之三 ✓",
        "同意的人数 3 人，占参与表决人数 4 人的 75.0%，要求不低于四分之三 ✓",
        "结论：表决通过",
    ]


def test_explain_a_consultation_names_the_candidate():
    result = tally(CONSULTATION, roll(*(100,) * 8), ballots(c1=[1, 2, 3], c2=[4], abstain=[5]), "c1")
    assert explain(result, option_label="张三") == [
        "参与表决 5 户，占可参与表决 8 户的 62.5%，要求至少一户参与 ✓",
        "选择「张三」 3 户，占参与表决 5 户的 60.0%，要求超过二分之一 ✓",
        "结论：表决通过",
    ]
    assert explain(result)[1].startswith("选择「c1」 3 户")


def test_explain_never_ticks_an_abstention():
    result = tally(CONSULTATION, roll(100, 100, 100, 100), ballots(abstain=[1, 2, 3], yes=[4]), ABSTAIN)
    assert explain(result)[1:] == [
        "弃权 3 户，占参与表决 4 户的 75.0%，要求超过二分之一 ✗",
        "结论：未达到通过比例要求，表决未通过",
    ]


def test_explain_with_nobody_voting_shows_no_percentage_of_nothing():
    assert explain(tally(joint(), roll(100, 100), [], "yes"))[2:] == [
        "同意的面积 0.00㎡，占参与表决面积 0.00㎡ 的 —，要求超过二分之一 ✗",
        "同意的人数 0 人，占参与表决人数 0 人的 —，要求超过二分之一 ✗",
        "结论：未达到参与表决要求，表决未通过",
    ]


@pytest.mark.parametrize(
    ("part", "whole", "shown"),
    [(2, 3, "66.7%"), (1, 3, "33.3%"), (1, 16, "6.3%"), (3, 16, "18.8%"), (0, 5, "0.0%"), (5, 5, "100.0%")],
)
def test_shares_are_shown_to_one_decimal_rounded_half_up(part, whole, shown):
    assert format_share(part, whole) == shown


@pytest.mark.parametrize(
    ("centi_m2", "shown"), [(0, "0.00㎡"), (5, "0.05㎡"), (8523, "85.23㎡"), (123456789, "1,234,567.89㎡")]
)
def test_areas_are_shown_in_m2_with_two_decimals_and_thousands_separators(centi_m2, shown):
    assert format_area(centi_m2) == shown


# ---- properties against a slow reference ---------------------------------------------------------------------

OPTIONS = ("yes", "no", "abstain", "c1")
OWNER_POOL = tuple(f"owner-{number}" for number in range(8))

rules = st.one_of(st.just(CONSULTATION), st.integers(1, 9).map(joint))
# Small areas make exact ratios (the threshold edges) common; 0 is a real area on the roll.
areas = st.one_of(st.integers(0, 3), st.integers(0, 30000))
rosters = st.lists(
    st.tuples(st.integers(1, 50), st.sampled_from(OWNER_POOL), areas),
    max_size=40,
    unique_by=lambda row: row[0],
)


def reference(rule: VoteRule, households: list[tuple[int, str, int]], votes: list[tuple[int, str]]) -> dict:
    """Every figure and decision, by plain loops and Fraction comparisons straight from Art. 278."""
    on_roll = [household_id for household_id, _, _ in households]
    final = {}
    for household_id, option in votes:
        if household_id in on_roll:
            final[household_id] = option

    owners, total_area = [], 0
    voters, area = [], 0
    by_option = {}
    for household_id, owner, household_area in households:
        total_area += household_area
        if owner not in owners:
            owners.append(owner)
        if household_id not in final:
            continue
        area += household_area
        if owner not in voters:
            voters.append(owner)
        chosen = by_option.setdefault(final[household_id], {"households": 0, "area": 0, "owners": []})
        chosen["households"] += 1
        chosen["area"] += household_area
        if owner not in chosen["owners"]:
            chosen["owners"].append(owner)

    if rule.kind == "consultation":
        met = len(final) > 0
    else:
        met = (
            total_area > 0
            and len(owners) > 0
            and Fraction(area, total_area) >= Fraction(2, 3)
            and Fraction(len(voters), len(owners)) >= Fraction(2, 3)
        )

    def approves(option: str) -> bool:
        if option == "abstain" or not met:
            return False
        chosen = by_option.get(option, {"households": 0, "area": 0, "owners": []})
        if rule.kind == "consultation":
            return Fraction(chosen["households"], len(final)) > Fraction(1, 2)
        area_share = Fraction(chosen["area"], area)
        owner_share = Fraction(len(chosen["owners"]), len(voters))
        if rule.item in (6, 7, 8):
            return area_share >= Fraction(3, 4) and owner_share >= Fraction(3, 4)
        return area_share > Fraction(1, 2) and owner_share > Fraction(1, 2)

    return {
        "eligible_households": len(households),
        "total_area_centi_m2": total_area,
        "total_headcount": len(owners),
        "participating_households": len(final),
        "participating_area_centi_m2": area,
        "participating_headcount": len(voters),
        "option_households": {option: chosen["households"] for option, chosen in by_option.items()},
        "option_area_centi_m2": {option: chosen["area"] for option, chosen in by_option.items()},
        "option_headcount": {option: len(chosen["owners"]) for option, chosen in by_option.items()},
        "participation_met": met,
        "approves": {option: approves(option) for option in (*OPTIONS, "unknown")},
    }


@st.composite
def ballot_boxes(draw, at_most_once: bool = False):
    """A roll and votes cast on it. Turnout and a favourite option are drawn first so that participation and
    approval land on both sides of their thresholds; strays and changed votes are mixed in unless
    `at_most_once`."""
    households = draw(rosters)
    favourite = draw(st.sampled_from(("yes", "no", "c1")))
    options = st.sampled_from((favourite,) * 8 + OPTIONS)
    stays_home = draw(st.integers(0, 4))  # how many households in five do not vote
    votes = [
        (household_id, draw(options))
        for household_id, _, _ in households
        if draw(st.integers(0, 4)) >= stays_home
    ]
    if not at_most_once:
        on_roll = [household_id for household_id, _, _ in households]
        household_ids = st.sampled_from(on_roll) | st.integers(0, 60) if on_roll else st.integers(0, 60)
        votes += draw(st.lists(st.tuples(household_ids, options), max_size=15))
    return households, draw(st.permutations(votes))


def build(households, votes):
    return (
        [EligibleHousehold(household_id, owner, area) for household_id, owner, area in households],
        [CastVote(household_id, option) for household_id, option in votes],
    )


@settings(max_examples=300, deadline=None)
@given(rules, ballot_boxes(), st.sampled_from(OPTIONS))
def test_tally_agrees_with_the_slow_reference(rule, box, approve_option):
    expected = reference(rule, *box)
    result = tally(rule, *build(*box), approve_option=approve_option)
    for figure in (
        "eligible_households",
        "total_area_centi_m2",
        "total_headcount",
        "participating_households",
        "participating_area_centi_m2",
        "participating_headcount",
        "option_households",
        "option_area_centi_m2",
        "option_headcount",
    ):
        assert getattr(result, figure) == expected[figure], figure
    assert result.participation_met is expected["participation_met"]
    assert result.passed is expected["approves"][approve_option]
    assert {option: result.approves(option) for option in (*OPTIONS, "unknown")} == expected["approves"]
    if result.passed:
        assert result.reason == PASSED
    else:
        assert result.reason == (APPROVAL_FAILED if expected["participation_met"] else PARTICIPATION_FAILED)


@settings(max_examples=200, deadline=None)
@given(rules, ballot_boxes(), st.sampled_from(OPTIONS), st.data())
def test_the_order_of_the_roll_never_matters(rule, box, approve_option, data):
    households, votes = build(*box)
    shuffled = data.draw(st.permutations(households))
    assert tally(rule, shuffled, votes, approve_option) == tally(rule, households, votes, approve_option)


@settings(max_examples=200, deadline=None)
@given(rules, ballot_boxes(at_most_once=True), st.sampled_from(OPTIONS), st.data())
def test_the_order_of_single_votes_never_matters(rule, box, approve_option, data):
    households, votes = build(*box)
    shuffled = data.draw(st.permutations(votes))
    assert tally(rule, households, shuffled, approve_option) == tally(rule, households, votes, approve_option)


def _judged(rule: VoteRule) -> TallyResult:
    counts = VoteCounts(
        eligible_households=3, total_area_centi_m2=30000, total_headcount=3, participating_households=3,
        participating_area_centi_m2=30000, participating_headcount=3,
        option_households={"yes": 2}, option_area_centi_m2={"yes": 20000}, option_headcount={"yes": 2},
    )
    return judge(rule, counts, "yes")


def test_the_rule_in_words_names_the_item_and_its_shares():
    lines = rule_in_words(_judged(VoteRule(VoteKind.OWNERS_JOINT, 6)), motion=True)
    assert "第（6）项" in lines[0] and "同意的业主须占参与表决专有部分面积四分之三以上" in lines[2]
    candidates = rule_in_words(_judged(VoteRule(VoteKind.OWNERS_JOINT, 3)), motion=False)
    assert "选择某一候选项的业主须占参与表决专有部分面积过半数" in candidates[2]
    assert rule_in_words(_judged(VoteRule(VoteKind.CONSULTATION)), motion=True)[0].startswith("一般协商事项")
