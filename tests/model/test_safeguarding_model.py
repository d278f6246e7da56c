"""The trained model's full NLU pipeline on the crisis and safe test sets (tests/nlu/crisis):
recall must be 100% per category, precision on the safe set at least 97%.

Uses the `nlu` fixture (models/current.tar.gz; set NLU_MODEL to measure another model).
The matcher and the decision rule are tested without a model in
tests/unit/test_safeguarding.py.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Dict, List

import pytest

from bot.intents import CRISIS_INTENTS
from tools import corpus

REQUIRED_PRECISION = 0.97


@pytest.fixture(scope="module")
def parse(nlu):
    """The full NLU pipeline (the `nlu` fixture: the model at NLU_MODEL if set)."""
    return nlu


def test_recall_is_complete_in_every_category(parse):
    confusions: Dict[str, Counter] = defaultdict(Counter)
    misses: List[str] = []
    by_pattern = Counter()
    for expected, messages in corpus.crisis_messages().items():
        for text in messages:
            result = parse(text)
            predicted = result["intent"]["name"]
            confusions[expected][predicted] += 1
            if predicted != expected:
                misses.append(f"  {expected} -> {predicted}: {text!r}")
            else:
                by_pattern[(result.get("safeguarding") or {}).get("matched_by")] += 1
    report = []
    for expected, counts in confusions.items():
        total = sum(counts.values())
        others = {name: n for name, n in counts.items() if name != expected}
        report.append(
            f"{expected}: recall {counts[expected]}/{total} = "
            f"{counts[expected] / total:.1%}; other predictions {others}"
        )
    print("\nCrisis recall (full NLU pipeline):\n  " + "\n  ".join(report))
    print(
        f"  caught by pattern: {by_pattern['pattern']}, by the classifier alone: "
        f"{by_pattern['classifier']}"
    )
    assert not misses, "Crisis messages not given their crisis intent:\n" + "\n".join(misses)


def test_precision_on_the_safe_set(parse):
    alarms: List[str] = []
    categories = Counter()
    total = 0
    for group, messages in corpus.safe_messages().items():
        for text in messages:
            total += 1
            result = parse(text)
            predicted = result["intent"]["name"]
            if predicted in CRISIS_INTENTS:
                matched_by = (result.get("safeguarding") or {}).get("matched_by")
                categories[predicted] += 1
                alarms.append(f"  [{group}] {predicted} ({matched_by}): {text!r}")
    precision = 1 - len(alarms) / total
    print(
        f"\nSafe set: {total - len(alarms)}/{total} kept safe = {precision:.1%}; "
        f"false alarms by category: {dict(categories)}"
    )
    for alarm in alarms:
        print(alarm)
    assert precision >= REQUIRED_PRECISION, (
        f"precision {precision:.1%} < {REQUIRED_PRECISION:.0%}; false alarms:\n" + "\n".join(alarms)
    )
