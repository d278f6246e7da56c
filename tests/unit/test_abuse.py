"""Abuse: random and hostile input to the edge API never breaks it or mixes conversations.

Property-based (hypothesis) against the real edge app and a fake Rasa that records what
it receives, per sender; then a short run against the real stack. Checked on every
request: never a 5xx, always a JSON body, nothing typed reaches Rasa as a "/command"
unless it is a payload the session's latest answer offered, and what Rasa receives for
each session is exactly what that session sent, in order, and nothing else.
"""

from __future__ import annotations

import dataclasses
import json
import re
import string
import threading
import unicodedata
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterator, List, Tuple

import pytest
import requests
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bot import settings
from bot.content.responses import render
from bot.edge.ratelimit import RateLimiter
from bot.edge.sessions import ALWAYS_ALLOWED_PAYLOADS
from tests.support.servers import BackgroundApp

EDGE = settings.load().edge
MAX_CHARS = EDGE.max_message_chars
MENU = "show me the menu"
OFFERED = ["/choose_a", '/inform{"topic": "fgc"}']
HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "/restart",
    '/inform{"name": "x"}',
    '/out_of_scope{"x": 1}',
    "/session_start",
    '  /request_human{"a":1}',
    "\u202e/stop",
    "\x00/start",
    "/" * 50,
    "' OR 1=1 --",
    "{{7*7}}",
    "${jndi:ldap://x}",
    "\ud7ff\ue000\U0010ffff",
    "\u200b/greet",
]


@dataclass
class Client:
    """One browser session as the test sees it: what it sent and what it was offered."""

    id: str
    offered: FrozenSet[str] = frozenset()
    sent: List[str] = field(default_factory=list)


@pytest.fixture
def abuse_edge(fake_rasa, tmp_path: Path, monkeypatch) -> Iterator[Tuple[BackgroundApp, Any]]:
    """The edge app with a fake Rasa that offers buttons on MENU; rate limits lifted so
    that the properties, not the limiter, are exercised (limits have their own tests)."""
    from bot.edge.app import create_app

    (tmp_path / "endpoints.yml").write_text(
        f"tracker_store:\n  type: sql\n  dialect: sqlite\n  db: {tmp_path / 'tracker.db'}\n"
    )
    monkeypatch.setenv("RASA_ENDPOINTS", str(tmp_path / "endpoints.yml"))
    fake_rasa.replies[MENU] = [
        {
            "text": "pick one",
            "buttons": [
                {"title": f"Option {i}", "payload": payload} for i, payload in enumerate(OFFERED)
            ],
        }
    ]
    defaults = settings.load()
    lifted = dataclasses.replace(
        defaults, edge=dataclasses.replace(defaults.edge, rate_limit_per_minute=10**9)
    )
    app = create_app(lifted, rasa=fake_rasa, name=f"abuse_{uuid.uuid4().hex[:8]}")
    with BackgroundApp(app) as running:
        yield running, fake_rasa


