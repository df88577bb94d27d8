"""deploy/: the systemd units pass `systemd-analyze verify`; the nginx site passes Debian's `nginx -t` and, in front of
`linli serve` in production, serves the app and the static files (gzip, immutable caching); gunicorn sizes itself from
the cores in production; Redis with deploy/redis.conf keeps a queued job through a crash."""
from __future__ import annotations

import os
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from rq import Queue

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = ("linli.target", "linli-web.service", "linli-worker@.service", "linli-cron.service")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CORES = len(os.sched_getaffinity(0))

pytestmark = pytest.mark.once


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _replaced(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert old in text, f"deploy file no longer says {old!r}: update the test's rewriting"
        text = text.replace(old, new)
    return text


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze exists only where systemd does")
def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path):
    for name in UNITS:
        # verify checks that each ExecStart names an executable: this checkout's .venv stands in for /srv/linli's.
        text = (DEPLOY / "systemd" / name).read_text()
        (tmp_path / name).write_text(text.replace("/srv/linli", str(ROOT)))
    for instance in ("1", "2"):
        (tmp_path / f"linli-worker@{instance}.service").symlink_to("linli-worker@.service")

    checked = subprocess.run(
        ["systemd-analyze", "verify", "linli.target", "linli-web.service", "linli-worker@1.service",
         "linli-worker@2.service", "linli-cron.service"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )

    assert checked.returncode == 0, checked.stderr
    assert [line for line in checked.stderr.splitlines() if "linli" in line] == []


def test_one_cron_and_any_number_of_workers_are_what_the_units_allow():
    web, worker, cron = ((DEPLOY / "systemd" / name).read_text() for name in UNITS[1:])

    assert "ExecStart=/srv/linli/.venv/bin/linli serve" in web
    assert "ExecStart=/srv/linli/.venv/bin/linli worker" in worker and "%i" in worker
    assert "ExecStart=/srv/linli/.venv/bin/linli cron" in cron
    assert not (DEPLOY / "systemd" / "linli-cron@.service").exists()


def _production_env(tmp_path: Path, redis_url: str, port: int) -> dict[str, str]:
    """What production refuses to start without, filled with stand-ins (nothing here calls WeChat or Alibaba)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_key, public_key = tmp_path / "wechatpay-private.pem", tmp_path / "wechatpay-public.pem"
    private_key.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    public_key.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    env = {name: value for name, value in os.environ.items() if not name.startswith("LINLI_")}
    return env | {
        "LINLI_ENV": "production",
        "LINLI_SECRET_KEY": "s" * 48, "LINLI_JWT_SECRET_KEY": "j" * 48,
        "LINLI_DATABASE_URL": f"sqlite:///{tmp_path / 'linli.db'}", "LINLI_REDIS_URL": redis_url,
        "LINLI_INSTANCE_PATH": str(tmp_path / "instance"), "LINLI_PHOTO_DIR": str(tmp_path / "photos"),
        "LINLI_PUBLIC_URL": "https://linli.example.cn", "LINLI_PORT": str(port), "LINLI_PROXY_COUNT": "1",
        "LINLI_WECHAT_PROVIDER": "wechat", "LINLI_WECHAT_APPID": "wx00000000000000",
        "LINLI_WECHAT_SECRET": "secret", "LINLI_WECHAT_NOTICE_TEMPLATE_ID": "template",
        "LINLI_WECHATPAY_MCHID": "1900000000", "LINLI_WECHATPAY_APIV3_KEY": "k" * 32,
        "LINLI_WECHATPAY_SERIAL_NO": "serial", "LINLI_WECHATPAY_PRIVATE_KEY_PATH": str(private_key),
        "LINLI_WECHATPAY_PUBLIC_KEY_ID": "PUB_KEY_ID_0000", "LINLI_WECHATPAY_PUBLIC_KEY_PATH": str(public_key),
        "LINLI_SMS_PROVIDER": "aliyun", "LINLI_ALIYUN_ACCESS_KEY_ID": "id", "LINLI_ALIYUN_ACCESS_KEY_SECRET": "secret",
        "LINLI_ALIYUN_SMS_SIGN_NAME": "邻里", "LINLI_ALIYUN_SMS_TEMPLATE_CODE": "SMS_0",
    }


def _gunicorn_settings(monkeypatch, env: dict[str, str]) -> dict:
    """The settings deploy/gunicorn.conf.py makes in this environment (gunicorn runs the file as this does)."""
    with monkeypatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("LINLI_")]:
            patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        return runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))


def test_gunicorn_takes_two_workers_a_core_with_four_threads_in_production_and_two_by_four_elsewhere(monkeypatch):
    in_production = _gunicorn_settings(monkeypatch, {"LINLI_ENV": "production", "LINLI_PORT": "8000"})
    elsewhere = _gunicorn_settings(monkeypatch, {})
    overridden = _gunicorn_settings(monkeypatch, {"LINLI_ENV": "production", "LINLI_WEB_WORKERS": "3",
                                                  "LINLI_WEB_THREADS": "8", "LINLI_BIND": "0.0.0.0:9000"})

    assert (in_production["workers"], in_production["threads"], in_production["bind"]) == (
        2 * CORES, 4, "127.0.0.1:8000")
    assert (elsewhere["workers"], elsewhere["threads"], elsewhere["bind"]) == (2, 4, "127.0.0.1:5000")
    assert (overridden["workers"], overridden["threads"], overridden["bind"]) == (3, 8, "0.0.0.0:9000")
    assert in_production["worker_class"] == "gthread"


def _self_signed_certificate(folder: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "linli.example.cn")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30)).sign(key, hashes.SHA256())
    )
    (folder / "fullchain.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "privkey.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))


def _nginx_prefix(tmp_path: Path, https_port: int, http_port: int, app_port: int) -> Path:
    """A prefix of its own wrapping deploy/nginx-site.conf as Debian's nginx.conf wraps a site, on free ports."""
    prefix = tmp_path / "nginx"
    (prefix / "tls").mkdir(parents=True)
    _self_signed_certificate(prefix / "tls")
    site = _replaced((DEPLOY / "nginx-site.conf").read_text(), {
        "listen 443 ssl": f"listen 127.0.0.1:{https_port} ssl",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "/etc/linli/tls/": f"{prefix / 'tls'}/",
        "/srv/linli/": f"{ROOT}/",
        "http://127.0.0.1:8000": f"http://127.0.0.1:{app_port}",
    })
    (prefix / "linli.conf").write_text(site)
    temp_paths = "\n".join(f"    {kind}_temp_path {prefix / kind};" for kind in
                           ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # Run by root (as here), nginx's workers would become `nobody`, who may not enter pytest's private tmp folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'};\n"
        f"events {{ worker_connections 64; }}\n"
        f"http {{\n    include /etc/nginx/mime.types;\n    access_log off;\n{temp_paths}\n"
        f"    include {prefix / 'linli.conf'};\n}}\n"
    )
    return prefix


def _nginx_paths(prefix: Path) -> list[str]:
    # -e: the error log nginx opens before it reads any configuration (else /var/log/nginx, root's only).
    return ["-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")]


