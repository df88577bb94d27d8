"""The journal's pure rules: which month is open, where an automatic posting lands, what a manual entry may be,
spending against a request, reversals, the receiving account and the sign of an entry — as tables and as
hypothesis properties."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain import funds as rules
from backend.domain.compounds import ManagementModel
from backend.domain.funds import (
    AccountKind,
    Category,
    Direction,
    EntryOrigin,
    FundRefused,
    SpendingStatus,
    direction_of,
)
from backend.domain.refusals import Kind

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 1))


def test_the_first_open_month_follows_the_last_closed_or_is_the_opening_month():
    assert rules.first_open_month(date(2026, 3, 17), None) == date(2026, 3, 1)
    assert rules.first_open_month(date(2026, 3, 17), date(2026, 11, 1)) == date(2026, 12, 1)
    assert rules.first_open_month(date(2026, 3, 17), date(2026, 12, 1)) == date(2027, 1, 1)


@given(paid_on=days, opened_on=days, closed_months=st.integers(min_value=0, max_value=30))
def test_an_automatic_posting_lands_in_an_open_month_never_before_the_opening(paid_on, opened_on, closed_months):
    first_open = rules.month_of(opened_on)
    for _ in range(closed_months):
        first_open = rules.next_month(first_open)

    landed = rules.auto_post_date(paid_on, opened_on, first_open)

    assert rules.month_of(landed) >= first_open and landed >= opened_on
    if rules.month_of(paid_on) >= first_open and paid_on >= opened_on:
        assert landed == paid_on
    else:
        # Moved forward to the earliest day it may have: the first open month's first day (or the opening day).
        assert landed == max(first_open, opened_on) and landed > paid_on


@given(st.lists(st.tuples(st.integers(1, 10_000), st.sampled_from(list(AccountKind))), min_size=1, max_size=8,
                unique_by=lambda pair: pair[0]))
def test_the_receiving_account_is_the_first_kind_in_order_then_the_lowest_id(accounts):
    chosen = rules.receiving_account(accounts)
    rank = {kind: index for index, kind in enumerate(rules.RECEIVING_ACCOUNT_KINDS)}
    best = min(rank[kind] for _, kind in accounts)
    assert chosen == min(account_id for account_id, kind in accounts if rank[kind] == best)


def test_no_account_receives_nothing():
    assert rules.receiving_account([]) is None


@given(st.sampled_from(list(Category)), st.integers(min_value=1, max_value=rules.MAX_AMOUNT_FEN))
def test_an_entry_and_its_reversal_cancel_out(category, amount):
    signed = rules.signed_fen(category, amount)
    assert signed == (amount if direction_of(category) == Direction.INCOME else -amount)
    assert signed + rules.signed_fen(category, -amount) == 0


@given(request_fen=st.integers(1, 10**9), spent=st.integers(0, 10**9), amount=st.integers(1, 10**9))
def test_an_approved_request_is_never_spent_beyond_its_amount(request_fen, spent, amount):
    try:
        rules.check_spendable(SpendingStatus.APPROVED, False, amount, request_fen, spent)
    except FundRefused as refused:
        assert refused.kind == Kind.INVALID and "amount_fen" in refused.errors
        assert spent + amount > request_fen
    else:
        assert spent + amount <= request_fen


@pytest.mark.parametrize(("status", "emergency", "spendable"), [
    (SpendingStatus.APPROVED, False, True),
    (SpendingStatus.PENDING, False, False),
    (SpendingStatus.VOTING, False, False),
    (SpendingStatus.REJECTED, False, False),
    (SpendingStatus.PENDING, True, True),
    (SpendingStatus.VOTING, True, True),
    (SpendingStatus.APPROVED, True, True),
    (SpendingStatus.REJECTED, True, False),
])
def test_which_requests_may_be_spent_against(status, emergency, spendable):
    if spendable:
        rules.check_spendable(status, emergency, 1, 100, 0)
    else:
        with pytest.raises(FundRefused) as refused:
            rules.check_spendable(status, emergency, 1, 100, 0)
        assert "spending_request_id" in refused.value.errors


TODAY = date(2026, 11, 20)


@pytest.mark.parametrize(("model", "category", "day", "field"), [
    (ManagementModel.TRUST, Category.REMUNERATION, TODAY, "category"),
    (ManagementModel.MARKET, Category.PROPERTY_FEE, TODAY, "category"),
    (ManagementModel.UNIT_SELF, Category.SUBSIDY, TODAY, "category"),
    (ManagementModel.TRUST, Category.PARKING, TODAY + timedelta(days=1), "entry_date"),
    (ManagementModel.TRUST, Category.PARKING, date(2026, 1, 31), "entry_date"),  # before the opening
    (ManagementModel.TRUST, Category.PARKING, date(2026, 10, 31), "entry_date"),  # a closed month
])
def test_a_manual_entry_is_refused_on_the_field_at_fault(model, category, day, field):
    with pytest.raises(FundRefused) as refused:
        rules.check_manual_entry(model, category, day, TODAY, date(2026, 2, 1), date(2026, 11, 1))
    assert refused.value.kind == Kind.INVALID and field in refused.value.errors


def test_a_manual_entry_in_the_open_month_is_accepted():
    rules.check_manual_entry(ManagementModel.MARKET, Category.PARKING, TODAY, TODAY, date(2026, 2, 1),
                             date(2026, 11, 1))
    rules.check_manual_entry(ManagementModel.OWNER_SELF, Category.PROPERTY_FEE, date(2026, 11, 1), TODAY,
                             date(2026, 2, 1), date(2026, 11, 1))


def test_a_reversal_is_made_once_and_never_of_a_reversal_or_of_the_fee_ledgers_mirror():
    rules.check_reversible(EntryOrigin.MANUAL, already_reversed=False)
    rules.check_reversible(EntryOrigin.REMUNERATION, already_reversed=False)
    for mirrored in (EntryOrigin.FEE_PAYMENT, EntryOrigin.SUBSIDY_GRANT, EntryOrigin.FEE_REFUND):
        with pytest.raises(FundRefused, match="收费台"):
            rules.check_reversible(mirrored, already_reversed=False)
    with pytest.raises(FundRefused, match="已冲销过"):
        rules.check_reversible(EntryOrigin.MANUAL, already_reversed=True)
    with pytest.raises(FundRefused, match="不能再冲销"):
        rules.check_reversible(EntryOrigin.REVERSAL, already_reversed=False)


def test_an_expense_is_of_the_category_its_request_was_approved_for():
    rules.check_request_category(Category.REPAIR, Category.REPAIR)
    with pytest.raises(FundRefused, match="维修") as refused:
        rules.check_request_category(Category.CLEANING, Category.REPAIR)
    assert refused.value.errors == {"category": ["支出类别须与所依据的支出申请一致（维修）"]}
