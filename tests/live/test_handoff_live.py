"""Handoff through the real servers (edge app, Rasa, action server): what the parent sees,
what is stored in the stack's own handoff database, and what never reaches the tracker."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List

import requests

from bot import hours, settings
from bot.content.responses import fill, load_domain_responses
from bot.redact import redact
from bot.storage.handoff_store import HandoffStore

OUT_OF_SCOPE = "will I lose my council house? we live at SW1A 1AA"
POSTCODE = "SW1A 1AA"
PHONE = "07700 900456"


def expected(name: str, slots: Dict[str, Any]) -> str:
    """The text of response `name` as Rasa picks it: the first variation whose slot
    conditions all hold, filled from the settings and the slots."""
    for variation in load_domain_responses()[name]:
        conditions = variation.get("condition") or []
        if all(slots.get(c["name"]) == c["value"] for c in conditions):
            values = {**settings.placeholders(), **{k: str(v) for k, v in slots.items()}}
            return fill(variation["text"], values)
    raise AssertionError(f"no variation of {name} fits {slots}")


class Widget:
    """A parent using the widget through the edge API."""

    def __init__(self, stack) -> None:
        self.url = stack.edge_url
        reply = requests.post(f"{self.url}/api/session", timeout=60)
        assert reply.status_code == 201
        self.session = reply.json()["session"]

    def send(self, **body: str) -> List[Dict[str, Any]]:
        reply = requests.post(
            f"{self.url}/api/message", json={"session": self.session, **body}, timeout=60
        )
        assert reply.status_code == 200, reply.text
        return reply.json()["messages"]


# The offer's buttons as Rasa sends them: leave it (and agree to its use for improving the
# assistant), leave it without that, or not at all.
YES = '/leave_question{"learn_consent": "yes"}'
NO_LEARNING = '/leave_question{"learn_consent": "no"}'


def _texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [m.get("text", "") for m in messages]


def _handoff_texts(messages: List[Dict[str, Any]], before: datetime, after: datetime) -> None:
    """The two handoff messages (the words, then the offer), for the opening hours at the
    time of the message."""
    texts = _texts(messages)
    phone = settings.load().adviceline.phone
    assert any(phone in text for text in texts), texts
    candidates = []
    for moment in (before, after):  # the hours may change between the two clocks
        state = hours.status(moment)
        slots = {**state, "handoff_reason": "not_covered"}
        candidates.append(
            [
                expected("utter_handoff", slots),
                expected("utter_offer_leave_question", {}),
            ]
        )
    assert texts in candidates, texts
    payloads = [b["payload"] for b in messages[-1].get("buttons", [])]
    assert payloads == [YES, NO_LEARNING, "/deny"]


def _store(stack) -> HandoffStore:
    return HandoffStore(f"sqlite:///{stack.handoff_db}")


def test_out_of_scope_then_yes_stores_the_question_redacted_and_a_contact(stack):
    parent = Widget(stack)
    before = datetime.now(timezone.utc)
    messages = parent.send(text=OUT_OF_SCOPE)
    _handoff_texts(messages, before, datetime.now(timezone.utc))

    stored_before = _store(stack).count_requests()
    left = parent.send(payload=YES)
    store = _store(stack)
    assert store.count_requests() == stored_before + 1
    request = max(store.list_requests("new", limit=1000), key=lambda r: (r.created_at, r.id))
    assert request.learn_consent is True  # the yes button agreed to that too
    assert _texts(left) == [
        expected("utter_question_left", {"handoff_reference": request.reference}),
        expected("utter_offer_contact", {}),
    ]
    assert request.question == redact(OUT_OF_SCOPE)
    assert POSTCODE not in request.question and POSTCODE not in request.transcript
    assert "Parent chose: Yes, leave my question" in request.transcript

    assert _texts(parent.send(payload="/add_contact")) == [expected("utter_ask_contact", {})]
    saved = parent.send(text=f"you can reach me on {PHONE}")
    assert _texts(saved) == [expected("utter_contact_saved", {})]
    assert _store(stack).get(request.reference).contact == PHONE

    # "Am I talking to a person?": it is a queue, and the assistant says so.
    about = parent.send(text="am I talking to a real person")
    assert _texts(about) == [
        expected(
            "utter_about/bot",
            {
                "handoff_stage": "done",
                "question_stored": True,
                "handoff_reference": request.reference,
            },
        )
    ]

    with sqlite3.connect(stack.tracker_db) as tracker:
        rows = [
            data
            for (data,) in tracker.execute(
                "select data from events where sender_id = ?", (parent.session,)
            )
        ]
    assert rows, "the conversation should be in the tracker store"
    assert not any(PHONE in row or POSTCODE in row for row in rows)
    assert not any(PHONE.replace(" ", "") in row for row in rows)


def test_out_of_scope_then_no_stores_nothing(stack):
    parent = Widget(stack)
    before = datetime.now(timezone.utc)
    _handoff_texts(
        parent.send(text="can he get bail before the court date"),
        before,
        datetime.now(timezone.utc),
    )
    stored_before = _store(stack).count_requests()
    declined = parent.send(payload="/deny")
    assert _texts(declined) == [expected("utter_no_question_left", {})]
    assert _store(stack).count_requests() == stored_before


def _moments() -> Dict[bool, datetime]:
    """A moment when the adviceline is open and one when it is closed (from the settings:
    the first of each, half-hourly through a week that starts on a Monday)."""
    zone = settings.load().organisation.zone
    start = datetime(2026, 6, 1, tzinfo=zone)  # a Monday, no bank holiday that week
    found: Dict[bool, datetime] = {}
    for step in range(7 * 48):
        moment = start + timedelta(minutes=30 * step)
        found.setdefault(bool(hours.status(moment)["adviceline_open"]), moment)
    assert set(found) == {True, False}, "the settings should open the adviceline that week"
    return found


def test_the_handoff_says_in_hours_and_out_of_hours_wording_by_the_clock(stack):
    """One run, both wordings: the action server's test clock (bot/frozen_clock.py) set
    to a moment in hours, then to one out of hours."""
    shown: Dict[bool, List[str]] = {}
    try:
        for is_open, moment in sorted(_moments().items()):
            stack.set_clock(moment)
            messages = Widget(stack).send(text=OUT_OF_SCOPE)
            _handoff_texts(messages, moment, moment)
            shown[is_open] = _texts(messages)
    finally:
        stack.set_clock(None)
    assert shown[True][0] != shown[False][0], "open and closed should be said differently"
    assert hours.status(_moments()[False])["next_opening"] in shown[False][0]
