"""The edge web app (Sanic): the only public process.

`create_app` builds every collaborator the handlers use, once, and passes them in (the
`Edge` below): the client for Rasa, the session registry, the rate limiters, the deletion
of a stored conversation, and, only when ADVISER_SECRET turns the inbox on, the adviser
inbox and its crisis counter. Nothing is replaced after start-up. Routes live by job:
bot/edge/api.py (the widget's API), bot/edge/pages.py (demo page, widget files, health),
bot/edge/inbox.py (advisers), bot/edge/security.py (headers and CORS on every response).
While the app runs, the retention purge (bot/storage/retention.py) runs every
PURGE_EVERY_HOURS hours.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional

from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request

from bot import logging_policy
from bot import settings as settings_module
from bot.content.responses import render
from bot.edge import api, inbox, pages, security
from bot.edge.rasa_client import RasaClient
from bot.edge.ratelimit import RateLimiter
from bot.edge.sessions import SessionRegistry
from bot.settings import Settings
from bot.storage import retention
from bot.storage.conversations import ConversationDeleter
from bot.storage.handoff_store import HandoffStore, default_store

logger = logging.getLogger(__name__)
# A client address may carry several people (a shared connection): it gets this many
# times the per-session limit.
ADDRESS_LIMIT_FACTOR = 5


@dataclass(frozen=True)
class Edge:
    """The collaborators the edge's handlers share, built once by `create_app`."""

    settings: Settings
    rasa: RasaClient
    sessions: SessionRegistry
    per_session: RateLimiter
    per_address: RateLimiter
    # Deletes a conversation's stored events; returns how many.
    forget_conversation: Callable[[str], int]
    # Counts a crisis answer by category (the adviser inbox's counter); None: inbox off.
    on_crisis: Optional[Callable[[str], None]] = None
    # Counts a conversation or a counted reply per week (the inbox's numbers); None: off.
    on_count: Optional[Callable[[str, str], None]] = None
    values: Dict[str, str] = field(default_factory=dict)  # the rendered {placeholders}

    def notice(self, name: str) -> Dict[str, Any]:
        """A line the edge sends itself (domain.yml's utter_edge_*), placeholders filled."""
        return render(name, self.values)


def create_app(
    settings: Optional[Settings] = None,
    rasa: Optional[RasaClient] = None,
    name: str = "forum_edge",
    *,
    handoff_store: Callable[[], HandoffStore] = default_store,
    forget_conversation: Optional[Callable[[str], int]] = None,
    env: Optional[Mapping[str, str]] = None,
) -> Sanic:
    """Build the app and its collaborators.

    Defaults: `settings` from bot/settings.yml, `rasa` the loopback client (RASA_URL,
    ACTIONS_URL or the settings), `handoff_store` HANDOFF_DB_URL's store, conversations
    deleted from the tracker store of the endpoints file, `env` the process environment
    (ADVISER_SECRET, EDGE_LOCAL_DEV, FORUM_ORIGINS).
    """
    settings = settings or settings_module.load()
    env = os.environ if env is None else env
    # The edge logs no message text itself; this redacts whatever a library might log.
    logging_policy.install()
    limit = settings.edge.rate_limit_per_minute
    secret = inbox.configured_secret(env)
    adviser_inbox = (
        inbox.AdviserInbox(
            secret,
            inbox.LazyStore(handoff_store),
            settings.organisation.zone,
            local_dev=inbox.local_development(env),
        )
        if secret
        else None
    )
    edge = Edge(
        settings=settings,
        rasa=rasa
        or RasaClient(
            env.get("RASA_URL", settings.edge.rasa_url),
            env.get("ACTIONS_URL", settings.edge.actions_url),
        ),
        sessions=SessionRegistry(idle_seconds=60 * settings.privacy.session_expiry_minutes),
        per_session=RateLimiter(limit),
        per_address=RateLimiter(limit * ADDRESS_LIMIT_FACTOR),
        forget_conversation=forget_conversation or ConversationDeleter(),
        on_crisis=adviser_inbox.count_crisis if adviser_inbox else None,
        on_count=adviser_inbox.count if adviser_inbox else None,
        values=settings_module.placeholders(settings),
    )

    app = Sanic(name)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.REQUEST_MAX_SIZE = 64 * 1024
    app.ctx.edge = edge
    security.install(app, security.allowed_origins(settings.edge.allowed_origins, env))
    pages.register(app, edge)
    api.register(app, edge)
    if adviser_inbox is not None:
        adviser_inbox.register(app)
    _lifecycle(app, edge)

    @app.exception(SanicException)
    async def sanic_error(_request: Request, error: SanicException) -> response.HTTPResponse:
        status = getattr(error, "status_code", 500) or 500
        return response.json({"error": "That request could not be handled."}, status=status)

    @app.exception(Exception)
    async def any_error(_request: Request, _error: Exception) -> response.HTTPResponse:
        logger.exception("Unhandled error in the edge app")
        return response.json({"messages": [edge.notice("utter_edge_unavailable")]}, status=500)

    return app


def _lifecycle(app: Sanic, edge: Edge) -> None:
    """Open and close the client for Rasa; run the retention purge while the app runs."""

    @app.before_server_start
    async def _start(app: Sanic, _loop: Any) -> None:
        await edge.rasa.start()

    @app.after_server_start
    async def _start_retention(app: Sanic, _loop: Any) -> None:
        hours = retention.every_hours()
        if hours > 0:
            app.ctx.retention_task = asyncio.ensure_future(
                retention.purge_periodically(hours * 3600)
            )

    @app.before_server_stop
    async def _stop_retention(app: Sanic, _loop: Any) -> None:
        task = getattr(app.ctx, "retention_task", None)
        if task is not None:
            task.cancel()

    @app.after_server_stop
    async def _stop(app: Sanic, _loop: Any) -> None:
        await edge.rasa.close()


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

    @app.after_server_start
    async def _announce(app: Sanic, _loop: Any) -> None:
        app.add_task(_announce_when_ready(app.ctx.edge, url))

    print(f"Edge app starting on {url} (Rasa may take a minute to load its model) ...", flush=True)
    app.run(host=host, port=port, access_log=False, motd=False)


async def _announce_when_ready(edge: Edge, url: str) -> None:
    """Print the URL to open once Rasa and the action server both answer."""
    for _ in range(600):
        if all((await edge.rasa.healthy()).values()):
            print(f"\n  The forum assistant is ready: open {url}\n", flush=True)
            return
        await asyncio.sleep(1)
    print("Rasa or the action server did not come up within 10 minutes.", flush=True)
