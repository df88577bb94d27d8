"""The periodic jobs, as data, run by exactly one `linli cron` (rq cron) process.

Cron strings are UTC. Each entry only queues `enqueue_slot`, which queues the real job with a per-slot
job_id and unique=True, so a restarted or second cron process cannot run a slot twice."""
from __future__ import annotations

from dataclasses import dataclass

from rq import cron

from backend.jobs.slots import enqueue_slot


@dataclass(frozen=True)
class PeriodicJob:
    job_path: str
    cron: str  # UTC
    beijing: str  # the same schedule in Asia/Shanghai, for people
    queue: str


PERIODIC_JOBS = (
    PeriodicJob("backend.jobs.health.record_worker_heartbeat", "* * * * *", "每分钟", "low"),
    PeriodicJob("backend.jobs.outbox.relay", "* * * * *", "每分钟", "default"),
    PeriodicJob("backend.jobs.notifications.requeue_stale_deliveries", "*/10 * * * *", "每10分钟", "default"),
    PeriodicJob("backend.jobs.workorders.sweep", "*/5 * * * *", "每5分钟", "default"),
    PeriodicJob("backend.jobs.workorders.tally_last_month", "30 18 * * *", "每天02:30", "low"),
    PeriodicJob("backend.jobs.consultations.sweep", "*/5 * * * *", "每5分钟", "default"),
    PeriodicJob("backend.jobs.consultations.tell_untold_votes", "* * * * *", "每分钟", "default"),
    # Two minutes after the consultations' sweep, which closes the ballots whose results it reads.
    PeriodicJob("backend.jobs.spending.sweep", "2-59/5 * * * *", "每5分钟", "default"),
    PeriodicJob("backend.jobs.meetings.send_reminders", "*/5 * * * *", "每5分钟", "default"),
    PeriodicJob("backend.jobs.surveys.close_due", "*/5 * * * *", "每5分钟", "default"),
    PeriodicJob("backend.jobs.surveys.send_reminders", "20 * * * *", "每小时20分", "default"),
    PeriodicJob("backend.jobs.surveys.tally_running", "50 18 * * *", "每天02:50", "low"),
    PeriodicJob("backend.jobs.fees.issue_bills", "30 16 * * *", "每天00:30", "low"),
    PeriodicJob("backend.jobs.fees.send_reminders", "0 2 * * *", "每天10:00", "default"),
    PeriodicJob("backend.jobs.fees.release_abandoned_subsidies", "15 * * * *", "每小时15分", "low"),
    PeriodicJob("backend.jobs.fees.follow_up_lost_payments", "* * * * *", "每分钟", "default"),
    PeriodicJob("backend.jobs.dashboard.sweep", "*/10 * * * *", "每10分钟", "low"),
    PeriodicJob("backend.jobs.auth.purge_expired_revocations", "40 19 * * *", "每天03:40", "low"),
    # After the night's tallies (work orders 02:30, surveys 02:50) and bills (00:30), before the officials' day.
    PeriodicJob("backend.jobs.flags.sweep_all", "10 20 * * *", "每天04:10", "low"),
    # Deadlines are Beijing dates: the day's steps go out at 08:30, when the people they tell are at work.
    PeriodicJob("backend.jobs.rectifications.sweep", "30 0 * * *", "每天08:30", "default"),
    PeriodicJob("backend.jobs.governance.remind_term_ends", "20 1 * * *", "每天09:20", "default"),
    # Daily, so a missed 1st is made up the next day; each area's report of a period is made once (unique key).
    PeriodicJob("backend.jobs.reports.ask_periodic", "10 17 * * *", "每天01:10", "low"),
    # Payments made while a trust compound had no account: posted the night after one is opened.
    PeriodicJob("backend.jobs.funds.sweep_fund_posts", "40 17 * * *", "每天01:40", "low"),
    # The public-income statement is due by the 15th (a Beijing date): the 16th's run at 09:00 finds it late.
    PeriodicJob("backend.jobs.disclosures.sweep_overdue", "0 1 * * *", "每天09:00", "default"),
    # Issue 19: the day-before reminders of activities (each sign-up once; quiet hours held by notifications).
    PeriodicJob("backend.jobs.activities.send_reminders", "5 * * * *", "每小时05分", "default"),
    # Three minutes after the consultations' sweep, which closes the ballots whose results it reads.
    PeriodicJob("backend.jobs.contracts.sweep", "3-59/5 * * * *", "每5分钟", "default"),
    PeriodicJob("backend.jobs.contracts.remind_term_ends", "25 1 * * *", "每天09:25", "default"),
)

for job in PERIODIC_JOBS:
    cron.register(
        enqueue_slot, queue_name="high", args=(job.job_path, job.cron, job.queue), cron=job.cron, name=job.job_path
    )
