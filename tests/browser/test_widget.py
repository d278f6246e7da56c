"""The forum widget in a real browser (Debian's headless Chromium) against the real stack.

Texts come from domain.yml (bot.content.responses.render) and numbers from
bot/settings.yml; screenshots go to build/test-artifacts/.
"""

from __future__ import annotations

import gzip
import json
import re
from html.parser import HTMLParser
from typing import Any, Dict, List, Tuple
from urllib.parse import urlsplit

import pytest
import requests
from PIL import Image
from playwright.sync_api import expect

from bot import settings
from bot.content.responses import render
from bot.edge.pages import EXIT_URL_TOKEN, STATIC, forum_page
from tests.browser.conftest import (
    ANSWER_TIMEOUT_MS,
    ARTIFACTS,
    NARROW,
    WIDE,
    Tab,
    wait_for_events,
    wait_text,
)

QUESTION = "What's a family group conference?"
ANSWER = "utter_fgc/what_is"
FOLLOW_UP = (0, "utter_fgc/request")  # the answer's first quick reply, and what it leads to
SIZE_BUDGET = 30 * 1024
ALLOWED_SCHEMES = {"http", "https", "tel", "mailto"}
EXIT_URL = settings.load().edge.exit_url


def text_of(name: str) -> str:
    return render(name)["text"]


def adviser_button_name() -> str:
    """The button the welcome tells parents to choose to reach a person (quoted in it)."""
    quoted = re.findall(r'"([^"]+)"', text_of("utter_welcome"))
    assert quoted, "the welcome should name the button that reaches a person"
    return quoted[-1]


def converse(tab: Tab) -> Tuple[str, Dict[str, Any]]:
    """Open the widget, ask QUESTION, wait for its answer; return (session, answer JSON)."""
    tab.open_forum()
    session = tab.open_widget()
    wait_text(tab.log, text_of("utter_welcome"))
    answer = tab.ask(QUESTION)
    wait_text(tab.log, text_of(ANSWER))
    return session, answer


# --- What is served -------------------------------------------------------------------------------


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: List[Dict[str, Any]] = []
        self.links: List[Dict[str, Any]] = []
        self.other: List[Tuple[str, Dict[str, Any]]] = []

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Any]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self.scripts.append(found)
        elif tag == "link":
            self.links.append(found)
        elif tag in ("img", "iframe", "object", "embed", "video", "audio", "source", "style"):
            self.other.append((tag, found))


def test_widget_and_styles_fit_the_size_budget() -> None:
    js = (STATIC / "widget.js").read_bytes()
    css = (STATIC / "widget.css").read_bytes()
    separately = len(gzip.compress(js, 9)) + len(gzip.compress(css, 9))
    together = len(gzip.compress(js + css, 9))
    print(f"widget.js + widget.css gzipped: {separately} bytes separately, {together} together")
    assert separately < SIZE_BUDGET and together < SIZE_BUDGET


def test_the_exit_url_placeholder_is_the_documented_line() -> None:
    """The edge replaces this exact literal with the configured URL (bot/edge/pages.py)."""
    js = (STATIC / "widget.js").read_text(encoding="utf-8")
    assert js.count(f"var DEFAULT_EXIT_URL = {EXIT_URL_TOKEN};") == 1
    assert js.count(EXIT_URL_TOKEN) == 1


def test_demo_page_loads_only_the_widget_and_its_styles() -> None:
    assets = _Assets()
    assets.feed(forum_page())
    assert assets.scripts == [{"src": "/widget.js", "defer": None}]
    sheets = [link["href"] for link in assets.links if "stylesheet" in link.get("rel", "")]
    assert sheets == ["/widget.css"]
    others = [link["href"] for link in assets.links if "stylesheet" not in link.get("rel", "")]
    assert all(href.startswith("data:") for href in others), others
    assert assets.other == []


def test_styles_fetch_nothing() -> None:
    """No web font, no imported sheet, no background image: nothing for the browser to fetch."""
    css = (STATIC / "widget.css").read_text(encoding="utf-8")
    assert not re.search(r"@import|@font-face|url\(", css, re.I)


# --- A conversation -------------------------------------------------------------------------------


