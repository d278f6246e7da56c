"""A handoff store for the tests that run on both databases: SQLite in the test's folder,
or PostgreSQL with tables of its own (a random prefix, dropped after), on a clock that
moves forward a minute on each reading."""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

from bot.storage.handoff_store import HandoffStore
from tests.support.services import POSTGRES_URL, postgres_missing, skip_or_fail

START = datetime(2025, 6, 2, 9, 0, tzinfo=timezone.utc)


class Clock:
    """A settable clock that moves forward a minute on each reading."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@contextlib.contextmanager
def open_store(database: str, folder: Path, **options: Any) -> Iterator[HandoffStore]:
    """`database` is "sqlite" or "postgresql"; `options` go to HandoffStore."""
    clock = Clock(START)
    if database == "sqlite":
        made = HandoffStore(f"sqlite:///{folder / 'handoff.db'}", clock=clock, **options)
        try:
            yield made
        finally:
            made.engine.dispose()
        return
    problem = postgres_missing()
    if problem:
        skip_or_fail(problem)
    made = HandoffStore(POSTGRES_URL, prefix=f"t{uuid.uuid4().hex[:10]}_", clock=clock, **options)
    try:
        yield made
    finally:
        made.drop_tables()
        made.engine.dispose()