def test_the_nginx_site_passes_debians_nginx_t(tmp_path):
    prefix = _nginx_prefix(tmp_path, _free_port(), _free_port(), _free_port())

    checked = subprocess.run([NGINX, "-t", *_nginx_paths(prefix)],
                             capture_output=True, text=True, timeout=60)

    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr
    assert "[warn]" not in checked.stderr and "[emerg]" not in checked.stderr


@contextmanager
def _running(command: list[str], stop: signal.Signals = signal.SIGTERM, **options) -> Iterator[subprocess.Popen]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **options)
    try:
        yield process
    finally:
        process.send_signal(stop)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answer(client: httpx.Client, url: str, seconds: float = 90) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        try:
            response = client.get(url)
            if response.status_code != 502 or time.monotonic() > deadline:
                return response
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.3)


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_nginx_in_front_of_linli_serve_in_production_serves_the_app_and_static_files(app, tmp_path):
    https_port, http_port, app_port = _free_port(), _free_port(), _free_port()
    prefix = _nginx_prefix(tmp_path, https_port, http_port, app_port)
    env = _production_env(tmp_path, app.config["LINLI_REDIS_URL"], app_port)
    stylesheet = "h5/static/css/linli.css"
    assert (ROOT / stylesheet).stat().st_size > 1024

    # SIGQUIT: gunicorn's quick shutdown (TERM would wait for its workers, up to graceful_timeout).
    with (_running([str(Path(sys.executable).with_name("linli")), "serve"], signal.SIGQUIT, cwd=tmp_path, env=env)
          as server,
          _running([NGINX, *_nginx_paths(prefix)]),
          httpx.Client(verify=False, timeout=10) as client):
        health = _answer(client, f"https://127.0.0.1:{https_port}/healthz")
        workers = _children(server.pid)
        versioned = client.get(f"https://127.0.0.1:{https_port}/{stylesheet}?v=0123abcd",
                               headers={"Accept-Encoding": "gzip"})
        unversioned = client.get(f"https://127.0.0.1:{https_port}/{stylesheet}", headers={"Accept-Encoding": "gzip"})
        plain_http = client.get(f"http://127.0.0.1:{http_port}/h5/", follow_redirects=False)
        metrics = client.get(f"https://127.0.0.1:{https_port}/metrics")

    assert health.status_code == 200, health.text
    assert health.json()["database"] is True and health.json()["redis"] is True
    assert len(workers) == 2 * CORES
    assert versioned.status_code == 200
    assert versioned.headers["Content-Encoding"] == "gzip"
    assert versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert versioned.text == (ROOT / stylesheet).read_text()
    assert unversioned.headers["Cache-Control"] == "public, no-cache"
    assert plain_http.status_code == 301
    assert plain_http.headers["Location"] == "https://127.0.0.1/h5/"
    assert metrics.status_code == 404


