"""`make bench`: throughput of the API and pages under gunicorn, as ratios to the framework ceiling."""