def test_ask_a_question_and_follow_a_quick_reply(tab: Tab) -> None:
    tab.open_forum()
    expect(tab.launcher).to_have_attribute("aria-expanded", "false")
    expect(tab.dialog).to_be_hidden()
    tab.open_widget()
    expect(tab.launcher).to_have_attribute("aria-expanded", "true")
    expect(tab.dialog).to_be_visible()
    title = tab.page.locator("#" + tab.dialog.get_attribute("aria-labelledby")).inner_text()
    expect(tab.page.get_by_role("dialog", name=title)).to_be_visible()
    assert tab.active("el => el.tagName") == "TEXTAREA", "opening should put focus in the text box"
    wait_text(tab.log, text_of("utter_welcome"))
    expect(tab.dialog.get_by_role("button", name=adviser_button_name())).to_be_visible()

    answer = tab.ask(QUESTION)
    wait_text(tab.log, text_of(ANSWER))
    assert tab.user_texts() == [QUESTION]
    expected = render(ANSWER)["buttons"]
    replies = tab.page.get_by_role("group", name=re.compile("repl", re.I)).get_by_role("button")
    expect(replies).to_have_text([b["title"] for b in expected])

    index, leads_to = FOLLOW_UP
    offered = answer["messages"][-1]["buttons"][index]
    with tab.page.expect_request(lambda r: urlsplit(r.url).path == "/api/message") as sent:
        replies.nth(index).click()
    body = sent.value.post_data_json
    assert (body["payload"], body["title"]) == (offered["payload"], offered["title"])
    wait_text(tab.log, text_of(leads_to))
    assert tab.user_texts() == [QUESTION, expected[index]["title"]]


def test_talk_to_an_adviser_is_always_there_and_reaches_the_handoff(tab: Tab) -> None:
    converse(tab)
    button = tab.dialog.get_by_role("button", name=adviser_button_name())
    with tab.page.expect_request(lambda r: urlsplit(r.url).path == "/api/message") as sent:
        button.click()
    assert sent.value.post_data_json["payload"] == "/request_human"
    wait_text(tab.log, settings.load().adviceline.phone)


def test_conversation_survives_a_reload_and_clear_wipes_browser_and_server(tab: Tab, stack) -> None:
    session, _ = converse(tab)
    assert wait_for_events(stack, session, lambda n: n > 0) > 0
    tab.page.reload()
    wait_text(tab.log, text_of(ANSWER), timeout=10_000)
    assert tab.bot_texts()[0] == text_of("utter_welcome")
    expect(tab.dialog).to_be_visible()
    assert any(session in value for value in tab.session_storage().values())
    assert tab.local_storage() == {}
    assert tab.context.cookies() == []

    with tab.page.expect_response(
        lambda r: r.request.method == "POST" and urlsplit(r.url).path == "/api/session"
    ) as reopened:
        tab.dialog.get_by_role("button", name=re.compile("clear", re.I)).click()
    expect(tab.log).not_to_contain_text(text_of(ANSWER))
    # Said only once the server answered 204; the tab keeps no id after that.
    expect(tab.status).to_have_text(re.compile("here and on the server"))
    stored = json.dumps(tab.session_storage())
    assert session not in stored and QUESTION not in stored
    assert wait_for_events(stack, session, lambda n: n == 0) == 0, "server copy not deleted"
    # A fresh conversation starts, with the welcome again.
    assert reopened.value.json()["session"] != session
    wait_text(tab.log, text_of("utter_welcome"))
    assert tab.user_texts() == []


def test_an_expired_session_is_replaced_and_adopted(tab: Tab, stack) -> None:
    session, _ = converse(tab)
    assert requests.delete(f"{stack.edge_url}/api/session/{session}", timeout=10).status_code == 204
    reply = tab.ask("What is a safety plan?")
    renewed = reply.get("session")
    assert renewed and renewed != session
    with tab.page.expect_request(lambda r: urlsplit(r.url).path == "/api/message") as sent:
        tab.textbox.fill("thank you")
        tab.textbox.press("Enter")
    assert sent.value.post_data_json["session"] == renewed
    assert any(renewed in value for value in tab.session_storage().values())


# --- Quick exit -----------------------------------------------------------------------------------


