"""The cached action-reply validator (bot/rasa/patches.py): same verdicts as Rasa's own
check, installed only on the Rasa version it was written for."""

from __future__ import annotations

import jsonschema
import pytest
import rasa
from rasa.core.actions.action import RemoteAction

from bot.rasa import patches

VALID = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}
INVALID = {"events": "not a list", "responses": []}


@pytest.fixture
def original():
    """Rasa's own method, restored after the test whatever it installed."""
    saved = RemoteAction.__dict__["_validate_action_result"]
    yield saved
    RemoteAction._validate_action_result = saved


def _verdict(method, result) -> str:
    try:
        return "valid" if method(RemoteAction, result) else "refused"
    except jsonschema.ValidationError as error:
        return "invalid: " + error.message.split(".")[0]


def test_the_cached_validator_agrees_with_rasas_check() -> None:
    """If Rasa changes its reply format or its check, these verdicts part and this fails."""
    rasas = patches.RASA_ORIGINAL
    assert rasas.__module__ == "rasa.core.actions.action"
    verdicts = []
    for result in (VALID, INVALID, {}, {"events": [], "responses": [{"text": 3}]}):
        verdicts.append(_verdict(rasas, result))
        assert _verdict(patches._validate_action_result, result) == verdicts[-1]
    assert verdicts[0] == "valid" and verdicts[1].startswith("invalid")


def test_installed_on_the_version_it_was_written_for(original) -> None:
    assert rasa.__version__ == patches.RASA_VERSION, "re-check the patch for this Rasa"
    assert patches.apply(patches.RASA_VERSION)
    assert RemoteAction._validate_action_result is patches._validate_action_result


def test_left_out_on_another_version(original, caplog) -> None:
    RemoteAction._validate_action_result = original
    assert not patches.apply("3.7.0")
    assert RemoteAction.__dict__["_validate_action_result"] is original
    assert "3.7.0" in caplog.text
