"""Contact details a parent may give: what counts, and the ContactDetector NLU component."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bot.contact import contact_message, find_contacts, uk_phone_national, valid_email
from bot.redact import redact


@pytest.mark.parametrize(
    "text,values",
    [
        ("jo.bloggs@example.com", ["jo.bloggs@example.com"]),
        ("my email is sam.smith@example.org", ["sam.smith@example.org"]),
        ("My e-mail is Sam.Smith+forum@example.co.uk.", ["Sam.Smith+forum@example.co.uk"]),
        ("07700 900123", ["07700 900123"]),
        ("you can call me on 07700 900456", ["07700 900456"]),
        ("call me on +44 (0)7700 900123 please", ["+44 (0)7700 900123"]),
        ("text me: 07700-900-123", ["07700-900-123"]),
        ("my landline is 020 7946 0000", ["020 7946 0000"]),
        ("it's (0161) 496 0000", ["(0161) 496 0000"]),
        ("email: jo@example.com or 020 7946 0000 thanks", ["jo@example.com", "020 7946 0000"]),
    ],
)
def test_mainly_contact_details(text, values):
    found = contact_message(text)
    assert found is not None and not found.attempted
    assert [c.value for c in found.contacts] == values
    for contact in found.contacts:
        assert text[contact.start : contact.end] == contact.value


@pytest.mark.parametrize(
    "text",
    [
        "call me on +1 212 555 0100",  # not a UK number
        "my number is 0800 123 4567",  # freephone: not a number to reply to
        "jo@example",  # no domain ending
        "jo..bloggs@example.com",
        "07700 9001",  # too short
        "my email is jo@@example.com",
    ],
)
def test_attempts_that_are_not_valid_are_recognised_without_a_contact(text):
    found = contact_message(text)
    assert found is not None
    assert found.attempted and found.contacts == ()


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        "what is a safety plan",
        "my husband's number is 07700 900123",  # someone else's details
        "I was arrested on 12/03/2019",
        "can I get legal aid? my email is jo@example.com and my son is 7",
        "/give_contact",  # a payload, not typed text
        "",
    ],
)
def test_everything_else_is_left_alone(text):
    assert contact_message(text) is None


def test_uk_numbers_and_addresses():
    assert uk_phone_national("+44 7700 900123") == "07700900123"
    assert uk_phone_national("0044 (0)20 7946 0000") == "02079460000"
    assert uk_phone_national("07700 90012") is None
    assert uk_phone_national("09011 234567") is None  # premium rate
    assert valid_email("a@b.co") and not valid_email("a@b") and not valid_email("@b.co")
    # Contacts found in a longer message (the action's view) are still found.
    assert [c.kind for c in find_contacts("reach me at jo@example.com or 07700 900123")] == [
        "email",
        "phone",
    ]


def test_what_counts_as_a_phone_here_is_redacted_in_storage():
    for text in ("07700 900123", "+44 (0)7700 900123", "020 7946 0000", "jo@example.com"):
        for contact in find_contacts(f"call me on {text}"):
            assert contact.value not in redact(f"call me on {text}")


# --- The Rasa component ---------------------------------------------------------------------
def _process(text: str, intent: str = "nlu_fallback"):
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.contact import ContactDetector

    message = Message(
        data={"text": text, "intent": {"name": intent, "confidence": 0.4}, "entities": []}
    )
    ContactDetector().process([message])
    return message


def test_the_component_sets_give_contact_and_an_entity():
    message = _process("you can call me on 07700 900456")
    assert message.get("intent") == {"name": "give_contact", "confidence": 1.0}
    [entity] = message.get("entities")
    assert entity["entity"] == "contact" and entity["value"] == "07700 900456"
    assert (entity["start"], entity["end"]) == (19, 31)


def test_the_component_marks_an_invalid_attempt_without_an_entity():
    message = _process("call me on +1 212 555 0100", intent="request_human")
    assert message.get("intent")["name"] == "give_contact"
    assert message.get("entities") == []


def test_the_component_leaves_other_messages_alone():
    message = _process("what is a safety plan", intent="safety_plan")
    assert message.get("intent") == {"name": "safety_plan", "confidence": 0.4}
    assert message.get("entities") == []


@pytest.mark.parametrize("text", ["test 1 2 3", "what's 365 divided by 7"])
def test_a_classifier_guess_of_give_contact_without_contact_details_is_undone(text):
    message = _process(text, intent="give_contact")
    assert message.get("intent")["name"] == "nlu_fallback"
    assert message.get("entities") == []


def test_the_trained_pipeline_recognises_contact_details(nlu):
    parsed = nlu("my email is jo.bloggs@example.com")
    assert parsed["intent"]["name"] == "give_contact"
    assert [e["value"] for e in parsed["entities"] if e["entity"] == "contact"] == [
        "jo.bloggs@example.com"
    ]
    assert nlu("what happens at a family group conference")["intent"]["name"] != "give_contact"


# --- ContactMask: NLU reads the message without its contact details ----------------------


@pytest.mark.parametrize(
    "typed,question",
    [
        (
            "my email is jo.bloggs@example.com. who writes the safety plan",
            "who writes the safety plan",
        ),
        ("what is an FGC? you can call me on 07700 900123", "what is an FGC?"),
        ("we live in LS6 2QR and the SW wants an assessment", "the SW wants an assessment"),
        ("how long does it last (we're in M1 1AE)", "how long does it last"),
        ("my son was born 14/02/2017, will they talk to him", "will they talk to him"),
        ("my daughter's dob is 3rd of May 2019 - can she stay at home", "can she stay at home"),
        ("is it legally binding email me at tired.mum@example.net", "is it legally binding"),
    ],
)
def test_the_mask_removes_the_detail_and_its_lead_in_and_keeps_the_question(typed, question):
    from bot.nlu.contact_mask import strip_details

    assert strip_details(typed) == question


@pytest.mark.parametrize(
    "text",
    [
        "what happens at a family group conference",
        "he was born in the 80s and has never been in trouble",
        "can I email the social worker on a sunday",
        "my partner is in prison and I want to kill myself",
    ],
)
def test_a_message_without_details_is_read_exactly_as_typed(text):
    from bot.nlu.contact_mask import strip_details

    assert strip_details(text) == text


@pytest.mark.parametrize(
    "text", ["jo@example.com", "my number is 07700 900123", "07700 900123 / jo@example.com"]
)
def test_a_message_of_details_only_is_never_emptied_and_never_shown_raw(text):
    from bot.nlu.contact_mask import strip_details
    from bot.redact import redact

    masked = strip_details(text)
    assert masked == redact(text)
    assert "@" not in masked and "900123" not in masked


def test_crisis_words_survive_the_mask():
    from bot.nlu.contact_mask import strip_details

    masked = strip_details("i can't go on, I'm going to end it tonight. my number is 07700 900123")
    assert masked == "i can't go on, I'm going to end it tonight."


def test_the_mask_component_hides_details_from_later_components_in_training_and_prediction():
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.nlu.contact import ContactDetector
    from bot.nlu.contact_mask import AS_TYPED, ContactMask

    typed = "call me on 07700 900123"
    live = Message(data={"text": typed})
    ContactMask().process([live])
    assert live.get("text") == "call me on [phone]"  # nothing else left: the redacted text
    assert live.get(AS_TYPED) == typed
    ContactDetector().process([live])  # still sees the number itself, at its place
    assert live.get("intent")["name"] == "give_contact"
    entity = live.get("entities")[0]
    assert typed[entity["start"] : entity["end"]] == entity["value"] == "07700 900123"

    example = Message(
        data={"text": "my email is jo@example.com, what is an FGC", "intent": "fgc/what_is"}
    )
    plain = Message(data={"text": "what is an FGC", "intent": "fgc/what_is"})
    ContactMask().process_training_data(TrainingData([example, plain]))
    assert example.get("text") == "what is an FGC"
    assert plain.get("text") == "what is an FGC" and plain.get(AS_TYPED) is None


def test_the_trained_pipeline_answers_the_question_next_to_a_contact_detail(nlu):
    parsed = nlu("my email is jo.bloggs@example.com, what happens at a family group conference")
    assert parsed["intent"]["name"] == "fgc"
    assert "@" not in parsed["text"]


def test_a_change_to_the_mask_rules_retrains_the_model():
    # ContactMask changes the training data through bot.redact: editing it must retrain.
    from bot.ops.training import model_inputs
    from bot.paths import PROJECT_ROOT

    assert PROJECT_ROOT / "bot" / "redact.py" in model_inputs()
    assert PROJECT_ROOT / "bot" / "nlu" / "contact_mask.py" in model_inputs()


# --- One set of patterns: whatever the detector finds, redaction removes (issue 13, 6) -------

_SEPARATORS = st.sampled_from(["", " ", "-", ".", "  "])
_UK_NUMBERS = st.sampled_from(["07700900123", "02079460000", "01614960000", "03001234567"])


@st.composite
def _written_numbers(draw: st.DrawFn) -> str:
    """A UK number as parents write it: national or +44/0044, any mix of separators."""
    digits = draw(_UK_NUMBERS)
    prefix = draw(st.sampled_from(["0", "+44", "+44 ", "+44-", "+44.", "0044 ", "+44 (0)"]))
    rest = digits[1:]
    cuts = sorted(draw(st.sets(st.integers(1, len(rest) - 1), max_size=3)))
    pieces = [rest[a:b] for a, b in zip([0, *cuts], [*cuts, len(rest)])]
    separator = draw(_SEPARATORS)
    return prefix + separator.join(pieces)


_emails = st.builds(
    "{}@{}.{}".format,
    st.text(alphabet="abcxyz.!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=12).filter(
        lambda local: not local.startswith(".") and not local.endswith(".") and ".." not in local
    ),
    st.sampled_from(["example", "mail-box", "ex4mple"]),
    st.sampled_from(["com", "co.uk", "org"]),
)
_words = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Zs", "Po")), max_size=15)


@hsettings(max_examples=300, deadline=None)
@given(before=_words, detail=st.one_of(_written_numbers(), _emails), after=_words)
def test_everything_the_detector_finds_redaction_removes(
    before: str, detail: str, after: str
) -> None:
    text = f"{before} {detail} {after}"
    cleaned = redact(text)
    for contact in find_contacts(text):
        assert contact.value not in cleaned, (text, cleaned)
        assert redact(contact.value) != contact.value


@pytest.mark.parametrize(
    "value,placeholder",
    [
        ("07700.900.123", "[phone]"),
        ("+44-7700-900123", "[phone]"),
        ("+44.7700.900123", "[phone]"),
        ("447700900123", "[phone]"),
        ("+33 6 12 34 56 78", "[phone]"),  # not one the detector keeps, still removed
        ("943 476 5919", "[nhs]"),
        ("943-476-5919", "[nhs]"),
        ("9434765919", "[nhs]"),
        ("QQ 12 34 56 C", "[ni]"),
        ("qq123456c", "[ni]"),
        ("2019/03/12", "[date]"),
        ("12-Mar-2019", "[date]"),
        ("SW1A  1AA", "[postcode]"),
        ("{jo}@example.com", "[email]"),
    ],
)
def test_the_shapes_redaction_used_to_miss(value: str, placeholder: str) -> None:
    assert redact(f"mine is {value} thanks") == f"mine is {placeholder} thanks"