def _assert_exited(tab: Tab, stack, session: str) -> None:
    """The page was blank and storage empty as it left; the stub loaded; nothing is left."""
    tab.page.wait_for_url(EXIT_URL)
    assert tab.exit_hits == [EXIT_URL]
    assert tab.exit_states == [
        {
            "bodyDisplay": "none",
            "headingShown": False,
            "widgetShown": False,
            "sessionStorage": 0,
            "localStorage": 0,
        }
    ]
    assert wait_for_events(stack, session, lambda n: n == 0) == 0, "server copy not deleted"
    # Back on the forum in the same tab: nothing of the conversation is left.
    tab.page.goto(tab.base_url + "/")
    tab.launcher.wait_for()
    assert tab.page.evaluate("() => window.sessionStorage.length") == 0
    assert tab.page.locator(".fa-msg").count() == 0
    expect(tab.launcher).to_have_attribute("aria-expanded", "false")


def test_exit_quickly_button(tab: Tab, stack) -> None:
    session, _ = converse(tab)
    exit_button = tab.page.get_by_role("button", name=re.compile("exit", re.I))
    expect(exit_button).to_be_in_viewport()
    tab.watch_exit()
    exit_button.click()
    _assert_exited(tab, stack, session)


def test_shift_pressed_three_times_exits(tab: Tab, stack) -> None:
    session, _ = converse(tab)
    tab.textbox.focus()
    for _ in range(3):  # capitals typed with Shift are not an exit
        tab.page.keyboard.press("Shift+A")
    expect(tab.textbox).to_have_value("AAA")
    # The widget exits inside the key handler (page blanked at once): it has not.
    assert tab.page.evaluate("() => getComputedStyle(document.body).display") != "none"
    # One Shift now arms the exit with two presses to go: the capitals counted nothing.
    tab.page.keyboard.press("Shift")
    expect(tab.page.locator(".fa-root [role=status]").filter(has_text="2")).to_have_count(1)
    assert tab.exit_hits == [] and tab.api_deletes() == []
    tab.watch_exit()
    for _ in range(2):
        tab.page.keyboard.press("Shift")
    _assert_exited(tab, stack, session)


def test_after_a_quick_exit_going_back_shows_no_conversation(tab: Tab, stack) -> None:
    """Exit from a second forum page, then Back: the first page must not show the chat."""
    session, _ = converse(tab)
    tab.page.goto(tab.base_url + "/?page=2")
    wait_text(tab.log, text_of(ANSWER), timeout=10_000)  # the conversation follows the parent
    tab.page.get_by_role("button", name=re.compile("exit", re.I)).click()
    tab.page.wait_for_url(EXIT_URL)
    tab.page.go_back()
    tab.page.wait_for_url(tab.base_url + "/")
    tab.launcher.wait_for()
    expect(tab.page.locator(".fa-msg")).to_have_count(0)
    assert tab.page.evaluate("() => window.sessionStorage.length") == 0
    assert wait_for_events(stack, session, lambda n: n == 0) == 0


def test_a_page_restored_from_the_back_forward_cache_shows_what_storage_holds(tab: Tab) -> None:
    """Chromium under test does not keep pages in the back-forward cache (routes are on), so
    the restore is simulated: storage wiped by a later page, then a persisted pageshow."""
    converse(tab)
    tab.page.evaluate("() => window.sessionStorage.clear()")
    tab.page.evaluate(
        "() => window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))"
    )
    expect(tab.page.locator(".fa-msg")).to_have_count(0)
    expect(tab.dialog).to_be_hidden()
    expect(tab.launcher).to_have_attribute("aria-expanded", "false")


# --- Keyboard and accessibility -------------------------------------------------------------------

FOCUS_STYLE = """el => {
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
  return {tag: el.tagName, text: (el.innerText || el.getAttribute('aria-label') || '').trim(),
          visible: outline, inWidget: !!el.closest('.fa-root')};
}"""


def _tab_until(tab: Tab, predicate, limit: int = 40, key: str = "Tab") -> Dict[str, Any]:
    """Press Tab until the focused element matches; every widget stop must show its focus."""
    for _ in range(limit):
        tab.page.keyboard.press(key)
        info = tab.active(FOCUS_STYLE)
        if info["inWidget"]:
            assert info["visible"], f"no visible focus on {info}"
        if predicate(info):
            return info
    raise AssertionError(f"never reached the element with {key}")


