"""Start-up stays light: creating the app and `perception --help` import no SciPy, scikit-learn,
Matplotlib or pandas. Those load inside the functions that use them (statistics, text themes and
classifiers, charts), so a web worker or a CLI command does not pay for them until needed.

Each check runs in a fresh interpreter (the test process itself has long imported everything).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Runs its own commands on a fresh instance folder whatever the database setting: CI runs it in
# the SQLite pass only.
pytestmark = pytest.mark.own_sqlite

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("scipy", "sklearn", "matplotlib", "pandas")

CREATE_APP = f"""
import sys
import perception
perception.create_app()
print(sorted(m for m in {HEAVY!r} if m in sys.modules))
"""

CLI_HELP = """
import sys
sys.argv = ["perception", "--help"]
from perception.cli import main
main()
"""


def _run(args: list[str], instance: Path) -> subprocess.CompletedProcess[str]:
    # A clean default configuration: no inherited PERCEPTION_* settings, instance/ in tmp_path.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PERCEPTION_")}
    env["PERCEPTION_INSTANCE_PATH"] = str(instance)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
    )


def _imported_top_level(importtime_stderr: str) -> set[str]:
    """Top-level package names from `python -X importtime` lines ("import time: self | cum | name")."""
    names = set()
    for line in importtime_stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        name = line.rsplit("|", 1)[-1].strip()
        if name and name != "imported package":
            names.add(name.split(".", 1)[0])
    return names


@pytest.mark.slow
def test_create_app_does_not_import_heavy_libraries(tmp_path):
    out = _run(["-c", CREATE_APP], tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


@pytest.mark.slow
def test_cli_help_does_not_import_heavy_libraries(tmp_path):
    out = _run(["-X", "importtime", "-c", CLI_HELP], tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Usage:" in out.stdout
    imported = _imported_top_level(out.stderr)
    assert "perception" in imported, "no -X importtime output was parsed"
    assert sorted(imported.intersection(HEAVY)) == []


# The database stack: SQLAlchemy's ORM, Flask-SQLAlchemy, Alembic (through Flask-Migrate) and the
# models. `perception --help` lists commands and needs none of it; loading it took `--help` to
# 0.95 s on an idle 2-core machine (session 8), at the one-second line.
DATABASE_STACK = ("alembic", "flask_migrate", "flask_sqlalchemy")


@pytest.mark.slow
def test_cli_help_does_not_load_the_database_stack(tmp_path):
    out = _run(["-X", "importtime", "-c", CLI_HELP], tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    imported = _imported_top_level(out.stderr)
    assert sorted(imported.intersection(DATABASE_STACK)) == []
    modules = {
        line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")
    }
    assert not {m for m in modules if m.startswith(("sqlalchemy.orm", "perception.core.models"))}
