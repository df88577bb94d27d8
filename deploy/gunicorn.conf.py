"""gunicorn settings of `linli serve` (which runs `gunicorn -c deploy/gunicorn.conf.py 'backend:create_app()'`).

Production (`LINLI_ENV=production`) sizes itself from the cores this process may run on; `make run` keeps 2 workers
× 4 threads. LINLI_WEB_WORKERS / LINLI_WEB_THREADS override either, LINLI_BIND the address."""
import os

PRODUCTION = os.environ.get("LINLI_ENV") == "production"
# The cores the scheduler lets this process use (a cpuset, `taskset`, systemd's CPUAffinity=), not the host's count.
CORES = len(os.sched_getaffinity(0))
# A request runs Python (one core, the GIL) then waits on PostgreSQL or Redis: two processes a core keep every core
# busy through those waits. Threads do not add throughput on top (docs/benchmarks.md, bursts), but a thread
# waiting seconds on WeChat Pay or the SMS gateway then holds a thread, not a whole worker.
workers = int(os.environ.get("LINLI_WEB_WORKERS") or (2 * CORES if PRODUCTION else 2))
threads = int(os.environ.get("LINLI_WEB_THREADS") or 4)
worker_class = "gthread"
bind = os.environ.get("LINLI_BIND") or f"127.0.0.1:{os.environ.get('LINLI_PORT', '5000')}"
timeout = 30
# WeChat Pay notifications must be answered within 5 s; nothing here should come near the timeout.
graceful_timeout = 20
accesslog = "-"
# nginx on the same machine is the only proxy whose X-Forwarded-* gunicorn believes.
forwarded_allow_ips = "127.0.0.1"
# The heartbeat file each worker touches: on tmpfs, so a slow or full disk never makes the arbiter kill workers.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# gunicorn 27's control socket sits in the user's home, one path for every gunicorn on the machine (the tests and
# benchmarks run several); nothing here uses it.
control_socket_disable = True
