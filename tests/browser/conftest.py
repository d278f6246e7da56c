"""Browser fixtures: Debian's Chromium, driven by Playwright's sync API, against the real stack.

Every test gets a fresh Chromium profile. Every request to a host other than 127.0.0.1 is
intercepted and never leaves the machine: the quick-exit destination gets a stub page (and
is recorded, so a test can assert it was the navigation target); anything else is aborted
and fails the test. CSP violations and script errors fail the test too.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Set, Tuple
from urllib.parse import urlsplit

import pytest

from bot import settings
from bot.paths import PROJECT_ROOT
from tests.support.servers import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
    "--no-first-run",
]
ARTIFACTS = PROJECT_ROOT / "build" / "test-artifacts"
WIDE = {"width": 1280, "height": 800}
NARROW = {"width": 360, "height": 740}
ANSWER_TIMEOUT_MS = 90_000  # a busy machine can make Rasa slow; the widget must just wait
STUB_PAGE = "<!doctype html><title>Weather</title><p>Stub of the quick-exit destination.</p>"
LAUNCHER = "button[aria-expanded][aria-controls]"
EXIT_STATE = "exit-state:"
WATCH_EXIT = (
    """() => window.addEventListener('beforeunload', () => {
  const heading = document.querySelector('h1');
  console.log('%s' + JSON.stringify({
    bodyDisplay: getComputedStyle(document.body).display,
    headingShown: !!heading && heading.getClientRects().length > 0,
    widgetShown: [...document.querySelectorAll('.fa-root')]
      .some(el => el.getClientRects().length > 0),
    sessionStorage: window.sessionStorage.length,
    localStorage: window.localStorage.length,
  }));
})"""
    % EXIT_STATE
)


def leaves_machine(url: str) -> bool:
    """True for a network request to any host but 127.0.0.1 (the stack listens only there)."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != "127.0.0.1"


class Tab:
    """One fresh Chromium profile and its tab, with the network fenced in."""

    def __init__(self, driver: Any, profile: Path, base_url: str, **options: Any) -> None:
        self.base_url = base_url
        self.exit_urls: Set[str] = {settings.load().edge.exit_url}
        self.exit_hits: List[str] = []
        self.exit_states: List[Dict[str, Any]] = []
        self.outside: List[str] = []
        self.requests: List[Any] = []
        self.problems: List[str] = []
        options.setdefault("viewport", WIDE)
        self.context = driver.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            **options,
        )
        self.context.set_default_timeout(30_000)
        self.context.route(leaves_machine, self._guard)
        self.context.on("request", lambda request: self.requests.append(request))
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))

    # --- the network fence -----------------------------------------------------------------
    def _guard(self, route: Any) -> None:
        url = route.request.url
        if url in self.exit_urls:
            self.exit_hits.append(url)
            route.fulfill(status=200, body=STUB_PAGE, content_type="text/html")
        else:
            self.outside.append(url)
            route.abort()

    def _console(self, message: Any) -> None:
        text = message.text
        if text.startswith(EXIT_STATE):
            self.exit_states.append(json.loads(text[len(EXIT_STATE) :]))
        elif "Content Security Policy" in text or text.startswith("Refused to"):
            self.problems.append(f"CSP: {text}")

    def watch_exit(self) -> None:
        """Record what the page looks like when it starts to leave (before the next page loads).

        The widget blanks the page and wipes storage before it navigates; a beforeunload
        listener added by the test reports that state through the console.
        """
        self.page.evaluate(WATCH_EXIT)

    def pump_until(self, condition: Callable[[], bool], timeout_s: float = 15) -> bool:
        """Let Playwright dispatch events (route handlers run then) until `condition()`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if condition():
                return True
            self.page.wait_for_timeout(50)
        return condition()

    # --- the widget ------------------------------------------------------------------------
    def open_forum(self) -> "Tab":
        self.page.goto(self.base_url + "/")
        self.launcher.wait_for()
        return self

    @property
    def launcher(self) -> Any:
        """The launcher: a button with aria-expanded whose accessible name contains "chat"."""
        return self.page.locator(LAUNCHER).and_(
            self.page.get_by_role("button", name=re.compile(r"\bchat\b", re.I))
        )

    @property
    def dialog(self) -> Any:
        return self.page.get_by_role("dialog")

    @property
    def log(self) -> Any:
        return self.page.get_by_role("log")

    @property
    def textbox(self) -> Any:
        return self.dialog.get_by_role("textbox")

    @property
    def status(self) -> Any:
        return self.dialog.get_by_role("status")

    def open_widget(self) -> str:
        """Click the launcher; return the new session's id once the welcome has arrived."""
        with self.page.expect_response(self._is_session_open, timeout=ANSWER_TIMEOUT_MS) as info:
            self.launcher.click()
        body = info.value.json()
        assert info.value.status == 201, body
        return body["session"]

    @staticmethod
    def _is_session_open(response: Any) -> bool:
        return response.request.method == "POST" and urlsplit(response.url).path == "/api/session"

    def ask(self, text: str) -> Dict[str, Any]:
        """Type a question, press Enter, wait for the edge's answer; return its JSON."""
        self.textbox.fill(text)
        with self.page.expect_response(self._is_message, timeout=ANSWER_TIMEOUT_MS) as info:
            self.textbox.press("Enter")
        return info.value.json()

    @staticmethod
    def _is_message(response: Any) -> bool:
        return response.request.method == "POST" and urlsplit(response.url).path == "/api/message"

    def api_posts(self, path: str) -> List[Any]:
        return [r for r in self.requests if r.method == "POST" and urlsplit(r.url).path == path]

    def api_deletes(self) -> List[Any]:
        """DELETE requests to the edge API (a quick exit or "clear" sends one)."""
        return [
            r
            for r in self.requests
            if r.method == "DELETE" and urlsplit(r.url).path.startswith("/api/")
        ]

    def bot_texts(self) -> List[str]:
        return self.page.locator(".fa-msg-bot .fa-text").all_inner_texts()

    def user_texts(self) -> List[str]:
        return self.page.locator(".fa-msg-user .fa-text").all_inner_texts()

    def session_storage(self) -> Dict[str, str]:
        return self.page.evaluate("() => Object.assign({}, window.sessionStorage)")

    def local_storage(self) -> Dict[str, str]:
        return self.page.evaluate("() => Object.assign({}, window.localStorage)")

    def active(self, script: str = "el => el") -> Any:
        """Evaluate `script` on document.activeElement."""
        return self.page.evaluate(f"() => ({script})(document.activeElement)")

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path))
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    """Playwright, once per browser module. Chromium must be Debian's: never a download.

    Module scope, not session: Playwright's sync API keeps an event loop running in the
    main thread while it is open, and every later test that calls asyncio.run() would fail.
    """
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: install Debian's package with "
            "`apt-get install -y chromium` (the CI script does the same).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture
