"""Handoff actions: hours-aware handoff, leaving a question for an adviser, a way to reply.

Thin: each reads the tracker and the clock, calls the plain functions of bot/handoff.py
and returns slots; data/rules.yml chooses every response from them (domain.yml holds
every text).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import frozen_clock, handoff, settings
from bot.storage import mailer, webhook
from bot.storage.handoff_store import HandoffStore, default_store

logger = logging.getLogger(__name__)


def _slot_events(slots: Dict[str, Any]) -> List[EventType]:
    return [SlotSet(name, value) for name, value in slots.items()]


class ActionHandoff(Action):
    """Work out who can be reached now and set the handoff slots; rules say the rest."""

    def __init__(self, clock: Optional[Callable[[], datetime]] = None) -> None:
        # The real time, unless a test run set FORUM_TEST_MODE (bot/frozen_clock.py).
        self.clock = clock or frozen_clock.clock()

    def name(self) -> Text:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = tracker.latest_message.get("text")
        after_answer = tracker.latest_action_name == "action_after_answer"
        guard = tracker.latest_message.get("faq_guard") or {}
        slots = handoff.handoff_slots(
            intent,
            self.clock(),
            text=text,
            after_answer=after_answer,
            guard_reason=guard.get("reason"),
        )
        return _slot_events(slots)


class ActionLeaveQuestion(Action):
    """Store the parent's question for an adviser (after their yes) and give a reference."""

    def __init__(self, store: Optional[Callable[[], HandoffStore]] = None) -> None:
        self.store = store or default_store

    def name(self) -> Text:
        return "action_leave_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        try:
            outcome = await asyncio.to_thread(
                handoff.leave_question,
                tracker.events,
                tracker.get_slot("handoff_reference"),
                self.store(),
                settings.load().organisation.zone,
                tracker.get_slot("learn_consent") == "yes",
            )
        except Exception:
            # The rule for handoff_stage "failed" says plainly that nothing was stored.
            logger.exception("The handoff request could not be stored")
            return [SlotSet("handoff_stage", "failed"), SlotSet("question_stored", None)]
        handoff.notify_left(
            outcome,
            webhook.from_environment(),
            mailer.from_environment(),
            settings.load().organisation.zone,
        )
        if outcome.request is None:
            return _slot_events(outcome.slots)  # nothing stored: the offer stands
        # The choice counts for this offer only: a later typed yes does not inherit it.
        return [*_slot_events(outcome.slots), SlotSet("learn_consent", None)]


class ActionSaveContact(Action):
    """Attach an e-mail address or UK phone number to the request the parent left."""

    def __init__(self, store: Optional[Callable[[], HandoffStore]] = None) -> None:
        self.store = store or default_store

    def name(self) -> Text:
        return "action_save_contact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        text = handoff.latest_user_text(tracker.events, tracker.latest_message)
        reference = tracker.get_slot("handoff_reference")
        try:
            slots = await asyncio.to_thread(handoff.save_contact, text, reference, self.store())
        except Exception:
            # As above: never say "saved" (nor "not valid") when the store failed.
            logger.exception("The contact could not be stored")
            return [SlotSet("contact_saved", None)]
        if slots.get("contact_saved"):
            handoff.notify_contact(text, reference, webhook.from_environment())
        return _slot_events(slots)
