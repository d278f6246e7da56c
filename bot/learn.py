"""`python -m bot learn export|gaps`: labelled questions back into training data and content.

Advisers label the questions parents left (only those whose parent agreed that advisers may
use them to improve the assistant): (a) an FAQ should have answered it, (b) a new topic, or
(c) not for the assistant.

- `learn export` writes the (a) questions as NLU examples in Rasa's YAML format to a review
  file under build/ (never into data/): each example redacted again on the way out, with
  `metadata: {source: "adviser inbox <reference>"}` as its marker, and without any example
  data/nlu already holds (a duplicate would fail validation).
- `learn gaps` writes the (b) titles with how often each was given, newest first, as
  Markdown for advisers to write approved content from.

Both files are derived from the store and follow its retention: the purge deletes them
whenever it deletes a request (bot/storage/retention.py), and they can be written again.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterable, List, Optional, Set

import yaml

from bot.paths import BUILD_DIR, TRAINING_DATA
from bot.redact import redact

if TYPE_CHECKING:  # the purge imports this module without the store
    from bot.storage.handoff_store import HandoffStore

EXPORT_FILE = BUILD_DIR / "learn" / "inbox-examples.yml"
GAPS_FILE = BUILD_DIR / "learn" / "content-gaps.md"
MARKER = "adviser inbox"
# Rasa reads "[text](entity)", "[text]{...}" and "[text][...]" as entity annotations.
_ANNOTATION = re.compile(r"\](?=[({\[])")


def example_text(question: str) -> str:
    """One line, redacted again, with nothing Rasa would read as an entity annotation."""
    text = " ".join(redact(question).split())
    return _ANNOTATION.sub("] ", text)


def known_examples(data: Path = TRAINING_DATA) -> Set[str]:
    """Every example text already in the training data (lower case, spaces collapsed)."""
    found: Set[str] = set()
    for path in sorted(Path(data).rglob("*.yml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in content.get("nlu") or []:
            examples = block.get("examples") if isinstance(block, dict) else None
            if isinstance(examples, str):
                for line in examples.splitlines():
                    line = line.strip()
                    if line.startswith("- "):
                        found.add(_key(line[2:]))
            elif isinstance(examples, list):
                found.update(_key(str(e.get("text", ""))) for e in examples if isinstance(e, dict))
    return found


def _key(text: str) -> str:
    return " ".join(text.split()).lower()


def export_examples(
    store: "HandoffStore", out: Path = EXPORT_FILE, data: Path = TRAINING_DATA
) -> int:
    """Write the review file; the number of examples in it."""
    known = known_examples(data)
    by_intent: Dict[str, List[Dict[str, object]]] = {}
    for request, label in store.labelled("faq"):
        if not request.learn_consent or not label.faq:
            continue
        text = example_text(request.question)
        if not text or _key(text) in known:
            continue
        known.add(_key(text))
        by_intent.setdefault(label.faq, []).append(
            {"text": text, "metadata": {"source": f"{MARKER} {request.reference}"}}
        )
    document = {
        "version": "3.1",
        "nlu": [
            {"intent": intent, "examples": examples}
            for intent, examples in sorted(by_intent.items())
        ],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    header = (
        "# Questions parents left, labelled by advisers as ones an FAQ should have answered.\n"
        "# For review: move the examples you keep into data/nlu/<topic>.yml (without the\n"
        "# metadata), then retrain. Deleted by the retention purge; write it again with\n"
        "# `python -m bot learn export`.\n"
    )
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1000)
    out.write_text(header + body, encoding="utf-8")
    return sum(len(examples) for examples in by_intent.values())


@dataclass(frozen=True)
class Gap:
    title: str
    count: int
    newest: datetime


def content_gaps(store: "HandoffStore") -> List[Gap]:
    """The new-topic titles, the same title (case and spaces aside) counted together under
    its newest spelling, newest first."""
    gaps: Dict[str, Gap] = {}
    for _request, label in store.labelled("topic"):
        title = label.title or ""
        key = _key(title)
        seen = gaps.get(key)
        if seen is None:
            gaps[key] = Gap(title, 1, label.labelled_at)
        else:
            gaps[key] = Gap(seen.title, seen.count + 1, max(seen.newest, label.labelled_at))
    return sorted(gaps.values(), key=lambda g: (g.newest, g.count), reverse=True)


def write_gaps(store: "HandoffStore", out: Path = GAPS_FILE) -> int:
    """Write the Markdown list; the number of distinct titles."""
    gaps = content_gaps(store)
    lines = [
        "# Content gaps from the adviser inbox",
        "",
        "Topics advisers marked as new when labelling questions parents left (with the",
        "parent's agreement), newest first. Write approved material for a topic in CONTENT.md",
        "before any answer is added.",
        "",
        "| Topic | Times | Last labelled (UTC) |",
        "|---|---|---|",
    ]
    for gap in gaps:
        title = gap.title.replace("|", "/")
        lines.append(f"| {title} | {gap.count} | {gap.newest:%Y-%m-%d %H:%M} |")
    if not gaps:
        lines.append("| (none yet) | 0 | |")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(gaps)


def remove_exports(paths: Optional[Iterable[Path]] = None) -> int:
    """Delete the derived files (the purge calls this when it deletes requests)."""
    removed = 0
    for path in paths if paths is not None else (EXPORT_FILE, GAPS_FILE):
        if path.exists():
            path.unlink()
            removed += 1
    return removed


def run(args: argparse.Namespace, store: Optional["HandoffStore"] = None) -> int:
    from bot.storage.handoff_store import default_store

    store = store or default_store()
    if args.learn_command == "export":
        out = Path(args.out) if args.out else EXPORT_FILE
        count = export_examples(store, out)
        print(f"{count} example(s) written to {out} for review")
        return 0
    if args.learn_command == "gaps":
        out = Path(args.out) if args.out else GAPS_FILE
        count = write_gaps(store, out)
        print(f"{count} topic(s) written to {out}")
        return 0
    raise AssertionError(args.learn_command)
