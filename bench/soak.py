"""The soak with faults (issue 18, `make soak`; not part of `make test`): the city-size dataset under mixed traffic for
LINLI_SOAK_MINUTES (default 10) while Redis restarts, a worker is killed and PostgreSQL drops every connection, then
checked by counting.

Set-up, as production runs it on one machine: a redis-server of its own on 127.0.0.1:6391 with AOF (appendonly, fsync
every second), PostgreSQL database `linli_soak` (LINLI_SOAK_DATABASE_URL; created when missing, `linli init-db`,
then `linli demo --city`, which builds the city once and finds it on a rerun), `linli serve` (gunicorn,
deploy/gunicorn.conf.py: 2 workers × 4 threads) on port 5106, two `linli worker`s and one `linli cron`. The WeChat Pay
sandbox stands in for WeChat Pay (production mode refuses it), so LINLI_ENV stays unset.

Traffic: 2 owners per compound (4,000 people in 2,000 compounds) with bearer tokens (the home page: the cookie), one
operation at a time each, from an open-loop dispatcher into a bounded pool (at most POOL operations in flight; an
operation due while the pool is full is shed and counted). The mix, by operation: 80 % reads (the H5 compound home,
the work-order list, the topic list, my bills), 15 % writes (a work order, a comment on one of the compound's open
ballots, a vote or a changed vote), 5 % payments (a bill's payment started through the API, then WeChat Pay's signed
notification; every fourth sent twice, as WeChat Pay repeats itself).

1. Ramp: RAMP_SECONDS at each rate of RAMP_RATES, stopping at the first whose p99 reaches TARGET_P99_MS or that
   sheds; the soak runs at the highest rate that held.
2. Soak at that rate. At a quarter of it Redis is shut down and started again (SHUTDOWN writes the AOF), at half one
   `linli worker` (preferably one RQ records busy with a job) is killed with SIGKILL together with its work horse
   (its process group, as the OOM killer or systemd would) and started again, at three quarters every connection
   to the database is terminated (pg_terminate_backend). A fault's seconds run from its start to FAULT_GRACE after
   the service is back.
3. Checks (exit 1 on any miss): every acknowledged work order, comment and vote is in the database (a household's
   stored vote is its last acknowledged one); every acknowledged notification recorded exactly one payment per bill,
   the bill paid to the fen, duplicates none; each new work order's notice reached its compound's staff member
   exactly once, and every push of the run's notices was sent once (the workers' logs against the deliveries); the
   queues (high, default, low, their started registries and the outbox) drain within DRAIN_SECONDS, nothing failed
   and the killed worker's job finished; the RSS of the gunicorn workers and of the `linli worker`s grew < 10 %
   from the end of the first tenth of the soak to its end; no 5xx outside the faults' seconds, and inside them only
   503s with the error shape; p99 outside the faults' seconds < TARGET_P99_MS. The machine is shared: the load
   average is sampled.

The figures are printed as a markdown section (docs/issue18/soak.md holds the real run's)."""
from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis

from bench.run import ROOT, _wait_until_up

MINUTES = float(os.environ.get("LINLI_SOAK_MINUTES", "10"))
PORT = int(os.environ.get("LINLI_SOAK_PORT", "5106"))
REDIS_PORT = int(os.environ.get("LINLI_SOAK_REDIS_PORT", "6391"))
DATABASE_URL = os.environ.get("LINLI_SOAK_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/linli_soak")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PARTICIPANTS_PER_COMPOUND = 2
POOL = 48
RAMP_RATES = tuple(int(rate) for rate in
                   os.environ.get("LINLI_SOAK_RAMP", "3,5,8,10,15,20,25,30,40,50,60").split(","))
RAMP_SECONDS = float(os.environ.get("LINLI_SOAK_RAMP_SECONDS", "20"))
TARGET_P99_MS = 300.0
MEMORY_GROWTH = 0.10
FAULT_GRACE = 5.0
REDIS_DOWN_SECONDS = 3.0
HORSE_WAIT = 30.0
# A job lost with a killed worker is pushed again by cron's outbox relay REPUSH_AFTER (10 min) after its push.
DRAIN_SECONDS = 720.0
SAMPLE_EVERY = 5.0
# Operation weights in percent: 80 reads, 15 writes, 5 payments.
MIX = {"home": 25, "work_orders": 20, "topics": 15, "bills": 20,
       "submit_order": 6, "comment": 4, "vote": 5,
       "payment": 5}
WRITES = ("submit_order", "comment", "vote")
READS = ("home", "work_orders", "topics", "bills")
NOTIFY_PATH = "/api/v1/payments/wechat/notify"
SEED = 18


# ---- the people and what they do ---------------------------------------------------------------------------


