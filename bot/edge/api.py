"""The widget's API: open a session, send a message, clear the conversation.

Each message is checked (a JSON object with either `text` or `payload`, a string, not
too long), rate-limited per session and per client address before anything is created
(opening a session is limited per address too), and stripped of a typed
"/command"; only a payload the session's latest answer offered may reach Rasa as a
command. The replies go back as {"messages": [{"text", "buttons"}]}. When Rasa cannot be
reached, or answers nothing, the parent gets an apology with the adviceline number
(utter_edge_unavailable), never a stack trace or a silent nothing.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from sanic import Sanic, response
from sanic.request import Request

from bot.edge.inputs import clean_text, counted, to_widget_messages
from bot.edge.rasa_client import RasaUnavailable
from bot.edge.sessions import ALWAYS_ALLOWED_PAYLOADS, Session

if TYPE_CHECKING:
    from bot.edge.app import Edge

logger = logging.getLogger(__name__)
START_PAYLOAD = "/start"
# What a session id may look like (the server makes them URL-safe, 32 characters).
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


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

    def limited() -> response.HTTPResponse:
        return response.json({"messages": [edge.notice("utter_edge_rate_limited")]}, status=429)

    def full() -> response.HTTPResponse:
        # Every session is active: refuse the new one rather than evict a parent's.
        logger.warning("Session registry full: a new session was refused")
        return unavailable()

    @app.post("/api/session")
    async def new_session(request: Request) -> response.HTTPResponse:
        client = edge.client(request)
        if not (edge.per_address.allow(client) and edge.new_sessions.allow(client)):
            return limited()
        session = edge.sessions.create()
        if session is None:
            return full()
        try:
            messages = await ask_rasa(session, START_PAYLOAD)
        except RasaUnavailable:
            logger.warning("Rasa unavailable when opening a session")
            edge.sessions.remove(session.id)  # the parent never gets its id
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
        # The limits first: a refused request creates nothing (no session, no Rasa turn).
        client = edge.client(request)
        session = edge.sessions.get(body.get("session"))
        if not edge.per_address.allow(client):
            return limited()
        if session is not None and not edge.per_session.allow(session.id):
            return limited()
        if session is None and not edge.new_sessions.allow(client):
            return limited()
        allowed = session.allows if session is not None else ALWAYS_ALLOWED_PAYLOADS.__contains__
        if payload is not None and allowed(payload):
            outgoing = payload
        else:
            raw = str(text) if payload is None else str(body.get("title") or "")
            if len(raw) > edge.settings.edge.max_message_chars:
                return response.json({"messages": [edge.notice("utter_edge_too_long")]}, status=413)
            outgoing = clean_text(raw)
            if not outgoing:
                return response.json({"error": "The message is empty."}, status=400)
        renewed = session is None
        if session is None:
            session = edge.sessions.create()
            if session is None:
                return full()
            edge.per_session.allow(session.id)  # this message counts for the new session
        try:
            messages = await ask_rasa(session, outgoing)
        except RasaUnavailable:
            logger.warning("Rasa unavailable for a message")
            if renewed:
                edge.sessions.remove(session.id)  # the parent never gets its id
            return unavailable()
        result: Dict[str, Any] = {"messages": messages}
        if renewed:
            result["session"] = session.id
        return response.json(result)

    @app.delete("/api/session/<session_id>", ignore_body=False)
    async def delete_session(request: Request, session_id: str) -> response.HTTPResponse:
        # Each delete leaves a tombstone row: only id-shaped values, at a bounded rate.
        if not SESSION_ID.fullmatch(session_id):
            return response.json({"error": "That is not a session id."}, status=400)
        if not edge.deletes.allow(edge.client(request)):
            return limited()
        # The stored conversation first: the id is forgotten only once it is gone, so the
        # widget can retry a failed delete with the same id (204 means deleted).
        try:
            deleted = await asyncio.get_running_loop().run_in_executor(
                None, edge.forget_conversation, session_id
            )
        except Exception as error:
            logger.error(
                "Clearing a conversation failed (%s); the widget will retry.", type(error).__name__
            )
            return response.json({"error": "The conversation could not be deleted."}, status=503)
        edge.sessions.remove(session_id)
        logger.info("Conversation cleared: %d stored event(s) deleted.", deleted)
        return response.empty(status=204)
