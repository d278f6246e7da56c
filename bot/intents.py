"""The intent names the code depends on, each written once.

Every other intent lives only in domain.yml and the training data; these few are named
in code because a component, an action or a measurement decides something by them.
tests/unit/test_intents.py checks each against domain.yml (and Rasa's own fallback name).
"""

from __future__ import annotations

from typing import Tuple

# What Rasa's FallbackClassifier (and the project's components) set when NLU is unsure:
# rasa.shared.constants.DEFAULT_NLU_FALLBACK_INTENT_NAME, without importing Rasa.
FALLBACK = "nlu_fallback"
# The retrieval (FAQ) intents: `<topic>/<answer>` in the training data, answered by the
# response selector with `utter_<topic>/<answer>`.
RETRIEVAL_INTENTS: Tuple[str, ...] = (
    "assessment",
    "safety_plan",
    "fgc",
    "service",
    "about",
    "process",
    "police",
    "records",
    "complaints",
    "supervision",
)
# The crisis intents, one per emergency route (bot/nlu/safeguarding_patterns.yml).
CRISIS_INTENTS: Tuple[str, ...] = (
    "crisis_immediate_danger",
    "crisis_young_person",
    "crisis_suicidal",
    "crisis_abuse_disclosure",
    "crisis_own_thoughts",
)
CRISIS_PREFIX = "crisis_"
# The check-in intents: set only by the safeguarding override when a weaker signal
# suggests a crisis (checkin_<category>), and the "I'm safe, carry on" button.
CHECKIN_INTENTS: Tuple[str, ...] = tuple(
    "checkin_" + name[len(CRISIS_PREFIX) :] for name in CRISIS_INTENTS
)
CHECKIN_PREFIX = "checkin_"
CHECKIN_SAFE = "checkin_safe"
GIVE_CONTACT = "give_contact"
REQUEST_HUMAN = "request_human"
