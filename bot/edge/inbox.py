"""The adviser inbox at /adviser: questions parents left, newest first, and crisis counts.

Off unless the environment holds ADVISER_SECRET (at least 16 characters; there is no
default). Advisers sign in with that secret (compared in constant time; a wrong one gets
403) and get a server-side session: the cookie `__Host-adviser_session` (Secure, HttpOnly,
SameSite=Strict, Path=/) holds a random token, the handoff store keeps only its SHA-256,
and the session ends after SESSION_IDLE_SECONDS without use, SESSION_MAX_SECONDS in all,
or at sign-out, for every copy of the cookie. Only in local development (EDGE_LOCAL_DEV=1
and a loopback host) is the cookie plain `adviser_session` without Secure, so that
http://127.0.0.1 works. Every POST carries the session's CSRF token; a cookie or token
that is not ASCII gets 400. Each view or change of a request is written to an access log
(session, role, action, time; no text) that advisers can read at /adviser/access.
Requests are listed a page at a time with a total, those still waiting first, oldest
first. Pages are rendered from bot/edge/templates/inbox_*.html with Jinja2 autoescaping
(no inline script or style) and sent with a strict Content-Security-Policy and no caching.

While the inbox is on, the edge app counts the crisis answers it passes on
(`AdviserInbox.count_crisis`): per category and local day in the handoff store, counts
only, never text, shown in the inbox. With the inbox off nothing is counted.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import time
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sanic import Sanic, response
from sanic.request import Request

from bot import report
from bot.content.responses import load_domain_responses
from bot.edge.pages import JINJA, STATIC
from bot.edge.ratelimit import Backoff, RateLimiter, client_key
from bot.faq import faq_keys, faq_title
from bot.storage.handoff_store import (
    LABEL_KINDS,
    MAX_TITLE_CHARS,
    PAGE_SIZE,
    AdviserSession,
    HandoffStore,
    Label,
    NoConsent,
    normalise_reference,
)

logger = logging.getLogger(__name__)

ENV_SECRET = "ADVISER_SECRET"
MIN_SECRET_LENGTH = 16
SESSION_COOKIE = "__Host-adviser_session"
SIGNIN_COOKIE = "__Host-adviser_signin"
# Local development over plain http on a loopback address: no prefix, no Secure.
DEV_SESSION_COOKIE = "adviser_session"
DEV_SIGNIN_COOKIE = "adviser_signin"
DEV_COOKIE_PATH = "/adviser"
ENV_LOCAL_DEV = "EDGE_LOCAL_DEV"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
ROLE = "adviser"
LABEL_NAMES = {
    "faq": "An FAQ should have answered this",
    "topic": "A new topic",
    "not_for_assistant": "Not for the assistant",
}
SESSION_IDLE_SECONDS = 30 * 60
SESSION_MAX_SECONDS = 8 * 60 * 60
SIGNIN_FORM_SECONDS = 30 * 60
SIGNIN_ATTEMPTS_PER_MINUTE = 10  # per client address (IPv6: per /64)
# After this many wrong secrets in a row from one address, each further attempt waits
# twice as long as the last (from 2 seconds up to 15 minutes); a right one clears it.
SIGNIN_FREE_FAILURES = 5
CRISIS_DAYS_SHOWN = 30
EXCERPT_CHARS = 140
ACCESS_SHOWN = 200
STYLESHEET = STATIC / "inbox.css"
WEEKS_SHOWN = 8
MAX_WEEKS_SHOWN = 52
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self'; "
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
        expected = self._mac(text.encode("utf-8", "replace")).encode("ascii")
        if not hmac.compare_digest(expected, mac.encode("utf-8", "replace")):
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


def local_development(env: Optional[Mapping[str, str]] = None) -> bool:
    """EDGE_LOCAL_DEV=1: plain-http cookies, but only for requests to a loopback host."""
    return (os.environ if env is None else env).get(ENV_LOCAL_DEV, "") == "1"


def hostname(host: str) -> str:
    """'127.0.0.1:8000' -> '127.0.0.1', '[::1]:8000' -> '[::1]', lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.split(":", 1)[0]