def test_keyboard_only(tab: Tab) -> None:
    tab.open_forum()
    tab.page.keyboard.press("Tab")
    first = tab.active(FOCUS_STYLE)
    assert re.search("exit", first["text"], re.I), "Exit quickly should be the first tab stop"
    assert first["visible"]
    _tab_until(tab, lambda info: tab.active("el => el.matches('button[aria-expanded]')"))
    with tab.page.expect_response(
        lambda r: urlsplit(r.url).path == "/api/session", timeout=ANSWER_TIMEOUT_MS
    ):
        tab.page.keyboard.press("Enter")
    expect(tab.dialog).to_be_visible()
    wait_text(tab.log, text_of("utter_welcome"))
    assert tab.active("el => el.tagName") == "TEXTAREA"

    tab.page.keyboard.type(QUESTION)
    with tab.page.expect_response(
        lambda r: urlsplit(r.url).path == "/api/message", timeout=ANSWER_TIMEOUT_MS
    ):
        tab.page.keyboard.press("Enter")
    wait_text(tab.log, text_of(ANSWER))
    assert tab.active("el => el.tagName") == "TEXTAREA", "an arriving message moved the focus"

    follow = render(ANSWER)["buttons"][FOLLOW_UP[0]]["title"]
    _tab_until(tab, lambda info: info["text"] == follow, key="Shift+Tab")
    with tab.page.expect_response(
        lambda r: urlsplit(r.url).path == "/api/message", timeout=ANSWER_TIMEOUT_MS
    ):
        tab.page.keyboard.press("Enter")
    wait_text(tab.log, text_of(FOLLOW_UP[1]))
    assert tab.active("el => !!el.closest('[role=dialog]')"), "focus left the dialog"

    # Tabbing all the way round: every widget control is reached, each with visible focus.
    seen = set()
    for _ in range(40):
        tab.page.keyboard.press("Tab")
        info = tab.active(FOCUS_STYLE)
        if info["inWidget"]:
            assert info["visible"], f"no visible focus on {info}"
            seen.add(info["text"] or info["tag"])
        if info["tag"] == "TEXTAREA":
            break
    assert {adviser_button_name(), "TEXTAREA"} <= seen
    assert any(re.search("clear", name, re.I) for name in seen)
    assert any(re.search("exit", name, re.I) for name in seen)

    assert tab.active("el => el.tagName") == "TEXTAREA"
    tab.page.keyboard.press("Escape")
    expect(tab.dialog).to_be_hidden()
    expect(tab.launcher).to_have_attribute("aria-expanded", "false")
    assert tab.active("el => el.matches('button[aria-expanded]')"), "focus not back on the launcher"


def test_landmarks_roles_and_names(tab: Tab) -> None:
    converse(tab)
    assert tab.launcher.get_attribute("aria-controls") == tab.dialog.get_attribute("id")
    assert tab.log.count() == 1 and tab.status.count() == 1
    assert tab.dialog.get_by_role("textbox").get_attribute("id")
    expect(tab.dialog.get_by_label(re.compile("question", re.I))).to_be_visible()


@pytest.mark.parametrize("viewport", [WIDE, {"width": 320, "height": 640}], ids=["1280", "320"])
def test_targets_are_at_least_24px_and_the_panel_reflows(
    open_tab, viewport: Dict[str, int]
) -> None:
    tab = open_tab(viewport=viewport)
    converse(tab)
    tab.textbox.fill("a" * 300)  # a long unbroken word must wrap, not widen the page
    tab.textbox.press("Enter")
    tab.page.locator(".fa-msg-user").last.wait_for()
    boxes = tab.page.evaluate("""() => [...document.querySelectorAll(
        '.fa-root button, .fa-root textarea, .fa-root [role=log], .fa-root .fa-text')]
      .filter(el => el.getClientRects().length)
      .map(el => { const r = el.getBoundingClientRect();
                   return {tag: el.tagName, name: el.className, w: r.width, h: r.height,
                           left: r.left, right: r.right}; })""")
    targets = [b for b in boxes if b["tag"] in ("BUTTON", "TEXTAREA")]
    assert len(targets) >= 6
    assert [b for b in targets if b["w"] < 24 or b["h"] < 24] == []
    outside = [b for b in boxes if b["left"] < 0 or b["right"] > viewport["width"] + 0.5]
    assert outside == []
    width = tab.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= viewport["width"], "horizontal scrolling needed"


