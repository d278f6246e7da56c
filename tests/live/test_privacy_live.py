"""Privacy through the real servers: what a parent types is stored redacted, logged never,
and deleted at once when the conversation is cleared; Rasa and the actions stay on loopback.

The conversation ends by leaving a question for an adviser, so the handoff store holds a
request of this run: its question and transcript are checked as well as the tracker.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Dict, List, Set

import pytest
import requests

from bot.redact import redact
from bot.storage.handoff_store import HandoffStore
from tests.live.test_handoff_live import NO_LEARNING
from tests.live.test_handoff_live import PHONE as HANDOFF_TEST_PHONE

# Out of scope (handed to a person), with the postcode of this run added.
QUESTION = "will I lose my council house? we live at {postcode}"


def _details() -> Dict[str, str]:
    """Fictitious, unique values for this run (Ofcom drama numbers, example.com)."""
    tag = uuid.uuid4().hex[:8]
    number = int(tag, 16) % 1000
    phone = f"07700 900{number:03d}"
    if phone == HANDOFF_TEST_PHONE:  # stored raw as a contact by the handoff test
        phone = f"07700 900{(number + 1) % 1000:03d}"
    return {
        "email": f"jo.bloggs.{tag}@example.com",
        "phone": phone,
        "postcode": "B33 8TH",
        "dob": "14/02/2017",
    }


def _database_text(path: Path) -> str:
    """Every row of every table, as one text (what someone reading the file would see)."""
    connection = sqlite3.connect(path)
    try:
        return "\n".join(connection.iterdump())
    finally:
        connection.close()


def _sender_events(path: Path, sender: str) -> List[str]:
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT data FROM events WHERE sender_id = ?", (sender,))
        return [row[0] for row in rows]
    finally:
        connection.close()


@pytest.fixture(scope="module")
def conversation(stack):
    """One conversation through the edge with contact details in every message, ending
    with a question left for an adviser (the new request in the handoff store)."""
    details = _details()
    marker = f"marmalade-{uuid.uuid4().hex[:6]}"
    messages = [
        f"my email is {details['email']} please {marker}",
        f"you can call me on {details['phone']}",
        f"we live near {details['postcode']} and my son was born on {details['dob']}",
    ]
    question = QUESTION.format(postcode=details["postcode"])
    reply = requests.post(f"{stack.edge_url}/api/session", timeout=60)
    assert reply.status_code == 201, reply.text
    session = reply.json()["session"]

    def send(**body: str) -> List[dict]:
        answer = requests.post(
            f"{stack.edge_url}/api/message", timeout=60, json={"session": session, **body}
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["messages"]

    for text in messages:
        send(text=text)
    offer = send(text=question)
    payloads = [b["payload"] for m in offer for b in m.get("buttons") or []]
    assert NO_LEARNING in payloads, [m.get("text") for m in offer]
    before = {r.reference for r in _all_requests(stack)}
    send(payload=NO_LEARNING)  # leave it, without agreeing to its use for learning
    new = [r for r in _all_requests(stack) if r.reference not in before]
    assert len(new) == 1, f"{len(new)} requests stored for one question left"
    return {
        "session": session,
        "details": details,
        "messages": messages,
        "question": question,
        "request": new[0],
        "marker": marker,
    }


def _store(stack) -> HandoffStore:
    return HandoffStore(f"sqlite:///{stack.handoff_db}")


def _all_requests(stack) -> list:
    store = _store(stack)
    return store.list_requests(limit=max(1, store.count_requests()))


def test_stored_conversation_holds_no_raw_contact_details(stack, conversation) -> None:
    stored = _database_text(stack.tracker_db)
    for kind, value in conversation["details"].items():
        assert value not in stored, f"raw {kind} stored"
    events = " ".join(_sender_events(stack.tracker_db, conversation["session"]))
    # The messages were stored, redacted: the placeholders stand where the details were.
    for placeholder in ("[email]", "[phone]", "[postcode]", "[date]"):
        assert placeholder in events
    assert redact(conversation["messages"][2]) in events


def test_the_question_left_is_stored_redacted_with_a_redacted_transcript(conversation) -> None:
    request = conversation["request"]
    # What is stored: the question (the messages that carry it, bot/handoff.py) and the
    # conversation, with every detail replaced.
    assert request.question.endswith(redact(conversation["question"]))
    assert "[postcode]" in request.question
    for message in conversation["messages"]:
        assert redact(message) in request.transcript
    for placeholder in ("[email]", "[phone]", "[postcode]", "[date]"):
        assert placeholder in request.transcript
    # What is not: no way to reply was given, so none is kept.
    assert request.contact is None


def test_handoff_store_holds_no_raw_contact_details(stack, conversation) -> None:
    stored = _database_text(stack.handoff_db)
    assert conversation["request"].reference in stored
    for kind, value in conversation["details"].items():
        assert value not in stored, f"raw {kind} stored in handoff requests"


def test_logs_carry_no_message_text(stack, conversation) -> None:
    for name, log in stack.logs.items():
        text = log.read_text(errors="replace")
        for kind, value in conversation["details"].items():
            assert value not in text, f"{kind} in the {name} log"
        assert conversation["marker"] not in text, f"message text in the {name} log"
        for message in conversation["messages"]:
            assert redact(message) not in text, f"redacted message text in the {name} log"


def test_clearing_the_conversation_deletes_its_events_at_once(stack, conversation) -> None:
    session = conversation["session"]
    assert _sender_events(stack.tracker_db, session), "nothing stored to delete"
    reply = requests.delete(f"{stack.edge_url}/api/session/{session}", timeout=60)
    assert reply.status_code == 204
    assert _sender_events(stack.tracker_db, session) == []
    # The old id is not revived: a message with it starts a fresh conversation.
    again = requests.post(
        f"{stack.edge_url}/api/message", timeout=60, json={"session": session, "text": "hello"}
    )
    assert again.status_code == 200
    assert again.json()["session"] != session
    assert _sender_events(stack.tracker_db, session) == []


def _listening(port: int) -> Set[str]:
    """Local addresses with a socket listening on `port` (from /proc/net/tcp and tcp6)."""
    addresses: Set[str] = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if fields[3] == "0A" and int(port_hex, 16) == port:  # 0A = LISTEN
                if width == 8:
                    raw = bytes.fromhex(address)[::-1]
                    addresses.add(".".join(str(b) for b in raw))
                else:
                    addresses.add("::" if set(address) == {"0"} else address)
    return addresses


def test_rasa_and_the_action_server_listen_on_loopback_only(stack) -> None:
    for name in ("rasa", "actions"):
        addresses = _listening(stack.ports[name])
        assert addresses == {"127.0.0.1"}, (name, addresses)


def test_rasas_http_api_is_off(stack) -> None:
    for path in ("/status", "/version", "/model", "/conversations/x/tracker"):
        assert requests.get(stack.rasa_url + path, timeout=10).status_code == 404, path
