"""A measured speed fix inside Rasa 3.6: resolve an event's class from its name once.

Rasa turns every stored event back into an object through `Event.resolve_by_type`, which
walks the whole tree of Event subclasses (`all_subclasses`, recursive, with an
`inspect.isabstract` check per class) until one has the wanted `type_name`. Loading a
conversation replays all of its events, so the walk runs dozens of times per message.

Here the walk runs once, into a table from type name to class, in Rasa's own order (the
first class the walk meets wins, as in Rasa). The table is dropped whenever a new Event
subclass is defined (`Event.__init_subclass__`), so a custom event imported later is
found exactly as Rasa would find it. Names not in the table behave as in Rasa: the old
"topic" gives None, otherwise the default, otherwise the same ValueError.

Written for one Rasa version (RASA_VERSION); on any other `apply` leaves Rasa alone and
says so in the log. tests/unit/test_event_types.py compares the table with Rasa's own walk
for every Event subclass.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Optional, Text, Type

import rasa
import rasa.shared.utils.common
from rasa.shared.core.events import Event

logger = logging.getLogger(__name__)

RASA_VERSION = "3.6.21"

# Rasa's own function, kept for the tests and for undoing the patch.
RASA_RESOLVE_BY_TYPE: Callable[..., Optional[Type[Event]]] = Event.resolve_by_type

_table: Optional[Dict[Text, Type[Event]]] = None


def _classes_by_type() -> Dict[Text, Type[Event]]:
    """Type name -> class, built by Rasa's walk (first match wins, as in Rasa)."""
    global _table
    table = _table
    if table is None:
        table = {}
        for cls in rasa.shared.utils.common.all_subclasses(Event):
            table.setdefault(cls.type_name, cls)
        _table = table
    return table


def resolve_by_type(
    type_name: Text, default: Optional[Type[Event]] = None
) -> Optional[Type[Event]]:
    """Rasa's `Event.resolve_by_type`, from the table instead of a walk per call."""
    cls = _classes_by_type().get(type_name)
    if cls is not None:
        return cls
    if type_name == "topic":
        return None  # Rasa's backwards compatibility for old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def _forget_table(cls: Type[Event], **kwargs: Any) -> None:
    """Event.__init_subclass__: a new subclass may change what a name resolves to."""
    global _table
    _table = None
    super(Event, cls).__init_subclass__(**kwargs)


def apply(version: str = rasa.__version__) -> bool:
    """Install the table (idempotent); False, with a warning, on another Rasa version."""
    if version != RASA_VERSION:
        logger.warning(
            "Rasa %s is not the version %s the event class table was written for: "
            "left out, Rasa resolves event classes its own (slower) way.",
            version,
            RASA_VERSION,
        )
        return False
    Event.__init_subclass__ = classmethod(_forget_table)
    Event.resolve_by_type = staticmethod(resolve_by_type)
    return True
