"""Benchmark (not a test): the project's assistant against Rasa's default configuration.

`python -m tools.bench` (what `make bench` runs) does, in one run on one machine:

1. Training. The same domain and data are trained with Rasa's default configuration (the
   pipeline and policies Rasa's auto-configuration fills in when `config.yml` leaves them
   out, as the file `rasa init` writes does) into build/bench/models/, only when its inputs
   changed; its training time is recorded. The project's own training time is the one last
   recorded here, or measured afresh with --retrain (trained into build/bench/models/ too,
   so models/ is never touched).
2. For each model: the action server and Rasa (and, for the project, the edge app) start
   on free loopback ports with their own SQLite files; the time from start to the first
   answer is measured; then realistic multi-turn conversations (FAQ, follow-up button, typed
   follow-up, out of scope, decline, ask for a person, decline) run at 1, 10 and 50
   concurrent conversations through Rasa's REST channel, and for the project through the
   edge API too. Every request's latency is kept; non-200 answers, empty replies and
   timeouts count as errors. The resident memory of every process (and its children) is
   sampled from /proc, and each process's kernel-recorded peak (VmHWM) is read at the end.
3. Output into build/bench/ (git-ignored): results.json, results.md (tables with the date
   and the machine) and latency.png.

4. Crisis messages: the project's model parses the crisis set (tests/nlu/crisis, both
   rounds) and as many held-out FAQ messages in this process (tools/nlu_parser.py); per
   message latency (mean, p95) of each, and the time the safeguarding override takes to
   apply its decision to a parse holding the spaCy doc (`apply_decision`, which copies
   only the fields it changes). `--crisis-only` runs just this part.

`--scale-out 1,2` measures instead the project on one, then two Rasa servers (one action
server) sharing a PostgreSQL database made for the run and Redis, through
endpoints.production.yml, each message going to the next server in turn: scale-out.json
and scale-out.md.

Message texts come from the held-out test sets (tests/nlu/*.yml, read by tools/corpus.py;
the crisis set left out) and the answers' own buttons, so both models see the same
conversations. The edge app's per-address rate limit is raised for the run (every
simulated parent comes from 127.0.0.1); nothing else differs from the project's settings.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import yaml

from bot import settings as settings_module
from bot.intents import REQUEST_HUMAN, RETRIEVAL_INTENTS
from bot.ops import spacy_pipeline, training
from bot.paths import BUILD_DIR, CONFIG, CURRENT_MODEL, DOMAIN, PROJECT_ROOT, TRAINING_DATA
from tools import corpus as corpus_reader
from tools.machine import machine
from tools.stack import Stack, production_env, scratch_database

OUT_DIR = BUILD_DIR / "bench"
BENCH_MODELS = OUT_DIR / "models"
TRAINING_RECORD = OUT_DIR / "training.json"
LEVELS: Tuple[int, ...] = (1, 10, 50)
REQUEST_TIMEOUT_S = 30.0
STARTUP_TIMEOUT_S = 300.0

# The targets, on a 2-core machine at 10 concurrent conversations.
TARGETS: Dict[str, float] = {
    "throughput_ratio_at_10": 3.0,  # project msg/s over the default configuration's
    "edge_p95_ms_at_10": 250.0,
    "errors": 0,
    "rasa_peak_rss_mb": 1024.0,
    "first_answer_s": 30.0,
    "training_s": 300.0,
}


# --------------------------------------------------------------------------- crisis path
def crisis_texts() -> List[str]:
    """The crisis messages of tests/nlu/crisis (every file with `categories`)."""
    texts: List[str] = []
    for path in corpus_reader.nlu_files(corpus_reader.CRISIS_DIR):
        texts += [example.text for example in corpus_reader.read_file(path)]
    return texts


def bench_crisis(model: Path, corpus: "Corpus") -> Dict[str, Any]:
    """Crisis messages against FAQ messages through the project's NLU, in this process,
    and the cost of applying a safeguarding decision to a parse with its spaCy doc."""
    from bot.nlu.crisis_patterns import default_patterns, make_doc, match_text
    from bot.nlu.safeguarding import SPACY_DOC_KEY, apply_decision, decide
    from tools.nlu_parser import NluParser

    crisis = crisis_texts()
    faq = [text for intents in corpus.faq.values() for texts in intents.values() for text in texts]
    faq = faq[: len(crisis)]
    parser = NluParser(model, quiet=True)
    try:
        parser(crisis[0])  # warm up: the first parse builds the matchers
        timings: Dict[str, List[float]] = {"crisis": [], "faq": []}
        caught = 0
        for label, texts in (("crisis", crisis), ("faq", faq)):
            for text in texts:
                start = time.perf_counter()
                parse = parser(text)
                timings[label].append((time.perf_counter() - start) * 1000)
                if label == "crisis" and parse.get("safeguarding", {}).get("intent"):
                    caught += 1
    finally:
        parser.close()
    patterns = default_patterns()
    apply_ms: List[float] = []
    for text in crisis:
        doc = make_doc(text)
        result = match_text(text, patterns)
        parse = {
            "text": text,
            "intent": {"name": "nlu_fallback", "confidence": 0.3},
            "intent_ranking": [],
            SPACY_DOC_KEY: doc,
        }
        decision = decide(parse, result, 0.3, 0.3)
        start = time.perf_counter()
        apply_decision(parse, decision)
        apply_ms.append((time.perf_counter() - start) * 1000)

    def stats(values: List[float]) -> Dict[str, Any]:
        return {
            "messages": len(values),
            "mean_ms": _round(sum(values) / len(values)) if values else None,
            "p95_ms": _round(percentile(values, 95)),
        }

    return {
        "crisis": stats(timings["crisis"]),
        "faq": stats(timings["faq"]),
        "crisis_answered_by_override": caught,
        "apply_decision": stats(apply_ms),
    }


def crisis_markdown(result: Dict[str, Any]) -> List[str]:
    """The crisis-path table for results.md."""
    lines = [
        "",
        "| Crisis path (in-process NLU) | Messages | Mean ms | p95 ms |",
        "|---|---:|---:|---:|",
    ]
    for key, title in (
        ("crisis", "crisis messages, full parse"),
        ("faq", "FAQ messages, full parse"),
        ("apply_decision", "apply_decision with the spaCy doc"),
    ):
        row = result[key]
        lines.append(
            f"| {title} | {row['messages']} | {_cell(row['mean_ms'])} | {_cell(row['p95_ms'])} |"
        )
    lines.append(
        f"\nCrisis messages given a crisis intent or a check-in by the override: "
        f"{result['crisis_answered_by_override']} of {result['crisis']['messages']}."
    )
    return lines


# --------------------------------------------------------------------------- messages
@dataclass(frozen=True)
class Corpus:
    """Typed messages by purpose, for building conversations."""

    faq: Dict[str, Dict[str, List[str]]]  # topic -> intent -> texts
    out_of_scope: List[str]
    request_human: List[str]
    deny: List[str]
    source: str


def load_corpus() -> Corpus:
    """Texts from the held-out test sets (tests/nlu, crisis set left out); the training
    data if those are absent. Button payloads ("/...") are not typed texts: left out."""
    source = corpus_reader.HELD_OUT
    examples = corpus_reader.held_out(crisis=False)
    if not examples:
        source = corpus_reader.TRAINING
        examples = corpus_reader.training()
    by_intent = corpus_reader.by_label([e for e in examples if not e.text.startswith("/")])
    faq: Dict[str, Dict[str, List[str]]] = {}
    for intent, texts in by_intent.items():
        topic, _, _sub = intent.partition("/")
        if topic in RETRIEVAL_INTENTS and texts:
            faq.setdefault(topic, {})[intent] = texts
    corpus = Corpus(
        faq=faq,
        out_of_scope=by_intent.get("out_of_scope", []),
        request_human=by_intent.get(REQUEST_HUMAN, []),
        deny=by_intent.get("deny", []),
        source=str(source.relative_to(PROJECT_ROOT)),
    )
    missing = [
        name
        for name, value in (
            ("FAQ", faq),
            ("out_of_scope", corpus.out_of_scope),
            ("request_human", corpus.request_human),
            ("deny", corpus.deny),
        )
        if not value
    ]
    if missing:
        raise SystemExit(f"error: no example texts for {', '.join(missing)} in {corpus.source}")
    return corpus


@dataclass(frozen=True)
class Step:
    """One turn: a typed text, or a button the last answer offered (typed text otherwise)."""

    kind: str
    text: str
    prefer: Optional[str] = None  # payload prefix of the button to click, if offered


def conversation(corpus: Corpus, rng: random.Random) -> List[Step]:
    """A realistic session: FAQ, follow-up button, typed follow-up, out of scope, decline,
    ask for a person, decline. The first step opens the session (the widget's /start)."""
    topic = rng.choice(sorted(corpus.faq))
    intents = sorted(corpus.faq[topic])
    first, second = rng.sample(intents, 2) if len(intents) > 1 else (intents[0], intents[0])
    return [
        Step("start", "/start"),
        Step("faq", rng.choice(corpus.faq[topic][first])),
        Step("follow_up_button", rng.choice(corpus.faq[topic][second]), prefer="/choose_faq"),
        Step("follow_up_typed", rng.choice(corpus.faq[topic][second])),
        Step("out_of_scope", rng.choice(corpus.out_of_scope)),
        Step("decline", rng.choice(corpus.deny), prefer="/deny"),
        Step("handoff", rng.choice(corpus.request_human)),
        Step("decline", rng.choice(corpus.deny), prefer="/deny"),
    ]


def pick_button(
    buttons: Sequence[Dict[str, str]], prefer: Optional[str]
) -> Optional[Dict[str, str]]:
    """The first offered button whose payload starts with `prefer`, if any."""
    if prefer is None:
        return None
    for button in buttons:
        if str(button.get("payload", "")).startswith(prefer):
            return button
    return None


# --------------------------------------------------------------------------- clients
@dataclass
class Reply:
    """What one request gave back: HTTP status, the bot's messages and offered buttons."""

    status: int
    messages: List[Dict[str, Any]]

    @property
    def buttons(self) -> List[Dict[str, str]]:
        return [b for m in self.messages for b in (m.get("buttons") or []) if isinstance(b, dict)]


class RestPath:
    """Rasa's REST channel, as the edge app calls it. With several servers, each request
    goes to the next one in turn (a round-robin load balancer with no sticky sessions)."""

    name = "rest"

    def __init__(self, base_urls: Sequence[str]) -> None:
        self.urls = itertools.cycle([f"{url}/webhooks/rest/webhook" for url in base_urls])

    async def open(self, http: Any) -> Tuple[Reply, Dict[str, str]]:
        state = {"sender": f"bench-{uuid.uuid4().hex}"}
        return await self.send(http, state, "/start", None), state

    async def send(
        self, http: Any, state: Dict[str, str], text: str, button: Optional[Dict[str, str]]
    ) -> Reply:
        message = button["payload"] if button else text
        async with http.post(
            next(self.urls), json={"sender": state["sender"], "message": message}
        ) as r:
            body = await r.json(content_type=None) if r.status == 200 else []
            return Reply(r.status, body if isinstance(body, list) else [])


class EdgePath:
    """The edge app's public API, as the widget calls it."""

    name = "edge"

    def __init__(self, base_url: str) -> None:
        self.base = base_url

    async def open(self, http: Any) -> Tuple[Reply, Dict[str, str]]:
        async with http.post(f"{self.base}/api/session", json={}) as r:
            body = await r.json(content_type=None)
            state = {"session": str(body.get("session", ""))} if isinstance(body, dict) else {}
            status = 200 if r.status == 201 else r.status
            return Reply(
                status, list(body.get("messages") or []) if isinstance(body, dict) else []
            ), state

    async def send(
        self, http: Any, state: Dict[str, str], text: str, button: Optional[Dict[str, str]]
    ) -> Reply:
        body: Dict[str, str] = {"session": state.get("session", "")}
        if button:
            body.update(payload=button["payload"], title=str(button.get("title", "")))
        else:
            body["text"] = text
        async with http.post(f"{self.base}/api/message", json=body) as r:
            data = await r.json(content_type=None)
            messages = list(data.get("messages") or []) if isinstance(data, dict) else []
            return Reply(r.status, messages)


@dataclass
class Sample:
    """One request's outcome."""

    kind: str
    started: float
    seconds: float
    ok: bool
    error: str = ""


async def run_conversation(
    path: Any, http: Any, steps: List[Step], samples: List[Sample], should_stop: Callable[[], bool]
) -> None:
    """Send one conversation's turns in order, recording each; stop between turns when told."""
    state: Dict[str, str] = {}
    last: Optional[Reply] = None
    for index, step in enumerate(steps):
        if index and should_stop():
            return
        button = pick_button(last.buttons, step.prefer) if last else None
        kind = step.kind if (step.prefer is None or button) else f"{step.kind}_typed"
        started = time.monotonic()
        try:
            if index == 0:
                last, state = await path.open(http)
            else:
                last = await path.send(http, state, step.text, button)
        except Exception as error:  # refused, reset, timed out, not JSON: all count as errors
            samples.append(
                Sample(kind, started, time.monotonic() - started, False, type(error).__name__)
            )
            if index == 0:
                return
            last = None
            continue
        seconds = time.monotonic() - started
        if last.status != 200:
            samples.append(Sample(kind, started, seconds, False, f"HTTP {last.status}"))
        elif not last.messages:
            samples.append(Sample(kind, started, seconds, False, "empty reply"))
        else:
            samples.append(Sample(kind, started, seconds, True))


def percentile(values: Sequence[float], p: float) -> Optional[float]:
    """Nearest-rank percentile (p in 0..100) of `values`; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, int(-(-p * len(ordered) // 100)))  # ceil(p/100 * n)
    return ordered[min(rank, len(ordered)) - 1]


def summarise(samples: List[Sample], elapsed: float) -> Dict[str, Any]:
    """Throughput, latency percentiles (ms) and errors of one load level."""
    ok = [s.seconds * 1000 for s in samples if s.ok]
    errors: Dict[str, int] = {}
    for sample in samples:
        if not sample.ok:
            errors[sample.error] = errors.get(sample.error, 0) + 1
    by_kind: Dict[str, Dict[str, Any]] = {}
    for kind in sorted({s.kind for s in samples}):
        values = [s.seconds * 1000 for s in samples if s.ok and s.kind == kind]
        failed = sum(1 for s in samples if not s.ok and s.kind == kind)
        by_kind[kind] = {
            "n": len(values),
            "errors": failed,
            "p50_ms": _round(percentile(values, 50)),
            "p95_ms": _round(percentile(values, 95)),
        }
    return {
        "messages": len(ok),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "seconds": round(elapsed, 2),
        "msg_per_s": round(len(ok) / elapsed, 2) if elapsed > 0 else 0.0,
        "p50_ms": _round(percentile(ok, 50)),
        "p95_ms": _round(percentile(ok, 95)),
        "p99_ms": _round(percentile(ok, 99)),
        "mean_ms": _round(sum(ok) / len(ok)) if ok else None,
        "by_step": by_kind,
    }


def _round(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 1)


async def run_level(
    path: Any,
    corpus: Corpus,
    concurrency: int,
    duration: float,
    max_messages: Optional[int],
    seed: int,
) -> Dict[str, Any]:
    """`concurrency` parents, each starting a new conversation when one ends, for `duration`
    seconds (or until `max_messages` requests); a request under way is waited for."""
    import aiohttp

    samples: List[Sample] = []
    started = time.monotonic()
    stop_at = started + duration

    def should_stop() -> bool:
        return time.monotonic() >= stop_at or (
            max_messages is not None and len(samples) >= max_messages
        )

    async def parent(index: int) -> None:
        rng = random.Random(f"{seed}-{index}")
        while not should_stop():
            await run_conversation(path, http, conversation(corpus, rng), samples, should_stop)

    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(
        timeout=timeout, connector=aiohttp.TCPConnector(limit=0)
    ) as http:
        await asyncio.gather(*(parent(i) for i in range(concurrency)))
    elapsed = max((s.started + s.seconds for s in samples), default=started) - started
    return summarise(samples, elapsed)


async def warm_up(path: Any, corpus: Corpus) -> List[Sample]:
    """One whole conversation, not recorded: lazy set-up (first graph runs, first database
    connections) is paid before measuring."""
    import aiohttp

    samples: List[Sample] = []
    async with aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    ) as http:
        await run_conversation(
            path, http, conversation(corpus, random.Random("warm-up")), samples, lambda: False
        )
    return samples


# --------------------------------------------------------------------------- processes
def _children() -> Dict[int, List[int]]:
    """ppid -> child pids, from /proc."""
    tree: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces: fields after the closing parenthesis.
        fields = stat.rsplit(")", 1)[1].split()
        tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def process_tree(pid: int) -> List[int]:
    """`pid` and all its descendants."""
    tree = _children()
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, []))
    return found


def memory_kb(pid: int, field_name: str) -> int:
    """VmRSS or VmHWM (peak) of one process in kB from /proc/<pid>/status; 0 if gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class MemorySampler:
    """Samples the resident memory of named process trees in a background thread.

    `peak_tree_mb` is the largest sampled sum over a process and its children;
    `hwm_mb` is the kernel's own peak (VmHWM) summed over the tree, read at `stop()`.
    """

    def __init__(self, pids: Dict[str, int], interval: float = 0.5) -> None:
        self.pids = pids
        self.interval = interval
        self.peak_tree_kb: Dict[str, int] = dict.fromkeys(pids, 0)
        self.hwm_kb: Dict[str, int] = dict.fromkeys(pids, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "MemorySampler":
        self._thread.start()
        return self

    def _sample(self) -> None:
        for name, pid in self.pids.items():
            members = process_tree(pid)
            total = sum(memory_kb(member, "VmRSS") for member in members)
            self.peak_tree_kb[name] = max(self.peak_tree_kb[name], total)
            hwm = sum(memory_kb(member, "VmHWM") for member in members)
            self.hwm_kb[name] = max(self.hwm_kb[name], hwm)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def stop(self) -> Dict[str, Dict[str, float]]:
        self._sample()
        self._stop.set()
        self._thread.join(timeout=5)
        return {
            name: {
                "peak_mb": round(max(self.hwm_kb[name], self.peak_tree_kb[name]) / 1024, 1),
                "sampled_peak_mb": round(self.peak_tree_kb[name] / 1024, 1),
                "pid": self.pids[name],
            }
            for name in self.pids
        }


async def first_answers(stack: Stack) -> Dict[str, float]:
    """Seconds from the processes' start to the first real answer, per path (and server)."""
    import aiohttp

    paths: List[Tuple[str, Any]] = [
        ("rest" if index == 0 else f"rest{index + 1}", RestPath([url]))
        for index, url in enumerate(stack.rasa_urls)
    ]
    if stack.with_edge:
        paths.append(("edge", EdgePath(stack.edge_url)))
    result: Dict[str, float] = {}
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)

    async def wait_for(name: str, path: Any) -> None:
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while True:
                stack.check_alive()
                if time.monotonic() - stack.started_at > STARTUP_TIMEOUT_S:
                    raise RuntimeError(
                        f"No answer from the {stack.label} {name} path in "
                        f"{STARTUP_TIMEOUT_S:.0f} s:\n{stack.tail()}"
                    )
                try:
                    reply, _state = await path.open(http)
                    if reply.status == 200 and reply.messages:
                        result[name] = round(time.monotonic() - stack.started_at, 2)
                        return
                except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                    pass
                await asyncio.sleep(0.2)

    await asyncio.gather(*(wait_for(name, path) for name, path in paths))
    return result


LONG_POST_SENDS = 10


def long_post_text(cap: int) -> str:
    """A post of exactly `cap` characters, made of the project's own long posts
    (tests/nlu/long_posts.yml) one after another, cut at the cap."""
    from tools import long_posts

    text = ""
    for post in long_posts.load(long_posts.DEV_SET):
        text = f"{text} {post.text}".strip()
        if len(text) >= cap:
            break
    return text[:cap].rstrip() + "x" * (cap - len(text[:cap].rstrip()))


async def long_post_times(path: "EdgePath", cap: int) -> Dict[str, Any]:
    """A post of the whole cap, sent through the edge (its checks, NLU with the crisis
    override, the actions, the redacting tracker store) LONG_POST_SENDS times, one at a
    time, each in a new session: milliseconds per post."""
    import aiohttp

    text = long_post_text(cap)
    times: List[float] = []
    statuses: List[int] = []
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        for _ in range(LONG_POST_SENDS):
            _reply, state = await path.open(http)
            started = time.monotonic()
            reply = await path.send(http, state, text, None)
            times.append((time.monotonic() - started) * 1000)
            statuses.append(reply.status)
    return {
        "chars": len(text),
        "sends": len(times),
        "p50_ms": _round(percentile(times, 50)),
        "max_ms": _round(max(times)),
        "errors": sum(status != 200 for status in statuses),
    }


# --------------------------------------------------------------------------- training
def rasa_default_config(epochs: Optional[int] = None) -> Dict[str, Any]:
    """The configuration Rasa's auto-configuration fills in (installed Rasa's own file).

    `epochs` (only for a quick look on a busy machine) replaces every component's epochs:
    the trained model has the same size, so serving costs the same, but it is less trained.
    """
    spec = importlib.util.find_spec("rasa")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("error: Rasa is not installed in this environment")
    source = (
        Path(next(iter(spec.submodule_search_locations)))
        / "engine"
        / "recipes"
        / "config_files"
        / "default_config.yml"
    )
    config = yaml.safe_load(source.read_text(encoding="utf-8"))
    config["assistant_id"] = "rasa-default-config"
    if epochs is not None:
        for item in [*(config.get("pipeline") or []), *(config.get("policies") or [])]:
            if "epochs" in item:
                item["epochs"] = epochs
    return config


def default_model_inputs() -> List[Path]:
    """What the default-configuration model is built from: the domain and training data."""
    return [DOMAIN, *sorted(TRAINING_DATA.rglob("*.yml"))]


def read_training_record() -> Dict[str, Any]:
    try:
        return json.loads(TRAINING_RECORD.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_training_record(record: Dict[str, Any]) -> None:
    TRAINING_RECORD.parent.mkdir(parents=True, exist_ok=True)
    TRAINING_RECORD.write_text(json.dumps(record, indent=2), encoding="utf-8")


def train(config_file: Path, name: str) -> float:
    """`rasa train` into build/bench/models (cache skipped), returning wall seconds."""
    BENCH_MODELS.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        RASA_TELEMETRY_ENABLED="false",
        RASA_CACHE_DIRECTORY=str(OUT_DIR / "rasa-cache"),
    )
    log = OUT_DIR / "logs" / f"train-{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [
        str(Path(sys.executable).with_name("rasa")),
        "train",
        "--config",
        str(config_file),
        "--domain",
        "domain.yml",
        "--data",
        "data",
        "--out",
        str(BENCH_MODELS),
        "--fixed-model-name",
        name,
        "--force",
    ]
    print(f"Training {name} (log: {log.relative_to(PROJECT_ROOT)}) ...", flush=True)
    started = time.monotonic()
    with log.open("wb") as out:
        result = subprocess.run(
            command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    seconds = time.monotonic() - started
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise SystemExit(f"error: training {name} failed (exit {result.returncode}):\n{tail}")
    print(f"Trained {name} in {seconds:.0f} s", flush=True)
    return seconds


def ensure_default_model(epochs: Optional[int] = None) -> Tuple[Path, Dict[str, Any]]:
    """Train the default-configuration model when its inputs changed; its training record."""
    config = rasa_default_config(epochs)
    config_text = yaml.safe_dump(config, sort_keys=False)
    name = f"default-{training.fingerprint(default_model_inputs(), [config_text])}"
    model = BENCH_MODELS / f"{name}.tar.gz"
    record = read_training_record()
    if not model.exists():
        config_file = OUT_DIR / "default-config.yml"
        config_file.parent.mkdir(parents=True, exist_ok=True)
        config_file.write_text(
            "# Rasa's default configuration (auto-config), for the benchmark\n" + config_text,
            encoding="utf-8",
        )
        seconds = train(config_file, name)
        entry = {"model": model.name, "seconds": round(seconds, 1), "trained_at": _now()}
        if epochs is not None:
            entry["note"] = (
                f"epochs reduced to {epochs} (--default-epochs): training time not comparable"
            )
        record.setdefault("default", {})[model.name] = entry
        write_training_record(record)
    entry = (record.get("default") or {}).get(model.name) or {
        "model": model.name,
        "seconds": None,
        "note": "model built earlier without a recorded time",
    }
    return model, entry


def project_training(retrain: bool) -> Dict[str, Any]:
    """The project's training time: measured now with --retrain, else the last record."""
    spacy_pipeline.build()
    name = f"project-{training.model_fingerprint()}"
    record = read_training_record()
    if retrain:
        seconds = train(CONFIG, name)
        record["project"] = {"model": name, "seconds": round(seconds, 1), "trained_at": _now()}
        write_training_record(record)
        # The copy served only to time training; the benchmark serves models/current.tar.gz.
        (BENCH_MODELS / f"{name}.tar.gz").unlink(missing_ok=True)
    entry = dict(record.get("project") or {})
    if not entry:
        return {"model": name, "seconds": None, "note": "not measured yet: run with --retrain"}
    if entry.get("model") != name:
        entry["note"] = "recorded for earlier inputs: run with --retrain to measure again"
    return entry


# --------------------------------------------------------------------------- the run
def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def bench_settings(workdir: Path) -> Path:
    """The project's settings with the edge's rate limits lifted (one address, many parents)."""
    config = settings_module.load_raw()
    config["edge"]["rate_limit_per_minute"] = 10_000_000
    path = workdir / "settings.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def bench_target(
    label: str,
    model: Path,
    with_edge: bool,
    corpus: Corpus,
    options: argparse.Namespace,
    workroot: Path,
) -> Dict[str, Any]:
    """Start one stack, time its first answer, drive every load level, sample memory."""
    workdir = workroot / label
    workdir.mkdir()
    log_dir = OUT_DIR / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack(
        workdir, model=model, label=label, edge=with_edge, settings_file=bench_settings(workdir)
    )
    print(f"[{label}] starting ({model.name}) ...", flush=True)
    stack.start(log_dir)
    sampler = MemorySampler({name: p.pid for name, p in stack.processes.items()}).start()
    result: Dict[str, Any] = {"model": model.name, "load": {}}
    try:
        result["first_answer_s"] = asyncio.run(first_answers(stack))
        print(f"[{label}] first answer after {result['first_answer_s']} s", flush=True)
        paths: List[Any] = [RestPath(stack.rasa_urls)]
        if with_edge:
            paths.append(EdgePath(stack.edge_url))
        for path in paths:
            failed = [s for s in asyncio.run(warm_up(path, corpus)) if not s.ok]
            if failed:
                print(
                    f"[{label}] warning: warm-up {path.name} errors: "
                    f"{[(s.kind, s.error) for s in failed]}",
                    flush=True,
                )
            result["load"][path.name] = {}
            if isinstance(path, EdgePath):
                cap = settings_module.load().edge.max_message_chars
                result["long_post"] = asyncio.run(long_post_times(path, cap))
                print(f"[{label}] a {cap}-character post: {result['long_post']}", flush=True)
            for level in options.levels:
                stack.check_alive()
                outcome = asyncio.run(
                    run_level(path, corpus, level, options.duration, options.messages, seed=level)
                )
                result["load"][path.name][str(level)] = outcome
                print(
                    f"[{label}] {path.name:4} x{level:<3} {outcome['msg_per_s']:7.1f} msg/s  "
                    f"p50 {outcome['p50_ms']} ms  p95 {outcome['p95_ms']} ms  "
                    f"p99 {outcome['p99_ms']} ms  errors {outcome['errors']}",
                    flush=True,
                )
        stack.check_alive()
    finally:
        result["rss"] = sampler.stop()
        stack.stop()
    return result


