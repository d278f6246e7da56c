"""Remove contact and identity details from text before it is stored anywhere.

Pure functions only: the tracker store, the handoff store and the logs call `redact`.
E-mail addresses and phone numbers are found with the patterns of bot/contact.py.
Placeholders say what was there without keeping it: "[email]", "[phone]", "[postcode]",
"[date]", "[card]".
"""

from __future__ import annotations

import re
from typing import Any, List, Pattern, Tuple

from bot.contact import EMAIL, INTERNATIONAL_PHONE, UK_PHONE

# Card-like: 13-19 digits, optionally grouped by spaces or dashes.
_CARD = re.compile(r"(?<!\w)(?:\d[ -]?){12,18}\d(?!\w)")
# UK postcodes, e.g. "SW1A 1AA", "m1 1ae", "B33 8TH".
_POSTCODE = re.compile(
    r"(?<!\w)(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})(?!\w)",
    re.IGNORECASE,
)
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# Dates that could be dates of birth: 12/03/2019, 12-3-19, 2019-03-12, 12 March 2019,
# 12th of March 2019.
_DATE = re.compile(
    r"(?<!\w)(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}-\d{1,2}-\d{1,2}|"
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\.?,?\s+(?:\d{{4}}|\d{{2}})|"
    rf"{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:\d{{4}}|\d{{2}}))(?!\w)",
    re.IGNORECASE,
)

# Order matters: e-mails before phones (digits inside addresses); international phone
# numbers (+44/0044) before cards, whose digit runs they resemble; other phones after cards.
PATTERNS: List[Tuple[Pattern[str], str]] = [
    (EMAIL, "[email]"),
    (INTERNATIONAL_PHONE, "[phone]"),
    (_CARD, "[card]"),
    (UK_PHONE, "[phone]"),
    (_DATE, "[date]"),
    (_POSTCODE, "[postcode]"),
]


def redact(text: str) -> str:
    """Replace e-mail addresses, UK phone numbers, postcodes, dates and card numbers."""
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
