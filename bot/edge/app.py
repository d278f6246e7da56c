"""The edge web app (Sanic): the only public process.

It validates what the browser sends, issues unguessable session ids, strips typed
"/commands", forwards to Rasa's REST channel on loopback, and serves the widget and the
demo forum page. When Rasa cannot be reached it answers with an apology and the
adviceline number (from domain.yml and bot/settings.yml), never a stack trace.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Dict, List, Optional

from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request

from bot import settings as settings_module
from bot.settings import Settings
from bot.content.responses import render
from bot.edge import inbox, security
from bot.edge.inputs import clean_text, to_widget_messages
from bot.edge.rasa_client import RasaClient, RasaUnavailable
from bot.edge.ratelimit import RateLimiter
from bot.edge.sessions import Session, SessionRegistry

logger = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"
START_PAYLOAD = "/start"
EXIT_URL_TOKEN = '"__FORUM_ASSISTANT_EXIT_URL__"'


def widget_script(exit_url: str) -> str:
    """widget.js with the configured quick-exit destination filled in (JSON-encoded)."""
    source = (STATIC / "widget.js").read_text(encoding="utf-8")
    return source.replace(EXIT_URL_TOKEN, json.dumps(exit_url))


def create_app(config: Optional[Settings] = None, rasa: Optional[RasaClient] = None,
               name: str = "forum_edge") -> Sanic:
    """Build the app. `config` defaults to bot/settings.yml; `rasa` to the loopback client."""
    config = config or settings_module.load()
    edge = config.edge
    app = Sanic(name)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.REQUEST_MAX_SIZE = 64 * 1024
    app.ctx.config = config
    app.ctx.values = settings_module.placeholders(config)
    app.ctx.rasa = rasa or RasaClient(os.environ.get("RASA_URL", edge.rasa_url),
                                      os.environ.get("ACTIONS_URL", edge.actions_url))
    app.ctx.sessions = SessionRegistry(
        idle_seconds=60 * config.privacy.session_expiry_minutes
    )
    app.ctx.per_session = RateLimiter(edge.rate_limit_per_minute)
    # A client address may carry several people (a shared connection): allow more.
    app.ctx.per_address = RateLimiter(edge.rate_limit_per_minute * 5)
    # Replaced by inbox.register with a store-backed counter (counts only, never text).
    app.ctx.on_crisis = lambda category: None
    # Deletes a conversation's stored events; replaced by security.install.
    app.ctx.delete_conversation = _forget_nothing
    security.install(app, config)
    inbox.register(app, config)

    @app.listener("before_server_start")
    async def _start(app: Sanic, _loop: Any) -> None:
        await app.ctx.rasa.start()

    @app.listener("after_server_stop")
    async def _stop(app: Sanic, _loop: Any) -> None:
        await app.ctx.rasa.close()

    def notice(name: str) -> Dict[str, Any]:
        return render(name, app.ctx.values)

    async def ask_rasa(session: Session, message: str) -> List[Dict[str, Any]]:
        """Forward one message; remember which payloads the answer offers."""
        reply = await app.ctx.rasa.send(session.id, message)
        messages, offered, crises = to_widget_messages(reply)
        if not messages:
            # Rasa answered nothing (e.g. the action server failed): never a silent nothing.
            raise RasaUnavailable("empty reply")
        session.offered_payloads = frozenset(offered)
        for category in crises:
            app.ctx.on_crisis(category)
        return messages

    def unavailable() -> response.HTTPResponse:
        return response.json({"messages": [notice("utter_edge_unavailable")]}, status=503)

    @app.get("/")
    async def index(_request: Request) -> response.HTTPResponse:
        return await response.file(TEMPLATES / "forum.html", mime_type="text/html; charset=utf-8")

    script = widget_script(edge.exit_url)

    @app.get("/widget.js")
    async def widget_js(_request: Request) -> response.HTTPResponse:
        return response.text(script, content_type="text/javascript; charset=utf-8")

    @app.get("/widget.css")
    async def widget_css(_request: Request) -> response.HTTPResponse:
        return await response.file(STATIC / "widget.css", mime_type="text/css; charset=utf-8")

    @app.get("/healthz")
    async def healthz(_request: Request) -> response.HTTPResponse:
        checks = await app.ctx.rasa.healthy()
        return response.json(checks, status=200 if all(checks.values()) else 503)

    @app.post("/api/session")
    async def new_session(_request: Request) -> response.HTTPResponse:
        session = app.ctx.sessions.create()
        try:
            messages = await ask_rasa(session, START_PAYLOAD)
        except RasaUnavailable:
            logger.warning("Rasa unavailable when opening a session")
            return unavailable()
        return response.json({"session": session.id, "messages": messages}, status=201)

    @app.post("/api/message")
    async def message(request: Request) -> response.HTTPResponse:
        body = _json_body(request)
        if body is None:
            return response.json({"error": "The request must be a JSON object."}, status=400)
        text, payload = body.get("text"), body.get("payload")
        if (text is None) == (payload is None):
            return response.json({"error": "Send either text or payload."}, status=400)
        if not isinstance(text if payload is None else payload, str):
            return response.json({"error": "text and payload must be strings."}, status=400)
        session = app.ctx.sessions.get(body.get("session"))
        renewed = session is None
        if session is None:
            session = app.ctx.sessions.create()
        if not (app.ctx.per_address.allow(request.remote_addr or request.ip)
                and app.ctx.per_session.allow(session.id)):
            result = {"messages": [notice("utter_edge_rate_limited")]}
            if renewed:
                result["session"] = session.id
            return response.json(result, status=429)
        if payload is not None and session.allows(payload):
            outgoing = payload
        else:
            raw = text if payload is None else str(body.get("title") or "")
            if len(raw) > edge.max_message_chars:
                return response.json({"messages": [notice("utter_edge_too_long")]}, status=413)
            outgoing = clean_text(raw)
            if not outgoing:
                return response.json({"error": "The message is empty."}, status=400)
        try:
            messages = await ask_rasa(session, outgoing)
        except RasaUnavailable:
            logger.warning("Rasa unavailable for a message")
            return unavailable()
        result: Dict[str, Any] = {"messages": messages}
        if renewed:
            result["session"] = session.id
        return response.json(result)

    @app.delete("/api/session/<session_id>", ignore_body=False)
    async def delete_session(_request: Request, session_id: str) -> response.HTTPResponse:
        app.ctx.sessions.remove(session_id)
        await app.ctx.delete_conversation(session_id)
        return response.empty(status=204)

    @app.exception(SanicException)
    async def sanic_error(_request: Request, error: SanicException) -> response.HTTPResponse:
        status = getattr(error, "status_code", 500) or 500
        return response.json({"error": "That request could not be handled."}, status=status)

    @app.exception(Exception)
    async def any_error(_request: Request, _error: Exception) -> response.HTTPResponse:
        logger.exception("Unhandled error in the edge app")
        return response.json({"messages": [notice("utter_edge_unavailable")]}, status=500)

    return app


async def _forget_nothing(_session_id: str) -> None:
    """Placeholder until security.install wires the tracker store."""


def _json_body(request: Request) -> Optional[Dict[str, Any]]:
    """The body as a JSON object, or None when it is not one."""
    try:
        body = request.json
    except Exception:  # Sanic raises InvalidUsage on malformed JSON
        return None
    return body if isinstance(body, dict) else None


def serve(host: Optional[str] = None, port: Optional[int] = None) -> None:
    """Run the edge app (blocking). Defaults: EDGE_HOST/EDGE_PORT or 127.0.0.1:8000."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    host = host or os.environ.get("EDGE_HOST", "127.0.0.1")
    port = port or int(os.environ.get("EDGE_PORT", "8000"))
    app = create_app()
    # Behind a reverse proxy (TLS), trust this many X-Forwarded-For hops for the client
    # address the rate limiter uses; 0 (the default) trusts none.
    app.config.PROXIES_COUNT = int(os.environ.get("EDGE_PROXIES_COUNT", "0"))
    url = f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}/"

    @app.listener("after_server_start")
    async def _announce(app: Sanic, _loop: Any) -> None:
        app.add_task(_announce_when_ready(app, url))

    print(f"Edge app starting on {url} (Rasa may take a minute to load its model) ...", flush=True)
    app.run(host=host, port=port, access_log=False, motd=False)


async def _announce_when_ready(app: Sanic, url: str) -> None:
    """Print the URL to open once Rasa and the action server both answer."""
    import asyncio

    for _ in range(600):
        if all((await app.ctx.rasa.healthy()).values()):
            print(f"\n  The forum assistant is ready: open {url}\n", flush=True)
            return
        await asyncio.sleep(1)
    print("Rasa or the action server did not come up within 10 minutes.", flush=True)
