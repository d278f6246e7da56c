"""The redacting tracker store runs every SQLite connection in WAL mode, synchronous=FULL."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa import tracker_store
from bot.rasa.tracker_store import RedactingSQLTrackerStore
from bot.storage.conversations import ConversationStore

FULL = 2  # what PRAGMA synchronous reports for FULL


def pragmas(connection: Any) -> Dict[str, Any]:
    def one(name: str) -> Any:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

    return {"journal_mode": one("journal_mode"), "synchronous": one("synchronous")}


def store(tmp_path: Path) -> RedactingSQLTrackerStore:
    return RedactingSQLTrackerStore(
        domain=Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db")
    )


def test_every_connection_is_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    chosen = store(tmp_path)
    with chosen.session_scope() as session:
        assert pragmas(session.connection()) == {"journal_mode": "wal", "synchronous": FULL}
    # Two connections open at once (a save while another reads), each set up.
    with chosen.engine.connect() as first, chosen.engine.connect() as second:
        assert pragmas(first) == pragmas(second) == {"journal_mode": "wal", "synchronous": FULL}


def test_the_pragmas_run_on_each_new_connection_not_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A per-connection pragma (cache_size) shows the hook runs for every connection."""
    monkeypatch.setattr(
        tracker_store, "SQLITE_PRAGMAS", (*tracker_store.SQLITE_PRAGMAS, ("cache_size", "-1234"))
    )
    chosen = store(tmp_path)
    seen: List[int] = []
    for _ in range(3):
        with chosen.session_scope() as session:
            seen.append(session.connection().exec_driver_sql("PRAGMA cache_size").scalar())
    with chosen.engine.connect() as connection:
        seen.append(connection.exec_driver_sql("PRAGMA cache_size").scalar())
    assert seen == [-1234] * 4


def test_rasas_own_store_does_not_set_them(tmp_path: Path) -> None:
    """The control: WAL comes from the project's store, not from SQLite's defaults."""
    plain = SQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(tmp_path / "rasa.db"))
    with plain.engine.connect() as connection:
        assert pragmas(connection)["journal_mode"] == "delete"


def test_conversations_are_saved_and_read_back_in_wal_mode(tmp_path: Path) -> None:
    chosen = store(tmp_path)
    tracker = DialogueStateTracker.from_events(
        "wal-test",
        [
            ActionExecuted("action_listen"),
            UserUttered("my number is 07700 900123", {"name": "give_contact", "confidence": 1.0}),
        ],
    )
    asyncio.run(chosen.save(tracker))
    again = asyncio.run(store(tmp_path).retrieve("wal-test"))
    assert again is not None
    texts = [event.text for event in again.events if isinstance(event, UserUttered)]
    assert texts == ["my number is [phone]"]
    with sa.create_engine(f"sqlite:///{tmp_path / 'tracker.db'}").connect() as other:
        # WAL is a property of the file: any other process's connection uses it too.
        assert other.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


@pytest.mark.parametrize("how", ["clear", "purge"])
def test_deleted_conversations_do_not_stay_in_the_write_ahead_log(tmp_path: Path, how: str) -> None:
    """WAL keeps earlier copies of pages in the -wal file; clearing or purging a
    conversation empties it, while Rasa's store still holds its pooled connections."""
    marker = f"marker{uuid.uuid4().hex}"
    rasa_store = store(tmp_path)
    tracker = DialogueStateTracker.from_events(
        "parent-a", [UserUttered(f"{marker} about the meeting", timestamp=time.time() - 100)]
    )
    asyncio.run(rasa_store.save(tracker))
    wal = tmp_path / "tracker.db-wal"
    assert marker.encode() in wal.read_bytes()  # the control: WAL holds the text until then
    deleter = ConversationStore(f"sqlite:///{tmp_path / 'tracker.db'}")
    try:
        if how == "clear":
            assert deleter.delete_sender("parent-a") >= 1
        else:
            assert deleter.purge_older_than(time.time()) >= 1
    finally:
        deleter.dispose()
    assert not wal.exists() or marker.encode() not in wal.read_bytes()
    assert asyncio.run(rasa_store.retrieve("parent-a")) is None
