"""The adviser inbox on the edge app (with the fake Rasa): off without a secret, sign-in,
escaping, CSRF, cookies, marking handled, and the crisis counter."""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timedelta, timezone
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
    # Plain-http cookies on 127.0.0.1 (the test client keeps Secure cookies to https).
    monkeypatch.setenv("EDGE_LOCAL_DEV", "1")
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


ROW = re.compile(r'<li class="request [^"]*" data-reference="(\w+)" data-status="(\w+)">')


def test_waiting_requests_are_listed_oldest_first_then_handled(inbox_app, store):
    made = [store.add(f"Question number {n}", f"Parent: Question number {n}") for n in range(3)]
    store.mark_handled(made[0].reference)
    page = _signed_in(inbox_app).get(f"{inbox_app.url}/adviser", timeout=10).text
    assert ROW.findall(page) == [
        (made[1].reference, "new"),
        (made[2].reference, "new"),
        (made[0].reference, "handled"),
    ]
    assert "1 to 3 of 3 requests; 2 waiting in all" in page


def test_the_inbox_pages_through_every_request_with_a_total(inbox_app, store, monkeypatch):
    size = 3
    monkeypatch.setattr(inbox, "PAGE_SIZE", size)
    made = [store.add(f"Question number {n}", f"Parent: Question number {n}") for n in range(8)]
    browser = _signed_in(inbox_app)
    seen, url = [], f"{inbox_app.url}/adviser"
    while True:
        page = browser.get(url, timeout=10).text
        seen += [reference for reference, _status in ROW.findall(page)]
        assert "of 8 requests; 8 waiting in all" in page
        following = re.search(r'<a [^>]*href="([^"]+)" rel="next">', page)
        if following is None:
            break
        url = inbox_app.url + following.group(1).replace("&amp;", "&")
    assert seen == [r.reference for r in made]  # all of them, the oldest first
    assert "Page 3 of 3." in page and "7 to 8 of 8" in page
    store.mark_handled(made[0].reference)
    handled = browser.get(f"{inbox_app.url}/adviser?status=handled&page=9", timeout=10).text
    assert ROW.findall(handled) == [(made[0].reference, "handled")]
    assert "1 to 1 of 1 request (handled)" in handled


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


def _sign_in_reply(url: str, headers=None) -> requests.Response:
    form = requests.get(f"{url}/adviser", timeout=10, headers=headers)
    signin = next(
        c
        for c in form.raw.headers.getlist("Set-Cookie")
        if c.startswith((inbox.SIGNIN_COOKIE, inbox.DEV_SIGNIN_COOKIE))
    )
    name, value = signin.split(";")[0].split("=", 1)
    return requests.post(
        f"{url}/adviser/sign-in",
        allow_redirects=False,
        data={"csrf": _csrf(form.text), "secret": SECRET},
        headers={**(headers or {}), "Cookie": f"{name}={value}"},
        timeout=10,
    )


def _session_cookie(reply: requests.Response) -> str:
    return next(
        c
        for c in reply.raw.headers.getlist("Set-Cookie")
        if c.startswith((inbox.SESSION_COOKIE + "=", inbox.DEV_SESSION_COOKIE + "="))
    )


def test_cookies_and_headers(fake_rasa, db_url, monkeypatch):
    """Outside local development the cookie is __Host- and Secure over any scheme."""
    monkeypatch.setenv("ADVISER_SECRET", SECRET)
    monkeypatch.delenv("EDGE_LOCAL_DEV", raising=False)
    with BackgroundApp(_app(fake_rasa)) as app:
        form = requests.get(f"{app.url}/adviser", timeout=10)
        csp = form.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "default-src 'none'" in csp
        assert form.headers["Cache-Control"] == "no-store"
        assert form.headers["Set-Cookie"].startswith(inbox.SIGNIN_COOKIE + "=")
        reply = _sign_in_reply(app.url)  # plain http, no X-Forwarded-Proto
        assert reply.status_code == 303
        cookie = _session_cookie(reply)
        assert cookie.startswith("__Host-adviser_session=")
        for attribute in ("HttpOnly", "SameSite=Strict", "Path=/;", "Secure"):
            assert attribute in cookie + ";", attribute
        assert "Domain" not in cookie


