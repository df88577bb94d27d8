"""Property-fee rules (DESIGN §4): billing periods of each cycle and their names, a bill's amount rounded
half-up once, its months adding up exactly, due dates, the reminder stage on every edge, collection rates,
which compounds charge fees, and the page's money format."""

from __future__ import annotations

import math
from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.compounds import ManagementModel
from backend.domain.fees import (
    BILL_ACTION_LABELS,
    BILL_STATUS_LABELS,
    CYCLE_LABELS,
    CYCLE_MONTHS,
    OFFLINE_METHODS,
    PAYMENT_METHOD_LABELS,
    BillAction,
    BillingCycle,
    BillStatus,
    Collection,
    FeeRefused,
    LiveOrderStep,
    OrderFate,
    PaymentMethod,
    Reminder,
    SubsidyBusy,
    bill_actions,
    bill_amount_fen,
    charges_fees_by_default,
    due_date,
    due_reminder,
    format_fen,
    format_yuan,
    live_order_step,
    month_charges,
    order_fate,
    period_label,
    period_start_for,
    spread_evenly,
    starts_a_period,
)
from backend.domain.refusals import Kind
from backend.domain.roles import Role
from backend.domain.subsidy import MonthCharge

days_of_years = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


# ---- billing periods ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("day", "cycle", "start"), [
    (date(2026, 5, 1), BillingCycle.MONTHLY, date(2026, 5, 1)),
    (date(2026, 5, 17), BillingCycle.MONTHLY, date(2026, 5, 1)),
    (date(2026, 2, 28), BillingCycle.MONTHLY, date(2026, 2, 1)),
    (date(2026, 12, 31), BillingCycle.MONTHLY, date(2026, 12, 1)),
    (date(2026, 1, 1), BillingCycle.QUARTERLY, date(2026, 1, 1)),
    (date(2026, 3, 31), BillingCycle.QUARTERLY, date(2026, 1, 1)),
    (date(2026, 4, 1), BillingCycle.QUARTERLY, date(2026, 4, 1)),
    (date(2026, 6, 30), BillingCycle.QUARTERLY, date(2026, 4, 1)),
    (date(2026, 7, 15), BillingCycle.QUARTERLY, date(2026, 7, 1)),
    (date(2026, 9, 30), BillingCycle.QUARTERLY, date(2026, 7, 1)),
    (date(2026, 10, 1), BillingCycle.QUARTERLY, date(2026, 10, 1)),
    (date(2026, 12, 31), BillingCycle.QUARTERLY, date(2026, 10, 1)),
    (date(2026, 1, 1), BillingCycle.YEARLY, date(2026, 1, 1)),
    (date(2026, 7, 1), BillingCycle.YEARLY, date(2026, 1, 1)),
    (date(2026, 12, 31), BillingCycle.YEARLY, date(2026, 1, 1)),
])
def test_period_start_for(day, cycle, start):
    assert period_start_for(day, cycle) == start


@settings(max_examples=300, deadline=None)
@given(days_of_years, st.sampled_from(BillingCycle))
def test_a_day_lies_in_the_period_that_period_start_for_names(day, cycle):
    start = period_start_for(day, cycle)
    months = CYCLE_MONTHS[cycle]
    assert start.day == 1
    assert start <= day
    assert (day.year - start.year) * 12 + day.month - start.month < months
    assert (start.month - 1) % months == 0
    assert starts_a_period(start, cycle)
    assert period_start_for(start, cycle) == start


@pytest.mark.parametrize(("day", "monthly", "quarterly", "yearly"), [
    (date(2026, 1, 1), True, True, True),
    (date(2026, 2, 1), True, False, False),
    (date(2026, 3, 1), True, False, False),
    (date(2026, 4, 1), True, True, False),
    (date(2026, 7, 1), True, True, False),
    (date(2026, 10, 1), True, True, False),
    (date(2026, 12, 1), True, False, False),
    (date(2026, 1, 2), False, False, False),
    (date(2026, 4, 30), False, False, False),
    (date(2026, 12, 31), False, False, False),
])
def test_starts_a_period(day, monthly, quarterly, yearly):
    assert starts_a_period(day, BillingCycle.MONTHLY) is monthly
    assert starts_a_period(day, BillingCycle.QUARTERLY) is quarterly
    assert starts_a_period(day, BillingCycle.YEARLY) is yearly


