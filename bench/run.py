"""Start gunicorn (2 workers) on fresh demo data and measure requests per second with wrk; then list the SQL
statements and Redis commands each hot endpoint runs once warm (counted in-process: engine events, and the
Redis server's own command statistics).

Targets (foundation issue): households list ≥ 0.5 × ceiling, compound home page ≥ 0.4 × ceiling."""
from __future__ import annotations

import json
import os
import re
import runpy
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.targets import record

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("LINLI_BENCH_PORT", "5099"))
DURATION = os.environ.get("LINLI_BENCH_DURATION", "10s")
CONNECTIONS = os.environ.get("LINLI_BENCH_CONNECTIONS", "8")
TARGETS = {"households": 0.5, "home": 0.4}


def _env(instance: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        LINLI_INSTANCE_PATH=str(instance),
        LINLI_DATABASE_URL=f"sqlite:///{instance / 'bench.db'}",
        LINLI_PORT=str(PORT),
    )
    if not env.get("LINLI_REDIS_URL"):
        from backend.redis_conn import start_embedded_redis

        env["LINLI_REDIS_URL"] = start_embedded_redis(instance)
    return env


def _post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _wait_until_up(base: str) -> None:
    for _ in range(100):
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not come up")


def _wrk(url: str, headers: list[str]) -> float:
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", url]
    for header in headers:
        command += ["-H", header]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} error responses\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


ENDPOINTS = {
    "signed_in": ("/_bench/signed-in", "committee", "bearer"),
    "households": ("/api/v1/compounds/1/households?page_size=20", "committee", "bearer"),
    "home": ("/h5/c/yangguang", "owner", "cookie"),
}


def _redis_calls(r) -> int:
    return sum(stats["calls"] for stats in r.info("commandstats").values())


def statements_per_endpoint(env: dict[str, str]) -> dict[str, tuple[int, int, list[str]]]:
    """SQL statements and Redis commands of one warm request to each endpoint (the third in a row)."""
    os.environ.update(env)
    from sqlalchemy import event

    from backend.extensions import db

    app = runpy.run_path(str(ROOT / "bench" / "wsgi.py"))["app"]

    client = app.test_client()
    tokens = {
        name: client.post("/api/v1/auth/password", json={"username": name, "password": "linli-demo"}).json
        for name in ("committee", "owner")
    }
    client.delete_cookie("access_token_cookie")
    counts = {}
    with app.app_context():
        r = app.extensions["linli_redis"]
        for name, (path, who, how) in ENDPOINTS.items():
            token = tokens[who]["access_token"]
            headers = {"Authorization": f"Bearer {token}"} if how == "bearer" else {}
            if how == "cookie":
                client.set_cookie("access_token_cookie", token)
            statements: list[str] = []

            def record(conn, cursor, statement, parameters, context, executemany, statements=statements):
                statements.append(" ".join(statement.split())[:90])

            for _ in range(2):
                assert client.get(path, headers=headers).status_code == 200, path
            statements.clear()
            event.listen(db.engine, "before_cursor_execute", record)
            before = _redis_calls(r)
            client.get(path, headers=headers)
            # The INFO that reads the statistics counts itself once.
            redis_commands = _redis_calls(r) - before - 1
            event.remove(db.engine, "before_cursor_execute", record)
            client.delete_cookie("access_token_cookie")
            counts[name] = (len(statements), redis_commands, statements)
    return counts


def main() -> int:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    instance = Path(tempfile.mkdtemp(prefix="linli-bench-"))
    env = _env(instance)
    linli = str(Path(sys.executable).with_name("linli"))
    subprocess.run([linli, "init-db"], env=env, check=True, capture_output=True)
    subprocess.run([linli, "demo"], env=env, check=True, capture_output=True)
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-w", "2", "-b", f"127.0.0.1:{PORT}", "--log-level", "warning",
         "bench.wsgi:app"],
        cwd=ROOT, env=env,
    )
    base = f"http://127.0.0.1:{PORT}"
    try:
        _wait_until_up(base)
        committee = _post_json(base + "/api/v1/auth/password", {"username": "committee", "password": "linli-demo"})
        owner = _post_json(base + "/api/v1/auth/password", {"username": "owner", "password": "linli-demo"})
        results = {
            "ceiling": _wrk(base + "/_bench/ceiling", []),
            "signed_in": _wrk(base + "/_bench/signed-in", [f"Authorization: Bearer {committee['access_token']}"]),
            "households": _wrk(
                base + "/api/v1/compounds/1/households?page_size=20",
                [f"Authorization: Bearer {committee['access_token']}"],
            ),
            "home": _wrk(base + "/h5/c/yangguang", [f"Cookie: access_token_cookie={owner['access_token']}"]),
        }
        counts = statements_per_endpoint(env)
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=20)
        shutil.rmtree(instance, ignore_errors=True)
    ceiling = results["ceiling"]
    print(f"\ngunicorn 2 workers, wrk -t2 -c{CONNECTIONS} -d{DURATION}, SQLite demo data, {os.cpu_count()} cores\n")
    print("| endpoint | req/s | ratio to ceiling | target |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| bare Flask JSON (ceiling) | {ceiling:.0f} | 1.00 | |")
    print(f"| signed-in no-op (ceiling + JWT check only) | {results['signed_in']:.0f} | "
          f"{results['signed_in'] / ceiling:.2f} | |")
    failed = False
    for name, label in (("households", "GET /api/v1/compounds/1/households?page_size=20 (committee)"),
                        ("home", "GET /h5/c/yangguang (owner, cookie)")):
        ratio = results[name] / ceiling
        failed |= not record(f"{label}: ratio to the ceiling", ratio, TARGETS[name], at_least=True)
        print(f"| {label} | {results[name]:.0f} | {ratio:.2f} | ≥ {TARGETS[name]} |")
    print("\nOne warm request (the third in a row), counted in-process:\n")
    print("| endpoint | SQL statements | Redis commands | statements |")
    print("| --- | ---: | ---: | --- |")
    for name, (sql, redis_commands, statements) in counts.items():
        shown = "<br>".join(f"`{statement}`" for statement in statements) or "none"
        print(f"| {ENDPOINTS[name][0]} | {sql} | {redis_commands} | {shown} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
