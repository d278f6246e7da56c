"""No log record of the Rasa process carries what a parent wrote, whoever logs it.

bot/logging_policy.py redacts contact details from every record; that is not enough in
the Rasa process. Rasa 3.6's REST channel logs the whole message at ERROR when handling it
raises or is cancelled (`rest.message.received.failure` / `.timeout`: a database hiccup, a
lock error, Sanic's response timeout or the client dropping the connection), and an error
from the database quotes the row it could not write. Names and allegations are not
contact details, so redaction patterns cannot find them.

Installed by bot/rasa/__init__.py (so whichever of the project's plug-ins Rasa loads):

* every `UserMessage` Rasa builds registers its text here (in this process's memory only,
  never written): the texts of the messages being handled and of the most recent ones,
  at most `RECENT_MESSAGES`, each forgotten when the task that received it ends;
* a structlog processor, first in Rasa's chain, replaces the values Rasa itself marks as
  user text (`text`, `user_text`, `parse_data_text`, ...) by "[removed]", formats any
  traceback itself (no local variables) and removes every registered message from it and
  from every other value;
* a log record factory does the same for every standard logging record (Rasa, Sanic,
  SQLAlchemy, anything else): its message and its traceback text.

A registered message is removed whole, sentence by sentence, redacted or not, and however
JSON and Python escaped its quotes, backslashes, line breaks and accented letters (a
database error quotes a JSON row inside a Python tuple inside a JSON log line).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import traceback
from collections import OrderedDict
from typing import Any, Callable, Dict, List, MutableMapping, Optional, Pattern

from bot.redact import redact

REMOVED = "[removed]"
MESSAGE = "[message]"
# How many recent messages stay registered after the task that received them goes on
# (an HTTP keep-alive connection handles many messages in one task).
RECENT_MESSAGES = 64
# Sentences shorter than this are not removed on their own ("ok", "yes"): they say nothing
# about a family, and removing them would garble unrelated log text.
MIN_FRAGMENT_CHARS = 8
# The keys Rasa 3.6 marks as user text in its structured logs (rasa/utils/log_utils.py).
USER_TEXT_KEYS = frozenset(
    """
text response_text user_text slot_values parse_data_text parse_data_entities
prediction_events tracker_latest_message prefilled_slots message response slot_candidates
rasa_event rasa_events tracker_states current_states old_states successes current_entity
next_entity states entity token_text user_message json_message
""".split()
)
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")
_MARK = "_bot_message_scrubbing"


def _char(c: str) -> str:
    """A pattern for one character, however many times JSON or Python escaped it."""
    if (c.isalnum() and c.isascii()) or c == " ":
        return re.escape(c)
    escaped = json.dumps(c)[1:-1]  # '"' -> '\\"', '\n' -> '\\n', 'é' -> '\\u00e9'
    options = [re.escape(c)]
    if escaped != c:
        options.append(re.escape(escaped).replace(r"\\", r"\\+"))
    return "(?:" + "|".join(r"\\*" + option for option in options) + ")"


def _flexible(piece: str) -> str:
    """A pattern for `piece` as written or quoted by JSON or Python, once or nested."""
    body = "".join(_char(c) for c in piece)
    # At a word start, or right after an escape (a quoted line break: "\\nCan ...").
    before = r"(?:(?<!\w)|(?<=\\[nrt])|(?<=\\u[0-9a-fA-F]{4}))" if piece[0].isalnum() else ""
    after = r"(?!\w)" if piece[-1].isalnum() else ""
    return before + body + after


def fragments(text: str) -> List[str]:
    """The pieces of `text` a log line must not contain: the whole, and each sentence."""
    pieces = set()
    for version in {text, redact(text)}:
        version = version.strip()
        if len(version) >= 4:
            pieces.add(version)
        for sentence in _SENTENCE_END.split(version):
            sentence = sentence.strip()
            if len(sentence) >= MIN_FRAGMENT_CHARS:
                pieces.add(sentence)
    return sorted(pieces, key=len, reverse=True)


def _pattern(pieces: List[str]) -> Optional[Pattern[str]]:
    if not pieces:
        return None
    return re.compile("|".join(_flexible(piece) for piece in pieces))


class MessageRegistry:
    """The texts of the messages this process handles now or handled last (memory only)."""

    def __init__(self, size: int = RECENT_MESSAGES) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._texts: "OrderedDict[int, List[str]]" = OrderedDict()
        self._next = 0
        self._pattern: Optional[Pattern[str]] = None

    def add(self, text: str) -> int:
        """Register a message; its key (for `discard`)."""
        pieces = fragments(text)
        with self._lock:
            key = self._next
            self._next += 1
            self._texts[key] = pieces
            while len(self._texts) > self.size:
                self._texts.popitem(last=False)
            self._pattern = None
        return key

    def discard(self, key: int) -> None:
        with self._lock:
            if self._texts.pop(key, None) is not None:
                self._pattern = None

    def clear(self) -> None:
        with self._lock:
            self._texts.clear()
            self._pattern = None

    def scrub(self, text: str) -> str:
        """`text` with every registered message (and each of its sentences) removed."""
        with self._lock:
            if self._pattern is None and self._texts:
                pieces = {piece for texts in self._texts.values() for piece in texts}
                self._pattern = _pattern(sorted(pieces, key=len, reverse=True))
            pattern = self._pattern if self._texts else None
        return pattern.sub(MESSAGE, text) if pattern is not None else text


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
