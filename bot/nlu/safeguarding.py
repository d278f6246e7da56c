"""Safeguarding override: a crisis message gets its emergency route first, at any point.

The last NLU component (config.yml), so nothing after it can hide a crisis. Two layers:

1. Patterns (bot/nlu/safeguarding_patterns.yml, compiled and matched by
   bot/nlu/crisis_patterns.py): spaCy Matcher patterns over lower-cased tokens and lookup
   lemmas, per crisis category, minus exclusions for negated and harmless uses ("not
   suicidal", "no immediate danger", "dying to know"). A pattern match always wins,
   whatever DIET, the FallbackClassifier or the FAQ guard decided.
2. The classifier (DIET's crisis intents, trained on data/nlu/crisis.yml), gated by cues.
   DIET learns this forum's everyday words ("images of children", ages, "police") as
   crisis signals: alone it raised false alarms on 28 of the 143 safe test messages. So,
   with no pattern match, a crisis intent from the classifier counts only when the message
   also holds a cue of that category (the file's `cues`: looser vocabulary than the
   patterns, e.g. a violent verb, a word about dying, an age near "i"). The rule (`decide`):
   * DIET's top intent is a crisis intent: kept (matched_by "classifier") if cued; if a
     negation exclusion of that category vetoes it ("I'm not suicidal, just tired") or
     there is no cue, it becomes nlu_fallback, so the assistant asks instead of guessing.
   * The message became nlu_fallback (DIET unsure): a cued crisis intent ranked at or
     above `fallback_floor` (0.3) wins. A frightened message is often unlike anything in
     the training data, so DIET spreads its confidence; recall wins.
   * Another intent was predicted: a cued crisis intent ranked at or above
     `confident_floor` (0.3) still wins. That intent ranks below the predicted one and the
     two share at most 1, so a crisis holds at most 0.5 there (whatever the
     FallbackClassifier's thresholds in config.yml): this only catches close calls.
   Measured with tests/model/test_safeguarding_model.py (crisis and safe sets in tests/nlu/crisis):
   with the cues, no safe message was flagged at these floors; without them, 23 were.

3. The check-in tier (issue 17): a weaker sign gets a gentle check first, never an FAQ
   answer or a clarification. With no strong pattern and no cued classifier crisis, a
   `checkin` rule of the patterns file, or DIET's top crisis intent at `checkin_floor`
   (0.9) or more without a cue (and without a negation), sets checkin_<category>
   (utter_checkin_<category>: it may have misread, 999, the category's line, and the
   buttons "I'm safe, carry on" / "I need help now").
Every sentence is matched on its own (crisis_patterns.sentences) and the results combined.

When it fires, the intent becomes {"name": <crisis intent>, "confidence": 1.0}, that
intent moves to the top of intent_ranking, and the parse data gains
"safeguarding": {"category", "intent", "matched_by", "rule", "overridden"}; a vetoed
classifier crisis leaves {"vetoed", "matched_by", "reason", "overridden"}. Both name rules
and intents only, never words of the message.

The patterns file is read once, when the component is created; a missing or broken file
raises PatternsError and Rasa does not start: safeguarding is never silently off.
`decide` and `apply_decision` are plain functions that tests call without Rasa. Neither
copies the parse: `override_fields` builds only the three fields that change, so the
spaCy doc (with a pretrained vocabulary, a deep copy of it cost seconds) is never copied.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.training_data.message import Message

from bot.intents import CHECKIN_PREFIX, CRISIS_INTENTS, CRISIS_PREFIX, FALLBACK
from bot.nlu.component import StatelessComponent
from bot.nlu.crisis_patterns import (
    PatternResult,
    Patterns,
    load_patterns,
    make_doc,
    matcher_for,
    resolve_patterns_file,
)

logger = logging.getLogger(__name__)

OUTPUT_KEY = "safeguarding"
SPACY_DOC_KEY = "text_spacy_doc"  # rasa.nlu.constants.SPACY_DOCS["text"]


# --- Deciding ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """What to do with one parse: fire a crisis intent, veto one, or nothing (None)."""

    action: str  # "fire" | "checkin" | "veto"
    category: str  # the crisis intent fired, checked or vetoed
    matched_by: str  # "pattern" | "classifier"
    rule: Optional[str] = None  # the pattern rule, or the classifier's reason
    confidence: float = 0.0  # the classifier's confidence for the crisis intent


def decide(
    parse: Mapping[str, Any],
    result: PatternResult,
    fallback_floor: float,
    confident_floor: float,
    checkin_floor: float = 1.1,
) -> Optional[Decision]:
    """Whether this parse must become a crisis intent, a check-in, or a vetoed
    prediction (see the module docstring)."""
    if result.category:
        return Decision("fire", result.category, "pattern", result.rule, 1.0)
    intent = (parse.get("intent") or {}).get("name")
    ranking = [
        item for item in parse.get("intent_ranking") or [] if item.get("name") in CRISIS_INTENTS
    ]
    best = max(ranking, key=lambda item: item.get("confidence", 0.0), default=None)
    if intent in CRISIS_INTENTS:
        confidence = float((parse.get("intent") or {}).get("confidence") or 0.0)
        if intent in result.vetoed:
            return Decision("veto", intent, "classifier", "negation", confidence)
        if intent in result.cued:
            return Decision("fire", intent, "classifier", "top_intent", confidence)
        if result.checkin:
            return Decision("checkin", result.checkin, "pattern", result.checkin_rule, 1.0)
        if confidence >= checkin_floor:
            return Decision("checkin", intent, "classifier", "no_cue", confidence)
        return Decision("veto", intent, "classifier", "no_cue", confidence)
    if best is not None:
        floor = fallback_floor if intent == FALLBACK else confident_floor
        reason = "over_fallback" if intent == FALLBACK else "over_intent"
        confidence = float(best.get("confidence") or 0.0)
        if (
            confidence >= floor
            and best["name"] not in result.vetoed
            and best["name"] in result.cued
        ):
            return Decision("fire", best["name"], "classifier", reason, confidence)
    if result.checkin:
        return Decision("checkin", result.checkin, "pattern", result.checkin_rule, 1.0)
    return None


def checkin_intent(category: str) -> str:
    """The check-in intent of a crisis intent: crisis_suicidal -> checkin_suicidal."""
    return CHECKIN_PREFIX + category[len(CRISIS_PREFIX) :]


def override_fields(parse: Mapping[str, Any], decision: Decision) -> Dict[str, Any]:
    """Only the fields the decision changes: intent, intent_ranking and the output property.

    Nothing else of the parse is read or copied (the spaCy doc, the tokens and the
    features stay where they are, shared)."""
    previous = (parse.get("intent") or {}).get("name")
    ranking = list(parse.get("intent_ranking") or [])
    if decision.action in ("fire", "checkin"):
        name = decision.category
        if decision.action == "checkin":
            name = checkin_intent(decision.category)
        intent = {"name": name, "confidence": 1.0}
        rest = [dict(item) for item in ranking if item.get("name") != name]
        output: Dict[str, Any] = {
            "category": decision.category.replace(CRISIS_PREFIX, "", 1),
            "intent": name,
            "matched_by": decision.matched_by,
            "rule": decision.rule,
            "overridden": previous,
        }
        if decision.action == "checkin":
            output["checkin"] = True
    else:
        intent = {"name": FALLBACK, "confidence": decision.confidence}
        rest = [
            dict(item)
            for item in ranking
            if item.get("name") not in CRISIS_INTENTS and item.get("name") != FALLBACK
        ]
        output = {
            "vetoed": decision.category,
            "matched_by": decision.matched_by,
            "reason": decision.rule,
            "overridden": previous,
        }
    return {"intent": intent, "intent_ranking": [dict(intent)] + rest, OUTPUT_KEY: output}


def apply_decision(parse: Dict[str, Any], decision: Optional[Decision]) -> Dict[str, Any]:
    """The parse data after the decision: a new top-level dict sharing every value the
    decision leaves alone (no deep copy: the spaCy doc is never copied), with intent,
    intent_ranking and the output property set (`override_fields`)."""
    if decision is None:
        return parse
    return {**parse, **override_fields(parse, decision)}


# --- The Rasa component --------------------------------------------------------------------


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafeguardingOverride(StatelessComponent):
    """Overrides the intent with a crisis intent when a crisis pattern or the classifier says so."""

    # patterns_file: None = bot/nlu/safeguarding_patterns.yml; a relative path is taken
    # from the project root. fallback_floor / confident_floor: see the module docstring.
    DEFAULTS: ClassVar[Dict[Text, Any]] = {
        "patterns_file": None,
        "fallback_floor": 0.3,
        "confident_floor": 0.3,
        "checkin_floor": 0.9,
    }

    def __init__(self, config: Dict[Text, Any], patterns: Optional[Patterns] = None) -> None:
        """Load the patterns now (unless given): a missing or broken file stops Rasa from
        starting."""
        super().__init__(config)
        self.patterns = patterns or load_patterns(
            resolve_patterns_file(self.config.get("patterns_file"))
        )
        self.fallback_floor = float(self.config["fallback_floor"])
        self.confident_floor = float(self.config["confident_floor"])
        self.checkin_floor = float(self.config["checkin_floor"])

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get("text")
            if not text:
                continue
            doc = message.get(SPACY_DOC_KEY)
            if doc is None:
                logger.warning("No spaCy doc in the message: tokenising it here for safeguarding.")
                doc = make_doc(text)
            result = matcher_for(self.patterns, doc.vocab).match(doc)
            decision = decide(
                message.data,
                result,
                self.fallback_floor,
                self.confident_floor,
                self.checkin_floor,
            )
            if decision is None:
                continue
            for key, value in override_fields(message.data, decision).items():
                message.set(key, value, add_to_output=True)
        return messages
