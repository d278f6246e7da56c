"""bot/settings.yml parsed once into frozen dataclasses: every key read, none unknown."""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, List

import pytest

from bot import hours, settings
from bot.settings import SettingsError


def leaves(data: Dict[str, Any], prefix: str = "") -> List[str]:
    """Every key path of the YAML data ("adviceline.opens", ...)."""
    found = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        found += leaves(value, path + ".") if isinstance(value, dict) else [path]
    return found


def test_the_project_settings_parse_and_are_frozen() -> None:
    parsed = settings.load()
    assert isinstance(parsed.adviceline.hours, hours.Hours)
    assert parsed.adviceline.hours.zone is parsed.organisation.zone
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.edge.max_message_chars = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        parsed.crisis["emergency"] = "1"  # type: ignore[index]


@pytest.mark.parametrize("path", leaves(settings.load_raw()))
def test_every_key_of_the_file_is_read(path: str) -> None:
    """Removing any key fails with its name, or (an optional one) falls back to a default:
    either way the parser reads it; `test_an_unknown_key_is_refused` covers the reverse."""
    raw = settings.load_raw()
    *parents, last = path.split(".")
    section = raw
    for name in parents:
        section = section[name]
    del section[last]
    try:
        settings.parse(raw)
    except SettingsError as error:
        assert last in str(error)


def test_an_unknown_key_is_refused_with_its_name() -> None:
    raw = settings.load_raw()
    raw["adviceline"]["closed_on_bank_holiday"] = False  # a typo of an optional key
    with pytest.raises(SettingsError, match="closed_on_bank_holiday"):
        settings.parse(raw)
    raw = settings.load_raw()
    raw["new_section"] = {"a": 1}
    with pytest.raises(SettingsError, match="new_section"):
        settings.parse(raw)


@pytest.mark.parametrize(
    "section,key,value,message",
    [
        ("adviceline", "opens", "9.30am", "24-hour clock"),
        ("adviceline", "days", ["Monday", "Funday"], "weekday names"),
        ("organisation", "timezone", "Europe/Londres", "unknown time zone"),
        ("privacy", "retention_days", "thirty", "expected int"),
        # The edge must give up on Rasa before Rasa gives up on the message (issue 13, 2).
        ("edge", "rasa_client_timeout_seconds", 30, "below edge.rasa_response_timeout"),
        ("edge", "rasa_client_timeout_seconds", 45, "below edge.rasa_response_timeout"),
    ],
)
def test_a_bad_value_is_refused_with_its_key(
    section: str, key: str, value: Any, message: str
) -> None:
    raw = settings.load_raw()
    raw[section][key] = value
    with pytest.raises(SettingsError, match=message):
        settings.parse(raw)


def test_hours_are_put_into_words_in_one_place() -> None:
    raw = settings.load_raw()["adviceline"]
    line = settings.load().adviceline.hours
    opens = hours.say_clock(hours.parse_clock(raw["opens"]))
    closes = hours.say_clock(hours.parse_clock(raw["closes"]))
    days = hours.say_days(raw["days"])
    assert hours.say_hours(line) == f"{days}, {opens} to {closes}"
    assert hours.say_hours(line, "opening") == f"on {days} at {opens}"
    assert settings.placeholders()["adviceline_hours"] == hours.say_hours(line)


def test_every_crisis_line_is_a_placeholder() -> None:
    values = settings.placeholders()
    for name, number in settings.load_raw()["crisis"].items():
        assert values[name] == str(number)
