"""Opening hours with fixed clocks: a week, the boundaries, both clock changes, bank holidays.

Opening and closing times come from bot/settings.yml; the weekday expectations assume the
adviceline runs Monday to Friday, which `test_settings_describe_a_weekday_adviceline`
checks first so that a change of days fails with a clear message.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import holidays
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bot import hours, settings
from bot.hours import WEEKDAYS, say_clock

S = settings.load()
LONDON = S.organisation.zone
LINE = S.adviceline.hours
OPENS = LINE.opens
CLOSES = LINE.closes
AT = say_clock(OPENS)  # "9:30am"
UTC = timezone.utc


def local(y: int, m: int, d: int, hh: int = 12, mm: int = 0) -> datetime:
    """A London wall-clock moment (aware)."""
    return datetime(y, m, d, hh, mm, tzinfo=LONDON)


def at(day: date, clock, minutes: int = 0) -> datetime:
    """`clock` on `day` in London, shifted by `minutes`."""
    return datetime.combine(day, clock, tzinfo=LONDON) + timedelta(minutes=minutes)


def words(now: datetime) -> str:
    return hours.say_when(hours.next_opening(LINE, now), now, LONDON)


def test_settings_describe_a_weekday_adviceline():
    assert LINE.days == WEEKDAYS[:5], (
        "these tests assume a Monday-to-Friday adviceline; update them with the new days"
    )
    assert LINE.closed_on_bank_holidays is True
    assert S.organisation.timezone == "Europe/London"


# --- A week ------------------------------------------------------------------------------
def test_a_week_without_bank_holidays():
    monday = date(2025, 6, 2)  # Monday 2 June 2025 to Sunday 8 June: no bank holiday
    for offset in range(7):
        day = monday + timedelta(days=offset)
        midday = at(day, OPENS, 150)
        assert hours.is_open(LINE, midday) is (offset < 5), day
        assert not hours.is_open(LINE, at(day, OPENS, -1))
        assert not hours.is_open(LINE, at(day, CLOSES))


@pytest.mark.parametrize(
    "day", [date(2025, 1, 15), date(2025, 7, 16)], ids=["winter-GMT", "summer-BST"]
)
def test_the_minute_before_and_at_opening_and_closing(day):
    assert not hours.is_open(LINE, at(day, OPENS, -1))  # 09:29
    assert hours.is_open(LINE, at(day, OPENS))  # 09:30
    assert hours.is_open(LINE, at(day, CLOSES, -1))  # 14:59
    assert not hours.is_open(LINE, at(day, CLOSES))  # 15:00


def test_utc_clocks_are_read_in_london_time():
    # 08:30 UTC is 09:30 in summer (BST) but 08:30 in winter (GMT).
    summer = datetime(2025, 7, 16, OPENS.hour - 1, OPENS.minute, tzinfo=UTC)
    winter = datetime(2025, 1, 15, OPENS.hour - 1, OPENS.minute, tzinfo=UTC)
    assert hours.is_open(LINE, summer)
    assert not hours.is_open(LINE, winter)
    assert words(winter) == f"later today at {AT}"


# --- Clock changes -------------------------------------------------------------------------
def test_march_clock_change():
    # Clocks went forward on Sunday 30 March 2025: Friday is GMT, Monday is BST.
    friday_close = at(date(2025, 3, 28), CLOSES)
    opening = hours.next_opening(LINE, friday_close)
    assert opening == at(date(2025, 3, 31), OPENS)
    assert opening.astimezone(UTC) == datetime(
        2025, 3, 31, OPENS.hour - 1, OPENS.minute, tzinfo=UTC
    )
    assert words(friday_close) == f"on Monday at {AT}"
    assert not hours.is_open(LINE, opening - timedelta(minutes=1))
    assert hours.is_open(LINE, opening)
    # During the missing hour on Sunday (01:30 UTC is 02:30 BST), all closed.
    assert not hours.is_open(LINE, datetime(2025, 3, 30, 1, 30, tzinfo=UTC))


def test_october_clock_change():
    # Clocks went back on Sunday 26 October 2025: Friday is BST, Monday is GMT.
    friday_close = at(date(2025, 10, 24), CLOSES)
    opening = hours.next_opening(LINE, friday_close)
    assert opening.astimezone(UTC) == datetime(2025, 10, 27, OPENS.hour, OPENS.minute, tzinfo=UTC)
    assert words(friday_close) == f"on Monday at {AT}"
    # 01:30 happens twice that Sunday (00:30 and 01:30 UTC): both in the small hours.
    for utc_hour in (0, 1):
        now = datetime(2025, 10, 26, utc_hour, 30, tzinfo=UTC)
        assert now.astimezone(LONDON).strftime("%H:%M") == "01:30"
        assert not hours.is_open(LINE, now)
        assert hours.next_opening(LINE, now) == opening
        assert words(now) == f"on Monday at {AT}"


# --- Bank holidays -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "day,name",
    [
        (date(2025, 1, 1), "New Year's Day"),
        (date(2025, 4, 18), "Good Friday"),
        (date(2025, 4, 21), "Easter Monday"),
        (date(2025, 5, 5), "Early May bank holiday"),
        (date(2025, 5, 26), "Spring bank holiday"),
        (date(2025, 8, 25), "Summer bank holiday"),
        (date(2025, 12, 25), "Christmas Day"),
        (date(2025, 12, 26), "Boxing Day"),
        (date(2026, 12, 28), "Boxing Day, substitute day"),
        (date(2027, 12, 27), "Christmas Day, substitute day"),
        (date(2027, 12, 28), "Boxing Day, substitute day"),
        (date(2022, 1, 3), "New Year's Day, substitute day"),
    ],
)
def test_bank_holidays_are_closed_all_day(day, name):
    assert day.weekday() < 5, name
    for minutes in (0, 60, 240):
        assert not hours.is_open(LINE, at(day, OPENS, minutes)), name


def test_every_england_and_wales_bank_holiday_on_a_weekday_is_closed():
    # The library's list is the source; Scottish-only days (2 January, St Andrew's Day)
    # must stay open.
    region = holidays.country_holidays("GB", subdiv="ENG", years=[2025, 2026, 2027])
    weekdays = [d for d in region if d.weekday() < 5]
    assert len(weekdays) >= 24
    for day in weekdays:
        assert not hours.is_open(LINE, at(day, OPENS, 60)), (day, region.get(day))
    assert hours.is_open(LINE, at(date(2025, 1, 2), OPENS, 60))  # Scotland only
    assert hours.is_open(LINE, at(date(2027, 11, 30), OPENS, 60))  # St Andrew's Day


def test_christmas_2025_next_opening_skips_holidays_and_the_weekend():
    eve_close = at(date(2025, 12, 24), CLOSES)  # Wednesday
    assert hours.is_open(LINE, at(date(2025, 12, 24), OPENS))
    assert hours.next_opening(LINE, eve_close) == at(date(2025, 12, 29), OPENS)
    assert words(eve_close) == f"on Monday at {AT}"


def test_christmas_2026_substitute_boxing_day():
    eve_close = at(date(2026, 12, 24), CLOSES)  # Thursday; Boxing Day is a Saturday
    assert hours.next_opening(LINE, eve_close) == at(date(2026, 12, 29), OPENS)
    assert words(eve_close) == f"on Tuesday at {AT}"


def test_easter_2025():
    thursday_close = at(date(2025, 4, 17), CLOSES)
    assert hours.next_opening(LINE, thursday_close) == at(date(2025, 4, 22), OPENS)
    assert words(thursday_close) == f"on Tuesday at {AT}"


# --- Words -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "now,expected",
    [
        (local(2025, 6, 2, 7, 0), f"later today at {AT}"),  # Monday morning
        (local(2025, 6, 2, 1, 0), f"later today at {AT}"),  # Monday, small hours
        (local(2025, 6, 2, 15, 0), f"tomorrow at {AT}"),  # Monday after closing
        (local(2025, 6, 3, 23, 59), f"tomorrow at {AT}"),  # Tuesday, late
        (local(2025, 6, 6, 15, 0), f"on Monday at {AT}"),  # Friday after closing
        (local(2025, 6, 7, 10, 0), f"on Monday at {AT}"),  # Saturday
        (local(2025, 6, 8, 20, 0), f"tomorrow at {AT}"),  # Sunday evening
        (local(2025, 4, 21, 2, 0), f"on Tuesday at {AT}"),  # Easter Monday, 2am
        (local(2025, 4, 21, 6, 0), f"tomorrow at {AT}"),  # Easter Monday, 6am
    ],
)
def test_next_opening_in_words(now, expected):
    assert not hours.is_open(LINE, now)
    assert words(now) == expected


def test_a_week_or_more_away_names_the_date():
    now = local(2025, 12, 22, 10, 0)  # Monday
    assert (
        hours.say_when(at(date(2025, 12, 30), OPENS), now, LONDON)
        == f"on Tuesday 30 December at {AT}"
    )
    assert (
        hours.say_when(at(date(2025, 12, 29), OPENS), now, LONDON)
        == f"on Monday 29 December at {AT}"
    )  # the same weekday: "on Monday" is ambiguous
    assert hours.say_when(at(date(2025, 12, 28), OPENS), now, LONDON) == f"on Sunday at {AT}"


def test_words_never_speak_of_the_past_and_clocks_must_be_aware():
    now = local(2025, 6, 3, 12, 0)
    with pytest.raises(ValueError):
        hours.say_when(now - timedelta(days=1), now, LONDON)
    with pytest.raises(ValueError):
        hours.is_open(LINE, datetime(2025, 6, 3, 12, 0))


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    )
)
def test_next_opening_is_the_first_open_minute_after_now(now):
    opening = hours.next_opening(LINE, now)
    assert opening > now
    assert hours.is_open(LINE, opening)
    assert not hours.is_open(LINE, opening - timedelta(minutes=1))
    assert opening.astimezone(LONDON).time() == OPENS
    assert (opening - now) < timedelta(days=12)  # the longest closure is Christmas + weekend
    text = hours.say_when(opening, now, LONDON)
    assert text.endswith(f"at {AT}") and text.split()[0] in {"later", "tomorrow", "on"}


# --- Webchat ---------------------------------------------------------------------------------
def test_webchat_is_never_open_without_confirmed_hours():
    assert settings.load_raw()["webchat"]["confirmed_hours"] is None
    assert S.webchat.hours is None
    start = local(2025, 6, 2, 0, 0)
    for step in range(7 * 48):  # every half hour of a week
        assert hours.status(start + timedelta(minutes=30 * step), S)["webchat_open"] is False


def test_webchat_with_confirmed_hours():
    raw = settings.load_raw()
    raw["webchat"]["confirmed_hours"] = {"opens": "13:00", "closes": "16:00"}
    chat = settings.parse(raw).webchat.hours
    assert chat is not None
    days = {WEEKDAYS.index(d) for d in S.webchat.days}
    monday = date(2025, 6, 2)
    for offset in range(7):
        day = monday + timedelta(days=offset)
        assert hours.is_open(chat, local(day.year, day.month, day.day, 13, 30)) is (
            offset in days
        ), day
        assert not hours.is_open(chat, local(day.year, day.month, day.day, 12, 59))
        assert not hours.is_open(chat, local(day.year, day.month, day.day, 16, 0))
    assert not hours.is_open(chat, local(2025, 4, 21, 14, 0))  # Easter Monday


def test_status_gives_the_handoff_slots():
    open_now = hours.status(at(date(2025, 6, 3), OPENS), S)
    assert open_now == {"adviceline_open": True, "webchat_open": False, "next_opening": None}
    closed = hours.status(at(date(2025, 6, 6), CLOSES), S)
    assert closed == {
        "adviceline_open": False,
        "webchat_open": False,
        "next_opening": f"on Monday at {AT}",
    }
