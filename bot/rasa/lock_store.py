"""Rasa's Redis lock store with every change to a conversation's lock made atomic.

Rasa Open Source 3.6's `RedisLockStore` keeps each conversation's ticket lock as one JSON
value and changes it by reading it, changing it in Python and writing it back. Within one
Rasa server that is safe (one event loop, no await in between); across two servers it is
not: both can read the same lock, both issue the same ticket number, and both then handle
their message at once, so one server's tracker save overwrites the other's events. The
scale-out test saw exactly that: one of six messages sent at once to two servers was
answered but never stored.

`AtomicRedisLockStore` keeps Rasa's ticket lock (first come, first served; expired tickets
dropped) and makes each read-change-write a Redis transaction (WATCH/MULTI/EXEC, retried
when another server changed the lock in between). Use it in the endpoints file as
`type: bot.rasa.lock_store.AtomicRedisLockStore` with the same keys as Rasa's `redis` type.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Optional, Text, Tuple

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

# What a change returns: the lock to save (None deletes it) and a value for the caller.
Change = Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], Any]]


class AtomicRedisLockStore(RedisLockStore):
    """A `RedisLockStore` whose ticket issue, release and expiry are Redis transactions."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            options = dict(endpoint_config.kwargs)
            options.setdefault("host", endpoint_config.url or "localhost")
            kwargs = {**options, **kwargs}
        super().__init__(**kwargs)

    def _key(self, conversation_id: Text) -> Text:
        return self.key_prefix + conversation_id

    def _atomically(self, conversation_id: Text, change: Change) -> Any:
        """Apply `change` to the stored lock as one transaction; return its value."""
        key = self._key(conversation_id)
        outcome: dict = {}

        def transaction(pipe: Any) -> None:
            raw = pipe.get(key)  # immediate while the key is watched
            lock = TicketLock.from_dict(json.loads(raw)) if raw else None
            new_lock, value = change(lock)
            pipe.multi()
            if new_lock is None:
                pipe.delete(key)
            else:
                pipe.set(key, new_lock.dumps())
            outcome["value"] = value

        # redis-py retries `transaction` whenever the watched key changed before EXEC.
        self.red.transaction(transaction, key)
        return outcome.get("value")

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def change(lock: Optional[TicketLock]) -> Tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._atomically(conversation_id, change)
        except Exception as error:  # the same error Rasa's own store raises
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: Text) -> None:
        def change(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._atomically(conversation_id, change)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        def change(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._atomically(conversation_id, change)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Release `ticket_number`, and delete the lock when nobody else waits: one step."""

        def change(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], bool]:
            if lock is None:
                return None, False
            lock.remove_ticket_for(ticket_number)
            if lock.is_someone_waiting():
                return lock, False
            return None, True

        deleted = self._atomically(conversation_id, change)
        self._log_deletion(conversation_id, bool(deleted))
