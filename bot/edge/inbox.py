"""The adviser inbox at /adviser: questions parents left, newest first, and crisis counts.

Off unless the environment holds ADVISER_SECRET (at least 16 characters; there is no
default). Advisers sign in with that secret (compared in constant time; a wrong one gets
403) and get a signed session cookie (HttpOnly, SameSite=Strict, Path=/adviser, Secure
behind https) that expires after SESSION_IDLE_SECONDS without use and SESSION_MAX_SECONDS
in all. Every POST carries a CSRF token tied to the signed cookie. Pages are rendered from
bot/edge/templates/inbox_*.html with Jinja2 autoescaping (no inline script or style) and
sent with a strict Content-Security-Policy and no caching.

While the inbox is on, the edge app counts the crisis answers it passes on
(`AdviserInbox.count_crisis`): per category and local day in the handoff store, counts
only, never text, shown in the inbox. With the inbox off nothing is counted.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, Mapping, Optional
from zoneinfo import ZoneInfo

from sanic import Sanic, response
from sanic.request import Request

from bot.edge.pages import JINJA
from bot.edge.ratelimit import Backoff, RateLimiter, client_key
from bot.storage.handoff_store import HandoffStore, normalise_reference

logger = logging.getLogger(__name__)

ENV_SECRET = "ADVISER_SECRET"
MIN_SECRET_LENGTH = 16
SESSION_COOKIE = "adviser_session"
SIGNIN_COOKIE = "adviser_signin"
COOKIE_PATH = "/adviser"
SESSION_IDLE_SECONDS = 30 * 60
SESSION_MAX_SECONDS = 8 * 60 * 60
SIGNIN_FORM_SECONDS = 30 * 60
SIGNIN_ATTEMPTS_PER_MINUTE = 10  # per client address (IPv6: per /64)
# After this many wrong secrets in a row from one address, each further attempt waits
# twice as long as the last (from 2 seconds up to 15 minutes); a right one clears it.
SIGNIN_FREE_FAILURES = 5
CRISIS_DAYS_SHOWN = 30
EXCERPT_CHARS = 140
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


class Signer:
    """Signs small JSON payloads for cookies (HMAC-SHA256 with a key derived from the
    secret, so changing ADVISER_SECRET signs every adviser out)."""

    def __init__(self, secret: str, clock: Callable[[], float] = time.time) -> None:
        self._key = hmac.new(
            secret.encode("utf-8"), b"forum-assistant adviser cookies v1", hashlib.sha256
        ).digest()
        self.clock = clock

    def _mac(self, body: bytes) -> str:
        digest = hmac.new(self._key, body, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def dumps(self, payload: Dict[str, Any]) -> str:
        body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode())
        text = body.decode("ascii").rstrip("=")
        return f"{text}.{self._mac(text.encode('ascii'))}"

    def loads(self, token: Optional[str], kind: str) -> Optional[Dict[str, Any]]:
        """The payload when the signature is right, the kind matches and it has not expired."""
        if not token or token.count(".") != 1:
            return None
        text, mac = token.split(".")
        if not hmac.compare_digest(self._mac(text.encode("ascii", "replace")), mac):
            return None
        try:
            payload = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except ValueError:
            return None
        if not isinstance(payload, dict) or payload.get("kind") != kind:
            return None
        if not isinstance(payload.get("exp"), (int, float)) or payload["exp"] <= self.clock():
            return None
        return payload


def secret_matches(given: str, secret: str) -> bool:
    """Constant-time comparison (of digests, so the length leaks nothing either)."""
    return hmac.compare_digest(
        hashlib.sha256(given.encode("utf-8")).digest(),
        hashlib.sha256(secret.encode("utf-8")).digest(),
    )


def configured_secret(env: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """ADVISER_SECRET when it is long enough; None turns the inbox off."""
    secret = (os.environ if env is None else env).get(ENV_SECRET) or ""
    if not secret:
        return None
    if len(secret) < MIN_SECRET_LENGTH:
        logger.error(
            "%s is shorter than %d characters: the adviser inbox stays off.",
            ENV_SECRET,
            MIN_SECRET_LENGTH,
        )
        return None
    return secret


class LazyStore:
    """The handoff store, opened on first use (the edge may never need it)."""

    def __init__(self, factory: Callable[[], HandoffStore]) -> None:
        self._factory = factory
        self._store: Optional[HandoffStore] = None

    def __call__(self) -> HandoffStore:
        if self._store is None:
            self._store = self._factory()
        return self._store


class AdviserInbox:
    """The inbox's routes and its crisis counter, for one secret, store and time zone."""

    def __init__(self, secret: str, store: Callable[[], HandoffStore], zone: ZoneInfo) -> None:
        self.secret = secret
        self.store = store
        self.zone = zone

    def _count(self, category: str) -> None:
        try:
            self.store().count_crisis(category, datetime.now(self.zone).date())
        except Exception:
            logger.exception("A crisis answer could not be counted")

    def count_crisis(self, category: str) -> None:
        """Count one crisis answer by category and local day, off the event loop.

        A failure is logged and never reaches the parent's answer.
        """
        try:
            asyncio.get_running_loop().run_in_executor(None, self._count, category)
        except RuntimeError:  # no running loop (a plain call): count here
            self._count(category)

    def register(self, app: Sanic) -> None:
        """Add the /adviser routes."""
        _routes(app, self.secret, self.store, self.zone)