def test_every_cycle_has_its_months_and_a_label():
    assert CYCLE_MONTHS == {BillingCycle.MONTHLY: 1, BillingCycle.QUARTERLY: 3, BillingCycle.YEARLY: 12}
    assert CYCLE_LABELS == {BillingCycle.MONTHLY: "按月", BillingCycle.QUARTERLY: "按季", BillingCycle.YEARLY: "按年"}


def test_every_status_and_method_has_a_chinese_label():
    assert set(BILL_STATUS_LABELS) == set(BillStatus)
    assert set(PAYMENT_METHOD_LABELS) == set(PaymentMethod)
    assert BILL_STATUS_LABELS[BillStatus.WAIVED] == "已减免"
    assert set(OFFLINE_METHODS) == {PaymentMethod.CASH, PaymentMethod.BANK}


@pytest.mark.parametrize(("start", "months", "label"), [
    (date(2026, 12, 1), 1, "2026年12月"),
    (date(2026, 1, 1), 1, "2026年1月"),
    (date(2026, 1, 1), 3, "2026年第1季度"),
    (date(2026, 4, 1), 3, "2026年第2季度"),
    (date(2026, 7, 1), 3, "2026年第3季度"),
    (date(2026, 10, 1), 3, "2026年第4季度"),
    (date(2026, 1, 1), 12, "2026年度"),
    # Anything that is not a calendar month, quarter or year is named as a range of months.
    (date(2026, 2, 1), 3, "2026年2月—2026年4月"),
    (date(2026, 11, 1), 3, "2026年11月—2027年1月"),
    (date(2026, 7, 1), 12, "2026年7月—2027年6月"),
    (date(2026, 11, 1), 2, "2026年11月—2026年12月"),
])
def test_period_label(start, months, label):
    assert period_label(start, months) == label


# ---- a bill's amount ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("area", "standard", "months", "amount"), [
    (8125, 150, 1, 12188),      # 81.25 m² × 1.50 元 = 121.875 元 = 12187.5 fen → 12188
    (8125, 150, 3, 36563),      # 36562.5 → 36563: months multiply before rounding (3 × 12188 would be 36564)
    (8125, 150, 12, 146250),
    (10000, 150, 1, 15000),     # 100 m² × 1.50 元
    (1, 50, 1, 1),              # 0.5 fen: exactly half rounds up
    (1, 49, 1, 0),              # 0.49
    (1, 51, 1, 1),
    (3, 50, 1, 2),              # 1.5 → 2, half-up rather than to even
    (5, 50, 1, 3),              # 2.5 → 3
    (0, 150, 12, 0),            # a zero-area household owes nothing
    (8125, 0, 1, 0),
])
def test_bill_amount_is_rounded_half_up_once(area, standard, months, amount):
    assert bill_amount_fen(floor_area_centi_m2=area, standard_fen_per_m2=standard, months=months) == amount


@pytest.mark.parametrize(("area", "standard", "months"), [(-1, 150, 1), (8125, -1, 1), (8125, 150, 0),
                                                         (8125, 150, -3)])
def test_a_bad_bill_amount_is_refused(area, standard, months):
    with pytest.raises(ValueError):
        bill_amount_fen(area, standard, months)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10_000_000), st.integers(0, 10_000), st.sampled_from((1, 2, 3, 6, 12)))
def test_bill_amount_agrees_with_fractions(area, standard, months):
    exact = Fraction(area, 100) * standard * months
    assert bill_amount_fen(area, standard, months) == math.floor(exact + Fraction(1, 2))


# ---- a bill's months ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("total", "months", "parts"), [
    (12_188, 1, [12_188]),
    (12_188, 3, [4063, 4062, 4063]),
    (100, 3, [33, 34, 33]),
    (2, 3, [1, 0, 1]),
    (1, 2, [1, 0]),             # the half goes up, at the first month
    (144_000, 12, [12_000] * 12),
    (0, 12, [0] * 12),
    (5, 12, [0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0]),
])
def test_spread_evenly(total, months, parts):
    assert spread_evenly(total, months) == parts


