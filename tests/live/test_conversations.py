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


def test_a_crisis_sentence_inside_a_long_post_comes_first(stack):
    post = (
        "We had the review of the safety plan on Monday and my sister agreed to supervise. "
        "The social worker wants the plan written up by Friday. "
        "Honestly I have lined up every pill in the house tonight. "
        "Can the plan be changed if my mum moves in with us?"
    )
    reply = stack.rasa(_sender(), post)
    assert reply[0]["text"] == render("utter_crisis_suicidal")["text"]
    assert all(not m.get("text", "").startswith("Is your question") for m in reply)


def test_a_weaker_sign_gets_the_check_in_and_its_buttons(stack):
    sender = _sender()
    reply = stack.rasa(sender, "what is a safety plan")
    reply = stack.rasa(sender, "honestly im just done with it all")
    assert reply[0]["text"] == render("utter_checkin_suicidal")["text"]
    assert [b["payload"] for b in reply[0]["buttons"]] == ["/checkin_safe", "/crisis_suicidal"]
    safe = stack.rasa(sender, "/checkin_safe")
    assert [m["text"] for m in safe] == [render("utter_crisis_carry_on")["text"]]
    help_now = stack.rasa(sender, "/crisis_suicidal")
    assert help_now[0]["text"] == render("utter_crisis_suicidal")["text"]
