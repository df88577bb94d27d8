"""Service evaluation (服务评价, measure 8): satisfaction figures, composite scores and stars (评星定级).

Exact integer arithmetic throughout: rates in basis points, scores in centi-points (0–10000 is 0–100 points),
every division rounded half-up once, at the end.
"""
from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# An answer: 5 很满意, 4 满意, 3 一般, 2 不满意, 1 很不满意, 0 不了解 (not a valid answer).
ANSWER_LABELS = {5: "很满意", 4: "满意", 3: "一般", 2: "不满意", 1: "很不满意", 0: "不了解"}
# Points of a valid answer, 0–100.
ANSWER_POINTS = {5: 100, 4: 75, 3: 50, 2: 25, 1: 0}

# The city's default questionnaire: six dimensions, then one optional comment.
DEFAULT_DIMENSIONS = ("服务接待", "保洁", "绿化", "秩序维护与消防", "设施设备与维修", "综合评价")

# Sample rule: a compound needs this share of its households, and at least this many, to count.
DEFAULT_MIN_RESPONSE_BP = 3000
DEFAULT_MIN_HOUSEHOLDS = 10
MAX_CUTOFFS = 5


class QuestionKind(enum.StrEnum):
    DIMENSION = "dimension"
    CHOICE = "choice"
    TEXT = "text"


class StarMethod(enum.StrEnum):
    BANDS = "bands"
    RANK = "rank"


class CreditKind(enum.StrEnum):
    GOOD = "good"
    BAD = "bad"
    # Either one in a period means no star, whatever the score.
    MAJOR_ACCIDENT = "major_accident"
    BLACKLIST = "blacklist"


class RoundStatus(enum.StrEnum):
    COMPUTED = "computed"
    REVIEWED = "reviewed"  # 初审 by the street
    CONFIRMED = "confirmed"  # 复核 by the district
    PUBLICITY = "publicity"  # 公示
    PUBLISHED = "published"  # 授牌


class PeriodKind(enum.StrEnum):
    QUARTER = "quarter"
    YEAR = "year"


