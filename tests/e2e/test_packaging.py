"""`pip install .` (a real wheel, not an editable install) gives a working service: templates,
translations, migrations, static files and survey instruments ship inside the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

# Serves its own SQLite file whatever the database setting: CI runs it in the SQLite pass only.
pytestmark = pytest.mark.own_sqlite

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_contains_everything_and_serves_pages(tmp_path):
    dist = tmp_path / "dist"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(dist),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    wheel = next(dist.glob("perception-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "perception/templates/base.html",
        "perception/templates/auth/login.html",
        "perception/static/css/app.css",
        "perception/core/translations/zh_CN/core.po",
        "perception/kpi/translations/zh_CN/kpi.po",
        "perception/migrations/env.py",
        "scoring/__init__.py",
        "surveys/__init__.py",
    ):
        assert required in names, f"{required} missing from the wheel"
    assert any(n.startswith("perception/migrations/versions/") and n.endswith(".py") for n in names)

    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    script = (
        "import perception, sys\n"
        f"assert perception.__file__.startswith({str(target)!r}), perception.__file__\n"
        "from perception import create_app\n"
        "from perception.core.extensions import db\n"
        "from flask_migrate import upgrade\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    upgrade()\n"
        "c = app.test_client()\n"
        "r = c.get('/login', headers={'Accept-Language': 'zh-CN'})\n"
        "assert r.status_code == 200, r.status_code\n"
        "assert '登录' in r.get_data(as_text=True)\n"
        "assert c.get('/static/css/app.css').status_code == 200\n"
        "print('OK')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target), "PERCEPTION_INSTANCE_PATH": str(tmp_path / "instance")}
    env.pop("PERCEPTION_DATABASE_URL", None)
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0 and "OK" in run.stdout, run.stdout[-2000:] + run.stderr[-3000:]
