"""Chinese and English are first-class: complete catalogue, language selection, remembered choice."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import login, post_form


def test_every_ui_string_has_a_chinese_translation():
    from perception.core.i18n_tools import missing_translations, po_stub

    missing = missing_translations("zh_CN")
    assert not missing, "Untranslated UI strings (add them to a .po file):\n" + po_stub(missing)


def test_each_package_keeps_one_catalogue_per_language_named_after_it():
    """A package's strings live in translations/<lang>/<package>.po: one place to look, and
    branches that add strings side by side are merged by git's union driver (.gitattributes)."""
    from perception.core.i18n import catalogue_files

    stray = [str(p) for p in catalogue_files("zh_CN") if p.stem != p.parents[2].name]
    assert not stray, f"fold these into their package's own catalogue: {stray}"


def test_accept_language_selects_chinese(client):
    html = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "登录" in html


def test_english_by_default(client):
    html = client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Sign in" in html


def test_language_switch_is_remembered_per_user(app, client, make_user, db_session):
    from perception.core.models.auth import User

    make_user("alice", "analyst")
    login(client, "alice")
    response = post_form(client, "/language", {"lang": "zh_CN", "next": "/"})
    assert response.status_code == 302
    db_session.expire_all()  # the request changed the row through its own session
    assert db_session.scalar(select(User.language).where(User.username == "alice")) == "zh_CN"
    # A brand-new browser with an English Accept-Language still gets Chinese after signing in.
    other = app.test_client()
    login(other, "alice")
    html = other.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "欢迎" in html


def test_error_page_in_users_language(client):
    response = client.get("/no-such-page", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 404
    assert "不存在" in response.get_data(as_text=True)


def test_localized_picks_field_by_language(app):
    from types import SimpleNamespace

    from perception.core.i18n import localized

    obj = SimpleNamespace(name_zh="北京", name_en="Beijing")
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert localized(obj) == "北京"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert localized(obj) == "Beijing"
    empty_en = SimpleNamespace(name_zh="上海", name_en="")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert localized(empty_en) == "上海"
