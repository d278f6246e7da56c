"""The one configuration file (bot/settings.yml), loaded once and shared.

Responses in domain.yml carry {placeholders}; `placeholders()` is the single place that
turns the configuration into the words the assistant says (numbers, days, hours).
"""
from __future__ import annotations

import functools
import os
from datetime import time
from pathlib import Path
from typing import Any, Dict, List

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SETTINGS = Path(__file__).resolve().parent / "settings.yml"
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@functools.lru_cache(maxsize=None)
def load(path: str | None = None) -> Dict[str, Any]:
    """Read the settings file (BOT_SETTINGS overrides the path, for tests and deployments)."""
    chosen = Path(path or os.environ.get("BOT_SETTINGS") or DEFAULT_SETTINGS)
    with chosen.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{chosen.name} must hold a mapping")
    return data


def parse_clock(value: str) -> time:
    """'09:30' -> time(9, 30); the file keeps 24-hour clock strings."""
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def say_clock(value: time) -> str:
    """time(9, 30) -> '9:30am', time(15, 0) -> '3pm', time(12, 0) -> '12pm'."""
    suffix = "am" if value.hour < 12 else "pm"
    hour = value.hour % 12 or 12
    return f"{hour}:{value.minute:02d}{suffix}" if value.minute else f"{hour}{suffix}"


def say_days(days: List[str]) -> str:
    """['Monday', ..., 'Friday'] -> 'Monday to Friday'; ['Monday', 'Thursday'] -> 'Monday and Thursday'."""
    indices = [WEEKDAYS.index(day) for day in days]
    if len(days) > 2 and indices == list(range(indices[0], indices[0] + len(days))):
        return f"{days[0]} to {days[-1]}"
    if len(days) == 1:
        return days[0]
    return ", ".join(days[:-1]) + " and " + days[-1]


def placeholders(settings: Dict[str, Any] | None = None) -> Dict[str, str]:
    """Every {placeholder} a response may use, rendered from the settings."""
    s = settings or load()
    line = s["adviceline"]
    chat = s["webchat"]
    crisis = s["crisis"]
    opens, closes = parse_clock(line["opens"]), parse_clock(line["closes"])
    webchat_when = f"{say_days(chat['days'])} {chat['part_of_day']}"
    values = {
        "organisation": s["organisation"]["name"],
        "adviceline_phone": line["phone"],
        "adviceline_hours": f"{say_days(line['days'])}, {say_clock(opens)} to {say_clock(closes)}",
        "webchat_days": webchat_when,
        "forum_name": s["forum"]["name"],
        "reply_time": s["handoff"]["reply_time"],
        "retention_days": str(s["privacy"]["retention_days"]),
        "max_message_chars": f"{s['edge']['max_message_chars']:,}",
    }
    values.update({key: str(value) for key, value in crisis.items()})
    values.update({key: str(value) for key, value in s["timescales"].items()})
    return values
