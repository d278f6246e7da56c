"""Conversations against the trained model, through the real servers."""

from __future__ import annotations

import uuid

import requests

from bot import settings
from bot.content.responses import render


def _sender() -> str:
    return f"test-{uuid.uuid4().hex}"


def test_hello_is_answered_on_rasas_rest_channel(stack):
    reply = stack.rasa(_sender(), "hello")
    assert [m["text"] for m in reply] == [render("utter_greet")["text"]]


def test_rasa_http_api_is_off(stack):
    assert requests.get(f"{stack.rasa_url}/status", timeout=10).status_code == 404
    assert requests.get(f"{stack.rasa_url}/version", timeout=10).status_code == 404


def test_out_of_scope_hands_off_with_the_configured_adviceline(stack):
    reply = stack.rasa(_sender(), "can I get legal aid for a solicitor")
    text = " ".join(m.get("text", "") for m in reply)
    assert settings.load().adviceline.phone in text


def test_widget_session_opens_with_the_welcome(stack):
    reply = requests.post(f"{stack.edge_url}/api/session", timeout=60)
    assert reply.status_code == 201
    assert reply.json()["messages"][0]["text"] == render("utter_welcome")["text"]


def test_the_demo_page_is_served(stack):
    page = requests.get(f"{stack.edge_url}/", timeout=10)
    assert page.status_code == 200
    assert '<script src="/widget.js"' in page.text
