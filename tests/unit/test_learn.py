"""Labels on left questions and the learning exports, on SQLite and on PostgreSQL: consent
honoured, exports redacted and marked, purged with the request."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from bot import learn
from bot.storage.handoff_store import HandoffStore, NoConsent
from tests.support.stores import open_store

FAQ = "safety_plan/legal_status"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
def store(request, tmp_path) -> Iterator[HandoffStore]:
    with open_store(request.param, tmp_path) as made:
        yield made


def test_labels_are_kept_with_role_and_time_and_replace_earlier_ones(store):
    request = store.add("is the plan binding", "Parent: is the plan binding", learn_consent=True)
    first = store.set_label(request.reference, "topic", "adviser", title="  Plan   disputes ")
    assert (first.kind, first.title, first.faq, first.labelled_by) == (
        "topic",
        "Plan disputes",
        None,
        "adviser",
    )
    assert first.labelled_at == datetime(2025, 6, 2, 9, 2, tzinfo=timezone.utc)
    second = store.set_label(request.reference, "faq", "adviser", faq=FAQ)
    assert store.label(request.reference) == second and second.faq == FAQ
    assert [label.reference for _r, label in store.labelled("faq")] == [request.reference]
    assert store.labelled("topic") == []


def test_without_consent_a_request_cannot_be_labelled_or_exported(store, tmp_path):
    request = store.add("is the plan binding", "Parent: is the plan binding")
    assert request.learn_consent is False
    with pytest.raises(NoConsent):
        store.set_label(request.reference, "faq", "adviser", faq=FAQ)
    assert store.label(request.reference) is None
    # Even a label written behind the store's back is never exported.
    with store.engine.begin() as connection:
        connection.execute(
            store.labels.insert().values(
                reference=request.reference,
                kind="faq",
                faq=FAQ,
                labelled_by="adviser",
                labelled_at=datetime(2025, 6, 3),
            )
        )
    out = tmp_path / "examples.yml"
    assert learn.export_examples(store, out, data=tmp_path / "no-data") == 0
    assert "binding" not in out.read_text(encoding="utf-8")


def test_malformed_labels_are_refused(store):
    request = store.add("Question", "Parent: Question", learn_consent=True)
    for kind, faq, title in (("faq", None, None), ("topic", None, " "), ("other", None, None)):
        with pytest.raises(ValueError):
            store.set_label(request.reference, kind, "adviser", faq=faq, title=title)
    with pytest.raises(KeyError):
        store.set_label("ZZZZZZ", "not_for_assistant", "adviser")


def test_export_redacts_again_marks_each_example_and_skips_known_ones(store, tmp_path):
    typed = store.add("placeholder", "Parent: placeholder", learn_consent=True)
    # A contact detail the store's redaction of the time did not catch (written directly,
    # as an older row or a newer pattern would leave it).
    with store.engine.begin() as connection:
        connection.execute(
            store.requests.update()
            .where(store.requests.c.reference == typed.reference)
            .values(question="is the plan legally binding?\nmail me on jo.bloggs@example.com")
        )
    known = store.add("What is a safety plan", "Parent: What is a safety plan", True)
    other = store.add("Can they make me sign it", "Parent: Can they make me sign it", True)
    store.set_label(typed.reference, "faq", "adviser", faq=FAQ)
    store.set_label(known.reference, "faq", "adviser", faq="safety_plan/what_is")
    store.set_label(other.reference, "not_for_assistant", "adviser")
    data = tmp_path / "data" / "nlu"
    data.mkdir(parents=True)
    (data / "x.yml").write_text(
        'version: "3.1"\nnlu:\n  - intent: safety_plan/what_is\n    examples: |\n'
        "      - what is a  safety plan\n",
        encoding="utf-8",
    )
    out = tmp_path / "build" / "examples.yml"
    assert learn.export_examples(store, out, data=tmp_path / "data") == 1
    text = out.read_text(encoding="utf-8")
    assert "jo.bloggs" not in text and "example.com" not in text
    document = yaml.safe_load(text)
    assert document["nlu"] == [
        {
            "intent": FAQ,
            "examples": [
                {
                    "text": "is the plan legally binding? mail me on [email]",
                    "metadata": {"source": f"adviser inbox {typed.reference}"},
                }
            ],
        }
    ]


def test_gaps_count_titles_newest_first(store, tmp_path):
    titles = ["Housing after an arrest", "School governors", "housing  after an arrest"]
    for title in titles:
        request = store.add(f"about {title}", f"Parent: about {title}", learn_consent=True)
        store.set_label(request.reference, "topic", "adviser", title=title)
    gaps = learn.content_gaps(store)
    assert [(g.title, g.count) for g in gaps] == [
        ("housing after an arrest", 2),  # the newest spelling
        ("School governors", 1),
    ]
    out = tmp_path / "gaps.md"
    assert learn.write_gaps(store, out) == 2
    assert "| housing after an arrest | 2 |" in out.read_text(encoding="utf-8")


def test_labels_access_and_exports_go_with_the_purged_request(store, tmp_path, monkeypatch):
    request = store.add("Question to purge", "Parent: Question to purge", learn_consent=True)
    store.set_label(request.reference, "topic", "adviser", title="Purged topic")
    export, gaps = tmp_path / "learn" / "examples.yml", tmp_path / "learn" / "gaps.md"
    learn.write_gaps(store, gaps)
    export.write_text("derived", encoding="utf-8")
    store.mark_handled(request.reference)
    monkeypatch.setattr(learn, "EXPORT_FILE", export)
    monkeypatch.setattr(learn, "GAPS_FILE", gaps)
    from bot.storage import handoff_store, retention

    monkeypatch.setattr(handoff_store, "default_store", lambda: store)
    store.clock = lambda: datetime(2025, 8, 1, tzinfo=timezone.utc)
    assert retention.purge_handoffs(30) == 1
    assert store.label(request.reference) is None and store.labelled("topic") == []
    assert not export.exists() and not gaps.exists()


def test_the_command_line_writes_both_files(store, tmp_path, capsys):
    question = "does the plan we signed in the spring still hold now he has moved out"
    request = store.add(question, f"Parent: {question}", learn_consent=True)
    store.set_label(request.reference, "faq", "adviser", faq=FAQ)
    out = tmp_path / "e.yml"
    assert learn.run(argparse.Namespace(learn_command="export", out=str(out)), store) == 0
    assert "1 example(s)" in capsys.readouterr().out and out.exists()
    assert (
        learn.run(argparse.Namespace(learn_command="gaps", out=str(tmp_path / "g.md")), store) == 0
    )


def test_rasa_accepts_the_export_placed_in_data(tmp_path):
    """`rasa data validate --fail-on-warnings` on the project's data plus the export."""
    import shutil
    import subprocess
    import sys

    from bot.paths import CONFIG, DOMAIN, TRAINING_DATA

    store = HandoffStore(f"sqlite:///{tmp_path / 'handoff.db'}")
    for question, faq in (
        ("our social worker says the plan is binding, mail me at jo@example.com", FAQ),
        ("what really goes on at one of those family meetings [phone](x) then", "fgc/what_is"),
    ):
        request = store.add(question, f"Parent: {question}", learn_consent=True)
        store.set_label(request.reference, "faq", "adviser", faq=faq)
    data = tmp_path / "data"
    shutil.copytree(TRAINING_DATA, data)
    assert learn.export_examples(store, data / "nlu" / "inbox-examples.yml", data=data) == 2
    rasa = Path(sys.executable).parent / "rasa"
    result = subprocess.run(
        [str(rasa), "data", "validate", "--fail-on-warnings", "--domain", str(DOMAIN)]
        + ["--data", str(data), "--config", str(CONFIG)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    store.engine.dispose()
