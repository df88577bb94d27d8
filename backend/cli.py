"""`linli` commands: init-db, demo, qr, import, serve, worker, cron, jobs, backup, restore, dev (and Flask-Migrate's
`db`)."""
from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup
from flask_migrate import upgrade

from backend.extensions import db
from backend.shared.clock import SHANGHAI

GUNICORN_CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"


def register_cli(app: Flask) -> None:
    for command in (init_db, demo, qr, import_ledger_command, serve, worker, cron, jobs, relay, backup, restore):
        app.cli.add_command(command)


@click.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    upgrade()
    click.echo("数据库已就绪")


@click.command("demo")
@click.option(
    "--households", type=click.IntRange(1, 1_000_000), default=None,
    help="Also ensure a `bench` compound with this many households, each with a verified owner (benchmarks).",
)
@click.option(
    "--work-orders", "work_orders", type=click.IntRange(1, 2_000_000), default=None,
    help="Also ensure the demo city holds this many work orders (the demo ones included), in every state over "
         "the last six months (benchmarks). A second run with the same number adds nothing.",
)
@click.option("--city", is_flag=True, help="Also build the city-size dataset once (PostgreSQL only; `make soak`): "
              "2,000 compounds, 200,000 households with owners, a year of bills and work orders, two open ballots "
              "per compound (backend/demo/city.py).")
def demo(households: int | None, work_orders: int | None, city: bool) -> None:
    """Load the demo data once (and, with --households / --work-orders / --city, the benchmark data)."""
    from backend.demo import load_demo
    from backend.demo.bench import load_bench_households
    from backend.demo.bench_work_orders import load_bench_work_orders

    click.echo("已导入演示数据" if load_demo() else "演示数据已存在，跳过")
    if households is not None:
        created = load_bench_households(
            households, on_chunk=lambda done, total: click.echo(f"压测小区: {done}/{total} 户")
        )
        click.echo(f"压测小区新增 {created} 户（共 {households} 户）" if created else f"压测小区已有 {households} 户，跳过")
    if work_orders is not None:
        created = load_bench_work_orders(
            work_orders, on_chunk=lambda done, total: click.echo(f"工单: {done}/{total} 张")
        )
        click.echo(f"新增工单 {created} 张（共 {work_orders} 张）" if created else f"已有 {work_orders} 张以上工单，跳过")
    if city:
        from backend.demo.city import load_city

        click.echo(load_city())


@click.command("qr")
@click.argument("compound_code")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("qr-out"))
@click.option("--revoke", is_flag=True, help="Invalidate every printed code of the compound first.")
def qr(compound_code: str, out_dir: Path, revoke: bool) -> None:
    """Write the compound's and each building's QR code (PNG, SVG) and the A4 poster to a folder."""
    from sqlalchemy import select

    from backend.models import Compound
    from backend.services import compounds as compound_service
    from backend.services import qr as qr_service

    compound = db.session.scalar(select(Compound).where(Compound.code == compound_code))
    if compound is None:
        raise click.ClickException(f"没有编码为 {compound_code} 的小区")
    if revoke:
        qr_service.revoke_qr_codes(compound.id, actor_id=None)
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = [(compound.code, None)] + [
        (f"{compound.code}-{b.name}", b) for b in compound_service.list_buildings(compound.id)
    ]
    for name, building in targets:
        url = qr_service.entry_url(compound, building)
        (out_dir / f"{name}.png").write_bytes(qr_service.qr_png(url))
        (out_dir / f"{name}.svg").write_text(qr_service.qr_svg(url), encoding="utf-8")
    with current_app.test_request_context():
        from flask import render_template

        url = qr_service.entry_url(compound)
        # The file is opened from disk, where /h5/static/... does not resolve: carry the stylesheet inline.
        poster_css = (Path(current_app.static_folder) / "css" / "poster.css").read_text(encoding="utf-8")
        html = render_template(
            "poster.html", compound=compound, building=None, qr_svg=qr_service.qr_svg(url), poster_css=poster_css
        )
    (out_dir / f"{compound.code}-poster.html").write_text(html, encoding="utf-8")
    click.echo(f"已写入 {len(targets) * 2 + 1} 个文件到 {out_dir}")


@click.command("import")
@click.argument("xlsx", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--community-id", type=int, required=True, help="The community (社区) the compounds belong to.")
def import_ledger_command(xlsx: Path, community_id: int) -> None:
    """Import compounds, buildings and households from an .xlsx ledger; all rows or none."""
    from backend.services.ledger_import import LedgerFileInvalid, import_ledger

    with xlsx.open("rb") as stream:
        try:
            report = import_ledger(stream, community_id, actor_id=None)
        except LedgerFileInvalid as exc:
            raise click.ClickException(str(exc)) from exc
    if not report.ok:
        for error in report.errors:
            click.echo(f"第 {error['row']} 行 {error['field']}: {error['message']}", err=True)
        raise click.ClickException(f"{len(report.errors)} 处错误，未导入任何数据")
    click.echo(
        f"新增小区 {report.compounds_created}，楼栋 {report.buildings_created}，"
        f"房屋 {report.households_created}，更新房屋 {report.households_updated}"
    )


@click.command("relay")
def relay() -> None:
    """Push the jobs waiting in the outbox (they wait there while Redis is down)."""
    from backend.services.queueing import relay_outbox

    click.echo(f"已推送 {relay_outbox()} 个任务")


@click.command("serve")
@click.option("--reload", "reload_code", is_flag=True,
              help="Werkzeug's development server, restarting on code changes (`make dev`).")
def serve(reload_code: bool) -> None:
    """The web server: gunicorn (deploy/gunicorn.conf.py: in production 2 workers a core × 4 threads, else 2 × 4);
    --reload for development."""
    if reload_code:
        if current_app.config["ENV_NAME"] == "production":
            raise click.UsageError("生产环境不能使用 --reload")
        from werkzeug.serving import run_simple

        port = int(os.environ.get("LINLI_PORT", "5000"))
        # app.run() refuses to start under the flask CLI; run_simple is what it would call.
        run_simple("127.0.0.1", port, current_app._get_current_object(), threaded=True, use_reloader=True)
        return
    # Werkzeug's server is no place for concurrent writers; the production server is, with the same settings.
    from backend.observability.metrics import use_multiprocess_dir

    use_multiprocess_dir(current_app.instance_path)
    os.execv(sys.executable, [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG), "backend:create_app()"])


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker(burst: bool) -> None:
    """An RQ worker on the high, default and low queues, with the scheduler."""
    from backend.jobs.worker import run_worker

    run_worker(current_app._get_current_object(), burst=burst)


