"""One measured speed fix inside Rasa 3.6, applied by bot/rasa/__init__.py whenever Rasa
loads one of the project's plug-ins.

Rasa checks every action server reply against a JSON schema with `jsonschema.validate`,
which re-checks the schema itself and builds a new validator on every call: about 80 ms
per custom action on this project's 2-core machine, against 2 ms with one validator built
once (`python -m tools.profile_message`). The check itself is unchanged: the same schema, the
same ValidationError with the same explanation appended.

Written for one Rasa version (RASA_VERSION); on any other `apply` leaves Rasa alone and
says so, since the replaced method's contract may have changed.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Dict

import jsonschema
import rasa
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

logger = logging.getLogger(__name__)

RASA_VERSION = "3.6.21"
# Rasa's own method, kept for the test that checks both give the same verdicts.
RASA_ORIGINAL = RemoteAction.__dict__["_validate_action_result"]


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


def apply(version: str = rasa.__version__) -> bool:
    """Install the cached validator (idempotent); False, with a warning, on another Rasa
    version."""
    if version != RASA_VERSION:
        logger.warning(
            "Rasa %s is not the version %s the cached action-reply validator was written "
            "for: left out, Rasa validates action replies its own (slower) way.",
            version,
            RASA_VERSION,
        )
        return False
    RemoteAction._validate_action_result = _validate_action_result
    return True
