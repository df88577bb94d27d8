"""The vote burst of bench/consultations.py (100 votes one after another, then 200 voters released at once)
against two checkouts of the code, alternating, in one run on one database: on a shared, loaded machine only
figures measured side by side can be compared.

    AB_BASE=/path/to/a/checkout/of/main LINLI_DATABASE_URL=… LINLI_REDIS_URL=… LINLI_INSTANCE_PATH=… \\
        LINLI_BENCH_PORT=… python -m bench.vote_ab

The database is one bench.consultations left (its demo compound `bench`, the owners shared). Both servers run
this checkout's virtualenv, each with PYTHONPATH on its own tree; AB_THREADS=4 serves with gthread."""
from __future__ import annotations

import os
import signal
import statistics
import subprocess
from pathlib import Path

from sqlalchemy import select

from bench import consultations as bench
from bench.run import _wait_until_up

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("AB_ROUNDS", "2"))
THREADS = os.environ.get("AB_THREADS")


def _serve(root: str) -> subprocess.Popen:
    port = os.environ["LINLI_BENCH_PORT"]
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-w", "2", *(["--threads", THREADS] if THREADS else []),
         "-b", f"127.0.0.1:{port}", "--chdir", root, "--log-level", "warning", "bench.wsgi:app"],
        cwd=root, env=dict(os.environ, PYTHONPATH=root),
    )
    _wait_until_up(f"http://127.0.0.1:{port}")
    return server


def main() -> None:
    from backend import create_app
    from backend.domain.roles import Role
    from backend.extensions import db
    from backend.models import Compound, Membership, User
    from backend.services.consultations import Participant

    roots = {"base": os.environ["AB_BASE"], "this checkout": str(ROOT)}
    with create_app().app_context():
        compound_id = db.session.scalar(select(Compound.id).where(Compound.code == "bench"))
        owner_of = dict(db.session.execute(select(Membership.household_id, Membership.user_id).where(
            Membership.compound_id == compound_id, Membership.role == Role.OWNER)).all())
        admin = Participant(user_id=db.session.scalar(select(User.id).where(User.username == "admin")),
                            compound_id=compound_id, roles=frozenset({Role.ADMIN}))
        voters = bench._voters(owner_of)
        tokens = bench._tokens(voters)
        print(f"gunicorn 2 workers, {f'{THREADS} threads' if THREADS else 'sync'}; load {os.getloadavg()[0]:.1f}")
        print("| round | server | one vote alone (p50) | last answer | p50 | p99 | max | checks | load |")
        print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
        for round_ in range(ROUNDS):
            order = list(roots.items()) if round_ % 2 == 0 else list(reversed(roots.items()))
            for name, root in order:
                server = _serve(root)
                try:
                    alone = bench._sequential(compound_id, admin, voters, tokens)
                    minute = bench._ballot_in_last_minute(compound_id, admin)
                    answers = bench._all_at_once(minute, voters, tokens)
                finally:
                    server.send_signal(signal.SIGTERM)
                    server.wait(timeout=20)
                figures = bench._figures(minute, answers)
                print(f"| {round_ + 1} | {name} | {statistics.median(alone):.1f} ms | {figures['last_answer']:.2f} s "
                      f"| {figures['p50']:.0f} ms | {figures['p99']:.0f} ms | {figures['max']:.0f} ms | "
                      f"{'; '.join(figures['failures']) or 'all hold'} | {os.getloadavg()[0]:.1f} |", flush=True)
        db.session.remove()


if __name__ == "__main__":
    main()
