"""Party organisation and self-governance per compound (measures 1 and 3): labels, what a change is, coverage
arithmetic, term-end reminder days, and who may send a first secretary (第一书记)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date

from backend.domain.compounds import AreaLevel, GovernanceBody, PartyOrgForm

PARTY_ORG_FORM_LABELS = {
    PartyOrgForm.SINGLE: "单建",
    PartyOrgForm.JOINT: "联建",
    PartyOrgForm.GRID: "网格覆盖",
    PartyOrgForm.NONE: "无",
}
GOVERNANCE_BODY_LABELS = {
    GovernanceBody.OWNERS_COMMITTEE: "业主大会+业委会",
    GovernanceBody.PROPERTY_COMMITTEE: "物管委",
    GovernanceBody.SELF_COMMITTEE: "自管委",
    GovernanceBody.NONE: "无",
}
FIELD_LABELS = {
    "party_org_form": "党组织形式",
    "party_secretary_name": "党组织书记",
    "party_members": "党员人数",
    "body": "自治组织",
    "body_formed_on": "成立日期",
    "body_term_ends_on": "任期届满",
    "body_members": "自治组织成员数",
}
MAX_MEMBERS = 100_000
# Days before the body's term ends that its people and the community are reminded, latest step first.
TERM_END_REMINDER_DAYS = (30, 90)
# Only these levels send first secretaries (measure 1: 县区 sends them to troubled compounds).
FIRST_SECRETARY_LEVELS = frozenset({AreaLevel.CITY, AreaLevel.DISTRICT})
MAX_LOG_CHARS = 2000
MAX_GOALS_CHARS = 1000


@dataclass(frozen=True)
class GovernanceState:
    """What a compound has now: its party organisation and its self-governance body."""

    party_org_form: PartyOrgForm = PartyOrgForm.NONE
    party_secretary_name: str = ""
    party_members: int = 0
    body: GovernanceBody = GovernanceBody.NONE
    body_formed_on: date | None = None
    body_term_ends_on: date | None = None
    body_members: int = 0

    def as_dict(self) -> dict:
        return asdict(self)

    def replaced(self, changes: Mapping) -> GovernanceState:
        known = {f.name for f in fields(self)}
        return GovernanceState(**(self.as_dict() | {k: v for k, v in changes.items() if k in known}))


STATE_FIELDS = tuple(f.name for f in fields(GovernanceState))


def normalized(state: GovernanceState) -> GovernanceState:
    """Without a party organisation there is no secretary and no members; without a body, no dates and no members:
    a form set back to 无 clears what belonged to the old one instead of leaving stale details behind."""
    changes: dict = {}
    if state.party_org_form is PartyOrgForm.NONE:
        changes |= {"party_secretary_name": "", "party_members": 0}
    if state.body is GovernanceBody.NONE:
        changes |= {"body_formed_on": None, "body_term_ends_on": None, "body_members": 0}
    return state.replaced(changes)


def problems(state: GovernanceState) -> dict[str, str]:
    """Field → message for a state that cannot be true; empty when it can."""
    errors: dict[str, str] = {}
    if not 0 <= state.party_members <= MAX_MEMBERS:
        errors["party_members"] = "党员人数不正确"
    if not 0 <= state.body_members <= MAX_MEMBERS:
        errors["body_members"] = "成员人数不正确"
    if state.body_formed_on and state.body_term_ends_on and state.body_term_ends_on <= state.body_formed_on:
        errors["body_term_ends_on"] = "任期届满日期应晚于成立日期"
    return errors


def changed_fields(before: GovernanceState, after: GovernanceState) -> list[str]:
    return [name for name in STATE_FIELDS if getattr(before, name) != getattr(after, name)]


def basis_points(part: int, whole: int) -> int:
    """part / whole in 0.01 %, rounded half-up with integers; 0 of nothing is 0."""
    if whole <= 0:
        return 0
    return (part * 20_000 + whole) // (2 * whole)


@dataclass(frozen=True)
class CoverageLine:
    value: str
    label: str
    count: int
    basis_points: int


@dataclass(frozen=True)
class Coverage:
    compounds: int
    party_forms: list[CoverageLine]
    bodies: list[CoverageLine]
    # Compounds with any party organisation, and with any self-governance body: the headline "全覆盖" figures.
    with_party_org: CoverageLine
    with_body: CoverageLine


def coverage(counts: Iterable[tuple[PartyOrgForm, GovernanceBody, int]]) -> Coverage:
    """Coverage of an area from (party form, body, compounds) groups: every form and body listed, zeros too."""
    by_form = dict.fromkeys(PartyOrgForm, 0)
    by_body = dict.fromkeys(GovernanceBody, 0)
    for form, body, count in counts:
        by_form[PartyOrgForm(form)] += count
        by_body[GovernanceBody(body)] += count
    total = sum(by_form.values())
    with_party = total - by_form[PartyOrgForm.NONE]
    with_body = total - by_body[GovernanceBody.NONE]
    return Coverage(
        compounds=total,
        party_forms=[CoverageLine(f.value, PARTY_ORG_FORM_LABELS[f], n, basis_points(n, total))
                     for f, n in by_form.items()],
        bodies=[CoverageLine(b.value, GOVERNANCE_BODY_LABELS[b], n, basis_points(n, total)) for b, n in by_body.items()],
        with_party_org=CoverageLine("party_org", "有党组织", with_party, basis_points(with_party, total)),
        with_body=CoverageLine("body", "有自治组织", with_body, basis_points(with_body, total)),
    )


def term_end_reminder_step(today: date, term_ends_on: date | None) -> int | None:
    """Which reminder is due today (Beijing dates): 90 from 90 days before the term ends, 30 from 30 days before,
    until the day itself; None outside. A day the job missed is caught up the next day, and the caller's dedupe
    key sends each step once."""
    if term_ends_on is None:
        return None
    days_left = (term_ends_on - today).days
    if days_left < 0:
        return None
    for step in TERM_END_REMINDER_DAYS:
        if days_left <= step:
            return step
    return None


def may_assign_first_secretary(levels: Iterable[AreaLevel], admin: bool) -> bool:
    """A district (or city) official over the compound, or an admin."""
    return admin or any(level in FIRST_SECRETARY_LEVELS for level in levels)


def month_start(day: date) -> date:
    return day.replace(day=1)


def log_editable(log_month: date, today: date) -> bool:
    """A month's log is written and corrected within that month (Beijing), then it stands."""
    return month_start(log_month) == month_start(today)