def _serious(results: Any) -> List[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"])
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["1280", "360"])
def test_axe_finds_no_serious_or_critical_violation(open_tab, viewport: Dict[str, int]) -> None:
    from axe_playwright_python.sync_playwright import Axe

    tab = open_tab(viewport=viewport)
    tab.open_forum()
    axe = Axe()
    assert _serious(axe.run(tab.page)) == [], "panel closed"
    tab.open_widget()
    wait_text(tab.log, text_of("utter_welcome"))
    tab.ask(QUESTION)
    wait_text(tab.log, text_of(ANSWER))
    assert _serious(axe.run(tab.page)) == [], "panel open"


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["1280", "360"])
def test_screenshots(open_tab, viewport: Dict[str, int]) -> None:
    tab = open_tab(viewport=viewport)
    converse(tab)
    path = tab.screenshot(f"widget-{viewport['width']}.png")
    assert path.parent == ARTIFACTS
    # The picture is the page as laid out: its size, and the widget's own colours where
    # the widget's parts are (the panel's header, the parent's question bubble).
    with Image.open(path) as image:
        assert image.size == (viewport["width"], viewport["height"])
        pixels = image.convert("RGB")
        for selector in (".fa-header", ".fa-msg-user .fa-text"):
            part = tab.page.locator(selector).last
            box = part.bounding_box()
            assert box is not None, selector
            # Just inside the top edge, mid-width: padding, not text or a rounded corner.
            x, y = int(box["x"] + box["width"] / 2), int(box["y"] + 2)
            assert 0 <= x < image.width and 0 <= y < image.height, (selector, box)
            shown = pixels.getpixel((x, y))
            wanted = _rgb(part.evaluate("el => getComputedStyle(el).backgroundColor"))
            assert all(abs(a - b) <= 8 for a, b in zip(shown, wanted)), (selector, shown, wanted)


def _rgb(css: str) -> Tuple[int, int, int]:
    """'rgb(29, 112, 184)' -> (29, 112, 184)."""
    red, green, blue = (int(v) for v in re.findall(r"\d+", css)[:3])
    return red, green, blue


def test_typing_indicator_respects_reduced_motion(open_tab) -> None:
    tab = open_tab(reduced_motion="reduce")
    tab.open_forum()
    held: List[Any] = []
    tab.page.route("**/api/session", lambda route: held.append(route))
    tab.launcher.click()
    assert tab.pump_until(lambda: bool(held))
    dots = tab.page.locator(".fa-dot").first
    expect(dots).to_be_visible()
    assert dots.evaluate("el => getComputedStyle(el).animationName") == "none"
    tab.page.emulate_media(reduced_motion="no-preference")
    assert dots.evaluate("el => getComputedStyle(el).animationName") != "none"
    held[0].continue_()
    wait_text(tab.log, text_of("utter_welcome"))
    expect(dots).to_be_hidden()


def test_forced_colours_keep_controls_and_focus_visible(open_tab) -> None:
    tab = open_tab(forced_colors="active")
    converse(tab)
    assert tab.page.evaluate("() => matchMedia('(forced-colors: active)').matches")
    borders = tab.page.evaluate("""() => [
        ...document.querySelectorAll('.fa-root button, .fa-root textarea')]
      .filter(el => el.getClientRects().length)
      .map(el => { const s = getComputedStyle(el);
                   return [el.className, s.borderTopStyle, parseFloat(s.borderTopWidth)]; })""")
    assert borders and all(style != "none" and width >= 1 for _, style, width in borders), borders
    tab.page.keyboard.press("Shift+Tab")
    info = tab.active(FOCUS_STYLE)
    assert info["inWidget"] and info["visible"], info
    tab.screenshot("widget-forced-colours.png")


# --- Safety of what is shown ----------------------------------------------------------------------

HOSTILE = (
    '<img src=x onerror="window.faPwned=1"> <a href="javascript:window.faPwned=2">click</a> '
    "[more](javascript:window.faPwned=3) javascript:window.faPwned=4 "
    "data:text/html,<script>window.faPwned=5</script> "
    "See https://127.0.0.1:9/ok or call 0808 801 0366 or write to help@example.org"
)
HOSTILE_BUTTON = {
    "title": '<b>bold</b><img src=x onerror="window.faPwned=6">',
    "payload": "javascript:window.faPwned=7",
}


