"""The 公共账本 over ten years (issue 17): one trust compound with two accounts and 100,000 journal entries spread
over 120 months (a reversal every thousandth), every ended month closed through `services.fund_statements.
close_month` (with the remuneration it posts), then timed in process: the overview (`summary`, target p95 ≤ 20 ms;
and `GET /api/v1/compounds/<id>/fund-summary` signed in), a month's statement (open and closed) against one raw SQL
aggregate over the same month's rows (target ≤ 2×), and, for contrast, the sum of the whole journal the balance
never reads.

PostgreSQL (LINLI_BENCH_DATABASE_URL, default a fresh `bench_funds` database on 127.0.0.1); real Redis as in
bench/fanout.py. LINLI_BENCH_FUND_ENTRIES changes the journal's length."""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.fanout import _redis_url, fresh_database_url

ENTRIES = int(os.environ.get("LINLI_BENCH_FUND_ENTRIES", "100000"))
MONTHS = 120
CALLS = 200
TARGET_SUMMARY_P95_MS = 20.0
TARGET_STATEMENT_RATIO = 2.0

# One statement, the journal's rows: 100,000 entries in 120 months, 1 in 5 to the basic account, 16 categories,
# income twice the size of an expense, dated in their month (never after today), then a reversal in the next month of every thousandth entry.
JOURNAL = """
INSERT INTO fund_entries (compound_id, account_id, entry_date, month, category, amount_fen, counterparty, note,
                          origin, reason, emergency, created_at)
SELECT :compound_id, CASE WHEN g % 5 = 0 THEN :basic_id ELSE :trust_id END,
       LEAST(m + ((g % 28)::int), :today), m,
       (ARRAY[{categories}])[1 + g % {category_count}],
       (100 + (g * 7919) % 500000) * CASE WHEN g % {category_count} < {income_count} THEN 2 ELSE 1 END, '往来单位', '', 'manual', '', false, now()
FROM generate_series(1, :entries) AS g,
     LATERAL (SELECT (CAST(:first_month AS date) + make_interval(months => ((g - 1) * :months / :entries)::int))::date AS m)
       AS month_of_entry
"""
REVERSALS = """
INSERT INTO fund_entries (compound_id, account_id, entry_date, month, category, amount_fen, counterparty, note,
                          origin, reverses_id, reason, emergency, created_at)
SELECT compound_id, account_id, (month + interval '1 month')::date, (month + interval '1 month')::date, category,
       -amount_fen, counterparty, '', 'reversal', id, '金额记错', false, now()
FROM fund_entries
WHERE compound_id = :compound_id AND id % 1000 = 0 AND month < :this_month
"""
RAW_MONTH = """
SELECT account_id, category, sum(amount_fen), count(*) FROM fund_entries
WHERE compound_id = :compound_id AND month = :month GROUP BY account_id, category
"""
RAW_ALL = "SELECT account_id, category, sum(amount_fen) FROM fund_entries WHERE compound_id = :compound_id " \
          "GROUP BY account_id, category"


