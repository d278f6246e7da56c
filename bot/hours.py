"""Opening hours of the adviceline and webchat, in Europe/London, with bank holidays.

Pure functions: every answer depends only on the settings and the aware datetime passed
in, so tests pin the clock (`now`) and the actions pass `datetime.now(timezone.utc)`.
Hours are wall-clock times in the organisation's time zone, so "9:30am" stays 9:30am
across the March and October clock changes. Bank holidays (England and Wales, substitute
days included) come from the `holidays` library, region from bot/settings.yml.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Dict, FrozenSet, Optional
from zoneinfo import ZoneInfo

import holidays

from bot import settings as settings_module
from bot.settings import WEEKDAYS, parse_clock, say_clock

# Before this local time, "tomorrow" is ambiguous (a parent awake at 1am may mean the day
# after they wake up), so the weekday is named instead.
SMALL_HOURS_END = time(5, 0)
# A weekday name alone is clear for openings up to this many days ahead; beyond it
# (a week or more, e.g. over Christmas) the date is said too.
WEEKDAY_ONLY_DAYS = 6
# How far ahead next_opening looks before deciding the configuration can never open.
SEARCH_DAYS = 60


@dataclass(frozen=True)
class Hours:
    """When a service runs: weekdays (0 = Monday), local opening and closing times."""

    zone: ZoneInfo
    weekdays: FrozenSet[int]
    opens: time
    closes: time
    closed_on_bank_holidays: bool
    bank_holidays: Any  # holidays.HolidayBase; expands to any year it is asked about

    def is_bank_holiday(self, day: date) -> bool:
        """True on a bank holiday of the configured region (substitute days included)."""
        return day in self.bank_holidays

    def runs_on(self, day: date) -> bool:
        """True when the service opens at all on this local date."""
        if day.weekday() not in self.weekdays:
            return False
        return not (self.closed_on_bank_holidays and self.is_bank_holiday(day))


@functools.lru_cache(maxsize=8)
def _bank_holidays(country: str, subdiv: Optional[str]) -> Any:
    return holidays.country_holidays(country, subdiv=subdiv)


def _zone(settings: Dict[str, Any]) -> ZoneInfo:
    return ZoneInfo(settings["organisation"]["timezone"])


def _region(settings: Dict[str, Any]) -> Any:
    region = settings["organisation"]["bank_holidays"]
    return _bank_holidays(region["country"], region.get("subdiv"))


def _weekdays(names: Any) -> FrozenSet[int]:
    return frozenset(WEEKDAYS.index(name) for name in names)


def adviceline_hours(settings: Optional[Dict[str, Any]] = None) -> Hours:
    """The adviceline's hours from bot/settings.yml."""
    s = settings or settings_module.load()
    line = s["adviceline"]
    return Hours(
        zone=_zone(s),
        weekdays=_weekdays(line["days"]),
        opens=parse_clock(line["opens"]),
        closes=parse_clock(line["closes"]),
        closed_on_bank_holidays=bool(line.get("closed_on_bank_holidays", True)),
        bank_holidays=_region(s),
    )


def webchat_hours(settings: Optional[Dict[str, Any]] = None) -> Optional[Hours]:
    """Webchat's hours, or None while the charity has not confirmed them.

    Closed on bank holidays unless the settings say otherwise: claiming webchat is open
    when nobody is there would be worse than not saying so.
    """
    s = settings or settings_module.load()
    chat = s["webchat"]
    confirmed = chat.get("confirmed_hours")
    if not confirmed:
        return None
    return Hours(
        zone=_zone(s),
        weekdays=_weekdays(chat["days"]),
        opens=parse_clock(confirmed["opens"]),
        closes=parse_clock(confirmed["closes"]),
        closed_on_bank_holidays=bool(chat.get("closed_on_bank_holidays", True)),
        bank_holidays=_region(s),
    )


def _local(hours: Hours, now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("opening hours need an aware datetime (with a time zone)")
    return now.astimezone(hours.zone)


def is_open(hours: Optional[Hours], now: datetime) -> bool:
    """True when `now` falls within the opening hours: opens <= local time < closes."""
    if hours is None:
        return False
    local = _local(hours, now)
    return hours.runs_on(local.date()) and hours.opens <= local.time() < hours.closes


def opening_on(hours: Hours, day: date) -> datetime:
    """The aware moment the service opens on a local date (wall-clock time in its zone)."""
    return datetime.combine(day, hours.opens, tzinfo=hours.zone)


def next_opening(hours: Hours, now: datetime) -> datetime:
    """The first opening strictly after `now` (local, aware); skips weekends and holidays."""
    local = _local(hours, now)
    for offset in range(SEARCH_DAYS + 1):
        day = local.date() + timedelta(days=offset)
        if hours.runs_on(day):
            moment = opening_on(hours, day)
            if moment > local:
                return moment
    raise ValueError(f"the service never opens in the next {SEARCH_DAYS} days: check the settings")


def say_when(moment: datetime, now: datetime, zone: ZoneInfo) -> str:
    """A future moment in words, relative to now, in the local zone.

    "later today at 9:30am", "tomorrow at 9:30am", "on Monday at 9:30am", or with the date
    ("on Tuesday 30 December at 9:30am") when a week or more away. In the small hours
    "tomorrow" is ambiguous, so the weekday is named instead.
    """
    local_now = now.astimezone(zone)
    local = moment.astimezone(zone)
    days = (local.date() - local_now.date()).days
    clock = say_clock(local.time())
    weekday = WEEKDAYS[local.weekday()]
    if days < 0:
        raise ValueError("say_when speaks of future moments only")
    if days == 0:
        return f"later today at {clock}"
    if days == 1 and local_now.time() >= SMALL_HOURS_END:
        return f"tomorrow at {clock}"
    if days <= WEEKDAY_ONLY_DAYS:
        return f"on {weekday} at {clock}"
    return f"on {weekday} {local.day} {local.strftime('%B')} at {clock}"


def status(now: datetime, settings: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """What the handoff says about people right now: the values of the handoff slots.

    adviceline_open, webchat_open (False unless confirmed hours are set and now is within
    them), and next_opening in words (None while the adviceline is open).
    """
    s = settings or settings_module.load()
    line = adviceline_hours(s)
    line_open = is_open(line, now)
    return {
        "adviceline_open": line_open,
        "webchat_open": is_open(webchat_hours(s), now),
        "next_opening": None if line_open else say_when(next_opening(line, now), now, line.zone),
    }