@dataclass
class Participant:
    user_id: int
    compound_id: int
    code: str
    household_id: int
    openid: str
    # (topic id, option ids) of the compound's two open ballots.
    ballots: list[tuple[int, list[int]]]
    unpaid: list[int]
    token: str = ""
    busy: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Answer:
    kind: str
    status: int  # 0: no answer (connection refused or reset)
    started: float
    ended: float
    shaped: bool  # a JSON error of the project's shape

    @property
    def ms(self) -> float:
        return (self.ended - self.started) * 1000


@dataclass
class Ledger:
    """What the load generator was told: the writes acknowledged (and those sent without an answer)."""

    answers: list[Answer] = field(default_factory=list)
    work_orders: list[int] = field(default_factory=list)
    comments: list[int] = field(default_factory=list)
    # (topic, household) → [(option, acknowledged)] in the order sent (one operation at a time per person).
    votes: dict[tuple[int, int], list[tuple[int, bool]]] = field(default_factory=lambda: defaultdict(list))
    # order id → (bill ids, amount, notifications sent, notifications acknowledged)
    orders: dict[int, list] = field(default_factory=dict)
    unanswered_writes: Counter = field(default_factory=Counter)
    shed: int = 0
    operations: Counter = field(default_factory=Counter)
    pushes: dict = field(default_factory=dict)


class Client:
    """A fresh connection per request (`Connection: close`): a kept-alive one that gunicorn closed while idle (its
    keepalive is 2 s) would fail a request the server never saw, and a retry could send a write twice."""

    def __init__(self, ledger: Ledger):
        self.ledger = ledger

    def call(self, kind: str, method: str, path: str, *, token: str = "", cookie: str = "", body: bytes | None = None,
             headers: dict | None = None) -> tuple[int, dict | None]:
        sent = {"Connection": "close"}
        if body is not None:
            sent["Content-Type"] = "application/json"
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if cookie:
            sent["Cookie"] = f"access_token_cookie={cookie}"
        sent.update(headers or {})
        started = time.monotonic()
        status, payload, shaped = 0, None, False
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            raw = response.read()
            status = response.status
            content_type = response.getheader("Content-Type", "")
            if content_type.startswith("application/json"):
                payload = json.loads(raw)
                shaped = isinstance(payload, dict) and payload.get("code") == status and "message" in payload
            else:
                # A page's error is the Chinese error page (backend/errors.py), not JSON.
                shaped = content_type.startswith("text/html") and "服务暂时不可用".encode() in raw
        except (OSError, http.client.HTTPException, ValueError):
            pass  # counted below as no answer (status 0)
        finally:
            connection.close()
        self.ledger.answers.append(Answer(kind, status, started, time.monotonic(), shaped))
        return status, payload


class Traffic:
    """The operations of the mix, each for one participant."""

    def __init__(self, client: Client, ledger: Ledger, sign, rng: random.Random):
        self.client, self.ledger, self.sign, self.rng = client, ledger, sign, rng
        self.payments = 0

    def home(self, p: Participant) -> None:
        self.client.call("home", "GET", f"/h5/c/{p.code}", cookie=p.token)

    def work_orders(self, p: Participant) -> None:
        self.client.call("work_orders", "GET", f"/api/v1/compounds/{p.compound_id}/work-orders?page_size=20",
                         token=p.token)

    def topics(self, p: Participant) -> None:
        self.client.call("topics", "GET", f"/api/v1/compounds/{p.compound_id}/topics", token=p.token)

    def bills(self, p: Participant) -> None:
        self.client.call("bills", "GET", f"/api/v1/compounds/{p.compound_id}/my-bills", token=p.token)

    def submit_order(self, p: Participant) -> None:
        body = {"category": "公共设施", "description": f"楼道灯不亮（{uuid.uuid4().hex[:8]}）",
                "household_id": p.household_id}
        status, payload = self.client.call("submit_order", "POST", f"/api/v1/compounds/{p.compound_id}/work-orders",
                                           token=p.token, body=json.dumps(body).encode())
        self._acknowledged("submit_order", status, payload, self.ledger.work_orders)

    def comment(self, p: Participant) -> None:
        topic_id, _ = self.rng.choice(p.ballots)
        body = {"body": f"支持，早点定下来（{uuid.uuid4().hex[:8]}）", "parent_id": None}
        status, payload = self.client.call("comment", "POST", f"/api/v1/topics/{topic_id}/comments", token=p.token,
                                           body=json.dumps(body).encode())
        self._acknowledged("comment", status, payload, self.ledger.comments)

    def vote(self, p: Participant) -> None:
        topic_id, options = self.rng.choice(p.ballots)
        option_id = self.rng.choice(options)
        body = {"option_id": option_id, "household_id": p.household_id}
        status, _ = self.client.call("vote", "PUT", f"/api/v1/topics/{topic_id}/vote", token=p.token,
                                     body=json.dumps(body).encode())
        self.ledger.votes[(topic_id, p.household_id)].append((option_id, status == 200))
        if status == 0 or status >= 500:
            self.ledger.unanswered_writes["vote"] += 1

    def payment(self, p: Participant) -> None:
        if not p.unpaid:
            self.bills(p)
            return
        bill_id = p.unpaid.pop()
        status, payload = self.client.call("payment_start", "POST", f"/api/v1/bills/{bill_id}/payments",
                                           token=p.token)
        if status != 201 or not payload or not payload.get("order"):
            if status == 0 or status >= 500:
                p.unpaid.append(bill_id)  # nothing was opened that the checks need to find; try it again later
            return
        order = payload["order"]
        self.payments += 1
        record = self.ledger.orders[order["id"]] = [[line["bill_id"] for line in order["lines"]], order["amount_fen"],
                                                    0, 0]
        headers, body = self.sign(order["out_trade_no"], f"42000{order['id']:023d}", order["amount_fen"], p.openid)
        for _ in range(2 if self.payments % 4 == 0 else 1):
            status, _ = self.client.call("payment_notify", "POST", NOTIFY_PATH, body=body, headers=headers)
            record[2] += 1
            record[3] += status == 200

    def _acknowledged(self, kind: str, status: int, payload: dict | None, ids: list[int]) -> None:
        if status == 201 and payload:
            ids.append(payload["id"])
        elif status == 0 or status >= 500:
            self.ledger.unanswered_writes[kind] += 1