def is_ascii_token(value: Optional[str]) -> bool:
    """Tokens the inbox issues are ASCII; anything else is a malformed request."""
    return value is None or value.isascii()


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


@functools.lru_cache(maxsize=1)
def faq_choices() -> Tuple[Tuple[str, str], ...]:
    """(key, title) of every FAQ answer in domain.yml, by title: the label's list."""
    responses = load_domain_responses()
    return tuple(
        sorted(((k, faq_title(responses, k)) for k in faq_keys(responses)), key=lambda c: c[1])
    )


_LINE = re.compile(r"^(?:\[(\d\d:\d\d)\] )?(Parent chose|Parent|Assistant): (.*)$")


def conversation(transcript: str) -> List[Dict[str, Any]]:
    """The stored transcript as messages: who, when, the lines (a message may span lines)."""
    messages: List[Dict[str, Any]] = []
    for line in transcript.splitlines():
        match = _LINE.match(line)
        if match:
            time_, speaker, text = match.groups()
            side = {"Parent": "parent", "Parent chose": "parent", "Assistant": "assistant"}
            messages.append(
                {"speaker": speaker, "time": time_ or "", "side": side[speaker], "lines": [text]}
            )
        elif messages:
            messages[-1]["lines"].append(line)
        else:
            messages.append({"speaker": "", "time": "", "side": "other", "lines": [line]})
    return messages


def first_line(question: str) -> str:
    """The question's first line, cut to EXCERPT_CHARS ("..." when there is more)."""
    lines = question.strip().splitlines() or [""]
    line = lines[0]
    if len(line) > EXCERPT_CHARS:
        return line[: EXCERPT_CHARS - 1] + "\u2026"
    return line + ("\u2026" if len(lines) > 1 else "")


def age(moment: datetime, now: Optional[datetime] = None) -> str:
    """'3 days', '5 hours', '12 minutes', 'under a minute'."""
    seconds = ((now or datetime.now(moment.tzinfo)) - moment).total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return "under a minute"


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

    def __init__(
        self,
        secret: str,
        store: Callable[[], HandoffStore],
        zone: ZoneInfo,
        local_dev: bool = False,
    ) -> None:
        self.secret = secret
        self.store = store
        self.zone = zone
        self.local_dev = local_dev

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

    def _count_week(self, metric: str, key: str) -> None:
        try:
            self.store().count_week(metric, key, datetime.now(self.zone).date())
        except Exception:
            logger.exception("A reply could not be counted")

    def count(self, metric: str, key: str) -> None:
        """Count a conversation or a counted reply for this week, off the event loop."""
        try:
            asyncio.get_running_loop().run_in_executor(None, self._count_week, metric, key)
        except RuntimeError:  # no running loop (a plain call): count here
            self._count_week(metric, key)

    def register(self, app: Sanic) -> None:
        """Add the /adviser routes."""
        _routes(app, self.secret, self.store, self.zone, self.local_dev)


