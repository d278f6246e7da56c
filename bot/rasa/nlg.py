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
        return self.generate_from_slots(
            utter_action, tracker.current_slot_values(), output_channel, **values
        )
