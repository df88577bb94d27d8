"""Property fees (issue 6): issuing one month's bills for 100,000 households (LINLI_BENCH_FEE_COMPOUNDS ×
LINLI_BENCH_FEE_HOUSEHOLDS, 20 × 5,000 by default), and WeChat Pay's payment notification under gunicorn.

PostgreSQL (LINLI_BENCH_DATABASE_URL, default a fresh `bench_fees` database on 127.0.0.1, else SQLite), real
Redis as in bench/fanout.py. `linli init-db`, then 20 compounds × 5,000 households (60–120 m², built 1995, in one
district) bulk-inserted, each with a monthly schedule (1.50 元/m², due on the 15th) made through the service,
then VACUUM ANALYZE.

1. Issue. `services.fees.issue_bills(today)` (what the daily cron job runs: per compound, INSERT … SELECT in
   batches of 5,000 households with NOT EXISTS and ON CONFLICT DO NOTHING, a commit and a progress line each)
   against one raw `INSERT … SELECT` of the same rows (the same columns and values, one statement over every
   household, no NOT EXISTS, no ON CONFLICT), each into a freshly truncated `bills` after a CHECKPOINT, in
   alternating order over three rounds; the rows of both are checked equal (a digest of every column but the
   id and the issue time). Then `issue_bills(today)` again with the month issued: it issues nothing. Target:
   median issue time ≤ 3 × the raw insert's.
2. Notify. The district's 先买后补 policy (50 %, 30 %, 10 %), then bills paid online in-process through
   `start_payment` and the sandbox's `complete_sandbox_payment`. gunicorn with 2 sync workers (bench/wsgi.py)
   and wrk -t2 -c8 as in bench/run.py: the framework ceiling, then `POST /api/v1/payments/wechat/notify` with
   notifications the sandbox provider signs as WeChat Pay would (fresh timestamps, signed just before each
   run; a Lua script cycles through them, each wrk thread through its own share):
   - replays: the 1,000 paid orders' notifications again (the steady state of WeChat Pay's duplicates);
   - first deliveries: a batch of distinct unpaid orders (opened through `start_payment`, so their subsidy is
     held), more than the run can send, so every request records a payment.
   Checked after each: every answer 2xx, replays recorded nothing new, one payment per order delivered, each
   bill paid to the fen. Target: ≥ 0.3 × the ceiling, for both."""
from __future__ import annotations

import hashlib
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import BigInteger, and_, cast, func, insert, literal, select, text

from bench.fanout import _redis_url, fresh_database_url
from bench.run import CONNECTIONS, DURATION, PORT, _wrk
from bench.targets import record

COMPOUNDS = int(os.environ.get("LINLI_BENCH_FEE_COMPOUNDS", "20"))
HOUSEHOLDS_EACH = int(os.environ.get("LINLI_BENCH_FEE_HOUSEHOLDS", "5000"))
ROUNDS = 3
STANDARD_FEN = 150
BUILDING_SIZE = 200
REPLAY_ORDERS = 1000
# First-delivery orders per replay request per second measured: a first delivery does more than a replay,
# so this many outlast the run.
FIRST_ORDER_MARGIN = 1.2
TARGET_ISSUE_RATIO, TARGET_NOTIFY_RATIO = 3.0, 0.3
NOTIFY_PATH = "/api/v1/payments/wechat/notify"
# A bill as the two ways of issuing must both write it: every column but the id and the issue time.
COMPARED = ("compound_id", "household_id", "schedule_id", "period_start", "months", "period_end",
            "floor_area_centi_m2", "standard_fen_per_m2", "original_amount_fen", "amount_fen", "due_date", "status",
            "subsidy_fen", "paid_fen", "paid_at", "adjust_reason")


# ---- data ---------------------------------------------------------------------------------------------