json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
json_value = st.recursive(
    json_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
typed_text = st.one_of(
    st.text(max_size=200),
    st.sampled_from(HOSTILE),
    st.just(MENU),
    st.text(min_size=MAX_CHARS - 2, max_size=MAX_CHARS + 2, alphabet=string.ascii_letters + " /"),
    st.builds(
        lambda a, b: f"/{a}{json.dumps({'x': b})}",
        st.text(string.ascii_lowercase, min_size=1, max_size=12),
        st.text(max_size=10),
    ),
)
payloads = st.one_of(
    st.sampled_from(OFFERED + sorted(ALWAYS_ALLOWED_PAYLOADS)),
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
)

# An action: (which session, what kind, data)
action = st.one_of(
    st.tuples(st.integers(0, 1), st.just("text"), typed_text),
    st.tuples(
        st.integers(0, 1),
        st.just("payload"),
        st.tuples(payloads, st.one_of(st.none(), typed_text, json_value)),
    ),
    st.tuples(st.integers(0, 1), st.just("json"), json_value),
    st.tuples(
        st.integers(0, 1),
        st.just("raw"),
        st.one_of(
            st.binary(max_size=200),
            st.integers(1, 30000).map(lambda n: b"[" * n + b"]" * n),
            st.integers(1, 12000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
            st.just(b'{"text": "' + b"x" * 70000 + b'"}'),
            st.sampled_from(
                [
                    b'{"text": NaN}',
                    b'{"text": Infinity, "session": -Infinity}',
                    b'{"text": "a", "text": "/restart"}',
                    b'\xff\xfe{"text": "hi"}',
                ]
            ),
        ),
    ),
    st.tuples(st.integers(0, 1), st.just("stale"), st.one_of(st.text(max_size=40), json_value)),
    st.tuples(st.integers(0, 1), st.just("clear"), st.none()),
)


def _check_reply(reply: requests.Response) -> Dict[str, Any]:
    assert reply.status_code < 500, (reply.status_code, reply.text[:200])
    assert reply.headers["content-type"].startswith("application/json")
    body = reply.json()
    assert isinstance(body, dict)
    assert "Traceback" not in reply.text
    return body


def _offered(body: Dict[str, Any]) -> FrozenSet[str]:
    return frozenset(
        button["payload"]
        for message in body.get("messages", [])
        for button in message.get("buttons", [])
    )


def _is_clean(text: str) -> bool:
    """No control or format character, no run of spaces or tabs, no leading '/' or space,
    no trailing space: what reaches Rasa from a typed text must look like this."""
    return (
        not any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\n" for ch in text)
        and not re.search(r"[ \t]{2,}|\t", text)
        and not text.startswith(("/", " ", "\n"))
        and text == text.strip()
    )


def _check_cleaned(typed: str, message: str) -> None:
    """What Rasa got for a typed text, checked without calling the cleaner itself: it is
    clean, it keeps the typed characters in order (nothing added), and a text that was
    clean already arrives unchanged."""
    assert _is_clean(message), repr(message)
    kept = iter("".join(typed.split()))
    assert all(ch in kept for ch in "".join(message.split())), (typed, message)
    if _is_clean(typed) and "\n" not in typed:
        assert message == typed


@hsettings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(action, min_size=1, max_size=8))
def test_random_and_hostile_input_never_breaks_the_edge(abuse_edge, actions) -> None:
    edge, fake = abuse_edge
    url = edge.url
    start = len(fake.sent)
    http = requests.Session()
    clients: List[Client] = []
    for _ in range(2):
        body = _check_reply(http.post(f"{url}/api/session", timeout=30))
        clients.append(Client(body["session"], _offered(body), ["/start"]))
    retired: List[Client] = []

    for index, kind, data in actions:
        client = clients[index]
        if kind == "clear":
            reply = http.delete(f"{url}/api/session/{client.id}", timeout=30)
            assert reply.status_code == 204
            retired.append(client)
            clients[index] = Client(f"cleared-{uuid.uuid4().hex}")  # unknown from now on
            continue
        session: Any = client.id
        if kind == "stale":
            session = data
        if kind == "text":
            body_json: Any = {"session": session, "text": data}
        elif kind == "payload":
            payload, title = data
            body_json = {"session": session, "payload": payload}
            if title is not None:
                body_json["title"] = title
        elif kind == "json":
            body_json = data
        elif kind == "stale":
            body_json = {"session": session, "text": "hello again"}
        else:  # raw bytes: what a JSON parser makes of them, to check a 200 against
            try:
                body_json = json.loads(data)
            except (ValueError, RecursionError):
                body_json = None
        before = len(fake.sent)
        if kind == "raw":
            reply = http.post(
                f"{url}/api/message",
                data=data,
                timeout=30,
                headers={"Content-Type": "application/json"},
            )
        else:
            reply = http.post(f"{url}/api/message", json=body_json, timeout=30)
        body = _check_reply(reply)
        arrived = fake.sent[before:]
        if reply.status_code != 200:
            assert arrived == [], (reply.status_code, arrived)
            if reply.status_code in (400, 413):
                assert body.get("error") or body.get("messages")
            if reply.status_code == 413 and kind != "raw":
                assert body["messages"] == [render("utter_edge_too_long")]
            continue
        assert len(arrived) == 1
        sender, message = arrived[0]
        if "session" in body:  # unknown or stale id: a fresh session, never someone else's
            assert sender == body["session"]
            assert sender not in {c.id for c in clients + retired}
            if client not in retired:
                retired.append(client)
            client = Client(sender)
            clients[index] = client
        assert sender == client.id
        if message.startswith("/"):
            assert message in client.offered or message in ALWAYS_ALLOWED_PAYLOADS, message
        assert isinstance(body_json, dict)
        payload = body_json.get("payload")
        if payload is not None and (
            payload in client.offered or payload in ALWAYS_ALLOWED_PAYLOADS
        ):
            assert message == payload
        else:
            typed = body_json.get("text") if payload is None else body_json.get("title")
            _check_cleaned(typed if isinstance(typed, str) else str(typed or ""), message)
        client.sent.append(message)
        client.offered = _offered(body)

    transcripts: Dict[str, List[str]] = {}
    for sender, message in fake.sent[start:]:
        transcripts.setdefault(sender, []).append(message)
    expected = {c.id: c.sent for c in clients + retired if c.sent}
    assert transcripts == expected


def test_rasa_down_is_the_only_5xx(abuse_edge) -> None:
    edge, fake = abuse_edge
    session = requests.post(f"{edge.url}/api/session", timeout=10).json()["session"]
    fake.down = True
    reply = requests.post(
        f"{edge.url}/api/message", json={"session": session, "text": "hi"}, timeout=10
    )
    assert reply.status_code == 503
    assert reply.json()["messages"] == [render("utter_edge_unavailable")]


def test_two_concurrent_sessions_never_see_each_others_messages(abuse_edge) -> None:
    edge, fake = abuse_edge
    sessions = [
        requests.post(f"{edge.url}/api/session", timeout=10).json()["session"] for _ in range(2)
    ]
    barrier = threading.Barrier(2)

    def talk(who: int) -> List[Tuple[str, str]]:
        http = requests.Session()
        barrier.wait()
        pairs = []
        for turn in range(40):
            text = f"parent {who} message {turn}"
            reply = http.post(
                f"{edge.url}/api/message", timeout=30, json={"session": sessions[who], "text": text}
            )
            assert reply.status_code == 200
            pairs.append((text, reply.json()["messages"][0]["text"]))
        return pairs

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(talk, [0, 1]))
    for who, pairs in enumerate(results):
        assert all(answer == f"echo:{text}" for text, answer in pairs)
        received = [m for s, m in fake.sent if s == sessions[who] and m != "/start"]
        assert received == [text for text, _ in pairs]
        assert all(m.startswith(f"parent {who} ") for m in received)


