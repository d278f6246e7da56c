"""No process of a live stack writes what a parent typed, even when handling it fails.

Rasa 3.6's REST channel logs the whole message at ERROR when its handling raises or is
cancelled, and a database error quotes the row (issue 13, item 2). This stack's stores
fail on purpose (tests/support/faulty_stores.py): one message makes saving raise an error
quoting the row, one makes taking the lock fail, one makes saving outlast Rasa's response
timeout (a few seconds in this stack's settings file). No sentence of any of them may
appear in any process's log, in any quoted form.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import requests
import yaml

from bot import settings
from bot.paths import PROJECT_ROOT
from tools.stack import Stack

RESPONSE_TIMEOUT = 3
# What each failure logs: the tracker store's error (Rasa's fail-safe store quotes it),
# and the REST channel's two records that carry the message.
EVENTS = (
    "could not write [parameters",
    "rest.message.received.failure",
    "rest.message.received.timeout",
)


def _messages(tag: str) -> Dict[str, str]:
    """Made-up messages: names and worries, no contact details (redaction finds none)."""
    return {
        "raise": (
            f"Social services came round about Poppy Wainscott-{tag}. "
            "They say my partner hit her, which isn't true! What happens next?"
        ),
        "lock": (
            f"Our social worker says Ezra Penhallow-{tag} must stay at his gran's. "
            'She called it a "safety plan" but I never signed anything.'
        ),
        "hang": (
            f"My ex told the school that Jasper Quill-{tag} is scared of me. "
            "Can they stop me picking him up on Friday?"
        ),
    }


def _sentences(text: str) -> List[str]:
    return [part for part in re.split(r"(?<=[.!?])\s+", text) if part]


@pytest.fixture(scope="module")
def failing_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("failing-stack")
    raw = settings.load_raw()
    raw["edge"]["rasa_response_timeout_seconds"] = RESPONSE_TIMEOUT
    raw["edge"]["rasa_client_timeout_seconds"] = RESPONSE_TIMEOUT - 1
    settings_file = workdir / "settings.yml"
    settings_file.write_text(yaml.safe_dump(raw), encoding="utf-8")
    stack = Stack(
        workdir,
        label="failing",
        settings_file=settings_file,
        extra_env={"PYTHONPATH": str(PROJECT_ROOT)},
        endpoints_overrides={
            "tracker_store": {
                "type": "tests.support.faulty_stores.FaultyTrackerStore",
                "dialect": "sqlite",
                "db": str(workdir / "tracker.db"),
            },
            "lock_store": {"type": "tests.support.faulty_stores.FaultyLockStore"},
        },
    )
    stack.start().wait_until_ready()
    yield stack
    stack.stop()


def _log_texts(stack: Stack) -> Dict[str, str]:
    return {name: Path(log).read_text(errors="replace") for name, log in stack.logs.items()}


def _new_log_text(stack: Stack, before: Dict[str, str]) -> str:
    """What every process has written since `before`, as one text."""
    now = _log_texts(stack)
    return "\n".join(text[len(before.get(name, "")) :] for name, text in now.items())


def test_failed_and_timed_out_turns_leave_no_sentence_in_any_log(failing_stack: Stack) -> None:
    tag = uuid.uuid4().hex[:8]  # in the messages only
    sender = uuid.uuid4().hex[:8]
    messages = _messages(tag)
    before = _log_texts(failing_stack)

    # Saving raises an error quoting the row (Rasa logs it and keeps the turn in memory);
    # taking the lock fails (the REST channel logs the failure with the message).
    for kind in ("raise", "lock"):
        reply = requests.post(
            f"{failing_stack.rasa_url}/webhooks/rest/webhook",
            json={"sender": f"fault-{kind}-{sender}", "message": messages[kind]},
            timeout=60,
        )
        assert reply.status_code == 200
    # Saving outlasts the response timeout: Sanic cancels, Rasa logs ...received.timeout.
    started = time.monotonic()
    try:
        requests.post(
            f"{failing_stack.rasa_url}/webhooks/rest/webhook",
            json={"sender": f"fault-hang-{sender}", "message": messages["hang"]},
            timeout=RESPONSE_TIMEOUT + 30,
        )
    except requests.RequestException:
        pass  # Rasa may answer 503 or drop the connection: either is a timed-out turn
    assert time.monotonic() - started < RESPONSE_TIMEOUT + 30

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        logs = _new_log_text(failing_stack, before)
        if all(event in logs for event in EVENTS):
            break
        time.sleep(0.5)
    logs = _new_log_text(failing_stack, before)
    # The failures were logged (so the check below looks at real error records) ...
    for event in EVENTS:
        assert event in logs, logs[-3000:]
    # ... and none of them keeps a sentence, a name, or the message in any quoted form.
    quoted = logs.replace("\\", "")  # '\\"safety plan\\"' -> '"safety plan"'
    for text in messages.values():
        for sentence in _sentences(text):
            assert sentence not in quoted
        assert tag not in logs
