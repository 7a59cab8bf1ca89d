"""The dependency direction of the house (shared/STYLE.md, README "Layout"): a phase imports only
the phases before it; the platform (core, web, api, reporting) imports no phase; no module outside
the unit of work commits or rolls back."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "perception"
PHASES = ("setup", "kpi", "surveys", "collection", "analysis", "review")
PLATFORM = ("core", "web", "api", "reporting")


def _imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return found


def test_phases_import_only_earlier_phases_and_the_platform_none():
    wrong = []
    for package in PHASES + PLATFORM:
        for path in (PACKAGE / package).rglob("*.py"):
            for module in _imports(path):
                parts = module.split(".")
                if parts[0] != "perception" or len(parts) < 2 or parts[1] not in PHASES:
                    continue
                if package in PLATFORM or PHASES.index(parts[1]) > PHASES.index(package):
                    wrong.append(f"{path.relative_to(PACKAGE.parent)} imports {module}")
    assert wrong == []


def test_only_the_unit_of_work_commits_or_rolls_back():
    allowed = {PACKAGE / "core" / "transaction.py", PACKAGE / "core" / "sqlite_writers.py"}
    call = re.compile(r"\.(commit|rollback)\(\)")
    offenders = [
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*.py")
        if path not in allowed
        and "migrations" not in path.parts
        and call.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_operations_read_no_application_state():
    offenders = [
        str(path.relative_to(PACKAGE.parent))
        for phase in PHASES
        for path in (PACKAGE / phase / "services").rglob("*.py")
        if re.search(r"\b(current_app|has_app_context)\b", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
