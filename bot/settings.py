"""The one configuration file (bot/settings.yml), parsed once into frozen dataclasses.

`load()` reads the file (BOT_SETTINGS overrides the path, for tests and deployments),
checks every key and value, and returns a `Settings` that every process shares: the
organisation's time zone is built here once (`settings.organisation.zone`), the opening
hours are `Hours` objects (bot/hours.py), and nothing downstream reads a string key.
A missing, unknown or malformed key stops the process with a SettingsError naming it.
To add a setting: add its key to bot/settings.yml and a field below.

Responses in domain.yml carry {placeholders}; `placeholders()` is the single place that
turns the settings into the words the assistant says (numbers, days, hours).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Dict, Mapping, Optional, Set, Tuple, Type, TypeVar, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import yaml

from bot.hours import WEEKDAYS, Hours, parse_clock, say_days, say_hours

DEFAULT_SETTINGS = Path(__file__).resolve().parent / "settings.yml"
T = TypeVar("T")


class SettingsError(ValueError):
    """bot/settings.yml cannot be used as it is (the message names the key)."""


@dataclass(frozen=True)
class Organisation:
    name: str
    timezone: str
    zone: ZoneInfo  # the one ZoneInfo of the organisation's time zone
    bank_holidays: Any  # holidays.HolidayBase of the configured region


@dataclass(frozen=True)
class Adviceline:
    phone: str
    tel: str  # the same number for tel: links
    hours: Hours


@dataclass(frozen=True)
class Webchat:
    days: Tuple[str, ...]
    part_of_day: str
    hours: Optional[Hours]  # None while the charity has not confirmed exact hours


# The sections below are read field by field, by name and type (`_plain`).
@dataclass(frozen=True)
class Forum:
    name: str


@dataclass(frozen=True)
class Handoff:
    reply_time: str  # what the parent is told after leaving a question
    reference_length: int


@dataclass(frozen=True)
class Privacy:
    retention_days: int  # conversations and handled requests older than this are purged
    session_expiry_minutes: int


@dataclass(frozen=True)
class Edge:
    exit_url: str  # where "Exit quickly" and Shift x3 send the browser
    allowed_origins: Tuple[str, ...]  # may call the API from a browser (plus FORUM_ORIGINS)
    max_message_chars: int
    rate_limit_per_minute: int  # per session; a client address gets five times as many
    rasa_url: str
    actions_url: str
    # Seconds Rasa gives one message before it gives up (its --response-timeout), and the
    # edge waits for Rasa's answer: the edge's limit is the shorter, so Rasa ends a slow turn
    # itself rather than having the connection dropped under it.
    rasa_response_timeout_seconds: int
    rasa_client_timeout_seconds: int


@dataclass(frozen=True)
class Settings:
    organisation: Organisation
    adviceline: Adviceline
    webchat: Webchat
    forum: Forum
    handoff: Handoff
    crisis: Mapping[str, str]  # name -> number, every one a {placeholder} of its own
    timescales: Mapping[
        str, str
    ]  # name -> time limit in words ("15 working days"), each a {placeholder}
    privacy: Privacy
    edge: Edge


# --- Reading -------------------------------------------------------------------------------


def settings_path(path: Optional[str] = None) -> Path:
    """The file to read: `path`, else BOT_SETTINGS, else bot/settings.yml."""
    return Path(path or os.environ.get("BOT_SETTINGS") or DEFAULT_SETTINGS)


def load_raw(path: Optional[str] = None) -> Dict[str, Any]:
    """The file as plain YAML data, read afresh (for tools that write a changed copy)."""
    chosen = settings_path(path)
    with chosen.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise SettingsError(f"{chosen.name} must hold a mapping")
    return data


@functools.lru_cache(maxsize=None)
def load(path: Optional[str] = None) -> Settings:
    """The settings, read and checked once per process (per path)."""
    return parse(load_raw(path))


class _Section:
    """One mapping of the file, read key by key; every key must be used (no typos pass)."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise SettingsError(f"{where}: expected a mapping")
        self.data, self.where = data, where
        self.used: Set[str] = set()

    def get(self, key: str, kind: Any, default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                raise SettingsError(f"{self.where}.{key}: missing")
            return default
        value = self.data[key]
        if (
            kind is not Any
            and not isinstance(value, kind)
            and not (default is None and value is None)
        ):
            raise SettingsError(
                f"{self.where}.{key}: expected {getattr(kind, '__name__', kind)}, got {value!r}"
            )
        return value

    def section(self, key: str) -> "_Section":
        return _Section(self.get(key, dict), f"{self.where}.{key}")

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise SettingsError(
                f"{self.where}: unknown key(s) {', '.join(map(str, unknown))} "
                "(add a field in bot/settings.py to use a new one)"
            )


def _days(section: _Section) -> Tuple[str, ...]:
    days = section.get("days", list)
    if not days or any(day not in WEEKDAYS for day in days):
        raise SettingsError(f"{section.where}.days: weekday names such as Monday, got {days!r}")
    return tuple(days)


def _clock(section: _Section, key: str) -> Any:
    value = section.get(key, str)
    try:
        return parse_clock(value)
    except ValueError:
        raise SettingsError(
            f"{section.where}.{key}: a 24-hour clock like 09:30, got {value!r}"
        ) from None


def _hours(section: _Section, clocks: _Section, organisation: Organisation) -> Hours:
    """Hours from `days` (and closed_on_bank_holidays) of `section`, clocks of `clocks`."""
    hours = Hours(
        zone=organisation.zone,
        days=_days(section),
        opens=_clock(clocks, "opens"),
        closes=_clock(clocks, "closes"),
        closed_on_bank_holidays=section.get("closed_on_bank_holidays", bool, True),
        bank_holidays=organisation.bank_holidays,
    )
    if hours.opens >= hours.closes:
        raise SettingsError(f"{clocks.where}: opens must be before closes")
    return hours


def _plain(root: _Section, name: str, kind: Type[T]) -> T:
    """A section whose fields are plain values: each read by its name and annotated type."""
    section = root.section(name)
    values: Dict[str, Any] = {}
    for field_name, annotation in get_type_hints(kind).items():
        if annotation == Tuple[str, ...]:
            values[field_name] = tuple(str(item) for item in section.get(field_name, list))
        else:
            values[field_name] = section.get(field_name, annotation)
    section.done()
    return kind(**values)


@functools.lru_cache(maxsize=8)
def _bank_holidays(country: str, subdiv: Optional[str]) -> Any:
    return holidays.country_holidays(country, subdiv=subdiv)


def parse(data: Mapping[str, Any]) -> Settings:
    """Settings from the file's YAML data; SettingsError names the first problem."""
    root = _Section(dict(data), "settings")
    org = root.section("organisation")
    region = org.section("bank_holidays")
    timezone = org.get("timezone", str)
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"organisation.timezone: unknown time zone {timezone!r}") from None
    organisation = Organisation(
        name=org.get("name", str),
        timezone=timezone,
        zone=zone,
        bank_holidays=_bank_holidays(region.get("country", str), region.get("subdiv", str, None)),
    )
    region.done()
    org.done()

    line = root.section("adviceline")
    adviceline = Adviceline(
        phone=line.get("phone", str),
        tel=line.get("tel", str),
        hours=_hours(line, line, organisation),
    )
    line.done()

    chat = root.section("webchat")
    confirmed = chat.get("confirmed_hours", dict, None)
    clocks = _Section(confirmed, "webchat.confirmed_hours") if confirmed else None
    webchat = Webchat(
        days=_days(chat),
        part_of_day=chat.get("part_of_day", str),
        hours=_hours(chat, clocks, organisation) if clocks else None,
    )
    chat.get("closed_on_bank_holidays", bool, True)
    for section in (clocks, chat):
        if section is not None:
            section.done()

    crisis = _named_values(root, "crisis")
    timescales = _named_values(root, "timescales")
    settings = Settings(
        organisation=organisation,
        adviceline=adviceline,
        webchat=webchat,
        crisis=crisis,
        timescales=timescales,
        forum=_plain(root, "forum", Forum),
        handoff=_plain(root, "handoff", Handoff),
        privacy=_plain(root, "privacy", Privacy),
        edge=_plain(root, "edge", Edge),
    )
    root.done()
    edge = settings.edge
    if not 0 < edge.rasa_client_timeout_seconds < edge.rasa_response_timeout_seconds:
        raise SettingsError(
            "edge.rasa_client_timeout_seconds must be positive and below "
            "edge.rasa_response_timeout_seconds"
        )
    return settings


def _named_values(root: "_Section", name: str) -> Mapping[str, str]:
    """A section of name -> value pairs, each of which becomes a {placeholder} of its own."""
    section = root.section(name)
    values = MappingProxyType(
        {str(key): str(section.get(str(key), (str, int))) for key in list(section.data)}
    )
    section.done()
    return values


# --- In words ------------------------------------------------------------------------------


def placeholders(settings: Optional[Settings] = None) -> Dict[str, str]:
    """Every {placeholder} a response may use, rendered from the settings."""
    s = settings or load()
    values = {
        "organisation": s.organisation.name,
        "adviceline_phone": s.adviceline.phone,
        "adviceline_hours": say_hours(s.adviceline.hours),
        "webchat_days": f"{say_days(s.webchat.days)} {s.webchat.part_of_day}",
        "forum_name": s.forum.name,
        "reply_time": s.handoff.reply_time,
        "retention_days": str(s.privacy.retention_days),
        "max_message_chars": f"{s.edge.max_message_chars:,}",
    }
    values.update(s.crisis)
    values.update(s.timescales)
    return values
