"""The layering contracts (pyproject.toml, `make lint`) hold, and they do catch what they are for: a page reading a
model, a view reaching an outside service, a rule importing the database."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.once


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root, env=os.environ | {"PYTHONPATH": str(root)}, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def copy_of_the_code(tmp_path) -> Path:
    shutil.copytree(ROOT / "backend", tmp_path / "backend", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_code_keeps_every_contract(copy_of_the_code):
    result = _lint_imports(copy_of_the_code)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("backend/pages/sneaky.py", "from backend.models import Compound", "never models or the session"),
    ("backend/pages/sneaky.py", "from backend.extensions import db", "never models or the session"),
    ("backend/api/sneaky.py", "from backend.integrations import wechat_pay", "services and jobs only"),
    ("backend/pages/sneaky.py", "from backend.integrations import sms", "services and jobs only"),
    ("backend/domain/sneaky.py", "from backend.models import Compound", "nothing of ours but the clock"),
    ("backend/services/sneaky.py", "from backend.presenters import workorders", "Views → presenters"),
    ("backend/models/sneaky.py", "from backend.policy import authorize", "Views → presenters"),
])
def test_a_forbidden_import_breaks_its_contract(copy_of_the_code, module, line, contract):
    (copy_of_the_code / module).write_text(f'"""A forbidden import, for the test."""\n{line}\n')
    result = _lint_imports(copy_of_the_code)
    assert result.returncode == 1, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert contract in broken and module.removesuffix(".py").replace("/", ".") in broken
