"""An open ballot for vote tests: a compound of three households, a verified owner of the first, a committee
member, and a consultation topic whose ballot is open (同意 / 不同意 / 弃权)."""
from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

import pytest
from sqlalchemy import select

from backend.domain.consultations import Schedule
from backend.domain.roles import Role
from backend.domain.voting import VoteKind, VoteRule
from backend.extensions import db
from backend.models import Compound, Household, User
from backend.policy import roles_in_compound
from backend.services import consultations as service
from backend.services.consultations import Acceptance, OptionDraft
from backend.services.queueing import push_committed_jobs
from backend.shared.clock import utcnow

MOTION = (OptionDraft("同意", is_approval=True), OptionDraft("不同意"), OptionDraft("弃权", is_abstain=True))


class Ballot(NamedTuple):
    compound: Compound
    topic_id: int
    options: dict[str, int]  # label → option id
    owner: User  # of homes[0]
    homes: list[Household]
    committee: User


def open_ballot(compound: Compound, committee: User) -> tuple[int, dict[str, int]]:
    """A topic of the compound raised, accepted and its ballot opened by the committee: its id and options."""
    desk = service.participant(committee.id, compound.id, roles_in_compound(committee.id, compound.id))
    topic = service.raise_topic(compound.id, desk, "更换单元门禁", "门禁坏了三个月")
    service.accept_topic(topic.id, desk, Acceptance(
        rule=VoteRule(VoteKind.CONSULTATION), schedule=Schedule(utcnow() + timedelta(days=3), 72, 7)))
    options = {option.label: option.id for option in service.set_options(topic.id, desk, MOTION)}
    service.open_ballot(topic.id, committee.id)
    push_committed_jobs()
    return topic.id, options


def make_ballot(make_compound, make_user) -> Ballot:
    compound = make_compound(buildings=1, households_per_building=3)
    homes = list(db.session.scalars(
        select(Household).where(Household.compound_id == compound.id).order_by(Household.id)))
    owner = make_user(Role.OWNER, compound, household=homes[0])
    committee = make_user(Role.COMMITTEE, compound)
    topic_id, options = open_ballot(compound, committee)
    return Ballot(compound, topic_id, options, owner, homes, committee)


@pytest.fixture
def ballot(make_compound, make_user) -> Ballot:
    return make_ballot(make_compound, make_user)