def _make_compounds(today: date) -> int:
    """The district and its compounds: buildings and households bulk-inserted, schedules through the service."""
    from backend.domain.compounds import (
        AreaLevel,
        GovernanceBody,
        HouseholdKind,
        ManagementModel,
        PartyOrgForm,
    )
    from backend.domain.fees import BillingCycle
    from backend.extensions import db
    from backend.models import Area, Building, Compound, Household, PropertyCompany
    from backend.services import fees as fee_service

    parent = None
    areas = []
    for name, level in (("压测市", AreaLevel.CITY), ("压测区", AreaLevel.DISTRICT), ("压测街道", AreaLevel.STREET),
                        ("压测社区", AreaLevel.COMMUNITY)):
        area = Area(name=name, level=level, parent_id=parent.id if parent else None)
        db.session.add(area)
        db.session.flush()
        area.path = f"{parent.path if parent else '/'}{area.id}/"
        areas.append(area)
        parent = area
    company = PropertyCompany(name="压测物业服务有限公司", credit_code="91510400MA6BENCH1X")
    db.session.add(company)
    db.session.flush()
    compounds = []
    for number in range(1, COMPOUNDS + 1):
        compound = Compound(
            code=f"fee{number:02d}", name=f"压测收费小区{number:02d}", address="攀枝花市东区压测路1号",
            area_id=parent.id, built_year=1995, management_model=ManagementModel.MARKET,
            party_org_form=PartyOrgForm.SINGLE, governance_body=GovernanceBody.OWNERS_COMMITTEE,
            property_company_id=company.id, fee_standard_fen_per_m2=STANDARD_FEN,
        )
        db.session.add(compound)
        db.session.flush()
        building_ids = db.session.scalars(
            insert(Building).returning(Building.id, sort_by_parameter_order=True),
            [{"compound_id": compound.id, "name": f"{index + 1}栋"}
             for index in range(math.ceil(HOUSEHOLDS_EACH / BUILDING_SIZE))],
        ).all()
        db.session.execute(insert(Household), [
            {"compound_id": compound.id, "building_id": building_ids[index // BUILDING_SIZE],
             "unit": str(index % BUILDING_SIZE // 50 + 1), "room": f"{index % 50 // 2 + 1}{index % 2 + 1:02d}",
             # 60–120 m², spread deterministically.
             "floor_area_centi_m2": 6000 + (index * 7919 + number) % 6000, "kind": HouseholdKind.RESIDENTIAL}
            for index in range(HOUSEHOLDS_EACH)
        ])
        db.session.commit()
        compounds.append(compound)
    for compound in compounds:
        fee_service.create_schedule(compound, fee_service.ScheduleDraft(
            household_kind=HouseholdKind.RESIDENTIAL, standard_fen_per_m2=STANDARD_FEN,
            effective_from=date(today.year, 1, 1), cycle=BillingCycle.MONTHLY, due_day=15, charges_fees=None,
            hearing_meeting_id=None, note=""), None, None)
    return areas[1].id


def _admin(sql: str) -> None:
    from backend.extensions import db

    db.session.remove()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(sql))


def _fresh_bills() -> None:
    """An empty `bills` table (and, on PostgreSQL, nothing dirty waiting to be written) before a timed run."""
    from backend.extensions import db

    db.session.remove()
    postgresql = db.engine.dialect.name == "postgresql"
    with db.engine.begin() as conn:
        conn.execute(text("TRUNCATE bills CASCADE" if postgresql else "DELETE FROM bills"))
    if postgresql:
        _admin("CHECKPOINT")


# ---- 1. issuing -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    seconds: float
    bills: int
    checksum: str


def _checksum() -> tuple[int, str]:
    """How many bills, and a digest of them all in household order."""
    from backend.extensions import db
    from backend.models import Bill

    digest, count = hashlib.sha256(), 0
    rows = db.session.execute(
        select(*(getattr(Bill, column) for column in COMPARED)).order_by(Bill.household_id)
    )
    for row in rows:
        digest.update(repr(tuple(row)).encode())
        count += 1
    db.session.rollback()
    return count, digest.hexdigest()


def _issue_with_the_service(today: date) -> Issue:
    from backend.services.fees import issue_bills

    _fresh_bills()
    started = time.perf_counter()
    issued = issue_bills(today)
    seconds = time.perf_counter() - started
    count, digest = _checksum()
    if sum(period.issued for period in issued) != count:
        raise SystemExit(f"issue_bills() said {sum(period.issued for period in issued)} bills, the table has {count}")
    return Issue(seconds, count, digest)


def _issue_raw(today: date) -> Issue:
    """One INSERT … SELECT of the same rows: every household joined to its compound's schedule."""
    from backend.domain.fees import BillStatus, due_date
    from backend.domain.subsidy import add_months
    from backend.extensions import db
    from backend.models import Bill, FeeSchedule, Household
    from backend.shared.clock import utcnow

    period_start = today.replace(day=1)
    amount = (cast(Household.floor_area_centi_m2, BigInteger) * FeeSchedule.standard_fen_per_m2 + 50) // 100
    rows = select(
        Household.compound_id, Household.id, FeeSchedule.id, literal(period_start), literal(1),
        literal(add_months(period_start, 1)), Household.floor_area_centi_m2, FeeSchedule.standard_fen_per_m2,
        amount, amount, literal(due_date(period_start, 15)), literal(BillStatus.UNPAID.value), literal(0),
        literal(0), literal(utcnow(), Bill.issued_at.type), literal(""),
    ).join(FeeSchedule, and_(FeeSchedule.compound_id == Household.compound_id,
                             FeeSchedule.household_kind == Household.kind))
    statement = insert(Bill).from_select(
        ["compound_id", "household_id", "schedule_id", "period_start", "months", "period_end",
         "floor_area_centi_m2", "standard_fen_per_m2", "original_amount_fen", "amount_fen", "due_date", "status",
         "subsidy_fen", "paid_fen", "issued_at", "adjust_reason"],
        rows,
    )
    _fresh_bills()
    started = time.perf_counter()
    db.session.execute(statement)
    db.session.commit()
    seconds = time.perf_counter() - started
    return Issue(seconds, *_checksum())


def _issuing(today: date) -> dict:
    """Rounds of both, alternating which goes first and ending with the service, so its bills stay in place;
    then the service again on the issued month."""
    from backend.services.fees import issue_bills

    service, raw = [], []
    for round_number in range(ROUNDS):
        if round_number % 2:
            service.append(_issue_with_the_service(today))
            raw.append(_issue_raw(today))
        else:
            raw.append(_issue_raw(today))
            service.append(_issue_with_the_service(today))
        if (raw[-1].bills, raw[-1].checksum) != (service[-1].bills, service[-1].checksum):
            raise SystemExit("the raw insert and issue_bills() wrote different rows")
    started = time.perf_counter()
    again = issue_bills(today)
    rerun = time.perf_counter() - started
    if again:
        raise SystemExit(f"the rerun issued {again}")
    return {"service": [issue.seconds for issue in service], "raw": [issue.seconds for issue in raw],
            "bills": service[-1].bills, "rerun": rerun}


# ---- 2. the payment notification ------------------------------------------------------------------------

# Each wrk thread takes every n-th pre-signed notification of the file and sends them in turn, round and round
# (after `--`: the file, n = the threads, the path). One line: timestamp, nonce, signature, serial and body,
# tab-separated.
NOTIFY_SCRIPT = r"""
local requests, index = {}, 0
local count = 0

function setup(thread)
  thread:set("id", count)
  count = count + 1
end

function init(args)
  local threads, line_number = tonumber(args[2]), 0
  for line in io.lines(args[1]) do
    if line_number % threads == id then
      local timestamp, nonce, signature, serial, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      requests[#requests + 1] = wrk.format("POST", args[3], {
        ["Content-Type"] = "application/json",
        ["Wechatpay-Timestamp"] = timestamp,
        ["Wechatpay-Nonce"] = nonce,
        ["Wechatpay-Signature"] = signature,
        ["Wechatpay-Serial"] = serial,
        ["Wechatpay-Signature-Type"] = "WECHATPAY2-SHA256-RSA2048",
      }, body)
    end
    line_number = line_number + 1
  end
end

function request()
  index = index % #requests + 1
  return requests[index]
end
"""
THREADS = 2


def _policy(district_id: int, this_month: date) -> None:
    from backend.domain.subsidy import SubsidyTier, add_months
    from backend.services.subsidies import PolicyDraft, create_policy

    create_policy(PolicyDraft(
        name="压测区老旧小区物业费过渡期补贴", area_id=district_id, compound_id=None, built_before_year=2000,
        management_models=[], period_start=add_months(this_month, -16),
        tiers=[SubsidyTier(12, 5000), SubsidyTier(12, 3000), SubsidyTier(12, 1000)],
        cap_fen_per_month=6000, budget_fen=None,
    ), None, None)


def _payer() -> int:
    from backend.domain.auth import WeChatApp
    from backend.extensions import db
    from backend.models import User, WeChatAccount

    payer = User(username="bench-payer", display_name="压测缴费人")
    db.session.add(payer)
    db.session.flush()
    db.session.add(WeChatAccount(user_id=payer.id, app=WeChatApp.OFFICIAL_ACCOUNT, openid="bench-payer-openid"))
    db.session.commit()
    return payer.id


def _open_orders(payer_id: int, count: int) -> list[int]:
    """Orders for the next `count` unpaid bills, opened as a resident's pay button opens them."""
    from backend.domain.fees import BillStatus
    from backend.extensions import db
    from backend.models import Bill, PaymentOrderBill, User
    from backend.services.payments import start_payment

    with_order = select(PaymentOrderBill.bill_id)
    bill_ids = db.session.scalars(
        select(Bill.id).where(Bill.status == BillStatus.UNPAID, Bill.id.not_in(with_order))
        .order_by(Bill.id).limit(count)
    ).all()
    payer = db.session.get(User, payer_id)
    return [start_payment(bill_id, payer, "http://127.0.0.1" + NOTIFY_PATH).order.id for bill_id in bill_ids]


def _notifications(order_ids: list[int], path: Path, replay: bool) -> None:
    """The signed notification of each order, written for the Lua script: for a paid order the one WeChat Pay
    sends again (its transaction id), else a first delivery. Timestamps are now's: verification refuses any
    more than 300 s away."""
    from backend.extensions import db
    from backend.models import PaymentOrder, Receipt
    from backend.services.payment_provider import wechat_pay

    provider = wechat_pay()
    orders = db.session.scalars(select(PaymentOrder).where(PaymentOrder.id.in_(order_ids))).all()
    transactions = dict(db.session.execute(
        select(Receipt.order_id, Receipt.transaction_id).where(Receipt.order_id.in_(order_ids))
    ).all())
    with path.open("w") as lines:
        for order in orders:
            transaction_id = transactions[order.id] if replay else f"42000{order.id:023d}"
            headers, body = provider.signed_notification(order.out_trade_no, transaction_id, order.amount_fen,
                                                         order.openid)
            lines.write("\t".join([headers["Wechatpay-Timestamp"], headers["Wechatpay-Nonce"],
                                   headers["Wechatpay-Signature"], headers["Wechatpay-Serial"], body.decode()]) + "\n")
    db.session.rollback()


def _wrk_notify(script: Path, lines: Path) -> tuple[float, int]:
    """Requests per second and requests answered; every answer must be 2xx."""
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", "-s", str(script),
               f"http://127.0.0.1:{PORT}{NOTIFY_PATH}", "--", str(lines), str(THREADS), NOTIFY_PATH]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise SystemExit(f"{NOTIFY_PATH}: {errors.group(1)} error responses\n{output}")
    return (float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            int(re.search(r"(\d+) requests in", output).group(1)))