def test_html_and_javascript_links_in_an_answer_stay_inert(tab: Tab) -> None:
    tab.open_forum()
    tab.open_widget()
    wait_text(tab.log, text_of("utter_welcome"))
    crafted = json.dumps({"messages": [{"text": HOSTILE, "buttons": [HOSTILE_BUTTON]}]})
    sent: List[Any] = []

    def answer(route: Any) -> None:
        sent.append(route.request.post_data_json)
        route.fulfill(status=200, content_type="application/json", body=crafted)

    tab.page.route("**/api/message", answer)
    tab.ask("hello")
    wait_text(tab.log, '<img src=x onerror="window.faPwned=1">')
    bubble = tab.page.locator(".fa-msg-bot .fa-text").last
    assert bubble.inner_text() == HOSTILE
    assert (
        tab.page.locator(".fa-root img, .fa-root script, .fa-root b, .fa-root iframe").count() == 0
    )
    hrefs = tab.page.locator(".fa-root a").evaluate_all("els => els.map(a => a.href)")
    assert {urlsplit(h).scheme for h in hrefs} <= ALLOWED_SCHEMES
    assert sorted(hrefs) == sorted(
        ["https://127.0.0.1:9/ok", "tel:08088010366", "mailto:help@example.org"]
    )
    button = tab.page.get_by_role("button", name=HOSTILE_BUTTON["title"])
    expect(button).to_have_text(HOSTILE_BUTTON["title"])
    button.click()
    assert tab.pump_until(lambda: len(sent) == 2)
    assert sent[1]["payload"] == HOSTILE_BUTTON["payload"]  # data sent to the server, never run
    # The answer to the click is shown: whatever it could have run has had its chance.
    expect(tab.page.locator(".fa-msg-bot .fa-text", has_text="faPwned=1")).to_have_count(2)
    assert tab.page.evaluate("() => window.faPwned") is None


# --- Calm under load and failure ------------------------------------------------------------------


def test_a_question_typed_while_the_assistant_starts_is_sent_once_ready(tab: Tab) -> None:
    tab.open_forum()
    held: List[Any] = []
    tab.page.route("**/api/session", lambda route: held.append(route))
    tab.launcher.click()
    assert tab.pump_until(lambda: bool(held))
    tab.textbox.fill(QUESTION)
    tab.textbox.press("Enter")
    expect(tab.page.locator(".fa-msg-user .fa-text")).to_have_text([QUESTION])
    expect(tab.status).not_to_have_text("")
    send = tab.dialog.get_by_role("button", name=re.compile("send", re.I))
    expect(send).to_have_attribute("aria-disabled", "true")
    tab.textbox.fill("a second question")
    tab.textbox.press("Enter")  # not sent while waiting: the text stays in the box
    expect(tab.textbox).to_have_value("a second question")
    assert tab.api_posts("/api/message") == []
    held[0].continue_()
    wait_text(tab.log, text_of(ANSWER))
    texts = tab.bot_texts()
    assert texts.index(text_of("utter_welcome")) < texts.index(text_of(ANSWER))
    assert [r.post_data_json["text"] for r in tab.api_posts("/api/message")] == [QUESTION]
    expect(send).to_have_attribute("aria-disabled", "false")


def test_a_slow_answer_disables_send_and_double_clicks_send_once(tab: Tab) -> None:
    converse(tab)
    before = len(tab.api_posts("/api/message"))
    held: List[Any] = []
    tab.page.route("**/api/message", lambda route: held.append(route))
    tab.textbox.fill(QUESTION)
    send = tab.dialog.get_by_role("button", name=re.compile("send", re.I))
    send.dblclick()
    assert tab.pump_until(lambda: bool(held))
    expect(send).to_have_attribute("aria-disabled", "true")
    expect(tab.page.locator(".fa-typing")).to_be_visible()
    tab.textbox.fill("another")
    tab.textbox.press("Enter")
    send.click(force=True)  # aria-disabled, so Playwright would wait; a parent just clicks
    expect(tab.textbox).to_have_value("another")
    held[0].continue_()
    tab.page.unroute("**/api/message")
    expect(tab.page.locator(".fa-msg-bot", has_text=text_of(ANSWER))).to_have_count(
        2, timeout=ANSWER_TIMEOUT_MS
    )
    # Requests are logged in the order they are made: any sent while the answer was held
    # would be in the log before that answer arrived.
    assert [r.post_data_json.get("text") for r in tab.api_posts("/api/message")[before:]] == [
        QUESTION
    ]
    expect(send).to_have_attribute("aria-disabled", "false")
    # A quick reply double-clicked is sent once: the log holds one request when its answer
    # has come back and been shown.
    replies = tab.page.get_by_role("group", name=re.compile("repl", re.I)).get_by_role("button")
    with tab.page.expect_response(tab._is_message, timeout=ANSWER_TIMEOUT_MS):
        replies.first.dblclick()
    wait_text(tab.log, text_of(FOLLOW_UP[1]))
    assert len(tab.api_posts("/api/message")) == before + 2