# Rate limits (real limits from bot/settings.yml) ------------------------------------------


def test_a_session_over_its_limit_gets_429_and_a_kind_line(edge_app, fake_rasa) -> None:
    limit = EDGE.rate_limit_per_minute
    session = requests.post(f"{edge_app.url}/api/session", timeout=10).json()["session"]
    http = requests.Session()
    codes = [
        http.post(
            f"{edge_app.url}/api/message",
            timeout=10,
            json={"session": session, "text": f"message {n}"},
        ).status_code
        for n in range(limit)
    ]
    assert codes == [200] * limit
    reply = http.post(
        f"{edge_app.url}/api/message", json={"session": session, "text": "more"}, timeout=10
    )
    assert reply.status_code == 429
    assert reply.json()["messages"] == [render("utter_edge_rate_limited")]
    assert "more" not in [m for _, m in fake_rasa.sent]


def test_one_address_opening_many_sessions_is_limited_too(edge_app, fake_rasa) -> None:
    """Fresh sessions do not escape the per-address limit (unknown ids, one address)."""
    http = requests.Session()
    statuses = [
        http.post(
            f"{edge_app.url}/api/message", timeout=10, json={"session": None, "text": f"hi {n}"}
        ).status_code
        for n in range(EDGE.rate_limit_per_minute * 6)
    ]
    assert 429 in statuses
    assert statuses.count(200) <= EDGE.rate_limit_per_minute * 5


def test_the_limiters_memory_is_bounded() -> None:
    now = [0.0]
    limiter = RateLimiter(limit=2, max_keys=100, clock=lambda: now[0])
    for n in range(10_000):
        assert limiter.allow(f"client-{n}")
    assert len(limiter) == 100
    assert limiter.allow("client-9999") and not limiter.allow("client-9999")
    now[0] += limiter.window
    assert limiter.allow("client-9999")


# One short run against the real stack ------------------------------------------------------


@hsettings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=80)))
def test_the_real_stack_answers_hostile_text_kindly(stack, text) -> None:
    session = requests.post(f"{stack.edge_url}/api/session", timeout=60)
    assert session.status_code == 201, session.text
    sid = session.json()["session"]
    reply = requests.post(
        f"{stack.edge_url}/api/message", json={"session": sid, "text": text}, timeout=60
    )
    body = _check_reply(reply)
    assert reply.status_code in (200, 400), (reply.status_code, body)
    if reply.status_code == 200:
        assert body["messages"] and all(isinstance(m.get("text"), str) for m in body["messages"])
