"""Start the real three processes (action server, Rasa, edge app) on free ports, for tests.

Each stack gets its own SQLite files in a temporary folder and its own endpoints file, so
tests never touch var/ and never collide with a running `make run`.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import requests
import yaml

from bot.settings import PROJECT_ROOT
from tests.servers import free_port

MODEL = PROJECT_ROOT / "models" / "current.tar.gz"


class Stack:
    """The assistant as `make run` starts it, with ports and storage of its own."""

    def __init__(self, workdir: Path, extra_env: Optional[Dict[str, str]] = None,
                 endpoints_overrides: Optional[Dict[str, object]] = None) -> None:
        if not MODEL.exists():
            raise RuntimeError("No trained model: run `make model` (make test does) first.")
        self.workdir = workdir
        self.ports = {"actions": free_port(), "rasa": free_port(), "edge": free_port()}
        self.rasa_url = f"http://127.0.0.1:{self.ports['rasa']}"
        self.actions_url = f"http://127.0.0.1:{self.ports['actions']}"
        self.edge_url = f"http://127.0.0.1:{self.ports['edge']}"
        self.tracker_db = workdir / "tracker.db"
        self.handoff_db = workdir / "handoff.db"
        endpoints = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())
        endpoints["action_endpoint"]["url"] = f"{self.actions_url}/webhook"
        endpoints["tracker_store"]["db"] = str(self.tracker_db)
        endpoints.update(endpoints_overrides or {})
        self.endpoints_file = workdir / "endpoints.yml"
        self.endpoints_file.write_text(yaml.safe_dump(endpoints))
        self.env = dict(
            os.environ,
            ACTIONS_PORT=str(self.ports["actions"]), RASA_PORT=str(self.ports["rasa"]),
            EDGE_PORT=str(self.ports["edge"]), RASA_ENDPOINTS=str(self.endpoints_file),
            RASA_URL=self.rasa_url, ACTIONS_URL=self.actions_url,
            HANDOFF_DB_URL=f"sqlite:///{self.handoff_db}",
            TF_CPP_MIN_LOG_LEVEL="2", SQLALCHEMY_SILENCE_UBER_WARNING="1",
            RASA_TELEMETRY_ENABLED="false", PYTHONWARNINGS="ignore",
        )
        self.env.update(extra_env or {})
        self.processes: List[subprocess.Popen] = []
        self.logs: Dict[str, Path] = {}

    def start(self, timeout: float = 240) -> "Stack":
        for name, command in (("actions", "serve-actions"), ("rasa", "serve-rasa"),
                              ("edge", "edge")):
            log = self.workdir / f"{name}.log"
            self.logs[name] = log
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "bot", command], cwd=PROJECT_ROOT, env=self.env,
                stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
            ))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.edge_url}/healthz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            for process in self.processes:
                if process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"A process exited early:\n{self.tail()}")
            time.sleep(1)
        self.stop()
        raise RuntimeError(f"The stack did not become healthy in {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        parts = []
        for name, log in self.logs.items():
            text = log.read_text(errors="replace").splitlines()[-lines:] if log.exists() else []
            parts.append(f"--- {name} ---\n" + "\n".join(text))
        return "\n".join(parts)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    # Helpers for tests
    def rasa(self, sender: str, text: str) -> List[dict]:
        """Send straight to Rasa's REST channel (as the edge does)."""
        reply = requests.post(f"{self.rasa_url}/webhooks/rest/webhook",
                              json={"sender": sender, "message": text}, timeout=60)
        reply.raise_for_status()
        return reply.json()
