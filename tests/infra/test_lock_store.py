"""The production lock store: one conversation's messages one at a time, across servers.

Each store below has its own Redis connection, as two Rasa servers would. Needs the
machine's Redis (TEST_REDIS_URL, default redis://127.0.0.1:6379/1); skips, saying why,
where it is absent.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
import uuid
from typing import List, Tuple
from urllib.parse import urlsplit

import pytest
from rasa.core.lock_store import LockStore
from rasa.utils.endpoints import read_endpoint_config

from bot.paths import PROJECT_ROOT
from bot.rasa.lock_store import AtomicRedisLockStore
from tests.support.services import REDIS_URL, redis_missing, skip_or_fail

_parts = urlsplit(REDIS_URL)
REDIS = {
    "host": _parts.hostname or "127.0.0.1",
    "port": _parts.port or 6379,
    "db": int((_parts.path or "/1").strip("/") or 1),
}


@pytest.fixture(scope="module", autouse=True)
def redis_needed() -> None:
    problem = redis_missing()
    if problem:
        skip_or_fail(problem)


def store() -> AtomicRedisLockStore:
    return AtomicRedisLockStore(key_prefix="locktest", **REDIS)


def test_the_production_endpoints_choose_the_atomic_store(monkeypatch) -> None:
    for name, value in {
        "ACTION_SERVER_URL": "http://127.0.0.1:5055/webhook",
        "DB_HOST": "127.0.0.1",
        "DB_PORT": "5432",
        "DB_NAME": "test",
        "DB_USER": "postgres",
        "DB_PASSWORD": "",
        "REDIS_HOST": REDIS["host"],
        "REDIS_PORT": str(REDIS["port"]),
        "REDIS_DB": str(REDIS["db"]),
        "REDIS_PASSWORD": "",
    }.items():
        monkeypatch.setenv(name, value)
    config = read_endpoint_config(str(PROJECT_ROOT / "endpoints.production.yml"), "lock_store")
    made = LockStore.create(config)
    assert isinstance(made, AtomicRedisLockStore)
    assert made.key_prefix == "forum:lock:"
    assert made.red.ping()


def test_tickets_issued_at_once_by_many_servers_are_all_different() -> None:
    conversation = f"tickets-{uuid.uuid4().hex}"
    stores = [store() for _ in range(4)]
    issued: List[int] = []
    guard = threading.Lock()
    start = threading.Barrier(len(stores))

    def server(lock_store: AtomicRedisLockStore) -> None:
        start.wait()
        mine = [lock_store.issue_ticket(conversation, 60) for _ in range(40)]
        with guard:
            issued.extend(mine)

    threads = [threading.Thread(target=server, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert sorted(issued) == list(range(len(issued))), "a ticket number was issued twice"
        assert len(stores[0].get_lock(conversation).tickets) == 160, "a ticket was lost"
    finally:
        stores[0].delete_lock(conversation)


def test_only_one_server_at_a_time_handles_a_conversation_and_the_lock_is_removed() -> None:
    conversation = f"mutex-{uuid.uuid4().hex}"
    inside: List[int] = []
    spans: List[Tuple[float, float]] = []
    guard = threading.Lock()
    start = threading.Barrier(6)

    def server(index: int) -> None:
        lock_store = store()

        async def handle() -> None:
            async with lock_store.lock(conversation, lock_lifetime=30, wait_time_in_seconds=0.01):
                began = time.monotonic()
                with guard:
                    inside.append(index)
                await asyncio.sleep(0.05)  # a message being handled
                spans.append((began, time.monotonic()))

        start.wait()
        asyncio.run(handle())

    threads = [threading.Thread(target=server, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(inside) == list(range(6)), "every message must be handled"
    spans.sort()
    overlaps = [(a, b) for a, b in itertools.pairwise(spans) if b[0] < a[1]]
    assert not overlaps, f"two servers handled the conversation at once: {overlaps}"
    assert store().get_lock(conversation) is None, "the lock must be gone once all are done"
