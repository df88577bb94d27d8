"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py 'backend:create_app()'`."""
import multiprocessing
import os

bind = os.environ.get("LINLI_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("LINLI_WEB_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "gthread"
threads = 4
timeout = 30
# WeChat Pay notifications must be answered within 5 s; nothing here should come near the timeout.
graceful_timeout = 20
accesslog = "-"
forwarded_allow_ips = "127.0.0.1"
