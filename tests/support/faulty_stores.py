"""A tracker store and a lock store that fail on purpose, for the live tests of what the
logs keep. A test stack's endpoints file names them in place of the project's stores.

By the sender id:

* "fault-raise-...": saving the tracker raises an error that quotes the row it could not
  write, as a database error does (Rasa logs it and keeps the turn in memory);
* "fault-lock-...": taking the conversation's lock raises, so handling the message fails
  and Rasa's REST channel logs `rest.message.received.failure` with the message;
* "fault-hang-...": saving outlasts Rasa's response timeout, so Sanic cancels the turn and
  the REST channel logs `rest.message.received.timeout` with the message.

Any other sender is handled as usual.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Text

from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa.tracker_store import RedactingSQLTrackerStore

HANG_SECONDS = 120


class StoreFailure(Exception):
    """Stands in for a database error."""


class FaultyTrackerStore(RedactingSQLTrackerStore):
    async def save(self, tracker: DialogueStateTracker) -> None:
        if tracker.sender_id.startswith("fault-raise-"):
            row = json.dumps({"event": "user", "text": tracker.latest_message.text})
            raise StoreFailure(f"could not write [parameters: {(tracker.sender_id, row)!r}]")
        if tracker.sender_id.startswith("fault-hang-"):
            await asyncio.sleep(HANG_SECONDS)
        await super().save(tracker)


class FaultyLockStore(InMemoryLockStore):
    def __init__(self, endpoint_config: Any = None) -> None:  # how Rasa makes a custom one
        super().__init__()

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        if conversation_id.startswith("fault-lock-"):
            raise LockError("Error while acquiring lock (on purpose).")
        return super().issue_ticket(conversation_id, lock_lifetime)
