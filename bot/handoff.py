"""The handoff's decisions, as plain functions the actions call (tests call them too).

Who can be reached now (the handoff slots), which of the parent's messages carry their
question, the text-only transcript an adviser reads, storing the question and a way to
reply, and telling the charity's case system (the optional webhook). No Rasa import:
actions/handoff.py reads the tracker, calls these and returns the slots as events.
The contact a parent gives never goes into a slot or an event: only into the request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Optional, Sequence
from zoneinfo import ZoneInfo

from bot import hours
from bot.contact import find_contacts
from bot.intents import REQUEST_HUMAN
from bot.settings import Settings
from bot.settings import load as load_settings
from bot.storage import webhook as handoff_webhook
from bot.storage.handoff_store import HandoffRequest, HandoffStore
from bot.storage.mailer import Mailer

logger = logging.getLogger(__name__)

# Intents whose short messages are not part of the parent's question (small talk, replies
# to buttons, asking for a person). A longer message is kept whatever its intent: "can I
# talk to someone about my contact dispute" carries the question.
NOT_A_QUESTION = frozenset(
    {
        "start",
        "greet",
        "goodbye",
        "thank",
        "affirm",
        "deny",
        REQUEST_HUMAN,
        "something_else",
        "leave_question",
        "add_contact",
        "give_contact",
        "choose_faq",
    }
)
SHORT_MESSAGE_WORDS = 8
MAX_CONTACTS = 2


def handoff_slots(
    intent: Optional[str], now: datetime, settings: Optional[Settings] = None
) -> Dict[str, Any]:
    """The slots action_handoff sets: opening hours now, why we hand off, stage offered."""
    s = settings or load_settings()
    try:
        state = hours.status(now, s)
    except Exception:  # hours that cannot be worked out must not leave the parent without an answer
        logger.exception("Opening hours could not be worked out; saying the usual hours")
        state = {
            "adviceline_open": False,
            "webchat_open": False,
            "next_opening": hours.say_hours(s.adviceline.hours, "opening"),
        }
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
    offered: Dict[Any, Any] = {}  # payload -> title of the buttons last offered
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


def leave_question(
    events: Sequence[Dict[str, Any]],
    reference: Optional[str],
    store: HandoffStore,
    zone: ZoneInfo,
    learn_consent: bool = False,
) -> LeaveOutcome:
    """Store the parent's question and transcript (the store redacts both), with whether
    the parent agreed that advisers may also use it to improve the assistant (only the
    offer's "Yes, leave my question" button says so; a typed yes does not).

    No question typed yet: nothing stored, question_stored false (the offer stands). A
    request already left in this session and still waiting is brought up to date under the
    same reference rather than queued twice.
    """
    question = "\n".join(question_messages(events))
    if not question:
        return LeaveOutcome({"handoff_stage": "offered", "question_stored": False}, None)
    text = transcript(events, zone)
    if reference and store.replace_question(reference, question, text, learn_consent):
        request = store.get(reference)
        updated = True
    else:
        request = store.add(question, text, learn_consent)
        updated = False
    assert request is not None
    return LeaveOutcome(
        {"handoff_reference": request.reference, "handoff_stage": "left", "question_stored": True},
        request,
        updated,
    )


def latest_user_text(
    events: Sequence[Dict[str, Any]], latest_message: Dict[str, Any]
) -> Optional[str]:
    """The latest message as the parent typed it.

    Not `latest_message["text"]`: that is the text NLU read, with contact details hidden
    (bot/nlu/contact_mask.py). The user event keeps the message as typed (in memory in the
    action server; the tracker store writes it redacted).
    """
    for event in reversed(events):
        if event.get("event") == "user":
            text = event.get("text")
            return text if isinstance(text, str) else None
    text = latest_message.get("text")
    return text if isinstance(text, str) else None


def contact_from(text: Optional[str]) -> Optional[str]:
    """The e-mail address and/or UK phone number in a message, as typed, or None."""
    contacts = find_contacts(text or "")
    chosen: List[str] = []
    for kind in ("email", "phone"):
        chosen += [c.value for c in contacts if c.kind == kind][:1]
    return " / ".join(chosen[:MAX_CONTACTS]) or None


def save_contact(
    text: Optional[str], reference: Optional[str], store: HandoffStore
) -> Dict[str, Any]:
    """Validate the contact in `text` and attach it to the request: the slots to set."""
    contact = contact_from(text)
    if contact is None:
        return {"contact_saved": False}
    if not reference or not store.set_contact(reference, contact):
        logger.warning("A contact was given but the request %r was not found", reference)
        return {"contact_saved": False}
    return {"contact_saved": True, "handoff_stage": "done"}


def notify_left(
    outcome: LeaveOutcome,
    webhook: Optional[handoff_webhook.Webhook],
    mailer: Optional[Mailer] = None,
    zone: Optional[ZoneInfo] = None,
) -> None:
    """Tell the case system about a request just stored or brought up to date (if any),
    and e-mail the advice team about a new one (reference, time and link only)."""
    if outcome.request is not None and not outcome.updated and mailer is not None:
        try:
            from bot import settings

            zone = zone or settings.load().organisation.zone
            mailer.notify(outcome.request.reference, outcome.request.created_at, zone)
        except Exception:  # never let a notification touch the parent's answer
            logger.exception("The inbox e-mail could not be started")
    if outcome.request is None or webhook is None:
        return
    payload = handoff_webhook.request_created(outcome.request)
    if outcome.updated:
        payload["event"] = "handoff.updated"
    webhook.schedule(payload)


def notify_contact(
    text: Optional[str], reference: Optional[str], webhook: Optional[handoff_webhook.Webhook]
) -> None:
    """Tell the case system about a way to reply just attached to a request."""
    contact = contact_from(text)
    if webhook is not None and contact is not None and reference:
        webhook.schedule(handoff_webhook.contact_added(reference, contact))
