"""Random journals through the service on the database: every closed month closes at opening + income − expense
and the next opens there; a closed month never changes whatever is posted or reversed after it; the balance read
from the last closed month equals the sum of the whole journal."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from backend.domain import fund_statements as rules
from backend.domain.compounds import ManagementModel
from backend.domain.funds import Category
from backend.domain.roles import Role
from backend.extensions import db
from backend.models.funds import FundMonth
from backend.services import fund_statements as service
from tests.fund_statements_support import months_ago, open_account, post, reverse, this_month

MONTHS = 4
ENTRY = st.tuples(st.sampled_from(list(Category)), st.integers(min_value=1, max_value=10**8))


@st.composite
def journals(draw):
    """Per month (the oldest first, then the current one): its entries, which earlier entries it reverses, and
    whether it is closed at its end (months close in order: once one stays open, the later ones do too)."""
    plan = []
    closing = True
    for _ in range(MONTHS + 1):
        closing = closing and draw(st.booleans())
        plan.append((draw(st.lists(ENTRY, max_size=5)), draw(st.lists(st.integers(0, 40), max_size=2)), closing))
    return draw(st.integers(min_value=0, max_value=10**9)), plan


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(journal=journals())
def test_closed_months_add_up_chain_and_stay_frozen(make_compound, make_user, journal):
    opening, plan = journal
    compound = make_compound(model=ManagementModel.TRUST, buildings=0)
    keeper = make_user(Role.COMMITTEE, compound)
    first = months_ago(MONTHS)
    account = open_account(compound, first.replace(day=3), opening_fen=opening, bank_name="农业银行")
    made, reversed_ids, journal_sum = [], set(), 0
    month = first
    for index, (entries, reversals, close) in enumerate(plan):
        for category, amount in entries:
            made.append(post(account, month.replace(day=5), category, amount))
            journal_sum += rules.signed(category, amount)
        for pick in reversals:
            target = made[pick % len(made)] if made else None
            if target is not None and target.id not in reversed_ids and target.month < month:
                reversed_ids.add(target.id)
                reverse(target, month.replace(day=9))
                journal_sum -= rules.signed(target.category, target.amount_fen)
        if close and index < MONTHS:
            report = service.month_report(compound.id, month)
            service.close_month(compound.id, month, {account.id: report.accounts[0].statement.closing_fen},
                                keeper.id)
        month = rules.next_month(month)
    assert rules.previous_month(month) == this_month()

    frozen = list(db.session.scalars(select(FundMonth).where(FundMonth.account_id == account.id)
                                             .order_by(FundMonth.month)))
    expected_opening = opening
    for row in frozen:
        assert row.opening_fen == expected_opening
        assert row.closing_fen == row.opening_fen + row.income_fen - row.expense_fen
        amounts, _ = service._amounts(account.id, row.month, row.month)
        assert rules.month_statement(row.opening_fen, amounts).closing_fen == row.closing_fen
        expected_opening = row.closing_fen
    before = {row.month: service.month_report(compound.id, row.month).total for row in frozen}

    # Later postings, and reversals of entries in closed months (dated now), leave the closed months as they were.
    for entry in made[:3]:
        if entry.id not in reversed_ids:
            reverse(entry, this_month())
            journal_sum -= rules.signed(entry.category, entry.amount_fen)
    post(account, this_month(), Category.REPAIR, 1)
    journal_sum -= 1
    assert {row.month: service.month_report(compound.id, row.month).total for row in frozen} == before

    assert service.summary(compound.id).balance_fen == opening + journal_sum
    live = service.month_report(compound.id, this_month()).total
    assert live.closing_fen == opening + journal_sum
