"""Widget sessions: ids made by the server, bounded in number, expiring when idle.

A session remembers only what the edge needs between two messages: when it was last used
and which button payloads its latest answer offered (only those may reach Rasa as
commands). No message text is kept here.

When the registry is full, only sessions idle past the expiry are dropped to make room;
an active session is never evicted for a new one (a flood of new sessions would otherwise
push a parent out of their conversation mid-handoff). If no session is idle, `create`
refuses (returns None) and the edge answers 503 with the adviceline number.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, FrozenSet, Optional

ALWAYS_ALLOWED_PAYLOADS: FrozenSet[str] = frozenset({"/request_human"})
MAX_SESSIONS = 20000


@dataclass
class Session:
    """One conversation as the edge sees it."""

    id: str
    last_seen: float
    offered_payloads: FrozenSet[str] = field(default_factory=frozenset)

    def allows(self, payload: str) -> bool:
        """A payload may pass only if the latest answer offered it (or it is always offered)."""
        return payload in self.offered_payloads or payload in ALWAYS_ALLOWED_PAYLOADS


def new_session_id() -> str:
    """192 random bits, URL-safe: unguessable, never chosen by the browser."""
    return secrets.token_urlsafe(24)


class SessionRegistry:
    """In-memory registry with an idle timeout and a size cap that never evicts the active.

    Sessions are kept in order of last use, so the idle ones are at the front.
    """

    def __init__(
        self,
        max_sessions: int = MAX_SESSIONS,
        idle_seconds: float = 1800,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions: "OrderedDict[str, Session]" = OrderedDict()
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self._clock = clock

    def __len__(self) -> int:
        return len(self._sessions)

    def create(self) -> Optional[Session]:
        """A new session with a fresh id; None when the registry is full of active sessions."""
        self._expire()
        if len(self._sessions) >= self.max_sessions:
            return None
        session = Session(id=new_session_id(), last_seen=self._clock())
        self._sessions[session.id] = session
        return session

    def get(self, session_id: object) -> Optional[Session]:
        """The live session with this id, or None (unknown, expired or not a string)."""
        if not isinstance(session_id, str):
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        if self._clock() - session.last_seen > self.idle_seconds:
            del self._sessions[session_id]
            return None
        session.last_seen = self._clock()
        self._sessions.move_to_end(session_id)
        return session

    def remove(self, session_id: str) -> bool:
        """Forget a session; True if it existed."""
        return self._sessions.pop(session_id, None) is not None

    def _expire(self) -> None:
        """Drop the sessions idle past the expiry (and only those)."""
        now = self._clock()
        while self._sessions:
            oldest = next(iter(self._sessions.values()))
            if now - oldest.last_seen <= self.idle_seconds:
                break
            self._sessions.popitem(last=False)
