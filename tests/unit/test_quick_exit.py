"""Quick exit and "Clear conversation" while a turn is still in flight: the turn must not
store the deleted conversation again (a tombstone the tracker store honours).

Runs on SQLite and PostgreSQL, with the project's real tracker store and the real edge app.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest
import requests

from bot import settings
from bot.storage.conversations import ConversationStore, tracker_store_config
from tests.conftest import FakeRasa
from tests.unit.test_purge import _own_handoff_db, endpoints  # noqa: F401 (fixtures)


def _store() -> Any:
    from rasa.shared.core.domain import Domain

    from bot.rasa.tracker_store import RedactingSQLTrackerStore

    config = tracker_store_config()
    assert config is not None
    kwargs = {key: value for key, value in config.items() if key not in ("type", "url")}
    return RedactingSQLTrackerStore(domain=Domain.empty(), host=config.get("url"), **kwargs)


def _tracker(sender: str, texts: List[str]) -> Any:
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    now = time.time()
    events = [UserUttered(text, timestamp=now + i) for i, text in enumerate(texts)]
    return DialogueStateTracker.from_events(sender, events)


def _count(sender: str) -> int:
    store = ConversationStore.from_endpoints()
    assert store is not None
    try:
        return store.count(sender)
    finally:
        store.dispose()


def _clear(sender: str) -> int:
    store = ConversationStore.from_endpoints()
    assert store is not None
    try:
        return store.delete_sender(sender)
    finally:
        store.dispose()


def test_a_turn_saved_after_the_clear_stores_nothing(endpoints: Path) -> None:  # noqa: F811
    store = _store()
    asyncio.run(store.save(_tracker("parent", ["first", "second"])))
    asyncio.run(store.save(_tracker("other", ["hello"])))
    assert _count("parent") == 2
    assert _clear("parent") == 2
    # The turn in flight carries the whole conversation in memory, plus its new event.
    asyncio.run(store.save(_tracker("parent", ["first", "second", "third"])))
    assert _count("parent") == 0
    # Other conversations are stored as before.
    asyncio.run(store.save(_tracker("other", ["hello", "again"])))
    assert _count("other") == 2
    store.engine.dispose()


def test_a_clear_landing_while_the_turn_is_written_is_honoured(
    endpoints: Path,  # noqa: F811
    monkeypatch,
) -> None:
    """The clear commits after the store's first look and before its commit."""
    store = _store()
    asyncio.run(store.save(_tracker("parent", ["first"])))
    original = type(store)._additional_events

    def clear_meanwhile(self: Any, session: Any, tracker: Any) -> Any:
        events = list(original(self, session, tracker))
        _clear(tracker.sender_id)
        return events

    monkeypatch.setattr(type(store), "_additional_events", clear_meanwhile)
    asyncio.run(store.save(_tracker("parent", ["first", "second"])))
    assert _count("parent") == 0
    store.engine.dispose()


def test_clearing_twice_is_harmless(endpoints: Path) -> None:  # noqa: F811
    store = _store()
    asyncio.run(store.save(_tracker("parent", ["first"])))
    assert _clear("parent") == 1
    assert _clear("parent") == 0
    store.engine.dispose()


class SlowStoringRasa(FakeRasa):
    """Answers after a delay, saving the turn through the real tracker store first (as Rasa
    does: the tracker is written at the end of the turn)."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.store = _store()
        self.history: Dict[str, List[str]] = {}
        self.done = threading.Event()

    async def send(self, sender: str, message: str) -> List[Dict[str, Any]]:
        texts = self.history.setdefault(sender, [])
        texts.append(message)
        if message != "/start":
            await asyncio.sleep(self.delay)
        await self.store.save(_tracker(sender, list(texts)))
        if message != "/start":
            self.done.set()
        return [{"recipient_id": sender, "text": f"echo:{message}"}]


def test_quick_exit_within_100_ms_of_a_message_leaves_zero_rows(
    endpoints: Path,  # noqa: F811
) -> None:
    from bot.edge.app import create_app
    from tests.support.servers import BackgroundApp

    rasa = SlowStoringRasa(delay=0.5)
    app = create_app(settings.load(), rasa=rasa, name=f"exit_{uuid.uuid4().hex[:8]}")
    with BackgroundApp(app) as edge:
        session = requests.post(f"{edge.url}/api/session", timeout=30).json()["session"]
        assert _count(session) == 1
        answers: List[requests.Response] = []
        sender = threading.Thread(
            target=lambda: answers.append(
                requests.post(
                    f"{edge.url}/api/message",
                    json={"session": session, "text": "a question"},
                    timeout=30,
                )
            )
        )
        sender.start()
        time.sleep(0.05)  # the quick exit: 50 ms after the message left
        assert not rasa.done.is_set()
        deleted = requests.delete(f"{edge.url}/api/session/{session}", timeout=30)
        assert deleted.status_code == 204
        sender.join(timeout=30)
        assert rasa.done.is_set()
    assert answers and answers[0].status_code == 200
    assert _count(session) == 0
    rasa.store.engine.dispose()


@pytest.mark.parametrize("days_old, kept", [(40, False), (1, True)])
def test_tombstones_are_purged_after_the_retention_limit(
    endpoints: Path,  # noqa: F811
    days_old: int,
    kept: bool,
) -> None:
    import sqlalchemy as sa

    from bot.storage import retention

    store = _store()
    asyncio.run(store.save(_tracker("parent", ["first"])))
    _clear("parent")
    conversations = ConversationStore.from_endpoints()
    assert conversations is not None
    with conversations.engine.begin() as connection:
        connection.execute(
            sa.update(conversations._tombstones).values(cleared_at=time.time() - days_old * 86400)
        )
    retention.purge_conversations(30)
    with conversations.engine.connect() as connection:
        rows = connection.execute(sa.select(conversations._tombstones)).all()
    assert bool(rows) is kept
    conversations.dispose()
    store.engine.dispose()
