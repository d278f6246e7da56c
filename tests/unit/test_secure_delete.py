"""Issue 13, item 11: what the project deletes from a SQLite file is gone from the file.

Without `PRAGMA secure_delete=ON` SQLite only marks a deleted row's space free and the
words stay readable in the file. Each store the project opens on SQLite is checked: the
pragma is on for its connections, and a deleted row's text is no longer in the file's bytes.
Some builds of SQLite (Debian's) turn it on by default and others do not, so every
connection here starts with it off, as on a host whose SQLite defaults to off.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa.tracker_store import RedactingSQLTrackerStore
from bot.storage.conversations import ConversationStore
from bot.storage.handoff_store import HandoffStore
from bot.storage.sqlite import secure_delete


@pytest.fixture(autouse=True)
def sqlite_defaulting_to_off(monkeypatch: pytest.MonkeyPatch) -> None:
    connect = sqlite3.connect

    def connect_with_default_off(*args, **kwargs):  # type: ignore[no-untyped-def]
        connection = connect(*args, **kwargs)
        connection.execute("PRAGMA secure_delete=OFF")
        return connection

    monkeypatch.setattr(sqlite3, "connect", connect_with_default_off)
    monkeypatch.setattr(sqlite3.dbapi2, "connect", connect_with_default_off)  # SQLAlchemy's


def _pragma(engine: sa.engine.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("PRAGMA secure_delete").scalar_one())


def _words() -> str:
    return f"Rowena Pettigrew-{uuid.uuid4().hex[:10]} told the school about the bruise"


def test_without_the_pragma_sqlite_keeps_deleted_words_in_the_file(tmp_path: Path) -> None:
    """The control: the checks below would fail on a plain SQLite engine."""
    path = tmp_path / "plain.db"
    engine = sa.create_engine(f"sqlite:///{path}", future=True)
    words = _words()
    for statement, values in [
        ("CREATE TABLE t (x TEXT)", ()),
        ("INSERT INTO t VALUES (?)", (words,)),
        ("DELETE FROM t", ()),
    ]:
        with engine.begin() as connection:
            connection.exec_driver_sql(statement, values)
    assert _pragma(engine) == 0
    engine.dispose()
    assert words.encode() in path.read_bytes()
    assert _pragma(secure_delete(sa.create_engine(f"sqlite:///{path}", future=True))) == 1


def test_the_handoff_store_overwrites_what_it_purges(tmp_path: Path) -> None:
    path = tmp_path / "handoff.db"
    store = HandoffStore(f"sqlite:///{path}")
    assert _pragma(store.engine) == 1
    words = _words()
    request = store.add(words, f"Parent: {words}")
    assert store.mark_handled(request.reference)
    assert store.purge_handled(timedelta(0), now=store.clock() + timedelta(seconds=1)) == 1
    store.engine.dispose()
    assert words.encode() not in path.read_bytes()


def test_the_tracker_store_and_the_conversation_deleter_overwrite_deleted_events(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tracker.db"
    tracker_store = RedactingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    assert _pragma(tracker_store.engine) == 1
    words = _words()
    tracker = DialogueStateTracker.from_events("parent-1", [UserUttered(words)])
    asyncio.run(tracker_store.save(tracker))
    tracker_store.engine.dispose()
    assert words.encode() in path.read_bytes()  # stored (nothing to redact in it)

    deleter = ConversationStore(f"sqlite:///{path}")
    assert _pragma(deleter.engine) == 1
    assert deleter.delete_sender("parent-1") == 1
    deleter.dispose()
    assert words.encode() not in path.read_bytes()


def test_a_tracker_store_error_quotes_no_event(tmp_path: Path) -> None:
    """Rasa's REST channel logs the error when saving fails: it must not carry the row."""
    tracker_store = RedactingSQLTrackerStore(
        Domain.empty(), dialect="sqlite", db=str(tmp_path / "t.db")
    )
    with tracker_store.engine.begin() as connection:  # reading works, writing fails
        connection.exec_driver_sql(
            "CREATE TRIGGER refuse BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'full'); END"
        )
    words = _words()
    tracker = DialogueStateTracker.from_events("parent-2", [UserUttered(words)])
    with pytest.raises(sa.exc.StatementError) as failure:
        asyncio.run(tracker_store.save(tracker))
    assert "INSERT INTO events" in str(failure.value)
    assert words.split()[1] not in str(failure.value)
