"""Service evaluation (服务评价, measure 8): satisfaction figures, composite scores and stars (评星定级).

Exact integer arithmetic throughout: rates in basis points, scores in centi-points (0–10000 is 0–100 points),
every division rounded half-up once, at the end.
"""
from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

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


# ---- rating method, rounds and the public label ----------------------------------------------------------------

# The default on-site checklist (现场检查): editable per inspection.
DEFAULT_CHECKLIST = (("服务接待", 10), ("保洁", 10), ("绿化", 10), ("秩序维护", 10), ("消防安全", 10), ("设施设备", 10))
DEFAULT_PUBLICITY_DAYS = 7
STATUS_LABELS = {
    RoundStatus.COMPUTED: "待初审",
    RoundStatus.REVIEWED: "待复核",
    RoundStatus.CONFIRMED: "已复核",
    RoundStatus.PUBLICITY: "公示中",
    RoundStatus.PUBLISHED: "已授牌",
}
PERIOD_LABELS = {PeriodKind.QUARTER: "季度", PeriodKind.YEAR: "年度"}
CREDIT_LABELS = {
    CreditKind.GOOD: "良好记录",
    CreditKind.BAD: "不良记录",
    CreditKind.MAJOR_ACCIDENT: "重大事故",
    CreditKind.BLACKLIST: "列入黑榜",
}
# Why a company takes no star whatever its score.
NO_STAR_REASONS = {CreditKind.MAJOR_ACCIDENT: "期内发生重大事故", CreditKind.BLACKLIST: "期内列入黑榜"}
NO_DATA_REASON = "期内无评价数据"
# The 红黑榜 export marks this many at each end of the ranking.
HONOUR_ROLL_SIZE = 10


class RoundAction(enum.StrEnum):
    """What a rating round's screens offer; the API names them in `actions`, the pages in `data-action`."""

    REVIEW = "review"  # 初审
    CONFIRM = "confirm"  # 复核, which starts the publicity
    OBJECT = "object"  # 公示异议
    ANSWER = "answer"  # answer an objection
    PUBLISH = "publish"  # 授牌
    EXPORT = "export"  # 红黑榜 .xlsx


@dataclass(frozen=True)
class Standing:
    """Where a person stands towards a round's area: an official of the area itself (`at`), of it or above
    (`above`), of an area under it (`below`, `street_below` for a street), a member of one of its compounds;
    `reviews` for the 初审: an official of a street under the area, or of the area itself when it is a street."""

    at: bool = False
    above: bool = False
    below: bool = False
    street_below: bool = False
    member: bool = False
    reviews: bool = False

    @property
    def official(self) -> bool:
        return self.above or self.below

    @property
    def known(self) -> bool:
        return self.official or self.member

    @property
    def reads_before_publicity(self) -> bool:
        """Who decides a round (the area and above, the streets that review it) reads it, and its 红黑榜, before
        the publicity; the rest of the area only once it is public."""
        return self.above or self.street_below


def round_readable(status: RoundStatus, standing: Standing) -> bool:
    if standing.reads_before_publicity:
        return True
    return standing.known and status in (RoundStatus.PUBLICITY, RoundStatus.PUBLISHED)


def round_actions(
    status: RoundStatus, standing: Standing, *, computed: bool, publicity_over: bool, unanswered: int,
    reviewed_by_me: bool = False,
) -> frozenset[RoundAction]:
    """The steps in order, each by its officials: a street under the area (or the area itself when it is a street)
    reviews once computed, the area or above confirms (publicity starts) — never the person who reviewed — anyone
    of the area objects during publicity, the area or above answers objections and publishes once publicity is over
    and every objection is answered. The 红黑榜 is for those who read the round before its publicity."""
    actions: set[RoundAction] = set()
    if standing.reads_before_publicity:
        actions.add(RoundAction.EXPORT)
    if status is RoundStatus.COMPUTED and computed and standing.reviews:
        actions.add(RoundAction.REVIEW)
    if status is RoundStatus.REVIEWED and standing.above and not reviewed_by_me:
        actions.add(RoundAction.CONFIRM)
    if status is RoundStatus.PUBLICITY:
        if standing.member and not publicity_over:
            actions.add(RoundAction.OBJECT)
        if standing.above and unanswered:
            actions.add(RoundAction.ANSWER)
        if standing.above and publicity_over and not unanswered:
            actions.add(RoundAction.PUBLISH)
    return frozenset(actions)


