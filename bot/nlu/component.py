"""What the project's NLU components share: none of them learns anything.

Rasa builds a component with `create`, from its section of config.yml merged over
`get_default_config()` (a subclass lists its options and their defaults in `DEFAULTS`).
These components keep no trained state, so the configuration is all they need, and a
test can build one directly (`FaqGuard({...})`). Each subclass
registers itself with Rasa's recipe (`DefaultV1Recipe.register`): its component type
decides when Rasa runs it (a featurizer also runs on the training data).
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from typing_extensions import Self


class StatelessComponent(GraphComponent):
    """A component built from its configuration alone (`self.config`, defaults filled in)."""

    DEFAULTS: ClassVar[Dict[Text, Any]] = {}

    def __init__(self, config: Optional[Dict[Text, Any]] = None) -> None:
        self.config: Dict[Text, Any] = {**self.get_default_config(), **(config or {})}

    @classmethod
    def get_default_config(cls) -> Dict[Text, Any]:
        return dict(cls.DEFAULTS)

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> Self:
        return cls(config)
