"""Redaction (bot.redact, bot.logging_policy): what is replaced, and what is left alone."""

from __future__ import annotations

import copy
import glob
import logging
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest
import yaml
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bot import logging_policy, settings
from bot.content.responses import load_domain_responses, render
from bot.paths import PROJECT_ROOT
from bot.redact import redact, redact_event

# Fictitious values only: Ofcom's drama numbers, example.* domains, test card numbers.
FOUND: List[Tuple[str, str]] = [
    ("jo.bloggs+forum@example.co.uk", "[email]"),
    ("SAM.SMITH@EXAMPLE.ORG", "[email]"),
    ("o'neill-family@mail.example.com", "[email]"),
    ("07700 900123", "[phone]"),
    ("07700900123", "[phone]"),
    ("07700-900-123", "[phone]"),
    ("+44 7700 900123", "[phone]"),
    ("+447700900123", "[phone]"),
    ("+44 (0)7700 900123", "[phone]"),
    ("020 7946 0000", "[phone]"),
    ("(020) 7946 0000", "[phone]"),
    ("0161-496-0000", "[phone]"),
    ("01632 960001", "[phone]"),
    ("SW1A 1AA", "[postcode]"),
    ("sw1a1aa", "[postcode]"),
    ("m1 1ae", "[postcode]"),
    ("B33 8TH", "[postcode]"),
    ("EC1A 1BB", "[postcode]"),
    ("DN55 1PT", "[postcode]"),
    ("12/03/2019", "[date]"),
    ("3/4/2018", "[date]"),
    ("12.03.19", "[date]"),
    ("2019-03-12", "[date]"),
    ("12 March 2019", "[date]"),
    ("12th of March 2019", "[date]"),
    ("March 12th, 2019", "[date]"),
    ("1st Jan 2019", "[date]"),
    ("4111 1111 1111 1111", "[card]"),
    ("4111-1111-1111-1111", "[card]"),
    ("4111111111111111", "[card]"),
]

# Ordinary things parents write: numbers that identify nobody stay as they are.
LEFT_ALONE = [
    "my son is 7 and the visit was at 9:30",
    "I have 2 kids aged 3 and 5",
    "is it under section 20 of the Children Act 1989?",
    "he was arrested in 2023 and bailed for 3 months",
    "the meeting is on 12/3",
    "the case number is 123456",
    "we have had 4 meetings in 10 weeks",
]


@pytest.mark.parametrize("value,placeholder", FOUND)
def test_each_kind_is_replaced_by_its_placeholder(value: str, placeholder: str) -> None:
    sentence = f"my details: {value} thanks"
    assert redact(sentence) == f"my details: {placeholder} thanks"


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_ordinary_numbers_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_several_details_in_one_message_all_go() -> None:
    text = (
        "I'm at jo@example.com or 07700 900123, postcode B33 8TH, my daughter was born 12/03/2019"
    )
    cleaned = redact(text)
    for raw in ("jo@example.com", "07700 900123", "B33 8TH", "12/03/2019"):
        assert raw not in cleaned
    assert cleaned == (
        "I'm at [email] or [phone], postcode [postcode], my daughter was born [date]"
    )


