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
# A message of at least this many words is a post about the parent's situation, not a short
# question: its clarification options must be plausible (see plausible_options).
POST_WORDS = 40
# How far down the answer ranking a plausible option may be found.
OPTION_DEPTH = 4
# A post is offered options only when the closest answer reaches this confidence: below it,
# on the dev posts (tests/nlu/long_posts.yml, today's model), 17 of the 19 posts offered
# two options that did not fit were posts nothing approved fits; from it, 2 of 2 fitted.
POST_OPTION_FLOOR = 0.5
# Answers about the assistant itself: never one of two choices for a post about a family.
META_TOPIC = "about"
# Words that show a post is about a topic: an option from a topic the post never mentions
# is not offered to it.
TOPIC_CUES: Dict[str, "re.Pattern[str]"] = {
    topic: re.compile(pattern, re.IGNORECASE)
    for topic, pattern in {
        "assessment": r"assess",
        "safety_plan": r"safety\W*plan|\bthe plan\b|\bplans?\b",
        "fgc": r"\bfgc|family group|family meeting",
        "service": r"advice\W?line|web\W?chat|forum|course|\binform\b|support|helpline|guide"
        r"|kinship|talk to (someone|somebody|a person|an adviser)",
        "process": r"conference|\bi?cpc\b|\brcpc\b|child protection|\bcp\b|section\W?47|\bs\W?47"
        r"|core group|strategy|enquir|child in need|\bcin\b|pre\W?birth|social worker|\bsw\b"
        r"|\bss\b|leave (the|our|my|his) (own )?(home|house)|move out",
        "police": r"police|bail|arrest|charged?\b|\bnfa\b|shpo|sopo|register|sarah|court"
        r"|caution|\brui\b|released under",
        "records": r"record|\bfiles?\b|notes|minutes|subject access|\bsar\b|mistake|in writing"
        r"|reasons?\b|written agreement",
        "complaints": r"complain|ombudsman|lgsco|\biro\b|independent reviewing",
        "supervision": r"supervis|contact cent|contact with|grand(parent|ma|mother|dad|father)"
        r"|relative|family network|\bnan\b|\bmy mum\b|\bmy dad\b",
    }.items()
}
# Bot actions that mean "I did not understand the previous message".
CLARIFYING_ACTIONS = ("utter_ask_rephrase", "utter_clarify_options")
_FIRST = re.compile(r"\b(first|1st|one|1|top)\b", re.IGNORECASE)
_SECOND = re.compile(r"\b(second|2nd|two|2|last|bottom|other)\b", re.IGNORECASE)


def is_post(text: Optional[str]) -> bool:
    """A post about the parent's own situation (POST_WORDS or more), not a short question."""
    return (
        bool(text)
        and not str(text).lstrip().startswith("/")
        and len(str(text).split()) >= POST_WORDS
    )


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

    A post (POST_WORDS or more) is offered only plausible options (plausible_options),
    and only when the closest answer reaches POST_OPTION_FLOOR; otherwise it goes to a
    person: asking a parent to rewrite a whole post, or to choose between answers that
    are not what they asked, helps nobody.
    """
    if misunderstood_before:
        return Clarification("handoff")
    text = str(parse.get("text") or "")
    if is_post(text):
        options = plausible_options(text, _close_answers(parse, known, depth=OPTION_DEPTH))
        if len(options) >= 2 and _best_answer_confidence(parse) >= POST_OPTION_FLOOR:
            return Clarification("options", options[:2])
        return Clarification("handoff")
    candidates = _close_answers(parse, known, depth=2)
    if len(candidates) >= 2:
        return Clarification("options", candidates[:2])
    return Clarification("rephrase")


def plausible_options(text: str, candidates: Sequence[str]) -> List[str]:
    """The candidates a post could plausibly be asking about, best first: never an answer
    about the assistant itself, and only answers from topics the post mentions."""
    chosen = []
    for key in candidates:
        topic = key.split("/", 1)[0]
        cue = TOPIC_CUES.get(topic)
        if topic == META_TOPIC or cue is None or not cue.search(text):
            continue
        chosen.append(key)
    return chosen


def _close_answers(parse: Dict[str, Any], known: Sequence[str], depth: int) -> List[str]:
    """The answers close to the message, best first: the FAQ guard's candidates (and, for a
    deeper look, the selector's ranking), or the ranking when the best intent is a FAQ
    topic near enough to offer."""
    guard = parse.get("faq_guard") or {}
    candidates = [c for c in guard.get("candidates") or [] if c in known]
    if candidates and depth > len(candidates):
        candidates += [c for c in _selector_ranking(parse) if c in known and c not in candidates]
    if not candidates:
        ranking = [i for i in parse.get("intent_ranking") or [] if i.get("name") != FALLBACK]
        if (
            ranking
            and ranking[0].get("name") in RETRIEVAL_INTENTS
            and ranking[0].get("confidence", 0.0) >= OPTION_FLOOR
        ):
            candidates = [c for c in _selector_ranking(parse) if c in known]
    return candidates[:depth]


def _best_answer_confidence(parse: Dict[str, Any]) -> float:
    ranking = ((parse.get("response_selector") or {}).get("default") or {}).get("ranking") or []
    return float(ranking[0].get("confidence", 0.0)) if ranking else 0.0


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