def period_end(kind: PeriodKind, start: date) -> date:
    """The last day of the quarter or year that begins on `start`; ValueError when `start` begins none."""
    if kind is PeriodKind.YEAR:
        if (start.month, start.day) != (1, 1):
            raise ValueError("年度须从1月1日开始")
        return date(start.year, 12, 31)
    if start.day != 1 or start.month not in (1, 4, 7, 10):
        raise ValueError("季度须从1月、4月、7月或10月的1日开始")
    following = date(start.year + 1, 1, 1) if start.month == 10 else date(start.year, start.month + 3, 1)
    return following - timedelta(days=1)


def period_label(kind: PeriodKind, start: date) -> str:
    if kind is PeriodKind.YEAR:
        return f"{start.year}年度"
    return f"{start.year}年第{(start.month - 1) // 3 + 1}季度"


def method_problems(
    weights: Weights, method: StarMethod, bands: Sequence[tuple[int, int]], cutoffs_bp: Sequence[int]
) -> dict[str, str]:
    """What is wrong with a rating method, by field (empty when it is sound)."""
    problems: dict[str, str] = {}
    if weights.survey + weights.service + weights.inspection != 100:
        problems["survey_weight"] = "三项权重之和须为100"
    if method is StarMethod.BANDS:
        if not bands:
            problems["bands"] = "请填写各星级的最低分"
        elif len({stars for _, stars in bands}) != len(bands) or len({m for m, _ in bands}) != len(bands):
            problems["bands"] = "每个星级、每个最低分只能出现一次"
        elif any(not 0 <= minimum <= 10000 or not 1 <= stars <= 5 for minimum, stars in bands):
            problems["bands"] = "最低分须在0–100分之间，星级须为1–5星"
        elif sorted(bands) != sorted(bands, key=lambda band: band[1]):
            problems["bands"] = "星级越高，最低分须越高"
    else:
        if not 1 <= len(cutoffs_bp) <= MAX_CUTOFFS:
            problems["cutoffs_bp"] = f"请填写1–{MAX_CUTOFFS}个名次比例"
        elif any(not 0 < cutoff <= 10000 for cutoff in cutoffs_bp) or list(cutoffs_bp) != sorted(set(cutoffs_bp)):
            problems["cutoffs_bp"] = "名次比例须在0–100%之间且逐级递增"
    return problems


def red_property(stars: int, has_party_org: bool) -> bool:
    """红色物业: ★5 and a party organisation in the company."""
    return stars == 5 and has_party_org


@dataclass(frozen=True)
class CompanyParts:
    """A company's parts of one period, as the compute gathered them."""

    company_id: int
    survey: int | None
    service: int | None
    inspection: int | None
    credit: int
    barred: CreditKind | None  # a major accident or a 黑榜 listing in the period


@dataclass(frozen=True)
class RatedCompany:
    company_id: int
    composite: int
    rank: int
    stars: int
    no_star_reason: str


def rate_companies(
    parts: Sequence[CompanyParts], weights: Weights, method: StarMethod, bands: Sequence[tuple[int, int]],
    cutoffs_bp: Sequence[int], min_stars: int,
) -> list[RatedCompany]:
    """Composite, competition rank and stars of every company of a round. A company without any part is ranked
    but takes no star (nothing to rate it on). A bar (major accident, 黑榜) takes the star and keeps the score and
    the rank among all. By rank cut-offs, the shares and the places count only the companies with a score and no
    bar: a barred company never takes a star slot from another."""
    composites = {
        part.company_id: composite_score(weights, part.survey, part.service, part.inspection, part.credit)
        for part in parts
    }
    scored = {
        part.company_id: composites[part.company_id]
        for part in parts
        if (part.survey, part.service, part.inspection) != (None, None, None)
    }
    if method is StarMethod.RANK:
        barred = {part.company_id for part in parts if part.barred}
        stars = stars_by_rank({key: score for key, score in scored.items() if key not in barred}, cutoffs_bp,
                              min_stars)
    else:
        stars = {company_id: stars_by_score(score, bands, min_stars) for company_id, score in scored.items()}
    rank_of = ranks(composites)
    rated = []
    for part in parts:
        reason = NO_STAR_REASONS[part.barred] if part.barred else ("" if part.company_id in scored else NO_DATA_REASON)
        rated.append(RatedCompany(
            company_id=part.company_id, composite=composites[part.company_id], rank=rank_of[part.company_id],
            stars=0 if reason else stars[part.company_id], no_star_reason=reason,
        ))
    return rated
