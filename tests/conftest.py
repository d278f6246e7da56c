"""Shared fixtures, and the markers that say what each test needs.

Tests read numbers and texts from the project's own files, never copies. Folders group the
test files by what most of their tests need (tests/unit: nothing but the code; tests/model:
the trained model in this process; tests/live: the three processes; tests/infra:
PostgreSQL and Redis; tests/browser: Chromium and the three processes). The markers are
exact per test: a test is marked after its folder, and also `model` when it uses the `nlu`
fixture and `live` when it uses the `stack` fixture, wherever it sits. So
`pytest -m "not model and not live and not infra and not browser"` runs in a minute
without a model or a service.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest

from bot import settings
from bot.edge.rasa_client import RasaUnavailable

TESTS = Path(__file__).resolve().parent
GROUPS = ("unit", "model", "live", "infra", "browser")


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).resolve().relative_to(TESTS).parts
        if parts[0] in GROUPS:
            item.add_marker(getattr(pytest.mark, parts[0]))
        fixtures = getattr(item, "fixturenames", ())
        if "nlu" in fixtures:
            item.add_marker(pytest.mark.model)
        if "stack" in fixtures:
            item.add_marker(pytest.mark.live)


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
    from tests.support.servers import BackgroundApp

    app = create_app(settings.load(), rasa=fake_rasa, name=f"edge_{uuid.uuid4().hex[:8]}")
    with BackgroundApp(app) as running:
        yield running


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """The real action server, Rasa and edge app, started once for the whole test run.

    The action server's clock is the real one until a test sets it (`stack.set_clock`,
    bot/frozen_clock.py); a test that sets it gives the real time back when it is done."""
    from tools.stack import Stack

    running = Stack(tmp_path_factory.mktemp("stack"), frozen_clock=True)
    running.start().wait_until_ready()
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
