"""The adviser inbox in Chromium (the edge app with a fake Rasa; no model needed): signed
in with the keyboard alone, axe finds no serious violation on any inbox page at 1280 and
360 px, no page scrolls sideways at 360 px, nothing breaks the CSP, a left question
becomes a labelled example in two clicks, and the numbers page shows a seeded week.

With INBOX_SCREENSHOTS=1 the pages are also saved to docs/ (docs/inbox-*.png)."""

from __future__ import annotations

import os
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from bot import settings
from bot.edge.app import create_app
from bot.paths import PROJECT_ROOT
from bot.storage.handoff_store import HandoffStore
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, NARROW, WIDE
from tests.support.servers import BackgroundApp

pytestmark = pytest.mark.browser
SECRET = "correct horse battery staple 42"
QUESTION = "We were told the safety plan is binding, is that right? Nobody explained it."
TRANSCRIPT = (
    "[09:30] Assistant: Hello. I can answer general questions about safety plans.\n"
    f"[09:31] Parent: {QUESTION}\n"
    "[09:31] Assistant: I can't answer that reliably, so it's best to ask an adviser.\n"
    "[09:32] Parent chose: Yes, leave my question"
)


@pytest.fixture
def inbox_site(fake_rasa, tmp_path, monkeypatch) -> Iterator[Dict[str, Any]]:
    url = f"sqlite:///{tmp_path / 'handoff.db'}"
    monkeypatch.setenv("HANDOFF_DB_URL", url)
    monkeypatch.setenv("ADVISER_SECRET", SECRET)
    monkeypatch.setenv("EDGE_LOCAL_DEV", "1")
    store = HandoffStore(url)
    app = create_app(settings.load(), rasa=fake_rasa, name=f"inbox_{uuid.uuid4().hex[:8]}")
    with BackgroundApp(app) as running:
        yield {"url": running.url, "store": store}
    store.engine.dispose()


@pytest.fixture
def page_at(driver, tmp_path) -> Iterator[Any]:
    browsers: List[Any] = []
    problems: List[str] = []

    def make(viewport: Dict[str, int]) -> Any:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        browsers.append(browser)
        page = browser.new_context(viewport=viewport).new_page()
        page.on(
            "console",
            lambda m: (
                problems.append(m.text)
                if m.type == "error" or "Content Security Policy" in m.text
                else None
            ),
        )
        page.on("pageerror", lambda e: problems.append(str(e)))
        return page

    yield make
    for browser in browsers:
        browser.close()
    assert problems == [], problems


def _serious(results: Any) -> List[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"])
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def _sign_in_with_the_keyboard(page: Any, base: str) -> None:
    page.goto(f"{base}/adviser")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "secret":
            break
    page.keyboard.type(SECRET)
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('Questions left for an adviser')")


def _seed(store: HandoffStore) -> str:
    request = store.add(QUESTION, TRANSCRIPT, learn_consent=True)
    store.add("Another question about a conference next week", "[10:02] Parent: Another")
    zone = settings.load().organisation.zone
    today = datetime.now(zone).date()
    for metric, key, times in (
        ("conversations", "", 12),
        ("faq", "safety_plan/legal_status", 5),
        ("faq", "fgc/what_is", 3),
        ("clarification", "", 2),
        ("handoff", "not_covered", 2),
        ("left", "", 2),
    ):
        for _ in range(times):
            store.count_week(metric, key, today)
    store.count_week("faq", "fgc/what_is", today - timedelta(days=7))
    store.count_crisis("suicidal", today)
    return request.reference


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["1280", "360"])
def test_every_inbox_page_passes_axe_and_fits(inbox_site, page_at, viewport) -> None:
    from axe_playwright_python.sync_playwright import Axe

    reference = _seed(inbox_site["store"])
    base = inbox_site["url"]
    page = page_at(viewport)
    page.goto(f"{base}/adviser")
    axe = Axe()
    assert _serious(axe.run(page)) == [], "sign-in"
    _sign_in_with_the_keyboard(page, base)
    shots = os.environ.get("INBOX_SCREENSHOTS") == "1"
    for name, path in (
        ("list", "/adviser"),
        ("request", f"/adviser/requests/{reference}"),
        ("numbers", "/adviser/numbers"),
        ("access", "/adviser/access"),
    ):
        page.goto(f"{base}{path}")
        assert page.evaluate("() => document.styleSheets.length") == 1
        assert _serious(axe.run(page)) == [], name
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name} scrolls sideways at {viewport['width']} px"
        if shots and name != "access":
            suffix = "" if viewport is WIDE else "-360"
            page.screenshot(
                path=str(PROJECT_ROOT / "docs" / f"inbox-{name}{suffix}.png"), full_page=True
            )


def test_a_left_question_becomes_a_labelled_example_in_two_clicks(inbox_site, page_at):
    reference = _seed(inbox_site["store"])
    page = page_at(WIDE)
    _sign_in_with_the_keyboard(page, inbox_site["url"])
    page.click(f"a[href='/adviser/requests/{reference}']")  # click one
    page.select_option("#faq", "safety_plan/legal_status")
    page.click("button:has-text('Label: an FAQ should have answered this')")  # click two
    page.wait_for_selector(".chip-labelled")
    label = inbox_site["store"].label(reference)
    assert (label.kind, label.faq) == ("faq", "safety_plan/legal_status")
    # The transcript reads as a conversation: the parent's words on their own side.
    parent = page.locator(".conversation .from-parent").first
    assistant = page.locator(".conversation .from-assistant").first
    assert QUESTION in parent.inner_text()
    p_box, a_box = parent.bounding_box(), assistant.bounding_box()
    assert p_box["x"] + p_box["width"] > a_box["x"] + a_box["width"]  # right, left
    colours = page.evaluate(
        """() => [...document.querySelectorAll('.conversation li')].slice(0, 2)
             .map(el => getComputedStyle(el).backgroundColor)"""
    )
    assert colours[0] != colours[1]


def test_the_numbers_page_shows_the_seeded_week(inbox_site, page_at):
    _seed(inbox_site["store"])
    page = page_at(WIDE)
    _sign_in_with_the_keyboard(page, inbox_site["url"])
    page.click("nav.sections a:has-text('Numbers')")
    row = page.locator("table.numbers tbody tr").first
    cells = {
        metric: row.locator(f"td[data-metric='{metric}']").inner_text().split("\n")[0].strip()
        for metric in (
            "conversations",
            "faq_answers",
            "clarifications",
            "handoffs",
            "questions_left",
            "crisis_answers",
            "share_answered_percent",
        )
    }
    assert cells == {
        "conversations": "12",
        "faq_answers": "8",
        "clarifications": "2",
        "handoffs": "2",
        "questions_left": "2",
        "crisis_answers": "1",
        "share_answered_percent": "80%",
    }
    bars = page.locator("svg.chart rect")
    heights = [float(bars.nth(n).get_attribute("height")) for n in range(bars.count())]
    assert len(heights) == 16 and heights[-2] > heights[-1] > 0  # this week: 8 against 2
    assert re.search(r"Top FAQs", page.content())
    assert Path(PROJECT_ROOT / "docs").is_dir()
