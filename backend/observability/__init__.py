"""What the operators see of a running Linli: Prometheus metrics (`metrics`) and, when a DSN is set, error reports
to Sentry (`error_reports`)."""
from __future__ import annotations

from flask import Flask

from backend.observability import error_reports, metrics


def init_app(app: Flask) -> None:
    """Before every other extension: the request timer must start first and stop last."""
    error_reports.init_app(app)
    metrics.init_app(app)
