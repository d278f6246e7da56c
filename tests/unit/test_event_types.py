"""bot/rasa/event_types.py resolves event classes exactly as Rasa's own walk does.

Every comparison is against Rasa's function (kept as RASA_RESOLVE_BY_TYPE), so a Rasa
upgrade that changes how names resolve fails here rather than in a conversation.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Iterator, List, Type

import pytest
import rasa
import rasa.shared.utils.common
from rasa.shared.core import events
from rasa.shared.core.events import Event

from bot.rasa import event_types


@pytest.fixture(autouse=True)
def patched() -> Iterator[None]:
    assert event_types.apply()
    yield


def every_event_class() -> List[Type[Event]]:
    return list(rasa.shared.utils.common.all_subclasses(Event))


def test_the_patch_is_written_for_the_installed_rasa() -> None:
    assert rasa.__version__ == event_types.RASA_VERSION


def test_every_event_class_name_resolves_as_rasas_walk_does() -> None:
    classes = every_event_class()
    assert len(classes) > 20  # Rasa's own events are all there
    for cls in classes:
        expected = event_types.RASA_RESOLVE_BY_TYPE(cls.type_name)
        assert Event.resolve_by_type(cls.type_name) is expected, cls.type_name


def test_a_name_two_classes_share_resolves_to_the_first_rasa_meets() -> None:
    """Rasa's walk stops at the first match; the table must not let a later class win."""
    name = f"test_shared_{uuid.uuid4().hex}"

    class First(events.SlotSet):
        type_name = name

    class Second(events.SlotSet):
        type_name = name

    class Deeper(First):
        type_name = name

    assert Event.resolve_by_type(name) is First is event_types.RASA_RESOLVE_BY_TYPE(name)
    assert Second is not First and Deeper is not First


@pytest.mark.parametrize("default", [None, events.UserUttered])
def test_unknown_names_behave_as_in_rasa(default: Any) -> None:
    name = f"no-such-event-{uuid.uuid4().hex}"
    if default is None:
        with pytest.raises(ValueError) as ours:
            Event.resolve_by_type(name)
        with pytest.raises(ValueError) as theirs:
            event_types.RASA_RESOLVE_BY_TYPE(name)
        assert str(ours.value) == str(theirs.value)
    else:
        assert Event.resolve_by_type(name, default) is default
        assert event_types.RASA_RESOLVE_BY_TYPE(name, default) is default
    assert Event.resolve_by_type("topic") is event_types.RASA_RESOLVE_BY_TYPE("topic") is None


def test_an_event_class_defined_after_the_first_lookup_is_found() -> None:
    Event.resolve_by_type("user")  # the table is built now
    name = f"test_event_{uuid.uuid4().hex}"

    class Late(events.SlotSet):
        type_name = name

    assert Event.resolve_by_type(name) is Late is event_types.RASA_RESOLVE_BY_TYPE(name)


def test_stored_events_come_back_as_the_same_objects() -> None:
    """The path a tracker load takes: Event.from_parameters on each stored dict."""
    originals = [
        events.SessionStarted(),
        events.ActionExecuted("action_listen"),
        events.UserUttered("hello", {"name": "greet", "confidence": 1.0}),
        events.SlotSet("topic", "fgc"),
        events.BotUttered("hi", {"elements": None}),
        events.ActiveLoop(None),
        events.FollowupAction("action_listen"),
    ]
    for original in originals:
        assert Event.from_parameters(original.as_dict()) == original


def test_another_rasa_version_leaves_rasa_alone(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(Event, "resolve_by_type", staticmethod(event_types.RASA_RESOLVE_BY_TYPE))
    with caplog.at_level(logging.WARNING, logger=event_types.__name__):
        assert not event_types.apply("3.7.0")
    assert Event.resolve_by_type is event_types.RASA_RESOLVE_BY_TYPE
    assert "Rasa 3.7.0 is not the version" in caplog.text
