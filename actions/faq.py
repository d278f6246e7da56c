"""FAQ actions: answer the FAQ a button names, and clarify an uncertain message.

Thin wrappers: the decisions live in bot/faq.py. Texts come from domain.yml only.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import faq


class ActionAnswerFaq(Action):
    """Answer the FAQ named by a follow-up button (or "the first one" after options)."""

    def name(self) -> Text:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        responses = domain.get("responses") or {}
        key = faq.resolve_choice(
            tracker.get_slot("faq"),
            tracker.latest_message.get("text"),
            [tracker.get_slot("clarify_payload_1"), tracker.get_slot("clarify_payload_2")],
            faq.faq_keys(responses),
        )
        if key is None:
            return [SlotSet("faq", None), FollowupAction("action_handoff")]
        dispatcher.utter_message(response=f"utter_{key}")
        return [SlotSet("faq", None)]


class ActionAfterAnswer(Action):
    """After a FAQ answer: was it the general answer to a post about the parent's own case?
    Then the rules offer an adviser for the particulars (own_case true)."""

    def name(self) -> Text:
        return "action_after_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        return [SlotSet("own_case", faq.is_post(tracker.latest_message.get("text")))]


class ActionClarify(Action):
    """Offer the two closest FAQ answers, ask to rephrase, or hand off (second miss)."""

    def name(self) -> Text:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        responses = domain.get("responses") or {}
        plan = faq.plan_clarification(
            tracker.latest_message,
            faq.misunderstood_previous_turn(tracker.events),
            faq.faq_keys(responses),
        )
        events: List[EventType] = [SlotSet("clarify_mode", plan.mode)]
        for position, key in enumerate(plan.options[:2], start=1):
            events += [
                SlotSet(f"clarify_title_{position}", faq.faq_title(responses, key)),
                SlotSet(f"clarify_payload_{position}", faq.choice_payload(key)),
            ]
        return events
