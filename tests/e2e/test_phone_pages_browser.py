"""Issue 17 "Phone and desktop layouts", second bullet: the weekly report, the callback script and
the follow-up tasks are the phone pages that matter. On a 390 x 844 Chromium, in Chinese and in
English, as the demo's collector: what is typed survives a reload, a failed submit (the session
gone) and reopening the page, with a visible "draft restored" notice; saving and submitting work
and clear the draft; every phone number shown is a ``tel:`` link with its digits; every control
is at least 44 x 44 CSS px; no page is wider than the phone.

The numbers to find and the rows to pick are read from the demo's tables here, not through the
pages' own code; the ``tel:`` digits are worked out here from the stored number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tests.browser import ARGS, CHROMIUM, require_chromium
from tests.e2e.demo_live import demo_server, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHONE = {"width": 390, "height": 844}
LOCALES = ("zh-CN", "en")
RESTORED = {"zh-CN": "已恢复草稿", "en": "Draft restored"}
COLLECTOR = "collector.bj"

# Controls a thumb taps, inside the page's content; a radio or checkbox is tapped through its label.
TARGETS_JS = """() => {
  const out = [];
  const seen = (r) => r.width > 0 && r.height > 0;
  const controls = 'main a[href], main button, main select, main textarea, main input';
  document.querySelectorAll(controls).forEach(el => {
    if (el.type === 'hidden' || el.closest('[hidden]')) return;
    let box = el;
    if (el.type === 'radio' || el.type === 'checkbox') {
      box = el.closest('label') || (el.id && document.querySelector(`label[for="${el.id}"]`)) || el;
    }
    const r = box.getBoundingClientRect();
    if (!seen(r)) return;
    if (r.width < 44 || r.height < 44) {
      const what = el.name || el.getAttribute('href') || el.textContent.trim().slice(0, 30);
      out.push(`${el.tagName.toLowerCase()}[${what}] ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  });
  return out;
}"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_chromium()
    with demo_server(tmp_path_factory.mktemp("phone")) as server:
        server["facts"] = _facts(server["app"])
        yield server


def _facts(app: Any) -> dict[str, Any]:
    """The collector, this week's report, a callback queue with numbers, follow-ups with numbers."""
    from perception.collection.models.fieldwork import CallbackTask
    from perception.collection.models.reports import CollectionReport
    from perception.core.clock import current_clock
    from perception.core.extensions import db
    from perception.core.models.auth import User
    from perception.core.models.org import Contact
    from perception.core.periods import week_start
    from perception.surveys.models import FollowUpTask

    with app.app_context():
        s = db.session
        user = s.scalar(select(User).where(User.username == COLLECTOR))
        week = week_start(current_clock().today())
        report = s.scalar(
            select(CollectionReport).where(
                CollectionReport.collection_point_id == user.collection_point_id,
                CollectionReport.week_start == week,
            )
        )
        calls = s.scalars(
            select(CallbackTask)
            .where(CallbackTask.region_id == user.region_id, CallbackTask.status != "completed")
            .where(CallbackTask.phone.is_not(None))
            .order_by(CallbackTask.id)
        ).all()
        engineer_names = {user.username.casefold(), (user.display_name or "").casefold()}
        call = next(c for c in calls if (c.engineer or "").strip().casefold() not in engineer_names)
        queue_phones = [
            t.phone
            for t in s.scalars(select(CallbackTask).where(CallbackTask.campaign_id == call.campaign_id))
            if t.phone
        ]
        tasks = s.scalars(
            select(FollowUpTask)
            .where(FollowUpTask.region_id == user.region_id, FollowUpTask.status != "done")
            .order_by(FollowUpTask.due_on, FollowUpTask.id)
        ).all()
        phones = {
            c.id: c.phone
            for c in s.scalars(
                select(Contact).where(Contact.id.in_({t.contact_id for t in tasks if t.contact_id}))
            )
        }
        task = next(t for t in tasks if phones.get(t.contact_id))
        facts = {
            "week": week,
            "week_label": week.strftime("%G-W%V"),
            "report_id": report.id if report else None,
            "report_status": report.status if report else None,
            "call": (call.id, call.campaign_id, call.phone),
            "queue_phones": queue_phones,
            "task": (task.id, phones[task.contact_id]),
            "task_phones": [phones[t.contact_id] for t in tasks if phones.get(t.contact_id)],
        }
        s.remove()
    return facts


def _tel(phone: str) -> str:
    """The link a phone dials: a plus kept, every other non-digit dropped (RFC 3966 global digits)."""
    return "tel:" + ("+" if phone.strip().startswith("+") else "") + re.sub(r"\D", "", phone)


def _check_phone_page(page: Any, where: str, problems: list[Any]) -> None:
    too_small = page.evaluate(TARGETS_JS)
    if too_small:
        problems.append((where, "tap targets under 44 px", too_small[:8]))
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        problems.append((where, "wider than the phone", width))


def _tel_links(page: Any) -> set[str]:
    return set(
        page.eval_on_selector_all('main a[href^="tel:"]', "els => els.map(e => e.getAttribute('href'))")
    )


def _open_this_weeks_report(page: Any, base: str, facts: dict[str, Any]) -> str:
    page.goto(f"{base}/collection/")
    page.fill('input[name="week"]', facts["week_label"])
    page.locator('form[action$="/reports/open"] button[type="submit"]').click()
    page.wait_for_load_state()
    assert re.search(r"/collection/reports/\d+$", page.url), page.url
    return page.url


HIDE_JS = """() => {
  Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def _stored_texts(app: Any, url: str) -> set[str]:
    from perception.collection.models.reports import CollectionReport
    from perception.core.extensions import db

    with app.app_context():
        report = db.session.get(CollectionReport, int(url.rsplit("/", 1)[1]))
        texts = {e.text for e in report.entries}
        db.session.remove()
    return texts


def _last_row(page: Any, kind: str) -> int:
    return page.locator(f'[data-rows="{kind}"] [data-row]').count() - 1


def _fill_feedback(page: Any, index: int, text: str) -> dict[str, str]:
    """Fill one feedback row with the first real choice of each list; returns name -> value."""
    values = {}
    for name in ("customer", "dimension", "rating", "means"):
        field = f"feedback-{index}-{name}"
        option = page.locator(f'select[name="{field}"] option').nth(1).get_attribute("value")
        page.select_option(f'select[name="{field}"]', option)
        values[field] = option
    page.fill(f'input[name="feedback-{index}-contact"]', "王工")
    values[f"feedback-{index}-contact"] = "王工"
    page.fill(f'textarea[name="feedback-{index}-text"]', text)
    values[f"feedback-{index}-text"] = text
    return values


def _values(page: Any, values: dict[str, str]) -> dict[str, str]:
    return {name: page.locator(f'[name="{name}"]').input_value() for name in values}


def test_the_weekly_report_keeps_what_was_typed_and_submits_on_a_phone(live):
    from playwright.sync_api import sync_playwright

    facts, base = live["facts"], live["base"]
    assert facts["report_status"] in (None, "draft", "returned")  # the demo leaves this week open
    problems: list[Any] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for locale in LOCALES:
                context = browser.new_context(viewport=PHONE, locale=locale, is_mobile=True, has_touch=True)
                page = context.new_page()
                sign_in(page, base, COLLECTOR)
                url = _open_this_weeks_report(page, base, facts)
                _check_phone_page(page, (locale, "report"), problems)
                index = _last_row(page, "feedback")
                typed = _fill_feedback(page, index, f"电话很快有人接 {locale}")
                # The primary action is on screen without scrolling back, wherever the thumb is.
                page.locator(f'textarea[name="feedback-{index}-text"]').scroll_into_view_if_needed()
                assert page.locator('button[value="submit"]').is_visible()
                box = page.locator('button[value="submit"]').bounding_box()
                assert box and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box

                page.reload()  # 1. a reload
                assert _values(page, typed) == typed, locale
                assert RESTORED[locale] in page.locator("[data-draft-notice]").inner_text()

                # 2. the phone puts the page away (another app): a draft report is saved to the server
                before = page.get_attribute("form[data-autosave]", "data-autosave-version")
                with page.expect_response(lambda r, url=url: r.request.method == "POST" and r.url == url):
                    page.evaluate(HIDE_JS)
                page.wait_for_function(
                    "v => document.querySelector('form[data-autosave]').dataset.autosaveVersion !== v",
                    arg=before,
                )
                assert typed[f"feedback-{index}-text"] in _stored_texts(live["app"], url)

                page.locator('[data-rows="feedback"] ~ button[value="add_feedback"]').click()  # a new row
                page.wait_for_load_state()
                added = _last_row(page, "feedback")
                assert added == index + 1
                second = _fill_feedback(page, added, "第二条 / second")
                context.clear_cookies()  # 3. the session is gone: the submit fails
                page.locator('button[value="save"]').click()
                page.wait_for_load_state()
                assert "/collection/reports/" not in page.url or page.locator(".flash-success").count() == 0
                sign_in(page, base, COLLECTOR)
                page.goto(url)  # 4. the page opened again, as after closing the tab
                both = {**typed, **second}
                assert _values(page, both) == both, locale
                assert page.locator("[data-draft-notice]").is_visible()

                action = "save" if locale == "zh-CN" else "submit"
                page.locator(f'button[value="{action}"]').click()  # 5. the submit goes through
                page.wait_for_load_state()
                assert page.locator(".flash-success").count() == 1, page.locator(
                    ".errors, .error"
                ).all_inner_texts()
                left = page.evaluate(
                    "Object.keys(localStorage).filter(k => k.startsWith('perception-draft:report:'))"
                )
                assert left == []
                page.goto(url)
                assert not page.locator("[data-draft-notice]").is_visible()
                assert {typed[f"feedback-{index}-text"], "第二条 / second"} <= _stored_texts(live["app"], url)
                context.close()
        finally:
            browser.close()
    assert problems == []
    from perception.collection.models.reports import CollectionReport
    from perception.core.extensions import db

    with live["app"].app_context():
        report = db.session.scalar(
            select(CollectionReport)
            .where(CollectionReport.week_start == facts["week"])
            .where(CollectionReport.id == int(url.rsplit("/", 1)[1]))
        )
        texts = {e.text for e in report.entries}
        assert report.status == "submitted"
        assert {"电话很快有人接 zh-CN", "电话很快有人接 en", "第二条 / second"} <= texts
        db.session.remove()


def test_the_callback_and_follow_up_pages_call_with_one_tap(live):
    from playwright.sync_api import sync_playwright

    facts, base = live["facts"], live["base"]
    call_id, campaign_id, _phone = facts["call"]
    task_id, task_phone = facts["task"]
    problems: list[Any] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for locale in LOCALES:
                context = browser.new_context(viewport=PHONE, locale=locale, is_mobile=True, has_touch=True)
                page = context.new_page()
                sign_in(page, base, COLLECTOR)

                page.goto(f"{base}/collection/callbacks/{campaign_id}")
                _check_phone_page(page, (locale, "callback queue"), problems)
                assert {_tel(n) for n in facts["queue_phones"]} <= _tel_links(page)

                page.goto(f"{base}/collection/callbacks/tasks/{call_id}")
                _check_phone_page(page, (locale, "callback"), problems)
                assert _tel(facts["call"][2]) in _tel_links(page)
                page.locator('input[name="outcome"][value="no_answer"]').check()
                page.fill('textarea[name="note"]', f"占线 {locale}")
                page.reload()
                assert page.locator('input[name="outcome"][value="no_answer"]').is_checked()
                assert page.locator('textarea[name="note"]').input_value() == f"占线 {locale}"
                assert RESTORED[locale] in page.locator("[data-draft-notice]").inner_text()
                page.locator("form.script button.primary").click()
                page.wait_for_load_state()
                assert page.locator(".flash-success").count() == 1
                page.goto(f"{base}/collection/callbacks/tasks/{call_id}")
                assert not page.locator("[data-draft-notice]").is_visible()
                assert not page.locator('input[name="outcome"][value="no_answer"]').is_checked()

                page.goto(f"{base}/surveys/followups")
                _check_phone_page(page, (locale, "follow-ups"), problems)
                assert {_tel(n) for n in facts["task_phones"]} <= _tel_links(page)
                due = page.eval_on_selector_all(
                    ".task-item:not(:has(.badge.ok)) .meta dd:first-of-type",
                    "e => e.map(x => x.textContent.trim().slice(0, 10))",
                )
                open_dues = [d for d in due if re.match(r"\d{4}-\d{2}-\d{2}", d)]
                assert open_dues == sorted(open_dues)  # the earliest due first

                page.goto(f"{base}/surveys/followups/{task_id}")
                _check_phone_page(page, (locale, "follow-up task"), problems)
                assert _tel(task_phone) in _tel_links(page)
                page.locator('input[name="status"][value="in_progress"]').check()
                page.fill('textarea[name="outcome"]', f"已致电 {locale}")
                page.reload()
                assert page.locator('textarea[name="outcome"]').input_value() == f"已致电 {locale}"
                assert page.locator('input[name="status"][value="in_progress"]').is_checked()
                assert page.locator("[data-draft-notice]").is_visible()
                page.locator("form[data-autosave] button.primary").click()
                page.wait_for_load_state()
                assert page.locator(".flash-success").count() == 1
                context.close()
        finally:
            browser.close()
    assert problems == []
    from perception.collection.models.fieldwork import CallbackTask
    from perception.core.extensions import db
    from perception.surveys.models import FollowUpTask

    with live["app"].app_context():
        call = db.session.get(CallbackTask, call_id)
        notes = [a.note for a in call.attempt_log]
        assert "占线 zh-CN" in notes and "占线 en" in notes
        task = db.session.get(FollowUpTask, task_id)
        assert task.status == "in_progress" and task.outcome == "已致电 en"
        db.session.remove()


def test_the_routing_rules_page_fits_a_phone(live):
    from playwright.sync_api import sync_playwright

    problems: list[Any] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for locale, heading in (("zh-CN", "跟进分派"), ("en", "Follow-up routing")):
                context = browser.new_context(viewport=PHONE, locale=locale, is_mobile=True, has_touch=True)
                page = context.new_page()
                sign_in(page, live["base"], "organiser")
                page.goto(f"{live['base']}/surveys/followups")
                page.locator('main a[href$="/surveys/followups/routes"]').click()
                page.wait_for_load_state()
                assert heading in page.locator("h1").inner_text()
                assert page.locator(".rule-list > li form").count() >= 1  # the demo's rule
                _check_phone_page(page, (locale, "routing rules"), problems)
                context.close()
        finally:
            browser.close()
    assert problems == []
