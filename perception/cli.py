"""The `perception` command (also `flask --app perception ...`). Thin wrappers over services."""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, routes_command, shell_command, with_appcontext

# The database stack (SQLAlchemy's ORM, the models, Alembic) is imported inside the commands that
# use it: `perception --help` lists the commands without it (issue 19: under a second).


def _in_unit(action: Any) -> Any:
    """Run one operation as the command's unit of work (committed, or rolled back on an error)."""
    from perception.core.transaction import unit_of_work

    with unit_of_work():
        return action()


def upgrade_database() -> None:
    from flask_migrate import upgrade

    upgrade()


@click.command("init")
@click.option("--admin-username", help="Create this system-owner account if it does not exist.")
@click.option("--admin-password", help="Its password (prompted when omitted and a username is given).")
@click.option("--admin-name", default="System owner", show_default=True)
@with_appcontext
def init_command(admin_username: str | None, admin_password: str | None, admin_name: str) -> None:
    """Create or upgrade the database through migrations; optionally create the first admin."""
    from sqlalchemy import select

    from perception.core import users
    from perception.core.audit import acting_as
    from perception.core.extensions import db, orm
    from perception.core.models.auth import Role, User

    upgrade_database()
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")
    if not admin_username:
        return
    if orm().scalar(select(User).where(User.username == admin_username)) is not None:
        click.echo(f"User {admin_username} already exists; left unchanged.")
        return
    if not admin_password:
        admin_password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with acting_as("cli:init"):
        try:
            _in_unit(
                lambda: users.create_user(
                    orm(),
                    users.UserSpec(
                        username=admin_username,
                        display_name=admin_name,
                        roles=frozenset({Role.SYSTEM_OWNER}),
                        password=admin_password,
                    ),
                )
            )
        except users.AccountError as exc:
            raise click.UsageError(exc.text("en")) from None
    click.echo(f"Created system owner {admin_username}.")


