"""What each role may do (DESIGN §1), action by action, written out as a table independent of the code's."""

from __future__ import annotations

import itertools

import pytest

from backend.domain.compounds import PartyOrgForm
from backend.domain.roles import Action, Role, allows, has_party_organisation

ALL = set(Role)
# DESIGN §1: committee, party secretary, staff and managers run the compound; officials oversee it; admins run
# the platform. Residents, owners, evaluators and QR visitors see the compound but not its household list.
RUNS_COMPOUND = {Role.COMMITTEE, Role.PARTY_SECRETARY, Role.STAFF, Role.MANAGER, Role.OFFICIAL, Role.ADMIN}
SELF_GOVERNANCE = {Role.COMMITTEE, Role.PARTY_SECRETARY, Role.ADMIN}
EXPECTED: dict[Action, set[Role]] = {
    Action.VIEW_COMPOUND: ALL,
    Action.LIST_BUILDINGS: ALL,
    Action.LIST_HOUSEHOLDS: RUNS_COMPOUND,
    # Anyone who reached the compound (member or QR visitor) may ask to be bound to a household.
    Action.REQUEST_BINDING: ALL,
    # The foundation issue: committee, party secretary or staff verify households (not managers or officials).
    Action.REVIEW_BINDINGS: {Role.COMMITTEE, Role.PARTY_SECRETARY, Role.STAFF, Role.ADMIN},
    Action.PRINT_QR: RUNS_COMPOUND,
    # The ledger (台账) is the officials' record.
    Action.IMPORT_LEDGER: {Role.OFFICIAL, Role.ADMIN},
    # Deactivating accounts and removing roles is the platform admin's alone.
    Action.MANAGE_ACCOUNTS: {Role.ADMIN},
    # Whether it is a problem compound and its open problems: for those who run or oversee it.
    Action.VIEW_ASSESSMENT: RUNS_COMPOUND,
    # Work orders (报事报修) are raised by the people of a verified household.
    Action.SUBMIT_WORK_ORDER: {Role.RESIDENT, Role.OWNER},
    Action.VIEW_WORK_ORDERS: RUNS_COMPOUND,
    # Staff take and close orders; the property manager assigns them (DESIGN §1).
    Action.HANDLE_WORK_ORDERS: {Role.STAFF, Role.MANAGER, Role.ADMIN},
    Action.ASSIGN_WORK_ORDERS: {Role.MANAGER, Role.ADMIN},
    # The compound's figures are public to everyone who reached it, QR visitors included.
    Action.VIEW_WORK_ORDER_STATS: ALL,
    Action.CONFIGURE_WORK_ORDERS: {Role.MANAGER, Role.COMMITTEE, Role.PARTY_SECRETARY, Role.ADMIN},
    Action.REPLY_TO_RATINGS: {Role.MANAGER, Role.ADMIN},
    # Issue 15's call buttons: the company's manager keeps the 物业服务电话, the committee its own contact.
    Action.SET_SERVICE_PHONE: {Role.MANAGER, Role.ADMIN},
    Action.SET_COMMITTEE_PHONE: {Role.COMMITTEE, Role.ADMIN},
    # Deliberation (五步议事法) is read by everyone who reached the compound, QR visitors included.
    Action.VIEW_TOPICS: ALL,
    # Verified households' people propose and co-sign (DESIGN §1: owners; the issue: "owner or resident").
    Action.PROPOSE_TOPIC: {Role.RESIDENT, Role.OWNER},
    # DESIGN §1: committee and party secretary run deliberation rounds and raise topics directly.
    Action.RAISE_TOPIC: SELF_GOVERNANCE,
    # DESIGN §1: the party secretary 确定议题 (and the committee where there is no party organisation, below).
    Action.REVIEW_TOPICS: {Role.PARTY_SECRETARY, Role.ADMIN},
    # Every party at the table may speak, but not an anonymous QR visitor or an outside evaluator.
    Action.COMMENT_ON_TOPICS: ALL - {Role.VISITOR, Role.EVALUATOR},
    Action.RUN_CONSULTATIONS: SELF_GOVERNANCE,
    # Owners vote; residents only in consultations their compound opens to them (the service decides per topic).
    Action.VOTE: {Role.RESIDENT, Role.OWNER},
    # The issue: "owners can file an objection".
    Action.FILE_OBJECTION: {Role.OWNER},
    # The responsible party reports: the committee, or the property company carrying the decision out.
    Action.REPORT_PROGRESS: SELF_GOVERNANCE | {Role.MANAGER, Role.STAFF},
    Action.RATE_IMPLEMENTATION: {Role.RESIDENT, Role.OWNER},
    Action.CONFIGURE_CONSULTATIONS: SELF_GOVERNANCE,
    Action.VIEW_MEETINGS: ALL,
    # A community official calls the 协调会 of a dispute; the committee and party secretary call the others.
    Action.CONVENE_MEETINGS: SELF_GOVERNANCE | {Role.OFFICIAL},
    # Issue 14: an official (district or street, over an area) or the committee of its own compound starts a
    # satisfaction survey; never the company it evaluates.
    Action.RUN_SURVEYS: SELF_GOVERNANCE | {Role.OFFICIAL},
    Action.VIEW_FEE_SCHEDULES: ALL,
    Action.MANAGE_FEE_SCHEDULES: SELF_GOVERNANCE | {Role.OFFICIAL},
    Action.PAY_FEES: {Role.RESIDENT, Role.OWNER},
    Action.VIEW_BILLS: RUNS_COMPOUND,
    Action.RECORD_PAYMENTS: {Role.STAFF, Role.MANAGER, Role.ADMIN},
    # The company that collects the money never waives, adjusts or refunds it.
    Action.ADJUST_BILLS: SELF_GOVERNANCE | {Role.OFFICIAL},
    Action.MANAGE_SUBSIDIES: {Role.OFFICIAL, Role.ADMIN},
    Action.VIEW_SETTLEMENT: {Role.OFFICIAL, Role.ADMIN},
    Action.RATE_COMPANIES: {Role.OFFICIAL, Role.ADMIN},
    Action.VIEW_DASHBOARD: {Role.OFFICIAL, Role.ADMIN},
    # Issue 15: the committee, party secretary and property manager post the compound's notices, officials (社区
    # and above) theirs; staff and residents read them.
    Action.POST_ANNOUNCEMENTS: SELF_GOVERNANCE | {Role.MANAGER, Role.OFFICIAL},
    Action.OPEN_DISPUTES: {Role.OFFICIAL, Role.ADMIN},
    Action.VIEW_DISPUTES: {Role.OFFICIAL, Role.ADMIN},
    # Issue 16: problem compounds and their thresholds are the officials' (the district and up set thresholds).
    Action.VIEW_FLAGS: {Role.OFFICIAL, Role.ADMIN},
    Action.SET_FLAG_THRESHOLDS: {Role.OFFICIAL, Role.ADMIN},
    # Issue 16: officials inspect (a street or above, the service checks) and keep the checklist; the parties that
    # answer (company, committee) and the officials follow the rectification items; residents do not.
    Action.INSPECT_COMPOUNDS: {Role.OFFICIAL, Role.ADMIN},
    Action.VIEW_RECTIFICATIONS: SELF_GOVERNANCE | {Role.STAFF, Role.MANAGER, Role.OFFICIAL},
    # The ledger export carries owners' names: the officials' record, audited.
    Action.EXPORT_LEDGER: {Role.OFFICIAL, Role.ADMIN},
    # Party organisation and self-governance: the compound's desk reads, officials keep it.
    Action.VIEW_GOVERNANCE: SELF_GOVERNANCE | {Role.OFFICIAL},
    Action.MANAGE_GOVERNANCE: {Role.OFFICIAL, Role.ADMIN},
    # 第一书记 are sent from above (the service asks for a district or city official).
    Action.ASSIGN_FIRST_SECRETARY: {Role.OFFICIAL, Role.ADMIN},
    # An area's coverage figures and first secretaries' logs: the officials' oversight.
    Action.VIEW_COVERAGE: {Role.OFFICIAL, Role.ADMIN},
    # Issue 16: the periodic reports are the officials' (of the area and above).
    Action.VIEW_REPORTS: {Role.OFFICIAL, Role.ADMIN},
    # Issue 19: activities are read by everyone who reached the compound; its people sign up (not a QR visitor or
    # an outside evaluator); the party secretary, the committee and the community organise them.
    Action.VIEW_ACTIVITIES: ALL,
    Action.JOIN_ACTIVITIES: ALL - {Role.VISITOR, Role.EVALUATOR},
    Action.ORGANISE_ACTIVITIES: SELF_GOVERNANCE | {Role.OFFICIAL},
}
# Issue 19: renovation projects are public to the compound; the officials over it and its self-governance set them
# up; a household rates (the responsible party's progress is checked by the service, not by role).
EXPECTED |= {
    Action.VIEW_RENOVATION: ALL,
    Action.MANAGE_RENOVATION: SELF_GOVERNANCE | {Role.OFFICIAL},
    Action.RATE_RENOVATION: {Role.RESIDENT, Role.OWNER},
    # Issue 19: the company's contract is read by the compound's people and those who run or oversee it; the
    # committee keeps it; the company's manager signs its handover inspections.
    Action.VIEW_CONTRACTS: {Role.RESIDENT, Role.OWNER, Role.COMMITTEE, Role.PARTY_SECRETARY, Role.STAFF, Role.MANAGER,
                            Role.OFFICIAL, Role.ADMIN},
    Action.MANAGE_CONTRACTS: SELF_GOVERNANCE,
    Action.SIGN_HANDOVER_FOR_COMPANY: {Role.MANAGER},
    # Issue 19: the community's officials and the party secretary keep the 治理骨干 roster; residents volunteer.
    Action.KEEP_BACKBONES: {Role.PARTY_SECRETARY, Role.OFFICIAL, Role.ADMIN},
    Action.VOLUNTEER_AS_BACKBONE: {Role.RESIDENT, Role.OWNER},
    # Issue 19: environment campaigns are run by officials; their ranks are read by everyone of the compound.
    Action.RUN_CAMPAIGNS: {Role.OFFICIAL, Role.ADMIN},
    Action.VIEW_CAMPAIGNS: ALL,
}


