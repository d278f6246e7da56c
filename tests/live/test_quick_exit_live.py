"""Quick exit while a message is in flight, through the real servers: the conversation
must not come back once the turn completes (the tracker store honours the clear)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import List

import requests


def _rows(path: Path, sender: str) -> int:
    connection = sqlite3.connect(path)
    try:
        return int(
            connection.execute(
                "SELECT COUNT(*) FROM events WHERE sender_id = ?", (sender,)
            ).fetchone()[0]
        )
    finally:
        connection.close()


def test_quick_exit_during_a_turn_leaves_zero_rows(stack) -> None:
    reply = requests.post(f"{stack.edge_url}/api/session", timeout=60)
    assert reply.status_code == 201, reply.text
    session = reply.json()["session"]
    assert _rows(stack.tracker_db, session) > 0
    answers: List[requests.Response] = []

    def ask() -> None:
        answers.append(
            requests.post(
                f"{stack.edge_url}/api/message",
                json={"session": session, "text": "What is a family group conference?"},
                timeout=120,
            )
        )

    asking = threading.Thread(target=ask)
    asking.start()
    time.sleep(0.05)  # the parent presses "Exit quickly" 50 ms after sending
    deleted = requests.delete(f"{stack.edge_url}/api/session/{session}", timeout=60)
    assert deleted.status_code == 204
    asking.join(timeout=120)
    assert answers, "the turn did not complete"
    # Rasa may have finished before or after the delete; either way nothing is left.
    assert _rows(stack.tracker_db, session) == 0
    time.sleep(1.0)  # anything Rasa still writes after answering
    assert _rows(stack.tracker_db, session) == 0
