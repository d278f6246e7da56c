"""The one launcher of the assistant's processes on free ports, for measurements and tests.

The action server, one or more Rasa servers and (optionally) the edge app start exactly as
`make run` starts them (`python -m bot serve-actions | serve-rasa | edge`), each on a free
loopback port, with storage of their own in a work folder, so a benchmark or a test never
touches var/ and never collides with a running `make run`:

* the embedded default: endpoints.yml copied with its SQLite tracker file in the work
  folder (`tracker_db`), and a handoff database there too (`handoff_db`);
* the production profile (`production=` the environment values endpoints.production.yml
  reads): the shared PostgreSQL tracker store and Redis lock store, one action server.

Used by the benchmark (tools/bench.py), the per-message profile (tools/profile_message.py,
which runs Rasa in its own process and starts only the action server here), the live
tests (tests/live, tests/browser) and the scale-out test (tests/infra).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Dict, Iterator, List, Mapping, Optional

import yaml

from bot.paths import CURRENT_MODEL, ENDPOINTS, PRODUCTION_ENDPOINTS, PROJECT_ROOT

# Quiet, local, and the same everywhere: no telemetry, no TensorFlow banner.
QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "RASA_TELEMETRY_ENABLED": "false",
    "PYTHONWARNINGS": "ignore",
}


@contextlib.contextmanager
def scratch_database(postgres_url: str, prefix: str) -> Iterator[str]:
    """A PostgreSQL database made for one run on the server of `postgres_url` (an existing
    database to connect to first), dropped afterwards; yields its name."""
    import sqlalchemy as sa

    url = sa.engine.make_url(postgres_url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # unreachable, refused, no right to create: say which
        admin.dispose()
        raise RuntimeError(
            f"PostgreSQL at {url.host}:{url.port} could not give a database "
            f"for the run: {type(error).__name__}: {error}"
        ) from error
    try:
        yield name
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def production_env(postgres_url: str, redis_url: str, database: str) -> Dict[str, str]:
    """The environment values endpoints.production.yml reads, for one PostgreSQL database
    (on the server of `postgres_url`) and the Redis of `redis_url`."""
    from urllib.parse import urlsplit

    from sqlalchemy.engine import make_url

    pg, rd = make_url(postgres_url), urlsplit(redis_url)
    return {
        "DB_HOST": pg.host or "127.0.0.1",
        "DB_PORT": str(pg.port or 5432),
        "DB_NAME": database,
        "DB_USER": pg.username or "",
        "DB_PASSWORD": pg.password or "",
        "REDIS_HOST": rd.hostname or "127.0.0.1",
        "REDIS_PORT": str(rd.port or 6379),
        "REDIS_DB": rd.path.strip("/") or "1",
        "REDIS_PASSWORD": rd.password or "",
    }


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Stack:
    """The assistant's processes with ports and storage of their own."""

    def __init__(
        self,
        workdir: Path,
        *,
        model: Path = CURRENT_MODEL,
        label: str = "",
        edge: bool = True,
        rasa_servers: int = 1,
        production: Optional[Mapping[str, str]] = None,
        settings_file: Optional[Path] = None,
        extra_env: Optional[Mapping[str, str]] = None,
        endpoints_overrides: Optional[Mapping[str, object]] = None,
        frozen_clock: bool = False,
    ) -> None:
        """`frozen_clock`: the action server reads the time from a file `set_clock` writes
        (bot/frozen_clock.py; for tests only, the real time until a test sets one)."""
        if not Path(model).exists():
            raise RuntimeError(
                f"No trained model at {model}: run `make model` (make test does) first."
            )
        self.workdir = workdir
        self.model = Path(model)
        self.label = label
        self.with_edge = edge
        self.ports: Dict[str, int] = {"actions": free_port(), "edge": free_port()}
        for index in range(rasa_servers):
            self.ports[self._rasa_name(index)] = free_port()
        self.rasa_urls = [
            f"http://127.0.0.1:{self.ports[self._rasa_name(i)]}" for i in range(rasa_servers)
        ]
        self.rasa_url = self.rasa_urls[0] if self.rasa_urls else ""
        self.actions_url = f"http://127.0.0.1:{self.ports['actions']}"
        self.edge_url = f"http://127.0.0.1:{self.ports['edge']}"
        self.tracker_db = workdir / "tracker.db"
        self.handoff_db = workdir / "handoff.db"
        if production is None:
            endpoints = yaml.safe_load(ENDPOINTS.read_text(encoding="utf-8"))
            endpoints["action_endpoint"]["url"] = f"{self.actions_url}/webhook"
            if isinstance(endpoints.get("tracker_store"), dict):
                endpoints["tracker_store"]["db"] = str(self.tracker_db)
            endpoints.update(endpoints_overrides or {})
            self.endpoints_file = workdir / "endpoints.yml"
            self.endpoints_file.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
        else:
            self.endpoints_file = PRODUCTION_ENDPOINTS
        self.env = dict(
            os.environ,
            ACTIONS_PORT=str(self.ports["actions"]),
            EDGE_PORT=str(self.ports["edge"]),
            RASA_ENDPOINTS=str(self.endpoints_file),
            ACTIONS_URL=self.actions_url,
            HANDOFF_DB_URL=f"sqlite:///{self.handoff_db}",
            **QUIET_ENV,
        )
        if self.rasa_urls:
            self.env.update(RASA_PORT=str(self.ports["rasa"]), RASA_URL=self.rasa_url)
        if settings_file is not None:
            self.env["BOT_SETTINGS"] = str(settings_file)
        if production is not None:
            self.env.update(production, ACTION_SERVER_URL=f"{self.actions_url}/webhook")
        self.clock_file: Optional[Path] = None
        if frozen_clock:
            from bot import frozen_clock as clocks

            self.clock_file = workdir / "clock.txt"
            clocks.set_clock(self.clock_file, None)
            self.env.update({clocks.FLAG: "1", clocks.CLOCK_FILE: str(self.clock_file)})
        self.env.update(extra_env or {})
        self.processes: Dict[str, subprocess.Popen[bytes]] = {}
        self.logs: Dict[str, Path] = {}
        self.started_at = 0.0

    def set_clock(self, moment: Optional[datetime]) -> None:
        """The time the action server sees from now on (None: the real time again)."""
        from bot import frozen_clock as clocks

        if self.clock_file is None:
            raise RuntimeError("this stack was started without frozen_clock=True")
        clocks.set_clock(self.clock_file, moment)

    @staticmethod
    def _rasa_name(index: int) -> str:
        return "rasa" if index == 0 else f"rasa{index + 1}"

    def commands(self) -> Dict[str, List[str]]:
        """Each process's command line, by name ("actions", "rasa", "rasa2", ..., "edge")."""
        bot = [sys.executable, "-m", "bot"]
        commands = {"actions": [*bot, "serve-actions"]}
        for index in range(len(self.rasa_urls)):
            name = self._rasa_name(index)
            commands[name] = [
                *bot,
                "serve-rasa",
                "--model",
                str(self.model),
                "--port",
                str(self.ports[name]),
            ]
        if self.with_edge:
            commands["edge"] = [*bot, "edge", "--port", str(self.ports["edge"])]
        return commands

    def start(self, log_dir: Optional[Path] = None) -> "Stack":
        """Start every process at once, as `make run` does (the clock starts here)."""
        log_dir = log_dir or self.workdir
        self.started_at = time.monotonic()
        for name, command in self.commands().items():
            log = log_dir / (f"{self.label}-{name}.log" if self.label else f"{name}.log")
            self.logs[name] = log
            self.processes[name] = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_until_ready(self, timeout: float = 240) -> "Stack":
        """Wait until the edge's /healthz answers 200; without an edge, until every Rasa
        server answers a first message (with no Rasa server, until the action server's
        /health answers). Stop everything and raise if that never comes."""
        import requests

        deadline = time.monotonic() + timeout
        waiting = set(self.rasa_urls)
        while time.monotonic() < deadline:
            try:
                self.check_alive()
            except RuntimeError:
                self.stop()
                raise
            try:
                if self.with_edge:
                    if requests.get(f"{self.edge_url}/healthz", timeout=2).status_code == 200:
                        return self
                elif not self.rasa_urls:
                    if requests.get(f"{self.actions_url}/health", timeout=2).status_code == 200:
                        return self
                else:
                    for url in sorted(waiting):
                        if self.rasa(f"warm-up-{uuid.uuid4().hex}", "/start", url=url):
                            waiting.discard(url)
                    if not waiting:
                        return self
            except (requests.RequestException, ValueError):
                pass
            time.sleep(1)
        self.stop()
        raise RuntimeError(
            f"The {self.label or 'stack'} did not become ready in {timeout:.0f} s:\n{self.tail()}"
        )

    def check_alive(self) -> None:
        """Raise with the logs' tails when a process has exited."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(
                    f"The {self.label or 'stack'} {name} process exited early:\n{self.tail()}"
                )

    def tail(self, lines: int = 30) -> str:
        """The last lines of every process's log."""
        parts = []
        for name, log in self.logs.items():
            text = log.read_text(errors="replace").splitlines()[-lines:] if log.exists() else []
            parts.append(f"--- {self.label} {name} ---\n" + "\n".join(text))
        return "\n".join(parts)

    def stop(self) -> None:
        """SIGTERM every process group; SIGKILL what has not ended after 20 s."""
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)

    def rasa(self, sender: str, text: str, url: Optional[str] = None) -> List[dict]:
        """Send straight to a Rasa server's REST channel (as the edge does); its replies."""
        import requests

        reply = requests.post(
            f"{url or self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            timeout=90,
        )
        reply.raise_for_status()
        answer: List[dict] = reply.json()
        return answer
