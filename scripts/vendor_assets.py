"""Copy the H5 vendor files (and their licences) from node_modules into the git-ignored h5/static/vendor/."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
VENDOR = ROOT / "h5" / "static" / "vendor"
FILES = {
    "weui": ["dist/style/weui.min.css", "LICENSE.txt"],
    # The survey results' charts; loaded by that page only (about 1 MB).
    "echarts": ["dist/echarts.min.js", "LICENSE"],
}


def main() -> int:
    for package, files in FILES.items():
        target = VENDOR / package
        target.mkdir(parents=True, exist_ok=True)
        for relative in files:
            source = NODE / package / relative
            if not source.exists():
                print(f"missing {source}: run npm ci first", file=sys.stderr)
                return 1
            shutil.copy2(source, target / Path(relative).name)
    print(f"vendor assets copied to {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
