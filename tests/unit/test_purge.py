"""Retention: `python -m bot purge` and the widget's clear-conversation, on SQLite and PostgreSQL.

Conversations are written by the project's real tracker store (RedactingSQLTrackerStore,
Rasa's table layout) and found again through an endpoints file, exactly as Rasa finds them.
PostgreSQL runs at 127.0.0.1:5432 (database `test`); each test works in a schema of its own
and drops it afterwards.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import requests
import yaml

from bot import settings
from bot.paths import PROJECT_ROOT
from bot.storage import retention as purge
from bot.storage.conversations import (
    ConversationStore,
    ConversationStoreError,
    db_url,
    tracker_store_config,
)
from tests.support.services import skip_or_fail

DAY = 86400
PG = {"host": "127.0.0.1", "port": 5432, "dbname": "test", "user": "postgres"}


@pytest.fixture(autouse=True)
def _own_handoff_db(tmp_path: Path, monkeypatch) -> None:
    """The purge command also purges handoff requests: never in the project's var/."""
    monkeypatch.setenv("HANDOFF_DB_URL", f"sqlite:///{tmp_path / 'handoff.db'}")


def _postgres_problem() -> str:
    """Why PostgreSQL cannot be used here ('' when it can)."""
    try:
        import psycopg2

        psycopg2.connect(connect_timeout=3, **PG).close()
        return ""
    except Exception as error:  # unreachable, auth, driver missing
        return f"PostgreSQL at {PG['host']}:{PG['port']}/{PG['dbname']} unreachable: {error}"


@pytest.fixture(params=["sqlite", "postgresql"])
def endpoints(request, tmp_path: Path, monkeypatch) -> Iterator[Path]:
    """An endpoints file whose tracker store is a fresh SQLite file or PostgreSQL schema;
    RASA_ENDPOINTS points at it (as it does for Rasa and the edge app)."""
    if request.param == "sqlite":
        section: Dict[str, object] = {"dialect": "sqlite", "db": str(tmp_path / "tracker.db")}
        cleanup = None
    else:
        problem = _postgres_problem()
        if problem:
            skip_or_fail(problem)
        import psycopg2

        schema = f"purge_{uuid.uuid4().hex[:12]}"
        connection = psycopg2.connect(**PG)
        connection.autocommit = True
        connection.cursor().execute(f'CREATE SCHEMA "{schema}"')
        # The password comes from the environment, as in production (${...} expansion).
        monkeypatch.setenv("TEST_TRACKER_DB_USER", PG["user"])
        section = {
            "dialect": "postgresql",
            "url": PG["host"],
            "port": PG["port"],
            "db": PG["dbname"],
            "username": "${TEST_TRACKER_DB_USER}",
            "query": {"options": f"-csearch_path={schema}"},
        }

        def cleanup() -> None:
            connection.cursor().execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            connection.close()

    file = tmp_path / "endpoints.yml"
    file.write_text(
        yaml.safe_dump(
            {
                "tracker_store": {
                    "type": "bot.rasa.tracker_store.RedactingSQLTrackerStore",
                    **section,
                }
            }
        )
    )
    monkeypatch.setenv("RASA_ENDPOINTS", str(file))
    yield file
    if cleanup:
        cleanup()


