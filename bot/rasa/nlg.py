"""Response generation that fills {placeholders} from the one settings file.

Rasa's templated generator fills placeholders from slots only. Keeping phone numbers and
hours in slots would copy them into every stored conversation; instead this generator adds
the rendered settings (bot.settings.placeholders) to the values Rasa interpolates.
Configured in endpoints.yml as `nlg: type: bot.rasa.nlg.SettingsNLG`.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import settings


class SettingsNLG(TemplatedNaturalLanguageGenerator):
    """Domain responses, with the organisation's numbers and hours filled in."""

    def __init__(
        self, endpoint_config: Optional[EndpointConfig] = None, domain: Optional[Domain] = None
    ) -> None:
        super().__init__((domain or Domain.empty()).responses)
        self.values = settings.placeholders()

    async def generate(
        self,
        utter_action: Text,
        tracker: DialogueStateTracker,
        output_channel: Text,
        **kwargs: Any,
    ) -> Optional[Dict[Text, Any]]:
        """Generate `utter_action`, settings first, then explicit kwargs on top."""
        values = {**self.values, **kwargs}
        generated = self.generate_from_slots(
            utter_action, tracker.current_slot_values(), output_channel, **values
        )
        marker = count_marker(utter_action, tracker.get_slot("handoff_reason"))
        if generated is not None and marker is not None and not generated.get("custom"):
            generated["custom"] = marker
        return generated


# Responses the edge counts for the inbox's weekly numbers (a name, never any text).
CLARIFICATIONS = ("utter_ask_rephrase", "utter_clarify_options")


def count_marker(utter_action: Text, handoff_reason: Optional[Text]) -> Optional[Dict[Text, Text]]:
    """`custom.count` for a response the numbers page counts: an FAQ answer (by key), a
    clarification, a handoff (by reason), a question left. The edge strips it."""
    if utter_action.startswith("utter_") and "/" in utter_action:
        return {"count": "faq", "key": utter_action[len("utter_") :]}
    if utter_action in CLARIFICATIONS:
        return {"count": "clarification", "key": ""}
    if utter_action == "utter_handoff":
        return {"count": "handoff", "key": handoff_reason or "asked"}
    if utter_action == "utter_question_left":
        return {"count": "left", "key": ""}
    return None
