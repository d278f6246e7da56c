"""Optional: an e-mail to the advice team's mailbox when a parent leaves a question.

On when HANDOFF_SMTP_HOST and HANDOFF_MAIL_TO are set (off otherwise). The message holds
only the reference, the time and a link to the inbox (ADVISER_INBOX_URL), never the
question, the transcript or a contact detail. It goes through the charity's SMTP server
(HANDOFF_SMTP_PORT, default 587) after STARTTLS, always: a server that does not offer it
gets nothing, and the send counts as failed. HANDOFF_SMTP_USER and HANDOFF_SMTP_PASSWORD
log in when set; HANDOFF_SMTP_CAFILE names a private CA to trust. HANDOFF_MAIL_FROM is the
sender (default: the recipient).

The request is always stored first. Sending runs in the background (a worker thread) and
is retried (RETRY_DELAYS); a failure is logged by kind with the reference and never loses,
delays or changes the request.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import List, Mapping, Optional, Sequence
from zoneinfo import ZoneInfo

logger = logging.getLogger(__name__)

ENV_HOST = "HANDOFF_SMTP_HOST"
ENV_PORT = "HANDOFF_SMTP_PORT"
ENV_USER = "HANDOFF_SMTP_USER"
ENV_PASSWORD = "HANDOFF_SMTP_PASSWORD"
ENV_CAFILE = "HANDOFF_SMTP_CAFILE"
ENV_FROM = "HANDOFF_MAIL_FROM"
ENV_TO = "HANDOFF_MAIL_TO"
ENV_INBOX_URL = "ADVISER_INBOX_URL"
DEFAULT_PORT = 587
RETRY_DELAYS = (5.0, 30.0, 120.0)
TIMEOUT_SECONDS = 20.0
# Sends in flight (tests and shutdown wait for them).
_THREADS: List[threading.Thread] = []


def message_for(
    reference: str, created: datetime, zone: ZoneInfo, inbox_url: str, sender: str, to: str
) -> EmailMessage:
    """The notification: reference, time and link, nothing a parent wrote."""
    link = f"{inbox_url.rstrip('/')}/requests/{reference}" if inbox_url else ""
    when = created.astimezone(zone).strftime("%a %d %b %Y, %H:%M")
    mail = EmailMessage()
    mail["Subject"] = f"New question in the adviser inbox: {reference}"
    mail["From"] = sender
    mail["To"] = to
    lines = [
        f"A parent left a question for an adviser at {when} (UK time).",
        f"Reference: {reference}",
    ]
    if link:
        lines.append(f"Open it in the adviser inbox: {link}")
    else:
        lines.append("Open it in the adviser inbox.")
    mail.set_content("\n".join(lines) + "\n")
    return mail


@dataclass(frozen=True)
class Mailer:
    host: str
    port: int
    to: str
    sender: str
    inbox_url: str = ""
    user: str = ""
    password: str = field(default="", repr=False)
    cafile: Optional[str] = None
    retry_delays: Sequence[float] = RETRY_DELAYS
    timeout: float = TIMEOUT_SECONDS

    def send_once(self, mail: EmailMessage) -> None:
        """One attempt; raises on any failure (STARTTLS is required)."""
        context = ssl.create_default_context(cafile=self.cafile)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.ehlo()
            smtp.starttls(context=context)  # SMTPNotSupportedError when not offered
            smtp.ehlo()
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(mail)

    def deliver(self, reference: str, mail: EmailMessage) -> bool:
        """Send with retries; True once accepted. Never raises."""
        for attempt in range(len(self.retry_delays) + 1):
            try:
                self.send_once(mail)
                return True
            except Exception as error:  # network, TLS, refusal: log the kind, retry
                logger.warning(
                    "Inbox e-mail for %s failed (attempt %d): %s",
                    reference,
                    attempt + 1,
                    type(error).__name__,
                )
            if attempt < len(self.retry_delays):
                time.sleep(self.retry_delays[attempt])
        logger.error("Inbox e-mail for %s not sent; the request is stored.", reference)
        return False

    def notify(self, reference: str, created: datetime, zone: ZoneInfo) -> threading.Thread:
        """Send in the background; returns the worker (daemon) thread."""
        mail = message_for(reference, created, zone, self.inbox_url, self.sender, self.to)
        worker = threading.Thread(
            target=self.deliver, args=(reference, mail), name="inbox-mail", daemon=True
        )
        _THREADS[:] = [t for t in _THREADS if t.is_alive()]
        _THREADS.append(worker)
        worker.start()
        return worker


def wait(timeout: float = 30.0) -> None:
    """Wait for the sends in flight (tests)."""
    for worker in list(_THREADS):
        worker.join(timeout)


def from_environment(env: Optional[Mapping[str, str]] = None) -> Optional[Mailer]:
    """The configured mailer, or None (off)."""
    env = os.environ if env is None else env
    host = (env.get(ENV_HOST) or "").strip()
    to = (env.get(ENV_TO) or "").strip()
    if not host or not to:
        if host or to:
            logger.error("Set both %s and %s for inbox e-mails: off.", ENV_HOST, ENV_TO)
        return None
    try:
        port = int(env.get(ENV_PORT) or DEFAULT_PORT)
    except ValueError:
        logger.error("%s is not a number: inbox e-mails off.", ENV_PORT)
        return None
    return Mailer(
        host=host,
        port=port,
        to=to,
        sender=(env.get(ENV_FROM) or "").strip() or to,
        inbox_url=(env.get(ENV_INBOX_URL) or "").strip(),
        user=env.get(ENV_USER) or "",
        password=env.get(ENV_PASSWORD) or "",
        cafile=(env.get(ENV_CAFILE) or "").strip() or None,
    )