def test_enter_with_an_empty_box_sends_nothing(tab: Tab) -> None:
    tab.open_forum()
    tab.open_widget()
    wait_text(tab.log, text_of("utter_welcome"))
    for blank in ("", "   ", "\n"):
        tab.textbox.fill(blank)
        tab.textbox.press("Enter")
    expect(tab.status).not_to_have_text("")
    assert tab.user_texts() == []
    # A real question afterwards: when its answer is back, the request log holds it alone
    # (anything the blank presses had sent would be logged before it).
    tab.ask(QUESTION)
    wait_text(tab.log, text_of(ANSWER))
    assert [r.post_data_json["text"] for r in tab.api_posts("/api/message")] == [QUESTION]
    assert tab.user_texts() == [QUESTION]


@pytest.mark.parametrize(
    "status, line", [(503, "utter_edge_unavailable"), (429, "utter_edge_rate_limited")]
)
def test_the_servers_kind_line_is_shown(tab: Tab, status: int, line: str) -> None:
    """What the edge sends when Rasa is down or the parent is too fast."""
    tab.open_forum()
    tab.open_widget()
    wait_text(tab.log, text_of("utter_welcome"))
    body = json.dumps({"messages": [render(line)]})
    tab.page.route(
        "**/api/message",
        lambda route: route.fulfill(status=status, content_type="application/json", body=body),
    )
    tab.ask("hello")
    wait_text(tab.log, text_of(line))
    send = tab.dialog.get_by_role("button", name=re.compile("send", re.I))
    expect(send).to_have_attribute("aria-disabled", "false")
    tab.ask("hello again")  # each message gets its answer
    assert tab.bot_texts().count(text_of(line)) == 2


def test_a_question_typed_while_the_assistant_is_down_gets_one_kind_line(tab: Tab) -> None:
    """The session cannot open (503) and the queued question fails too: one line, not two."""
    line = text_of("utter_edge_unavailable")
    body = json.dumps({"messages": [render("utter_edge_unavailable")]})
    held: List[Any] = []
    tab.open_forum()
    tab.page.route("**/api/session", lambda route: held.append(route))
    tab.page.route(
        "**/api/message",
        lambda route: route.fulfill(status=503, content_type="application/json", body=body),
    )
    tab.launcher.click()
    assert tab.pump_until(lambda: bool(held))
    tab.textbox.fill(QUESTION)
    tab.textbox.press("Enter")
    held[0].fulfill(status=503, content_type="application/json", body=body)
    expect(tab.status).to_have_text(line)
    assert tab.bot_texts() == [line]
    assert len(tab.api_posts("/api/message")) == 1
    expect(tab.dialog.get_by_role("button", name=re.compile("send", re.I))).to_have_attribute(
        "aria-disabled", "false"
    )


def test_a_network_failure_gets_a_kind_line(tab: Tab) -> None:
    tab.open_forum()
    tab.open_widget()
    wait_text(tab.log, text_of("utter_welcome"))
    tab.page.route("**/api/message", lambda route: route.abort())
    tab.textbox.fill("hello")
    tab.textbox.press("Enter")
    expect(tab.page.locator(".fa-msg-bot")).to_have_count(2)
    assert tab.bot_texts()[-1].strip()
    expect(tab.dialog.get_by_role("button", name=re.compile("send", re.I))).to_have_attribute(
        "aria-disabled", "false"
    )


