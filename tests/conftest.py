"""Shared fixtures. Tests read numbers and texts from the project's own files, never copies."""
from __future__ import annotations

import uuid
from typing import Any, Dict, List

import pytest

from bot import settings
from bot.edge.rasa_client import RasaUnavailable


class FakeRasa:
    """Stands in for Rasa's REST channel: records what it was sent, answers from a script."""

    def __init__(self) -> None:
        self.sent: List[tuple] = []
        self.down = False
        self.replies: Dict[str, List[Dict[str, Any]]] = {}

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def send(self, sender: str, message: str) -> List[Dict[str, Any]]:
        if self.down:
            raise RasaUnavailable("down")
        self.sent.append((sender, message))
        return self.replies.get(message, [{"recipient_id": sender, "text": f"echo:{message}"}])

    async def healthy(self) -> Dict[str, bool]:
        return {"rasa": not self.down, "actions": not self.down}


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def edge_app(fake_rasa, tmp_path, monkeypatch):
    """The real edge app, talking to FakeRasa, served on a free port (own handoff DB)."""
    from bot.edge.app import create_app

    monkeypatch.setenv("HANDOFF_DB_URL", f"sqlite:///{tmp_path / 'handoff.db'}")
    from tests.servers import BackgroundApp

    app = create_app(settings.load(), rasa=fake_rasa, name=f"edge_{uuid.uuid4().hex[:8]}")
    with BackgroundApp(app) as running:
        yield running


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """The real action server, Rasa and edge app, started once for the whole test run."""
    from tools.stack import Stack

    running = Stack(tmp_path_factory.mktemp("stack")).start().wait_until_ready()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def nlu():
    """Parse text with the trained model's NLU pipeline (all project components included):
    models/current.tar.gz, or the model at NLU_MODEL if set.

    Returns a function text -> parse data (intent, intent_ranking, response_selector, ...).
    """
    from tools.nlu_parser import NluParser

    parse = NluParser()
    yield parse
    parse.close()
