"""The adviser inbox on the edge app (with the fake Rasa): off without a secret, sign-in,
escaping, CSRF, cookies, marking handled, and the crisis counter."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import requests

from bot import settings
from bot.edge import inbox
from bot.edge.app import create_app
from bot.storage.handoff_store import HandoffStore
from tests.support.servers import BackgroundApp

SECRET = "correct horse battery staple 42"
TEMPLATES = Path(inbox.__file__).parent / "templates"


def _app(fake_rasa):
    return create_app(settings.load(), rasa=fake_rasa, name=f"edge_{uuid.uuid4().hex[:8]}")


@pytest.fixture
def db_url(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'handoff.db'}"
    monkeypatch.setenv("HANDOFF_DB_URL", url)
    return url


@pytest.fixture
def store(db_url) -> HandoffStore:
    return HandoffStore(db_url)


@pytest.fixture
def inbox_app(fake_rasa, db_url, monkeypatch) -> Iterator[BackgroundApp]:
    monkeypatch.setenv("ADVISER_SECRET", SECRET)
    with BackgroundApp(_app(fake_rasa)) as running:
        yield running


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF token in the form"
    return match.group(1)


def _signed_in(app: BackgroundApp) -> requests.Session:
    browser = requests.Session()
    form = browser.get(f"{app.url}/adviser", timeout=10)
    reply = browser.post(
        f"{app.url}/adviser/sign-in", data={"csrf": _csrf(form.text), "secret": SECRET}, timeout=10
    )
    assert reply.status_code == 200 and "Questions left for an adviser" in reply.text
    return browser


@pytest.mark.parametrize("secret", [None, "", "too-short-secret"[:15]])
def test_the_inbox_is_off_without_a_long_enough_secret(fake_rasa, db_url, monkeypatch, secret):
    if secret is None:
        monkeypatch.delenv("ADVISER_SECRET", raising=False)
    else:
        monkeypatch.setenv("ADVISER_SECRET", secret)
    with BackgroundApp(_app(fake_rasa)) as app:
        for path in ("/adviser", "/adviser/requests/ABC234"):
            assert requests.get(f"{app.url}{path}", timeout=10).status_code == 404
        assert requests.post(
            f"{app.url}/adviser/sign-in", data={"secret": secret or "x"}, timeout=10
        ).status_code in (404, 405)


def test_a_wrong_secret_gets_403_and_no_session(inbox_app, store):
    store.add("Can I get legal aid?", "Parent: Can I get legal aid?")
    browser = requests.Session()
    form = browser.get(f"{inbox_app.url}/adviser", timeout=10)
    assert form.status_code == 200 and 'type="password"' in form.text
    reply = browser.post(
        f"{inbox_app.url}/adviser/sign-in",
        data={"csrf": _csrf(form.text), "secret": SECRET + "x"},
        timeout=10,
    )
    assert reply.status_code == 403
    assert "That secret is not right." in reply.text
    assert "legal aid" not in browser.get(f"{inbox_app.url}/adviser", timeout=10).text


def test_sign_in_without_the_forms_token_is_refused(inbox_app):
    reply = requests.post(f"{inbox_app.url}/adviser/sign-in", data={"secret": SECRET}, timeout=10)
    assert reply.status_code == 403 and "Questions left" not in reply.text


def test_too_many_sign_in_attempts_are_slowed_down(inbox_app):
    statuses = [
        requests.post(
            f"{inbox_app.url}/adviser/sign-in", data={"secret": "nope"}, timeout=10
        ).status_code
        for _ in range(inbox.SIGNIN_ATTEMPTS_PER_MINUTE + 1)
    ]
    assert statuses[:-1] == [403] * inbox.SIGNIN_ATTEMPTS_PER_MINUTE and statuses[-1] == 429


def test_requests_are_listed_newest_first_with_status(inbox_app, store):
    made = [store.add(f"Question number {n}", f"Parent: Question number {n}") for n in range(3)]
    store.mark_handled(made[0].reference)
    page = _signed_in(inbox_app).get(f"{inbox_app.url}/adviser", timeout=10).text
    positions = [page.index(r.reference) for r in reversed(made)]
    assert positions == sorted(positions)
    rows = re.findall(
        r"<tr>\s*<td><a href=\"/adviser/requests/(\w+)\">.*?</td>\s*<td>.*?</td>"
        r"\s*<td>(\w+)</td>",
        page,
        re.S,
    )
    assert rows == [
        (made[2].reference, "new"),
        (made[1].reference, "new"),
        (made[0].reference, "handled"),
    ]


def test_a_transcript_with_html_is_escaped(inbox_app, store):
    request = store.add(
        "<script>alert('q')</script> can I get legal aid?",
        'Parent: <img src=x onerror=alert(1)>\nAssistant: "quoted" & more',
    )
    browser = _signed_in(inbox_app)
    page = browser.get(f"{inbox_app.url}/adviser/requests/{request.reference}", timeout=10)
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(&#39;q&#39;)&lt;/script&gt;" in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert "&#34;quoted&#34; &amp; more" in page.text
    listing = browser.get(f"{inbox_app.url}/adviser", timeout=10).text
    assert "<script>alert" not in listing and "&lt;script&gt;" in listing


def test_mark_handled_needs_the_csrf_token(inbox_app, store):
    request = store.add("Can I get legal aid?", "Parent: Can I get legal aid?")
    browser = _signed_in(inbox_app)
    url = f"{inbox_app.url}/adviser/requests/{request.reference}"
    page = browser.get(url, timeout=10).text
    for data in ({}, {"csrf": "forged"}, {"csrf": _csrf(page) + "x"}):
        refused = browser.post(f"{url}/handled", data=data, timeout=10)
        assert refused.status_code == 403
        assert store.get(request.reference).status == "new"
    # The right token, but from another site's page: no cookie, so refused too.
    assert (
        requests.post(f"{url}/handled", data={"csrf": _csrf(page)}, timeout=10).status_code == 403
    )
    done = browser.post(f"{url}/handled", data={"csrf": _csrf(page)}, timeout=10)
    assert done.status_code == 200 and done.url == url
    assert store.get(request.reference).status == "handled"
    assert "Mark as handled" not in done.text


def test_unknown_references_and_signed_out_visitors(inbox_app, store):
    browser = _signed_in(inbox_app)
    missing = browser.get(f"{inbox_app.url}/adviser/requests/ZZZZZZ", timeout=10)
    assert missing.status_code == 404 and "no request with that reference" in missing.text
    request = store.add("Question", "Parent: Question")
    anonymous = requests.get(
        f"{inbox_app.url}/adviser/requests/{request.reference}", timeout=10, allow_redirects=False
    )
    assert anonymous.status_code == 303 and anonymous.headers["Location"] == "/adviser"
    page = browser.get(f"{inbox_app.url}/adviser", timeout=10).text
    out = browser.post(f"{inbox_app.url}/adviser/sign-out", data={"csrf": _csrf(page)}, timeout=10)
    assert out.status_code == 200 and 'type="password"' in out.text
    assert "Question" not in browser.get(f"{inbox_app.url}/adviser", timeout=10).text


def test_cookies_and_headers(inbox_app):
    form = requests.get(f"{inbox_app.url}/adviser", timeout=10)
    csp = form.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "default-src 'none'" in csp
    assert form.headers["Cache-Control"] == "no-store"
    reply = requests.post(
        f"{inbox_app.url}/adviser/sign-in",
        allow_redirects=False,
        data={"csrf": _csrf(form.text), "secret": SECRET},
        cookies=form.cookies,
        timeout=10,
        headers={"X-Forwarded-Proto": "https"},
    )
    assert reply.status_code == 303
    cookie = next(
        c
        for c in reply.raw.headers.getlist("Set-Cookie")
        if c.startswith(inbox.SESSION_COOKIE + "=")
    )
    for attribute in (
        "HttpOnly",
        "SameSite=Strict",
        "Path=/adviser",
        "Secure",
        f"Max-Age={inbox.SESSION_IDLE_SECONDS}",
    ):
        assert attribute in cookie, attribute
    plain = requests.post(
        f"{inbox_app.url}/adviser/sign-in",
        allow_redirects=False,
        data={"csrf": _csrf(form.text), "secret": SECRET},
        cookies=form.cookies,
        timeout=10,
    )
    assert "Secure" not in plain.headers["Set-Cookie"]


def test_sessions_expire_and_cannot_be_forged():
    now = [1_000_000.0]
    signer = inbox.Signer(SECRET, clock=lambda: now[0])
    token = signer.dumps({"kind": "session", "csrf": "t", "iat": now[0], "exp": now[0] + 60})
    assert signer.loads(token, "session")["csrf"] == "t"
    assert signer.loads(token, "signin") is None  # a form token is not a session
    assert inbox.Signer(SECRET + "!", clock=lambda: now[0]).loads(token, "session") is None
    body, mac = token.split(".")
    assert signer.loads(body[:-2] + "xx." + mac, "session") is None
    now[0] += 61
    assert signer.loads(token, "session") is None


def test_a_cookie_signed_with_another_secret_is_not_a_session(inbox_app, store):
    store.add("Private question", "Parent: Private question")
    forged = inbox.Signer("another secret, long enough").dumps(
        {"kind": "session", "csrf": "x", "iat": time.time(), "exp": time.time() + 600}
    )
    page = requests.get(
        f"{inbox_app.url}/adviser", timeout=10, cookies={inbox.SESSION_COOKIE: forged}
    )
    assert "Private question" not in page.text and 'type="password"' in page.text


def test_templates_have_no_inline_script_or_style():
    for template in TEMPLATES.glob("inbox_*.html"):
        text = template.read_text(encoding="utf-8").lower()
        for banned in ("<script", "<style", "style=", "onclick", "javascript:"):
            assert banned not in text, (template.name, banned)


def test_crisis_answers_are_counted_by_category_and_shown(inbox_app, fake_rasa, store):
    fake_rasa.replies["I can't go on"] = [
        {"text": "crisis help", "custom": {"crisis": "suicidal"}},
        {
            "text": "carry on?",
            "buttons": [{"title": "Talk to an adviser", "payload": "/request_human"}],
        },
    ]
    session = requests.post(f"{inbox_app.url}/api/session", timeout=10).json()["session"]
    for _ in range(2):
        reply = requests.post(
            f"{inbox_app.url}/api/message",
            timeout=10,
            json={"session": session, "text": "I can't go on"},
        )
        assert reply.status_code == 200
        assert all("custom" not in message for message in reply.json()["messages"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        counts = store.crisis_counts(since=__import__("datetime").date.min)
        if counts and counts[0].count == 2:
            break
        time.sleep(0.1)
    assert [(c.category, c.count) for c in counts] == [("suicidal", 2)]
    page = _signed_in(inbox_app).get(f"{inbox_app.url}/adviser", timeout=10).text
    assert re.search(r"<td>suicidal</td><td>2</td>", page)
    assert "I can't go on" not in page


def test_crisis_answers_are_counted_only_while_the_inbox_is_on(fake_rasa, db_url, monkeypatch):
    """The counter is the inbox's: built with it, absent (nothing stored) without it."""
    counted = []
    monkeypatch.delenv("ADVISER_SECRET", raising=False)
    off = create_app(
        settings.load(),
        rasa=fake_rasa,
        name=f"edge_{uuid.uuid4().hex[:8]}",
        handoff_store=lambda: counted.append("opened") or HandoffStore(db_url),
    )
    assert off.ctx.edge.on_crisis is None
    on = create_app(
        settings.load(),
        rasa=fake_rasa,
        name=f"edge_{uuid.uuid4().hex[:8]}",
        env={"ADVISER_SECRET": SECRET},
        handoff_store=lambda: HandoffStore(db_url),
    )
    assert on.ctx.edge.on_crisis is not None
    on.ctx.edge.on_crisis("suicidal")  # outside an event loop: counted at once
    assert [
        (c.category, c.count)
        for c in HandoffStore(db_url).crisis_counts(since=__import__("datetime").date.min)
    ] == [("suicidal", 1)]
    assert counted == [], "the edge with the inbox off never opened the handoff store"


def test_check_ins_are_counted_by_category_like_crisis_answers(inbox_app, fake_rasa, store):
    fake_rasa.replies["done with it all"] = [
        {
            "text": "check-in",
            "custom": {"checkin": "suicidal"},
            "buttons": [
                {"title": "I'm safe, carry on", "payload": "/checkin_safe"},
                {"title": "I need help now", "payload": "/crisis_suicidal"},
            ],
        }
    ]
    session = requests.post(f"{inbox_app.url}/api/session", timeout=10).json()["session"]
    reply = requests.post(
        f"{inbox_app.url}/api/message",
        timeout=10,
        json={"session": session, "text": "done with it all"},
    )
    assert reply.status_code == 200
    assert all("custom" not in message for message in reply.json()["messages"])
    deadline = time.monotonic() + 10
    counts = []
    while time.monotonic() < deadline:
        counts = store.crisis_counts(since=__import__("datetime").date.min)
        if counts:
            break
        time.sleep(0.1)
    assert [(c.category, c.count) for c in counts] == [("checkin_suicidal", 1)]
