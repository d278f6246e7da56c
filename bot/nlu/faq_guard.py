"""Never answer a FAQ on a guess: turn uncertain FAQ predictions into nlu_fallback.

Rasa 3.6's ResponseSelector has no confidence threshold of its own: an intent at 0.99 can
carry a response at 0.25. This component runs after the ResponseSelector and the
FallbackClassifier. When the predicted intent is a retrieval (FAQ) intent and

* the best answer's score is below `response_threshold` (or its topic's own threshold in
  `topic_thresholds`): the score is the answer's confidence times the confidence of its
  topic's intent, so that an answer is given only when both the topic and the answer
  within it are likely (measured against the answer's confidence alone: held-out macro-F1
  0.812 with 23 CLINC misfires against 0.761 with 46; see config.yml), or
* its two best answers are closer than `response_margin`, or
* its best answer belongs to a different topic than the predicted intent,

the message becomes `nlu_fallback`, and the two closest answers are kept in the parse
data (`faq_guard`) so that action_clarify can offer them as buttons. Thresholds are set
in config.yml from measured data (`make eval`).

Scope: the risk assessment and safety plan answers (sections A and B) are about an
indecent-images (IIOC) case. A post (`post_words` or more) about a nearby matter that is
not one (a pre-birth assessment, domestic abuse, kinship care, drink or drugs, a US "CPS"
case: `NEARBY_MATTER`) and with no word of an IIOC case (`IIOC_CUE`) never gets one of
those answers as if it applied: it becomes out_of_scope, marked `other_matter`, and the
handoff says what the assistant covers (tools/long_posts.py measures it on the posts of
kind other_concern).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.training_data.message import Message

from bot.intents import FALLBACK
from bot.nlu.component import StatelessComponent

GUARD_KEY = "faq_guard"
OUT_OF_SCOPE = "out_of_scope"
OTHER_MATTER = "other_matter"
# Answers written for an IIOC case only (CONTENT.md A and B).
IIOC_TOPICS = frozenset({"assessment", "safety_plan"})
IIOC_CUE = re.compile(
    r"iioc|indecent|\bimages?\b|pictures|photos|online|internet|laptop|computer|devices?\b"
    r"|download|hard ?drive|\bsopo\b|\bshpo\b|sex(?:ual)? offen|csam|viewing"
    r"|looking at (?:stuff|things)",
    re.IGNORECASE,
)
NEARBY_MATTER = re.compile(
    r"pregnan|pre\W?birth|domestic (?:abuse|violence)|\bdv\b|violen|\brow\b|\bfight"
    r"|\bcps\b|caseworker|kinship|special guardian|\bsgo\b|grand(?:son|daughter|child|kids)"
    r"|\bniece|\bnephew|drink|drugs|alcohol|smack|spank|attendance|neglect|care leaver",
    re.IGNORECASE,
)


def other_matter(text: str, answer: Optional[str], post_words: int) -> bool:
    """True when `answer` is an IIOC-specific answer and `text` is a post about a nearby
    matter that is not an IIOC case."""
    if not answer or answer.split("/", 1)[0] not in IIOC_TOPICS:
        return False
    if len(text.split()) < post_words:
        return False
    return bool(NEARBY_MATTER.search(text)) and not IIOC_CUE.search(text)


def topic_confidence(parse: Dict[str, Any], intent: str) -> float:
    """The intent classifier's confidence in `intent`: from the ranking when Rasa kept one
    (a later component may have replaced the intent), else the intent's own, else 1."""
    for item in parse.get("intent_ranking") or []:
        if item.get("name") == intent:
            return float(item.get("confidence", 0.0))
    own = parse.get("intent") or {}
    if own.get("name") == intent and "confidence" in own:
        return float(own["confidence"])
    return 1.0


def judge(
    parse: Dict[str, Any],
    response_threshold: float,
    response_margin: float,
    topic_thresholds: Optional[Mapping[str, float]] = None,
) -> Optional[Dict[str, Any]]:
    """Why a FAQ prediction is too uncertain to answer, or None when it is safe.

    `parse` holds Rasa's `intent` and `response_selector` output. The result carries the
    reason and the two best answer keys ("safety_plan/legal_status", ...).
    """
    intent = (parse.get("intent") or {}).get("name")
    selector = parse.get("response_selector") or {}
    if intent not in (selector.get("all_retrieval_intents") or []):
        return None
    prediction = selector.get(intent) or selector.get("default") or {}
    ranking = prediction.get("ranking") or []
    if not ranking:
        return {"reason": "no_answer", "candidates": []}
    candidates = [item["intent_response_key"] for item in ranking[:2]]
    best = ranking[0]["confidence"]
    second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
    if candidates[0].split("/")[0] != intent:
        return {"reason": "topic_mismatch", "candidates": candidates}
    score = best * topic_confidence(parse, intent)
    if score < (topic_thresholds or {}).get(intent, response_threshold):
        return {"reason": "low_confidence", "candidates": candidates, "confidence": score}
    if best - second < response_margin:
        return {"reason": "close_answers", "candidates": candidates, "margin": best - second}
    return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class FaqGuard(StatelessComponent):
    """Overrides a FAQ intent with nlu_fallback when the answer is uncertain."""

    DEFAULTS: ClassVar[Dict[Text, Any]] = {
        "response_threshold": 0.5,
        "response_margin": 0.1,
        "topic_thresholds": {},
        "post_words": 40,
    }

    def __init__(self, config: Optional[Dict[Text, Any]] = None) -> None:
        super().__init__(config)
        self.response_threshold = float(self.config["response_threshold"])
        self.response_margin = float(self.config["response_margin"])
        self.topic_thresholds = {
            str(topic): float(value)
            for topic, value in (self.config.get("topic_thresholds") or {}).items()
        }
        self.post_words = int(self.config["post_words"])

    def _out_of_scope(self, message: Message) -> bool:
        """Turn an IIOC-specific answer to a post about a nearby matter into out_of_scope."""
        intent = dict(message.get("intent") or {})
        selector = message.get("response_selector") or {}
        if intent.get("name") not in (selector.get("all_retrieval_intents") or []):
            return False
        prediction = selector.get(intent["name"]) or selector.get("default") or {}
        answer = (prediction.get("response") or {}).get("intent_response_key")
        if not other_matter(str(message.get("text") or ""), answer, self.post_words):
            return False
        message.set(
            GUARD_KEY,
            {"reason": OTHER_MATTER, "intent": intent.get("name"), "candidates": []},
            add_to_output=True,
        )
        message.set(
            "intent",
            {"name": OUT_OF_SCOPE, "confidence": intent.get("confidence", 0.0)},
            add_to_output=True,
        )
        return True

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if self._out_of_scope(message):
                continue
            verdict = judge(
                message.data, self.response_threshold, self.response_margin, self.topic_thresholds
            )
            if verdict is None:
                continue
            intent = dict(message.get("intent") or {})
            verdict["intent"] = intent.get("name")
            message.set(GUARD_KEY, verdict, add_to_output=True)
            message.set(
                "intent",
                {"name": FALLBACK, "confidence": intent.get("confidence", 0.0)},
                add_to_output=True,
            )
        return messages