def _participants(app) -> list[Participant]:
    """Two owners per city compound, their household, the compound's open ballots and their unpaid bills that no
    order holds yet (a rerun picks bills the last run left unpaid)."""
    from sqlalchemy import text

    from backend.demo.city import OWNER_PREFIX
    from backend.extensions import db

    with app.app_context():
        rows = db.session.execute(text(
            "SELECT DISTINCT ON (m.compound_id, m.household_id % :each) m.user_id, m.compound_id, c.code, "
            "m.household_id, w.openid FROM memberships m JOIN users u ON u.id = m.user_id "
            "AND u.username LIKE :owner || '%' JOIN compounds c ON c.id = m.compound_id "
            "JOIN wechat_accounts w ON w.user_id = m.user_id WHERE m.role = 'owner' "
            "ORDER BY m.compound_id, m.household_id % :each, m.household_id"),
            {"each": PARTICIPANTS_PER_COMPOUND, "owner": OWNER_PREFIX}).all()
        options: dict[int, list[tuple[int, list[int]]]] = defaultdict(list)
        for topic_id, compound_id, option_ids in db.session.execute(text(
                "SELECT t.id, t.compound_id, array_agg(o.id ORDER BY o.position) FROM topics t "
                "JOIN ballot_options o ON o.topic_id = t.id WHERE t.step = 'voting' AND t.ballot_closes_at > now() "
                "GROUP BY t.id")):
            options[compound_id].append((topic_id, list(option_ids)))
        unpaid: dict[int, list[int]] = defaultdict(list)
        for bill_id, household_id in db.session.execute(text(
                "SELECT b.id, b.household_id FROM bills b WHERE b.household_id = ANY(:households) "
                "AND b.status = 'unpaid' AND NOT EXISTS (SELECT 1 FROM payment_order_bills o WHERE o.bill_id = b.id)"),
                {"households": [row.household_id for row in rows]}):
            unpaid[household_id].append(bill_id)
        db.session.rollback()
    return [Participant(row.user_id, row.compound_id, row.code, row.household_id, row.openid,
                        options[row.compound_id], unpaid[row.household_id])
            for row in rows if len(options[row.compound_id]) == 2]


def _tokens(app, participants: list[Participant]) -> None:
    from sqlalchemy import select

    from backend.extensions import db
    from backend.models import User
    from backend.services.auth import issue_tokens

    with app.app_context():
        by_id = {p.user_id: p for p in participants}
        for user in db.session.scalars(select(User).where(User.id.in_(list(by_id)))):
            by_id[user.id].token = issue_tokens(user)[0]
        db.session.rollback()


# ---- load ------------------------------------------------------------------------------------------------


