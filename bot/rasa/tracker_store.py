"""Rasa's SQL tracker store, writing redacted copies of user messages only, and never a
conversation the parent has cleared.

NLU and the actions see the current turn as the parent typed it (the in-memory tracker);
what reaches the database has e-mail addresses, phone numbers, postcodes, dates and card
numbers replaced by placeholders (bot.redact). Configured in endpoints.yml. On SQLite,
every connection overwrites what it deletes (bot/storage/sqlite.py).

Clearing a conversation (the widget's "Clear conversation" and quick exit) leaves a
tombstone for its sender id (bot/storage/conversations.py). A turn still in flight then
must not store the conversation again: Rasa's SQL store writes the events after the
stored row count, which the delete has set to 0, so it would write them all back. `save`
therefore writes nothing for a cleared sender, and checks again after committing,
deleting what it wrote if the clear landed in between.

On SQLite (the embedded default) every connection also runs in WAL mode with
synchronous=FULL (`SQLITE_PRAGMAS`): see `_sqlite_pragmas`.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Optional

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.redact import redact_event
from bot.storage.conversations import is_cleared, tombstone_table
from bot.storage.sqlite import secure_delete

logger = logging.getLogger(__name__)

# Set on every SQLite connection, in this order (journal_mode first: synchronous is read
# against it). WAL appends each commit to the -wal file and fsyncs that one file, where
# SQLite's default rollback journal writes and fsyncs the journal, the database and the
# directory. synchronous=FULL keeps the fsync at every commit: a message Rasa has answered
# is on disk even after a power cut. NORMAL would skip it and may lose the last commits on
# a power cut or OS crash (never on a crash of Rasa alone), so it is not used.
SQLITE_PRAGMAS = (("journal_mode", "WAL"), ("synchronous", "FULL"))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """SQLAlchemy "connect" hook: the SQLITE_PRAGMAS on a new SQLite connection."""
    cursor = dbapi_connection.cursor()
    try:
        for name, value in SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {name}={value}")
    finally:
        cursor.close()


class RedactingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose `save` redacts each new event before it is written, and
    refuses to store a cleared conversation."""

    _tombstones: Optional[sa.Table] = None

    def _cleared(self, session: Any, sender_id: str) -> bool:
        if self._tombstones is None:  # made on first use (Rasa builds the store itself)
            table = tombstone_table(sa.MetaData())
            table.create(self.engine, checkfirst=True)
            self._tombstones = table
        return is_cleared(session, self._tombstones, sender_id)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rasas_engine: Any = self.engine  # type: ignore[has-type]
        if rasas_engine.dialect.name == "sqlite":
            # Rasa's engine opens a new SQLite connection for every load and save (the
            # SQLAlchemy 1.4 default for files), and closing the last connection in WAL
            # mode checkpoints and deletes the -wal file: a second fsync per message. A
            # pool keeps connections open; it lends each to one user at a time, so the
            # connections may move between threads (check_same_thread off).
            url = rasas_engine.url
            rasas_engine.dispose()
            self.engine = sa.create_engine(
                url, poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False}
            )
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        # On the engine in use (the pooled one on SQLite), after the pragmas above.
        secure_delete(self.engine)
        # A database error must not quote the rows it could not write (the events' JSON).
        self.engine.hide_parameters = True

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events not yet stored, redacted (same bookkeeping as the parent)."""
        sender = tracker.sender_id
        with self.session_scope() as session:
            if self._cleared(session, sender):
                logger.info("A cleared conversation was not stored again.")
                return
            await self.stream_events(tracker)
            for event in self._additional_events(session, tracker):
                data = redact_event(event.as_dict())
                session.add(
                    self.SQLEvent(
                        sender_id=sender,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=(data.get("parse_data") or {})
                        .get("intent", {})
                        .get(INTENT_NAME_KEY),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()
        # The conversation may have been cleared while this turn was being written.
        with self.session_scope() as session:
            if self._cleared(session, sender):
                session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender).delete()
                session.commit()
                logger.info("A conversation cleared during its turn was deleted again.")
                return
        logger.debug("Tracker stored (redacted).")
