"""No log record of the Rasa process carries what a parent wrote, whoever logs it.

bot/logging_policy.py redacts contact details from every record; that is not enough in
the Rasa process. Rasa 3.6's REST channel logs the whole message at ERROR when handling it
raises or is cancelled (`rest.message.received.failure` / `.timeout`: a database hiccup, a
lock error, Sanic's response timeout or the client dropping the connection), and an error
from the database quotes the row it could not write. Names and allegations are not
contact details, so redaction patterns cannot find them.

Installed by bot/rasa/__init__.py (so whichever of the project's plug-ins Rasa loads):

* every `UserMessage` Rasa builds registers its words here (in this process's memory
  only, never written): those of the messages being handled and of the most recent ones,
  at most `RECENT_MESSAGES`, each forgotten when the task that received it ends;
* a structlog processor, first in Rasa's chain, replaces the values Rasa itself marks as
  user text (`text`, `user_text`, `parse_data_text`, ...) by "[removed]", formats any
  traceback itself (no local variables) and removes every registered message from it and
  from every other value;
* a log record factory does the same for every standard logging record (Rasa, Sanic,
  SQLAlchemy, anything else): its message and its traceback text.

A registered message is kept as its runs of three consecutive words (of the message and
of its redacted copy): wherever such runs appear in a record, the stretch they cover is
replaced by "[message]", however JSON and Python escaped the quotes, backslashes and line
breaks between the words (a database error quotes a JSON row inside a Python tuple inside
a JSON log line). So no sentence of three words or more survives, and the check costs a
dictionary look-up per word of the record.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import traceback
from collections import OrderedDict
from typing import Any, Callable, Dict, List, MutableMapping, Optional, Set, Tuple

from bot.redact import redact

REMOVED = "[removed]"
MESSAGE = "[message]"
# How many recent messages stay registered after the task that received them goes on
# (an HTTP keep-alive connection handles many messages in one task).
RECENT_MESSAGES = 64
# A run of this many consecutive words of a registered message is removed wherever it
# appears; a message of fewer words is removed when all its words appear together. A
# one-word message ("ok", "yes") is not removed: it says nothing about a family, and
# removing it would garble unrelated log text.
RUN_WORDS = 3
RUN_SIZES = range(2, RUN_WORDS + 1)
# The keys Rasa 3.6 marks as user text in its structured logs (rasa/utils/log_utils.py).
USER_TEXT_KEYS = frozenset(
    """