class Dispatcher:
    """Open loop: operations are due at `rate` per second whatever the answers; at most POOL run at once."""

    def __init__(self, traffic: Traffic, participants: list[Participant], ledger: Ledger, rng: random.Random):
        self.traffic, self.participants, self.ledger, self.rng = traffic, participants, ledger, rng
        # A payment goes to someone with a bill left to pay (who has paid them all reads their bills instead).
        self.payers = [participant for participant in participants if participant.unpaid]
        self.pool = ThreadPoolExecutor(max_workers=POOL)
        self.slots = threading.BoundedSemaphore(POOL)
        self.kinds = list(MIX)
        self.weights = [MIX[kind] for kind in self.kinds]

    def run(self, rate: float, seconds: float) -> None:
        started = time.monotonic()
        due = started
        while due < started + seconds:
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            due += 1 / rate
            if not self.slots.acquire(blocking=False):
                self.ledger.shed += 1
                continue
            kind = self.rng.choices(self.kinds, self.weights)[0]
            participant = self._free_participant(self.payers if kind == "payment" else self.participants)
            if participant is None:
                self.slots.release()
                self.ledger.shed += 1
                continue
            self.ledger.operations[kind] += 1
            self.pool.submit(self._one, kind, participant)

    def _free_participant(self, among: list[Participant]) -> Participant | None:
        for _ in range(20):
            participant = self.rng.choice(among)
            if participant.busy.acquire(blocking=False):
                return participant
        return None

    def _one(self, kind: str, participant: Participant) -> None:
        try:
            getattr(self.traffic, kind)(participant)
        except Exception as error:  # noqa: BLE001 - a generator bug must show, not stop the soak silently
            print(f"operation {kind} failed in the generator: {error!r}", file=sys.stderr)
        finally:
            participant.busy.release()
            self.slots.release()

    def drain(self) -> None:
        for _ in range(POOL):
            self.slots.acquire()
        for _ in range(POOL):
            self.slots.release()


def _p99(answers: list[Answer]) -> float:
    if len(answers) < 2:
        return answers[0].ms if answers else 0.0
    return statistics.quantiles([answer.ms for answer in answers], n=100, method="inclusive")[98]


def _ramp(dispatcher: Dispatcher, ledger: Ledger) -> tuple[float, list[dict]]:
    steps, held = [], 0.0
    for rate in RAMP_RATES:
        first, shed = len(ledger.answers), ledger.shed
        dispatcher.run(rate, RAMP_SECONDS)
        dispatcher.drain()
        answers = ledger.answers[first:]
        step = {"rate": rate, "requests": len(answers), "p99": _p99(answers), "shed": ledger.shed - shed,
                "errors": sum(1 for answer in answers if answer.status == 0 or answer.status >= 500),
                "load": os.getloadavg()[0]}
        steps.append(step)
        print(f"ramp {rate}/s: {step['requests']} requests, p99 {step['p99']:.0f} ms, shed {step['shed']}, "
              f"5xx/no answer {step['errors']}, load {step['load']:.1f}", flush=True)
        if step["p99"] >= TARGET_P99_MS or step["shed"] or step["errors"]:
            break
        held = rate
    return held, steps


# ---- the system and its faults -------------------------------------------------------------------------


class System:
    """redis-server, `linli serve`, two `linli worker`s and `linli cron`, each in its own process group."""

    def __init__(self, instance: Path, env: dict[str, str]):
        self.instance, self.env = instance, env
        self.linli = str(Path(sys.executable).with_name("linli"))
        self.logs = instance / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        for old in self.logs.glob("*.log"):
            old.unlink()
        self.redis_dir = instance / "redis"
        self.redis_dir.mkdir(exist_ok=True)
        self.redis: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.cron: subprocess.Popen | None = None

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("ab")
        return subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def start_redis(self) -> None:
        self.redis = self._spawn("redis", [
            "redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--dir", str(self.redis_dir),
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no"])
        client = redis.Redis(port=REDIS_PORT, socket_connect_timeout=1)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.1)
        raise SystemExit(f"redis-server did not come up on :{REDIS_PORT}")

    def stop_redis(self) -> None:
        """SHUTDOWN: the AOF is written and closed, as `systemctl restart redis` does."""
        with contextlib.suppress(redis.ConnectionError):  # SHUTDOWN closes the connection it came on
            redis.Redis(port=REDIS_PORT).shutdown()
        self.redis.wait(timeout=30)

    def start_worker(self) -> subprocess.Popen:
        worker = self._spawn(f"worker-{len(self.workers) + 1}", [self.linli, "worker"])
        self.workers.append(worker)
        return worker

    def start(self) -> None:
        self.start_redis()
        self.web = self._spawn("web", [self.linli, "serve"])
        for _ in range(2):
            self.start_worker()
        self.cron = self._spawn("cron", [self.linli, "cron"])
        _wait_until_up(f"http://127.0.0.1:{PORT}")

    def live_workers(self) -> list[subprocess.Popen]:
        return [worker for worker in self.workers if worker.poll() is None]

    def web_workers(self) -> list[int]:
        return _children(self.web.pid)

    def stop(self) -> None:
        for process in [self.web, self.cron, *self.workers]:
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in [self.web, self.cron, *self.workers]:
            if process is not None:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        if self.redis is not None and self.redis.poll() is None:
            self.stop_redis()


@dataclass(frozen=True)
class Fault:
    name: str
    started: float
    recovered: float
    abandoned_job: str | None = None

    def covers(self, moment: float) -> bool:
        return self.started <= moment <= self.recovered + FAULT_GRACE


def _redis_restart(system: System) -> Fault:
    started = time.monotonic()
    system.stop_redis()
    time.sleep(REDIS_DOWN_SECONDS)
    system.start_redis()
    return Fault("Redis restarted (SHUTDOWN, 3 s down, started again on its AOF)", started, time.monotonic())


def _worker_killed(system: System) -> Fault:
    """Preferably a worker in the middle of a job (RQ's own record says busy with a current job; waited for up to
    HORSE_WAIT seconds): the job is abandoned, and RQ must run it again without anyone getting a notice twice."""
    from rq import Worker

    started = time.monotonic()
    connection = redis.Redis(port=REDIS_PORT)
    victim, job_id = system.live_workers()[0], None
    while job_id is None and time.monotonic() < started + HORSE_WAIT:
        processes = {process.pid: process for process in system.live_workers()}
        for worker in Worker.all(connection=connection):
            if worker.pid in processes and worker.get_state() == "busy" and worker.get_current_job_id():
                victim, job_id = processes[worker.pid], worker.get_current_job_id()
                break
        else:
            time.sleep(0.02)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    system.start_worker()
    doing = f"while RQ recorded it busy with job {job_id}" if job_id else "idle"
    return Fault(f"a `linli worker` SIGKILLed with its work horse ({doing}), then started again", started,
                 time.monotonic(), job_id)


def _children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(child) for child in children.read_text().split()]
    except OSError:
        return []


