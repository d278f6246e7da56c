"""Plain logic behind the FAQ actions: which answer a button names, and how to clarify.

No Rasa imports: actions/faq.py calls these with data taken from the tracker and domain.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from bot.intents import FALLBACK, RETRIEVAL_INTENTS

# After a FallbackClassifier fallback, offer FAQ options only when the best intent is a FAQ
# topic with at least this confidence; below it the message is too far from anything known.
OPTION_FLOOR = 0.25
# Bot actions that mean "I did not understand the previous message".
CLARIFYING_ACTIONS = ("utter_ask_rephrase", "utter_clarify_options")
_FIRST = re.compile(r"\b(first|1st|one|1|top)\b", re.IGNORECASE)
_SECOND = re.compile(r"\b(second|2nd|two|2|last|bottom|other)\b", re.IGNORECASE)


def faq_keys(responses: Dict[str, Any]) -> List[str]:
    """The FAQ answers the domain holds.

    'utter_safety_plan/legal_status' -> 'safety_plan/legal_status'.
    """
    return sorted(
        name[len("utter_") :] for name in responses if name.startswith("utter_") and "/" in name
    )


def faq_title(responses: Dict[str, Any], key: str) -> str:
    """The question an answer answers (metadata.title in domain.yml)."""
    for variation in responses.get(f"utter_{key}", []):
        title = (variation.get("metadata") or {}).get("title")
        if title:
            return str(title)
    return key.split("/")[-1].replace("_", " ").capitalize()


def choice_payload(key: str) -> str:
    """The button payload that asks for one FAQ answer."""
    return "/choose_faq" + json.dumps({"faq": key})


def resolve_choice(
    faq_slot: Optional[str],
    text: Optional[str],
    offered: Sequence[Optional[str]],
    known: Sequence[str],
) -> Optional[str]:
    """The FAQ key a choice names: the button's key, or "the first/second one" typed after
    options were offered. None when nothing valid is named."""
    if faq_slot in known:
        return faq_slot
    if text and any(offered):
        keys = [_key_from_payload(p) for p in offered]
        if _FIRST.search(text) and keys and keys[0] in known:
            return keys[0]
        if _SECOND.search(text) and len(keys) > 1 and keys[1] in known:
            return keys[1]
    return None


def _key_from_payload(payload: Optional[str]) -> Optional[str]:
    if not payload or not payload.startswith("/choose_faq"):
        return None
    try:
        return json.loads(payload[len("/choose_faq") :]).get("faq")
    except (ValueError, AttributeError):
        return None


@dataclass
class Clarification:
    """How to answer an uncertain message: offer two answers, ask again, or hand off."""

    mode: str  # "options" | "rephrase" | "handoff"
    options: List[str] = field(default_factory=list)


def plan_clarification(
    parse: Dict[str, Any], misunderstood_before: bool, known: Sequence[str]
) -> Clarification:
    """Decide what to do with a message NLU marked as nlu_fallback.

    A second misunderstanding in a row goes to a person. Otherwise, if the message is
    close to FAQ answers (the FAQ guard kept its two candidates, or the best intent is a
    FAQ topic), offer the two closest; else ask the parent to put it another way.
    """
    if misunderstood_before:
        return Clarification("handoff")
    guard = parse.get("faq_guard") or {}
    candidates = [c for c in guard.get("candidates") or [] if c in known]
    if not candidates:
        ranking = [i for i in parse.get("intent_ranking") or [] if i.get("name") != FALLBACK]
        if (
            ranking
            and ranking[0].get("name") in RETRIEVAL_INTENTS
            and ranking[0].get("confidence", 0.0) >= OPTION_FLOOR
        ):
            candidates = [c for c in _selector_ranking(parse) if c in known]
    if len(candidates) >= 2:
        return Clarification("options", candidates[:2])
    return Clarification("rephrase")


def _selector_ranking(parse: Dict[str, Any]) -> List[str]:
    selector = parse.get("response_selector") or {}
    prediction = selector.get("default") or {}
    return [item["intent_response_key"] for item in prediction.get("ranking") or []]


def misunderstood_previous_turn(events: Sequence[Dict[str, Any]]) -> bool:
    """True when the bot's last reply before the latest user message was a clarification."""
    seen_latest_user = False
    for event in reversed(events):
        kind = event.get("event")
        if kind == "user":
            if seen_latest_user:
                return False
            seen_latest_user = True
        elif kind == "action" and seen_latest_user:
            name = event.get("name")
            if name in CLARIFYING_ACTIONS:
                return True
            if name not in ("action_listen", None):
                return False
    return False