@contextlib.contextmanager
def scale_out_services() -> Iterator[Dict[str, str]]:
    """A PostgreSQL database made for this run (dropped afterwards) and Redis, as the
    environment values endpoints.production.yml reads. BENCH_POSTGRES_URL (an existing
    database to connect to first) and BENCH_REDIS_URL say where they are."""
    postgres = os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
    )
    redis = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1")
    with scratch_database(postgres, "forum_bench") as name:
        yield production_env(postgres, redis, name)


def bench_scale_out(
    counts: Sequence[int], corpus: Corpus, options: argparse.Namespace, workroot: Path
) -> Dict[str, Any]:
    """The project on 1, 2, ... Rasa servers (one action server) sharing PostgreSQL and
    Redis through endpoints.production.yml; each message goes to the next server in turn."""
    results: Dict[str, Any] = {}
    log_dir = OUT_DIR / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with scale_out_services() as production:
        for count in counts:
            label = f"servers{count}"
            workdir = workroot / label
            workdir.mkdir()
            stack = Stack(
                workdir,
                model=CURRENT_MODEL.resolve(),
                label=label,
                edge=False,
                rasa_servers=count,
                production=production,
                settings_file=bench_settings(workdir),
            )
            print(
                f"[{label}] starting {count} Rasa server(s) on PostgreSQL + Redis ...", flush=True
            )
            stack.start(log_dir)
            sampler = MemorySampler({n: p.pid for n, p in stack.processes.items()}).start()
            result: Dict[str, Any] = {"servers": count, "load": {}}
            try:
                result["first_answer_s"] = asyncio.run(first_answers(stack))
                path = RestPath(stack.rasa_urls)
                asyncio.run(warm_up(path, corpus))
                for level in options.levels:
                    stack.check_alive()
                    outcome = asyncio.run(
                        run_level(
                            path, corpus, level, options.duration, options.messages, seed=level
                        )
                    )
                    result["load"][str(level)] = outcome
                    print(
                        f"[{label}] x{level:<3} {outcome['msg_per_s']:7.1f} msg/s  "
                        f"p50 {outcome['p50_ms']} ms  p95 {outcome['p95_ms']} ms  "
                        f"errors {outcome['errors']}",
                        flush=True,
                    )
                stack.check_alive()
            finally:
                result["rss"] = sampler.stop()
                stack.stop()
            results[str(count)] = result
    return results


