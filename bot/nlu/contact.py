"""Recognise a message that is mainly an e-mail address or UK phone number.

When the parent types only contact details, perhaps with a few words such as "my email
is" or "call me on", the intent becomes give_contact (confidence 1.0) and each valid
address or number becomes a `contact` entity (value, start, end). The rules then either
save it with the question left for an adviser, or say it is not needed and not kept.
A message that only tries to give contact details that are not valid (a foreign number,
"jo@example") is also give_contact, without an entity, so the parent hears that it does
not look valid instead of an unrelated answer. A message DIET calls give_contact that holds
no contact-like text at all becomes nlu_fallback. Anything else is left alone.

The detection itself is plain Python in bot/contact.py (the action that saves the
contact uses the same functions without importing Rasa).
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT
from rasa.shared.nlu.training_data.message import Message

from bot.contact import contact_message
from bot.intents import FALLBACK, GIVE_CONTACT
from bot.nlu.component import StatelessComponent
from bot.nlu.contact_mask import as_typed

ENTITY_NAME = "contact"


def contact_entities(text: str) -> List[Dict[str, Any]] | None:
    """The entities to add when `text` is mainly contact details, else None."""
    found = contact_message(text)
    if found is None:
        return None
    return [
        {
            "entity": ENTITY_NAME,
            "value": contact.value,
            "start": contact.start,
            "end": contact.end,
            "confidence_entity": 1.0,
            "extractor": "ContactDetector",
        }
        for contact in found.contacts
    ]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class ContactDetector(StatelessComponent):
    """Sets intent give_contact when a message is mainly contact details."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = as_typed(message)  # the details themselves, which ContactMask hid
            if not isinstance(text, str):
                continue
            entities = contact_entities(text)
            if entities is None:
                if (message.get(INTENT) or {}).get("name") == GIVE_CONTACT:
                    # This component decides what gives contact details: DIET's guess from
                    # digits alone ("test 1 2 3") is not enough, so ask again instead.
                    message.set(INTENT, {"name": FALLBACK, "confidence": 0.0}, add_to_output=True)
                continue
            message.set(INTENT, {"name": GIVE_CONTACT, "confidence": 1.0}, add_to_output=True)
            message.set(ENTITIES, list(message.get(ENTITIES) or []) + entities, add_to_output=True)
        return messages
