"""Optional: tell the charity's own case system about each new handoff request.

When HANDOFF_WEBHOOK_URL and HANDOFF_WEBHOOK_SECRET are both set, each new request (and a
contact added to it later) is POSTed as JSON with the header
`X-Signature: sha256=<hex HMAC-SHA256 of the exact body, keyed with the secret>`.
The receiver recomputes the HMAC over the raw body and compares in constant time; the body
carries `sent_at`, so it can also refuse old deliveries.

The request is always stored first: a failing or slow webhook is logged and never loses
or delays it (deliveries run in the background with a short timeout).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Mapping, Optional, Set
from urllib.parse import urlsplit

import aiohttp

from bot.storage.handoff_store import HandoffRequest

logger = logging.getLogger(__name__)

ENV_URL = "HANDOFF_WEBHOOK_URL"
ENV_SECRET = "HANDOFF_WEBHOOK_SECRET"
MIN_SECRET_LENGTH = 16
SIGNATURE_HEADER = "X-Signature"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
# Background deliveries, kept referenced until they finish (asyncio keeps only weak ones).
_PENDING: Set["asyncio.Task[bool]"] = set()


def sign(secret: str, body: bytes) -> str:
    """The X-Signature value for a body: 'sha256=' + hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(sign(secret, body), signature or "")


def encode(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes that are signed and sent (compact, keys sorted)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def request_created(request: HandoffRequest) -> Dict[str, Any]:
    """The payload for a new request (question and transcript are already redacted)."""
    return {
        "event": "handoff.created",
        "reference": request.reference,
        "created_at": request.created_at.isoformat(),
        "status": request.status,
        "question": request.question,
        "transcript": request.transcript,
        "sent_at": datetime.now(timezone.utc).isoformat(),
    }


def contact_added(reference: str, contact: str) -> Dict[str, Any]:
    """The payload when the parent adds a way to reply to a request already sent."""
    return {
        "event": "handoff.contact_added",
        "reference": reference,
        "contact": contact,
        "sent_at": datetime.now(timezone.utc).isoformat(),
    }


def acceptable_url(url: str) -> bool:
    """HTTPS anywhere, plain HTTP only to this machine (a local relay or a test)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS


@dataclass(frozen=True)
class Webhook:
    """Where to POST, and the secret that signs each body."""

    url: str
    secret: str
    timeout: float = 5.0

    async def send(self, payload: Mapping[str, Any]) -> bool:
        """POST one payload; True on a 2xx answer. Never raises: failures are logged."""
        body = encode(payload)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self.secret, body)}
        try:
            async with aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout)
            ) as http:
                async with http.post(
                    self.url, data=body, headers=headers, allow_redirects=False
                ) as reply:
                    if 200 <= reply.status < 300:
                        return True
                    logger.warning(
                        "Handoff webhook answered HTTP %s for %s",
                        reply.status,
                        payload.get("reference"),
                    )
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            logger.warning(
                "Handoff webhook failed for %s: %s", payload.get("reference"), type(error).__name__
            )
        return False

    def schedule(self, payload: Mapping[str, Any]) -> "asyncio.Task[bool]":
        """Deliver in the background (call from a running event loop)."""
        task = asyncio.get_running_loop().create_task(self.send(payload))
        _PENDING.add(task)
        task.add_done_callback(_PENDING.discard)
        return task


async def drain() -> None:
    """Wait for the deliveries still in flight (at shutdown, and in tests)."""
    while _PENDING:
        await asyncio.gather(*list(_PENDING), return_exceptions=True)


def from_environment(env: Optional[Mapping[str, str]] = None) -> Optional[Webhook]:
    """The configured webhook, or None (not set, or set unsafely: then say why in the log)."""
    env = os.environ if env is None else env
    url = (env.get(ENV_URL) or "").strip()
    if not url:
        return None
    secret = env.get(ENV_SECRET) or ""
    if len(secret) < MIN_SECRET_LENGTH:
        logger.error(
            "%s is set but %s is missing or shorter than %d characters: "
            "webhook off (requests are never sent unsigned).",
            ENV_URL,
            ENV_SECRET,
            MIN_SECRET_LENGTH,
        )
        return None
    if not acceptable_url(url):
        logger.error("%s must be https:// (or http:// to this machine): webhook off.", ENV_URL)
        return None
    return Webhook(url, secret)
