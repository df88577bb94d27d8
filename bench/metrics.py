"""What the metrics cost, measured two ways in one run, metrics on (prometheus_client's multiprocess mode, as
`linli serve` runs it) and off (LINLI_METRICS=0) in alternating rounds:
- the framework ceiling (bench.wsgi's bare JSON view, gunicorn 2 workers, wrk): the figure asked for, but on a
  shared 2-core machine its rounds differ by more than the metrics cost;
- the time one request of that view takes in one process (Flask's test client, best of several blocks), on and
  off: the difference is what the metrics add to every request, steady whatever the machine's load.
Target: the ceiling with metrics ≥ 0.95 of the ceiling without, the added time counted against the ceiling's
own time per request (2 cores / its req/s)."""
from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from backend.observability.metrics import multiprocess_dir_for
from bench.run import CONNECTIONS, DURATION, PORT, ROOT, _env, _wait_until_up, _wrk
from bench.targets import record

ROUNDS = int(os.environ.get("LINLI_BENCH_ROUNDS", "3"))
TARGET = 0.95
IN_PROCESS_REQUESTS = 2000
IN_PROCESS_BLOCKS = 8


def _ceiling(env: dict[str, str]) -> float:
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-w", "2", "-b", f"127.0.0.1:{PORT}", "--log-level", "warning",
         "bench.wsgi:app"],
        cwd=ROOT, env=env,
    )
    try:
        _wait_until_up(f"http://127.0.0.1:{PORT}")
        return _wrk(f"http://127.0.0.1:{PORT}/_bench/ceiling", [])
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=20)


def cpu_seconds_per_request() -> dict[bool, float]:
    """In this one process, two apps (metrics on, metrics off) take the ceiling view in turns, block after block;
    each one's best block of CPU time per request (the process's own CPU time: other processes' load does not
    count)."""
    from flask import jsonify

    from backend import create_app

    clients = {}
    for metrics_on in (True, False):
        app = create_app({"LINLI_METRICS_ENABLED": metrics_on})
        app.add_url_rule("/_bench/ceiling", "ceiling", lambda: jsonify({"ok": True}))
        clients[metrics_on] = app.test_client()
    best = dict.fromkeys(clients, float("inf"))
    for _ in range(IN_PROCESS_BLOCKS):
        for metrics_on, client in clients.items():
            started = time.process_time()
            for _ in range(IN_PROCESS_REQUESTS):
                client.get("/_bench/ceiling")
            best[metrics_on] = min(best[metrics_on], (time.process_time() - started) / IN_PROCESS_REQUESTS)
    return best


def _in_process(env: dict[str, str]) -> tuple[float, float]:
    output = subprocess.run([sys.executable, "-m", "bench.metrics", "--per-request"], cwd=ROOT, env=env,
                            check=True, capture_output=True, text=True).stdout
    metrics_on, metrics_off = output.strip().splitlines()[-1].split()
    return float(metrics_on), float(metrics_off)


def main() -> int:
    instance = Path(tempfile.mkdtemp(prefix="linli-bench-metrics-"))
    env = _env(instance)
    linli = str(Path(sys.executable).with_name("linli"))
    subprocess.run([linli, "init-db"], env=env, check=True, capture_output=True)
    # Where `linli serve` puts it: in memory (/dev/shm), not on disk.
    metrics_dir = multiprocess_dir_for(str(instance))
    on, off = env | {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}, env | {"LINLI_METRICS": "0"}
    with_metrics, without, request_on, request_off = [], [], [], []
    try:
        for _ in range(ROUNDS):
            shutil.rmtree(metrics_dir, ignore_errors=True)
            metrics_dir.mkdir()
            with_metrics.append(_ceiling(on))
            without.append(_ceiling(off))
            cpu_on, cpu_off = _in_process(on)
            request_on.append(cpu_on)
            request_off.append(cpu_off)
    finally:
        shutil.rmtree(instance, ignore_errors=True)
        shutil.rmtree(metrics_dir, ignore_errors=True)
    ratios = [value_on / value_off for value_on, value_off in zip(with_metrics, without, strict=True)]
    added = statistics.median(request_on) - statistics.median(request_off)
    ceiling_request = (os.cpu_count() or 1) / statistics.median(without)
    ratio = ceiling_request / (ceiling_request + added)
    print(f"\ngunicorn 2 workers, wrk -t2 -c{CONNECTIONS} -d{DURATION}, {ROUNDS} alternating rounds, "
          f"{os.cpu_count()} cores\n")
    print("| ceiling (bare Flask JSON) | req/s, median | per round |")
    print("| --- | ---: | --- |")
    print(f"| metrics off (LINLI_METRICS=0) | {statistics.median(without):.0f} | "
          f"{', '.join(f'{value:.0f}' for value in without)} |")
    print(f"| metrics on (multiprocess) | {statistics.median(with_metrics):.0f} | "
          f"{', '.join(f'{value:.0f}' for value in with_metrics)} |")
    print(f"| on / off | {statistics.median(ratios):.3f} | {', '.join(f'{value:.3f}' for value in ratios)} |")
    print(f"\nCPU time of one request of the ceiling view in one process (test client; an app with metrics and one "
          f"without in turns, best of {IN_PROCESS_BLOCKS} blocks of {IN_PROCESS_REQUESTS}), median of the rounds:\n")
    print("| metrics | CPU µs per request | per round |")
    print("| --- | ---: | --- |")
    for label, values in (("off", request_off), ("on (multiprocess)", request_on)):
        print(f"| {label} | {statistics.median(values) * 1e6:.1f} | "
              f"{', '.join(f'{value * 1e6:.1f}' for value in values)} |")
    print(f"| added by the metrics | {added * 1e6:.1f} | |")
    print(f"\nThe ceiling's own time per request ({os.cpu_count()} cores / {statistics.median(without):.0f} req/s) "
          f"= {ceiling_request * 1e6:.0f} µs: with the metrics' {added * 1e6:.1f} µs the ceiling keeps "
          f"{ratio:.3f} of itself (target ≥ {TARGET}).")
    return 0 if record("the ceiling with the metrics ÷ without", ratio, TARGET, at_least=True) else 1


if __name__ == "__main__":
    if sys.argv[1:] == ["--per-request"]:
        cpu = cpu_seconds_per_request()
        print(cpu[True], cpu[False])
        sys.exit(0)
    sys.exit(main())