@click.command("cron")
def cron() -> None:
    """The one rq cron process (backend/jobs/cron.py)."""
    from backend.jobs.worker import run_cron

    run_cron(current_app._get_current_object())


@click.group("jobs")
def jobs() -> None:
    """Failed jobs: list them, put them back on their queue."""


@jobs.command("failed")
def jobs_failed() -> None:
    """List failed jobs of the high, default and low queues, newest first (times in Beijing time)."""
    from backend.services.job_admin import list_failed_jobs

    failed = list_failed_jobs()
    if not failed:
        click.echo("没有失败的任务")
        return
    for job in failed:
        failed_at = f"{job.failed_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}" if job.failed_at else "-"
        click.echo(f"{job.id}\t{job.queue}\t{job.func}\t{failed_at}\t{job.error}")
    click.echo(f"共 {len(failed)} 个失败任务")


@jobs.command("requeue")
@click.argument("job_id", required=False)
@click.option("--all", "requeue_all", is_flag=True, help="Requeue every failed job.")
def jobs_requeue(job_id: str | None, requeue_all: bool) -> None:
    """Put a failed job (or, with --all, every failed job) back on its queue."""
    from backend.services import job_admin

    if requeue_all == (job_id is not None):
        raise click.UsageError("请给出一个任务编号，或使用 --all")
    if requeue_all:
        click.echo(f"已重新排队 {len(job_admin.requeue_all())} 个任务")
        return
    try:
        job = job_admin.requeue(job_id)
    except job_admin.JobNotFailed as exc:
        raise click.ClickException(f"没有编号为 {job_id} 的失败任务") from exc
    click.echo(f"已重新排队 {job.id}（队列 {job.origin}）")


@click.command("backup")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The archive to write (default: linli-backup-<UTC time>.tar here).")
def backup(out: Path | None) -> None:
    """One archive: a consistent dump of the database (pg_dump -Fc, or SQLite's backup) and the photo and file store."""
    from backend.services.backup import BackupRefused, write_backup

    out = out or Path(f"linli-backup-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.tar")
    try:
        written = write_backup(out)
    except BackupRefused as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"已备份 {len(written.fingerprint.rows)} 张表、{sum(written.fingerprint.rows.values())} 行、"
               f"{written.files} 个文件到 {written.path}")


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(archive: Path) -> None:
    """Restore an archive of `linli backup` into an empty database (refuses one holding any table) and its files."""
    from backend.services.backup import BackupRefused, restore_backup

    try:
        restored = restore_backup(archive)
    except BackupRefused as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"已恢复 {len(restored.fingerprint.rows)} 张表、{sum(restored.fingerprint.rows.values())} 行、"
               f"{restored.files} 个文件；行数和金额、投票表的校验和与备份一致")


def _create_app() -> Flask:
    from backend import create_app

    return create_app()


cli = FlaskGroup(create_app=_create_app, add_default_commands=False, add_version_option=False)


@cli.command("dev")
@click.option("--reload", "reload_code", is_flag=True, help="Serve with Werkzeug's reloader (`make dev`).")
def dev(reload_code: bool) -> None:
    """Everything `make run` needs: migrate, demo data once, then web + worker + cron together."""
    from honcho.manager import Manager

    from backend.config import Settings
    from backend.redis_conn import start_embedded_redis

    settings = Settings.from_env()
    env = dict(os.environ)
    if not settings.redis_url:
        # One embedded Redis for all three processes, reached through its unix socket.
        env["LINLI_REDIS_URL"] = start_embedded_redis(settings.instance_path)
        os.environ["LINLI_REDIS_URL"] = env["LINLI_REDIS_URL"]
    app = _create_app()
    with app.app_context():
        upgrade()
        from backend.demo import DEMO_PASSWORD, demo_compound, load_demo
        from backend.services.qr import entry_url, qr_text

        load_demo()
        compound = demo_compound()
        with app.test_request_context():
            url = entry_url(compound)
        click.echo(qr_text(url))
        click.echo(f"邻里已启动: {settings.public_url}/h5/")
        click.echo(f"小区入口（{compound.name}）: {url}")
        click.echo(
            "演示账号（密码 " + DEMO_PASSWORD + "）: admin official secretary committee manager staff staff2 "
            "owner tenant owner2 owner01…owner40"
        )
        click.echo("演示手机号 13900000001（业主 owner）；验证码见日志 'sandbox SMS'")
    linli = [sys.executable, "-m", "backend.cli"]
    manager = Manager()
    web = ["serve", "--reload"] if reload_code else ["serve"]
    for name, args in (("web", web), ("worker", ["worker"]), ("cron", ["cron"])):
        manager.add_process(name, " ".join(linli + args), env=env)
    manager.loop()
    sys.exit(manager.returncode)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