def _payments_of(order_ids: list[int]) -> list:
    """(order amount, payment amount, bill amount, bill subsidy, bill paid, bill status, grant status) of each
    order's payments."""
    from backend.extensions import db
    from backend.models import Bill, Payment, PaymentOrder, SubsidyGrant

    rows = db.session.execute(
        select(PaymentOrder.amount_fen, Payment.amount_fen, Bill.amount_fen, Bill.subsidy_fen, Bill.paid_fen,
               Bill.status, SubsidyGrant.status)
        .join(Payment, Payment.order_id == PaymentOrder.id).join(Bill, Bill.id == Payment.bill_id)
        .outerjoin(SubsidyGrant, SubsidyGrant.bill_id == Bill.id)
        .where(PaymentOrder.id.in_(order_ids))
    ).all()
    db.session.rollback()
    return rows


def _paid_to_the_fen(rows: list) -> bool:
    from backend.domain.fees import BillStatus, GrantStatus

    return all(
        order == paid == bill_paid == amount - subsidy and subsidy > 0 and status is BillStatus.PAID
        and grant is GrantStatus.GRANTED
        for order, paid, amount, subsidy, bill_paid, status, grant in rows
    )


def _notify(district_id: int, this_month: date, work: Path) -> dict:
    from backend.extensions import db
    from backend.models import Payment
    from backend.services.payments import complete_sandbox_payment
    from bench.consultations import _serve, _stop

    _policy(district_id, this_month)
    payer_id = _payer()
    paid = _open_orders(payer_id, REPLAY_ORDERS)
    for order_id in paid:
        complete_sandbox_payment(order_id, payer_id)
    _follow_up_all()
    script = work / "notify.lua"
    script.write_text(NOTIFY_SCRIPT)
    replays, firsts = work / "replays.tsv", work / "firsts.tsv"
    gunicorn = _serve([])
    try:
        ceiling = _wrk(f"http://127.0.0.1:{PORT}/_bench/ceiling", [])
        payments_before = db.session.scalar(select(func.count()).select_from(Payment))
        _notifications(paid, replays, replay=True)
        replay_rate, replay_requests = _wrk_notify(script, replays)
        replays_recorded = db.session.scalar(select(func.count()).select_from(Payment)) - payments_before
        db.session.rollback()
        batch = _open_orders(payer_id, math.ceil(replay_rate * _seconds(DURATION) * FIRST_ORDER_MARGIN))
        _notifications(batch, firsts, replay=False)
        first_rate, first_requests = _wrk_notify(script, firsts)
    finally:
        _stop(gunicorn)
    followed, follow_up_seconds = _follow_up_all()
    delivered = _payments_of(batch)
    failures = []
    if replays_recorded:
        failures.append(f"replays recorded {replays_recorded} payments")
    if len(delivered) < first_requests:
        failures.append(f"{len(delivered)} payments for {first_requests} first deliveries answered")
    if len(delivered) >= len(batch):
        failures.append(f"all {len(batch)} orders delivered: the run also sent replays")
    if not _paid_to_the_fen(delivered) or not _paid_to_the_fen(_payments_of(paid)):
        failures.append("a bill paid online does not add up to the fen")
    return {
        "ceiling": ceiling, "replay": replay_rate, "replay_requests": replay_requests, "first": first_rate,
        "first_requests": first_requests, "batch": len(batch), "delivered": len(delivered), "failures": failures,
        "follow_up_ms": 1000 * follow_up_seconds / followed if followed else 0.0,
    }


