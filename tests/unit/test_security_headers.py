"""One public surface: the edge app's headers and CORS, and the start-up rules for Rasa."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Dict, Iterator

import pytest
import requests
from sanic import response

from bot import settings
from bot.edge import security
from bot.edge.app import create_app
from bot.edge.pages import TEMPLATES
from tests.support.servers import BackgroundApp

ALLOWED = list(settings.load().edge.allowed_origins)
EVIL = "https://attacker.example"


def _directives(csp: str) -> Dict[str, str]:
    return {
        part.split()[0]: " ".join(part.split()[1:])
        for part in (p.strip() for p in csp.split(";"))
        if part
    }


@pytest.fixture
def edge(fake_rasa, tmp_path: Path, monkeypatch) -> Iterator[BackgroundApp]:
    """The edge app with an extra HTML page under /adviser, as the inbox serves."""
    monkeypatch.setenv("RASA_ENDPOINTS", str(tmp_path / "endpoints.yml"))
    (tmp_path / "endpoints.yml").write_text(
        f"tracker_store:\n  type: sql\n  dialect: sqlite\n  db: {tmp_path / 'tracker.db'}\n"
    )
    monkeypatch.setenv("FORUM_ORIGINS", " https://forum.example/ ,https://Second.Forum.example")
    app = create_app(settings.load(), rasa=fake_rasa, name=f"headers_{uuid.uuid4().hex[:8]}")

    async def page(_request):  # stands in for any HTML page, e.g. the adviser inbox
        return response.html("<!doctype html><title>inbox</title>")

    app.add_route(page, "/adviser/security-check")
    with BackgroundApp(app) as running:
        yield running


def test_html_pages_get_a_strict_csp_without_unsafe_inline(edge) -> None:
    for path in ("/", "/adviser/security-check"):
        reply = requests.get(edge.url + path, timeout=10)
        assert reply.status_code == 200
        csp = reply.headers["Content-Security-Policy"]
        assert csp == security.HTML_CSP
        rules = _directives(csp)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert rules["default-src"] == "'self'" and rules["script-src"] == "'self'"
        assert rules["style-src"] == "'self'" and rules["frame-ancestors"] == "'self'"
        assert rules["base-uri"] == "'none'" and rules["form-action"] == "'self'"


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("GET", "/", None),
        ("GET", "/widget.js", None),
        ("GET", "/widget.css", None),
        ("POST", "/api/session", None),
        ("POST", "/api/message", b"not json"),
        ("GET", "/no-such-page", None),
        ("GET", "/api/message", None),
    ],
)
def test_every_response_carries_the_common_headers(edge, method, path, body) -> None:
    reply = requests.request(method, edge.url + path, data=body, timeout=10)
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Referrer-Policy"] == "no-referrer"
    assert reply.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "camera=()" in reply.headers["Permissions-Policy"]
    assert "frame-ancestors 'self'" in reply.headers["Content-Security-Policy"]
    if path.startswith("/api/"):
        assert reply.headers["Cache-Control"] == "no-store"


def test_the_real_adviser_inbox_page_has_a_csp_without_unsafe_inline(
    fake_rasa, tmp_path: Path, monkeypatch
) -> None:
    """The inbox (bot/edge/inbox.py) sends its own, stricter policy; the security layer
    keeps it and adds the rest."""
    from bot.edge import inbox

    monkeypatch.setenv(inbox.ENV_SECRET, "s" * (inbox.MIN_SECRET_LENGTH + 8))
    monkeypatch.setenv("HANDOFF_DB_URL", f"sqlite:///{tmp_path / 'handoff.db'}")
    app = create_app(settings.load(), rasa=fake_rasa, name=f"inbox_{uuid.uuid4().hex[:8]}")
    with BackgroundApp(app) as running:
        reply = requests.get(f"{running.url}/adviser", timeout=10)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    csp = reply.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert _directives(csp)["frame-ancestors"] in ("'none'", "'self'")
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Referrer-Policy"] == "no-referrer"


def test_inbox_pages_are_never_cached(edge) -> None:
    reply = requests.get(edge.url + "/adviser/security-check", timeout=10)
    assert reply.headers["Cache-Control"] == "no-store"


def test_page_templates_have_no_inline_script_or_style() -> None:
    """What the CSP forbids, the pages must not need."""
    for page in TEMPLATES.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html, re.I), page.name
        assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=|javascript:", html, re.I), page.name


@pytest.mark.parametrize(
    "origin", ALLOWED + ["https://forum.example", "https://second.forum.example"]
)
def test_configured_forum_origins_may_call_the_api(edge, fake_rasa, origin) -> None:
    preflight = requests.options(
        f"{edge.url}/api/message",
        timeout=10,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "DELETE" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"].lower() == "content-type"
    reply = requests.post(f"{edge.url}/api/session", headers={"Origin": origin}, timeout=10)
    assert reply.status_code == 201
    assert reply.headers["Access-Control-Allow-Origin"] == origin
    assert "Origin" in reply.headers["Vary"]


@pytest.mark.parametrize(
    "origin",
    [
        EVIL,
        "null",
        "http://127.0.0.1:1",
        "https://forum.example.evil.test",
        "file://",
        "http://localhost:8000@attacker.example",
    ],
)
def test_other_origins_are_refused_before_reaching_rasa(edge, fake_rasa, origin) -> None:
    preflight = requests.options(
        f"{edge.url}/api/session",
        timeout=10,
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 403
    assert "Access-Control-Allow-Origin" not in preflight.headers
    for method, path, body in (
        ("POST", "/api/session", None),
        ("POST", "/api/message", {"text": "hello"}),
        ("DELETE", "/api/session/abc", None),
    ):
        reply = requests.request(
            method, edge.url + path, json=body, timeout=10, headers={"Origin": origin}
        )
        assert reply.status_code == 403, (method, path)
        assert "Access-Control-Allow-Origin" not in reply.headers
        assert reply.json()["error"] == security.REFUSED_ORIGIN
    assert fake_rasa.sent == []


def test_the_edges_own_pages_may_call_the_api(edge) -> None:
    """The demo page and widget served by the edge itself (same origin)."""
    reply = requests.post(f"{edge.url}/api/session", headers={"Origin": edge.url}, timeout=10)
    assert reply.status_code == 201


def test_non_api_paths_get_no_cors_headers(edge) -> None:
    reply = requests.get(edge.url + "/", headers={"Origin": ALLOWED[0]}, timeout=10)
    assert "Access-Control-Allow-Origin" not in reply.headers


def test_allowed_origins_merge_settings_and_environment() -> None:
    origins = security.allowed_origins(
        ["http://127.0.0.1:8000"], env={"FORUM_ORIGINS": "https://A.example/, ,bogus"}
    )
    assert origins == frozenset({"http://127.0.0.1:8000", "https://a.example"})


# Rasa and the action server: loopback only, HTTP API off unless a long token is set.


def test_rasa_binds_to_loopback_with_its_api_off() -> None:
    from bot.ops.runner import rasa_command

    command = rasa_command({}, model="m.tar.gz")
    assert command[command.index("--interface") + 1] == "127.0.0.1"
    assert "--enable-api" not in command


@pytest.mark.parametrize("token", ["", "short-token"])
def test_rasa_api_is_refused_without_a_long_token(token: str) -> None:
    from bot.ops.runner import MIN_TOKEN_LENGTH, StartupProblem, rasa_command

    assert len(token) < MIN_TOKEN_LENGTH
    with pytest.raises(StartupProblem, match="RASA_AUTH_TOKEN"):
        rasa_command({"RASA_ENABLE_API": "true", "RASA_AUTH_TOKEN": token}, model="m.tar.gz")
    strong = "x" * MIN_TOKEN_LENGTH
    command = rasa_command({"RASA_ENABLE_API": "true", "RASA_AUTH_TOKEN": strong}, model="m")
    assert command[command.index("--auth-token") + 1] == strong
