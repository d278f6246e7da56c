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
