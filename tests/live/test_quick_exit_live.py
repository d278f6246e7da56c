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


# How long after the message the parent presses "Exit quickly": a turn takes Rasa from a few
# to a few hundred milliseconds, so several delays catch it at different points.
DELAYS_S = (0.0, 0.005, 0.01, 0.02, 0.035, 0.05, 0.08, 0.1)


def _exit_during_a_turn(edge_url: str, delay: float) -> str:
    reply = requests.post(f"{edge_url}/api/session", timeout=60)
    assert reply.status_code == 201, reply.text
    session = reply.json()["session"]
    answers: List[requests.Response] = []

    def ask() -> None:
        answers.append(
            requests.post(
                f"{edge_url}/api/message",
                json={"session": session, "payload": "/request_human", "title": "adviser"},
                timeout=120,
            )
        )

    asking = threading.Thread(target=ask)
    asking.start()
    time.sleep(delay)
    deleted = requests.delete(f"{edge_url}/api/session/{session}", timeout=60)
    assert deleted.status_code == 204
    asking.join(timeout=120)
    assert answers, "the turn did not complete"
    return session


def test_quick_exit_during_a_turn_leaves_zero_rows(stack) -> None:
    sessions = [_exit_during_a_turn(stack.edge_url, delay) for delay in DELAYS_S]
    time.sleep(1.0)  # anything Rasa still writes after answering
    # Rasa may have finished before or after each delete; either way nothing is left.
    assert {s: _rows(stack.tracker_db, s) for s in sessions} == dict.fromkeys(sessions, 0)
