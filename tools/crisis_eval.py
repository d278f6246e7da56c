"""Crisis recall and safe-set precision through the full NLU pipeline, per half.

Two halves (issue 17): the tune half, tests/nlu/crisis/ (the sets the patterns, cues and
thresholds were tuned on), and the unforeseen half, tests/nlu_final/crisis/ (written with
the tune half, split off before any tuning, and only ever measured). Each half has crisis
files (`categories:` crisis intent -> messages) and safe files (`safe:` group ->
messages).

A crisis message is
* "strong" when it gets its crisis intent (the crisis answer),
* "checkin" when it gets its category's check-in (checkin_<category>),
* "other" when it gets another category's crisis answer or check-in (999 and a line
  still come first, but not the right line),
* "missed" otherwise (an FAQ, a clarification, anything else).
Recall is (strong + checkin) / all, in category. A safe message with any crisis answer or
check-in is a false alarm; precision is the share of safe messages without one.

`make eval` (tools/nlu_eval.py) prints both halves; tests/model/test_crisis_halves.py
asserts the targets. `python -m tools.crisis_eval [--half tune|unforeseen]` prints one.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import yaml

from bot.intents import CHECKIN_PREFIX, CRISIS_INTENTS, CRISIS_PREFIX
from bot.paths import PROJECT_ROOT
from tools import corpus

HALVES: Dict[str, Path] = {
    "tune": corpus.CRISIS_DIR,
    "unforeseen": PROJECT_ROOT / "tests" / "nlu_final" / "crisis",
}
OUTCOMES = ("strong", "checkin", "other", "missed")


def is_alarm(intent: str) -> bool:
    """A crisis answer or a check-in (the button intent checkin_safe is neither)."""
    return intent in CRISIS_INTENTS or intent in checkin_intents()


def checkin_intents() -> List[str]:
    return [CHECKIN_PREFIX + name[len(CRISIS_PREFIX) :] for name in CRISIS_INTENTS]


def outcome(expected: str, intent: str) -> str:
    if intent == expected:
        return "strong"
    if intent == CHECKIN_PREFIX + expected[len(CRISIS_PREFIX) :]:
        return "checkin"
    if is_alarm(intent):
        return "other"
    return "missed"


def half_files(folder: Path) -> Dict[str, List[Path]]:
    """The crisis files (with `categories`) and safe files (with `safe`) of one folder."""
    files: Dict[str, List[Path]] = {"crisis": [], "safe": []}
    for path in corpus.nlu_files(folder):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if content.get("categories"):
            files["crisis"].append(path)
        if content.get("safe"):
            files["safe"].append(path)
    return files


@dataclass
class HalfResult:
    """One half's figures. `misses` and `alarms` hold texts: print them, never write them."""

    name: str
    crisis_total: int = 0
    outcomes: Counter = field(default_factory=Counter)
    per_category: Dict[str, Counter] = field(default_factory=dict)
    safe_total: int = 0
    alarms: List[str] = field(default_factory=list)
    misses: List[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        caught = self.outcomes["strong"] + self.outcomes["checkin"]
        return caught / self.crisis_total if self.crisis_total else 0.0

    @property
    def precision(self) -> float:
        return 1 - len(self.alarms) / self.safe_total if self.safe_total else 0.0

    def summary(self) -> Dict[str, Any]:
        """Counts only (no message text): for results files."""
        return {
            "crisis_messages": self.crisis_total,
            "outcomes": {name: self.outcomes[name] for name in OUTCOMES},
            "recall_strong_or_checkin": round(self.recall, 4),
            "per_category": {
                cat: {name: counts[name] for name in OUTCOMES}
                for cat, counts in self.per_category.items()
            },
            "safe_messages": self.safe_total,
            "false_alarms": len(self.alarms),
            "precision": round(self.precision, 4),
        }

    def lines(self) -> List[str]:
        o = self.outcomes
        caught = o["strong"] + o["checkin"]
        out = [
            f"crisis, {self.name} half: {caught}/{self.crisis_total} = {self.recall:.1%} "
            f"caught in category (strong {o['strong']}, check-in {o['checkin']}); "
            f"other category {o['other']}, missed {o['missed']}",
            f"safe, {self.name} half: {self.safe_total - len(self.alarms)}/{self.safe_total} "
            f"= {self.precision:.1%} precision ({len(self.alarms)} false alarms)",
        ]
        for cat, counts in self.per_category.items():
            total = sum(counts.values())
            out.append(
                f"  {cat}: strong {counts['strong']}, check-in {counts['checkin']}, "
                f"other {counts['other']}, missed {counts['missed']} of {total}"
            )
        return out


def measure(parse: Callable[[str], Dict[str, Any]], name: str, folder: Path) -> HalfResult:
    """Parse every crisis and safe message of one half."""
    result = HalfResult(name)
    files = half_files(folder)
    for path in files["crisis"]:
        for expected, texts in corpus.crisis_messages(path).items():
            counts = result.per_category.setdefault(expected, Counter())
            for text in texts:
                intent = str((parse(text).get("intent") or {}).get("name"))
                kind = outcome(expected, intent)
                result.crisis_total += 1
                result.outcomes[kind] += 1
                counts[kind] += 1
                if kind in ("other", "missed"):
                    result.misses.append(f"  {expected} -> {intent}: {text!r}")
    for path in files["safe"]:
        for group, texts in corpus.safe_messages(path).items():
            for text in texts:
                result.safe_total += 1
                intent = str((parse(text).get("intent") or {}).get("name"))
                if is_alarm(intent):
                    result.alarms.append(f"  [{group}] {intent}: {text!r}")
    return result


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.crisis_eval", description=__doc__)
    parser.add_argument("--half", choices=sorted(HALVES), action="append")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--show", action="store_true", help="print the misses and alarms")
    args = parser.parse_args(argv)
    from tools.nlu_parser import NluParser

    parse = NluParser(args.model, quiet=True)
    try:
        for name in args.half or ["tune", "unforeseen"]:
            result = measure(parse, name, HALVES[name])
            print("\n".join(result.lines()))
            if args.show:
                print("\n".join(result.misses + result.alarms))
    finally:
        parse.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
