"""The action server's clock: real unless FORUM_TEST_MODE=1 names a clock file."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from actions.handoff import ActionHandoff
from bot import frozen_clock
from bot.storage.handoff_store import utc_now

FROZEN = datetime(2026, 6, 7, 22, 15, tzinfo=timezone(timedelta(hours=1)))


def test_without_the_flag_a_clock_file_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "clock.txt"
    frozen_clock.set_clock(path, FROZEN)
    for env in (
        {frozen_clock.CLOCK_FILE: str(path)},
        {frozen_clock.FLAG: "0", frozen_clock.CLOCK_FILE: str(path)},
        {},
    ):
        assert frozen_clock.clock(env) is utc_now


def test_under_the_flag_the_file_sets_the_time_on_every_call(tmp_path: Path) -> None:
    path = tmp_path / "clock.txt"
    now = frozen_clock.clock({frozen_clock.FLAG: "1", frozen_clock.CLOCK_FILE: str(path)})
    before = datetime.now(timezone.utc)
    assert before <= now() <= datetime.now(timezone.utc)  # no file yet: the real time
    frozen_clock.set_clock(path, FROZEN)
    assert now() == FROZEN
    frozen_clock.set_clock(path, None)
    assert abs(now() - datetime.now(timezone.utc)) < timedelta(seconds=5)


def test_a_time_without_its_offset_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "clock.txt"
    with pytest.raises(ValueError):
        frozen_clock.set_clock(path, datetime(2026, 6, 7, 22, 15))
    path.write_text("2026-06-07T22:15:00", encoding="utf-8")
    now = frozen_clock.clock({frozen_clock.FLAG: "1", frozen_clock.CLOCK_FILE: str(path)})
    with pytest.raises(ValueError, match="offset"):
        now()


def test_the_handoff_action_takes_its_clock_from_the_environment(
    tmp_path: Path, monkeypatch
) -> None:
    path = tmp_path / "clock.txt"
    frozen_clock.set_clock(path, FROZEN)
    monkeypatch.delenv(frozen_clock.FLAG, raising=False)
    monkeypatch.setenv(frozen_clock.CLOCK_FILE, str(path))
    assert ActionHandoff().clock is utc_now
    monkeypatch.setenv(frozen_clock.FLAG, "1")
    assert ActionHandoff().clock() == FROZEN
