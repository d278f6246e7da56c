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
import hashlib
import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, overload

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
PAGE_SIZE = 50
TRUNCATED = "[earlier messages omitted]\n"
_CATEGORY = re.compile(r"^[a-z][a-z_]{0,39}$")
# What the edge counts per week (numbers only): see bot/report.py.
METRICS = ("conversations", "faq", "clarification", "handoff", "left")
_COUNT_KEY = re.compile(r"^[a-z0-9_/]{0,120}$")


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
    # The parent agreed that advisers may also use the question (without contact details)
    # to improve the assistant; without it the request is never labelled or exported.
    learn_consent: bool = False


LABEL_KINDS = ("faq", "topic", "not_for_assistant")
MAX_TITLE_CHARS = 120


@dataclass(frozen=True)
class Label:
    """An adviser's label on a request: (a) an FAQ should have answered it, (b) a new topic
    with a short title, or (c) not for the assistant; with the labelling role and time."""

    reference: str
    kind: str
    faq: Optional[str]
    title: Optional[str]
    labelled_by: str
    labelled_at: datetime


class NoConsent(Exception):
    """The parent did not agree to their question being used to improve the assistant."""


@dataclass(frozen=True)
class AdviserSession:
    """A signed-in adviser's session as the server keeps it (the cookie holds only a token
    whose SHA-256 is the key; `label` is a short public name for the access log)."""

    label: str
    role: str
    csrf: str
    created_at: datetime
    last_used_at: datetime


@dataclass(frozen=True)
class Access:
    """One line of the access log: which session did what to which request, and when."""

    reference: str
    session: str
    role: str
    action: str
    at: datetime


@dataclass(frozen=True)
class WeekCount:
    """How many times something happened in one week (Monday, local): a number, no text."""

    week: date
    metric: str
    key: str
    count: int


@dataclass(frozen=True)
class CrisisCount:
    """How many crisis answers of one category were sent on one local day (no text)."""

    day: date
    category: str
    count: int


