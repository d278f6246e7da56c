"""The accuracy gate: the trained model's understanding against tests/nlu/floors.yml.

Held-out accuracy and macro-F1 (tests/nlu, the development split), right and wrong answers
to whole forum posts (tests/nlu/long_posts.yml) and misfires on unrelated requests
(../shared/eval-data/clinc150-val.tsv, read here and never copied) are measured exactly as
`make eval` measures them (tools/nlu_eval.py), with one model load and batched parsing,
on the model `make test` trains (the `nlu` fixture; NLU_MODEL to gate another). The final
split (tests/nlu_final) is not read: floors are tuned figures.
"""

from __future__ import annotations

from typing import Dict

import pytest

from tools import corpus
from tools import nlu_eval as ev


@pytest.fixture(scope="module")
def measured(nlu) -> Dict[str, float]:
    rows = ev.read_clinc(ev.CLINC, shown=ev.CLINC_SHOWN)
    clinc_rows = ev.not_small_talk(rows) if rows is not None else None
    posts = corpus.long_posts()
    assert posts, "no long posts in tests/nlu/long_posts.yml"
    results, _ = ev.evaluate(nlu, ev.load_held_out(), clinc_rows, False, posts)
    figures = ev.gate_figures(results["held_out"], results["long_posts"], results.get("clinc"))
    print("\nAccuracy gate, measured: " + ", ".join(f"{k} {v:.4f}" for k, v in figures.items()))
    wrong = results["long_posts"]["wrong_posts"]
    print(
        "  long posts answered wrongly: " + ", ".join(f"{w['id']}->{w['decision']}" for w in wrong)
    )
    return figures


@pytest.mark.parametrize("figure", sorted(ev.GATED))
def test_understanding_stays_on_the_right_side_of_its_floor(measured, figure: str) -> None:
    floors = ev.read_floors()
    if figure not in measured:
        reason = f"{figure}: {ev.CLINC_SHOWN} not found, so misfires cannot be measured here"
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    kind = ev.GATED[figure]
    failed = ev.below_floors({figure: measured[figure]}, floors)
    assert not failed, f"{failed[0]} ({kind} in tests/nlu/floors.yml)"


def test_batched_parsing_decides_as_one_message_at_a_time(nlu) -> None:
    """The gate parses in batches (NluParser.parse_many); Rasa parses one message a time."""
    texts = [e.text for e in ev.load_held_out()[::37]] + [p.text for p in corpus.long_posts()[:4]]
    batched = nlu.parse_many(texts, batch=7)
    for text, parse in zip(texts, batched):
        single = nlu(text)
        assert parse["text"] == text
        assert ev.decision(parse) == ev.decision(single), text
        assert parse["intent"]["confidence"] == pytest.approx(
            single["intent"]["confidence"], abs=1e-4
        ), text