def _timings(call: Callable[[], object], calls: int = CALLS) -> list[float]:
    """In one session and transaction, as inside a request (no pool checkout in the figure); the loaded rows are
    forgotten after each call so every call reads them again."""
    from backend.extensions import db

    call()
    timings = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
        db.session.expunge_all()
    db.session.remove()
    return timings


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> int:
    instance = Path(tempfile.mkdtemp(prefix="linli-bench-funds-"))
    os.environ.update(LINLI_INSTANCE_PATH=str(instance),
                      LINLI_DATABASE_URL=fresh_database_url(instance, "bench_funds"),
                      LINLI_REDIS_URL=_redis_url(instance))
    linli = str(Path(sys.executable).with_name("linli"))
    subprocess.run([linli, "init-db"], check=True, capture_output=True)

    from sqlalchemy import func, select, text

    from backend import create_app
    from backend.demo import factories
    from backend.domain import fund_statements as rules
    from backend.domain.compounds import AreaLevel, ManagementModel
    from backend.domain.funds import INCOME_CATEGORIES, AccountKind, Category
    from backend.domain.roles import Role
    from backend.extensions import db
    from backend.models.funds import FundAccount, FundEntry, FundMonth, FundSettings
    from backend.services import fund_statements as service
    from backend.services.auth import issue_tokens
    from backend.shared.clock import beijing_date, utcnow

    app = create_app()
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            raise SystemExit("the funds bench needs PostgreSQL")
        today = beijing_date(utcnow())
        this_month = rules.month_of(today)
        first = this_month
        for _ in range(MONTHS - 1):
            first = rules.previous_month(first)
        area = factories.make_area("基准社区", AreaLevel.COMMUNITY)
        compound = factories.make_compound("bench-funds", "基准小区", area, ManagementModel.TRUST)
        keeper = factories.make_user("bench-keeper", "记账人", None)
        factories.grant_role(keeper, Role.COMMITTEE, compound=compound)
        trust = FundAccount(compound_id=compound.id, kind=AccountKind.TRUST, bank_name="工商银行",
                            account_no_masked="6222****0001", opening_balance_fen=5_000_000, opened_on=first)
        basic = FundAccount(compound_id=compound.id, kind=AccountKind.BASIC, bank_name="农业银行",
                            account_no_masked="6228****0002", opening_balance_fen=0, opened_on=first)
        db.session.add_all([trust, basic, FundSettings(compound_id=compound.id, remuneration_rate_bp=800)])
        db.session.commit()
        compound_id, keeper_id, accounts = compound.id, keeper.id, (trust.id, basic.id)
        token = issue_tokens(keeper)[0]
        db.session.commit()

        started = time.perf_counter()
        categories = ", ".join(f"'{category.value}'" for category in Category)
        db.session.execute(text(JOURNAL.format(categories=categories, category_count=len(Category),
                                                income_count=len(INCOME_CATEGORIES))),
                           {"compound_id": compound_id, "trust_id": accounts[0], "basic_id": accounts[1],
                            "today": today, "entries": ENTRIES, "months": MONTHS, "first_month": first})
        db.session.execute(text(REVERSALS), {"compound_id": compound_id, "this_month": this_month})
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE fund_entries"))
        load_seconds = time.perf_counter() - started

        started = time.perf_counter()
        month = first
        while month < this_month:
            report = service.month_report(compound_id, month)
            # The bank agrees with the books except by the month's remuneration, posted at close.
            service.close_month(compound_id, month, {s.account.id: s.statement.closing_fen for s in report.accounts},
                                keeper_id)
            month = rules.next_month(month)
        close_seconds = time.perf_counter() - started
        closes = MONTHS - 1
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE fund_entries"))
            connection.execute(text("ANALYZE fund_months"))
        entries = db.session.scalar(select(func.count()).select_from(FundEntry))
        months_closed = db.session.scalar(select(func.count()).select_from(FundMonth))
        db.session.remove()

        summary_ms = _timings(lambda: service.summary(compound_id))
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}

        def api_summary():
            response = client.get(f"/api/v1/compounds/{compound_id}/fund-summary", headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"fund-summary: {response.status_code} {response.get_data()[:300]!r}")

        api_ms = _timings(api_summary)

        def raw(month):
            return lambda: db.session.execute(text(RAW_MONTH), {"compound_id": compound_id, "month": month}).all()

        closed_month = rules.previous_month(this_month)
        open_ms = _timings(lambda: service.month_report(compound_id, this_month))
        open_raw_ms = _timings(raw(this_month))
        closed_ms = _timings(lambda: service.month_report(compound_id, closed_month))
        closed_raw_ms = _timings(raw(closed_month))
        all_ms = _timings(lambda: db.session.execute(text(RAW_ALL), {"compound_id": compound_id}).all(), 20)
        summary = service.summary(compound_id)
        check = db.session.execute(text(RAW_ALL), {"compound_id": compound_id}).all()
        whole = sum(rules.signed(category, int(amount)) for _, category, amount in check) + 5_000_000
        db.session.remove()
    shutil.rmtree(instance, ignore_errors=True)

    month_rows = ENTRIES // MONTHS
    print(f"\nOne trust compound, 2 accounts, {entries:,} journal entries over {MONTHS} months "
          f"(≈ {month_rows:,} a month; with reversals and the remuneration posted at each close); PostgreSQL, "
          f"{os.cpu_count()} cores")
    print(f"loading the journal (INSERT … SELECT + VACUUM ANALYZE): {load_seconds:.1f} s; closing {closes} months "
          f"({months_closed} frozen account-months): {close_seconds:.1f} s, {close_seconds / closes * 1000:.0f} ms "
          f"a month")
    print(f"balance from the last closed month {summary.balance_fen} fen = the whole journal summed "
          f"{whole} fen: {summary.balance_fen == whole}\n")
    print(f"| measure ({CALLS} sequential calls in process, one session) | p50 | p95 | target |")
    print("| --- | ---: | ---: | ---: |")
    rows = [
        ("`services.fund_statements.summary` (balance + this month + closed months)", summary_ms,
         f"≤ {TARGET_SUMMARY_P95_MS:.0f} ms"),
        ("`GET /api/v1/compounds/<id>/fund-summary` (signed in, with the latest entries)", api_ms, ""),
        ("statement of the open month (`month_report`)", open_ms, ""),
        ("raw SQL aggregate over the open month's rows", open_raw_ms, ""),
        ("statement of the last closed month (`month_report`)", closed_ms, ""),
        ("raw SQL aggregate over that month's rows", closed_raw_ms, ""),
        ("for contrast: the whole journal summed (20 calls)", all_ms, "never on a read"),
    ]
    for label, timings, target in rows:
        print(f"| {label} | {statistics.median(timings):.2f} ms | {_p95(timings):.2f} ms | {target} |")
    open_ratio = statistics.median(open_ms) / statistics.median(open_raw_ms)
    closed_ratio = statistics.median(closed_ms) / statistics.median(closed_raw_ms)
    print(f"\nstatement ÷ raw aggregate (medians): open month {open_ratio:.2f}×, closed month {closed_ratio:.2f}× "
          f"(target ≤ {TARGET_STATEMENT_RATIO:.0f}×)")
    failed = (_p95(summary_ms) > TARGET_SUMMARY_P95_MS or open_ratio > TARGET_STATEMENT_RATIO
              or closed_ratio > TARGET_STATEMENT_RATIO or summary.balance_fen != whole)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
