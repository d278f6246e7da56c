"""The intent names the code depends on (bot/intents.py) exist where they must."""

from __future__ import annotations

import yaml
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME

from bot import intents
from bot.paths import DOMAIN
from tools import corpus


def test_the_fallback_is_rasas() -> None:
    assert intents.FALLBACK == DEFAULT_NLU_FALLBACK_INTENT_NAME


def test_every_named_intent_is_in_the_domain() -> None:
    domain = set(yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))["intents"])
    named = {
        *intents.RETRIEVAL_INTENTS,
        *intents.CRISIS_INTENTS,
        intents.GIVE_CONTACT,
        intents.REQUEST_HUMAN,
    }
    assert named <= domain, sorted(named - domain)
    assert all(name.startswith(intents.CRISIS_PREFIX) for name in intents.CRISIS_INTENTS)


def test_the_retrieval_intents_are_exactly_the_faq_topics_of_the_training_data() -> None:
    topics = {example.label.split("/")[0] for example in corpus.training() if "/" in example.label}
    assert topics == set(intents.RETRIEVAL_INTENTS)
