"""Start-up checks and the commands `make run` (through the Procfile) uses to start servers.

Rasa and the action server bind to 127.0.0.1 only; Rasa's HTTP API stays off unless an
auth token is set. Problems are reported in one clear line and a non-zero exit.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from bot import settings
from bot.paths import CURRENT_MODEL, PROJECT_ROOT

PORTS: Dict[str, int] = {
    "action server": int(os.environ.get("ACTIONS_PORT", "5055")),
    "Rasa": int(os.environ.get("RASA_PORT", "5005")),
    "edge app": int(os.environ.get("EDGE_PORT", "8000")),
}
MIN_TOKEN_LENGTH = 24


class StartupProblem(Exception):
    """Something that stops the assistant starting, said in one line."""


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something already listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def check_ports(ports: Dict[str, int] = PORTS) -> None:
    """Raise StartupProblem naming the first port that is already taken."""
    for name, port in ports.items():
        if port_in_use(port):
            raise StartupProblem(
                f"Port {port} (for the {name}) is already in use: stop whatever is using it "
                f"(e.g. an earlier `make run`) and try again."
            )


def rasa_command(env: Dict[str, str], model: str, port: Optional[int] = None) -> List[str]:
    """The `rasa run` command line: loopback, REST channel, HTTP API off unless a token is set."""
    command = [
        "rasa",
        "run",
        "--model",
        model,
        "--interface",
        "127.0.0.1",
        "--port",
        str(port or PORTS["Rasa"]),
        "--credentials",
        "credentials.yml",
        "--endpoints",
        env.get("RASA_ENDPOINTS", "endpoints.yml"),
        "--response-timeout",
        str(settings.load().edge.rasa_response_timeout_seconds),
    ]
    if env.get("RASA_ENABLE_API", "").lower() in {"1", "true", "yes"}:
        token = env.get("RASA_AUTH_TOKEN", "")
        if len(token) < MIN_TOKEN_LENGTH:
            raise StartupProblem(
                f"RASA_ENABLE_API is set but RASA_AUTH_TOKEN is missing or shorter than "
                f"{MIN_TOKEN_LENGTH} characters: refusing to open Rasa's HTTP API without it."
            )
        command += ["--enable-api", "--auth-token", token]
    return command


def rasa_env(env: Dict[str, str]) -> Dict[str, str]:
    """The environment `rasa run` gets: Sanic's response timeout from the settings.

    Rasa 3.6 applies --response-timeout only with its HTTP API on; with the API off (as
    here) Sanic's own default (60 s) applied, far above the edge's wait. Sanic reads
    SANIC_RESPONSE_TIMEOUT when the app is made, API on or off.
    """
    timeout = settings.load().edge.rasa_response_timeout_seconds
    return {**env, "SANIC_RESPONSE_TIMEOUT": str(timeout)}


def exec_rasa(
    model: Optional[Path] = None, port: Optional[int] = None, argv: Sequence[str] = ()
) -> None:
    """Replace this process with `rasa run` (used by the Procfile; by default on
    models/current.tar.gz and RASA_PORT, else 5005)."""
    env = rasa_env(dict(os.environ))
    command = rasa_command(env, model=str(model or CURRENT_MODEL), port=port)
    binary = str(Path(sys.executable).with_name("rasa"))
    os.chdir(PROJECT_ROOT)
    os.execve(binary, [binary, *command[1:], *argv], env)


def exec_actions() -> None:
    """Replace this process with the action server, bound to 127.0.0.1."""
    env = dict(os.environ, SANIC_HOST="127.0.0.1")
    binary = str(Path(sys.executable).with_name("rasa"))
    os.chdir(PROJECT_ROOT)
    os.execve(
        binary,
        [binary, "run", "actions", "--actions", "actions", "--port", str(PORTS["action server"])],
        env,
    )


def exec_test_stories() -> None:
    """Replace this process with `rasa test core` on the test stories (part of `make test`).

    --e2e: NLU predicts each test message's intent from its text (without it, Rasa takes
    the intent written in the story and never checks the text).
    """
    binary = str(Path(sys.executable).with_name("rasa"))
    os.chdir(PROJECT_ROOT)
    command = [
        binary,
        "test",
        "core",
        "--stories",
        "tests/conversations",
        "--fail-on-prediction-errors",
        "--e2e",
        "--model",
        str(CURRENT_MODEL),
        "--endpoints",
        "endpoints.yml",
        "--out",
        "build/rasa-test",
    ]
    os.execve(binary, command, dict(os.environ))
