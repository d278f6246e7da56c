"""The inbox's weekly numbers, and `python -m bot report --weeks N` (the same as CSV).

Per week (Monday to Sunday, UK time): conversations opened, questions answered by an FAQ
(the top ten FAQs), clarifications asked, handoffs by reason, questions left for an
adviser, crisis answers by category, and the share answered (FAQ answers out of FAQ answers
plus handoffs). Numbers only: the edge counts them as the replies pass (bot/rasa/nlg.py
marks the replies, bot/edge/inbox.py counts them), crisis answers come from the daily
crisis counts, and nothing a parent wrote is read or kept for them.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Dict, List, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo

from bot.storage.handoff_store import HandoffStore, default_store

TOP_FAQS = 10
CSV_HEADER = ("week", "metric", "key", "value")


@dataclass
class Week:
    start: date
    conversations: int = 0
    faqs: Dict[str, int] = field(default_factory=dict)
    clarifications: int = 0
    handoffs: Dict[str, int] = field(default_factory=dict)
    left: int = 0
    crisis: Dict[str, int] = field(default_factory=dict)

    @property
    def answered(self) -> int:
        return sum(self.faqs.values())

    @property
    def handed_off(self) -> int:
        return sum(self.handoffs.values())

    @property
    def top_faqs(self) -> List[Tuple[str, int]]:
        return sorted(self.faqs.items(), key=lambda item: (-item[1], item[0]))[:TOP_FAQS]

    @property
    def share_answered(self) -> Optional[int]:
        """Percent of FAQ answers out of FAQ answers plus handoffs; None with neither."""
        total = self.answered + self.handed_off
        return round(100 * self.answered / total) if total else None


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weeks(store: HandoffStore, count: int, today: date) -> List[Week]:
    """The last `count` weeks up to the one holding `today`, oldest first (empty ones too)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    first = monday(today) - timedelta(weeks=count - 1)
    table = {first + timedelta(weeks=n): Week(first + timedelta(weeks=n)) for n in range(count)}
    for row in store.week_counts(first):
        week = table.get(row.week)
        if week is None:
            continue
        if row.metric == "conversations":
            week.conversations += row.count
        elif row.metric == "faq":
            week.faqs[row.key] = week.faqs.get(row.key, 0) + row.count
        elif row.metric == "clarification":
            week.clarifications += row.count
        elif row.metric == "handoff":
            week.handoffs[row.key] = week.handoffs.get(row.key, 0) + row.count
        elif row.metric == "left":
            week.left += row.count
    for crisis in store.crisis_counts(first):
        week = table.get(monday(crisis.day))
        if week is not None:
            week.crisis[crisis.category] = week.crisis.get(crisis.category, 0) + crisis.count
    return [table[start] for start in sorted(table)]


def csv_rows(table: Sequence[Week]) -> List[Tuple[str, str, str, str]]:
    """One row per number: week (its Monday), metric, key (an FAQ, reason or category)."""
    rows: List[Tuple[str, str, str, str]] = []
    for week in table:
        when = week.start.isoformat()

        def add(metric: str, value: object, key: str = "", when: str = when) -> None:
            rows.append((when, metric, key, str(value)))

        add("conversations", week.conversations)
        add("faq_answers", week.answered)
        for key, number in week.top_faqs:
            add("faq", number, key)
        add("clarifications", week.clarifications)
        add("handoffs", week.handed_off)
        for reason, number in sorted(week.handoffs.items()):
            add("handoff", number, reason)
        add("questions_left", week.left)
        add("crisis_answers", sum(week.crisis.values()))
        for category, number in sorted(week.crisis.items()):
            add("crisis", number, category)
        add("share_answered_percent", "" if week.share_answered is None else week.share_answered)
    return rows


def to_csv(table: Sequence[Week]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(csv_rows(table))
    return out.getvalue()


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    kind: str
    value: int


@dataclass(frozen=True)
class Chart:
    """A bar chart of answered against handed off per week, as numbers for an SVG."""

    width: int
    height: int
    baseline: float
    bar_width: float
    bars: List[Bar]
    labels: List[Tuple[float, str]]
    maximum: int


def chart(table: Sequence[Week], width: int = 640, height: int = 220) -> Chart:
    top, bottom, left = 16.0, 36.0, 8.0
    group = (width - 2 * left) / max(1, len(table))
    bar = group * 0.35
    maximum = max([1] + [max(w.answered, w.handed_off) for w in table])
    scale = (height - top - bottom) / maximum
    baseline = height - bottom
    bars: List[Bar] = []
    labels: List[Tuple[float, str]] = []
    for n, week in enumerate(table):
        x = left + n * group + group * 0.12
        for offset, kind, value in (
            (0.0, "answered", week.answered),
            (bar, "handed", week.handed_off),
        ):
            h = round(value * scale, 1)
            bars.append(Bar(round(x + offset, 1), round(baseline - h, 1), h, kind, value))
        labels.append((round(x + bar, 1), week.start.strftime("%d %b")))
    return Chart(width, height, baseline, round(bar, 1), bars, labels, maximum)


def run(args: argparse.Namespace, store: Optional[HandoffStore] = None) -> int:
    from bot import settings

    zone: ZoneInfo = settings.load().organisation.zone
    if args.weeks < 1:
        print("error: --weeks must be 1 or more.", file=sys.stderr)
        return 2
    table = weeks(store or default_store(), args.weeks, datetime.now(zone).date())
    sys.stdout.write(to_csv(table))
    return 0
