"""Questions left for an adviser, and crisis counts, stored through SQLAlchemy.

A SQLite file by default (var/handoff.db); PostgreSQL (or any SQLAlchemy URL) through the
environment variable HANDOFF_DB_URL. The question and what the parent wrote in the
transcript are redacted (bot.redact) before they are written: a transcript built by
bot.handoff.transcript (a `RedactedTranscript`) has each parent line redacted and the
assistant's lines as sent (numbers and hours from the settings, which an adviser needs to
read as the parent read them); any other transcript text is redacted whole. The optional
contact is stored as the parent gave it, because they chose to give it so that an adviser
can reply.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, List, Optional, overload

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.paths import VAR_DIR
from bot.redact import redact
from bot.storage.sqlite import secure_delete

logger = logging.getLogger(__name__)

ENV_URL = "HANDOFF_DB_URL"
DEFAULT_URL = f"sqlite:///{VAR_DIR / 'handoff.db'}"
# No 0/O, 1/I/L: a parent can read a reference out over the phone without confusion.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
DEFAULT_REFERENCE_LENGTH = 6
STATUSES = ("new", "handled")
MAX_QUESTION_CHARS = 4000
MAX_TRANSCRIPT_CHARS = 50000
MAX_CONTACT_CHARS = 254
TRUNCATED = "[earlier messages omitted]\n"
_CATEGORY = re.compile(r"^[a-z][a-z_]{0,39}$")


class RedactedTranscript(str):
    """A transcript whose parent lines are already redacted; the rest is stored as it is."""


def _stored_transcript(transcript: str) -> str:
    text = transcript if isinstance(transcript, RedactedTranscript) else redact(transcript)
    return _keep_end(str(text), MAX_TRANSCRIPT_CHARS)


def utc_now() -> datetime:
    """The current time, aware, in UTC (the store's clock unless a test passes another)."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class HandoffRequest:
    """One question left for an adviser, as read back from the store (times aware, UTC)."""

    id: int
    reference: str
    question: str
    transcript: str
    created_at: datetime
    status: str
    handled_at: Optional[datetime]
    contact: Optional[str]


@dataclass(frozen=True)
class CrisisCount:
    """How many crisis answers of one category were sent on one local day (no text)."""

    day: date
    category: str
    count: int


def new_reference(length: int = DEFAULT_REFERENCE_LENGTH) -> str:
    """A short random reference from unambiguous characters (31**6 ~ 9e8 with 6)."""
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(length))


def normalise_reference(text: str) -> str:
    """'abc-234 ' -> 'ABC234': how a parent or adviser may type a reference back."""
    return re.sub(r"[\s-]", "", text or "").upper()


@overload
def _aware(value: datetime) -> datetime: ...


@overload
def _aware(value: None) -> None: ...


def _aware(value: Optional[datetime]) -> Optional[datetime]:
    if value is None:
        return None
    return (
        value.replace(tzinfo=timezone.utc)
        if value.tzinfo is None
        else value.astimezone(timezone.utc)
    )


def _naive_utc(value: datetime) -> datetime:
    """Columns hold naive UTC: SQLite has no time zones, and the same value works everywhere."""
    if value.tzinfo is None:
        raise ValueError("store times must be aware datetimes")
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def _keep_end(text: str, limit: int) -> str:
    """Bound stored text; for a transcript the latest messages matter most."""
    if len(text) <= limit:
        return text
    return TRUNCATED + text[-(limit - len(TRUNCATED)) :]


