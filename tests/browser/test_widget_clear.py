""" "Clear conversation" in a real browser: every id the tab used is deleted, "cleared" is
said only once the server answered 204, and a failed delete is retried."""

from __future__ import annotations

import re
from typing import Any, List
from urllib.parse import urlsplit

import requests
from playwright.sync_api import expect

from tests.browser.conftest import Tab, wait_for_events
from tests.browser.test_widget import converse

CLEARED = re.compile(r"here and on the server")
NOT_YET = re.compile(r"could not be deleted yet")


def _deletes(tab: Tab) -> List[str]:
    return [urlsplit(r.url).path.rsplit("/", 1)[-1] for r in tab.requests if r.method == "DELETE"]


def _clear(tab: Tab) -> None:
    tab.dialog.get_by_role("button", name=re.compile("clear", re.I)).click()


def test_clear_deletes_every_session_the_conversation_used(tab: Tab, stack) -> None:
    first, _ = converse(tab)
    # The edge forgets the id (as after an idle pause or a restart): a new one is issued.
    assert requests.delete(f"{stack.edge_url}/api/session/{first}", timeout=10).status_code == 204
    second = tab.ask("What is a safety plan?").get("session")
    assert second and second != first
    assert wait_for_events(stack, second, lambda n: n > 0) > 0
    _clear(tab)
    expect(tab.status).to_have_text(CLEARED)
    assert {first, second} <= set(_deletes(tab))
    assert wait_for_events(stack, second, lambda n: n == 0) == 0
    assert wait_for_events(stack, first, lambda n: n == 0) == 0
    stored = " ".join(tab.session_storage().values())
    assert first not in stored and second not in stored


def test_a_failed_delete_is_not_called_cleared_and_is_retried(tab: Tab, stack) -> None:
    session, _ = converse(tab)
    assert wait_for_events(stack, session, lambda n: n > 0) > 0
    calls: List[Any] = []

    def flaky(route: Any) -> None:
        calls.append(route.request.url)
        if len(calls) == 1:
            route.fulfill(status=503, content_type="application/json", body='{"error": "x"}')
        else:
            route.continue_()

    tab.page.route("**/api/session/*", flaky)
    _clear(tab)
    expect(tab.status).to_have_text(NOT_YET)
    assert wait_for_events(stack, session, lambda n: n > 0, timeout_s=0.1) > 0
    # The retry (a second later) deletes it, and only then does the widget say so.
    assert tab.pump_until(lambda: len(calls) >= 2, timeout_s=15)
    expect(tab.status).to_have_text(CLEARED, timeout=15_000)
    assert wait_for_events(stack, session, lambda n: n == 0) == 0
    assert all(url.endswith("/api/session/" + session) for url in calls[:2])
