"""Opening hours of the adviceline and webchat, in Europe/London, with bank holidays, and
the one place that puts days, clocks and hours into words.

Pure functions: every answer depends only on the `Hours` (from bot/settings.yml, parsed
by bot/settings.py) and the aware datetime passed in, so tests pin the clock (`now`) and
the actions pass `datetime.now(timezone.utc)`. Hours are wall-clock times in the
organisation's time zone, so "9:30am" stays 9:30am across the March and October clock
changes. Bank holidays (England and Wales, substitute days included) come from the
`holidays` library, region from the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, Iterable, Literal, Optional, Tuple
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bot.settings import Settings

WEEKDAYS: Tuple[str, ...] = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
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
    """When a service runs: its days (as configured), local opening and closing times."""

    zone: ZoneInfo
    days: Tuple[str, ...]
    opens: time
    closes: time
    closed_on_bank_holidays: bool
    bank_holidays: Any  # holidays.HolidayBase; expands to any year it is asked about

    @property
    def weekdays(self) -> FrozenSet[int]:
        """The days as weekday numbers (0 = Monday)."""
        return frozenset(WEEKDAYS.index(day) for day in self.days)

    def is_bank_holiday(self, day: date) -> bool:
        """True on a bank holiday of the configured region (substitute days included)."""
        return day in self.bank_holidays

    def runs_on(self, day: date) -> bool:
        """True when the service opens at all on this local date."""
        if day.weekday() not in self.weekdays:
            return False
        return not (self.closed_on_bank_holidays and self.is_bank_holiday(day))


# --- Clocks ---------------------------------------------------------------------------------


def parse_clock(value: str) -> time:
    """'09:30' -> time(9, 30); the settings file keeps 24-hour clock strings."""
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


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


# --- In words -------------------------------------------------------------------------------


def say_clock(value: time) -> str:
    """time(9, 30) -> '9:30am', time(15, 0) -> '3pm', time(12, 0) -> '12pm'."""
    suffix = "am" if value.hour < 12 else "pm"
    hour = value.hour % 12 or 12
    return f"{hour}:{value.minute:02d}{suffix}" if value.minute else f"{hour}{suffix}"


def say_days(days: Iterable[str]) -> str:
    """The days in words.

    ['Monday', ..., 'Friday'] -> 'Monday to Friday'; ['Monday', 'Thursday'] -> 'Monday and
    Thursday'.
    """
    days = list(days)
    indices = [WEEKDAYS.index(day) for day in days]
    if len(days) > 2 and indices == list(range(indices[0], indices[0] + len(days))):
        return f"{days[0]} to {days[-1]}"
    if len(days) == 1:
        return days[0]
    return ", ".join(days[:-1]) + " and " + days[-1]


def say_hours(hours: Hours, form: Literal["range", "opening"] = "range") -> str:
    """The hours in words: "Monday to Friday, 9:30am to 3pm" (`range`), or when the
    service usually opens, "on Monday to Friday at 9:30am" (`opening`)."""
    days = say_days(hours.days)
    if form == "opening":
        return f"on {days} at {say_clock(hours.opens)}"
    return f"{days}, {say_clock(hours.opens)} to {say_clock(hours.closes)}"


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


# --- What the handoff says --------------------------------------------------------------------


def status(now: datetime, settings: Optional["Settings"] = None) -> Dict[str, Any]:
    """What the handoff says about people right now: the values of the handoff slots.

    adviceline_open, webchat_open (False unless confirmed hours are set and now is within
    them), and next_opening in words (None while the adviceline is open).
    """
    if settings is None:
        from bot.settings import load

        settings = load()
    line = settings.adviceline.hours
    line_open = is_open(line, now)
    return {
        "adviceline_open": line_open,
        "webchat_open": is_open(settings.webchat.hours, now),
        "next_opening": None if line_open else say_when(next_opening(line, now), now, line.zone),
    }
