"""The handoff request store, on SQLite and on PostgreSQL (127.0.0.1:5432, database test).

Each PostgreSQL run uses its own table prefix and drops its tables afterwards. The
PostgreSQL cases skip, with the reason printed, only when the server cannot be reached
(and fail instead under CI=true, see tests/support/services.py).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Iterator, List

import pytest
import sqlalchemy as sa

from bot import settings
from bot.redact import redact
from bot.storage import handoff_store
from bot.storage.handoff_store import REFERENCE_ALPHABET, HandoffStore, default_store
from tests.support.stores import open_store

LENGTH = settings.load().handoff.reference_length
QUESTION = (
    "My partner was arrested. Can I get legal aid? Email me at jo.bloggs@example.com "
    "or call 07700 900123, we live at SW1A 1AA."
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
def store(request, tmp_path) -> Iterator[HandoffStore]:
    with open_store(request.param, tmp_path, reference_length=LENGTH) as made:
        yield made


def test_a_request_is_stored_redacted_with_a_short_reference(store):
    transcript = f"Parent: {QUESTION}\nAssistant: I can't answer that reliably."
    request = store.add(QUESTION, transcript)
    assert len(request.reference) == LENGTH
    assert set(request.reference) <= set(REFERENCE_ALPHABET)
    assert not set(request.reference) & set("01OIL")
    assert request.question == redact(QUESTION)
    for secret in ("jo.bloggs@example.com", "07700 900123", "SW1A 1AA"):
        assert secret not in request.question and secret not in request.transcript
    assert "[email]" in request.question and "[phone]" in request.transcript
    assert request.status == "new" and request.handled_at is None and request.contact is None
    assert request.created_at.tzinfo is not None
    assert request.created_at == datetime(2025, 6, 2, 9, 1, tzinfo=timezone.utc)


def test_the_contact_is_stored_as_given(store):
    request = store.add("Can I get legal aid?", "Parent: Can I get legal aid?")
    assert store.set_contact(request.reference, "jo.bloggs@example.com")
    assert store.get(request.reference).contact == "jo.bloggs@example.com"
    assert not store.set_contact("ZZZZZZ", "jo@example.com")
    with pytest.raises(ValueError):
        store.set_contact(request.reference, "x" * 300)


def test_a_contact_is_set_once_and_only_while_the_request_waits(store):
    """Issue 13, item 10: whoever else holds the conversation's id (a script on the forum
    page can read it) cannot replace the way to reply the parent gave."""
    request = store.add("Can I get legal aid?", "Parent: Can I get legal aid?")
    assert store.set_contact(request.reference, "jo.bloggs@example.com")
    assert not store.set_contact(request.reference, "someone.else@example.com")
    assert store.get(request.reference).contact == "jo.bloggs@example.com"
    handled = store.add("Who can see my file?", "Parent: Who can see my file?")
    assert store.mark_handled(handled.reference)
    assert not store.set_contact(handled.reference, "someone.else@example.com")
    assert store.get(handled.reference).contact is None


def test_waiting_requests_oldest_first_then_handled_newest_first(store):
    made = [store.add(f"Question {n}", f"Parent: Question {n}") for n in range(5)]
    store.mark_handled(made[1].reference)
    store.mark_handled(made[3].reference)
    listed = store.list_requests()
    # The longest wait first; handled ones after every waiting one, the newest of them first.
    assert [r.reference for r in listed] == [
        made[0].reference,
        made[2].reference,
        made[4].reference,
        made[3].reference,
        made[1].reference,
    ]
    ref = made[2].reference
    spaced = f" {ref[:3].lower()}-{ref[3:].lower()} "
    assert store.get(spaced).question == "Question 2"
    assert store.get("NOPE99") is None


def test_requests_come_in_pages_with_a_total(store):
    made = [store.add(f"Question {n}", f"Parent: Question {n}") for n in range(7)]
    pages = [store.list_requests(limit=3, offset=offset) for offset in (0, 3, 6, 9)]
    assert [len(page) for page in pages] == [3, 3, 1, 0]
    assert [r.reference for page in pages for r in page] == [r.reference for r in made]
    assert store.count_requests() == 7
    store.mark_handled(made[0].reference)
    assert (store.count_requests("new"), store.count_requests("handled")) == (6, 1)
    with pytest.raises(ValueError):
        store.list_requests(limit=0)
    with pytest.raises(ValueError):
        store.count_requests("deleted")


def test_mark_handled_once(store):
    first, second = store.add("One", "Parent: One"), store.add("Two", "Parent: Two")
    assert store.mark_handled(first.reference)
    assert not store.mark_handled(first.reference)  # already handled
    assert not store.mark_handled("ZZZZZZ")  # unknown
    handled = store.get(first.reference)
    assert handled.status == "handled" and handled.handled_at > handled.created_at
    assert [r.reference for r in store.list_requests(status="new")] == [second.reference]
    assert [r.reference for r in store.list_requests(status="handled")] == [first.reference]
    with pytest.raises(ValueError):
        store.list_requests(status="deleted")


def test_a_waiting_request_can_be_brought_up_to_date_but_not_a_handled_one(store):
    request = store.add("First question", "Parent: First question")
    assert store.replace_question(
        request.reference,
        "First\nSecond, call 07700 900123",
        "Parent: First\nParent: Second, call 07700 900123",
    )
    updated = store.get(request.reference)
    assert updated.question == "First\nSecond, call [phone]"
    assert "07700" not in updated.transcript
    store.mark_handled(request.reference)
    assert not store.replace_question(request.reference, "Third", "Parent: Third")
    assert store.get(request.reference).question == "First\nSecond, call [phone]"


def test_references_are_unique_even_when_a_random_draw_collides(store, monkeypatch):
    existing = store.add("One", "Parent: One")
    draws = iter([existing.reference, existing.reference, "ABCDEF"[:LENGTH]])
    monkeypatch.setattr(handoff_store, "new_reference", lambda length: next(draws))
    again = store.add("Two", "Parent: Two")
    assert again.reference == "ABCDEF"[:LENGTH]
    monkeypatch.undo()
    references = {store.add(f"Q{n}", "t").reference for n in range(50)}
    assert len(references) == 50


def test_empty_questions_are_refused_and_long_transcripts_keep_the_end(store):
    with pytest.raises(ValueError):
        store.add("   ", "Parent: hello")
    lines = [f"Parent: message {n:05d}" for n in range(4000)]
    request = store.add("A long conversation", "\n".join(lines))
    assert len(request.transcript) <= handoff_store.MAX_TRANSCRIPT_CHARS
    assert request.transcript.startswith(handoff_store.TRUNCATED)
    assert request.transcript.endswith(lines[-1])


def test_purge_handled_removes_only_old_handled_requests(store):
    start = store.clock.now
    old_handled, recent_handled, old_new = (store.add(q, q) for q in ("A", "B", "C"))
    store.mark_handled(old_handled.reference)
    store.clock.now = start + timedelta(days=35)
    store.mark_handled(recent_handled.reference)
    now = start + timedelta(days=40)
    assert store.purge_handled(timedelta(days=30), now=now) == 1
    assert store.get(old_handled.reference) is None
    assert store.get(recent_handled.reference) is not None
    assert store.get(old_new.reference) is not None  # never read yet: kept
    assert store.purge_handled(timedelta(days=30), now=now) == 0
    with pytest.raises(ValueError):
        store.purge_handled(timedelta(days=-1))


def test_crisis_counts_per_category_and_day(store):
    monday, tuesday = date(2025, 6, 2), date(2025, 6, 3)
    for category, day in [
        ("suicidal", monday),
        ("suicidal", monday),
        ("suicidal", tuesday),
        ("immediate_danger", tuesday),
    ]:
        store.count_crisis(category, day)
    counts = [(c.day, c.category, c.count) for c in store.crisis_counts(since=monday)]
    assert counts == [
        (tuesday, "immediate_danger", 1),
        (tuesday, "suicidal", 1),
        (monday, "suicidal", 2),
    ]
    assert [c.day for c in store.crisis_counts(since=tuesday)] == [tuesday, tuesday]
    for bad in ("", "Robert'); DROP TABLE x;--", "x" * 41, "with space"):
        with pytest.raises(ValueError):
            store.count_crisis(bad, monday)


def test_crisis_table_holds_counts_only(store):
    columns = {c.name for c in store.crisis.columns}
    assert columns == {"day", "category", "count"}


def test_the_url_comes_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "nested" / "from-env.db"
    monkeypatch.setenv("HANDOFF_DB_URL", f"sqlite:///{path}")
    store = default_store()
    assert store.url == f"sqlite:///{path}" and path.exists()
    assert default_store() is store  # one store per URL in a process
    assert store.reference_length == LENGTH
    monkeypatch.delenv("HANDOFF_DB_URL")
    assert handoff_store.DEFAULT_URL.endswith("var/handoff.db")


def test_two_stores_on_one_file_see_each_other(tmp_path):
    """The action server writes and the edge app reads the same SQLite file."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    writer, reader = HandoffStore(url), HandoffStore(url)
    made: List[str] = [writer.add(f"Q{n}", "t").reference for n in range(3)]
    assert [r.reference for r in reader.list_requests()] == made
    assert reader.mark_handled(made[0]) and writer.get(made[0]).status == "handled"


def test_a_database_error_quotes_no_question(tmp_path):
    """An error from the store is logged by the action server: it must not carry the
    question or transcript (SQLAlchemy quotes a failed statement's values by default)."""
    store = HandoffStore(f"sqlite:///{tmp_path / 'broken.db'}")
    store.requests.drop(store.engine)
    words = "Ottilie Brackenbury's dad was cautioned"
    with pytest.raises(sa.exc.OperationalError) as failure:
        store.add(words, f"Parent: {words}")
    assert "handoff_requests" in str(failure.value)
    assert "Ottilie" not in str(failure.value)
