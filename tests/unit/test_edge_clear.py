"""DELETE /api/session/<id>: 204 only once the stored conversation is deleted; on a failure
the edge keeps the id, so the widget's retry deletes the same conversation."""

from __future__ import annotations

import uuid
from typing import List

import requests

from bot import settings
from bot.edge.app import create_app
from tests.support.servers import BackgroundApp


class FlakyDeleter:
    """Fails the first `failures` deletions, then records the ids it deleted."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.deleted: List[str] = []

    def __call__(self, session_id: str) -> int:
        if self.failures:
            self.failures -= 1
            raise OSError("database unavailable")
        self.deleted.append(session_id)
        return 3


def test_a_failed_delete_answers_503_and_keeps_the_id_for_the_retry(
    fake_rasa, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("HANDOFF_DB_URL", f"sqlite:///{tmp_path / 'handoff.db'}")
    deleter = FlakyDeleter(failures=1)
    app = create_app(
        settings.load(),
        rasa=fake_rasa,
        name=f"edge_{uuid.uuid4().hex[:8]}",
        forget_conversation=deleter,
    )
    with BackgroundApp(app) as edge:
        session = requests.post(f"{edge.url}/api/session", timeout=10).json()["session"]
        failed = requests.delete(f"{edge.url}/api/session/{session}", timeout=10)
        assert failed.status_code == 503
        assert "database" not in failed.text
        assert deleter.deleted == []
        # The id is still known: the conversation carries on under it until deleted.
        still = requests.post(
            f"{edge.url}/api/message", json={"session": session, "text": "hi"}, timeout=10
        )
        assert still.status_code == 200 and "session" not in still.json()
        retried = requests.delete(f"{edge.url}/api/session/{session}", timeout=10)
        assert retried.status_code == 204
        assert deleter.deleted == [session]
        after = requests.post(
            f"{edge.url}/api/message", json={"session": session, "text": "hi"}, timeout=10
        )
        assert after.json()["session"] != session


def test_deletes_take_only_session_ids_at_a_bounded_rate(fake_rasa, tmp_path, monkeypatch) -> None:
    """Every delete leaves a tombstone row, so neither odd ids nor a flood get through."""
    from bot.edge.app import ADDRESS_LIMIT_FACTOR

    monkeypatch.setenv("HANDOFF_DB_URL", f"sqlite:///{tmp_path / 'handoff.db'}")
    deleter = FlakyDeleter(failures=0)
    app = create_app(
        settings.load(),
        rasa=fake_rasa,
        name=f"edge_{uuid.uuid4().hex[:8]}",
        forget_conversation=deleter,
    )
    limit = settings.load().edge.rate_limit_per_minute * ADDRESS_LIMIT_FACTOR
    with BackgroundApp(app) as edge:
        odd = requests.delete(f"{edge.url}/api/session/{'x' * 65}", timeout=10)
        assert odd.status_code == 400
        http = requests.Session()
        codes = [
            http.delete(f"{edge.url}/api/session/flood{n}", timeout=10).status_code
            for n in range(limit + 1)
        ]
    assert codes == [204] * limit + [429]
    assert len(deleter.deleted) == limit
