"""The targets `make bench` checks. Each bench module records its figure against its target here as it measures it;
`python -m bench.targets` then prints every target of the run in one table and exits non-zero when one was missed
or when a module failed before recording its figures."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

SUMMARY_ENV = "LINLI_BENCH_SUMMARY"


def record(target: str, measured: float, limit: float, *, at_least: bool, unit: str = "") -> bool:
    """Whether `measured` meets `limit` (≥ when `at_least`, else ≤); written to the run's summary when there is one."""
    met = measured >= limit if at_least else measured <= limit
    path = os.environ.get(SUMMARY_ENV)
    if path:
        line = {"target": target, "measured": measured, "limit": limit, "at_least": at_least, "unit": unit, "met": met}
        with Path(path).open("a", encoding="utf-8") as summary:
            summary.write(json.dumps(line, ensure_ascii=False) + "\n")
    return met


def main() -> int:
    path = Path(os.environ.get(SUMMARY_ENV, ""))
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.is_file() else []
    print("\n## Targets of this run\n")
    print("| target | measured | target | met |")
    print("| --- | ---: | ---: | --- |")
    for row in rows:
        sign = "≥" if row["at_least"] else "≤"
        print(f"| {row['target']} | {row['measured']:.2f}{row['unit']} | {sign} {row['limit']:g}{row['unit']} | "
              f"{'yes' if row['met'] else '**no**'} |")
    if not rows:
        print("| (no figure recorded) | | | **no** |")
    return 0 if rows and all(row["met"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