def test_a_too_long_message_gets_the_kind_line_and_its_text_back(tab: Tab) -> None:
    tab.open_forum()
    tab.open_widget()
    wait_text(tab.log, text_of("utter_welcome"))
    long_text = "word " * (settings.load().edge.max_message_chars // 5 + 1)
    reply = tab.ask(long_text)
    assert reply["messages"] == [render("utter_edge_too_long")]
    wait_text(tab.log, text_of("utter_edge_too_long"))
    expect(tab.textbox).to_have_value(long_text.strip())


def test_the_counter_shows_from_80_percent_of_the_cap_and_after_a_413(tab: Tab) -> None:
    cap = settings.load().edge.max_message_chars
    tab.open_forum()
    tab.open_widget()
    wait_text(tab.log, text_of("utter_welcome"))
    counter = tab.dialog.locator("#fa-counter")
    tab.textbox.fill("a" * (int(cap * 0.8) - 1))
    expect(counter).to_be_hidden()
    tab.textbox.fill("a" * int(cap * 0.8))
    expect(counter).to_be_visible()
    expect(counter).to_contain_text(f"{int(cap * 0.8)} of {cap}")
    long_text = "word " * (cap // 5 + 1)
    tab.ask(long_text)
    wait_text(tab.log, text_of("utter_edge_too_long"))
    expect(tab.textbox).to_have_value(long_text.strip())
    expect(counter).to_contain_text(f"{len(long_text.strip())} of {cap}")
    expect(counter).to_contain_text("too long")


# --- The network and embedding --------------------------------------------------------------------


def test_no_request_leaves_the_machine(tab: Tab) -> None:
    converse(tab)
    tab.page.get_by_role("group", name=re.compile("repl", re.I)).get_by_role("button").first.click()
    wait_text(tab.log, text_of(FOLLOW_UP[1]))
    tab.dialog.get_by_role("button", name=re.compile("clear", re.I)).click()
    wait_text(tab.log, text_of("utter_welcome"))
    edge = urlsplit(tab.base_url).netloc
    hosts = {urlsplit(r.url).netloc for r in tab.requests if r.url.startswith("http")}
    assert hosts == {edge}
    assert tab.outside == []
    assert tab.context.cookies() == []
    assert tab.local_storage() == {}


def _embed(forum, edge_url: str, attributes: str) -> str:
    """A forum topic on the forum's origin embedding the widget with one line; its URL."""
    path = f"/viewtopic.php?t={len(forum.pages) + 1}"
    forum.pages[path] = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Topic</title></head>"
        f"<body><h1>A forum topic</h1><script src='{edge_url}/widget.js' {attributes} defer>"
        "</script></body></html>"
    )
    return forum.origin + path


def _launcher_colour(tab: Tab) -> str:
    return tab.launcher.evaluate("el => getComputedStyle(el).backgroundColor")


def test_embedded_cross_origin_with_data_attributes(tab: Tab, forum_embed, stack) -> None:
    forum, edge_url = forum_embed
    tab.open_forum()
    default_colour = _launcher_colour(tab)
    leave = "https://example.org/leave"
    tab.exit_urls.add(leave)

    tab.page.goto(
        _embed(
            forum,
            edge_url,
            f"data-title='Ask the forum helper' data-colour='#4c2c92' data-exit-url='{leave}'",
        )
    )
    tab.launcher.wait_for()
    position = tab.launcher.evaluate("el => getComputedStyle(el).position")
    assert position == "fixed", "widget.css was not loaded from beside the script"
    assert _launcher_colour(tab) == "rgb(76, 44, 146)"
    with tab.page.expect_response(lambda r: r.url == f"{edge_url}/api/session") as opened:
        tab.launcher.click()  # through CORS to the edge the script came from
    assert opened.value.status == 201
    assert opened.value.headers["access-control-allow-origin"] == forum.origin
    wait_text(tab.log, text_of("utter_welcome"))
    expect(tab.page.get_by_role("dialog", name="Ask the forum helper")).to_be_visible()
    session = opened.value.json()["session"]
    assert wait_for_events(stack, session, lambda n: n > 0) > 0
    tab.page.get_by_role("button", name=re.compile("exit", re.I)).click()
    tab.page.wait_for_url(leave)
    assert tab.exit_hits == [leave]
    assert wait_for_events(stack, session, lambda n: n == 0) == 0, "server copy not deleted"

    # Unsafe values fall back: a colour white text cannot be read on, a javascript: exit.
    tab.page.goto(
        _embed(
            forum,
            edge_url,
            "data-colour='#ffff00' data-exit-url='javascript:alert(1)' data-title=''",
        )
    )
    tab.launcher.wait_for()
    assert _launcher_colour(tab) == default_colour
    for _ in range(3):
        tab.page.keyboard.press("Shift")
    tab.page.wait_for_url(EXIT_URL)
    assert tab.exit_hits == [leave, EXIT_URL]
