"""The `perception` command on a fresh database: init through migrations, users, tokens (the
demo command: tests/e2e/test_cli_demo.py)."""

from __future__ import annotations

from sqlalchemy import inspect, select

from perception.core.extensions import db


def test_init_creates_schema_and_admin(fresh_app):
    from perception.core.models.auth import Role, User

    runner = fresh_app.test_cli_runner()
    result = runner.invoke(args=["init", "--admin-username", "root", "--admin-password", "a long password"])
    assert result.exit_code == 0, result.output
    with fresh_app.app_context():
        assert "alembic_version" in inspect(db.engine).get_table_names()
        admin = db.session.scalar(select(User).where(User.username == "root"))
        assert admin is not None and admin.roles == {Role.SYSTEM_OWNER}
    again = runner.invoke(args=["init", "--admin-username", "root", "--admin-password", "a long password"])
    assert again.exit_code == 0 and "already exists" in again.output


def test_init_rejects_short_password(fresh_app):
    result = fresh_app.test_cli_runner().invoke(
        args=["init", "--admin-username", "root", "--admin-password", "x"]
    )
    assert result.exit_code != 0
    assert "password" in result.output


def test_user_and_token_commands(fresh_app):
    runner = fresh_app.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    created = runner.invoke(
        args=[
            "user",
            "create",
            "ana",
            "--role",
            "analyst",
            "--role",
            "manager",
            "--password",
            "a long password",
        ]
    )
    assert created.exit_code == 0, created.output
    bad = runner.invoke(args=["user", "create", "x", "--role", "wizard", "--password", "a long password"])
    assert bad.exit_code != 0 and "unknown role" in bad.output
    roles = runner.invoke(args=["user", "set-roles", "ana", "reviewer"])
    assert roles.exit_code == 0 and "reviewer" in roles.output
    reset = runner.invoke(args=["user", "reset-password", "ana", "--password", "another long one"])
    assert reset.exit_code == 0
    issued = runner.invoke(args=["token", "issue", "ana", "--name", "desk"])
    assert issued.exit_code == 0
    secret = issued.output.strip().splitlines()[-1]
    client = fresh_app.test_client()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    token_id = issued.output.split()[1]
    assert runner.invoke(args=["token", "revoke", token_id]).exit_code == 0
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