# In a compound without a party organisation the committee stands in for it.
WITHOUT_PARTY_ORGANISATION = {Action.REVIEW_TOPICS: {Role.COMMITTEE}}


def expected(action: Action, party_organisation: bool) -> set[Role]:
    return EXPECTED[action] | (set() if party_organisation else WITHOUT_PARTY_ORGANISATION.get(action, set()))


@pytest.mark.parametrize(("action", "role", "party_organisation"),
                         list(itertools.product(Action, Role, (True, False))))
def test_role_allows_action_as_designed(action, role, party_organisation):
    allowed = allows(frozenset({role}), action, party_organisation=party_organisation)
    assert allowed is (role in expected(action, party_organisation))


@pytest.mark.parametrize("action", list(Action))
def test_no_role_allows_nothing(action):
    assert allows(frozenset(), action, party_organisation=False) is False


@pytest.mark.parametrize("action", list(Action))
def test_several_roles_allow_what_any_of_them_allows(action):
    for first, second in itertools.combinations(Role, 2):
        for party_organisation in (True, False):
            wanted = expected(action, party_organisation)
            assert allows({first, second}, action, party_organisation=party_organisation) is (
                first in wanted or second in wanted
            )


def test_who_reviews_topics_is_never_answered_without_the_compounds_party_organisation():
    with pytest.raises(ValueError, match="party organisation"):
        allows({Role.COMMITTEE}, Action.REVIEW_TOPICS)
    assert allows({Role.COMMITTEE}, Action.RUN_CONSULTATIONS) is True


@pytest.mark.parametrize("form", list(PartyOrgForm))
def test_every_form_but_none_is_a_party_organisation(form):
    assert has_party_organisation(form) is (form is not PartyOrgForm.NONE)
