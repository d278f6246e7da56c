"""NLU reads each message without its contact details (first in the pipeline).

A parent may put an e-mail address, a phone number, a postcode or a child's date of birth
in the same message as a question. Those details say nothing about the question, and the
words around them ("my email is", "call me on") pulled the classifier towards the contact
intents: one detail added to each held-out example cut accuracy from 88% to 45%
(`python -m tools.redaction_eval`). This component hands every later component the message
with each detail and its lead-in words removed (`bot.redact.strip_details`), in training and
in prediction alike, so both see the same kind of text.

The message as typed stays available under `text_as_typed` for the one component that
needs the details themselves (ContactDetector). Nothing here is stored: the tracker store
redacts what it writes (bot/tracker_store.py).
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.redact import strip_details

AS_TYPED = "text_as_typed"


def as_typed(message: Message) -> Any:
    """The message's text as the parent typed it (before this component)."""
    return message.get(AS_TYPED) or message.get(TEXT)


# A featurizer type so that Rasa runs it on the training data as well as on each message.
@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class ContactMask(GraphComponent):
    """Replaces the text later components read by the text without contact details."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage,
               resource: Resource, execution_context: ExecutionContext) -> "ContactMask":
        return cls()

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