def divide_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-up, for numerator ≥ 0 and denominator > 0."""
    return (2 * numerator + denominator) // (2 * denominator)


def _check_answer(answer: object) -> int:
    # bool is an int subclass: True would silently count as 1 (很不满意).
    if type(answer) is not int or not 0 <= answer <= 5:
        raise ValueError(f"an answer is an int 0–5, not {answer!r}")
    return answer


@dataclass(frozen=True)
class SatisfactionFigures:
    valid: int
    satisfied: int
    rate_bp: int
    score_centi: int


def figures_from_counts(counts: Mapping[int, int]) -> SatisfactionFigures:
    """The figures of answers given as counts per answer value (what a SQL GROUP BY returns)."""
    for value, count in counts.items():
        _check_answer(value)
        if type(count) is not int or count < 0:
            raise ValueError(f"a count is a non-negative int, not {count!r}")
    valid = sum(counts.get(value, 0) for value in ANSWER_POINTS)
    satisfied = counts.get(5, 0) + counts.get(4, 0)
    if valid == 0:
        return SatisfactionFigures(valid=0, satisfied=0, rate_bp=0, score_centi=0)
    points = sum(ANSWER_POINTS[value] * counts.get(value, 0) for value in ANSWER_POINTS)
    return SatisfactionFigures(
        valid=valid,
        satisfied=satisfied,
        rate_bp=divide_half_up(satisfied * 10000, valid),
        score_centi=divide_half_up(points * 100, valid),
    )


def satisfaction_figures(answers: Sequence[int]) -> SatisfactionFigures:
    """满意率 = (很满意 + 满意) / valid answers; score = mean points; 不了解 is not valid."""
    counts: dict[int, int] = {}
    for answer in answers:
        value = _check_answer(answer)
        counts[value] = counts.get(value, 0) + 1
    return figures_from_counts(counts)


def sample_sufficient(answered: int, households: int, min_response_bp: int, min_households: int) -> bool:
    """Enough households answered: at least min_response_bp of them (exact, no rounding) and at least
    min_households. A compound with fewer households than the minimum can never be rated."""
    return answered >= min_households and answered * 10000 >= households * min_response_bp


def response_rate_bp(answered: int, households: int) -> int:
    return divide_half_up(answered * 10000, households) if households else 0


def stars_by_score(score: int, bands: Sequence[tuple[int, int]], min_stars: int = 0) -> int:
    """Absolute bands: the stars of the band with the highest minimum ≤ score; 0 when none applies."""
    applicable = [(minimum, stars) for minimum, stars in bands if minimum <= score]
    if not applicable:
        return 0
    stars = max(applicable)[1]
    return 0 if stars < min_stars else stars


def stars_by_rank(scores: Mapping[int, int], cutoffs_bp: Sequence[int], min_stars: int = 0) -> dict[int, int]:
    """Rank cut-offs: rank 1 + the number strictly higher (ties share the better rank); the first cut-off
    (a share of n in basis points, rounded up) gives ★5, the next ★4, and so on; the rest get none."""
    if len(cutoffs_bp) > MAX_CUTOFFS:
        raise ValueError(f"at most {MAX_CUTOFFS} cut-offs")
    limits = [-(-len(scores) * cutoff // 10000) for cutoff in cutoffs_bp]
    result: dict[int, int] = {}
    for company_id, rank in ranks(scores).items():
        stars = next((5 - index for index, limit in enumerate(limits) if rank <= limit), 0)
        result[company_id] = 0 if stars < min_stars else stars
    return result


def ranks(scores: Mapping[int, int]) -> dict[int, int]:
    """Competition ranks (1, 1, 3): 1 + the number of strictly higher scores."""
    ordered = sorted(scores.values(), reverse=True)
    rank_of_score: dict[int, int] = {}
    for position, score in enumerate(ordered, start=1):
        rank_of_score.setdefault(score, position)
    return {key: rank_of_score[score] for key, score in scores.items()}


@dataclass(frozen=True)
class Weights:
    """Per-city weights of the composite score, in percent (they add up to 100)."""

    survey: int
    service: int
    inspection: int


def composite_score(
    weights: Weights, survey: int | None, service: int | None, inspection: int | None, credit: int
) -> int:
    """The weighted mean of the parts a company has (centi-points; a missing part's weight is shared by the
    others, so a company never inspected is not scored as if it had 0), plus credit (centi-points, signed),
    kept within 0–10000."""
    parts = [(weights.survey, survey), (weights.service, service), (weights.inspection, inspection)]
    present = [(weight, score) for weight, score in parts if score is not None and weight > 0]
    total_weight = sum(weight for weight, _ in present)
    base = divide_half_up(sum(weight * score for weight, score in present), total_weight) if total_weight else 0
    return max(0, min(10000, base + credit))


def inspection_score(points: int, max_points: int) -> int | None:
    """An inspection checklist's score (centi-points): points earned over points possible."""
    return divide_half_up(points * 10000, max_points) if max_points > 0 else None


def service_score(closed: int, closed_within_sla: int, orders: int, confirmed: int, rating_count: int,
                  rating_sum: int) -> int | None:
    """The work-order service score (centi-points) from a period's snapshots: the mean of the share closed
    within SLA, the share of closed orders confirmed 已解决 and the average stars (1★ = 0, 5★ = 100). None when
    the company had no orders."""
    if orders == 0:
        return None
    shares = []
    if closed:
        shares.append((closed_within_sla * 10000, closed))
        shares.append((confirmed * 10000, closed))
    if rating_count:
        shares.append(((rating_sum - rating_count) * 2500, rating_count))
    if not shares:
        return 0
    # Mean of fractions a_i/b_i, exactly: Σ a_i·Π_{j≠i} b_j / (k·Π b_j).
    denominator = 1
    for _, b in shares:
        denominator *= b
    numerator = sum(a * (denominator // b) for a, b in shares)
    return divide_half_up(numerator, denominator * len(shares))