def _follow_up_all() -> tuple[int, float]:
    """What the workers do after a payment (its subsidy granted, its fund entries, 缴费成功), done here for every
    payment recorded, one by one in this process as a worker does them: how many, and the seconds taken."""
    from backend.services.payment_orders import follow_up_payment, payments_not_followed_up
    from backend.shared.clock import utcnow

    started, done = time.perf_counter(), 0
    while receipt_ids := payments_not_followed_up(utcnow() + timedelta(days=1)):
        for receipt_id in receipt_ids:
            follow_up_payment(receipt_id)
            done += 1
    return done, time.perf_counter() - started


def _seconds(duration: str) -> float:
    """wrk's duration ("10s", "1m") in seconds."""
    value, unit = float(duration[:-1]), duration[-1]
    return value * {"s": 1, "m": 60, "h": 3600}[unit]


# ---- run ---------------------------------------------------------------------------------------------------


def main() -> int:
    instance = Path(tempfile.mkdtemp(prefix="linli-bench-fees-"))
    os.environ.update(
        LINLI_INSTANCE_PATH=str(instance),
        LINLI_DATABASE_URL=fresh_database_url(instance, "bench_fees"),
        LINLI_REDIS_URL=_redis_url(instance),
        LINLI_PORT=str(PORT),
    )
    linli = str(Path(sys.executable).with_name("linli"))
    subprocess.run([linli, "init-db"], check=True, capture_output=True)

    from backend import create_app
    from backend.extensions import db
    from backend.shared.clock import SHANGHAI

    with create_app().app_context():
        today = datetime.now(SHANGHAI).date()
        started = time.perf_counter()
        district_id = _make_compounds(today)
        loaded = time.perf_counter() - started
        database = db.engine.dialect.name
        if database == "postgresql":
            _admin("VACUUM ANALYZE")
        issuing = _issuing(today)
        notify = _notify(district_id, today.replace(day=1), instance)
        db.session.remove()
    shutil.rmtree(instance, ignore_errors=True)
    return _report(database, loaded, issuing, notify)