@pytest.mark.parametrize(("total", "months"), [(-1, 3), (100, 0), (100, -1)])
def test_a_bad_spread_is_refused(total, months):
    with pytest.raises(ValueError):
        spread_evenly(total, months)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.integers(0, 30), st.integers(0, 10**9)), st.integers(1, 36))
def test_spread_evenly_adds_up_exactly_and_differs_by_at_most_a_fen(total, months):
    parts = spread_evenly(total, months)
    assert len(parts) == months
    assert sum(parts) == total
    assert all(part >= 0 for part in parts)
    assert max(parts) - min(parts) <= 1
    assert set(parts) <= {total // months, -(-total // months)}
    # Each running total is the exact share rounded half-up, so no prefix of months drifts by a fen or more.
    running = 0
    for index, part in enumerate(parts, start=1):
        running += part
        assert running == math.floor(Fraction(total * index, months) + Fraction(1, 2))


def test_month_charges_crosses_the_new_year():
    assert month_charges(date(2026, 11, 1), 3, 100) == [
        MonthCharge(month=date(2026, 11, 1), amount_fen=33),
        MonthCharge(month=date(2026, 12, 1), amount_fen=34),
        MonthCharge(month=date(2027, 1, 1), amount_fen=33),
    ]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(BillingCycle), days_of_years, st.integers(0, 10**8))
def test_month_charges_are_the_periods_months_and_add_up_to_the_bill(cycle, day, amount):
    start = period_start_for(day, cycle)
    months = month_charges(start, CYCLE_MONTHS[cycle], amount)
    assert [charge.amount_fen for charge in months] == spread_evenly(amount, CYCLE_MONTHS[cycle])
    assert months[0].month == start
    assert all(period_start_for(charge.month, cycle) == start for charge in months)
    assert len({charge.month for charge in months}) == CYCLE_MONTHS[cycle]


# ---- due dates and reminders -------------------------------------------------------------------------------

@pytest.mark.parametrize(("start", "due_day", "due"), [
    (date(2026, 10, 1), 15, date(2026, 10, 15)),
    (date(2026, 2, 1), 28, date(2026, 2, 28)),
    (date(2026, 1, 1), 1, date(2026, 1, 1)),
])
def test_due_date_is_in_the_periods_first_month(start, due_day, due):
    assert due_date(start, due_day) == due


DUE = date(2026, 3, 15)


@pytest.mark.parametrize(("days_after_due", "reminder"), [
    (-100, None),
    (-8, None),
    (-7, Reminder(key="due7", title="物业费将于3月15日到期")),
    (-3, Reminder(key="due7", title="物业费将于3月15日到期")),
    (-1, Reminder(key="due7", title="物业费将于3月15日到期")),
    # On the due day itself nothing is sent: the due7 notice went out a week before and it is not late yet.
    (0, None),
    (1, Reminder(key="overdue1", title="物业费已逾期1天", days_overdue=1)),
    (2, Reminder(key="overdue1", title="物业费已逾期1天", days_overdue=1)),
    (14, Reminder(key="overdue1", title="物业费已逾期1天", days_overdue=1)),
    (15, Reminder(key="overdue15", title="物业费已逾期15天", days_overdue=15)),
    (16, Reminder(key="overdue15", title="物业费已逾期15天", days_overdue=15)),
    (29, Reminder(key="overdue15", title="物业费已逾期15天", days_overdue=15)),
    (30, Reminder(key="overdue30", title="物业费已逾期30天", days_overdue=30)),
    (31, Reminder(key="overdue30", title="物业费已逾期30天", days_overdue=30)),
    (400, Reminder(key="overdue30", title="物业费已逾期30天", days_overdue=30)),
])
def test_due_reminder_at_every_edge(days_after_due, reminder):
    assert due_reminder(DUE + timedelta(days=days_after_due), DUE) == reminder


