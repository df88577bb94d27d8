"""The sign-in cache across processes: gunicorn with two workers, each keeping its own verified tokens and roles.
A revoked token, a deactivated person, a removed role and a granted one change the very next answer of every
worker, and a token whose signature a worker has verified is still refused once it expires.

Which worker answered is read from gunicorn's access log (`%(p)s`, the worker's pid); each check sends requests
on fresh connections until both workers have answered, and asserts every answer."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from flask_jwt_extended import create_access_token

from backend.demo import factories
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Compound, Membership, User
from tests.support import TEST_PASSWORD

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parent.parent
PORT = 5611 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
BASE = f"http://127.0.0.1:{PORT}"
LIFETIME_SECONDS = 4


class TwoWorkers:
    def __init__(self, log: Path):
        self.log = log

    def ask(self, path: str, token: str, probe: str, method: str = "GET") -> int:
        request = urllib.request.Request(BASE + path, method=method,
                                         headers={"Authorization": f"Bearer {token}", "X-Probe": probe})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def answers(self, path: str, token: str, probe: str) -> dict[str, set[int]]:
        """The statuses each worker gave for `path`, asked until both workers answered (fresh connections). Bounded
        by time, not by a number of rounds: a worker still starting its app (seconds on a busy machine) leaves every
        request to the other, however many are sent."""
        deadline = time.monotonic() + 90
        with ThreadPoolExecutor(4) as pool:
            while True:
                list(pool.map(lambda _: self.ask(path, token, probe), range(4)))
                by_worker = self._logged(probe)
                if len(by_worker) == 2:
                    return by_worker
                if time.monotonic() > deadline:
                    raise AssertionError(f"one worker answered every request: {by_worker}")
                time.sleep(0.1)

    def _logged(self, probe: str) -> dict[str, set[int]]:
        by_worker: dict[str, set[int]] = {}
        for line in self.log.read_text().splitlines():
            pid, logged_probe, status = line.split()
            if logged_probe == probe:
                by_worker.setdefault(pid, set()).add(int(status))
        return by_worker


@pytest.fixture
def two_workers(app, tmp_path):
    log = tmp_path / "access.log"
    log.touch()
    env = dict(os.environ,
               LINLI_INSTANCE_PATH=str(tmp_path), LINLI_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               LINLI_REDIS_URL=app.config["LINLI_REDIS_URL"], LINLI_SECRET_KEY=app.config["SECRET_KEY"],
               LINLI_JWT_SECRET_KEY=app.config["JWT_SECRET_KEY"])
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-w", "2", "-b", f"127.0.0.1:{PORT}",
         "--access-logfile", str(log), "--access-logformat", "%(p)s %({x-probe}i)s %(s)s",
         "--log-level", "warning", "backend:create_app()"],
        cwd=ROOT, env=env,
    )
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(BASE + "/healthz", timeout=2):
                    break
            except OSError:
                time.sleep(0.1)
        yield TwoWorkers(log)
    finally:
        server.terminate()
        server.wait(timeout=20)


def _sign_in(username: str) -> dict:
    request = urllib.request.Request(
        BASE + "/api/v1/auth/password", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"username": username, "password": TEST_PASSWORD}).encode(),
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _all(by_worker: dict[str, set[int]]) -> set[int]:
    return set().union(*by_worker.values())


def test_every_worker_refuses_or_changes_on_the_very_next_request(app, two_workers, make_compound, make_user):
    compound = make_compound()
    admin = make_user(role=Role.ADMIN)
    leaving = make_user()
    deactivated = make_user()
    committee = make_user(role=Role.COMMITTEE, compound=compound)
    newcomer = make_user()
    compound_id = compound.id
    households = f"/api/v1/compounds/{compound_id}/households"
    seat = db.session.scalar(db.select(Membership.id).where(Membership.user_id == committee.id))
    newcomer_id, deactivated_id = newcomer.id, deactivated.id
    names = {"leaving": leaving.username, "deactivated": deactivated.username, "committee": committee.username,
             "newcomer": newcomer.username}
    admin_name = admin.username
    db.session.remove()  # SQLite: no transaction of ours may stand in the server's way
    admin_token = _sign_in(admin_name)["access_token"]
    tokens = {who: _sign_in(name)["access_token"] for who, name in names.items()}

    # Every worker has verified each token and read each person's roles here.
    assert _all(two_workers.answers("/api/v1/me", tokens["leaving"], "leaving-before")) == {200}
    assert _all(two_workers.answers("/api/v1/me", tokens["deactivated"], "deactivated-before")) == {200}
    assert _all(two_workers.answers(households, tokens["committee"], "committee-before")) == {200}
    assert _all(two_workers.answers(households, tokens["newcomer"], "newcomer-before")) == {404}

    assert two_workers.ask("/api/v1/auth/logout", tokens["leaving"], "logout", method="POST") == 204
    assert two_workers.ask(f"/api/v1/users/{deactivated_id}/deactivation", admin_token, "deactivate",
                           method="POST") == 204
    assert two_workers.ask(f"/api/v1/memberships/{seat}", admin_token, "remove", method="DELETE") == 204
    # A role granted, written here as any service would: the session's events tell the sign-in cache.
    factories.grant_role(db.session.get(User, newcomer_id), Role.COMMITTEE, compound=db.session.get(Compound, compound_id))
    db.session.commit()
    db.session.remove()

    assert _all(two_workers.answers("/api/v1/me", tokens["leaving"], "leaving-after")) == {401}
    assert _all(two_workers.answers("/api/v1/me", tokens["deactivated"], "deactivated-after")) == {401}
    assert _all(two_workers.answers(households, tokens["committee"], "committee-after")) == {404}
    assert _all(two_workers.answers(households, tokens["newcomer"], "newcomer-after")) == {200}


def test_every_worker_refuses_an_expired_token_it_verified_before(app, two_workers, make_user):
    person_id = make_user().id
    db.session.remove()
    # Minted on the real clock, which the server keeps (time-machine does not reach it).
    issued = time_machine.escape_hatch.time.time()
    with time_machine.travel(issued, tick=True), app.test_request_context():
        token = create_access_token(identity=str(person_id), expires_delta=timedelta(seconds=LIFETIME_SECONDS),
                                    additional_claims={"rjti": f"short-lived-{person_id}", "gen": 0})

    assert _all(two_workers.answers("/api/v1/me", token, "fresh")) == {200}
    time.sleep(max(0.0, issued + LIFETIME_SECONDS + 0.2 - time_machine.escape_hatch.time.time()))

    assert _all(two_workers.answers("/api/v1/me", token, "expired")) == {401}