def _report(database: str, loaded: float, issuing: dict, notify: dict) -> int:
    households = COMPOUNDS * HOUSEHOLDS_EACH
    service, raw = statistics.median(issuing["service"]), statistics.median(issuing["raw"])
    ratio = service / raw
    print(f"\n{households} households ({COMPOUNDS} compounds × {HOUSEHOLDS_EACH}), {database}, real Redis, "
          f"{os.cpu_count()} cores; data loaded in {loaded:.1f} s\n")
    print("| measure | median | runs | target |")
    print("| --- | ---: | --- | ---: |")
    print(f"| `issue_bills()`: {issuing['bills']} bills, {COMPOUNDS} compounds in batches of 5,000 | {service:.2f} s | "
          f"{', '.join(f'{seconds:.2f}' for seconds in issuing['service'])} s | |")
    print(f"| raw: one `INSERT … SELECT` of the same rows | {raw:.2f} s | "
          f"{', '.join(f'{seconds:.2f}' for seconds in issuing['raw'])} s | |")
    print(f"| ratio | {ratio:.2f}× | | ≤ {TARGET_ISSUE_RATIO:.0f}× |")
    print(f"| rerun of `issue_bills()` on the issued month (issues nothing) | {issuing['rerun']:.2f} s | | |")
    ceiling = notify["ceiling"]
    print(f"\ngunicorn 2 workers, wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}\n")
    print("| endpoint | req/s | ratio to ceiling | target |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| bare Flask JSON (ceiling) | {ceiling:.0f} | 1.00 | |")
    print(f"| `POST {NOTIFY_PATH}`, replays of {REPLAY_ORDERS} paid orders ({notify['replay_requests']} requests) | "
          f"{notify['replay']:.0f} | {notify['replay'] / ceiling:.2f} | ≥ {TARGET_NOTIFY_RATIO} |")
    print(f"| `POST {NOTIFY_PATH}`, first deliveries ({notify['first_requests']} requests, {notify['delivered']} "
          f"payments recorded of {notify['batch']} orders; then {notify['follow_up_ms']:.1f} ms each to follow up in "
          f"a worker) | {notify['first']:.0f} | {notify['first'] / ceiling:.2f} | "
          f"≥ {TARGET_NOTIFY_RATIO} |")
    for failure in notify["failures"]:
        print(f"\nCHECK FAILED: {failure}")
    met = record(f"issuing {issuing['bills']:,} bills ÷ raw INSERT … SELECT", ratio, TARGET_ISSUE_RATIO,
                 at_least=False, unit="×")
    met &= record("payment notification, replays: ratio to the ceiling", notify["replay"] / ceiling,
                  TARGET_NOTIFY_RATIO, at_least=True)
    met &= record("payment notification, first deliveries: ratio to the ceiling", notify["first"] / ceiling,
                  TARGET_NOTIFY_RATIO, at_least=True)
    failed = not met or bool(notify["failures"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