def _routes(app: Sanic, secret: str, store: Callable[[], HandoffStore], zone: ZoneInfo) -> None:
    signer = Signer(secret)
    attempts = RateLimiter(SIGNIN_ATTEMPTS_PER_MINUTE)
    backoff = Backoff(free=SIGNIN_FREE_FAILURES)

    def page(template: str, code: int = 200, **values: Any) -> response.HTTPResponse:
        """Render an inbox template (`code` is the HTTP status; `values` may hold `status`)."""
        body = JINJA.get_template(template).render(**values)
        return response.html(body, status=code, headers=dict(HEADERS))

    def secure(request: Request) -> bool:
        forwarded = request.headers.get("x-forwarded-proto", "")
        return request.scheme == "https" or forwarded.split(",")[0].strip() == "https"

    def set_cookie(
        request: Request, reply: response.HTTPResponse, name: str, value: str, max_age: int
    ) -> None:
        reply.cookies[name] = value
        cookie = reply.cookies[name]
        cookie["path"] = COOKIE_PATH
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["max-age"] = max_age
        if secure(request):
            cookie["secure"] = True

    def clear_cookie(reply: response.HTTPResponse, name: str) -> None:
        reply.cookies[name] = ""
        reply.cookies[name]["path"] = COOKIE_PATH
        reply.cookies[name]["max-age"] = 0

    def session_of(request: Request) -> Optional[Dict[str, Any]]:
        payload = signer.loads(request.cookies.get(SESSION_COOKIE), "session")
        if payload is None or payload.get("iat", 0) + SESSION_MAX_SECONDS <= signer.clock():
            return None
        return payload

    def refreshed(
        request: Request, reply: response.HTTPResponse, session: Dict[str, Any]
    ) -> response.HTTPResponse:
        """Slide the idle expiry on each use, within the absolute limit."""
        now = signer.clock()
        exp = min(now + SESSION_IDLE_SECONDS, session["iat"] + SESSION_MAX_SECONDS)
        set_cookie(
            request, reply, SESSION_COOKIE, signer.dumps({**session, "exp": exp}), int(exp - now)
        )
        return reply

    def csrf_ok(request: Request, expected: Optional[str]) -> bool:
        given = request.form.get("csrf") if request.form else None
        if not expected or not isinstance(given, str):
            return False
        return hmac.compare_digest(given, expected)

    def signin_page(
        request: Request, status: int = 200, error: Optional[str] = None
    ) -> response.HTTPResponse:
        token = secrets.token_urlsafe(32)
        reply = page("inbox_signin.html", code=status, csrf=token, error=error)
        form = {"kind": "signin", "csrf": token, "exp": signer.clock() + SIGNIN_FORM_SECONDS}
        set_cookie(request, reply, SIGNIN_COOKIE, signer.dumps(form), SIGNIN_FORM_SECONDS)
        return reply

    def refused(message: str) -> response.HTTPResponse:
        return page("inbox_error.html", code=403, title="Not allowed", message=message)

    def local(moment: Optional[datetime]) -> str:
        return moment.astimezone(zone).strftime("%a %d %b %Y, %H:%M") if moment else ""

    @app.get("/adviser")
    async def inbox_home(request: Request) -> response.HTTPResponse:
        session = session_of(request)
        if session is None:
            return signin_page(request)
        shown = request.args.get("status")
        shown = shown if shown in ("new", "handled") else None
        since = datetime.now(zone).date() - timedelta(days=CRISIS_DAYS_SHOWN - 1)
        requests_ = await asyncio.to_thread(store().list_requests, shown)
        counts = await asyncio.to_thread(store().crisis_counts, since)
        rows = [
            {
                "reference": r.reference,
                "created": local(r.created_at),
                "status": r.status,
                "has_contact": bool(r.contact),
                "excerpt": r.question
                if len(r.question) <= EXCERPT_CHARS
                else r.question[: EXCERPT_CHARS - 1] + "\u2026",
            }
            for r in requests_
        ]
        return refreshed(
            request,
            page(
                "inbox_list.html",
                requests=rows,
                shown=shown,
                csrf=session["csrf"],
                crisis=[
                    {
                        "day": c.day.strftime("%a %d %b %Y"),
                        "category": c.category.replace("_", " "),
                        "count": c.count,
                    }
                    for c in counts
                ],
                crisis_days=CRISIS_DAYS_SHOWN,
            ),
            session,
        )

    @app.post("/adviser/sign-in")
    async def inbox_sign_in(request: Request) -> response.HTTPResponse:
        client = client_key(request.remote_addr or request.ip)
        wait = backoff.wait(client)
        if wait > 0 or not attempts.allow(client):
            refused_page = page(
                "inbox_error.html",
                code=429,
                title="Too many attempts",
                message="Too many sign-in attempts. Please wait a few minutes and try again.",
            )
            refused_page.headers["Retry-After"] = str(max(1, int(wait + 0.999)) if wait else 60)
            return refused_page
        form = signer.loads(request.cookies.get(SIGNIN_COOKIE), "signin")
        if form is None or not csrf_ok(request, form.get("csrf")):
            return signin_page(
                request, status=403, error="The sign-in form had expired. Please try again."
            )
        given = request.form.get("secret") or ""
        if not secret_matches(given, secret):
            backoff.failed(client)
            logger.warning("Adviser inbox: a wrong secret was entered")
            return signin_page(request, status=403, error="That secret is not right.")
        backoff.succeeded(client)
        now = signer.clock()
        session = {
            "kind": "session",
            "csrf": secrets.token_urlsafe(32),
            "iat": now,
            "exp": now + SESSION_IDLE_SECONDS,
        }
        reply = response.redirect("/adviser", status=303, headers=dict(HEADERS))
        set_cookie(request, reply, SESSION_COOKIE, signer.dumps(session), SESSION_IDLE_SECONDS)
        clear_cookie(reply, SIGNIN_COOKIE)
        return reply

    @app.post("/adviser/sign-out")
    async def inbox_sign_out(request: Request) -> response.HTTPResponse:
        session = session_of(request)
        if session is None or not csrf_ok(request, session.get("csrf")):
            return refused(
                "Your session has ended or the form was not valid. Please sign in again."
            )
        reply = response.redirect("/adviser", status=303, headers=dict(HEADERS))
        clear_cookie(reply, SESSION_COOKIE)
        return reply

    @app.get("/adviser/requests/<reference:str>")
    async def inbox_request(request: Request, reference: str) -> response.HTTPResponse:
        session = session_of(request)
        if session is None:
            return response.redirect("/adviser", status=303, headers=dict(HEADERS))
        found = await asyncio.to_thread(store().get, normalise_reference(reference))
        if found is None:
            return refreshed(
                request,
                page(
                    "inbox_error.html",
                    code=404,
                    title="Not found",
                    message="There is no request with that reference.",
                ),
                session,
            )
        return refreshed(
            request,
            page(
                "inbox_request.html",
                csrf=session["csrf"],
                reference=found.reference,
                created=local(found.created_at),
                status=found.status,
                handled=local(found.handled_at),
                question=found.question,
                transcript=found.transcript,
                contact=found.contact,
            ),
            session,
        )

    @app.post("/adviser/requests/<reference:str>/handled")
    async def inbox_mark_handled(request: Request, reference: str) -> response.HTTPResponse:
        session = session_of(request)
        if session is None or not csrf_ok(request, session.get("csrf")):
            return refused(
                "Your session has ended or the form was not valid, so nothing "
                "was changed. Please reload the page and try again."
            )
        reference = normalise_reference(reference)
        if await asyncio.to_thread(store().get, reference) is None:
            return page(
                "inbox_error.html",
                code=404,
                title="Not found",
                message="There is no request with that reference.",
            )
        await asyncio.to_thread(store().mark_handled, reference)
        return response.redirect(
            f"/adviser/requests/{reference}", status=303, headers=dict(HEADERS)
        )

    logger.info(
        "Adviser inbox on at /adviser (signed-in sessions expire after %d minutes idle)",
        SESSION_IDLE_SECONDS // 60,
    )
