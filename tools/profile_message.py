"""Where a message's time goes: NLU, policies, action server, responses, tracker store.

`python -m tools.profile_message` loads the trained model in this process with the
project's endpoints (the redacting SQL tracker store on a temporary SQLite file, the
settings NLG, and a real action server started by tools/stack.py on a free loopback
port), sends the benchmark's conversations (tools/bench.py) one message at a time, and
times each stage by wrapping the Rasa methods that do it. Each stage's time is exclusive
(a response rendered inside an action counts as responses, not as the action). Nothing is
sent concurrently, so the numbers are the cost of one message on an idle server: what
tuning can shave.

  --conversations N   how many conversations to time (default 5; one more warms up)
  --model PATH        default models/current.tar.gz
  --cprofile N        also print the N functions with the most own time (cProfile)
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import inspect
import io
import logging
import os
import pstats
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional

from bot.paths import CURRENT_MODEL
from tools import bench
from tools.stack import Stack

STAGES = ("nlu", "policies", "action_server", "responses", "store_load", "store_save")


class StageTimer:
    """Exclusive wall time per stage: a nested stage's time is taken off its parent's."""

    def __init__(self) -> None:
        self.totals: Dict[str, float] = dict.fromkeys(STAGES, 0.0)
        self.calls: Dict[str, int] = dict.fromkeys(STAGES, 0)
        self._stack: List[List[float]] = []  # [start, time spent in nested stages]

    def enter(self) -> None:
        self._stack.append([time.perf_counter(), 0.0])

    def leave(self, stage: str) -> None:
        started, nested = self._stack.pop()
        spent = time.perf_counter() - started
        self.totals[stage] += spent - nested
        self.calls[stage] += 1
        if self._stack:
            self._stack[-1][1] += spent

    def snapshot(self) -> Dict[str, float]:
        return dict(self.totals)


def instrument(owner: type, name: str, stage: str, timer: StageTimer) -> None:
    """Replace owner.name by a wrapper that reports its time as `stage`."""
    original = getattr(owner, name)
    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            timer.enter()
            try:
                return await original(*args, **kwargs)
            finally:
                timer.leave(stage)

        setattr(owner, name, timed_async)
    else:

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            timer.enter()
            try:
                return original(*args, **kwargs)
            finally:
                timer.leave(stage)

        setattr(owner, name, timed)


async def profile(
    model: Path, endpoints: Path, conversations: int, profiler: Optional[cProfile.Profile]
) -> Dict[str, Any]:
    """Load the agent, instrument it, run the conversations; per-message stage times."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import load_agent
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import FailSafeTrackerStore
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    # The log level `rasa run` uses: debug logging would be timed as well.
    configure_logging_and_warnings(logging.INFO)
    configure_structlog(logging.INFO)
    loading = time.perf_counter()
    agent = await load_agent(
        model_path=str(model), endpoints=AvailableEndpoints.read_endpoints(str(endpoints))
    )
    load_seconds = time.perf_counter() - loading
    timer = StageTimer()
    store = agent.tracker_store
    while isinstance(store, FailSafeTrackerStore):
        store = store._tracker_store
    instrument(MessageProcessor, "parse_message", "nlu", timer)
    instrument(MessageProcessor, "_predict_next_with_tracker", "policies", timer)
    instrument(RemoteAction, "run", "action_server", timer)
    instrument(type(agent.nlg), "generate", "responses", timer)
    instrument(type(store), "retrieve", "store_load", timer)
    instrument(type(store), "save", "store_save", timer)

    corpus = bench.load_corpus()
    rng = random.Random("profile")
    rows: List[Dict[str, Any]] = []
    for index in range(conversations + 1):  # the first one warms up
        sender = f"profile-{uuid.uuid4().hex}"
        last: List[Dict[str, Any]] = []
        for step in bench.conversation(corpus, rng):
            buttons = [b for m in last for b in (m.get("buttons") or [])]
            button = bench.pick_button(buttons, step.prefer)
            text = button["payload"] if button else step.text
            before = timer.snapshot()
            if profiler is not None and index:
                profiler.enable()
            started = time.perf_counter()
            last = await agent.handle_text(text, sender_id=sender) or []
            total = time.perf_counter() - started
            if profiler is not None and index:
                profiler.disable()
            if index:
                after = timer.snapshot()
                row = {stage: after[stage] - before[stage] for stage in STAGES}
                row.update(kind=step.kind, total=total, answered=bool(last), text=text)
                rows.append(row)
    return {"rows": rows, "load_seconds": load_seconds, "store": type(store).__name__}


