"""The widget's API: open a session, send a message, clear the conversation.

Each message is checked (a JSON object with either `text` or `payload`, a string, not
too long), rate-limited per session and per client address, and stripped of a typed
"/command"; only a payload the session's latest answer offered may reach Rasa as a
command. The replies go back as {"messages": [{"text", "buttons"}]}. When Rasa cannot be
reached, or answers nothing, the parent gets an apology with the adviceline number
(utter_edge_unavailable), never a stack trace or a silent nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from sanic import Sanic, response
from sanic.request import Request

from bot.edge.inputs import clean_text, counted, to_widget_messages
from bot.edge.rasa_client import RasaUnavailable
from bot.edge.sessions import Session

if TYPE_CHECKING:
    from bot.edge.app import Edge

logger = logging.getLogger(__name__)
START_PAYLOAD = "/start"


def json_body(request: Request) -> Optional[Dict[str, Any]]:
    """The body as a JSON object, or None when it is not one."""
    try:
        body = request.json
    except Exception:  # Sanic raises InvalidUsage on malformed JSON
        return None
    return body if isinstance(body, dict) else None


def register(app: Sanic, edge: "Edge") -> None:
    """Add the /api routes, answering through `edge`'s collaborators."""

    async def ask_rasa(session: Session, message: str) -> List[Dict[str, Any]]:
        """Forward one message; remember which payloads the answer offers."""
        reply = await edge.rasa.send(session.id, message)
        messages, offered, crises = to_widget_messages(reply)
        if not messages:
            # Rasa answered nothing (e.g. the action server failed): never a silent nothing.
            raise RasaUnavailable("empty reply")
        session.offered_payloads = frozenset(offered)
        if edge.on_crisis is not None:
            for category in crises:
                edge.on_crisis(category)
        if edge.on_count is not None:
            for metric, key in counted(reply):
                edge.on_count(metric, key)
        return messages

    def unavailable() -> response.HTTPResponse:
        return response.json({"messages": [edge.notice("utter_edge_unavailable")]}, status=503)

    @app.post("/api/session")
    async def new_session(_request: Request) -> response.HTTPResponse:
        session = edge.sessions.create()
        try:
            messages = await ask_rasa(session, START_PAYLOAD)
        except RasaUnavailable:
            logger.warning("Rasa unavailable when opening a session")
            return unavailable()
        if edge.on_count is not None:
            edge.on_count("conversations", "")
        return response.json({"session": session.id, "messages": messages}, status=201)

    @app.post("/api/message")
    async def message(request: Request) -> response.HTTPResponse:
        body = json_body(request)
        if body is None:
            return response.json({"error": "The request must be a JSON object."}, status=400)
        text, payload = body.get("text"), body.get("payload")
        if (text is None) == (payload is None):
            return response.json({"error": "Send either text or payload."}, status=400)
        if not isinstance(text if payload is None else payload, str):
            return response.json({"error": "text and payload must be strings."}, status=400)
        session = edge.sessions.get(body.get("session"))
        renewed = session is None
        if session is None:
            session = edge.sessions.create()
        if not (
            edge.per_address.allow(request.remote_addr or request.ip)
            and edge.per_session.allow(session.id)
        ):
            limited: Dict[str, Any] = {"messages": [edge.notice("utter_edge_rate_limited")]}
            if renewed:
                limited["session"] = session.id
            return response.json(limited, status=429)
        if payload is not None and session.allows(payload):
            outgoing = payload
        else:
            raw = str(text) if payload is None else str(body.get("title") or "")
            if len(raw) > edge.settings.edge.max_message_chars:
                return response.json({"messages": [edge.notice("utter_edge_too_long")]}, status=413)
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
        edge.sessions.remove(session_id)
        deleted = await asyncio.get_running_loop().run_in_executor(
            None, edge.forget_conversation, session_id
        )
        logger.info("Conversation cleared: %d stored event(s) deleted.", deleted)
        return response.empty(status=204)
