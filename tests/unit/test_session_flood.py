"""A flood of requests from one address never pushes another parent out of their session."""

from __future__ import annotations

import uuid

import pytest
import requests

from bot import settings
from bot.content.responses import render
from bot.edge.app import ADDRESS_LIMIT_FACTOR, create_app
from bot.edge.sessions import SessionRegistry
from tests.support.servers import BackgroundApp

EDGE = settings.load().edge
# New sessions one client address may open in a minute.
NEW_PER_ADDRESS = EDGE.rate_limit_per_minute * ADDRESS_LIMIT_FACTOR


def test_a_full_registry_drops_idle_sessions_only() -> None:
    now = [0.0]
    registry = SessionRegistry(max_sessions=3, idle_seconds=100, clock=lambda: now[0])
    active = registry.create()
    assert active is not None
    idle = [registry.create(), registry.create()]
    now[0] = 60.0
    assert registry.get(active.id) is active  # used again: active
    assert registry.create() is None  # full of sessions nobody has left: refuse, evict none
    assert len(registry) == 3
    now[0] = 150.0  # the two others are idle past the expiry, the parent's is not
    fresh = registry.create()
    assert fresh is not None
    assert registry.get(active.id) is active
    assert all(registry.get(s.id) is None for s in idle if s is not None)


def test_the_registry_never_evicts_an_active_session_whatever_the_flood() -> None:
    registry = SessionRegistry(max_sessions=50, idle_seconds=1800)
    parent = registry.create()
    assert parent is not None
    made = [registry.create() for _ in range(20_000)]
    assert made.count(None) == 20_000 - 49
    assert registry.get(parent.id) is parent


def _edge(fake_rasa, tmp_path, monkeypatch, max_sessions: int):
    """The edge trusting one proxy hop (so a test picks each request's address)."""
    monkeypatch.setenv("HANDOFF_DB_URL", f"sqlite:///{tmp_path / 'handoff.db'}")
    app = create_app(
        settings.load(),
        rasa=fake_rasa,
        name=f"edge_{uuid.uuid4().hex[:8]}",
        env={"EDGE_PROXIES_COUNT": "1"},
        max_sessions=max_sessions,
    )
    with BackgroundApp(app) as running:
        yield running


@pytest.fixture
def small_edge(fake_rasa, tmp_path, monkeypatch):
    """Room for 10 sessions."""
    yield from _edge(fake_rasa, tmp_path, monkeypatch, 10)


@pytest.fixture
def roomy_edge(fake_rasa, tmp_path, monkeypatch):
    """Room for 1,000 sessions."""
    yield from _edge(fake_rasa, tmp_path, monkeypatch, 1000)


def _from(address: str) -> dict:
    return {"X-Forwarded-For": address}


def test_a_flood_from_one_address_never_evicts_another_parents_session(
    small_edge, fake_rasa
) -> None:
    url = small_edge.url
    opened = requests.post(f"{url}/api/session", headers=_from("198.51.100.7"), timeout=10)
    assert opened.status_code == 201
    parent = opened.json()["session"]

    http = requests.Session()
    statuses = []
    for n in range(300):
        if n % 2:
            reply = http.post(f"{url}/api/session", headers=_from("203.0.113.9"), timeout=10)
        else:
            reply = http.post(
                f"{url}/api/message",
                json={"session": None, "text": f"flood {n}"},
                headers=_from("203.0.113.9"),
                timeout=10,
            )
        statuses.append(reply.status_code)
    assert 429 in statuses
    assert statuses.count(200) + statuses.count(201) <= NEW_PER_ADDRESS
    # Only sessions the flood was told about were made: the refused requests made none.
    assert len(small_edge.app.ctx.edge.sessions) <= 10

    reply = requests.post(
        f"{url}/api/message",
        json={"session": parent, "text": "still here"},
        headers=_from("198.51.100.7"),
        timeout=10,
    )
    assert reply.status_code == 200
    assert "session" not in reply.json()  # the same conversation, not a fresh one
    assert fake_rasa.sent[-1] == (parent, "still here")


def test_a_refused_message_creates_no_session(small_edge) -> None:
    url = small_edge.url
    http = requests.Session()
    replies = [
        http.post(
            f"{url}/api/message",
            json={"session": "unknown", "text": f"hi {n}"},
            headers=_from("203.0.113.20"),
            timeout=10,
        )
        for n in range(NEW_PER_ADDRESS + 5)
    ]
    refused = [r for r in replies if r.status_code == 429]
    assert refused
    assert all("session" not in r.json() for r in refused)
    given = {r.json()["session"] for r in replies if r.status_code == 200}
    assert len(small_edge.app.ctx.edge.sessions) == len(given)


def test_opening_sessions_is_limited_per_address(roomy_edge) -> None:
    url = roomy_edge.url
    http = requests.Session()
    limit = NEW_PER_ADDRESS
    codes = [
        http.post(f"{url}/api/session", headers=_from("203.0.113.30"), timeout=10).status_code
        for _ in range(limit + 1)
    ]
    assert codes == [201] * limit + [429]
    assert len(roomy_edge.app.ctx.edge.sessions) == limit
    # Another address is not held back by the first one's limit.
    other = requests.post(f"{url}/api/session", headers=_from("198.51.100.31"), timeout=10)
    assert other.status_code == 201


def test_a_full_edge_answers_503_with_the_adviceline_and_keeps_every_session(
    small_edge, fake_rasa
) -> None:
    url = small_edge.url
    sessions = []
    for n in range(10):
        reply = requests.post(f"{url}/api/session", headers=_from(f"192.0.2.{n}"), timeout=10)
        assert reply.status_code == 201
        sessions.append(reply.json()["session"])
    refused = requests.post(f"{url}/api/session", headers=_from("192.0.2.200"), timeout=10)
    assert refused.status_code == 503
    assert refused.json()["messages"] == [render("utter_edge_unavailable")]
    assert settings.load().adviceline.phone in refused.json()["messages"][0]["text"]
    for n, sid in enumerate(sessions):
        reply = requests.post(
            f"{url}/api/message",
            json={"session": sid, "text": "hello"},
            headers=_from(f"192.0.2.{n}"),
            timeout=10,
        )
        assert reply.status_code == 200
        assert "session" not in reply.json()