def _write_conversations(conversations: Dict[str, List[float]]) -> None:
    """Store, through the project's tracker store, one user message per timestamp."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.rasa.tracker_store import RedactingSQLTrackerStore

    config = tracker_store_config()
    assert config is not None
    kwargs = {key: value for key, value in config.items() if key not in ("type", "url")}
    store = RedactingSQLTrackerStore(domain=Domain.empty(), host=config.get("url"), **kwargs)
    for sender, stamps in conversations.items():
        events = [
            UserUttered(f"message {i} from jo@example.com", timestamp=stamp)
            for i, stamp in enumerate(stamps)
        ]
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    store.engine.dispose()


def _counts(senders: List[str]) -> Dict[str, int]:
    store = ConversationStore.from_endpoints()
    assert store is not None
    try:
        return {sender: store.count(sender) for sender in senders}
    finally:
        store.dispose()


def _run_purge(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "purge", *args],
        cwd=PROJECT_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_purge_command_deletes_only_what_is_older_than_the_limit(endpoints: Path) -> None:
    now = time.time()
    _write_conversations(
        {
            "old": [now - 45 * DAY, now - 40 * DAY],
            "recent": [now - 2 * DAY, now - 60],
            "mixed": [now - 31 * DAY, now - DAY],
        }
    )
    result = _run_purge("--older-than", "30")
    assert result.returncode == 0, result.stderr
    assert "Deleted 3 conversation event(s) older than 30 day(s)." in result.stdout
    assert _counts(["old", "recent", "mixed"]) == {"old": 0, "recent": 2, "mixed": 1}
    assert "example.com" not in result.stdout + result.stderr


def test_purge_defaults_to_the_configured_retention(endpoints: Path) -> None:
    days = settings.load().privacy.retention_days
    now = time.time()
    _write_conversations(
        {"past_limit": [now - (days + 1) * DAY], "within_limit": [now - (days - 1) * DAY]}
    )
    result = _run_purge()
    assert result.returncode == 0, result.stderr
    assert f"older than {days} day(s)" in result.stdout
    assert _counts(["past_limit", "within_limit"]) == {"past_limit": 0, "within_limit": 1}


def test_clear_conversation_deletes_that_conversation_at_once(endpoints: Path, fake_rasa) -> None:
    """DELETE /api/session/<id> on the real edge app removes that sender's stored events
    and nobody else's."""
    from bot.edge.app import create_app
    from tests.support.servers import BackgroundApp

    now = time.time()
    _write_conversations({"parent-a": [now - 5, now - 1], "parent-b": [now - 3]})
    app = create_app(settings.load(), rasa=fake_rasa, name=f"purge_{uuid.uuid4().hex[:8]}")
    with BackgroundApp(app) as edge:
        reply = requests.delete(f"{edge.url}/api/session/parent-a", timeout=30)
    assert reply.status_code == 204
    assert _counts(["parent-a", "parent-b"]) == {"parent-a": 0, "parent-b": 1}


def test_a_missing_store_is_nothing_to_delete(tmp_path: Path, monkeypatch) -> None:
    """Before Rasa has stored anything (no file, no table) purge and delete find nothing."""
    file = tmp_path / "endpoints.yml"
    file.write_text(
        yaml.safe_dump(
            {
                "tracker_store": {
                    "type": "sql",
                    "dialect": "sqlite",
                    "db": str(tmp_path / "never-made.db"),
                }
            }
        )
    )
    monkeypatch.setenv("RASA_ENDPOINTS", str(file))
    store = ConversationStore.from_endpoints()
    assert store is not None
    assert store.delete_sender("anyone") == 0
    assert purge.purge_conversations(30, store=store) == 0
    assert not (tmp_path / "never-made.db").exists()


def test_urls_are_built_as_rasa_builds_them(tmp_path: Path, monkeypatch) -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    monkeypatch.setenv("TEST_DB_PASSWORD", "from-the-environment")
    config = {
        "dialect": "postgresql",
        "url": "db.internal:6543",
        "db": "rasa",
        "username": "bot",
        "password": "${TEST_DB_PASSWORD}",
    }
    file = tmp_path / "endpoints.yml"
    file.write_text(yaml.safe_dump({"tracker_store": {"type": "sql", **config}}))
    ours = db_url(tracker_store_config(file))
    theirs = SQLTrackerStore.get_db_url(
        "postgresql", "db.internal:6543", None, "rasa", "bot", "from-the-environment"
    )
    assert ours == theirs
    relative = db_url({"dialect": "sqlite", "db": "var/tracker.db"})
    assert relative.database == str(PROJECT_ROOT / "var" / "tracker.db")


def test_unset_environment_variables_are_refused_clearly(tmp_path: Path, monkeypatch) -> None:
    file = tmp_path / "endpoints.yml"
    file.write_text(
        yaml.safe_dump(
            {
                "tracker_store": {
                    "type": "sql",
                    "dialect": "postgresql",
                    "password": "${NO_SUCH_PASSWORD_VAR}",
                }
            }
        )
    )
    monkeypatch.delenv("NO_SUCH_PASSWORD_VAR", raising=False)
    with pytest.raises(ConversationStoreError, match="NO_SUCH_PASSWORD_VAR"):
        tracker_store_config(file)
    monkeypatch.setenv("RASA_ENDPOINTS", str(file))
    result = _run_purge("--older-than", "1")
    assert result.returncode == 1
    assert "NO_SUCH_PASSWORD_VAR" in result.stderr and "Traceback" not in result.stderr


def test_negative_days_are_refused(tmp_path: Path) -> None:
    result = _run_purge("--older-than", "-1")
    assert result.returncode == 2
    assert "0 or more days" in result.stderr


