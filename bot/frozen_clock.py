"""A clock tests can set from outside the action server, honoured only under a test flag.

The live tests run the real processes once and need the handoff to speak both in hours
and out of hours. With FORUM_TEST_MODE=1 and FORUM_TEST_CLOCK_FILE set, the action
server's clock reads that file on every call: an ISO 8601 time with its offset (that
moment, frozen), or nothing (the real time). Without the flag the variables are ignored
and the clock is the real one: production never sets the flag, and a clock file alone
changes nothing.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Callable, Mapping, Optional

from bot.storage.handoff_store import utc_now

FLAG = "FORUM_TEST_MODE"
CLOCK_FILE = "FORUM_TEST_CLOCK_FILE"

logger = logging.getLogger(__name__)


def _read(path: Path) -> datetime:
    """The time in the file (aware), or now when the file is empty or absent."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        text = ""
    if not text:
        return utc_now()
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{CLOCK_FILE} must hold a time with its UTC offset, not {text!r}")
    return moment


def clock(env: Optional[Mapping[str, str]] = None) -> Callable[[], datetime]:
    """The action server's clock: the real one, or the test clock file under the flag."""
    env = os.environ if env is None else env
    path = env.get(CLOCK_FILE, "").strip()
    if env.get(FLAG) != "1" or not path:
        return utc_now
    logger.warning("Test clock in use (%s=1): the handoff reads the time from a file.", FLAG)
    file = Path(path)
    return lambda: _read(file)


def set_clock(path: Path, moment: Optional[datetime]) -> None:
    """Freeze the test clock at `moment` (aware), or give it back the real time (None)."""
    if moment is not None and moment.tzinfo is None:
        raise ValueError("the test clock needs an aware time")
    path.write_text("" if moment is None else moment.isoformat(), encoding="utf-8")