def test_plain_cookies_only_in_local_development_on_loopback(inbox_app):
    cookie = _session_cookie(_sign_in_reply(inbox_app.url))
    assert cookie.startswith("adviser_session=") and "Secure" not in cookie
    # The flag is set, but the browser reached the edge under a public name: Secure again.
    public = _session_cookie(_sign_in_reply(inbox_app.url, {"Host": "forum.example.org"}))
    assert public.startswith("__Host-adviser_session=") and "Secure" in public


def test_sign_out_revokes_every_copy_of_the_session(inbox_app, store):
    store.add("Private question", "Parent: Private question")
    browser = _signed_in(inbox_app)
    copied = dict(browser.cookies)
    assert "Private question" in requests.get(f"{inbox_app.url}/adviser", cookies=copied).text
    page = browser.get(f"{inbox_app.url}/adviser", timeout=10).text
    out = browser.post(f"{inbox_app.url}/adviser/sign-out", data={"csrf": _csrf(page)})
    assert out.status_code == 200
    again = requests.get(f"{inbox_app.url}/adviser", cookies=copied, timeout=10).text
    assert "Private question" not in again and 'type="password"' in again


def test_server_sessions_expire_idle_and_in_all(tmp_path):
    clock = [datetime(2025, 6, 2, 9, 0, tzinfo=timezone.utc)]
    made = HandoffStore(f"sqlite:///{tmp_path / 'h.db'}", clock=lambda: clock[0])
    idle, longest = timedelta(minutes=30), timedelta(hours=8)
    token, session = made.open_session("adviser")
    assert token not in str(made.engine.connect().execute(made.sessions.select()).all())
    for _ in range(20):  # used every 29 minutes: alive until 8 hours have passed
        clock[0] += timedelta(minutes=29)
        alive = made.use_session(token, idle, longest)
        if clock[0] - session.created_at >= longest:
            assert alive is None
            break
        assert alive is not None and alive.csrf == session.csrf
    token, _ = made.open_session("adviser")
    clock[0] += timedelta(minutes=30)
    assert made.use_session(token, idle, longest) is None
    assert made.use_session("not a token", idle, longest) is None


@pytest.mark.parametrize("where", ["cookie", "csrf", "signin-cookie"])
def test_non_ascii_tokens_get_400_not_500(inbox_app, where):
    browser = _signed_in(inbox_app)
    page = browser.get(f"{inbox_app.url}/adviser", timeout=10).text
    name = inbox.DEV_SESSION_COOKIE if where == "cookie" else inbox.DEV_SIGNIN_COOKIE
    data = {"csrf": "t\u00f6ken\u2028" if where == "csrf" else _csrf(page)}
    # A quoted cookie value with octal escapes decodes to non-ASCII text.
    headers = {} if where == "csrf" else {"Cookie": f'{name}="x.caf\\303\\251"'}
    for method, path in (
        ("get", "/adviser"),
        ("post", "/adviser/sign-out"),
        ("post", "/adviser/sign-in"),
    ):
        if method == "get" and where == "csrf":
            continue
        call = getattr(browser if where == "csrf" else requests, method)
        reply = call(f"{inbox_app.url}{path}", data=data, headers=headers, timeout=10)
        assert reply.status_code == 400, (method, path, reply.status_code)
        assert "not valid" in reply.text


def test_the_access_log_records_who_opened_which_request(inbox_app, store):
    first, second = store.add("One", "Parent: One"), store.add("Two", "Parent: Two")
    browser = _signed_in(inbox_app)
    label = re.search(r"session (\w+)\)", browser.get(f"{inbox_app.url}/adviser").text).group(1)
    page = browser.get(f"{inbox_app.url}/adviser/requests/{first.reference}", timeout=10).text
    browser.post(
        f"{inbox_app.url}/adviser/requests/{first.reference}/handled", data={"csrf": _csrf(page)}
    )
    assert [(a.reference, a.session, a.role, a.action) for a in store.access_log()] == [
        (first.reference, label, "adviser", "viewed"),  # the page after the redirect
        (first.reference, label, "adviser", "handled"),
        (first.reference, label, "adviser", "viewed"),
    ]
    log = browser.get(f"{inbox_app.url}/adviser/access", timeout=10)
    assert log.status_code == 200 and log.text.count(first.reference) >= 3
    assert second.reference not in log.text and "One" not in log.text
    assert (
        requests.get(
            f"{inbox_app.url}/adviser/access", allow_redirects=False, timeout=10
        ).status_code
        == 303
    )
    # Purged with the request.
    assert store.purge_handled(timedelta(0), now=datetime.now(timezone.utc) + timedelta(1)) == 1
    assert store.access_log() == []


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