def test_purge_handoffs_deletes_only_requests_handled_before_the_limit(tmp_path: Path) -> None:
    """In process, on the real store: the count it returns is what it deleted."""
    from datetime import datetime, timezone

    from bot.storage.handoff_store import HandoffStore

    url = f"sqlite:///{tmp_path / 'purge-handoff.db'}"
    now = datetime.now(timezone.utc)
    old = HandoffStore(url, clock=lambda: now - timedelta(days=31))
    handled_old = old.add("an old handled question", "transcript")
    old.mark_handled(handled_old.reference)
    waiting_old = old.add("an old waiting question", "transcript")
    store = HandoffStore(url, clock=lambda: now)
    handled_now = store.add("a question handled today", "transcript")
    store.mark_handled(handled_now.reference)
    assert purge.purge_handoffs(30, store=store) == 1
    left = {request.reference for request in store.list_requests()}
    assert left == {waiting_old.reference, handled_now.reference}
    assert purge.purge_handoffs(30, store=store) == 0
    old.engine.dispose()
    store.engine.dispose()


def test_purge_command_deletes_handled_handoff_requests_past_the_limit(
    tmp_path: Path, monkeypatch
) -> None:
    """End to end with the project's handoff store: handled and old goes; waiting stays."""
    from datetime import datetime, timezone

    from bot.storage.handoff_store import HandoffStore

    url = f"sqlite:///{tmp_path / 'handoff.db'}"
    monkeypatch.setenv("HANDOFF_DB_URL", url)
    monkeypatch.setenv("RASA_ENDPOINTS", str(tmp_path / "endpoints.yml"))
    (tmp_path / "endpoints.yml").write_text(
        f"tracker_store:\n  type: sql\n  dialect: sqlite\n  db: {tmp_path / 'tracker.db'}\n"
    )
    long_ago = datetime.now(timezone.utc) - timedelta(days=40)
    old = HandoffStore(url, clock=lambda: long_ago)
    handled_long_ago = old.add("old handled question", "transcript")
    old.mark_handled(handled_long_ago.reference)
    waiting_long = old.add("never handled question", "transcript")
    recent = HandoffStore(url)
    handled_recently = recent.add("recent question", "transcript")
    recent.mark_handled(handled_recently.reference)
    old.engine.dispose()

    result = _run_purge("--older-than", "30")
    assert result.returncode == 0, result.stderr
    assert "Deleted 1 handled handoff request(s) older than 30 day(s)." in result.stdout
    left = {request.reference for request in recent.list_requests()}
    assert left == {waiting_long.reference, handled_recently.reference}
    recent.engine.dispose()


def test_the_edge_purges_by_itself_on_a_schedule(tmp_path: Path, monkeypatch) -> None:
    """The promise "deleted after N days" holds without cron: the background round
    deletes what is past the limit and keeps going after a failed round."""
    file = tmp_path / "endpoints.yml"
    file.write_text(
        yaml.safe_dump(
            {
                "tracker_store": {
                    "type": "bot.rasa.tracker_store.RedactingSQLTrackerStore",
                    "dialect": "sqlite",
                    "db": str(tmp_path / "tracker.db"),
                }
            }
        )
    )
    monkeypatch.setenv("RASA_ENDPOINTS", str(file))
    days = settings.load().privacy.retention_days
    now = time.time()
    _write_conversations({"stale": [now - (days + 2) * DAY], "fresh": [now]})
    rounds: List[int] = []
    real = purge.purge_conversations

    def counted(limit: int) -> int:
        rounds.append(limit)
        if len(rounds) == 1:
            raise OSError("database briefly unreachable")
        return real(limit)

    monkeypatch.setattr(purge, "purge_conversations", counted)

    async def run() -> None:
        task = asyncio.ensure_future(purge.purge_periodically(0.05, first_delay=0.01))
        for _ in range(200):
            await asyncio.sleep(0.02)
            if len(rounds) >= 2:
                break
        task.cancel()

    asyncio.run(run())
    assert rounds[:2] == [days, days]
    assert _counts(["stale", "fresh"]) == {"stale": 0, "fresh": 1}


def test_the_schedule_is_configurable_and_can_be_turned_off() -> None:
    assert purge.every_hours({}) == purge.DEFAULT_EVERY_HOURS
    assert purge.every_hours({"PURGE_EVERY_HOURS": "0"}) == 0
    assert purge.every_hours({"PURGE_EVERY_HOURS": "1.5"}) == 1.5
    assert purge.every_hours({"PURGE_EVERY_HOURS": "soon"}) == purge.DEFAULT_EVERY_HOURS
