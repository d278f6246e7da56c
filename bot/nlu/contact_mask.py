"""NLU reads each message without its contact details (first in the pipeline).

A parent may put an e-mail address, a phone number, a postcode or a child's date of birth
in the same message as a question. Those details say nothing about the question, and the
words around them ("my email is", "call me on") pulled the classifier towards the contact
intents: one detail added to each held-out example cut accuracy from 88% to 45%
(`python -m tools.redaction_eval`). This component hands every later component the message
with each detail and its lead-in words removed (`strip_details` below), in training and in
prediction alike, so both see the same kind of text.

The message as typed stays available under `text_as_typed` for the one component that
needs the details themselves (ContactDetector). Nothing here is stored: the tracker store
redacts what it writes (bot/rasa/tracker_store.py).
"""

from __future__ import annotations

import re
from typing import Any, List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.component import StatelessComponent
from bot.redact import redact

AS_TYPED = "text_as_typed"

# Each detail goes together with the words that introduce it, as parents write them.
_PLACEHOLDER = r"\[(?:email|phone|postcode|date|card|nhs|ni)\]"
_OWNER = r"(?:my|our|his|her|their|the|a)\s+(?:[\w-]+'s\s+|[\w-]+s'\s+)?"
_KIND = (
    r"(?:e-?mail(?:\s+address)?|(?:mobile|phone|contact|home|landline|work|tel(?:ephone)?)"
    r"(?:\s+(?:number|no\.?|details))?|number|post\s?code|address|dob|d\.o\.b\.?|"
    r"date\s+of\s+birth|birthday|birth\s+date|card(?:\s+number)?|"
    r"(?:nhs|ni|national\s+insurance)(?:\s+(?:number|no\.?))?)"
)
_LEAD_INS = [
    rf"{_OWNER}?{_KIND}\s*(?:is|are|was|:|-|=)?\s*",  # my number is
    r"(?:e-?mail|call|ring|text|phone|contact|reach|message|whatsapp|get\s+hold\s+of)"
    r"\s+(?:me|us|him|her)(?:\s+(?:at|on|via))?\s*",  # call me on
    r"(?:you\s+can|please|pls|plz|feel\s+free\s+to)\s+",  # you can ...
    r"(?:i|we|he|she|they)\s+(?:live|lives|are|am|is|'re|'m|'s)\s+in\s+",  # we live in
    r"(?:we're|i'm|im|he's|she's|they're)\s+in\s+",
    r"(?:(?:my|our|his|her)\s+)?[\w-]+\s+(?:was|were|is)\s+born(?:\s+on)?\s+",  # he was born
    r"born\s+(?:on\s+)?",
    r"(?:on|at|via|in)\s+",
]
_HAS_PLACEHOLDER = re.compile(_PLACEHOLDER, re.IGNORECASE)
# Tried only at word starts (the look-behind), with at most four lead-ins in a row ("and
# you can call me on"): a 1,000-character message costs milliseconds, never more.
_STRIP = re.compile(
    rf"(?<![\w-])(?:(?:and|but|so|or)\s+)?(?:{'|'.join(_LEAD_INS)}){{0,4}}{_PLACEHOLDER}"
    r"(?:\s+(?:and|but|so)\b)?",
    re.IGNORECASE,
)


def strip_details(text: str) -> str:
    """The message as NLU should read it: contact details and their lead-in words removed.

    When nothing but the details is left ("my email is jo@example.com"), the redacted
    message is returned instead, so a message is never emptied.
    """
    redacted = redact(text)
    if not _HAS_PLACEHOLDER.search(redacted):
        return text
    stripped = _STRIP.sub(" ", redacted)
    stripped = re.sub(r"\(\s*\)|\[\s*\]", " ", stripped)
    stripped = re.sub(r"\s+([.,;:!?])", r"\1", stripped)
    stripped = re.sub(r"([.,;:!?])(?:\s*[.,;:])+", r"\1", stripped)
    stripped = re.sub(r"^[\s.,;:!?-]+|[\s,;:-]+$", "", stripped)
    stripped = re.sub(r"\s{2,}", " ", stripped).strip()
    return stripped if re.search(r"\w", stripped) else redacted


def as_typed(message: Message) -> Any:
    """The message's text as the parent typed it (before this component)."""
    return message.get(AS_TYPED) or message.get(TEXT)


# A featurizer type so that Rasa runs it on the training data as well as on each message.
@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class ContactMask(StatelessComponent):
    """Replaces the text later components read by the text without contact details."""

    @staticmethod
    def _mask(message: Message) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str) or not text:
            return
        masked = strip_details(text)
        if masked != text:
            message.set(AS_TYPED, text)
            message.set(TEXT, masked)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._mask(example)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._mask(message)
        return messages
