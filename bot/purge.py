"""`python -m bot purge [--older-than DAYS]`: the retention limit, applied.

Deletes conversation events (Rasa's tracker store) and handled handoff requests older
than DAYS (default: privacy.retention_days in bot/settings.yml). Run it daily (cron, a
systemd timer or the platform's scheduler); it is safe to run at any time and as often
as wanted. It prints counts only, never any conversation content.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import time
from datetime import timedelta
from typing import Any, Callable, Optional

from bot import settings
from bot.conversations import ConversationStore, ConversationStoreError

SECONDS_PER_DAY = 86400


def retention_days(override: Optional[int] = None) -> int:
    """The limit in days: the command-line value, else the configured one."""
    if override is not None:
        return override
    return int(settings.load()["privacy"]["retention_days"])


def purge_conversations(days: int, now: Optional[float] = None,
                        store: Optional[ConversationStore] = None) -> int:
    """Delete tracker events older than `days`; the number deleted (0 if no SQL store)."""
    store = store or ConversationStore.from_endpoints()
    if store is None:
        return 0
    cutoff = (time.time() if now is None else now) - days * SECONDS_PER_DAY
    try:
        return store.purge_older_than(cutoff)
    finally:
        store.dispose()


def purge_handoffs(days: int) -> Optional[int]:
    """Delete handled handoff requests older than `days` through bot.handoff_store.

    Uses the module's `purge_handled(older_than)` if it has one, else the default store's
    method of that name. None when the project has no handoff store.
    """
    if importlib.util.find_spec("bot.handoff_store") is None:
        return None
    handoff_store = importlib.import_module("bot.handoff_store")
    purge: Optional[Callable[[timedelta], Any]] = getattr(handoff_store, "purge_handled", None)
    if purge is None and hasattr(handoff_store, "default_store"):
        purge = handoff_store.default_store().purge_handled
    if purge is None:
        return None
    result = purge(timedelta(days=days))
    return int(result or 0)


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
        print(f"error: could not purge conversations ({type(error).__name__}); "
              f"nothing was reported as deleted.", file=sys.stderr)
        return 1
    print(f"Deleted {events} conversation event(s) older than {days} day(s).")
    try:
        handled = purge_handoffs(days)
    except Exception as error:
        print(f"error: could not purge handoff requests ({type(error).__name__}).",
              file=sys.stderr)
        return 1
    if handled is None:
        print("No handoff store to purge.")
    else:
        print(f"Deleted {handled} handled handoff request(s) older than {days} day(s).")
    return 0