def test_due_soon_across_a_month_end():
    assert due_reminder(date(2026, 2, 22), date(2026, 3, 1)) == Reminder(key="due7", title="物业费将于3月1日到期")
    assert due_reminder(date(2026, 2, 21), date(2026, 3, 1)) is None
    assert due_reminder(date(2026, 3, 31), date(2026, 3, 1)).key == "overdue30"


@settings(max_examples=200, deadline=None)
@given(st.integers(-60, 120))
def test_a_daily_run_sends_each_stage_once_in_order(offset):
    """Run every day from 60 days before to `offset` days after: the distinct keys seen appear in order."""
    seen = []
    for days in range(-60, offset + 1):
        reminder = due_reminder(DUE + timedelta(days=days), DUE)
        if reminder is not None and reminder.key not in seen:
            seen.append(reminder.key)
    stages = ["due7"] * (offset >= -7) + ["overdue1"] * (offset >= 1) + ["overdue15"] * (offset >= 15) \
        + ["overdue30"] * (offset >= 30)
    assert seen == stages


# ---- collection rates --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("part", "whole", "rate_bp"), [
    (0, 0, 0),          # nothing billed: 0, not a division by zero
    (0, 10, 0),
    (10, 10, 10_000),
    (1, 2, 5000),
    (1, 3, 3333),       # 3333.33
    (2, 3, 6667),       # 6666.67
    (1, 32, 313),       # 312.5: exactly half rounds up
    (1, 160, 63),       # 62.5
    (1, 20_000, 1),     # 0.5
    (1, 20_001, 0),     # 0.49998
    (11, 10, 11_000),   # overpaid fen can pass 100%
])
def test_collection_rates_in_basis_points_round_half_up(part, whole, rate_bp):
    collection = Collection(billed_households=whole, paid_households=part, billed_fen=whole, paid_fen=part)
    assert collection.household_rate_bp == rate_bp
    assert collection.fen_rate_bp == rate_bp


def test_household_and_fen_rates_are_separate():
    collection = Collection(billed_households=4, paid_households=3, billed_fen=40_000, paid_fen=10_000)
    assert (collection.household_rate_bp, collection.fen_rate_bp) == (7500, 2500)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 10**7).flatmap(lambda whole: st.tuples(st.integers(0, whole), st.just(whole))))
def test_collection_rate_agrees_with_fractions(case):
    part, whole = case
    collection = Collection(billed_households=whole, paid_households=part, billed_fen=whole, paid_fen=part)
    assert collection.fen_rate_bp == math.floor(Fraction(part * 10_000, whole) + Fraction(1, 2))


# ---- which compounds charge, refusals, money on pages -----------------------------------------------------

@pytest.mark.parametrize("model", list(ManagementModel))
def test_only_a_community_fallback_compound_charges_nothing_by_default(model):
    assert charges_fees_by_default(model.value) is (model is not ManagementModel.COMMUNITY_FALLBACK)


def test_fee_refused_is_a_state_conflict_unless_told_otherwise():
    refused = FeeRefused("账单已缴清")
    assert (refused.message, refused.status, str(refused)) == ("账单已缴清", 409, "账单已缴清")
    assert FeeRefused("金额不符", Kind.INVALID).kind is Kind.INVALID


@pytest.mark.parametrize(("fen", "text"), [
    (0, "¥0.00"),
    (5, "¥0.05"),
    (50, "¥0.50"),
    (100, "¥1.00"),
    (12_345, "¥123.45"),
    (100_000, "¥1,000.00"),
    (123_456, "¥1,234.56"),
    (123_456_789, "¥1,234,567.89"),
    (-5, "-¥0.05"),
    (-123_456, "-¥1,234.56"),
])
def test_format_fen(fen, text):
    assert format_fen(fen) == text