def _routes(
    app: Sanic,
    secret: str,
    store: Callable[[], HandoffStore],
    zone: ZoneInfo,
    local_dev: bool,
) -> None:
    signer = Signer(secret)
    attempts = RateLimiter(SIGNIN_ATTEMPTS_PER_MINUTE)
    idle = timedelta(seconds=SESSION_IDLE_SECONDS)
    longest = timedelta(seconds=SESSION_MAX_SECONDS)
    backoff = Backoff(free=SIGNIN_FREE_FAILURES)

    def page(template: str, code: int = 200, **values: Any) -> response.HTTPResponse:
        """Render an inbox template (`code` is the HTTP status; `values` may hold `status`)."""
        body = JINJA.get_template(template).render(**values)
        return response.html(body, status=code, headers=dict(HEADERS))

    def plain_http_allowed(request: Request) -> bool:
        """Local development only: the flag is set and the browser talks to loopback."""
        return local_dev and hostname(request.host or "") in LOOPBACK_HOSTS

    def cookie_name(request: Request, kind: str) -> str:
        dev = plain_http_allowed(request)
        if kind == "session":
            return DEV_SESSION_COOKIE if dev else SESSION_COOKIE
        return DEV_SIGNIN_COOKIE if dev else SIGNIN_COOKIE

    def set_cookie(
        request: Request, reply: response.HTTPResponse, kind: str, value: str, max_age: int
    ) -> None:
        name = cookie_name(request, kind)
        reply.cookies[name] = value
        cookie = reply.cookies[name]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["max-age"] = max_age
        if plain_http_allowed(request):
            cookie["path"] = DEV_COOKIE_PATH
        else:  # __Host-: Secure, Path=/, no Domain, whatever the scheme looks like here
            cookie["path"] = "/"
            cookie["secure"] = True

    def clear_cookie(request: Request, reply: response.HTTPResponse, kind: str) -> None:
        set_cookie(request, reply, kind, "", 0)

    def token_of(request: Request) -> Optional[str]:
        return request.cookies.get(cookie_name(request, "session"))

    async def session_of(request: Request) -> Optional[AdviserSession]:
        token = token_of(request)
        if not token:
            return None
        return await asyncio.to_thread(store().use_session, token, idle, longest)

    def refreshed(
        request: Request, reply: response.HTTPResponse, session: AdviserSession
    ) -> response.HTTPResponse:
        """Renew the cookie's lifetime; the server decides expiry."""
        token = token_of(request)
        if token:
            set_cookie(request, reply, "session", token, SESSION_MAX_SECONDS)
        return reply

    def csrf_ok(request: Request, expected: Optional[str]) -> bool:
        given = request.form.get("csrf") if request.form else None
        if not expected or not isinstance(given, str):
            return False
        return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))

    @app.on_request
    async def _malformed_tokens(request: Request) -> Optional[response.HTTPResponse]:
        """A non-ASCII cookie or CSRF value is a bad request (400), never a server error."""
        if not request.path.startswith("/adviser"):
            return None
        values = [request.cookies.get(name) for name in request.cookies.keys()]
        if request.method == "POST" and request.form:
            values.append(request.form.get("csrf"))
        if all(is_ascii_token(v) for v in values):
            return None
        return page(
            "inbox_error.html",
            code=400,
            title="Bad request",
            message="That request was not valid. Please reload the page and try again.",
        )

    def signin_page(
        request: Request, status: int = 200, error: Optional[str] = None
    ) -> response.HTTPResponse:
        token = secrets.token_urlsafe(32)
        reply = page("inbox_signin.html", code=status, csrf=token, error=error)
        form = {"kind": "signin", "csrf": token, "exp": signer.clock() + SIGNIN_FORM_SECONDS}
        set_cookie(request, reply, "signin", signer.dumps(form), SIGNIN_FORM_SECONDS)
        return reply

    NOTHING_CHANGED = (
        "Your session has ended or the form was not valid, so nothing "
        "was changed. Please reload the page and try again."
    )

    def not_labelled() -> response.HTTPResponse:
        return page(
            "inbox_error.html",
            code=400,
            title="Not labelled",
            message="Please choose an FAQ from the list, or give the new topic a title.",
        )

    def refused(message: str) -> response.HTTPResponse:
        return page("inbox_error.html", code=403, title="Not allowed", message=message)

    def local(moment: Optional[datetime]) -> str:
        return moment.astimezone(zone).strftime("%a %d %b %Y, %H:%M") if moment else ""

    def describe(label: Optional[Label]) -> Optional[Dict[str, str]]:
        if label is None:
            return None
        detail = label.title or ""
        if label.faq:
            detail = dict(faq_choices()).get(label.faq, label.faq)
        return {
            "kind": LABEL_NAMES[label.kind],
            "detail": detail,
            "by": label.labelled_by,
            "at": local(label.labelled_at),
        }

    def whoami(session: AdviserSession) -> Dict[str, Any]:
        return {"role": session.role, "session_label": session.label, "csrf": session.csrf}

    @app.get("/adviser/inbox.css")
    async def inbox_css(_request: Request) -> response.HTTPResponse:
        return await response.file(STYLESHEET, mime_type="text/css; charset=utf-8")

    @app.get("/adviser")
    async def inbox_home(request: Request) -> response.HTTPResponse:
        session = await session_of(request)
        if session is None:
            return signin_page(request)
        shown = request.args.get("status")
        shown = shown if shown in ("new", "handled") else None
        try:
            number = max(1, int(request.args.get("page", "1")))
        except ValueError:
            number = 1
        since = datetime.now(zone).date() - timedelta(days=CRISIS_DAYS_SHOWN - 1)
        total = await asyncio.to_thread(store().count_requests, shown)
        waiting = await asyncio.to_thread(store().count_requests, "new")
        pages = max(1, -(-total // PAGE_SIZE))
        number = min(number, pages)
        offset = (number - 1) * PAGE_SIZE
        requests_ = await asyncio.to_thread(store().list_requests, shown, PAGE_SIZE, offset)
        labels = await asyncio.to_thread(
            store().labels_by_reference, [r.reference for r in requests_]
        )
        counts = await asyncio.to_thread(store().crisis_counts, since)
        rows = [
            {
                "reference": r.reference,
                "created": local(r.created_at),
                "age": age(r.created_at),
                "status": r.status,
                "labelled": r.reference in labels,
                "has_contact": bool(r.contact),
                "excerpt": first_line(r.question),
            }
            for r in requests_
        ]

        def link(to: int) -> str:
            query = {"page": str(to)}
            if shown:
                query["status"] = shown
            return "/adviser?" + urlencode(query)

        return refreshed(
            request,
            page(
                "inbox_list.html",
                section="requests",
                requests=rows,
                shown=shown,
                total=total,
                waiting=waiting,
                first=offset + 1,
                last=offset + len(rows),
                page_number=number,
                pages=pages,
                previous=link(number - 1) if number > 1 else None,
                next=link(number + 1) if number < pages else None,
                crisis=[
                    {
                        "day": c.day.strftime("%a %d %b %Y"),
                        "category": c.category.replace("_", " "),
                        "count": c.count,
                    }
                    for c in counts
                ],
                crisis_days=CRISIS_DAYS_SHOWN,
                **whoami(session),
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
        form = signer.loads(request.cookies.get(cookie_name(request, "signin")), "signin")
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
        await asyncio.to_thread(store().close_expired_sessions, idle, longest)
        token, _session = await asyncio.to_thread(store().open_session, ROLE)
        reply = response.redirect("/adviser", status=303, headers=dict(HEADERS))
        set_cookie(request, reply, "session", token, SESSION_MAX_SECONDS)
        clear_cookie(request, reply, "signin")
        return reply

    @app.post("/adviser/sign-out")
    async def inbox_sign_out(request: Request) -> response.HTTPResponse:
        session = await session_of(request)
        token = token_of(request)
        if session is None or token is None or not csrf_ok(request, session.csrf):
            return refused(
                "Your session has ended or the form was not valid. Please sign in again."
            )
        await asyncio.to_thread(store().close_session, token)
        reply = response.redirect("/adviser", status=303, headers=dict(HEADERS))
        clear_cookie(request, reply, "session")
        return reply

    @app.get("/adviser/numbers")
    async def inbox_numbers(request: Request) -> response.HTTPResponse:
        session = await session_of(request)
        if session is None:
            return response.redirect("/adviser", status=303, headers=dict(HEADERS))
        try:
            count = min(MAX_WEEKS_SHOWN, max(1, int(request.args.get("weeks", WEEKS_SHOWN))))
        except ValueError:
            count = WEEKS_SHOWN
        table = await asyncio.to_thread(report.weeks, store(), count, datetime.now(zone).date())
        titles = dict(faq_choices())
        return refreshed(
            request,
            page(
                "inbox_numbers.html",
                section="numbers",
                weeks=[
                    {
                        "start": w.start.strftime("%a %d %b %Y"),
                        "conversations": w.conversations,
                        "answered": w.answered,
                        "top": [(titles.get(k, k), n) for k, n in w.top_faqs],
                        "clarifications": w.clarifications,
                        "handed_off": w.handed_off,
                        "handoffs": sorted((r.replace("_", " "), n) for r, n in w.handoffs.items()),
                        "left": w.left,
                        "crisis": sorted((c.replace("_", " "), n) for c, n in w.crisis.items()),
                        "share": w.share_answered,
                    }
                    for w in reversed(table)
                ],
                chart=report.chart(table),
                count=count,
                **whoami(session),
            ),
            session,
        )

    @app.get("/adviser/access")
    async def inbox_access(request: Request) -> response.HTTPResponse:
        session = await session_of(request)
        if session is None:
            return response.redirect("/adviser", status=303, headers=dict(HEADERS))
        entries = await asyncio.to_thread(store().access_log, None, ACCESS_SHOWN)
        return refreshed(
            request,
            page(
                "inbox_access.html",
                section="access",
                entries=[
                    {
                        "at": local(e.at),
                        "reference": e.reference,
                        "session": e.session,
                        "role": e.role,
                        "action": e.action,
                    }
                    for e in entries
                ],
                shown_at_most=ACCESS_SHOWN,
                **whoami(session),
            ),
            session,
        )

    @app.get("/adviser/requests/<reference:str>")
    async def inbox_request(request: Request, reference: str) -> response.HTTPResponse:
        session = await session_of(request)
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
        await asyncio.to_thread(store().log_access, found.reference, session, "viewed")
        viewed = await asyncio.to_thread(store().access_log, found.reference, ACCESS_SHOWN)
        label = await asyncio.to_thread(store().label, found.reference)
        return refreshed(
            request,
            page(
                "inbox_request.html",
                section="requests",
                reference=found.reference,
                created=local(found.created_at),
                age=age(found.created_at),
                conversation=conversation(found.transcript),
                status=found.status,
                handled=local(found.handled_at),
                question=found.question,
                transcript=found.transcript,
                contact=found.contact,
                learn_consent=found.learn_consent,
                label=describe(label),
                faqs=faq_choices(),
                title_chars=MAX_TITLE_CHARS,
                access=[
                    {"at": local(e.at), "session": e.session, "role": e.role, "action": e.action}
                    for e in viewed
                ],
                **whoami(session),
            ),
            session,
        )

    @app.post("/adviser/requests/<reference:str>/label")
    async def inbox_label(request: Request, reference: str) -> response.HTTPResponse:
        session = await session_of(request)
        if session is None or not csrf_ok(request, session.csrf):
            return refused(NOTHING_CHANGED)
        reference = normalise_reference(reference)
        kind = request.form.get("kind") or ""
        faq = request.form.get("faq") if kind == "faq" else None
        title = request.form.get("title") if kind == "topic" else None
        if kind not in LABEL_KINDS or (kind == "faq" and faq not in dict(faq_choices())):
            return not_labelled()
        try:
            await asyncio.to_thread(store().set_label, reference, kind, session.role, faq, title)
        except KeyError:
            return page(
                "inbox_error.html",
                code=404,
                title="Not found",
                message="There is no request with that reference.",
            )
        except NoConsent:
            return refused(
                "The parent did not agree to this question being used to improve the "
                "assistant, so it cannot be labelled."
            )
        except ValueError:
            return not_labelled()
        await asyncio.to_thread(store().log_access, reference, session, "labelled")
        return response.redirect(
            f"/adviser/requests/{reference}", status=303, headers=dict(HEADERS)
        )

    @app.post("/adviser/requests/<reference:str>/handled")
    async def inbox_mark_handled(request: Request, reference: str) -> response.HTTPResponse:
        session = await session_of(request)
        if session is None or not csrf_ok(request, session.csrf):
            return refused(NOTHING_CHANGED)
        reference = normalise_reference(reference)
        if await asyncio.to_thread(store().get, reference) is None:
            return page(
                "inbox_error.html",
                code=404,
                title="Not found",
                message="There is no request with that reference.",
            )
        if await asyncio.to_thread(store().mark_handled, reference):
            await asyncio.to_thread(store().log_access, reference, session, "handled")
        return response.redirect(
            f"/adviser/requests/{reference}", status=303, headers=dict(HEADERS)
        )

    logger.info(
        "Adviser inbox on at /adviser (signed-in sessions expire after %d minutes idle)",
        SESSION_IDLE_SECONDS // 60,
    )
