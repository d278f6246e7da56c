"""Scale-out: two Rasa servers share one conversation through PostgreSQL and Redis.

Two `rasa run` servers (and one action server) start with the production profile
(endpoints.production.yml: the redacting SQL tracker store on PostgreSQL, the Redis lock
store), configured only through its environment variables, against a database created for
this run (dropped afterwards) on 127.0.0.1:5432 and Redis on 127.0.0.1:6379. One
conversation's messages go to both servers, first alternately one after another, then all
at once. Every message must be answered, and the events table must hold each user message
exactly once, in send order for the sequential part, with no duplicated event and no turn
interleaved with another (the lock store serialises a conversation across servers).

Skips, printing why, only when PostgreSQL or Redis cannot be reached.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, List, Tuple

import pytest
import requests
import sqlalchemy as sa

from bot.content.responses import load_domain_responses
from tests.support.services import (
    POSTGRES_URL,
    REDIS_URL,
    postgres_missing,
    redis_missing,
    skip_or_fail,
)
from tools.stack import Stack, production_env, scratch_database

START_TIMEOUT_S = 420


def faq_payloads() -> List[str]:
    """Every distinct follow-up button payload in domain.yml, as Rasa sends it (the domain
    doubles JSON braces so that placeholder filling leaves them alone)."""
    found: List[str] = []
    for variations in load_domain_responses().values():
        for variation in variations:
            for button in variation.get("buttons") or []:
                payload = button["payload"].replace("{{", "{").replace("}}", "}")
                if payload.startswith("/choose_faq{") and payload not in found:
                    found.append(payload)
    return found


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A fresh PostgreSQL database for this run's tracker events; dropped afterwards."""
    problem = postgres_missing() or redis_missing()
    if problem:
        skip_or_fail(f"test_scale_out: {problem}")
    with scratch_database(POSTGRES_URL, "forum_scale") as name:
        yield name


def send(url: str, sender: str, message: str) -> Tuple[int, list]:
    reply = requests.post(
        f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=90
    )
    return reply.status_code, reply.json() if reply.status_code == 200 else []


@pytest.fixture(scope="module")
def servers(database: str, tmp_path_factory) -> Iterator[Tuple[str, str]]:
    """Two Rasa servers and one action server with the production profile, on free ports."""
    stack = Stack(
        tmp_path_factory.mktemp("scale"),
        label="scale",
        edge=False,
        rasa_servers=2,
        production=production_env(POSTGRES_URL, REDIS_URL, database),
    )
    stack.start().wait_until_ready(timeout=START_TIMEOUT_S)
    try:
        yield stack.rasa_urls[0], stack.rasa_urls[1]
    finally:
        stack.stop()


def stored_events(database: str, sender: str) -> List[dict]:
    """This conversation's rows of Rasa's events table, in insertion (id) order."""
    engine = sa.create_engine(sa.engine.make_url(POSTGRES_URL).set(database=database))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT id, type_name, timestamp, data FROM events "
                    "WHERE sender_id = :sender ORDER BY id"
                ),
                {"sender": sender},
            ).fetchall()
    finally:
        engine.dispose()
    return [
        {
            "id": row[0],
            "type": row[1],
            "timestamp": row[2],
            "data": row[3],
            "event": json.loads(row[3]),
        }
        for row in rows
    ]


def user_texts(events: List[dict]) -> List[str]:
    return [row["event"].get("text") for row in events if row["type"] == "user"]


def assert_turns_not_interleaved(events: List[dict]) -> None:
    """Each user message's turn ends with action_listen before the next user message."""
    last_action = "action_listen"
    for row in events:
        if row["type"] == "user":
            assert last_action == "action_listen", (
                f"a user message arrived while the previous turn was unfinished "
                f"(last action {last_action!r}): two servers handled the conversation at once"
            )
            last_action = None
        elif row["type"] == "action":
            last_action = row["event"].get("name")
    assert last_action == "action_listen", "the last turn never finished"


def test_one_conversation_across_two_servers_keeps_every_event_once_and_in_order(servers, database):
    server_a, server_b = servers
    payloads = faq_payloads()
    assert len(payloads) >= 8, "domain.yml should offer at least 8 follow-up buttons"
    sender = f"scale-{uuid.uuid4().hex}"

    # 1. Alternately, one after another: A, B, A, B, ...
    sequential = ["/start", "/greet", payloads[0], payloads[1], "/thank"]
    for index, message in enumerate(sequential):
        status, answer = send((server_a, server_b)[index % 2], sender, message)
        assert status == 200 and answer, f"no answer to {message!r} (HTTP {status})"
    events = stored_events(database, sender)
    assert user_texts(events) == sequential, "user messages lost, duplicated or reordered"

    # 2. All at once, half to each server: the lock store must serialise them.
    concurrent = payloads[2:8]
    targets = [(server_a, server_b)[index % 2] for index in range(len(concurrent))]
    with ThreadPoolExecutor(max_workers=len(concurrent)) as pool:
        answers = list(
            pool.map(lambda pair: send(pair[0], sender, pair[1]), zip(targets, concurrent))
        )
    for message, (status, answer) in zip(concurrent, answers):
        assert status == 200 and answer, f"no answer to {message!r} (HTTP {status})"

    events = stored_events(database, sender)
    texts = user_texts(events)
    assert texts[: len(sequential)] == sequential
    assert sorted(texts[len(sequential) :]) == sorted(concurrent), (
        "each concurrent message must be stored exactly once"
    )
    assert len({row["data"] for row in events}) == len(events), "an event was stored twice"
    timestamps = [row["timestamp"] for row in events]
    assert timestamps == sorted(timestamps), "events were stored out of order"
    assert_turns_not_interleaved(events)
    bot_messages = sum(1 for row in events if row["type"] == "bot")
    assert bot_messages >= len(sequential) + len(concurrent)