# ---- online orders ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trade_state", "fate"),
    [
        ("SUCCESS", OrderFate.PAID), ("REFUND", OrderFate.PAID),
        ("NOTPAY", OrderFate.OPEN), ("USERPAYING", OrderFate.OPEN),
        ("CLOSED", OrderFate.CLOSED), ("REVOKED", OrderFate.CLOSED), ("PAYERROR", OrderFate.CLOSED),
        (None, OrderFate.CLOSED),
        # A state WeChat Pay may add one day could still end in a payment: never assume it cannot.
        ("PARTIAL_SUCCESS", OrderFate.OPEN), ("", OrderFate.OPEN), ("success", OrderFate.OPEN),
    ],
)
def test_order_fate_of_every_trade_state(trade_state, fate):
    assert order_fate(trade_state) is fate


@pytest.mark.parametrize(
    ("expired", "same_payer", "same_amount", "step"),
    [
        (False, True, True, LiveOrderStep.REUSE),
        (False, False, True, LiveOrderStep.REFUSE),
        (False, True, False, LiveOrderStep.SETTLE),
        # Someone else's order within its window is theirs to pay, whatever bills it covers.
        (False, False, False, LiveOrderStep.REFUSE),
        (True, True, True, LiveOrderStep.SETTLE),
        (True, False, True, LiveOrderStep.SETTLE),
        (True, True, False, LiveOrderStep.SETTLE),
        (True, False, False, LiveOrderStep.SETTLE),
    ],
)
def test_live_order_step_for_every_case(expired, same_payer, same_amount, step):
    assert live_order_step(expired=expired, same_payer=same_payer, same_amount=same_amount) is step


# ---- what may be done with a bill ---------------------------------------------------------------------------


def actions(status=BillStatus.UNPAID, paid_fen=0, overpaid_fen=0, *, roles, member=False, online_order=False,
            order_payable=False) -> list[str]:
    return list(bill_actions(status, paid_fen, overpaid_fen, roles=frozenset(roles), member=member,
                             online_order=online_order, order_payable=order_payable))


def test_the_household_pays_an_unpaid_bill_and_nothing_else():
    assert actions(roles={Role.OWNER}, member=True) == ["pay"]
    assert actions(roles={Role.RESIDENT}, member=True, online_order=True, order_payable=True) == ["pay"]
    for status in (BillStatus.PAID, BillStatus.WAIVED):
        assert actions(status, roles={Role.OWNER}, member=True) == []
    # An owner of another household of the compound pays nothing here.
    assert actions(roles={Role.OWNER}) == []


def test_the_desk_takes_cash_only_once_no_order_can_still_be_paid():
    desk = {Role.STAFF}
    assert actions(roles=desk) == ["record_payment"]
    assert actions(roles=desk, online_order=True, order_payable=True) == ["close_online_payment"]
    # An expired order is settled with WeChat Pay when the cash is recorded, or closed first.
    assert actions(roles=desk, online_order=True) == ["record_payment", "close_online_payment"]
    assert actions(BillStatus.PAID, roles={Role.MANAGER}) == []


def test_the_committee_changes_only_a_bill_nothing_was_paid_for_and_refunds_an_overpayment():
    for roles in ({Role.COMMITTEE}, {Role.PARTY_SECRETARY}, {Role.OFFICIAL}):
        assert actions(roles=roles) == ["adjust", "waive"]
        assert actions(paid_fen=100, roles=roles) == []
        assert actions(BillStatus.PAID, paid_fen=12188, overpaid_fen=6094, roles=roles) == ["refund"]
    # The company that collects never waives or refunds.
    assert actions(BillStatus.PAID, paid_fen=12188, overpaid_fen=6094, roles={Role.STAFF, Role.MANAGER}) == []


def test_roles_held_together_add_up_in_one_order():
    everything = actions(roles={Role.ADMIN, Role.OWNER}, member=True, online_order=True)
    assert everything == ["pay", "record_payment", "close_online_payment", "adjust", "waive"]
    assert set(BILL_ACTION_LABELS) == set(BillAction)


def test_a_busy_budget_is_a_refusal_to_try_again_shortly():
    busy = SubsidyBusy()
    assert (busy.status, busy.retry_after) == (503, 1) and isinstance(busy, FeeRefused)


@pytest.mark.parametrize(("fen", "text"), [(0, "0.00"), (5, "0.05"), (6094, "60.94"), (123_456_789, "1234567.89")])
def test_format_yuan(fen, text):
    assert format_yuan(fen) == text