def scale_out_markdown(report: Dict[str, Any]) -> str:
    """The scale-out results as a Markdown table, headed with the date and the machine."""
    m = report["machine"]
    lines = [
        "# Scale-out: Rasa servers sharing PostgreSQL and Redis (endpoints.production.yml)",
        "",
        f"Date: {report['generated_at']}. Machine: {m['cpu']}, {m['cpus']} CPUs, "
        f"{m['ram_gb']} GB RAM, load average at start {m['load_average_at_start']}. "
        f"Command: `{report['command']}` ({report['options']['duration']} s per level). "
        "One action server; each message goes to the next Rasa server in turn.",
        "",
        "| Rasa servers | Conversations | msg/s | p50 ms | p95 ms | p99 ms | Errors | Messages |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for count, result in report["scale_out"].items():
        for level, row in result["load"].items():
            lines.append(
                f"| {count} | {level} | {row['msg_per_s']} | {_cell(row['p50_ms'])} "
                f"| {_cell(row['p95_ms'])} | {_cell(row['p99_ms'])} | {row['errors']} "
                f"| {row['messages']} |"
            )
    lines += [""]
    return "\n".join(lines)


def evaluate(results: Dict[str, Any]) -> Dict[str, Any]:
    """The issue's targets against this run's numbers (None when not measured)."""
    project, default = results.get("project") or {}, results.get("default") or {}

    def level(target: Dict[str, Any], path: str, key: str) -> Optional[float]:
        return ((target.get("load") or {}).get(path) or {}).get("10", {}).get(key)

    checks: Dict[str, Any] = {}
    mine, theirs = level(project, "rest", "msg_per_s"), level(default, "rest", "msg_per_s")
    ratio = round(mine / theirs, 2) if mine and theirs else None
    checks["throughput_ratio_at_10"] = _check(ratio, TARGETS["throughput_ratio_at_10"], True)
    edge_mine = level(project, "edge", "msg_per_s")
    edge_ratio = round(edge_mine / theirs, 2) if edge_mine and theirs else None
    checks["edge_throughput_ratio_at_10"] = _check(
        edge_ratio, TARGETS["throughput_ratio_at_10"], True
    )
    checks["edge_p95_ms_at_10"] = _check(
        level(project, "edge", "p95_ms"), TARGETS["edge_p95_ms_at_10"], False
    )
    errors = None
    if project.get("load"):
        errors = sum(level(project, path, "errors") or 0 for path in project["load"])
    checks["errors_at_10"] = _check(errors, TARGETS["errors"], False)
    rss = (project.get("rss") or {}).get("rasa", {}).get("peak_mb")
    checks["rasa_peak_rss_mb"] = _check(rss, TARGETS["rasa_peak_rss_mb"], False)
    first = max((project.get("first_answer_s") or {}).values(), default=None)
    checks["first_answer_s"] = _check(first, TARGETS["first_answer_s"], False)
    checks["training_s"] = _check(
        (project.get("training") or {}).get("seconds"), TARGETS["training_s"], False
    )
    return checks


def _check(value: Optional[float], target: float, at_least: bool) -> Dict[str, Any]:
    met = None if value is None else (value >= target if at_least else value <= target)
    return {"value": value, "target": ("≥ " if at_least else "≤ ") + f"{target:g}", "met": met}


def markdown(report: Dict[str, Any]) -> str:
    """The results as Markdown tables, headed with the date and the machine."""
    m = report["machine"]
    lines = [
        "# Benchmark: the project's assistant against Rasa's default configuration",
        "",
        f"Date: {report['generated_at']}. Machine: {m['cpu']}, {m['cpus']} CPUs, "
        f"{m['ram_gb']} GB RAM, load average at start {m['load_average_at_start']}. "
        f"Command: `{report['command']}` ({report['options']['duration']} s per level; "
        f"texts from {report['corpus']}).",
        "",
        "| Model | Path | Conversations | msg/s | p50 ms | p95 ms | p99 ms | Errors | Messages |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, target in report["targets"].items():
        for path, levels in (target.get("load") or {}).items():
            for level, row in levels.items():
                lines.append(
                    f"| {label} | {path} | {level} | {row['msg_per_s']} | {_cell(row['p50_ms'])} "
                    f"| {_cell(row['p95_ms'])} | {_cell(row['p99_ms'])} | {row['errors']} "
                    f"| {row['messages']} |"
                )
    lines += [
        "",
        "| Model | Start to first answer (s) | Peak RSS (MB) | Training (s) |",
        "|---|---|---|---:|",
    ]
    for label, target in report["targets"].items():
        first = ", ".join(f"{k} {v}" for k, v in (target.get("first_answer_s") or {}).items())
        rss = ", ".join(f"{k} {v['peak_mb']}" for k, v in (target.get("rss") or {}).items())
        trained = target.get("training") or {}
        lines.append(
            f"| {label} | {first or '-'} | {rss or '-'} | {_cell(trained.get('seconds'))} |"
        )
    long_rows = [
        (label, target["long_post"])
        for label, target in report["targets"].items()
        if target.get("long_post")
    ]
    if long_rows:
        lines += [
            "",
            "| Model | A whole post through the edge (characters) | p50 ms | max ms | Errors |",
            "|---|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {label} | {row['chars']} | {_cell(row['p50_ms'])} | {_cell(row['max_ms'])} "
            f"| {row['errors']} |"
            for label, row in long_rows
        ]
    lines += ["", "| Target (10 conversations) | Value | Goal | Met |", "|---|---:|---|---|"]
    for name, check in report["checks"].items():
        met = {True: "yes", False: "NO", None: "not measured"}[check["met"]]
        lines.append(f"| {name} | {_cell(check['value'])} | {check['target']} | {met} |")
    if report.get("crisis_path"):
        lines += crisis_markdown(report["crisis_path"])
    lines += [""] + [f"- {note}" for note in report["notes"]] + [""]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def chart(report: Dict[str, Any], path: Path) -> None:
    """Latency percentiles and throughput against concurrency, one line per model and path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (latency, throughput) = plt.subplots(1, 2, figsize=(11, 4.5))
    styles = {"p50_ms": "-", "p95_ms": "--", "p99_ms": ":"}
    for index, (label, target) in enumerate(report["targets"].items()):
        for offset, (path_name, levels) in enumerate((target.get("load") or {}).items()):
            colour = f"C{index * 2 + offset}"
            xs = [int(level) for level in levels]
            for key, style in styles.items():
                ys = [row[key] for row in levels.values()]
                latency.plot(
                    xs, ys, style, color=colour, marker="o", label=f"{label} {path_name} {key[:3]}"
                )
            throughput.plot(
                xs,
                [row["msg_per_s"] for row in levels.values()],
                "-o",
                color=colour,
                label=f"{label} {path_name}",
            )
    latency.axhline(
        TARGETS["edge_p95_ms_at_10"], color="grey", linewidth=0.8, label="target: edge p95 at 10"
    )
    latency.set(
        xscale="log",
        yscale="log",
        xlabel="concurrent conversations",
        ylabel="latency (ms)",
        title="Latency per message",
    )
    throughput.set(
        xscale="log",
        xlabel="concurrent conversations",
        ylabel="messages per second",
        title="Throughput",
    )
    for axis in (latency, throughput):
        axis.set_xticks(list(LEVELS))
        axis.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
        axis.grid(True, which="both", alpha=0.3)
    latency.legend(fontsize=7)
    throughput.legend(fontsize=7)
    figure.suptitle(
        f"{report['machine']['cpu']} x{report['machine']['cpus']}, {report['generated_at'][:10]}",
        fontsize=9,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--duration", type=float, default=30.0, help="seconds per load level (default 30)"
    )
    parser.add_argument(
        "--messages",
        type=int,
        default=None,
        help="stop a level after this many answers (default: no limit)",
    )
    parser.add_argument(
        "--levels",
        default=",".join(map(str, LEVELS)),
        help="concurrent conversations, comma-separated (default 1,10,50)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="5 s per level: shows it works, numbers are rough"
    )
    parser.add_argument(
        "--retrain", action="store_true", help="measure the project's training time afresh"
    )
    parser.add_argument(
        "--default-epochs",
        type=int,
        default=None,
        metavar="N",
        help="train the default configuration with N epochs instead of "
        "Rasa's 100 (a quick look only: its training time and accuracy "
        "are then not Rasa's)",
    )
    parser.add_argument(
        "--scale-out",
        default=None,
        metavar="COUNTS",
        help="instead: the project on this many Rasa servers sharing "
        "PostgreSQL and Redis, e.g. 1,2 (writes scale-out.json/.md)",
    )
    parser.add_argument(
        "--only", choices=["project", "default"], default=None, help="benchmark one model only"
    )
    parser.add_argument(
        "--crisis-only",
        action="store_true",
        help="only the crisis-path measurement (in-process, no servers): crisis.json",
    )
    options = parser.parse_args(argv)
    try:
        options.levels = [int(item) for item in options.levels.split(",") if item.strip()]
    except ValueError:
        parser.error("--levels takes whole numbers separated by commas, e.g. 1,10,50")
    if not options.levels or min(options.levels) < 1:
        parser.error("--levels needs at least one number of conversations, each 1 or more")
    if options.quick:
        options.duration = min(options.duration, 5.0)
    if options.scale_out is not None:
        try:
            options.scale_out = [int(item) for item in options.scale_out.split(",") if item.strip()]
        except ValueError:
            parser.error("--scale-out takes whole numbers separated by commas, e.g. 1,2")
        if not options.scale_out or min(options.scale_out) < 1:
            parser.error("--scale-out needs at least one number of servers, each 1 or more")
    if options.default_epochs is not None and options.default_epochs < 1:
        parser.error("--default-epochs must be 1 or more")
    if options.duration <= 0:
        parser.error("--duration must be more than 0 seconds")
    return options


def main(argv: Optional[List[str]] = None) -> int:
    options = parse_args(argv)
    # --crisis-only parses in this process, so it can measure another model (NLU_MODEL).
    model_path = CURRENT_MODEL
    if options.crisis_only and os.environ.get("NLU_MODEL"):
        model_path = Path(os.environ["NLU_MODEL"]).resolve()
    if not model_path.exists():
        print(
            f"error: no trained model ({model_path.name}): run `make model` first.",
            file=sys.stderr,
        )
        return 1
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    corpus = load_corpus()
    report: Dict[str, Any] = {
        "generated_at": _now(),
        "machine": machine(),
        "command": "python -m tools.bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "options": {
            "duration": options.duration,
            "messages": options.messages,
            "levels": options.levels,
            "quick": options.quick,
            "default_epochs": options.default_epochs,
            "scale_out": options.scale_out,
        },
        "corpus": corpus.source,
        "targets": {},
    }
    if options.scale_out:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            try:
                report["scale_out"] = bench_scale_out(options.scale_out, corpus, options, Path(tmp))
            except RuntimeError as problem:
                print(f"error: {problem}", file=sys.stderr)
                return 1
        (OUT_DIR / "scale-out.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
        (OUT_DIR / "scale-out.md").write_text(scale_out_markdown(report), encoding="utf-8")
        print(scale_out_markdown(report))
        print("Wrote build/bench/scale-out.json and scale-out.md", flush=True)
        return 0
    if options.crisis_only:
        result = bench_crisis(model_path.resolve(), corpus)
        report["crisis_path"] = result
        (OUT_DIR / "crisis.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
        print("\n".join(crisis_markdown(result)))
        print("Wrote build/bench/crisis.json", flush=True)
        return 0
    models: Dict[str, Tuple[Path, Dict[str, Any], bool]] = {}
    if options.only in (None, "project"):
        report["crisis_path"] = bench_crisis(CURRENT_MODEL.resolve(), corpus)
        models["project"] = (CURRENT_MODEL.resolve(), project_training(options.retrain), True)
    if options.only in (None, "default"):
        model, trained = ensure_default_model(options.default_epochs)
        models["default"] = (model, trained, False)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for label, (model, trained, with_edge) in models.items():
            try:
                result = bench_target(label, model, with_edge, corpus, options, Path(tmp))
            except RuntimeError as problem:
                print(f"error: {problem}", file=sys.stderr)
                return 1
            result["training"] = trained
            report["targets"][label] = result
    report["checks"] = evaluate(report["targets"])
    report["notes"] = [
        "Conversations: /start, FAQ, follow-up button, typed follow-up, out of scope, "
        "decline, ask for a person, decline; a new conversation starts when one ends.",
        "msg/s and latencies count answered messages only; an error is a non-200 answer, "
        "an empty reply (the edge answers those with 503) or no answer within "
        f"{REQUEST_TIMEOUT_S:.0f} s. results.json breaks errors and latency down by step.",
        "Peak RSS is the kernel's VmHWM (or the sampled peak, if higher) of each process "
        "and its children.",
        "The edge app's rate limits are lifted for the run; everything else is the "
        "project's configuration. Both models use the same endpoints (SQLite tracker store, "
        "action server, settings NLG).",
        "Numbers depend on what else the machine is doing: compare within one run.",
    ]
    if options.default_epochs is not None:
        report["notes"].append(
            f"The default configuration was trained with "
            f"{options.default_epochs} epochs instead of 100 "
            f"(--default-epochs): same model size, less trained."
        )
    if any((t.get("training") or {}).get("seconds") is None for t in report["targets"].values()):
        report["notes"].append(
            "A training time of '-' was not measured in this folder yet "
            "(`python -m tools.bench --retrain` measures the project's)."
        )
    (OUT_DIR / "results.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (OUT_DIR / "results.md").write_text(markdown(report), encoding="utf-8")
    chart(report, OUT_DIR / "latency.png")
    print(markdown(report))
    print("Wrote build/bench/results.json, results.md and latency.png", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