@contextmanager
def _redis_server(folder: Path, port: int, *settings: str) -> Iterator[subprocess.Popen]:
    folder.mkdir(exist_ok=True)
    process = subprocess.Popen(
        ["redis-server", str(DEPLOY / "redis.conf"), "--port", str(port), "--dir", str(folder), "--daemonize", "no",
         "--logfile", str(folder / "redis.log"), *settings],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    connection = redis.Redis(port=port)
    deadline = time.monotonic() + 30
    while True:
        try:
            connection.ping()
            # Loading the log back can take a moment after the port opens.
            if connection.info("persistence")["loading"] == 0:
                break
        except redis.BusyLoadingError:
            pass
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.05)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def _queued_after_a_crash(folder: Path, *settings: str) -> int:
    port = _free_port()
    with _redis_server(folder, port, *settings) as server:
        Queue("default", connection=redis.Redis(port=port)).enqueue("backend.jobs.cron.heartbeat", job_id="kept")
        # appendfsync everysec: the log reaches the disk within a second.
        time.sleep(1.5)
        server.send_signal(signal.SIGKILL)
        server.wait()
    with _redis_server(folder, port, *settings):
        return Queue("default", connection=redis.Redis(port=port)).count


def test_a_queued_job_survives_a_redis_crash_with_deploy_redis_conf(tmp_path):
    assert _queued_after_a_crash(tmp_path / "with-the-log") == 1
    # The same crash without the append-only log (and without a snapshot) loses the job: the test can fail.
    assert _queued_after_a_crash(tmp_path / "without", "--appendonly", "no", "--save", "") == 0


def test_linli_serve_refuses_the_reloader_in_production(app, monkeypatch):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")

    result = app.test_cli_runner().invoke(args=["serve", "--reload"])

    assert result.exit_code == 2
    assert "生产环境不能使用 --reload" in result.output