def test_a_made_up_or_signed_cookie_is_not_a_session(inbox_app, store):
    store.add("Private question", "Parent: Private question")
    forged = inbox.Signer(SECRET).dumps(
        {"kind": "session", "csrf": "x", "iat": time.time(), "exp": time.time() + 600}
    )
    for value in (forged, "made-up-token"):
        page = requests.get(
            f"{inbox_app.url}/adviser", timeout=10, cookies={inbox.DEV_SESSION_COOKIE: value}
        )
        assert "Private question" not in page.text and 'type="password"' in page.text
    page = requests.get(
        f"{inbox_app.url}/adviser", timeout=10, cookies={inbox.DEV_SESSION_COOKIE: forged}
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


# --- labels, numbers ---------------------------------------------------------------------------
def test_a_left_question_is_labelled_in_two_clicks_with_csrf(inbox_app, store):
    request = store.add("is the plan binding on us", "Parent: is the plan binding on us", True)
    browser = _signed_in(inbox_app)
    listing = browser.get(f"{inbox_app.url}/adviser", timeout=10).text
    # Click one: the request in the list.
    link = re.search(rf'href="(/adviser/requests/{request.reference})"', listing).group(1)
    page = browser.get(inbox_app.url + link, timeout=10).text
    form = re.search(r'<form method="post" action="([^"]+/label)">(.*?)</form>', page, re.S)
    assert form, "no label form on a request the parent agreed to"
    chosen = re.search(r'<option value="([^"]+)"', form.group(2)).group(1)
    url = inbox_app.url + form.group(1)
    # Without the token, with a forged one, or without the cookie: nothing is labelled.
    for data, client in (
        ({"kind": "faq", "faq": chosen}, browser),
        ({"kind": "faq", "faq": chosen, "csrf": "forged"}, browser),
        ({"kind": "faq", "faq": chosen, "csrf": _csrf(page)}, requests),
    ):
        assert client.post(url, data=data, timeout=10).status_code == 403
    assert store.label(request.reference) is None
    # Click two: the FAQ chosen and the form sent.
    done = browser.post(url, data={"kind": "faq", "faq": chosen, "csrf": _csrf(page)})
    assert done.status_code == 200 and done.url.endswith(link)
    label = store.label(request.reference)
    assert (label.kind, label.faq, label.labelled_by) == ("faq", chosen, "adviser")
    assert "An FAQ should have answered this" in done.text
    assert "chip-labelled" in browser.get(f"{inbox_app.url}/adviser", timeout=10).text
    refused = browser.post(url, data={"kind": "faq", "faq": "made/up", "csrf": _csrf(page)})
    assert refused.status_code == 400 and store.label(request.reference).faq == chosen


def test_without_consent_there_is_no_label_form_and_a_label_is_refused(inbox_app, store):
    request = store.add("a private question", "Parent: a private question")
    browser = _signed_in(inbox_app)
    page = browser.get(f"{inbox_app.url}/adviser/requests/{request.reference}").text
    assert "/label" not in page and "did not agree" in page
    refused = browser.post(
        f"{inbox_app.url}/adviser/requests/{request.reference}/label",
        data={"kind": "not_for_assistant", "csrf": _csrf(page)},
        timeout=10,
    )
    assert refused.status_code == 403 and store.label(request.reference) is None


def _seed_week(store: HandoffStore, day) -> None:
    for metric, key, times in (
        ("conversations", "", 9),
        ("faq", "safety_plan/legal_status", 4),
        ("faq", "fgc/what_is", 2),
        ("clarification", "", 3),
        ("handoff", "asked", 1),
        ("handoff", "not_covered", 1),
        ("left", "", 1),
    ):
        for _ in range(times):
            store.count_week(metric, key, day)
    for _ in range(2):
        store.count_crisis("suicidal", day)


def test_the_numbers_page_and_the_csv_agree_on_a_seeded_week(inbox_app, store, capsys):
    from bot import report
    from bot.__main__ import main

    zone = settings.load().organisation.zone
    today = datetime.now(zone).date()
    _seed_week(store, today)
    page = _signed_in(inbox_app).get(f"{inbox_app.url}/adviser/numbers?weeks=2", timeout=10)
    assert page.status_code == 200
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    assert "<svg" in page.text and "<script" not in page.text
    first_row = re.search(r"<tbody>\s*<tr>(.*?)</tr>", page.text, re.S).group(1)
    monday = today - timedelta(days=today.weekday())
    assert monday.strftime("%a %d %b %Y") in first_row  # the newest week first
    shown = {
        metric: re.sub(r"<br>.*", "", value, flags=re.S).strip()
        for metric, value in re.findall(r'<td data-metric="(\w+)">(.*?)</td>', first_row, re.S)
    }
    assert main(["report", "--weeks", "2"]) == 0
    rows = list(__import__("csv").reader(capsys.readouterr().out.splitlines()))
    assert rows[0] == list(report.CSV_HEADER)
    this_week = (today - timedelta(days=today.weekday())).isoformat()
    from_csv = {m: v for w, m, k, v in rows[1:] if w == this_week and not k}
    assert from_csv == {
        "conversations": "9",
        "faq_answers": "6",
        "clarifications": "3",
        "handoffs": "2",
        "questions_left": "1",
        "crisis_answers": "2",
        "share_answered_percent": "75",
    }
    assert shown == {k: v + ("%" if k.startswith("share") else "") for k, v in from_csv.items()}
    keyed = {(m, k): v for w, m, k, v in rows[1:] if w == this_week and k}
    assert keyed[("faq", "safety_plan/legal_status")] == "4"
    assert keyed[("handoff", "not_covered")] == "1" and keyed[("crisis", "suicidal")] == "2"
    assert "not covered: 1" in page.text and "suicidal: 2" in page.text


def test_the_edge_counts_conversations_and_marked_replies(inbox_app, fake_rasa, store):
    fake_rasa.replies["is a safety plan binding"] = [
        {"text": "It is not legally binding."},
        {"custom": {"count": "faq", "key": "safety_plan/legal_status"}},
    ]
    session = requests.post(f"{inbox_app.url}/api/session", timeout=10).json()["session"]
    reply = requests.post(
        f"{inbox_app.url}/api/message",
        json={"session": session, "text": "is a safety plan binding"},
        timeout=10,
    )
    assert reply.json()["messages"] == [{"text": "It is not legally binding."}]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        counts = {
            (c.metric, c.key): c.count for c in store.week_counts(datetime(2000, 1, 3).date())
        }
        if len(counts) == 2:
            break
        time.sleep(0.1)
    assert counts == {("conversations", ""): 1, ("faq", "safety_plan/legal_status"): 1}


def test_the_transcript_reads_as_a_conversation():
    messages = inbox.conversation(
        "[09:30] Parent: first line\nsecond line\n[09:31] Assistant: an answer\n"
        "[09:32] Parent chose: Yes, leave my question"
    )
    assert [(m["side"], m["time"], m["lines"]) for m in messages] == [
        ("parent", "09:30", ["first line", "second line"]),
        ("assistant", "09:31", ["an answer"]),
        ("parent", "09:32", ["Yes, leave my question"]),
    ]
    now = datetime(2025, 6, 4, 12, 0, tzinfo=timezone.utc)
    assert inbox.age(now - timedelta(days=2, hours=3), now) == "2 days"
    assert inbox.age(now - timedelta(minutes=1), now) == "1 minute"
    assert (
        inbox.first_line("One\nTwo") == "One\u2026" and inbox.first_line("x" * 200)[-1] == "\u2026"
    )
    assert inbox.first_line("Only one line") == "Only one line"


def test_one_first_party_stylesheet_allowed_by_the_csp(inbox_app, store):
    request = store.add("Question", "[09:30] Parent: Question\n[09:31] Assistant: Answer")
    browser = _signed_in(inbox_app)
    for path in ("/adviser", f"/adviser/requests/{request.reference}", "/adviser/numbers"):
        page = browser.get(f"{inbox_app.url}{path}", timeout=10)
        csp = page.headers["Content-Security-Policy"]
        assert "style-src 'self'" in csp and "unsafe-inline" not in csp
        assert re.findall(r'<link rel="stylesheet" href="([^"]+)">', page.text) == [
            "/adviser/inbox.css"
        ]
    sheet = browser.get(f"{inbox_app.url}/adviser/inbox.css", timeout=10)
    assert sheet.status_code == 200 and sheet.headers["Content-Type"].startswith("text/css")
    assert "@import" not in sheet.text and "url(" not in sheet.text
    page = browser.get(f"{inbox_app.url}/adviser/requests/{request.reference}").text
    assert '<li class="from-parent"><span class="speaker">Parent, 09:30</span>Question' in page
    assert '<li class="from-assistant">' in page
