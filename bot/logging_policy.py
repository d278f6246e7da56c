"""Logs never keep contact details: every log record is redacted as it is made.

The project's own code logs no message text at all (only counts and outcomes). This is
the safety net for everything else in the process (libraries, tracebacks whose error
message quotes input): a log record factory that passes the formatted message and any
traceback text through bot.redact before any handler sees it. Installing it twice is
harmless.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from bot.redact import redact

_MARK = "_bot_redacting_factory"


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Replace the record's message (and traceback text) with a redacted copy, in place."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep the record as it is, Python reports it
        return record
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    return record


def install() -> None:
    """Make every log record in this process pass through `redact_record`."""
    current: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()
    if getattr(current, _MARK, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(current(*args, **kwargs))

    setattr(factory, _MARK, True)
    logging.setLogRecordFactory(factory)