text response_text user_text slot_values parse_data_text parse_data_entities
prediction_events tracker_latest_message prefilled_slots message response slot_candidates
rasa_event rasa_events tracker_states current_states old_states successes current_entity
next_entity states entity token_text user_message json_message
""".split()
)
# Words are compared in ASCII letters and digits only, so that an accented letter written
# as itself or escaped ("\\u00eb") splits a word the same way on both sides.
_WORD = re.compile(r"[A-Za-z0-9]+")
# Escapes as JSON and Python write them, nested any number of times ('\\\\\\"', '\\n').
_ESCAPE = re.compile(r"\\+(?:u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.DOTALL)
_MARK = "_bot_message_scrubbing"


def words(text: str) -> List[str]:
    """The words of a message, as the scrubber compares them."""
    return [word.lower() for word in _WORD.findall(text)]


def runs(text: str) -> Set[Tuple[str, ...]]:
    """The word runs of a message (and of its redacted copy) that logs must not contain."""
    found: Set[Tuple[str, ...]] = set()
    for version in {text, redact(text)}:
        tokens = words(version)
        if len(tokens) < 2:
            continue
        size = min(RUN_WORDS, len(tokens))
        found.update(tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1))
    return found


def _spans(text: str, known: Dict[Tuple[str, ...], int], sizes: range) -> List[List[int]]:
    """Character spans of `text` covered by known runs of words (escapes ignored)."""
    plain = _ESCAPE.sub(lambda m: " " * len(m.group(0)), text)
    tokens = [(m.group(0).lower(), m.start(), m.end()) for m in _WORD.finditer(plain)]
    covered = [False] * len(tokens)
    for size in sizes:
        for i in range(len(tokens) - size + 1):
            if tuple(token for token, _, _ in tokens[i : i + size]) in known:
                covered[i : i + size] = [True] * size
    spans: List[List[int]] = []
    for index, (_, start, end) in enumerate(tokens):
        if not covered[index]:
            continue
        if spans and index > 0 and covered[index - 1]:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return spans


class MessageRegistry:
    """The texts of the messages this process handles now or handled last (memory only),
    kept as runs of words."""

    def __init__(self, size: int = RECENT_MESSAGES) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._runs: "OrderedDict[int, Set[Tuple[str, ...]]]" = OrderedDict()
        self._next = 0
        self._known: Dict[Tuple[str, ...], int] = {}  # run -> how many messages hold it

    def _count(self, found: Set[Tuple[str, ...]], step: int) -> None:
        for run in found:
            left = self._known.get(run, 0) + step
            if left > 0:
                self._known[run] = left
            else:
                self._known.pop(run, None)

    def add(self, text: str) -> int:
        """Register a message; its key (for `discard`)."""
        found = runs(text)
        with self._lock:
            key = self._next
            self._next += 1
            self._runs[key] = found
            self._count(found, 1)
            while len(self._runs) > self.size:
                self._count(self._runs.popitem(last=False)[1], -1)
        return key

    def discard(self, key: int) -> None:
        with self._lock:
            found = self._runs.pop(key, None)
            if found is not None:
                self._count(found, -1)

    def clear(self) -> None:
        with self._lock:
            self._runs.clear()
            self._known.clear()

    def scrub(self, text: str) -> str:
        """`text` with every run of words of a registered message replaced, wherever it is
        and however it was quoted."""
        with self._lock:  # a dictionary look-up per word: short enough to hold the lock
            if not self._known:
                return text
            spans = _spans(text, self._known, RUN_SIZES)
        if not spans:
            return text
        pieces, last = [], 0
        for start, end in spans:
            pieces += [text[last:start], MESSAGE]
            last = end
        return "".join(pieces) + text[last:]


REGISTRY = MessageRegistry()


def register(text: Any) -> None:
    """Register a message the process received; forgotten when the receiving task ends."""
    if not isinstance(text, str) or not text.strip():
        return
    key = REGISTRY.add(text)
    try:
        task = asyncio.current_task()
    except RuntimeError:  # not in an event loop: only the size bound forgets it
        task = None
    if task is not None:
        task.add_done_callback(lambda _task: REGISTRY.discard(key))


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return REGISTRY.scrub(value)
    if isinstance(value, dict):
        return {key: _scrub_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub_value(item) for item in value]
    return value


def _exception_text(exc_info: Any) -> Optional[str]:
    """The traceback as text (no local variables), or None when there is none."""
    import sys

    if exc_info is True:
        exc_info = sys.exc_info()
    elif isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    if not isinstance(exc_info, tuple) or exc_info[0] is None:
        return None
    return "".join(traceback.format_exception(*exc_info))


def scrub_event(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Any:
    """structlog processor: user text keys emptied, messages removed, traceback as text."""
    exc_info = event_dict.pop("exc_info", None)
    for key in list(event_dict):
        if key in USER_TEXT_KEYS:
            event_dict[key] = REMOVED
        else:
            event_dict[key] = _scrub_value(event_dict[key])
    if exc_info:
        text = _exception_text(exc_info)
        if text:
            event_dict["exception"] = redact(REGISTRY.scrub(text))
    return event_dict


setattr(scrub_event, _MARK, True)


def scrub_record(record: logging.LogRecord) -> logging.LogRecord:
    """Remove registered messages from a standard record's message and traceback, in place."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: Python reports it; keep no arguments
        message = str(record.msg)
    cleaned = REGISTRY.scrub(message)
    if cleaned != message or record.args:
        record.msg, record.args = cleaned, None
    if record.exc_info:
        text = record.exc_text or _exception_text(record.exc_info) or ""
        record.exc_text = REGISTRY.scrub(text)
    if record.stack_info:
        record.stack_info = REGISTRY.scrub(record.stack_info)
    return record


def _install_structlog() -> None:
    try:
        import structlog
    except ImportError:  # pragma: no cover - Rasa always brings structlog
        return
    processors = structlog.get_config()["processors"]
    if any(getattr(p, _MARK, False) for p in processors):
        return
    if isinstance(processors, list):
        # In place: loggers Rasa already bound keep a reference to this very list.
        processors.insert(0, scrub_event)
    else:
        structlog.configure(processors=[scrub_event, *processors])


def _install_records() -> None:
    current: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()
    if getattr(current, _MARK, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return scrub_record(current(*args, **kwargs))

    setattr(factory, _MARK, True)
    logging.setLogRecordFactory(factory)


def _install_registration() -> None:
    from rasa.core.channels.channel import UserMessage

    original = UserMessage.__init__
    if getattr(original, _MARK, False):
        return

    def __init__(self: UserMessage, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        register(self.text)

    setattr(__init__, _MARK, True)
    UserMessage.__init__ = __init__


def install() -> None:
    """Register every message Rasa receives and scrub every log record (idempotent)."""
    _install_registration()
    _install_structlog()
    _install_records()


def installed() -> Dict[str, bool]:
    """Which parts are in place (for tests and start-up checks)."""
    import structlog
    from rasa.core.channels.channel import UserMessage

    return {
        "registration": bool(getattr(UserMessage.__init__, _MARK, False)),
        "structlog": any(getattr(p, _MARK, False) for p in structlog.get_config()["processors"]),
        "records": bool(getattr(logging.getLogRecordFactory(), _MARK, False)),
    }