def _known_status(status: str) -> str:
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    return status


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
            sa.Column(
                "learn_consent",
                sa.Boolean,
                nullable=False,
                default=False,
                server_default=sa.false(),
            ),
            sa.CheckConstraint("status in ('new', 'handled')", name=f"{prefix}status_known"),
        )
        self.labels = sa.Table(
            f"{prefix}labels",
            self.metadata,
            sa.Column("reference", sa.String(16), primary_key=True),
            sa.Column("kind", sa.String(24), nullable=False),
            sa.Column("faq", sa.String(MAX_TITLE_CHARS), nullable=True),
            sa.Column("title", sa.String(MAX_TITLE_CHARS), nullable=True),
            sa.Column("labelled_by", sa.String(32), nullable=False),
            sa.Column("labelled_at", sa.DateTime, nullable=False, index=True),
        )
        self.sessions = sa.Table(
            f"{prefix}adviser_sessions",
            self.metadata,
            sa.Column("token_hash", sa.String(64), primary_key=True),
            sa.Column("label", sa.String(16), nullable=False),
            sa.Column("role", sa.String(32), nullable=False),
            sa.Column("csrf", sa.String(64), nullable=False),
            sa.Column("created_at", sa.DateTime, nullable=False),
            sa.Column("last_used_at", sa.DateTime, nullable=False),
        )
        self.access = sa.Table(
            f"{prefix}access_log",
            self.metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("reference", sa.String(16), nullable=False, index=True),
            sa.Column("session", sa.String(16), nullable=False),
            sa.Column("role", sa.String(32), nullable=False),
            sa.Column("action", sa.String(16), nullable=False),
            sa.Column("at", sa.DateTime, nullable=False),
        )
        self.crisis = sa.Table(
            f"{prefix}crisis_counts",
            self.metadata,
            sa.Column("day", sa.Date, primary_key=True),
            sa.Column("category", sa.String(40), primary_key=True),
            sa.Column("count", sa.Integer, nullable=False),
        )
        self.weekly = sa.Table(
            f"{prefix}weekly_counts",
            self.metadata,
            sa.Column("week", sa.Date, primary_key=True),
            sa.Column("metric", sa.String(24), primary_key=True),
            sa.Column("key", sa.String(120), primary_key=True),
            sa.Column("count", sa.Integer, nullable=False),
        )
        self.metadata.create_all(self.engine)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """A database made before the consent column gets it (false: no consent asked)."""
        present = {c["name"] for c in sa.inspect(self.engine).get_columns(self.requests.name)}
        if "learn_consent" not in present:
            with self.engine.begin() as connection:
                connection.execute(
                    sa.text(
                        f"ALTER TABLE {self.requests.name} "
                        "ADD COLUMN learn_consent BOOLEAN NOT NULL DEFAULT FALSE"
                    )
                )

    # --- requests --------------------------------------------------------------------------
    def add(self, question: str, transcript: str, learn_consent: bool = False) -> HandoffRequest:
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
                            learn_consent=bool(learn_consent),
                        )
                    )
            except IntegrityError:
                continue  # the reference is taken: draw another
            stored = self.get(reference)
            assert stored is not None
            return stored
        raise RuntimeError("could not find a free reference; raise reference_length")

    def replace_question(
        self,
        reference: str,
        question: str,
        transcript: str,
        learn_consent: Optional[bool] = None,
    ) -> bool:
        """Update a waiting request's question and transcript (the parent added to it), and
        the consent when given (the parent's latest choice counts).

        False when there is no such request or it was already handled.
        """
        consent = {} if learn_consent is None else {"learn_consent": bool(learn_consent)}
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
                    **consent,
                )
            )
        return result.rowcount == 1

    def _by_reference(self, table: sa.Table, reference: str) -> Any:
        """The row of `table` for one reference (case and spaces ignored), or None."""
        with self.engine.connect() as connection:
            return connection.execute(
                table.select().where(table.c.reference == normalise_reference(reference))
            ).first()

    def get(self, reference: str) -> Optional[HandoffRequest]:
        """One request by its reference (case and spaces ignored), or None."""
        row = self._by_reference(self.requests, reference)
        return self._request(row) if row is not None else None

    def list_requests(
        self, status: Optional[str] = None, limit: int = PAGE_SIZE, offset: int = 0
    ) -> List[HandoffRequest]:
        """One page of requests, optionally only one status: those still waiting first,
        oldest first (the longest wait at the top), then handled ones, newest first."""
        if limit < 1 or offset < 0:
            raise ValueError("limit must be positive and offset not negative")
        c = self.requests.c
        waiting = c.status == "new"
        query = (
            self.requests.select()
            .order_by(
                sa.case((waiting, 0), else_=1),
                sa.case((waiting, c.created_at), else_=None).asc(),
                c.created_at.desc(),
                c.id.asc(),
            )
            .limit(limit)
            .offset(offset)
        )
        if status is not None:
            query = query.where(c.status == _known_status(status))
        with self.engine.connect() as connection:
            return [self._request(row) for row in connection.execute(query)]

    def count_requests(self, status: Optional[str] = None) -> int:
        """How many requests there are (of one status, or all)."""
        query = sa.select(sa.func.count()).select_from(self.requests)
        if status is not None:
            query = query.where(self.requests.c.status == _known_status(status))
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

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
        expired = (self.requests.c.status == "handled") & (self.requests.c.handled_at < cutoff)
        with self.engine.begin() as connection:
            references = sa.select(self.requests.c.reference).where(expired)
            for table in self._per_request_tables():
                connection.execute(table.delete().where(table.c.reference.in_(references)))
            result = connection.execute(self.requests.delete().where(expired))
        return result.rowcount

    def _per_request_tables(self) -> List[sa.Table]:
        """Tables whose rows belong to one request and go when it goes."""
        return [self.access, self.labels]

    # --- labels --------------------------------------------------------------------------------
    def set_label(
        self,
        reference: str,
        kind: str,
        role: str,
        faq: Optional[str] = None,
        title: Optional[str] = None,
    ) -> Label:
        """Label a request (replacing an earlier label). Raises KeyError for an unknown
        reference, NoConsent when the parent said no, ValueError for a malformed label."""
        if kind not in LABEL_KINDS:
            raise ValueError(f"unknown label {kind!r}")
        faq = (faq or "").strip() or None
        title = " ".join((title or "").split())[:MAX_TITLE_CHARS] or None
        if (kind == "faq") != (faq is not None) or (kind == "topic") != (title is not None):
            raise ValueError("an FAQ label needs the FAQ, a new topic needs a title")
        if title is not None:
            title = redact(title)
        reference = normalise_reference(reference)
        found = self.get(reference)
        if found is None:
            raise KeyError(reference)
        if not found.learn_consent:
            raise NoConsent(reference)
        values = {
            "kind": kind,
            "faq": faq,
            "title": title,
            "labelled_by": role,
            "labelled_at": _naive_utc(self.clock()),
        }
        key = self.labels.c.reference == reference
        with self.engine.begin() as connection:
            if connection.execute(self.labels.update().where(key).values(**values)).rowcount == 0:
                connection.execute(self.labels.insert().values(reference=reference, **values))
        label = self.label(reference)
        assert label is not None
        return label

    def label(self, reference: str) -> Optional[Label]:
        row = self._by_reference(self.labels, reference)
        return self._label(row) if row is not None else None

    def labels_by_reference(self, references: List[str]) -> Dict[str, Label]:
        if not references:
            return {}
        with self.engine.connect() as connection:
            rows = connection.execute(
                self.labels.select().where(self.labels.c.reference.in_(references))
            )
            return {row.reference: self._label(row) for row in rows}

    def labelled(self, kind: str) -> List[Tuple[HandoffRequest, Label]]:
        """Requests with a label of `kind` whose parent agreed, newest label first."""
        if kind not in LABEL_KINDS:
            raise ValueError(f"unknown label {kind!r}")
        query = (
            sa.select(
                self.requests,
                *(c for c in self.labels.c if c.name != "reference"),
            )
            .join(self.labels, self.labels.c.reference == self.requests.c.reference)
            .where(self.labels.c.kind == kind)
            .where(self.requests.c.learn_consent == sa.true())
            .order_by(self.labels.c.labelled_at.desc(), self.requests.c.id.desc())
        )
        with self.engine.connect() as connection:
            return [(self._request(row), self._label(row)) for row in connection.execute(query)]

    @staticmethod
    def _label(row: sa.engine.Row) -> Label:
        return Label(
            reference=row.reference,
            kind=row.kind,
            faq=row.faq,
            title=row.title,
            labelled_by=row.labelled_by,
            labelled_at=_aware(row.labelled_at),
        )

    # --- adviser sessions and the access log ----------------------------------------------------
    @staticmethod
    def _token_hash(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()

    def open_session(self, role: str) -> Tuple[str, AdviserSession]:
        """A new adviser session: the token for the cookie (kept only as its hash here)."""
        token = secrets.token_urlsafe(32)
        now = _naive_utc(self.clock())
        label = secrets.token_hex(4)
        csrf = secrets.token_urlsafe(32)
        with self.engine.begin() as connection:
            connection.execute(
                self.sessions.insert().values(
                    token_hash=self._token_hash(token),
                    label=label,
                    role=role,
                    csrf=csrf,
                    created_at=now,
                    last_used_at=now,
                )
            )
        return token, AdviserSession(label, role, csrf, _aware(now), _aware(now))

    def use_session(
        self, token: str, idle: timedelta, longest: timedelta
    ) -> Optional[AdviserSession]:
        """The live session for a token, its last use moved to now; None when it is unknown,
        signed out or expired (idle longer than `idle`, or older than `longest`)."""
        now = _naive_utc(self.clock())
        key = self.sessions.c.token_hash == self._token_hash(token)
        with self.engine.begin() as connection:
            row = connection.execute(self.sessions.select().where(key)).first()
            if row is None:
                return None
            if row.last_used_at + idle <= now or row.created_at + longest <= now:
                connection.execute(self.sessions.delete().where(key))
                return None
            connection.execute(self.sessions.update().where(key).values(last_used_at=now))
        return AdviserSession(row.label, row.role, row.csrf, _aware(row.created_at), _aware(now))

    def close_session(self, token: str) -> bool:
        """Sign out: the session is gone for every copy of its cookie."""
        with self.engine.begin() as connection:
            result = connection.execute(
                self.sessions.delete().where(self.sessions.c.token_hash == self._token_hash(token))
            )
        return result.rowcount == 1

    def close_expired_sessions(self, idle: timedelta, longest: timedelta) -> int:
        """Delete sessions past either limit; how many."""
        now = _naive_utc(self.clock())
        with self.engine.begin() as connection:
            result = connection.execute(
                self.sessions.delete().where(
                    (self.sessions.c.last_used_at <= now - idle)
                    | (self.sessions.c.created_at <= now - longest)
                )
            )
        return result.rowcount

    def log_access(self, reference: str, session: AdviserSession, action: str) -> None:
        """Record that a session viewed or changed a request (no text, only the names)."""
        with self.engine.begin() as connection:
            connection.execute(
                self.access.insert().values(
                    reference=normalise_reference(reference),
                    session=session.label,
                    role=session.role,
                    action=action,
                    at=_naive_utc(self.clock()),
                )
            )

    def access_log(self, reference: Optional[str] = None, limit: int = 200) -> List[Access]:
        """The newest entries first, for one request or all."""
        query = (
            self.access.select()
            .order_by(self.access.c.at.desc(), self.access.c.id.desc())
            .limit(limit)
        )
        if reference is not None:
            query = query.where(self.access.c.reference == normalise_reference(reference))
        with self.engine.connect() as connection:
            return [
                Access(row.reference, row.session, row.role, row.action, _aware(row.at))
                for row in connection.execute(query)
            ]

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
            learn_consent=bool(row.learn_consent),
        )

    # --- crisis counts -----------------------------------------------------------------------
    def count_crisis(self, category: str, day: date) -> None:
        """Add one to a category's count for a (local) day. Counts only: never any text."""
        if not _CATEGORY.match(category or ""):
            raise ValueError(f"not a crisis category: {category!r}")
        self._add_one(self.crisis, {"day": day, "category": category})

    def _add_one(self, table: sa.Table, key: Dict[str, object]) -> None:
        where = sa.and_(*(table.c[name] == value for name, value in key.items()))
        for _attempt in range(3):
            with self.engine.begin() as connection:
                updated = connection.execute(
                    table.update().where(where).values(count=table.c.count + 1)
                )
                if updated.rowcount:
                    return
            try:
                with self.engine.begin() as connection:
                    connection.execute(table.insert().values(**key, count=1))
                return
            except IntegrityError:
                continue  # another process inserted the row first: update it
        raise RuntimeError("could not count")

    def count_week(self, metric: str, key: str, day: date) -> None:
        """Add one to a metric (with an optional key: an FAQ or a reason) for the week of
        a (local) day. Names and numbers only, never a parent's text."""
        if metric not in METRICS or not _COUNT_KEY.match(key or ""):
            raise ValueError(f"not a countable metric: {metric!r} {key!r}")
        week = day - timedelta(days=day.weekday())
        self._add_one(self.weekly, {"week": week, "metric": metric, "key": key or ""})

    def week_counts(self, since: date) -> List[WeekCount]:
        """The weekly counts from the week holding `since` on."""
        since = since - timedelta(days=since.weekday())
        query = (
            self.weekly.select()
            .where(self.weekly.c.week >= since)
            .order_by(self.weekly.c.week, self.weekly.c.metric, self.weekly.c.key)
        )
        with self.engine.connect() as connection:
            return [
                WeekCount(row.week, row.metric, row.key, row.count)
                for row in connection.execute(query)
            ]

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