def _training_examples() -> Iterator[Tuple[str, str]]:
    for path in sorted(glob.glob(str(PROJECT_ROOT / "data" / "nlu" / "*.yml"))):
        for block in (yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}).get(
            "nlu"
        ) or []:
            for line in str(block.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    yield str(block.get("intent")), line.strip()[2:]


def test_no_training_example_outside_give_contact_is_redacted() -> None:
    """Questions about assessments, plans and services hold nothing to redact: over-eager
    patterns would show up here as changed examples."""
    examples = list(_training_examples())
    assert len(examples) > 100
    changed = [
        (intent, text)
        for intent, text in examples
        if intent != "give_contact" and redact(text) != text
    ]
    assert changed == []


def test_every_give_contact_example_is_redacted() -> None:
    contact = [text for intent, text in _training_examples() if intent == "give_contact"]
    assert contact, "data/nlu has no give_contact examples"
    assert [text for text in contact if redact(text) == text] == []


def test_bot_events_keep_the_charitys_own_numbers() -> None:
    """Only user events are redacted: the adviceline and crisis numbers the assistant
    says (from bot/settings.yml, through domain.yml) are stored as said."""
    values = settings.placeholders()
    names = [name for name in load_domain_responses() if "crisis" in name or "adviceline" in name]
    names.append("utter_edge_unavailable")
    for name in names:
        text = render(name, values)["text"]
        event = {"event": "bot", "text": text, "data": {}}
        assert redact_event(copy.deepcopy(event)) == event
    phone = settings.load().adviceline.phone
    assert phone in render("utter_edge_unavailable", values)["text"]


def test_user_event_is_redacted_everywhere_it_carries_text() -> None:
    raw = "call 07700 900123 or jo@example.com"
    event = {
        "event": "user",
        "text": raw,
        "parse_data": {
            "text": raw,
            "intent": {"name": "give_contact"},
            "entities": [{"entity": "phone", "value": "07700 900123"}],
        },
        "metadata": {"note": raw, "nested": [raw]},
    }
    stored = redact_event(copy.deepcopy(event))
    assert "07700" not in str(stored) and "jo@example.com" not in str(stored)
    assert stored["parse_data"]["intent"] == {"name": "give_contact"}
    slot = redact_event({"event": "slot", "name": "contact", "value": "jo@example.com"})
    assert slot["value"] == "[email]"


_detail = st.sampled_from([value for value, _ in FOUND])
_filler = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Zs")), max_size=20)


@hsettings(max_examples=200, deadline=None)
@given(before=_filler, detail=_detail, after=_filler)
def test_a_detail_never_survives_whatever_surrounds_it(
    before: str, detail: str, after: str
) -> None:
    cleaned = redact(f"{before} {detail} {after}")
    assert detail not in cleaned
    assert redact(cleaned) == cleaned  # placeholders are never re-redacted


def test_log_records_are_redacted_before_any_handler_sees_them(caplog) -> None:
    logging_policy.install()
    logging_policy.install()  # twice is harmless
    with caplog.at_level(logging.INFO, logger="tests.redact"):
        logging.getLogger("tests.redact").info("parent wrote %s", "07700 900123, B33 8TH")
        try:
            raise ValueError("bad input jo@example.com")
        except ValueError:
            logging.getLogger("tests.redact").exception("failed")
    text = caplog.text
    assert "parent wrote [phone], [postcode]" in text
    assert "07700" not in text and "jo@example.com" not in text
    assert "ValueError: bad input [email]" in text


# The measurement command (tools/redaction_eval.py), checked without a model ---------------


def test_every_injected_detail_is_one_the_redactor_removes() -> None:
    """Otherwise "redacted" would still carry raw details and the comparison would lie."""
    import random

    from tools.redaction_eval import TEMPLATES, with_detail

    for _, values in TEMPLATES:
        for value in values:
            assert value not in redact(f"x {value} y"), value
    rng = random.Random(1)
    typed = [with_detail("what is a safety plan", rng) for _ in range(50)]
    assert all(text != "what is a safety plan" for text in typed)
    assert all("[" in redact(text) for text in typed)


def test_redaction_eval_reads_both_held_out_formats_and_scores_decisions(tmp_path: Path) -> None:
    from tools.redaction_eval import agrees, decision, evaluate, held_out_examples

    (tmp_path / "faq.yml").write_text(
        'version: "3.1"\nnlu:\n  - intent: safety_plan/what_is\n    examples: |\n'
        "      - what is a safety plan\n  - intent: greet\n    examples: |\n      - hello\n"
    )
    (tmp_path / "crisis").mkdir()
    (tmp_path / "crisis" / "crisis.yml").write_text(
        "version: 1\ncategories:\n  crisis_immediate_danger:\n    - he has a knife\n"
    )
    examples = held_out_examples(tmp_path)
    assert sorted(examples) == [
        ("crisis_immediate_danger", "he has a knife"),
        ("greet", "hello"),
        ("safety_plan/what_is", "what is a safety plan"),
    ]
    parse = {
        "intent": {"name": "safety_plan"},
        "response_selector": {
            "safety_plan": {"response": {"intent_response_key": "safety_plan/what_is"}}
        },
    }
    assert decision(parse) == "safety_plan/what_is"
    assert agrees("greet", "greet") and not agrees("safety_plan/what_is", "safety_plan/breach")

    def fake_parse(text: str) -> dict:
        """Right on clean text; distracted by any raw detail; fooled by no placeholder."""
        raw = redact(text) != text
        gold = {t: g for g, t in examples}
        for known, label in gold.items():
            if known in text:
                intent, _, answer = label.partition("/")
                name = "give_contact" if raw else intent
                selector = {intent: {"response": {"intent_response_key": label}}} if answer else {}
                return {"intent": {"name": name}, "response_selector": selector}
        return {"intent": {"name": "nlu_fallback"}}

    result = evaluate(examples, fake_parse)
    assert result["total"] == 3
    assert result["accuracy"] == {"clean": 1.0, "original": 0.0, "redacted": 1.0}
    assert len(result["changed"]) == 3