@click.command("demo")
@click.option("--weeks", default=26, show_default=True, help="Weeks of history to generate.")
@with_appcontext
def demo_command(weeks: int) -> None:
    """Load the demo organisation (idempotent: re-running does not duplicate data)."""
    from perception.core.audit import acting_as
    from perception.core.demo import DEMO_PASSWORD, load_demo
    from perception.core.extensions import orm

    upgrade_database()
    with acting_as("cli:demo"):
        summary = _in_unit(
            lambda: load_demo(orm(), weeks=weeks, progress=lambda line: click.echo(line, err=True))
        )
    for line in summary:
        click.echo(line)
    click.echo(
        f"Demo users share the password {DEMO_PASSWORD!r}: owner, collector.bj, organiser, analyst, "
        "manager, reviewer, market, customer.rep (see README)."
    )


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug/--no-debug", default=False)
@click.option(
    "--scheduler/--no-scheduler",
    default=True,
    help="Run periodic jobs in this process when no Redis is configured.",
)
@with_appcontext
def run_command(host: str, port: int, debug: bool, scheduler: bool) -> None:
    """Serve the web application (development server; use gunicorn in production)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if scheduler and not app.config.get("REDIS_URL"):
        start_scheduler_process()
    click.echo(f"Perception on http://{host}:{port}/  (Ctrl+C to stop)")
    from perception.web.warmup import warm_in_background

    warm_in_background(app)
    # Flask.run() refuses to start inside a CLI command, so serve with Werkzeug directly.
    from werkzeug.serving import run_simple

    app.debug = debug
    run_simple(host, port, app, use_reloader=False, use_debugger=debug, threaded=True)


def scheduler_tick(app: Flask) -> list[str]:
    """Enqueue the periodic jobs that are due, and recover lost jobs (perception.core.jobs.runner).

    The slots are claimed and committed first; then each due job is sent (without Redis: run) in
    a transaction of its own. Claiming and running all in one transaction held SQLite's write
    turn for the whole tick, minutes at start-up, and every request that writes (a sign-in, a page
    asking for a job) waited for it (issue 19). A job that fails gives its slot back, so the next
    tick tries it again.

    A job whose data changed since this scheduler's previous tick (``Periodic.when_changed``) is
    sent too, in its listed place: the manager pages' default views and the pre-aggregates after an
    import on the command line, which no page's request asks for (it waited for the hourly slot)."""
    from sqlalchemy import delete

    from perception.core.audit import acting_as
    from perception.core.jobs import enqueue
    from perception.core.jobs.runner import sweep
    from perception.core.jobs.schedule import FAILED, changed_since, run_due, slot_for
    from perception.core.models.jobs import ScheduledRun
    from perception.core.transaction import unit_of_work

    with app.app_context(), acting_as("scheduler"):
        periodic = {item.job: item for item in app.extensions["perception.periodic"]}
        # What each job's data looked like at this scheduler's previous tick (Periodic.when_changed).
        seen = app.extensions.setdefault("perception.scheduler_seen", {})
        due: list[tuple[str, dict[str, object]]] = []
        now = datetime.now(UTC).replace(tzinfo=None)
        seen_before = dict(seen)
        try:
            with unit_of_work() as session:
                started = run_due(
                    session, now, list(periodic.values()), lambda name, **kw: due.append((name, kw))
                )
                changed = changed_since(session, list(periodic.values()), seen, time.monotonic(), started)
        except Exception:
            app.logger.exception("scheduler tick failed")
            seen.clear()  # nothing was sent: what changed is still to send
            seen.update(seen_before)
            return []
        # A job whose data changed runs in its listed place, as if due (no slot is claimed for it).
        due += [(name, {"now": now.isoformat()}) for name in changed]
        started += changed
        order = list(periodic)
        due.sort(key=lambda item: order.index(item[0]))
        started.sort(key=order.index)
        for name, kwargs in due:
            try:
                with unit_of_work():
                    enqueue(name, **kwargs)  # type: ignore[arg-type]
            except Exception:
                app.logger.exception("periodic job %s failed", name)
                if name in changed:  # sent again once its interval has passed
                    seen[name] = (FAILED, seen[name][1])
                    continue
                with unit_of_work() as session:
                    session.execute(
                        delete(ScheduledRun).where(
                            ScheduledRun.job_name == name,
                            ScheduledRun.slot == slot_for(periodic[name].every, now),
                        )
                    )
        try:
            sweep(app)
        except Exception:
            app.logger.exception("scheduler sweep failed")
        return started


# Seconds `perception run`'s scheduler waits before its first tick: the jobs due at start-up
# (every hourly and daily one on a fresh database) come after the first users' pages (issue 19).
SCHEDULER_START_DELAY = 60


def start_scheduler_process() -> subprocess.Popen[bytes]:
    """`perception scheduler` in a process of its own, at a lower priority, ended with this one.

    Not a thread of the serving process: the jobs due at start-up (hourly and daily ones at the
    start of an hour) would run there and hold its first requests for seconds (issue 19)."""
    child = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "perception.cli", "scheduler"]
        + ["--parent", str(os.getpid()), "--delay", str(SCHEDULER_START_DELAY)],
        preexec_fn=scheduler_child_setup,  # noqa: PLW1509 - priority and parent-death signal only
    )
    atexit.register(child.terminate)
    return child


