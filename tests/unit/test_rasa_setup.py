"""The Rasa process's set-up (log redaction, removing parents' messages from every log
record, the Rasa patches) comes with any plug-in.

bot/rasa/__init__.py installs them all; Rasa imports the project's plug-ins by the dotted
paths in the endpoints files. Each case runs in a fresh interpreter and builds the stores
and the NLG exactly as `rasa run` does (Rasa's own factories, from an endpoints file), so
nothing the test process imported can install the set-up by accident. The control case,
with no project plug-in at all, shows that Rasa alone installs neither.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from bot.paths import ENDPOINTS, PRODUCTION_ENDPOINTS, PROJECT_ROOT

# Builds what the endpoints file names with Rasa's factories, then reports what is installed.
PROBE = r"""
import json, logging, sys
from rasa.core.actions.action import RemoteAction
from rasa.core.lock_store import LockStore
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.core.tracker_store import TrackerStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event

endpoints = AvailableEndpoints.read_endpoints(sys.argv[1])
made = [type(TrackerStore.create(endpoints.tracker_store)).__name__,
        type(NaturalLanguageGenerator.create(endpoints.nlg, Domain.empty())).__name__]
if endpoints.lock_store is not None:
    made.append(type(LockStore.create(endpoints.lock_store)).__name__)
record = logging.getLogger("probe").makeRecord(
    "probe", logging.INFO, "probe.py", 1, "parent wrote %s", ("jo@example.com",), None)
validator = RemoteAction._validate_action_result
import structlog
from rasa.core.channels.channel import UserMessage
mark = "_bot_message_scrubbing"
scrubbing = [bool(getattr(UserMessage.__init__, mark, False)),
             any(getattr(p, mark, False) for p in structlog.get_config()["processors"]),
             bool(getattr(logging.getLogRecordFactory(), mark, False))]
print(json.dumps({"made": made, "logged": record.getMessage(), "scrubbing": scrubbing,
                  "patched": validator.__module__ == "bot.rasa.patches"
                  and Event.resolve_by_type.__module__ == "bot.rasa.event_types",
                  "unpatched": validator.__module__ != "bot.rasa.patches"
                  and Event.resolve_by_type.__module__ != "bot.rasa.event_types"}))
"""


def probe(
    endpoints: Dict[str, Any], tmp_path: Path, env: Dict[str, str] | None = None
) -> Dict[str, Any]:
    """Write `endpoints` to a file and run PROBE on it in a fresh interpreter."""
    path = tmp_path / "endpoints.yml"
    path.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONWARNINGS": "ignore",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            **(env or {}),
        },
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report: Dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def embedded(tmp_path: Path) -> Dict[str, Any]:
    """endpoints.yml with its SQLite tracker file in tmp_path."""
    endpoints = yaml.safe_load(ENDPOINTS.read_text(encoding="utf-8"))
    endpoints["tracker_store"]["db"] = str(tmp_path / "tracker.db")
    return dict(endpoints)


def project_plugins(endpoints: Dict[str, Any]) -> List[str]:
    return [
        str(section["type"])
        for section in endpoints.values()
        if isinstance(section, dict) and str(section.get("type", "")).startswith("bot.")
    ]


@pytest.mark.parametrize("path", [ENDPOINTS, PRODUCTION_ENDPOINTS], ids=lambda p: p.name)
def test_each_endpoints_file_names_project_plugins_from_bot_rasa_only(path: Path) -> None:
    plugins = project_plugins(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert plugins, f"{path.name} names no plug-in of bot.rasa: nothing would install redaction"
    assert all(name.startswith("bot.rasa.") for name in plugins), plugins


def test_swapping_the_nlg_for_rasas_keeps_redaction_and_the_patch(tmp_path: Path) -> None:
    endpoints = embedded(tmp_path)
    endpoints.pop("nlg")
    report = probe(endpoints, tmp_path)
    assert report["made"] == ["RedactingSQLTrackerStore", "TemplatedNaturalLanguageGenerator"]
    assert report["logged"] == "parent wrote [email]"
    assert report["scrubbing"] == [True, True, True]
    assert report["patched"]


def test_the_nlg_alone_installs_the_set_up(tmp_path: Path) -> None:
    endpoints = embedded(tmp_path)
    endpoints.pop("tracker_store")
    report = probe(endpoints, tmp_path)
    assert report["made"] == ["InMemoryTrackerStore", "SettingsNLG"]
    assert report["logged"] == "parent wrote [email]"
    assert report["scrubbing"] == [True, True, True]
    assert report["patched"]


def test_the_production_lock_store_alone_installs_the_set_up(tmp_path: Path) -> None:
    endpoints = yaml.safe_load(PRODUCTION_ENDPOINTS.read_text(encoding="utf-8"))
    endpoints = {"lock_store": endpoints["lock_store"]}
    env = {
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": "6379",
        "REDIS_DB": "1",
        "REDIS_PASSWORD": "",
    }  # the client connects on first use only: no Redis needed
    report = probe(endpoints, tmp_path, env)
    assert report["made"][-1] == "AtomicRedisLockStore"
    assert report["logged"] == "parent wrote [email]"
    assert report["scrubbing"] == [True, True, True]
    assert report["patched"]


def test_without_a_project_plugin_rasa_installs_neither(tmp_path: Path) -> None:
    """The control: the cases above pass because of bot.rasa, not because of Rasa."""
    report = probe({}, tmp_path)
    assert report["made"] == ["InMemoryTrackerStore", "TemplatedNaturalLanguageGenerator"]
    assert report["logged"] == "parent wrote jo@example.com"
    assert report["scrubbing"] == [False, False, False]
    assert report["unpatched"]


def test_rasa_gets_the_response_timeout_from_the_settings_and_the_edge_waits_less() -> None:
    """Rasa applies --response-timeout only with its API on; Sanic reads the environment
    (tests/live/test_message_logs_live.py sees the timeout happen)."""
    from bot import settings
    from bot.ops.runner import rasa_command, rasa_env

    edge = settings.load().edge
    assert rasa_env({})["SANIC_RESPONSE_TIMEOUT"] == str(edge.rasa_response_timeout_seconds)
    command = rasa_command({}, model="m.tar.gz")
    assert command[command.index("--response-timeout") + 1] == str(
        edge.rasa_response_timeout_seconds
    )
    assert edge.rasa_client_timeout_seconds < edge.rasa_response_timeout_seconds
    from bot.edge.app import create_app

    app = create_app(settings.load(), name="edge_timeout_probe", env={})
    assert app.ctx.edge.rasa.timeout.total == edge.rasa_client_timeout_seconds
