"""Rasa's SQL tracker store, writing redacted copies of user messages only.

NLU and the actions see the current turn as the parent typed it (the in-memory tracker);
what reaches the database has e-mail addresses, phone numbers, postcodes, dates and card
numbers replaced by placeholders (bot.redact). Configured in endpoints.yml. On SQLite,
every connection overwrites what it deletes (bot/storage/sqlite.py).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.redact import redact_event
from bot.storage.sqlite import secure_delete

logger = logging.getLogger(__name__)


class RedactingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose `save` redacts each new event before it is written."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        secure_delete(self.engine)
        # A database error must not quote the rows it could not write (the events' JSON).
        self.engine.hide_parameters = True

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
