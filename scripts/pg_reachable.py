"""Exit 0 when the PostgreSQL of LINLI_TEST_DATABASE_URL (or the CI default) answers within 3 seconds."""
from __future__ import annotations

import os
import sys

import psycopg

DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"

try:
    psycopg.connect(os.environ.get("LINLI_TEST_DATABASE_URL") or DEFAULT, connect_timeout=3).close()
except psycopg.Error as exc:
    print(f"PostgreSQL not reachable ({exc.__class__.__name__}): running on SQLite only", file=sys.stderr)
    sys.exit(1)
