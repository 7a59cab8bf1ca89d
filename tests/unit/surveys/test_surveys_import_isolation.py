"""`surveys` must not pull in Flask, SQLAlchemy or the app (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys


def test_surveys_imports_no_flask_sqlalchemy_or_perception():
    code = (
        "import sys, surveys, surveys.instruments, surveys.forms\n"
        "surveys.builtin_instruments()\n"
        "banned = {'flask', 'flask_wtf', 'sqlalchemy', 'perception'}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in banned)\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