class HandoffStore:
    """The request and crisis-count tables behind one SQLAlchemy engine.

    `prefix` names the tables ("handoff_requests", "handoff_crisis_counts" by default) so
    that tests can use a fresh pair on a shared database and drop it afterwards.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        prefix: str = "handoff_",
        reference_length: int = DEFAULT_REFERENCE_LENGTH,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.url = url or os.environ.get(ENV_URL) or DEFAULT_URL
        self.engine = _engine(self.url)
        self.reference_length = reference_length
        self.clock = clock
        self.metadata = sa.MetaData()
        self.requests = sa.Table(
            f"{prefix}requests",
            self.metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("reference", sa.String(16), nullable=False, unique=True),
            sa.Column("question", sa.Text, nullable=False),
            sa.Column("transcript", sa.Text, nullable=False),
            sa.Column("created_at", sa.DateTime, nullable=False, index=True),
            sa.Column("status", sa.String(16), nullable=False, default="new"),
            sa.Column("handled_at", sa.DateTime, nullable=True),
            sa.Column("contact", sa.String(MAX_CONTACT_CHARS), nullable=True),
            sa.CheckConstraint("status in ('new', 'handled')", name=f"{prefix}status_known"),
        )
        self.crisis = sa.Table(
            f"{prefix}crisis_counts",
            self.metadata,
            sa.Column("day", sa.Date, primary_key=True),
            sa.Column("category", sa.String(40), primary_key=True),
            sa.Column("count", sa.Integer, nullable=False),
        )
        self.metadata.create_all(self.engine)

    # --- requests --------------------------------------------------------------------------
    def add(self, question: str, transcript: str) -> HandoffRequest:
        """Store a new request (redacted) under a fresh unique reference."""
        question = redact(question).strip()[:MAX_QUESTION_CHARS]
        if not question:
            raise ValueError("a handoff request needs a question")
        transcript = _stored_transcript(transcript)
        created = _naive_utc(self.clock())
        for _attempt in range(10):
            reference = new_reference(self.reference_length)
            try:
                with self.engine.begin() as connection:
                    connection.execute(
                        self.requests.insert().values(
                            reference=reference,
                            question=question,
                            transcript=transcript,
                            created_at=created,
                            status="new",
                        )
                    )
            except IntegrityError:
                continue  # the reference is taken: draw another
            stored = self.get(reference)
            assert stored is not None
            return stored
        raise RuntimeError("could not find a free reference; raise reference_length")

    def replace_question(self, reference: str, question: str, transcript: str) -> bool:
        """Update a waiting request's question and transcript (the parent added to it).

        False when there is no such request or it was already handled.
        """
        question = redact(question).strip()[:MAX_QUESTION_CHARS]
        if not question:
            raise ValueError("a handoff request needs a question")
        with self.engine.begin() as connection:
            result = connection.execute(
                self.requests.update()
                .where(self.requests.c.reference == normalise_reference(reference))
                .where(self.requests.c.status == "new")
                .values(
                    question=question,
                    transcript=_stored_transcript(transcript),
                )
            )
        return result.rowcount == 1

    def get(self, reference: str) -> Optional[HandoffRequest]:
        """One request by its reference (case and spaces ignored), or None."""
        with self.engine.connect() as connection:
            row = connection.execute(
                self.requests.select().where(
                    self.requests.c.reference == normalise_reference(reference)
                )
            ).first()
        return self._request(row) if row is not None else None

    def list_requests(self, status: Optional[str] = None, limit: int = 200) -> List[HandoffRequest]:
        """Requests newest first, optionally only one status."""
        query = (
            self.requests.select()
            .order_by(self.requests.c.created_at.desc(), self.requests.c.id.desc())
            .limit(limit)
        )
        if status is not None:
            if status not in STATUSES:
                raise ValueError(f"unknown status {status!r}")
            query = query.where(self.requests.c.status == status)
        with self.engine.connect() as connection:
            return [self._request(row) for row in connection.execute(query)]

    def mark_handled(self, reference: str) -> bool:
        """Set status handled (once); False when the reference is unknown or already handled."""
        with self.engine.begin() as connection:
            result = connection.execute(
                self.requests.update()
                .where(self.requests.c.reference == normalise_reference(reference))
                .where(self.requests.c.status == "new")
                .values(status="handled", handled_at=_naive_utc(self.clock()))
            )
        return result.rowcount == 1

    def set_contact(self, reference: str, contact: str) -> bool:
        """Attach the way to reply the parent chose to give, once.

        Only to a request still waiting (status new) that has no contact yet: whoever holds
        a conversation's id later (a script on the forum page can read it) cannot redirect
        the adviser's reply. False for an unknown, handled or already contactable request.
        """
        contact = contact.strip()
        if not contact or len(contact) > MAX_CONTACT_CHARS:
            raise ValueError("contact must be 1 to 254 characters")
        with self.engine.begin() as connection:
            result = connection.execute(
                self.requests.update()
                .where(self.requests.c.reference == normalise_reference(reference))
                .where(self.requests.c.status == "new")
                .where(self.requests.c.contact.is_(None))
                .values(contact=contact)
            )
        return result.rowcount == 1

    def purge_handled(self, older_than: timedelta, now: Optional[datetime] = None) -> int:
        """Delete requests handled more than `older_than` ago; return how many.

        Requests still waiting (status new) are never purged: nobody has read them yet.
        """
        if older_than < timedelta(0):
            raise ValueError("older_than must not be negative")
        cutoff = _naive_utc(now or self.clock()) - older_than
        with self.engine.begin() as connection:
            result = connection.execute(
                self.requests.delete()
                .where(self.requests.c.status == "handled")
                .where(self.requests.c.handled_at < cutoff)
            )
        return result.rowcount

    @staticmethod
    def _request(row: sa.engine.Row) -> HandoffRequest:
        return HandoffRequest(
            id=row.id,
            reference=row.reference,
            question=row.question,
            transcript=row.transcript,
            created_at=_aware(row.created_at),
            status=row.status,
            handled_at=_aware(row.handled_at),
            contact=row.contact,
        )

    # --- crisis counts -----------------------------------------------------------------------
    def count_crisis(self, category: str, day: date) -> None:
        """Add one to a category's count for a (local) day. Counts only: never any text."""
        if not _CATEGORY.match(category or ""):
            raise ValueError(f"not a crisis category: {category!r}")
        key = (self.crisis.c.day == day) & (self.crisis.c.category == category)
        for _attempt in range(3):
            with self.engine.begin() as connection:
                updated = connection.execute(
                    self.crisis.update().where(key).values(count=self.crisis.c.count + 1)
                )
                if updated.rowcount:
                    return
            try:
                with self.engine.begin() as connection:
                    connection.execute(
                        self.crisis.insert().values(day=day, category=category, count=1)
                    )
                return
            except IntegrityError:
                continue  # another process inserted the row first: update it
        raise RuntimeError("could not count a crisis answer")

    def crisis_counts(self, since: date) -> List[CrisisCount]:
        """Counts per day and category from `since` on, newest day first."""
        query = (
            self.crisis.select()
            .where(self.crisis.c.day >= since)
            .order_by(self.crisis.c.day.desc(), self.crisis.c.category)
        )
        with self.engine.connect() as connection:
            return [
                CrisisCount(row.day, row.category, row.count) for row in connection.execute(query)
            ]

    def drop_tables(self) -> None:
        """Remove this store's tables (tests clean up their own prefix with it)."""
        self.metadata.drop_all(self.engine)


def _engine(url: str) -> Engine:
    """An engine for the URL; a SQLite file gets its folder and a wait on locks (two
    processes, the action server and the edge app, write to it). Its errors never quote
    the values of a statement (a question, a transcript), so a logged error keeps none."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return secure_delete(
            sa.create_engine(url, connect_args={"timeout": 15}, hide_parameters=True, future=True)
        )
    return sa.create_engine(url, pool_pre_ping=True, hide_parameters=True, future=True)


@functools.lru_cache(maxsize=4)
def _store_for(url: str, reference_length: int) -> HandoffStore:
    return HandoffStore(url, reference_length=reference_length)


def default_store() -> HandoffStore:
    """The process's store: HANDOFF_DB_URL, else var/handoff.db (one per URL, reused)."""
    from bot import settings

    length = settings.load().handoff.reference_length
    return _store_for(os.environ.get(ENV_URL) or DEFAULT_URL, length)
