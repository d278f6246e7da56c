"""One measured speed fix inside Rasa 3.6, applied by bot/rasa/__init__.py whenever Rasa
loads one of the project's plug-ins.

Rasa checks every action server reply against a JSON schema with `jsonschema.validate`,
which re-checks the schema itself and builds a new validator on every call: about 80 ms
per custom action on this project's 2-core machine, against 2 ms with one validator built
once (`python -m tools.profile_message`). The check itself is unchanged: the same schema, the
same ValidationError with the same explanation appended.
"""

from __future__ import annotations

import functools
from typing import Any, Dict

import jsonschema
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    try:
        _validator().validate(result)
        return True
    except jsonschema.ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your "
            "response from the Action endpoint is valid. For more information about the "
            f"format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error


def apply() -> None:
    """Install the cached validator (idempotent)."""
    RemoteAction._validate_action_result = _validate_action_result