def _connections_terminated(database: str) -> Fault:
    started = time.monotonic()
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        terminated = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s "
            "AND pid <> pg_backend_pid()", (database,)).fetchone()[0]
    return Fault(f"every PostgreSQL connection terminated ({terminated} backends)", started, time.monotonic())


class Sampler(threading.Thread):
    """RSS of the web and worker processes and the load average, every SAMPLE_EVERY seconds."""

    def __init__(self, system: System):
        super().__init__(daemon=True)
        self.system = system
        self.rss: dict[str, dict[int, list[tuple[float, int]]]] = {"web": defaultdict(list),
                                                                    "worker": defaultdict(list)}
        self.load: list[float] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(SAMPLE_EVERY):
            self.sample()

    def sample(self) -> None:
        now = time.monotonic()
        groups = {"web": self.system.web_workers(), "worker": [w.pid for w in self.system.live_workers()]}
        for group, pids in groups.items():
            for pid in pids:
                rss = _rss_kib(pid)
                if rss:
                    self.rss[group][pid].append((now, rss))
        self.load.append(os.getloadavg()[0])

    def growth(self, group: str, since: float) -> tuple[int, int]:
        """RSS (KiB) summed over the processes alive from `since` to the end: at their first sample from `since`,
        and at their last."""
        first = last = 0
        for samples in self.rss[group].values():
            after = [sample for sample in samples if sample[0] >= since]
            if samples[0][0] <= since and len(after) >= 2:
                first += after[0][1]
                last += after[-1][1]
        return first, last


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# ---- checks by counting -----------------------------------------------------------------------------------


def _drained(app, since) -> tuple[bool, dict]:
    """Wait until the queues, their started registries and the outbox rows written since `since` are empty."""
    from rq import Queue
    from rq.registry import FailedJobRegistry, StartedJobRegistry
    from sqlalchemy import text

    from backend.extensions import db
    from backend.services.queueing import QUEUES

    connection = redis.Redis(port=REDIS_PORT)
    deadline = time.monotonic() + DRAIN_SECONDS
    started = time.monotonic()
    while True:
        queued = sum(len(Queue(name, connection=connection)) for name in QUEUES)
        running = sum(len(StartedJobRegistry(name, connection=connection)) for name in QUEUES)
        with app.app_context():
            waiting, failed_rows = db.session.execute(text(
                "SELECT count(*) FILTER (WHERE done_at IS NULL AND failed_at IS NULL), "
                "count(*) FILTER (WHERE failed_at IS NOT NULL) FROM outbox_jobs WHERE created_at >= :since"),
                {"since": since}).one()
            db.session.rollback()
        if not (queued or running or waiting) or time.monotonic() > deadline:
            break
        time.sleep(2)
    failed = sum(len(FailedJobRegistry(name, connection=connection)) for name in QUEUES)
    state = {"queued": queued, "running": running, "outbox_waiting": waiting, "outbox_failed": failed_rows,
             "failed_jobs": failed, "seconds": time.monotonic() - started}
    return not (queued or running or waiting or failed or failed_rows), state


def _job_status(job_id: str) -> str:
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        status = Job.fetch(job_id, connection=redis.Redis(port=REDIS_PORT)).get_status()
        return status.value if status is not None else "gone"
    except NoSuchJobError:
        return "gone"