def open_tab(driver: Any, stack: Any, tmp_path: Path) -> Iterator[Callable[..., Tab]]:
    """Make fresh tabs (context options as keyword arguments); check each one's fence at the end."""
    tabs: List[Tab] = []

    def make(**options: Any) -> Tab:
        tab = Tab(driver, tmp_path / f"profile-{len(tabs)}", stack.edge_url, **options)
        tabs.append(tab)
        return tab

    yield make
    problems: List[str] = []
    for tab in tabs:
        problems += [f"request left the machine: {url}" for url in tab.outside]
        problems += tab.problems
        tab.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def tab(open_tab: Callable[..., Tab]) -> Tab:
    """A fresh 1280 px tab."""
    return open_tab()


def stored_events(stack: Any, sender: str) -> int:
    """How many events Rasa's tracker store holds for this conversation."""
    connection = sqlite3.connect(stack.tracker_db)
    try:
        return connection.execute(
            "SELECT COUNT(*) FROM events WHERE sender_id = ?", (sender,)
        ).fetchone()[0]
    finally:
        connection.close()


def wait_for_events(
    stack: Any, sender: str, predicate: Callable[[int], bool], timeout_s: float = 30
) -> int:
    """Poll the tracker store until predicate(count) holds (deletion is asynchronous)."""
    deadline = time.monotonic() + timeout_s
    count = stored_events(stack, sender)
    while not predicate(count) and time.monotonic() < deadline:
        time.sleep(0.2)
        count = stored_events(stack, sender)
    return count


class ForumSite:
    """A stand-in forum on its own loopback port (another origin), serving pages from memory.

    It must be a real server: Chromium refuses a page it did not fetch from loopback
    (a fulfilled route counts as public) access to the loopback edge.
    """

    def __init__(self) -> None:
        self.pages: Dict[str, str] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = site.pages.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write((body or "not found").encode("utf-8"))

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def forum_embed(stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tuple[ForumSite, str]]:
    """A forum on another origin, and an edge app that allows it by CORS (as a deployment
    configures edge.allowed_origins), talking to the real Rasa of the stack."""
    from bot.edge.app import create_app
    from bot.edge.rasa_client import RasaClient
    from tests.support.servers import BackgroundApp

    forum = ForumSite()
    defaults = settings.load()
    config = dataclasses.replace(
        defaults, edge=dataclasses.replace(defaults.edge, allowed_origins=(forum.origin,))
    )
    # Clearing a conversation deletes it from the stack's own tracker store.
    monkeypatch.setenv("RASA_ENDPOINTS", str(stack.endpoints_file))
    app = create_app(
        config,
        rasa=RasaClient(stack.rasa_url, stack.actions_url),
        name=f"edge_cors_{uuid.uuid4().hex[:8]}",
    )
    try:
        with BackgroundApp(app) as edge:
            yield forum, edge.url
    finally:
        forum.close()


def wait_text(locator: Any, text: str, timeout: float = ANSWER_TIMEOUT_MS) -> None:
    """Wait until `locator` contains `text`."""
    from playwright.sync_api import expect

    expect(locator).to_contain_text(text, timeout=timeout)
