"""The handoff actions, run with trackers built from JSON-like fixtures (as Rasa sends them).

Each test asserts the events an action returns and that it dispatches no message itself
(the rules in data/rules.yml choose every response from the slots it sets).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, datetime, timedelta
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sanic import Sanic, response

from actions.handoff import ActionHandoff, ActionLeaveQuestion, ActionSaveContact
from bot import hours, settings
from bot.content.responses import render
from bot.handoff import question_messages, transcript
from bot.paths import PROJECT_ROOT
from bot.storage import webhook as handoff_webhook
from bot.storage.handoff_store import HandoffStore
from tests.support.servers import BackgroundApp, free_port

S = settings.load()
LONDON = S.organisation.zone
OPENS = S.adviceline.hours.opens
DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
OPEN_NOW = datetime.combine(date(2025, 6, 4), OPENS, tzinfo=LONDON) + timedelta(hours=1)
CLOSED_NOW = datetime(2025, 6, 6, 18, 0, tzinfo=LONDON)  # Friday evening
EMAIL = "jo.bloggs@example.com"
PHONE_TYPED = "07700 900461"
HANDOFF_BUTTONS = render("utter_offer_leave_question")["buttons"]


# --- Tracker fixtures ----------------------------------------------------------------------
def user(text: str, intent: str, ts: float = 1749024000.0) -> Dict[str, Any]:
    return {
        "event": "user",
        "timestamp": ts,
        "text": text,
        "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "entities": [], "text": text},
    }


def bot(
    text: str, buttons: Optional[List[Dict[str, str]]] = None, ts: float = 1749024001.0
) -> Dict[str, Any]:
    return {
        "event": "bot",
        "timestamp": ts,
        "text": text,
        "data": {"buttons": buttons} if buttons else {},
    }


def action(name: str) -> Dict[str, Any]:
    return {"event": "action", "name": name}


def conversation() -> List[Dict[str, Any]]:
    """A widget session: welcome, a FAQ, an out-of-scope question, the offer, a yes."""
    return [
        action("action_session_start"),
        {"event": "session_started"},
        action("action_listen"),
        user("/start", "start"),
        bot(render("utter_welcome")["text"]),
        user("hello", "greet"),
        bot(render("utter_greet")["text"]),
        user("Can I get legal aid for the court hearing? Email me at " + EMAIL, "out_of_scope"),
        action("action_handoff"),
        bot(render("utter_offer_leave_question")["text"], HANDOFF_BUTTONS),
        user(HANDOFF_BUTTONS[0]["payload"], "leave_question"),
    ]


def tracker(
    events: List[Dict[str, Any]],
    slots: Optional[Dict[str, Any]] = None,
    latest: Optional[Dict[str, Any]] = None,
) -> Tracker:
    last_user = [e for e in events if e["event"] == "user"][-1] if events else {}
    latest = latest or {
        "text": last_user.get("text"),
        "intent": (last_user.get("parse_data") or {}).get("intent", {}),
        "entities": [],
    }
    return Tracker.from_dict(
        {
            "sender_id": "test",
            "slots": slots or {},
            "latest_message": latest,
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


def run(action_object: Any, state: Tracker) -> tuple:
    dispatcher = CollectingDispatcher()

    async def scenario() -> list:
        events = await action_object.run(dispatcher, state, DOMAIN)
        await handoff_webhook.drain()
        return events

    return asyncio.run(scenario()), dispatcher.messages


@pytest.fixture
def store(tmp_path) -> HandoffStore:
    return HandoffStore(f"sqlite:///{tmp_path / 'handoff.db'}")


def _valid_slots(events: List[Dict[str, Any]]) -> None:
    """Every slot set exists in domain.yml, with a value it allows."""
    for event in events:
        assert event["event"] == "slot"
        slot = DOMAIN["slots"][event["name"]]
        if slot["type"] == "categorical" and event["value"] is not None:
            assert event["value"] in slot["values"], event
        if slot["type"] == "bool" and event["value"] is not None:
            assert isinstance(event["value"], bool), event


# --- action_handoff -------------------------------------------------------------------------
def test_handoff_when_asked_while_the_adviceline_is_open():
    state = tracker([user("talk to an adviser", "request_human")])
    events, messages = run(ActionHandoff(clock=lambda: OPEN_NOW), state)
    assert events == [
        SlotSet("adviceline_open", True),
        SlotSet("webchat_open", False),
        SlotSet("next_opening", None),
        SlotSet("handoff_reason", "asked"),
        SlotSet("handoff_stage", "offered"),
    ]
    assert messages == []
    _valid_slots(events)


@pytest.mark.parametrize("intent", ["out_of_scope", "nlu_fallback", "something_else", "choose_faq"])
def test_handoff_when_not_covered_out_of_hours(intent):
    state = tracker([user("can I get legal aid", intent)])
    events, messages = run(ActionHandoff(clock=lambda: CLOSED_NOW), state)
    line = S.adviceline.hours
    expected_words = hours.say_when(hours.next_opening(line, CLOSED_NOW), CLOSED_NOW, LONDON)
    assert expected_words.startswith("on Monday at")
    assert events == [
        SlotSet("adviceline_open", False),
        SlotSet("webchat_open", False),
        SlotSet("next_opening", expected_words),
        SlotSet("handoff_reason", "not_covered"),
        SlotSet("handoff_stage", "offered"),
    ]
    assert messages == []
    _valid_slots(events)


def test_handoff_still_answers_when_the_hours_setting_is_broken(monkeypatch):
    monkeypatch.setattr(hours, "status", lambda now, s: 1 / 0)
    events, _ = run(
        ActionHandoff(clock=lambda: CLOSED_NOW),
        tracker([user("talk to a person", "request_human")]),
    )
    values = {e["name"]: e["value"] for e in events}
    assert values["adviceline_open"] is False and values["handoff_reason"] == "asked"
    assert values["next_opening"] and "None" not in values["next_opening"]


# --- action_leave_question ----------------------------------------------------------------------
def test_yes_stores_the_question_redacted_with_the_transcript(store):
    events, messages = run(
        ActionLeaveQuestion(store=lambda: store),
        tracker(conversation(), slots={"learn_consent": "yes"}),
    )
    assert messages == []
    _valid_slots(events)
    [request] = store.list_requests()
    assert events == [
        SlotSet("handoff_reference", request.reference),
        SlotSet("handoff_stage", "left"),
        SlotSet("question_stored", True),
        SlotSet("learn_consent", None),
    ]
    assert request.learn_consent is True
    assert request.question == "Can I get legal aid for the court hearing? Email me at [email]"
    assert EMAIL not in request.transcript
    lines = request.transcript.splitlines()
    assert lines[0].endswith("Assistant: " + render("utter_welcome")["text"])
    assert any(line.endswith("Parent: hello") for line in lines)
    assert lines[-1].endswith("Parent chose: " + HANDOFF_BUTTONS[0]["title"])
    assert not any("/start" in line or "/leave_question" in line for line in lines)
    assert lines[-1].startswith("[") and lines[-1][6:8] == "] "  # [HH:MM] London time


def test_the_offer_says_how_the_question_may_be_used_and_offers_a_no():
    offer = render("utter_offer_leave_question")
    assert "without any contact details, to improve this assistant" in offer["text"]
    # As Rasa sends them (its templating turns the domain's "{{" into "{").
    payloads = [b["payload"].replace("{{", "{").replace("}}", "}") for b in offer["buttons"]]
    assert payloads == [
        '/leave_question{"learn_consent": "yes"}',
        '/leave_question{"learn_consent": "no"}',
        "/deny",
    ]


@pytest.mark.parametrize(
    "slots, agreed",
    [({"learn_consent": "yes"}, True), ({"learn_consent": "no"}, False), ({}, False)],
)
def test_the_consent_choice_is_stored_with_the_request(store, slots, agreed):
    """Only the yes button agrees; "no" and a typed yes (no slot) store the question without."""
    events, _ = run(ActionLeaveQuestion(store=lambda: store), tracker(conversation(), slots=slots))
    [request] = store.list_requests()
    assert request.learn_consent is agreed
    assert SlotSet("learn_consent", None) in events  # the choice is not carried to a later offer


def test_no_typed_question_stores_nothing(store):
    events_so_far = [
        {"event": "session_started"},
        user("/start", "start"),
        user("hi", "greet"),
        user("/request_human", "request_human"),
        user("/leave_question", "leave_question"),
    ]
    events, messages = run(ActionLeaveQuestion(store=lambda: store), tracker(events_so_far))
    assert events == [SlotSet("handoff_stage", "offered"), SlotSet("question_stored", False)]
    assert messages == [] and store.list_requests() == []


def test_only_this_sessions_messages_count(store):
    earlier = [
        user("what is a safety plan about my old case", "safety_plan"),
        action("action_session_start"),
        {"event": "session_started"},
    ]
    run(ActionLeaveQuestion(store=lambda: store), tracker(earlier + conversation()))
    [request] = store.list_requests()
    assert "old case" not in request.question and "old case" not in request.transcript


def test_small_talk_is_not_a_question_but_a_long_request_for_a_person_is():
    events = [
        user("thanks", "thank"),
        user("yes please", "affirm"),
        user(
            "I want to speak to an adviser about contact with my ex-partner and the "
            "children at weekends",
            "request_human",
        ),
        user("talk to an adviser", "request_human"),
        user("/out_of_scope", "out_of_scope"),
    ]  # a button, whatever its intent
    assert question_messages(events) == [events[2]["text"]]


def test_a_second_yes_in_the_session_updates_the_same_request(store):
    first, _ = run(ActionLeaveQuestion(store=lambda: store), tracker(conversation()))
    reference = first[0]["value"]
    more = conversation() + [
        user("Also, will the court see the safety plan?", "out_of_scope"),
        user("/leave_question", "leave_question"),
    ]
    second, _ = run(
        ActionLeaveQuestion(store=lambda: store),
        tracker(more, slots={"handoff_reference": reference}),
    )
    assert second[0] == SlotSet("handoff_reference", reference)
    [request] = store.list_requests()
    assert request.question.endswith("Also, will the court see the safety plan?")


def test_a_store_failure_never_claims_the_question_was_stored():
    def broken() -> HandoffStore:
        raise RuntimeError("database down")

    events, messages = run(ActionLeaveQuestion(store=broken), tracker(conversation()))
    assert (
        events == [SlotSet("handoff_stage", "failed"), SlotSet("question_stored", None)]
        and messages == []
    )


def test_transcript_shows_button_titles_and_times():
    text = transcript(conversation(), LONDON)
    stamp = datetime.fromtimestamp(1749024000.0, LONDON).strftime("%H:%M")
    assert f"[{stamp}] Parent: hello" in text.splitlines()


# --- action_save_contact -------------------------------------------------------------------------
def _left(store: HandoffStore) -> str:
    return store.add("Can I get legal aid?", "Parent: Can I get legal aid?").reference


def test_a_valid_contact_is_saved_on_the_request_and_never_in_an_event(store):
    reference = _left(store)
    text = f"my email is {EMAIL}"
    state = tracker(
        [user(text, "give_contact")],
        slots={"handoff_reference": reference, "handoff_stage": "left"},
    )
    events, messages = run(ActionSaveContact(store=lambda: store), state)
    assert events == [SlotSet("contact_saved", True), SlotSet("handoff_stage", "done")]
    assert messages == []
    assert EMAIL not in json.dumps(events)
    assert store.get(reference).contact == EMAIL


def test_the_contact_is_read_from_the_message_as_typed_not_as_nlu_read_it(store):
    # What Rasa sends: latest_message carries the text NLU read, details hidden
    # (bot/nlu/contact_mask.py); the user event keeps the message as typed.
    from bot.nlu.contact_mask import strip_details

    reference = _left(store)
    typed = f"you can reach me on {PHONE_TYPED}"
    event = user(typed, "give_contact")
    event["parse_data"]["text"] = strip_details(typed)
    state = tracker(
        [event],
        slots={"handoff_reference": reference},
        latest={
            "text": strip_details(typed),
            "intent": {"name": "give_contact", "confidence": 1.0},
            "entities": [],
        },
    )
    assert PHONE_TYPED not in state.latest_message["text"]
    events, _ = run(ActionSaveContact(store=lambda: store), state)
    assert events == [SlotSet("contact_saved", True), SlotSet("handoff_stage", "done")]
    assert store.get(reference).contact == PHONE_TYPED


@pytest.mark.parametrize("text", ["call me on +1 212 555 0100", "jo@example", "no idea"])
def test_an_invalid_contact_is_not_saved(store, text):
    reference = _left(store)
    state = tracker([user(text, "give_contact")], slots={"handoff_reference": reference})
    events, _ = run(ActionSaveContact(store=lambda: store), state)
    assert events == [SlotSet("contact_saved", False)]
    assert store.get(reference).contact is None


def test_a_contact_with_no_request_is_not_saved(store):
    state = tracker([user("07700 900123", "give_contact")], slots={"handoff_reference": None})
    events, _ = run(ActionSaveContact(store=lambda: store), state)
    assert events == [SlotSet("contact_saved", False)]


# --- The optional webhook -------------------------------------------------------------------------
SECRET = "w" * 24


@pytest.fixture
def receiver():
    """A local case system that records what it is sent."""
    app = Sanic(f"receiver_{uuid.uuid4().hex[:8]}")
    app.ctx.received = []

    @app.post("/hook")
    async def hook(request):
        app.ctx.received.append((request.body, request.headers.get("x-signature")))
        return response.json({"ok": True})

    with BackgroundApp(app) as running:
        yield running


def test_each_new_request_is_posted_signed(store, receiver, monkeypatch):
    monkeypatch.setenv("HANDOFF_WEBHOOK_URL", f"{receiver.url}/hook")
    monkeypatch.setenv("HANDOFF_WEBHOOK_SECRET", SECRET)
    events, _ = run(ActionLeaveQuestion(store=lambda: store), tracker(conversation()))
    [(body, signature)] = receiver.app.ctx.received
    assert handoff_webhook.verify(SECRET, body, signature)
    assert not handoff_webhook.verify("x" * 24, body, signature)
    payload = json.loads(body)
    assert payload["event"] == "handoff.created"
    assert payload["reference"] == events[0]["value"]
    assert EMAIL not in body.decode()
    # A contact added later is sent too, so the case system can reply.
    state = tracker(
        [user(f"my email is {EMAIL}", "give_contact")],
        slots={"handoff_reference": payload["reference"]},
    )
    run(ActionSaveContact(store=lambda: store), state)
    body, signature = receiver.app.ctx.received[-1]
    assert handoff_webhook.verify(SECRET, body, signature)
    assert json.loads(body)["contact"] == EMAIL


def test_a_failing_webhook_never_loses_the_request(store, monkeypatch):
    monkeypatch.setenv("HANDOFF_WEBHOOK_URL", f"http://127.0.0.1:{free_port()}/hook")
    monkeypatch.setenv("HANDOFF_WEBHOOK_SECRET", SECRET)
    events, _ = run(ActionLeaveQuestion(store=lambda: store), tracker(conversation()))
    assert SlotSet("question_stored", True) in events
    assert len(store.list_requests()) == 1


def test_webhook_configuration_is_safe_by_default():
    url = "https://cases.example.org/hook"
    assert handoff_webhook.from_environment({}) is None
    assert handoff_webhook.from_environment({"HANDOFF_WEBHOOK_URL": url}) is None  # unsigned
    assert (
        handoff_webhook.from_environment(
            {"HANDOFF_WEBHOOK_URL": url, "HANDOFF_WEBHOOK_SECRET": "short"}
        )
        is None
    )
    assert (
        handoff_webhook.from_environment(
            {
                "HANDOFF_WEBHOOK_URL": "http://cases.example.org/hook",
                "HANDOFF_WEBHOOK_SECRET": SECRET,
            }
        )
        is None
    )  # plain http
    hook = handoff_webhook.from_environment(
        {"HANDOFF_WEBHOOK_URL": url, "HANDOFF_WEBHOOK_SECRET": SECRET}
    )
    assert hook is not None and hook.url == url
    body = handoff_webhook.encode({"b": 1, "a": "é"})
    assert body == '{"a":"é","b":1}'.encode()
    assert handoff_webhook.sign(SECRET, body).startswith("sha256=")
