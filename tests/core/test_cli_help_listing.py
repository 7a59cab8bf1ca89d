"""`perception --help` lists the commands without building the app (issue 19: it must answer in
under a second); the list it prints is the app's own list."""

from __future__ import annotations

import re

import click
from click.testing import CliRunner

from perception.cli import PerceptionGroup


def _listed(text: str) -> set[str]:
    section = text.split("Commands:", 1)[1]
    return {m.group(1) for m in re.finditer(r"^  (\S+)\s", section, re.M)}


def test_help_lists_the_apps_commands_without_loading_it(app, monkeypatch):
    def no_app(*_args, **_kwargs):
        raise AssertionError("--help built the app")

    monkeypatch.setattr("perception.cli._create_app", no_app)
    group = PerceptionGroup(help="Perception")
    result = CliRunner().invoke(group, ["--help"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        ctx = click.Context(app.cli)
        expected = {name for name in app.cli.list_commands(ctx) if not app.cli.get_command(ctx, name).hidden}
    assert _listed(result.output) == expected | {"shell", "routes"}
