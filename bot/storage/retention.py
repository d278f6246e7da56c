"""`python -m bot purge [--older-than DAYS]`: the retention limit, applied.

Deletes conversation events (Rasa's tracker store) and handled handoff requests older
than DAYS (default: privacy.retention_days in bot/settings.yml), with their labels and
access-log lines, and the learning exports under build/learn/ when any request went.
The edge app also runs the same purge by itself every PURGE_EVERY_HOURS hours (default 6;
0 turns that off), so "conversations are deleted after N days" holds without a separate
scheduler; the command is for running it by hand or from cron. Safe to run at any time
and as often as wanted. It prints and logs counts only, never any conversation content.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from datetime import timedelta
from typing import Optional

from bot import settings
from bot.storage import handoff_store
from bot.storage.conversations import ConversationStore, ConversationStoreError

SECONDS_PER_DAY = 86400
DEFAULT_EVERY_HOURS = 6.0
# The first automatic purge waits a little, so that a server that is only started
# briefly (a test, a smoke check) never touches its database.
FIRST_DELAY_SECONDS = 300.0

logger = logging.getLogger(__name__)


def retention_days(override: Optional[int] = None) -> int:
    """The limit in days: the command-line value, else the configured one."""
    if override is not None:
        return override
    return settings.load().privacy.retention_days


def purge_conversations(
    days: int, now: Optional[float] = None, store: Optional[ConversationStore] = None
) -> int:
    """Delete tracker events older than `days`; the number deleted (0 if no SQL store)."""
    store = store or ConversationStore.from_endpoints()
    if store is None:
        return 0
    cutoff = (time.time() if now is None else now) - days * SECONDS_PER_DAY
    try:
        deleted = store.purge_older_than(cutoff)
        store.purge_tombstones_older_than(cutoff)  # ids only; counted apart from events
        return deleted
    finally:
        store.dispose()


def purge_handoffs(days: int, store: Optional[handoff_store.HandoffStore] = None) -> int:
    """Delete handled handoff requests older than `days` (default: the process's store,
    HANDOFF_DB_URL or var/handoff.db); the number deleted."""
    store = store or handoff_store.default_store()
    result = store.purge_handled(timedelta(days=days))
    if result:
        # The learning exports (build/learn/) are derived from requests: they go with them.
        from bot import learn

        learn.remove_exports()
    return result


def every_hours(env: Optional[dict] = None) -> float:
    """PURGE_EVERY_HOURS (default 6); 0 or less turns the automatic purge off."""
    raw = (os.environ if env is None else env).get("PURGE_EVERY_HOURS", "")
    try:
        return float(raw) if raw.strip() else DEFAULT_EVERY_HOURS
    except ValueError:
        logger.warning("PURGE_EVERY_HOURS is not a number: using %s.", DEFAULT_EVERY_HOURS)
        return DEFAULT_EVERY_HOURS


async def purge_periodically(
    interval_seconds: float, first_delay: float = FIRST_DELAY_SECONDS
) -> None:
    """Apply the retention limit now and then, forever (a background task of the edge app).

    A failed round (database briefly unreachable) is logged and retried next round.
    """
    loop = asyncio.get_running_loop()
    await asyncio.sleep(first_delay)
    while True:
        try:
            days = retention_days()
            events = await loop.run_in_executor(None, purge_conversations, days)
            handled = await loop.run_in_executor(None, purge_handoffs, days)
            logger.info(
                "Retention purge: %d conversation event(s) and %s handled request(s) "
                "older than %d day(s) deleted.",
                events,
                handled,
                days,
            )
        except Exception as error:  # keep the schedule alive; say what kind of failure
            logger.warning(
                "Retention purge failed (%s); retrying in %.0f s.",
                type(error).__name__,
                interval_seconds,
            )
        await asyncio.sleep(interval_seconds)


def main(args: argparse.Namespace) -> int:
    """Run the purge; print what was deleted; non-zero exit with one clear line on failure."""
    days = retention_days(getattr(args, "older_than", None))
    if days < 0:
        print("error: --older-than must be 0 or more days.", file=sys.stderr)
        return 2
    try:
        events = purge_conversations(days)
    except ConversationStoreError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    except Exception as error:  # database unreachable, permissions, ...
        print(
            f"error: could not purge conversations ({type(error).__name__}); "
            f"nothing was reported as deleted.",
            file=sys.stderr,
        )
        return 1
    print(f"Deleted {events} conversation event(s) older than {days} day(s).")
    try:
        handled = purge_handoffs(days)
    except Exception as error:
        print(f"error: could not purge handoff requests ({type(error).__name__}).", file=sys.stderr)
        return 1
    print(f"Deleted {handled} handled handoff request(s) older than {days} day(s).")
    return 0
