"""Deleted means gone from the file: every SQLite connection the project opens overwrites
what it deletes (`PRAGMA secure_delete=ON`).

Without it SQLite only marks a deleted row's space free, and the words stay in the file
until something else is written over them. The handoff store, the conversation deleter and
the redacting tracker store each pass their engine through `secure_delete`. PostgreSQL
needs VACUUM for the same promise (SECURITY.md).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA secure_delete=ON")
    finally:
        cursor.close()


def secure_delete(engine: Engine) -> Engine:
    """Make every connection of a SQLite engine overwrite deleted content (others: as is)."""
    if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _on_connect):
        event.listen(engine, "connect", _on_connect)
        engine.dispose()  # connections opened before the listener are not reused
    return engine