def _count(app, ledger: Ledger, since, logs: Path) -> list[str]:
    """Every acknowledged write found, payments once, each new order's notice in one inbox, every push of the
    notices since `since` settled and sent once (the workers' logs against the deliveries marked sent); the
    misses."""
    from sqlalchemy import text

    from backend.extensions import db

    misses = []
    with app.app_context():
        run = db.session.execute
        found = run(text("SELECT count(*) FROM work_orders WHERE id = ANY(:ids)"),
                    {"ids": ledger.work_orders}).scalar()
        if found != len(ledger.work_orders):
            misses.append(f"{len(ledger.work_orders) - found} acknowledged work orders missing")
        found = run(text("SELECT count(*) FROM topic_comments WHERE id = ANY(:ids)"), {"ids": ledger.comments}).scalar()
        if found != len(ledger.comments):
            misses.append(f"{len(ledger.comments) - found} acknowledged comments missing")
        keys = [(topic, household) for topic, household in ledger.votes]
        stored = {(row.topic_id, row.household_id): row for row in run(text(
            "SELECT v.topic_id, v.household_id, v.option_id, (SELECT count(*) FROM vote_casts c "
            "WHERE c.topic_id = v.topic_id AND c.household_id = v.household_id) AS casts FROM votes v "
            "JOIN unnest(CAST(:topics AS int[]), CAST(:households AS int[])) k(topic_id, household_id) "
            "ON k.topic_id = v.topic_id AND k.household_id = v.household_id"),
            {"topics": [k[0] for k in keys], "households": [k[1] for k in keys]})}
        lost = wrong = 0
        for key, sent in ledger.votes.items():
            acknowledged = [option for option, ok in sent if ok]
            row = stored.get(key)
            if acknowledged and row is None:
                lost += 1
            elif acknowledged and sent[-1][1] and row.option_id != sent[-1][0]:
                wrong += 1
        if lost or wrong:
            misses.append(f"votes: {lost} acknowledged households without a vote, {wrong} not holding the last "
                          "acknowledged choice")
        orders = {order_id: record for order_id, record in ledger.orders.items() if record[3]}
        payments = defaultdict(list)
        for row in run(text(
                "SELECT p.order_id, p.bill_id, p.amount_fen, b.status, b.paid_fen, b.amount_fen AS bill_fen "
                "FROM payments p JOIN bills b ON b.id = p.bill_id WHERE p.order_id = ANY(:ids)"),
                {"ids": list(ledger.orders)}):
            payments[row.order_id].append(row)
        twice = [order_id for order_id, rows in payments.items()
                 if len(rows) != len({row.bill_id for row in rows}) or len(rows) > len(ledger.orders[order_id][0])]
        missing = [order_id for order_id, record in orders.items() if len(payments.get(order_id, [])) != len(record[0])]
        unpaid = [row for rows in payments.values() for row in rows
                  if row.status != "paid" or row.paid_fen != row.bill_fen]
        if twice or missing or unpaid:
            misses.append(f"payments: {len(missing)} acknowledged orders without their payment, {len(twice)} paid "
                          f"twice, {len(unpaid)} bills not paid to the fen")
        delivered = dict(run(text(
            "SELECT n.dedupe_key, count(*) FROM notifications n WHERE n.dedupe_key = ANY(:keys) GROUP BY n.dedupe_key"),
            {"keys": [f"wo-{order_id}-new" for order_id in ledger.work_orders]}).all())
        undelivered = sum(1 for order_id in ledger.work_orders if f"wo-{order_id}-new" not in delivered)
        doubled = sum(1 for count in delivered.values() if count != 1)
        if undelivered or doubled:
            misses.append(f"notifications: {undelivered} new orders' notices not delivered, {doubled} delivered to "
                          "more or fewer than one staff member")
        pushes = dict(run(text(
            "SELECT d.status, count(*) FROM deliveries d JOIN notifications n ON n.id = d.notification_id "
            "WHERE n.created_at >= :since GROUP BY d.status"), {"since": since}).all())
        db.session.rollback()
    sent = sum(_sends(path) for path in logs.glob("worker-*.log"))
    ledger.pushes = {**pushes, "sends logged": sent}
    if set(pushes) - {"sent", "declined"}:
        misses.append(f"pushes not settled: {pushes}")
    if sent != pushes.get("sent", 0):
        misses.append(f"{sent} pushes sent by the workers for {pushes.get('sent', 0)} deliveries marked sent")
    return misses


def _sends(log: Path) -> int:
    """The pushes a worker's log shows sent (the sandbox providers log each message they would send)."""
    with log.open(encoding="utf-8", errors="replace") as lines:
        return sum(1 for line in lines if ("sandbox WeChat" in line and " message to " in line)
                   or ("sandbox SMS to" in line and "验证码" not in line))


# ---- run ------------------------------------------------------------------------------------------------


def _database() -> str:
    name = DATABASE_URL.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f"CREATE DATABASE {name}")
    return name


