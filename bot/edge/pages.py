"""What a browser loads from the edge: the demo forum page, the widget's script and styles,
and the health check. The HTML templates (bot/edge/templates) share one page head
(page.html) and are rendered with Jinja2 autoescaping; the adviser inbox uses them too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, FileSystemLoader
from sanic import Sanic, response
from sanic.request import Request

if TYPE_CHECKING:
    from bot.edge.app import Edge

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"
JINJA = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True)
# widget.js holds these literals where the configured quick-exit destination and the
# message cap (edge.max_message_chars) go.
EXIT_URL_TOKEN = '"__FORUM_ASSISTANT_EXIT_URL__"'
MAX_CHARS_TOKEN = '"__FORUM_ASSISTANT_MAX_CHARS__"'


def widget_script(exit_url: str, max_chars: int) -> str:
    """widget.js with the configured quick-exit destination and message cap filled in."""
    source = (STATIC / "widget.js").read_text(encoding="utf-8")
    source = source.replace(MAX_CHARS_TOKEN, json.dumps(int(max_chars)))
    return source.replace(EXIT_URL_TOKEN, json.dumps(exit_url))


def forum_page() -> str:
    """The demo forum topic with the widget embedded, as a forum would show it."""
    return JINJA.get_template("forum.html").render()


def register(app: Sanic, edge: "Edge") -> None:
    """Add the page, widget and health routes (the page and script are rendered once here)."""
    page = forum_page()
    script = widget_script(edge.settings.edge.exit_url, edge.settings.edge.max_message_chars)

    @app.get("/")
    async def index(_request: Request) -> response.HTTPResponse:
        return response.html(page)

    @app.get("/widget.js")
    async def widget_js(_request: Request) -> response.HTTPResponse:
        return response.text(script, content_type="text/javascript; charset=utf-8")

    @app.get("/widget.css")
    async def widget_css(_request: Request) -> response.HTTPResponse:
        return await response.file(STATIC / "widget.css", mime_type="text/css; charset=utf-8")

    @app.get("/healthz")
    async def healthz(_request: Request) -> response.HTTPResponse:
        checks = await edge.rasa.healthy()
        return response.json(checks, status=200 if all(checks.values()) else 503)
