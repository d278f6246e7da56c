"""The edge API against a fake Rasa: sessions, commands, limits and failures."""

from __future__ import annotations

import requests

from bot import settings
from bot.content.responses import render


def _session(edge_app) -> str:
    reply = requests.post(f"{edge_app.url}/api/session", timeout=10)
    assert reply.status_code == 201
    return reply.json()["session"]


def test_session_ids_are_made_by_the_server_and_unguessable(edge_app, fake_rasa):
    ids = {_session(edge_app) for _ in range(5)}
    assert len(ids) == 5
    assert all(len(i) >= 32 for i in ids)  # 24 random bytes, base64url
    assert all(message == "/start" for _, message in fake_rasa.sent)


def test_message_is_forwarded_with_the_session_as_sender(edge_app, fake_rasa):
    sid = _session(edge_app)
    reply = requests.post(
        f"{edge_app.url}/api/message", json={"session": sid, "text": "hello"}, timeout=10
    )
    assert reply.status_code == 200
    assert reply.json()["messages"] == [{"text": "echo:hello"}]
    assert fake_rasa.sent[-1] == (sid, "hello")


def test_typed_slash_commands_never_reach_rasa_as_commands(edge_app, fake_rasa):
    sid = _session(edge_app)
    requests.post(
        f"{edge_app.url}/api/message",
        json={"session": sid, "text": '/out_of_scope{"x": "y"}'},
        timeout=10,
    )
    assert not fake_rasa.sent[-1][1].startswith("/")


def test_only_offered_payloads_pass_as_commands(edge_app, fake_rasa):
    fake_rasa.replies["menu"] = [
        {"text": "pick", "buttons": [{"title": "A", "payload": "/choose_a"}]}
    ]
    sid = _session(edge_app)
    requests.post(f"{edge_app.url}/api/message", json={"session": sid, "text": "menu"}, timeout=10)
    requests.post(
        f"{edge_app.url}/api/message", json={"session": sid, "payload": "/choose_a"}, timeout=10
    )
    assert fake_rasa.sent[-1] == (sid, "/choose_a")
    requests.post(
        f"{edge_app.url}/api/message",
        json={"session": sid, "payload": "/restart", "title": "Restart"},
        timeout=10,
    )
    assert fake_rasa.sent[-1] == (sid, "Restart")


def test_unknown_session_gets_a_fresh_one(edge_app, fake_rasa):
    reply = requests.post(
        f"{edge_app.url}/api/message",
        json={"session": "not-a-real-session", "text": "hi"},
        timeout=10,
    )
    assert reply.status_code == 200
    fresh = reply.json()["session"]
    assert fresh != "not-a-real-session"
    assert fake_rasa.sent[-1] == (fresh, "hi")


def test_bad_bodies_get_400(edge_app):
    for body in (b"not json", b"[1, 2]", b'{"session": "x", "text": 5}', b'{"session": "x"}'):
        reply = requests.post(
            f"{edge_app.url}/api/message",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert reply.status_code == 400, body
        assert "error" in reply.json()


def test_too_long_gets_413_and_a_kind_line(edge_app, fake_rasa):
    sid = _session(edge_app)
    limit = settings.load().edge.max_message_chars
    reply = requests.post(
        f"{edge_app.url}/api/message", json={"session": sid, "text": "a" * (limit + 1)}, timeout=10
    )
    assert reply.status_code == 413
    assert reply.json()["messages"] == [render("utter_edge_too_long")]
    assert all(len(m) <= limit for _, m in fake_rasa.sent)


def test_rasa_down_gets_an_apology_with_the_adviceline(edge_app, fake_rasa):
    sid = _session(edge_app)
    fake_rasa.down = True
    reply = requests.post(
        f"{edge_app.url}/api/message", json={"session": sid, "text": "hi"}, timeout=10
    )
    assert reply.status_code == 503
    text = reply.json()["messages"][0]["text"]
    assert settings.load().adviceline.phone in text
    assert "Traceback" not in reply.text
    assert requests.get(f"{edge_app.url}/healthz", timeout=10).status_code == 503


def test_widget_is_served_with_the_configured_exit_url(edge_app):
    from bot.edge.pages import widget_script

    script = requests.get(f"{edge_app.url}/widget.js", timeout=10)
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    edge = settings.load().edge
    assert script.text == widget_script(edge.exit_url, edge.max_message_chars)
    assert "__FORUM_ASSISTANT_EXIT_URL__" not in script.text
    assert "__FORUM_ASSISTANT_MAX_CHARS__" not in script.text
    assert f"Number({edge.max_message_chars})" in script.text


def test_exit_url_token_is_replaced_json_encoded(tmp_path, monkeypatch):
    import bot.edge.pages as edge_module

    (tmp_path / "widget.js").write_text('var EXIT = "__FORUM_ASSISTANT_EXIT_URL__";')
    monkeypatch.setattr(edge_module, "STATIC", tmp_path)
    assert (
        edge_module.widget_script('https://example.org/"x"', 3000)
        == 'var EXIT = "https://example.org/\\"x\\"";'
    )


def test_a_whole_post_up_to_the_cap_reaches_rasa(edge_app, fake_rasa):
    sid = _session(edge_app)
    limit = settings.load().edge.max_message_chars
    assert limit >= 3000  # real forum posts run well over 1,000 characters
    post = ("We had the conference today and I still do not understand the plan. " * 60)[:limit]
    reply = requests.post(
        f"{edge_app.url}/api/message", json={"session": sid, "text": post}, timeout=10
    )
    assert reply.status_code == 200
    assert any(len(m) == len(post.strip()) for _, m in fake_rasa.sent)


def test_an_empty_reply_from_rasa_is_never_a_silent_nothing(edge_app, fake_rasa):
    sid = _session(edge_app)
    fake_rasa.replies["quiet"] = []
    reply = requests.post(
        f"{edge_app.url}/api/message", json={"session": sid, "text": "quiet"}, timeout=10
    )
    assert reply.status_code == 503
    assert reply.json()["messages"] == [render("utter_edge_unavailable")]
