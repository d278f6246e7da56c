"""bot/rasa/message_logs.py: what a parent wrote is removed from every log record.

Issue 13, item 2: Rasa's REST channel logs the whole message when handling it fails, and
a database error quotes the row it could not write. Redaction patterns find contact
details only; these records hold names and allegations.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Iterator, List

import pytest
import structlog
from rasa.core.channels.channel import UserMessage

from bot.rasa import message_logs
from bot.rasa.message_logs import REGISTRY, MessageRegistry, scrub_event

MESSAGE = (
    "Social services say Kezia Marlowe's dad hurt her. That isn't true!\n"
    "Can they keep her away from me?"
)
SENTENCES = [
    "Social services say Kezia Marlowe's dad hurt her.",
    "That isn't true!",
    "Can they keep her away from me?",
]


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    REGISTRY.clear()
    yield
    REGISTRY.clear()


def _handler_output(logger: logging.Logger) -> io.StringIO:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return stream


def _leaks(output: str) -> List[str]:
    forms = []
    for sentence in SENTENCES + [MESSAGE]:
        forms += [sentence, json.dumps(sentence)[1:-1], repr(sentence)[1:-1]]
    return [form for form in forms if form in output]


def test_any_record_quoting_a_received_message_loses_every_sentence() -> None:
    message_logs.install()
    UserMessage(MESSAGE, sender_id="s1")  # Rasa builds one for every message it receives
    logger = logging.getLogger("sanic.error.test_message_logs")
    output = _handler_output(logger)
    row = json.dumps({"event": "user", "text": MESSAGE})
    try:
        raise RuntimeError(f"could not write [parameters: {('s1', row)!r}]")
    except RuntimeError:
        logger.exception("handling %r failed", MESSAGE)
    logger.error("second sentence alone: %s", SENTENCES[1])
    text = output.getvalue()
    assert "RuntimeError" in text and "handling" in text  # the record itself is kept
    assert _leaks(text) == []
    assert text.count(message_logs.MESSAGE) >= 3


def test_without_the_filter_the_same_record_would_leak() -> None:
    """The control: the record above does carry the message until it is scrubbed."""
    record = logging.LogRecord(
        "x", logging.ERROR, "x.py", 1, "handling %r failed", (MESSAGE,), None
    )
    assert _leaks(record.getMessage())
    REGISTRY.add(MESSAGE)
    assert _leaks(message_logs.scrub_record(record).getMessage()) == []


def test_rasas_structured_failure_record_loses_text_and_traceback_locals() -> None:
    REGISTRY.add(MESSAGE)
    try:
        raise ValueError(f"row {json.dumps(MESSAGE)}")
    except ValueError:
        event = scrub_event(
            None,
            "error",
            {"event": "rest.message.received.failure", "text": MESSAGE, "exc_info": True},
        )
    assert event["text"] == message_logs.REMOVED
    assert "exc_info" not in event
    assert "ValueError" in event["exception"]
    assert _leaks(json.dumps(event)) == []


def test_the_structlog_processor_runs_first_in_an_already_configured_chain() -> None:
    output = io.StringIO()
    structlog.configure(
        processors=[structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(output),
        cache_logger_on_first_use=True,
    )
    try:
        logger = structlog.get_logger()
        logger.info("warm", note="cached before install")
        message_logs._install_structlog()
        message_logs._install_structlog()  # idempotent
        REGISTRY.add(MESSAGE)
        logger.error("rest.message.received.timeout", text=MESSAGE, other=SENTENCES[0])
        text = output.getvalue()
        assert "rest.message.received.timeout" in text
        assert _leaks(text) == []
    finally:
        structlog.reset_defaults()


def test_a_message_is_forgotten_when_its_task_ends_or_others_push_it_out() -> None:
    registry = MessageRegistry(size=2)
    first = registry.add("Mina Okafor is seven and lives with her nan")
    registry.add("second message about the hearing next week")
    assert "Mina Okafor" not in registry.scrub("about Mina Okafor is seven and lives with her nan")
    registry.discard(first)
    assert registry.scrub("Mina Okafor is seven and lives with her nan").startswith("Mina")
    registry.add("third message here please")
    registry.add("fourth message here please")
    assert "second message" in registry.scrub("second message about the hearing next week")


def test_short_words_are_not_removed_from_unrelated_text() -> None:
    REGISTRY.add("yes")
    REGISTRY.add("Okay. Thanks.")
    assert REGISTRY.scrub("Rasa server is up and running, yesterday okay") == (
        "Rasa server is up and running, yesterday okay"
    )


def test_nested_quoting_and_accented_letters_do_not_hide_a_message() -> None:
    text = 'Zoë said "Dad hit me" and I can\'t sleep.\nWhat now?'
    REGISTRY.add(text)
    row = json.dumps({"event": "user", "text": text})  # \u00eb, \" and \n
    line = json.dumps(f"could not write {('s1', row)!r}")  # nested once more
    cleaned = REGISTRY.scrub(line)
    assert cleaned.startswith('"could not write') and message_logs.MESSAGE in cleaned
    for words in ("Dad hit me", "can't sleep", "What now", "said"):
        assert words not in cleaned.replace("\\", "")
