"""Handoff actions: hours-aware handoff, leaving a question for an adviser, a way to reply.

The actions only set slots: data/rules.yml chooses every response from them (domain.yml
holds every text). The decisions live in plain functions below, which tests call without
Rasa; the action classes are thin wrappers that read the tracker and the clock.
The contact a parent gives never goes into a slot or an event: only into the request.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional, Sequence, Text
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import hours, settings as settings_module
from bot.contact import find_contacts
from bot.storage import webhook as handoff_webhook
from bot.storage.handoff_store import HandoffRequest, HandoffStore, default_store, utc_now
from bot.settings import parse_clock, say_clock, say_days

logger = logging.getLogger(__name__)

REQUEST_HUMAN = "request_human"
# Intents whose short messages are not part of the parent's question (small talk, replies
# to buttons, asking for a person). A longer message is kept whatever its intent: "can I
# talk to someone about my contact dispute" carries the question.
NOT_A_QUESTION = frozenset({
    "start", "greet", "goodbye", "thank", "affirm", "deny", REQUEST_HUMAN, "something_else",
    "leave_question", "add_contact", "give_contact", "choose_faq",
})
SHORT_MESSAGE_WORDS = 8
MAX_CONTACTS = 2


# --- Plain logic ---------------------------------------------------------------------------
def handoff_slots(intent: Optional[str], now: datetime,
                  settings: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The slots action_handoff sets: opening hours now, why we hand off, stage offered."""
    s = settings or settings_module.load()
    try:
        state = hours.status(now, s)
    except Exception:  # a broken hours setting must not leave the parent without an answer
        logger.exception("Opening hours could not be worked out; saying the usual hours")
        line = s["adviceline"]
        state = {"adviceline_open": False, "webchat_open": False,
                 "next_opening": f"on {say_days(line['days'])} at "
                                 f"{say_clock(parse_clock(line['opens']))}"}
    return {
        **state,
        "handoff_reason": "asked" if intent == REQUEST_HUMAN else "not_covered",
        "handoff_stage": "offered",
    }