def scheduler_child_setup() -> None:
    """Run in the scheduler's child before it starts: a lower priority, and on Linux a SIGTERM
    from the kernel the moment its parent dies, however it dies (SIGKILL, a crash) and whatever
    the child is doing. The scheduler's own check of its parent runs only between ticks, and a
    tick that runs due jobs can take minutes: a killed `perception run` left its scheduler writing
    to the database for 26 minutes."""
    os.nice(10)
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Enqueue what is due now and exit.")
@click.option("--parent", type=int, default=None, hidden=True, help="Exit when this process ends.")
@click.option("--delay", type=int, default=0, hidden=True, help="Seconds to wait before the first tick.")
@with_appcontext
def scheduler_command(once: bool, parent: int | None, delay: int = 0) -> None:
    """Enqueue periodic jobs as they fall due (one slot runs once across all schedulers)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for _ in range(delay):
        if parent is not None and os.getppid() != parent:
            return
        time.sleep(1)
    while True:
        started = scheduler_tick(app)
        if started:
            click.echo(f"{datetime.now(UTC):%Y-%m-%d %H:%M} enqueued: {', '.join(started)}")
        if once:
            return
        for _ in range(60):
            if parent is not None and os.getppid() != parent:
                return  # `perception run` that started this scheduler has ended
            time.sleep(1)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run background jobs from Redis (needs PERCEPTION_REDIS_URL)."""
    from perception.core.jobs.worker import work

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("REDIS_URL"):
        raise click.UsageError("Set PERCEPTION_REDIS_URL; without Redis, jobs run in-process.")
    work(app, burst=burst)


@click.group("i18n")
def i18n_group() -> None:
    """Translation catalogue checks."""


@i18n_group.command("missing")
@click.option("--lang", default="zh_CN", show_default=True)
def i18n_missing(lang: str) -> None:
    """Print a .po fragment of every UI string without a translation (exit 1 if any)."""
    from perception.core.i18n_tools import missing_translations, po_stub

    missing = missing_translations(lang)
    if missing:
        click.echo(po_stub(missing))
        raise SystemExit(1)
    click.echo(f"All UI strings are translated into {lang}.")


COMMANDS = (
    init_command,
    demo_command,
    run_command,
    scheduler_command,
    worker_command,
    i18n_group,
)


def init_app(app: Flask) -> None:
    from perception.web.admin.cli import token_group, user_group
    from perception.web.admin.webhooks_cli import webhooks_group

    for command in (*COMMANDS, user_group, token_group, webhooks_group):
        app.cli.add_command(command)


def _create_app(*_: Any) -> Flask:
    from perception import create_app

    return create_app()


# The command groups the app gets from its phases' blueprints (perception/<phase>/cli.py), from
# the admin's modules (perception/web/admin: they load the models) and from Flask-Migrate, named
# here so that `perception --help` answers without building the app (every phase, its blueprints
# and their libraries: seconds). tests/core/test_cli_help_listing.py holds this list to the app's.
PHASE_GROUPS = {
    "collection": "Collection from a shell: importing past weekly reports and callbacks.",
    "db": "Perform database migrations.",
    "kpi": "Imports, KPI recomputation and the escalation check from a shell.",
    "review": "Create the current review, send its reminders, generate its PDF.",
    "surveys": "Surveys from a shell: importing past answers.",
    "token": "Issue and revoke API tokens.",
    "user": "Create users, set roles, reset passwords.",
    "webhooks": "Webhook subscriptions, their delivery log and replays.",
}


class PerceptionGroup(FlaskGroup):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            create_app=_create_app, add_default_commands=False, add_version_option=False, **kwargs
        )
        self.add_command(shell_command)
        self.add_command(routes_command)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of `--help`, from the commands themselves and PHASE_GROUPS, without
        loading the app (FlaskGroup would build it to list the app's commands)."""
        commands = {c.name: c for c in (*self.commands.values(), *COMMANDS) if c.name and not c.hidden}
        limit = formatter.width - 6 - max(len(name) for name in (*commands, *PHASE_GROUPS))
        rows = [(name, cmd.get_short_help_str(limit)) for name, cmd in commands.items()]
        rows += [(name, click.Command(name, help=text).get_short_help_str(limit)) for name, text in
                 PHASE_GROUPS.items()]  # fmt: skip
        with formatter.section("Commands"):
            formatter.write_dl(sorted(rows))


def main() -> None:
    cli = PerceptionGroup(help="Perception: a user-perception system for IT service providers.")
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
