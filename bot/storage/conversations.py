"""Direct access to Rasa's SQL tracker store, for deleting and purging conversations.

Rasa keeps each conversation as rows of its `events` table (sender_id, type_name,
timestamp, ...). The edge app deletes one sender's rows when a parent clears the
conversation, and `python -m bot purge` deletes rows older than the retention limit.
The database is found exactly as Rasa finds it: the `tracker_store` section of the
endpoints file (RASA_ENDPOINTS, else endpoints.yml), with ${ENV} references expanded and
the SQLAlchemy URL built like Rasa's `SQLTrackerStore.get_db_url`. SQLite and PostgreSQL.

Clearing also leaves a tombstone (table `cleared_senders`: the sender id and when) that
the project's tracker store honours: a turn still in flight when the parent cleared the
conversation is not saved again under the deleted id (bot/rasa/tracker_store.py).
Tombstones are purged with the events, after the retention limit.

Plain SQLAlchemy only (no Rasa import), so the edge app stays light.
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Union
from urllib import parse

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import URL, Engine

from bot.paths import PROJECT_ROOT
from bot.storage.sqlite import secure_delete

logger = logging.getLogger(__name__)

EVENTS_TABLE = "events"
TOMBSTONE_TABLE = "cleared_senders"
# Tracker store types that keep events in Rasa's SQL table.
SQL_STORE_TYPES = {"sql", "bot.rasa.tracker_store.redactingsqltrackerstore"}
_ENV_REFERENCE = re.compile(r"\$\{([^}]*)\}")


def tombstone_table(metadata: sa.MetaData, schema: Optional[str] = None) -> sa.Table:
    """The table of cleared conversations: a sender id may never be stored again."""
    return sa.Table(
        TOMBSTONE_TABLE,
        metadata,
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("cleared_at", sa.Float, nullable=False, index=True),
        schema=schema,
    )


def is_cleared(connection: Any, table: sa.Table, sender_id: str) -> bool:
    """Whether this sender's conversation was cleared (a tombstone exists)."""
    query = sa.select(table.c.sender_id).where(table.c.sender_id == sender_id)
    return connection.execute(query).first() is not None


class ConversationStoreError(Exception):
    """The tracker store's configuration cannot be used (said in one line)."""


def endpoints_path(path: Union[str, Path, None] = None) -> Path:
    """The endpoints file Rasa uses: `path`, else RASA_ENDPOINTS, else endpoints.yml.

    A relative path is taken from the project root, where Rasa is started.
    """
    chosen = Path(path or os.environ.get("RASA_ENDPOINTS") or "endpoints.yml")
    return chosen if chosen.is_absolute() else PROJECT_ROOT / chosen


