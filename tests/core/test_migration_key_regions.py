"""Migration h16api: a key narrowed to one region (api_token.scope_region_id) keeps exactly that
region as its one row of api_token_region, and a downgrade keeps the key narrowed. (On SQLite the
first version lost the rows: the batch that drops the column recreates api_token, and dropping the
old table cascaded to api_token_region.)"""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from perception import create_app
from perception.core.extensions import db
from perception.core.models.auth import User
from perception.core.models.org import Region


def test_a_key_of_one_region_keeps_it_across_the_migration(tmp_path, monkeypatch):
    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/m.sqlite"})
    with app.app_context():
        upgrade(revision="h17homes")
        with db.engine.begin() as conn:
            conn.execute(Region.__table__.insert().values(id=7, code="R7", name_zh="七", name_en="Seven"))
            conn.execute(
                User.__table__.insert().values(id=1, username="u", display_name="U", password_hash="x")
            )
            for token_id, region in ((1, 7), (2, None)):
                conn.execute(
                    text(
                        "INSERT INTO api_token (id, user_id, name, prefix, token_hash, created_at,"
                        " scope_roles, scope_region_id, read_only)"
                        " VALUES (:id, 1, 'k', 'p', :hash, '2026-01-01', '', :region, 1)"
                    ),
                    {"id": token_id, "hash": f"h{token_id}", "region": region},
                )
        upgrade(revision="h16api")
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT token_id, region_id FROM api_token_region")).all()
        assert rows == [(1, 7)]
        downgrade(revision="h17homes")
        with db.engine.connect() as conn:
            back = conn.execute(text("SELECT id, scope_region_id FROM api_token ORDER BY id")).all()
        assert back == [(1, 7), (2, None)]
