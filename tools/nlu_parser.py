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
from typing import Any, Callable, Dict, List, Optional, Sequence

from bot.paths import CURRENT_MODEL

Parse = Dict[str, Any]
Parser = Callable[[str], Parse]
# Messages per run of the NLU graph in `parse_many`.
BATCH = 64


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

    def parse_many(self, texts: Sequence[str], batch: int = BATCH) -> List[Parse]:
        """Parse many texts, `batch` at a time through one run of the NLU graph: the same
        parse data as calling the parser on each (tests/model checks this), less overhead.

        Rasa's own `parse_message` runs the graph with a list of one message; every
        component of this pipeline processes a list, so a longer list is parsed alike.
        """
        from rasa.core.channels.channel import UserMessage
        from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
        from rasa.shared.core.trackers import DialogueStateTracker

        processor = self._agent.processor
        if processor is None:
            raise RuntimeError(f"the model at {self.model} did not load")
        target = processor.model_metadata.nlu_target
        parses: List[Parse] = []
        for start in range(0, len(texts), batch):
            messages = [UserMessage(text) for text in texts[start : start + batch]]
            tracker = DialogueStateTracker.from_events(messages[0].sender_id, [])
            results = processor.graph_runner.run(
                inputs={PLACEHOLDER_MESSAGE: messages, PLACEHOLDER_TRACKER: tracker},
                targets=[target],
            )
            for parsed in results[target]:
                data: Parse = {"text": "", "intent": {"name": None, "confidence": 0.0}}
                data["entities"] = []
                data.update(parsed.as_dict(only_output_properties=True))
                processor._update_full_retrieval_intent(data)
                parses.append(data)
        if len(parses) != len(texts):
            raise RuntimeError(f"{len(texts)} texts gave {len(parses)} parses")
        return parses

    def close(self) -> None:
        self._loop.close()
