"""The inbox e-mail, against a local SMTP server (aiosmtpd) that requires STARTTLS: only the
reference, time and link go out; a failed send is retried; the request is stored whatever
the mail server does."""

from __future__ import annotations

import email
import email.policy
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from aiosmtpd.controller import Controller

from bot import handoff, settings
from bot.storage import mailer
from bot.storage.handoff_store import HandoffStore
from tools.stack import free_port

ZONE = settings.load().organisation.zone
QUESTION = "My partner was arrested, can I get legal aid? Call me on 07700 900123"


class Inbox:
    """Collects what the SMTP server accepted; refuses the first `fail_first` messages."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: List[Tuple[str, List[str], str]] = []
        self.fail_first = fail_first
        self.attempts = 0
        self.tls_seen: List[bool] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        self.tls_seen.append(session.ssl is not None)
        if self.attempts <= self.fail_first:
            return "451 Try again later"
        self.received.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode("utf-8"))
        )
        return "250 OK"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> Tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _server(handler: Inbox, certificate: Tuple[Path, Path], starttls: bool = True) -> Controller:
    import ssl

    context = None
    if starttls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(certificate[0]), str(certificate[1]))
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=starttls,
    )
    controller.start()
    return controller


def _mailer(controller: Controller, certificate: Tuple[Path, Path], **extra: Any) -> mailer.Mailer:
    env: Dict[str, str] = {
        "HANDOFF_SMTP_HOST": "127.0.0.1",
        "HANDOFF_SMTP_PORT": str(controller.port),
        "HANDOFF_MAIL_TO": "advice-team@charity.example",
        "HANDOFF_MAIL_FROM": "assistant@charity.example",
        "HANDOFF_SMTP_CAFILE": str(certificate[0]),
        "ADVISER_INBOX_URL": "https://assistant.charity.example/adviser",
    }
    made = mailer.from_environment(env)
    assert made is not None
    from dataclasses import replace

    return replace(made, retry_delays=(0.05, 0.05), timeout=5.0, **extra)


@pytest.fixture
def store(tmp_path) -> Iterator[HandoffStore]:
    made = HandoffStore(f"sqlite:///{tmp_path / 'handoff.db'}")
    yield made
    made.engine.dispose()


def _leave(store: HandoffStore, send: mailer.Mailer) -> handoff.LeaveOutcome:
    events = [
        {"event": "session_started"},
        {
            "event": "user",
            "timestamp": 1749024000.0,
            "text": QUESTION,
            "parse_data": {"intent": {"name": "out_of_scope"}},
        },
    ]
    outcome = handoff.leave_question(events, None, store, ZONE, learn_consent=False)
    handoff.notify_left(outcome, None, send, ZONE)
    return outcome


def test_off_unless_host_and_recipient_are_set():
    assert mailer.from_environment({}) is None
    assert mailer.from_environment({"HANDOFF_SMTP_HOST": "smtp.example"}) is None
    assert mailer.from_environment({"HANDOFF_MAIL_TO": "a@example.org"}) is None


def test_the_mail_carries_the_reference_time_and_link_only(store, certificate):
    handler = Inbox()
    controller = _server(handler, certificate)
    try:
        outcome = _leave(store, _mailer(controller, certificate))
        mailer.wait(20)
    finally:
        controller.stop()
    reference = outcome.request.reference
    [(sender, recipients, raw)] = handler.received
    parsed = email.message_from_string(raw, policy=email.policy.default)
    content = parsed["Subject"] + "\n" + parsed.get_content()  # type: ignore[attr-defined]
    assert handler.tls_seen == [True]  # sent only after STARTTLS
    assert sender == "assistant@charity.example"
    assert recipients == ["advice-team@charity.example"]
    assert reference in content
    assert f"https://assistant.charity.example/adviser/requests/{reference}" in content
    created = outcome.request.created_at.astimezone(ZONE).strftime("%H:%M")
    assert created in content
    for secret in ("legal aid", "arrested", "07700", "900123", "[phone]", "partner"):
        assert secret not in content


def test_a_refused_send_is_retried(store, certificate):
    handler = Inbox(fail_first=2)
    controller = _server(handler, certificate)
    try:
        outcome = _leave(store, _mailer(controller, certificate))
        mailer.wait(20)
    finally:
        controller.stop()
    assert handler.attempts == 3 and len(handler.received) == 1
    assert outcome.request.reference in handler.received[0][2]


def test_no_starttls_no_mail_and_the_request_is_kept(store, certificate, caplog):
    handler = Inbox()
    controller = _server(handler, certificate, starttls=False)
    try:
        outcome = _leave(store, _mailer(controller, certificate))
        mailer.wait(20)
    finally:
        controller.stop()
    assert handler.received == [] and handler.attempts == 0
    assert store.get(outcome.request.reference) is not None
    assert "not sent" in caplog.text and QUESTION not in caplog.text


def test_a_dead_server_never_blocks_or_loses_the_request(store, certificate):
    port = free_port()  # nothing listens here
    send = mailer.Mailer(
        host="127.0.0.1",
        port=port,
        to="advice-team@charity.example",
        sender="assistant@charity.example",
        retry_delays=(1.0, 1.0),
        timeout=2.0,
    )
    started = time.monotonic()
    outcome = _leave(store, send)
    assert time.monotonic() - started < 1.0  # the send runs in the background
    assert store.get(outcome.request.reference) is not None
    mailer.wait(20)
    assert not any(t.is_alive() for t in threading.enumerate() if t.name == "inbox-mail")


def test_an_updated_request_sends_no_second_mail(store, certificate):
    handler = Inbox()
    controller = _server(handler, certificate)
    try:
        send = _mailer(controller, certificate)
        first = _leave(store, send)
        mailer.wait(20)
        again = handoff.LeaveOutcome(first.slots, first.request, True)
        handoff.notify_left(again, None, send, ZONE)
        mailer.wait(20)
    finally:
        controller.stop()
    assert len(handler.received) == 1
