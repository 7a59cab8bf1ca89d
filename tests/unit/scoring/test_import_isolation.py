"""scoring imports without Flask, SQLAlchemy or jieba: a subprocess blocks them first."""

import subprocess
import sys

MODULES = [
    "scoring",
    "scoring.association",
    "scoring.attainment",
    "scoring.change",
    "scoring.comparison",
    "scoring.drivers",
    "scoring.grouping",
    "scoring.index",
    "scoring.intervals",
    "scoring.measures",
    "scoring.principles",
    "scoring.reliability",
    "scoring.results",
    "scoring.servqual",
    "scoring.statement_rules",
    "scoring.trend",
]

SCRIPT = """
import sys
for blocked in ("flask", "sqlalchemy", "flask_sqlalchemy", "perception", "jieba"):
    sys.modules[blocked] = None  # any import of these now raises ImportError
import importlib
for name in {modules!r}:
    importlib.import_module(name)
assert "scoring.text" not in sys.modules, "scoring must not import scoring.text eagerly"
print("ok")
"""


def test_scoring_imports_without_web_stack():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(modules=MODULES)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
