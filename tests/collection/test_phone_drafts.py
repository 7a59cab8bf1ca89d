"""The weekly report's draft on the phone (issue 17), over HTTP: the form names the stored state
it shows, the same until the report is saved and different after, so a draft kept on the device
(static/js/drafts.js) is restored only over the state it was typed on; only a report still a draft
asks to be saved to the server in the background; the script is a file of this site (CSP)."""

from __future__ import annotations

import re

from tests.collection.test_collection_web import _open, _row
from tests.conftest import post_form

VERSION = re.compile(r'data-autosave-version="([0-9a-f]+)"')


def test_the_draft_version_changes_only_when_the_report_is_saved(login_as, db_session, cat):
    c = login_as("collector")
    url = _open(c)
    first = c.get(url)
    html = first.get_data(as_text=True)
    version = VERSION.search(html).group(1)
    assert 'data-autosave="report:' in html and 'data-autosave-server="1"' in html
    assert '<script src="/static/js/drafts.js" defer></script>' in html
    assert "script-src 'self'" in first.headers["Content-Security-Policy"]  # no inline script needed
    assert VERSION.search(c.get(url).get_data(as_text=True)).group(1) == version
    typed = _row(
        "feedback", 0, customer="R1-C", dimension="fault_handling", rating="2", means="complaint", text="太慢"
    )
    added = post_form(c, url, {**typed, "action": "add_feedback"}, token_from=url)
    assert VERSION.search(added.get_data(as_text=True)).group(1) == version  # nothing stored yet
    assert post_form(c, url, {**typed, "action": "save"}, token_from=url).status_code == 302
    saved = VERSION.search(c.get(url).get_data(as_text=True)).group(1)
    assert saved != version
    assert post_form(c, url, {**typed, "action": "submit"}, token_from=url).status_code == 302
    assert "data-autosave" not in c.get(url).get_data(as_text=True)  # read-only now: no draft kept
