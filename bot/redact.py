"""Remove contact and identity details from text before it is stored anywhere.

Pure functions only: the tracker store, the handoff store and the logs call `redact`.
E-mail addresses and phone numbers are found with the candidates of bot/contact.py, the
same the contact detector reads (so whatever it accepts is removed), then with the broad
shapes there. Placeholders say what was there without keeping it: "[email]", "[phone]",
"[postcode]", "[date]", "[card]", "[nhs]" (NHS number), "[ni]" (National Insurance number).
"""

from __future__ import annotations

import re
from typing import Any, List, Pattern, Tuple

from bot.contact import EMAIL, INTERNATIONAL_PHONE, UK_PHONE, contact_spans

# Card-like: 13-19 digits, optionally grouped by spaces or dashes.
_CARD = re.compile(r"(?<!\w)(?:\d[ -]?){12,18}\d(?!\w)")
# NHS numbers: ten digits, written 3-3-4 ("943 476 5919", "943-476-5919", "9434765919").
_NHS = re.compile(r"(?<![\w+])\d{3}([ -]?)\d{3}\1\d{4}(?!\w)")
# National Insurance numbers: "QQ 12 34 56 C", "ab123456c" (any two letters: a mistyped
# prefix identifies a person just as well).
_NI = re.compile(
    r"(?<!\w)[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D](?!\w)",
    re.IGNORECASE,
)
# UK postcodes, e.g. "SW1A 1AA", "m1 1ae", "B33 8TH", "SW1A  1AA".
_POSTCODE = re.compile(
    r"(?<!\w)(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?[ \t]{0,3}\d[ABD-HJLNP-UW-Z]{2})(?!\w)",
    re.IGNORECASE,
)
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# Dates that could be dates of birth: 12/03/2019, 12-3-19, 2019-03-12, 2019/03/12,
# 12 March 2019, 12th of March 2019, 12-Mar-2019, 12.Mar.19.
_DATE = re.compile(
    r"(?<!\w)(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}[/.-]\d{1,2}[/.-]\d{1,2}|"
    rf"\d{{1,2}}[/.-]{_MONTHS}[/.-](?:\d{{4}}|\d{{2}})|"
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\.?,?\s+(?:\d{{4}}|\d{{2}})|"
    rf"{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:\d{{4}}|\d{{2}}))(?!\w)",
    re.IGNORECASE,
)

# After the contact detector's candidates (below), in this order: e-mails before phones
# (digits inside addresses); international phone numbers (+44/0044) before cards, whose
# digit runs they resemble; other phones after cards; NHS numbers after phones (a UK
# number starting 0 is a phone).
PATTERNS: List[Tuple[Pattern[str], str]] = [
    (EMAIL, "[email]"),
    (INTERNATIONAL_PHONE, "[phone]"),
    (_CARD, "[card]"),
    (UK_PHONE, "[phone]"),
    (_NHS, "[nhs]"),
    (_DATE, "[date]"),
    (_POSTCODE, "[postcode]"),
    (_NI, "[ni]"),
]
PLACEHOLDERS = ("email", "phone", "postcode", "date", "card", "nhs", "ni")


def _placeholder(kind: str, value: str) -> str:
    """What stands for a detector candidate: a phone-shaped card or NHS number says so."""
    if kind == "phone" and not value.lstrip().startswith(("+", "0", "(")):
        if _CARD.fullmatch(value):
            return "[card]"
        if _NHS.fullmatch(value):
            return "[nhs]"
    return f"[{kind}]"


def redact_contacts(text: str) -> str:
    """Replace what the contact detector could take for an address or a number."""
    pieces, last = [], 0
    for kind, start, end in contact_spans(text):
        if start < last:
            continue
        pieces += [text[last:start], _placeholder(kind, text[start:end])]
        last = end
    return "".join(pieces) + text[last:]


def redact(text: str) -> str:
    """Replace e-mail addresses, phone numbers, postcodes, dates, card, NHS and NI numbers."""
    text = redact_contacts(text)
    for pattern, placeholder in PATTERNS:
        text = pattern.sub(placeholder, text)
    return text


def redact_event(data: dict) -> dict:
    """Redact a serialised Rasa event (as stored): user text, parse data, slot values."""
    kind = data.get("event")
    if kind == "user":
        if isinstance(data.get("text"), str):
            data["text"] = redact(data["text"])
        parse = data.get("parse_data") or {}
        if isinstance(parse.get("text"), str):
            parse["text"] = redact(parse["text"])
        for entity in parse.get("entities") or []:
            if isinstance(entity.get("value"), str):
                entity["value"] = redact(entity["value"])
        if data.get("metadata"):
            data["metadata"] = _redact_any(data["metadata"])
    elif kind == "slot":
        data["value"] = _redact_any(data.get("value"))
    return data


def _redact_any(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redact_any(item) for item in value]
    if isinstance(value, dict):
        return {key: _redact_any(item) for key, item in value.items()}
    return value
