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
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Mapping, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.training_data.message import Message

from bot.intents import FALLBACK
from bot.nlu.component import StatelessComponent

GUARD_KEY = "faq_guard"


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
    }

    def __init__(self, config: Optional[Dict[Text, Any]] = None) -> None:
        super().__init__(config)
        self.response_threshold = float(self.config["response_threshold"])
        self.response_margin = float(self.config["response_margin"])
        self.topic_thresholds = {
            str(topic): float(value)
            for topic, value in (self.config.get("topic_thresholds") or {}).items()
        }

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
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
