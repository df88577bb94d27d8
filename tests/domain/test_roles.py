"""What each role may do (DESIGN §1), action by action, written out as a table independent of the code's."""

from __future__ import annotations

import itertools

import pytest

from backend.domain.roles import Action, Role, allows

ALL = set(Role)
# DESIGN §1: committee, party secretary, staff and managers run the compound; officials oversee it; admins run
# the platform. Residents, owners, evaluators and QR visitors see the compound but not its household list.
RUNS_COMPOUND = {Role.COMMITTEE, Role.PARTY_SECRETARY, Role.STAFF, Role.MANAGER, Role.OFFICIAL, Role.ADMIN}
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
}


@pytest.mark.parametrize(("action", "role"), list(itertools.product(Action, Role)))
def test_role_allows_action_as_designed(action, role):
    assert allows(frozenset({role}), action) is (role in EXPECTED[action])


@pytest.mark.parametrize("action", list(Action))
def test_no_role_allows_nothing(action):
    assert allows(frozenset(), action) is False


@pytest.mark.parametrize("action", list(Action))
def test_several_roles_allow_what_any_of_them_allows(action):
    for first, second in itertools.combinations(Role, 2):
        expected = first in EXPECTED[action] or second in EXPECTED[action]
        assert allows({first, second}, action) is expected
