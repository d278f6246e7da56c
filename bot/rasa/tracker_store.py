"""Rasa's SQL tracker store, writing redacted copies of user messages only.

NLU and the actions see the current turn as the parent typed it (the in-memory tracker);
what reaches the database has e-mail addresses, phone numbers, postcodes, dates and card
numbers replaced by placeholders (bot.redact). Configured in endpoints.yml.

On SQLite (the embedded default) every connection runs in WAL mode with synchronous=FULL
(`SQLITE_PRAGMAS`): see `_sqlite_pragmas`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.redact import redact_event

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
    """SQLTrackerStore whose `save` redacts each new event before it is written."""

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

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events not yet stored, redacted (same bookkeeping as the parent)."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = redact_event(event.as_dict())
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
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
        logger.debug("Tracker stored (redacted).")