def report(result: Dict[str, Any]) -> str:
    """A table of mean milliseconds per message by stage, and by kind of message."""
    rows = result["rows"]
    count = len(rows)
    total = sum(row["total"] for row in rows)
    lines = [
        f"Model loaded in {result['load_seconds']:.1f} s; {count} messages timed "
        f"(tracker store {result['store']}); unanswered: "
        f"{sum(not row['answered'] for row in rows)}.",
        "",
        f"{'stage':<15}{'ms/message':>12}{'share':>8}",
    ]
    accounted = 0.0
    for stage in STAGES:
        spent = sum(row[stage] for row in rows)
        accounted += spent
        lines.append(f"{stage:<15}{1000 * spent / count:>12.1f}{100 * spent / total:>7.0f}%")
    other = total - accounted
    lines.append(f"{'other':<15}{1000 * other / count:>12.1f}{100 * other / total:>7.0f}%")
    lines.append(f"{'total':<15}{1000 * total / count:>12.1f}{100:>7.0f}%")
    lines += [
        "",
        f"{'message kind':<24}{'n':>4}{'total ms':>10}"
        + "".join(f"{stage[:10]:>12}" for stage in STAGES),
    ]
    for kind in sorted({row["kind"] for row in rows}):
        chosen = [row for row in rows if row["kind"] == kind]
        means = {
            key: 1000 * sum(row[key] for row in chosen) / len(chosen) for key in ("total", *STAGES)
        }
        lines.append(
            f"{kind:<24}{len(chosen):>4}{means['total']:>10.1f}"
            + "".join(f"{means[stage]:>12.1f}" for stage in STAGES)
        )
    silent = [row for row in rows if not row["answered"]]
    if silent:
        lines += ["", "Messages that got no answer at all:"]
        lines += [f"  {row['kind']}: {row['text']!r}" for row in silent]
    lines += [
        "",
        "'other' is Rasa's own bookkeeping between stages (locks, events, "
        "tracker copies, featurising the dialogue for the policies is in 'policies').",
    ]
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.profile_message",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--conversations", type=int, default=5)
    parser.add_argument("--model", default=str(CURRENT_MODEL))
    parser.add_argument("--cprofile", type=int, default=0, metavar="N")
    options = parser.parse_args(argv)
    if options.conversations < 1:
        parser.error("--conversations must be 1 or more")
    model = Path(options.model)
    if not model.exists():
        print(f"error: no model at {options.model}: run `make model` first.", file=sys.stderr)
        return 1
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    profiler = cProfile.Profile() if options.cprofile else None
    with tempfile.TemporaryDirectory(prefix="profile-") as tmp:
        # The action server only: Rasa runs in this process, on the stack's endpoints file
        # (its action server, a tracker database of its own).
        stack = Stack(Path(tmp), model=model, edge=False, rasa_servers=0)
        try:
            stack.start().wait_until_ready(timeout=120)
        except RuntimeError as problem:
            print(f"error: {problem}", file=sys.stderr)
            return 1
        try:
            result = asyncio.run(
                profile(model, stack.endpoints_file, options.conversations, profiler)
            )
        finally:
            stack.stop()
    print(report(result))
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(options.cprofile)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
