"""The one way to parse text with a trained model in this process (no servers).

Every message goes through the model's full NLU pipeline, the project's own components
included (contact mask, FAQ guard, contact detector, safeguarding override), exactly as
`rasa run` would parse it. Used by `make eval`, the redaction evaluation and the tests
that need the trained model.
"""

from __future__ import annotations

import asyncio
import logging
import os
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from bot.paths import CURRENT_MODEL

Parse = Dict[str, Any]
Parser = Callable[[str], Parse]


class NluParser:
    """A loaded model and an event loop of its own; call it with a text, `close()` at the end."""

    def __init__(self, model: Optional[Path] = None, quiet: bool = False) -> None:
        """Load `model` (default: NLU_MODEL if set, else models/current.tar.gz).

        `quiet` silences Rasa's logging below WARNING (at DEBUG Rasa would print every
        parsed text) and its deprecation chatter: for command-line measurements.
        """
        chosen = Path(model or os.environ.get("NLU_MODEL") or CURRENT_MODEL)
        if not chosen.exists():
            raise FileNotFoundError(f"no trained model at {chosen}: run `make model` first")
        if quiet:
            for category in (DeprecationWarning, FutureWarning, UserWarning):
                warnings.filterwarnings("ignore", category=category)
        from rasa.core.agent import Agent

        if quiet:
            from rasa.utils.log_utils import configure_structlog

            configure_structlog(logging.WARNING)
            logging.getLogger().setLevel(logging.WARNING)
        self.model = chosen
        self._agent = Agent.load(str(chosen))
        self._loop = asyncio.new_event_loop()

    def __call__(self, text: str) -> Parse:
        result: Parse = self._loop.run_until_complete(self._agent.parse_message(text))
        return result

    def close(self) -> None:
        self._loop.close()