def _expand(value: Any) -> Any:
    """Expand ${VAR} in strings as Rasa does, refusing unset variables (no silent blanks)."""
    if isinstance(value, str) and "${" in value:
        missing = [name for name in _ENV_REFERENCE.findall(value) if name not in os.environ]
        if missing:
            raise ConversationStoreError(
                f"The endpoints file refers to environment variable(s) {', '.join(missing)}, "
                f"which are not set."
            )
        return os.path.expandvars(value)
    if isinstance(value, dict):
        return {key: _expand(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand(item) for item in value]
    return value


def tracker_store_config(path: Union[str, Path, None] = None) -> Optional[Dict[str, Any]]:
    """The `tracker_store` section of the endpoints file, expanded; None when absent."""
    file = endpoints_path(path)
    try:
        content = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as error:
        raise ConversationStoreError(f"The endpoints file {file.name} was not found.") from error
    section = content.get("tracker_store") if isinstance(content, dict) else None
    return _expand(section) if isinstance(section, dict) else None


def is_sql_store(config: Optional[Dict[str, Any]]) -> bool:
    """True when the tracker store keeps events in Rasa's SQL table."""
    if not config:
        return False
    kind = str(config.get("type") or config.get("store_type") or "").lower()
    return kind in SQL_STORE_TYPES or kind.endswith("sqltrackerstore")


def db_url(config: Dict[str, Any]) -> Union[str, URL]:
    """The SQLAlchemy URL for a tracker store section, as Rasa's get_db_url builds it.

    Differences, both for running outside Rasa's working directory: a relative SQLite
    path is resolved from the project root, and `login_db` is ignored (we never create
    databases, we only delete rows in one that exists).
    """
    dialect = str(config.get("dialect") or "sqlite")
    host = config.get("url") or config.get("host")
    port = config.get("port")
    db = str(config.get("db") or "rasa.db")
    if host and "://" in str(host):
        return str(host)
    if host:
        parsed = parse.urlsplit(f"scheme://{host}")
        port = parsed.port or port
        host = parsed.hostname or host
    if dialect.startswith("sqlite") and db not in ("", ":memory:") and not Path(db).is_absolute():
        db = str(PROJECT_ROOT / db)
    return URL.create(
        dialect,
        username=config.get("username"),
        password=None if config.get("password") is None else str(config.get("password")),
        host=host,
        port=int(port) if port not in (None, "") else None,
        database=db,
        query=config.get("query") or {},
    )


class ConversationStore:
    """Deletes rows of Rasa's events table: one sender's, or everything older than a time."""

    def __init__(
        self, url: Union[str, URL], table: str = EVENTS_TABLE, schema: Optional[str] = None
    ) -> None:
        self.url = url
        # Errors never quote a statement's values (a sender id): they may be logged.
        self.engine: Engine = secure_delete(
            sa.create_engine(url, hide_parameters=True, future=True)
        )
        self._table = sa.Table(
            table,
            sa.MetaData(),
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("sender_id", sa.String(255)),
            sa.Column("timestamp", sa.Float),
            schema=schema,
        )
        self._tombstones = tombstone_table(sa.MetaData(), schema=schema)

    @classmethod
    def from_endpoints(cls, path: Union[str, Path, None] = None) -> Optional["ConversationStore"]:
        """The store Rasa is configured with, or None when it keeps no SQL events."""
        config = tracker_store_config(path)
        if not is_sql_store(config):
            return None
        return cls(db_url(config))  # type: ignore[arg-type]

    def _ready(self) -> bool:
        """False when there is nothing to delete yet (no SQLite file, or no table)."""
        url = sa.engine.make_url(self.url) if isinstance(self.url, str) else self.url
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            if not Path(url.database).exists():
                return False
        return sa.inspect(self.engine).has_table(self._table.name, schema=self._table.schema)

    def delete_sender(self, sender_id: str) -> int:
        """Tombstone one conversation, then delete every stored event of it; the number of
        rows deleted.

        The tombstone is committed before the delete starts: a turn that commits its
        events before the delete is removed by it; one that commits after sees the
        tombstone and removes its own (the tracker store checks again after committing).
        """
        if not self._ready():
            return 0
        self._tombstones.create(self.engine, checkfirst=True)
        try:
            with self.engine.begin() as connection:
                if not is_cleared(connection, self._tombstones, sender_id):
                    connection.execute(
                        sa.insert(self._tombstones).values(
                            sender_id=sender_id, cleared_at=time.time()
                        )
                    )
        except sa.exc.IntegrityError:
            pass  # cleared twice at once: the other request's tombstone stands
        with self.engine.begin() as connection:
            result = connection.execute(
                sa.delete(self._table).where(self._table.c.sender_id == sender_id)
            )
        self._empty_wal()
        return int(result.rowcount or 0)

    def purge_tombstones_older_than(self, cutoff: float) -> int:
        """Delete tombstones made before `cutoff` (no turn runs that long); the number."""
        if not self._ready():
            return 0
        if not sa.inspect(self.engine).has_table(
            self._tombstones.name, schema=self._tombstones.schema
        ):
            return 0
        with self.engine.begin() as connection:
            result = connection.execute(
                sa.delete(self._tombstones).where(self._tombstones.c.cleared_at < cutoff)
            )
        return int(result.rowcount or 0)

    def purge_older_than(self, cutoff: float) -> int:
        """Delete events stamped before `cutoff` (Unix seconds); the number deleted.

        A conversation idle past the cutoff goes whole. A conversation still active
        loses only its events older than the cutoff: nothing older is kept, whoever
        it belongs to. Rasa always stamps events; a row without a stamp cannot be aged,
        so it is deleted too.
        """
        if not self._ready():
            return 0
        with self.engine.begin() as connection:
            result = connection.execute(
                sa.delete(self._table).where(
                    sa.or_(self._table.c.timestamp < cutoff, self._table.c.timestamp.is_(None))
                )
            )
        self._empty_wal()
        return int(result.rowcount or 0)

    def _empty_wal(self) -> None:
        """On SQLite in WAL mode (bot.rasa.tracker_store), copy the write-ahead log into
        the database and truncate it, so the deleted events' earlier copies do not stay
        in the -wal file. Nothing to do on PostgreSQL or in another journal mode."""
        if self.engine.dialect.name != "sqlite":
            return
        with self.engine.connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            if str(mode).lower() == "wal":
                busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
                if busy and busy[0]:
                    logger.warning("The tracker database's write-ahead log is busy: not emptied.")

    def count(self, sender_id: Optional[str] = None) -> int:
        """Stored events (of one sender, or all); for checks and tests."""
        if not self._ready():
            return 0
        query = sa.select(sa.func.count()).select_from(self._table)
        if sender_id is not None:
            query = query.where(self._table.c.sender_id == sender_id)
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


class ConversationDeleter:
    """Deletes one conversation's stored events (the widget's "clear conversation").

    Rasa's tracker database is opened on the first deletion, from the endpoints file in
    force then (RASA_ENDPOINTS), never at start-up: the edge may never need it. With a
    tracker store that keeps no SQL events there is nothing to delete.
    """

    def __init__(
        self,
        open_store: Callable[[], Optional[ConversationStore]] = ConversationStore.from_endpoints,
    ) -> None:
        self._open = open_store
        self._opened = False
        self._store: Optional[ConversationStore] = None

    def __call__(self, session_id: str) -> int:
        """Delete the conversation's events now; the number deleted (raises if the store fails)."""
        if not self._opened:
            self._store = self._open()
            self._opened = True
        return 0 if self._store is None else self._store.delete_sender(session_id)