def session_events(events: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The events of the current conversation session (after the last session_started)."""
    start = 0
    for index, event in enumerate(events):
        if event.get("event") == "session_started":
            start = index + 1
    return list(events[start:])


def _intent(event: Dict[str, Any]) -> Optional[str]:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def is_payload(text: str) -> bool:
    """A button payload ("/leave_question"), not something the parent typed."""
    return text.lstrip().startswith("/")


def question_messages(events: Sequence[Dict[str, Any]]) -> List[str]:
    """What the parent typed in this session that may carry their question."""
    found = []
    for event in session_events(events):
        text = (event.get("text") or "").strip() if event.get("event") == "user" else ""
        if not text or is_payload(text):
            continue
        if _intent(event) in NOT_A_QUESTION and len(text.split()) <= SHORT_MESSAGE_WORDS:
            continue
        found.append(text)
    return found


def transcript(events: Sequence[Dict[str, Any]], zone: ZoneInfo) -> str:
    """This session as text only: '[14:05] Parent: ...' / 'Assistant: ...' lines.

    A button the parent pressed is shown by its title (from the latest buttons offered).
    """
    lines: List[str] = []
    offered: Dict[str, str] = {}
    for event in session_events(events):
        kind = event.get("event")
        if kind not in ("user", "bot"):
            continue
        stamp = _clock_text(event.get("timestamp"), zone)
        text = (event.get("text") or "").strip()
        if kind == "bot":
            buttons = (event.get("data") or {}).get("buttons") or []
            offered = {b.get("payload"): b.get("title") for b in buttons if isinstance(b, dict)}
            if text:
                lines.append(f"{stamp}Assistant: {text}")
        elif is_payload(text):
            title = offered.get(text)
            if text != "/start":
                lines.append(f"{stamp}Parent chose: {title or 'a button'}")
        elif text:
            lines.append(f"{stamp}Parent: {text}")
    return "\n".join(lines)


def _clock_text(timestamp: Any, zone: ZoneInfo) -> str:
    if not isinstance(timestamp, (int, float)):
        return ""
    return f"[{datetime.fromtimestamp(timestamp, zone).strftime('%H:%M')}] "


@dataclass(frozen=True)
class LeaveOutcome:
    """The slots to set, and the request stored (None when nothing was stored)."""

    slots: Dict[str, Any]
    request: Optional[HandoffRequest]
    updated: bool = False


def leave_question(events: Sequence[Dict[str, Any]], reference: Optional[str],
                   store: HandoffStore, zone: ZoneInfo) -> LeaveOutcome:
    """Store the parent's question and transcript (the store redacts both).

    No question typed yet: nothing stored, question_stored false (the offer stands). A request already left
    in this session and still waiting is brought up to date under the same reference
    rather than queued twice.
    """
    question = "\n".join(question_messages(events))
    if not question:
        return LeaveOutcome({"handoff_stage": "offered", "question_stored": False}, None)
    text = transcript(events, zone)
    if reference and store.replace_question(reference, question, text):
        request = store.get(reference)
        updated = True
    else:
        request = store.add(question, text)
        updated = False
    assert request is not None
    return LeaveOutcome({"handoff_reference": request.reference, "handoff_stage": "left",
                         "question_stored": True}, request, updated)


def latest_user_text(tracker: Tracker) -> Optional[str]:
    """The latest message as the parent typed it.

    Not `latest_message["text"]`: that is the text NLU read, with contact details hidden
    (bot/nlu/contact_mask.py). The user event keeps the message as typed (in memory here;
    the tracker store writes it redacted).
    """
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("text")
    return tracker.latest_message.get("text")


def contact_from(text: Optional[str]) -> Optional[str]:
    """The e-mail address and/or UK phone number in a message, as typed, or None."""
    contacts = find_contacts(text or "")
    chosen: List[str] = []
    for kind in ("email", "phone"):
        chosen += [c.value for c in contacts if c.kind == kind][:1]
    return " / ".join(chosen[:MAX_CONTACTS]) or None


def save_contact(text: Optional[str], reference: Optional[str],
                 store: HandoffStore) -> Dict[str, Any]:
    """Validate the contact in `text` and attach it to the request: the slots to set."""
    contact = contact_from(text)
    if contact is None:
        return {"contact_saved": False}
    if not reference or not store.set_contact(reference, contact):
        logger.warning("A contact was given but the request %r was not found", reference)
        return {"contact_saved": False}
    return {"contact_saved": True, "handoff_stage": "done"}


def _slot_events(slots: Dict[str, Any]) -> List[EventType]:
    return [SlotSet(name, value) for name, value in slots.items()]


# --- Actions -------------------------------------------------------------------------------
class ActionHandoff(Action):
    """Work out who can be reached now and set the handoff slots; rules say the rest."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.clock = clock

    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        return _slot_events(handoff_slots(intent, self.clock()))


class ActionLeaveQuestion(Action):
    """Store the parent's question for an adviser (after their yes) and give a reference."""

    def __init__(self, store: Optional[Callable[[], HandoffStore]] = None) -> None:
        self.store = store or default_store

    def name(self) -> Text:
        return "action_leave_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        zone = ZoneInfo(settings_module.load()["organisation"]["timezone"])
        try:
            outcome = await asyncio.to_thread(
                leave_question, tracker.events, tracker.get_slot("handoff_reference"),
                self.store(), zone)
        except Exception:
            # The rule for handoff_stage "failed" says plainly that nothing was stored.
            logger.exception("The handoff request could not be stored")
            return [SlotSet("handoff_stage", "failed"), SlotSet("question_stored", None)]
        if outcome.request is not None:
            webhook = handoff_webhook.from_environment()
            if webhook is not None:
                payload = handoff_webhook.request_created(outcome.request)
                if outcome.updated:
                    payload["event"] = "handoff.updated"
                webhook.schedule(payload)
        return _slot_events(outcome.slots)


class ActionSaveContact(Action):
    """Attach an e-mail address or UK phone number to the request the parent left."""

    def __init__(self, store: Optional[Callable[[], HandoffStore]] = None) -> None:
        self.store = store or default_store

    def name(self) -> Text:
        return "action_save_contact"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        text = latest_user_text(tracker)
        reference = tracker.get_slot("handoff_reference")
        try:
            slots = await asyncio.to_thread(save_contact, text, reference, self.store())
        except Exception:
            # As above: never say "saved" (nor "not valid") when the store failed.
            logger.exception("The contact could not be stored")
            return [SlotSet("contact_saved", None)]
        if slots.get("contact_saved"):
            webhook = handoff_webhook.from_environment()
            contact = contact_from(text)
            if webhook is not None and contact is not None:
                webhook.schedule(handoff_webhook.contact_added(reference, contact))
        return _slot_events(slots)