def main() -> int:
    instance = Path(os.environ.get("LINLI_SOAK_INSTANCE") or tempfile.mkdtemp(prefix="linli-soak-"))
    database = _database()
    env = dict(os.environ, LINLI_INSTANCE_PATH=str(instance), LINLI_DATABASE_URL=DATABASE_URL,
               LINLI_REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/0", LINLI_PORT=str(PORT), LINLI_WEB_WORKERS="2")
    os.environ.update(env)
    system = System(instance, env)
    system.start_redis()
    linli = system.linli
    subprocess.run([linli, "init-db"], env=env, check=True, capture_output=True)
    started = time.monotonic()
    built = subprocess.run([linli, "demo", "--city"], env=env, check=True, capture_output=True, text=True).stdout
    print(built.strip().splitlines()[-1], f"({time.monotonic() - started:.0f} s)", flush=True)
    system.stop_redis()

    from backend import create_app
    from backend.services.payment_provider import wechat_pay
    from backend.shared.clock import utcnow

    app = create_app()
    participants = _participants(app)
    with app.app_context():
        sign = wechat_pay().signed_notification  # the sandbox's keys exist before the web workers read them
    print(f"{len(participants)} participants, {sum(len(p.unpaid) for p in participants)} unpaid bills to pay",
          flush=True)
    system.start()
    sampler = Sampler(system)
    try:
        _tokens(app, participants)
        # Pushes are counted from here: the ramp's notices may be sent during the soak.
        since = utcnow()
        ledger = Ledger()
        rng = random.Random(SEED)
        dispatcher = Dispatcher(Traffic(Client(ledger), ledger, sign, rng), participants, ledger, rng)
        rate, steps = _ramp(dispatcher, ledger)
        if not rate:
            print("not even the lowest rate held: soaking at it anyway", flush=True)
            rate = RAMP_RATES[0]
        soak_ledger = Ledger()
        client = Client(soak_ledger)
        dispatcher = Dispatcher(Traffic(client, soak_ledger, sign, rng), participants, soak_ledger, rng)
        seconds = MINUTES * 60
        load_before = os.getloadavg()
        cpu_before = _cpu_seconds()
        sampler.start()
        begun = time.monotonic()
        faults: list[Fault] = []
        plan = ((0.25, lambda: _redis_restart(system)), (0.5, lambda: _worker_killed(system)),
                (0.75, lambda: _connections_terminated(database)))

        def inject() -> None:
            for share, fault in plan:
                pause = begun + share * seconds - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                faults.append(fault())
                print(f"fault at {time.monotonic() - begun:.0f} s: {faults[-1].name}", flush=True)

        injector = threading.Thread(target=inject, daemon=True)
        injector.start()
        print(f"soak: {rate}/s for {MINUTES:g} min", flush=True)
        dispatcher.run(rate, seconds)
        dispatcher.drain()
        injector.join()
        sampler.sample()
        ended = time.monotonic()
        generator_cpu = _cpu_seconds() - cpu_before
        sampler.stopping.set()
        drained, queues = _drained(app, since)
        for fault in faults:
            if fault.abandoned_job:
                queues["abandoned job"] = f"{fault.abandoned_job}: {_job_status(fault.abandoned_job)}"
        misses = _count(app, soak_ledger, since, system.logs)
        web = sampler.growth("web", begun + seconds / 10)
        workers = sampler.growth("worker", begun + seconds / 10)
    finally:
        sampler.stopping.set()
        system.stop()
    return _report(rate, steps, soak_ledger, faults, begun, ended, drained, queues, misses, web, workers,
                   load_before, sampler.load, generator_cpu, instance)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _report(rate, steps, ledger: Ledger, faults: list[Fault], begun: float, ended: float, drained: bool,
            queues: dict, misses: list[str], web: tuple[int, int], workers: tuple[int, int], load_before, loads,
            generator_cpu: float, instance: Path) -> int:
    answers = ledger.answers
    in_fault = [any(f.covers(a.started) or f.covers(a.ended) for f in faults) for a in answers]
    inside = [a for a, covered in zip(answers, in_fault, strict=True) if covered]
    outside = [a for a, covered in zip(answers, in_fault, strict=True) if not covered]
    failures = list(misses)
    bad_outside = Counter(a.status for a in outside if a.status == 0 or a.status >= 500)
    bad_inside = Counter((a.status, a.shaped) for a in inside if a.status == 0 or a.status >= 500)
    if bad_outside:
        failures.append(f"outside the faults' seconds: {dict(bad_outside)} (status: count; 0 = no answer)")
    if any(status != 503 or not shaped for status, shaped in bad_inside):
        failures.append(f"inside the faults' seconds, answers other than a shaped 503: {dict(bad_inside)}")
    if not drained:
        failures.append(f"the queues did not drain cleanly: {queues}")
    if "abandoned job" in queues and not queues["abandoned job"].endswith("finished"):
        failures.append(f"the killed worker's job did not finish: {queues['abandoned job']}")
    growth = {name: (last / first - 1 if first else float("nan")) for name, (first, last) in
              (("web", web), ("worker", workers))}
    for name, grown in growth.items():
        if not grown < MEMORY_GROWTH:
            failures.append(f"{name} RSS grew {grown:.1%}")
    p99_outside = _p99(outside)
    if p99_outside >= TARGET_P99_MS:
        failures.append(f"p99 outside the faults' seconds {p99_outside:.0f} ms ≥ {TARGET_P99_MS:.0f} ms")
    duration = ended - begun
    print(f"\n## Soak with faults (issue 18), {MINUTES:g} min at {rate} operations/s\n")
    print("`make soak` (bench/soak.py): city of 2,000 compounds / 200,000 households on PostgreSQL, gunicorn 2 "
          f"workers × 4 threads, 2 `linli worker`s, 1 `linli cron`, redis-server with AOF; {os.cpu_count()} cores "
          f"shared with other sessions: load average {load_before[0]:.1f} before, {statistics.mean(loads):.1f} mean and "
          f"{max(loads):.1f} max during the soak (1-minute).\n")
    print(f"Ramp (each step {RAMP_SECONDS:g} s; the soak runs at the highest rate that held p99 < "
          f"{TARGET_P99_MS:.0f} ms with nothing shed and no 5xx):\n")
    print("| operations/s | requests | p99 | shed | 5xx or no answer | load |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for step in steps:
        print(f"| {step['rate']} | {step['requests']} | {step['p99']:.0f} ms | {step['shed']} | {step['errors']} | "
              f"{step['load']:.1f} |")
    print(f"\nSoak: {sum(ledger.operations.values())} operations ({dict(ledger.operations)}), {len(answers)} "
          f"requests in {duration:.0f} s ({len(answers) / duration:.1f} req/s), {ledger.shed} shed; the load "
          f"generator itself used {generator_cpu / duration:.1%} of a core.\n")
    print("| request | count | p50 | p95 | p99 | 5xx | no answer |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    by_kind = defaultdict(list)
    for answer in answers:
        by_kind[answer.kind].append(answer)
    for kind in (*READS, *WRITES, "payment_start", "payment_notify"):
        group = by_kind.get(kind, [])
        if not group:
            continue
        ms = sorted(a.ms for a in group)
        print(f"| {kind} | {len(group)} | {ms[len(ms) // 2]:.0f} ms | {ms[int(len(ms) * 0.95)]:.0f} ms | "
              f"{_p99(group):.0f} ms | {sum(1 for a in group if a.status >= 500)} | "
              f"{sum(1 for a in group if a.status == 0)} |")
    statuses = Counter(a.status for a in answers)
    print(f"| all, outside the faults' seconds | {len(outside)} | | | {p99_outside:.0f} ms | | |")
    print(f"\nStatuses: {dict(sorted(statuses.items()))}.\n")
    print("| fault | at | back after | requests in its seconds | 5xx / no answer there |")
    print("| --- | ---: | ---: | ---: | --- |")
    for fault in faults:
        there = [a for a in inside if fault.covers(a.started) or fault.covers(a.ended)]
        bad = Counter(f"{a.status}{'' if a.shaped or a.status == 0 else ' unshaped'}" for a in there
                      if a.status == 0 or a.status >= 500)
        print(f"| {fault.name} | {fault.started - begun:.0f} s | {fault.recovered - fault.started:.1f} s | "
              f"{len(there)} | {dict(bad) or 'none'} |")
    acknowledged_orders = sum(1 for record in ledger.orders.values() if record[3])
    print(f"\nCounted afterwards: {len(ledger.work_orders)} work orders, {len(ledger.comments)} comments, "
          f"{sum(ok for sent in ledger.votes.values() for _, ok in sent)} votes acknowledged "
          f"({sum(len(s) for s in ledger.votes.values())} sent, {len(ledger.votes)} households × ballots); "
          f"{acknowledged_orders} payments acknowledged of {len(ledger.orders)} orders opened "
          f"({sum(record[2] for record in ledger.orders.values())} notifications sent, duplicates included); "
          f"unanswered writes {dict(ledger.unanswered_writes) or 'none'}. Pushes of the notices since the ramp began "
          f"(deliveries by status, and the sends in the workers' logs): {ledger.pushes}. Queues after the traffic: "
          f"{queues}.")
    print(f"RSS from the end of the first tenth to the end: web workers {web[0] / 1024:.0f} → {web[1] / 1024:.0f} MiB "
          f"({growth['web']:+.1%}), `linli worker`s {workers[0] / 1024:.0f} → {workers[1] / 1024:.0f} MiB "
          f"({growth['worker']:+.1%}); target < {MEMORY_GROWTH:.0%}.")
    print("\n" + ("All checks passed." if not failures else "CHECKS FAILED:\n- " + "\n- ".join(failures)))
    print(f"(logs: {instance / 'logs'})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
