"""SQLite databases the tests build once and then copy (the demo of N weeks, the route walk's small
demo): built once per test run, shared by every pytest-xdist worker of that run.

The README's test command spreads the suite over the machine's cores (pytest-xdist): without the
sharing each worker built every demo it needed itself, each load taking half a minute or more. The
first worker that asks builds the file under a lock in the folder every worker of the run shares
(``tmp_path_factory.getbasetemp().parent``, as pytest-xdist documents); the others wait for it and
use it. Users of a built file copy it before they write (``copy_to``), so workers never share a
database they change. In a single process the file goes to a temporary folder of its own.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from filelock import FileLock

_root: Path | None = None  # the folder shared by the workers of this run; None in one process
_built: dict[str, Path] = {}


def share_between_workers(root: Path) -> None:
    """Build into ``root`` from now on (called once per worker, tests/conftest.py)."""
    global _root
    root.mkdir(parents=True, exist_ok=True)
    _root = root


def built(name: str, build: Callable[[Path], None]) -> Path:
    """The SQLite file ``name``, written by ``build(path)`` the first time any worker of this run asks
    for it. ``build`` writes the whole database at ``path`` (its folder is free for its own files)."""
    if name not in _built:
        _built[name] = _build_once(name, build)
    return _built[name]


def _build_once(name: str, build: Callable[[Path], None]) -> Path:
    if _root is None:
        path = Path(tempfile.mkdtemp(prefix=f"perception-{name}-")) / "db.sqlite"
        build(path)
        return path
    folder = _root / name
    path = folder / "db.sqlite"
    done = folder / "complete"  # written last: a worker that died mid-build leaves no marker
    with FileLock(str(_root / f"{name}.lock")):
        if not done.exists():
            folder.mkdir(exist_ok=True)
            path.unlink(missing_ok=True)
            build(path)
            done.touch()
    return path


def copy_to(source: Path, target: Path) -> Path:
    """A copy of the SQLite file ``source`` at ``target`` (SQLite's online backup)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as copy:
        src.backup(copy)
    return target
