"""Remove contact and identity details from text before it is stored anywhere.

Pure functions only: the tracker store, the handoff store and the logs call `redact`.
Placeholders say what was there without keeping it: "[email]", "[phone]", "[postcode]",
"[date]", "[card]".
"""
from __future__ import annotations

import re
from typing import Any, List, Pattern, Tuple

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Card-like: 13-19 digits, optionally grouped by spaces or dashes.
_CARD = re.compile(r"(?<!\w)(?:\d[ -]?){12,18}\d(?!\w)")
# UK phone numbers: +44 or 0, then 9-10 more digits, spaces/dashes/brackets allowed.
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\s?44\s?(?:\(0\)\s?)?|\(?0)\d(?:[\s-]?\)?\s?\d){8,9}(?!\w)"
)
# UK postcodes, e.g. "SW1A 1AA", "m1 1ae", "B33 8TH".
_POSTCODE = re.compile(
    r"(?<!\w)(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})(?!\w)",
    re.IGNORECASE,
)
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# Dates that could be dates of birth: 12/03/2019, 12-3-19, 2019-03-12, 12 March 2019, 12th of March 2019.
_DATE = re.compile(
    r"(?<!\w)(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}-\d{1,2}-\d{1,2}|"
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\.?,?\s+(?:\d{{4}}|\d{{2}})|"
    rf"{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:\d{{4}}|\d{{2}}))(?!\w)",
    re.IGNORECASE,
)

# Order matters: e-mails before phones (digits inside addresses); international phone
# numbers (+44/0044) before cards, whose digit runs they resemble; other phones after cards.
_INTERNATIONAL = re.compile(
    r"(?<![\w+])(?:\+|00)\s?44\s?(?:\(0\)\s?)?\d(?:[\s-]?\d){8,9}(?!\w)"
)
PATTERNS: List[Tuple[Pattern[str], str]] = [
    (_EMAIL, "[email]"),
    (_INTERNATIONAL, "[phone]"),
    (_CARD, "[card]"),
    (_PHONE, "[phone]"),
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


# --- What NLU reads: the message without its contact details ----------------------------
# A contact detail tells NLU nothing about the question, and its words ("my email is ...",
# "call me on ...") pull the classifier towards the contact intents: with one detail added
# to each held-out example, accuracy fell from 88% to 45% as typed and 51% redacted
# (`python -m tools.redaction_eval`). So NLU reads the message with each detail removed
# together with the words that introduce it, as parents write them.
_PLACEHOLDER = r"\[(?:email|phone|postcode|date|card)\]"
_OWNER = r"(?:my|our|his|her|their|the|a)\s+(?:[\w-]+'s\s+|[\w-]+s'\s+)?"
_KIND = (r"(?:e-?mail(?:\s+address)?|(?:mobile|phone|contact|home|landline|work|tel(?:ephone)?)"
         r"(?:\s+(?:number|no\.?|details))?|number|post\s?code|address|dob|d\.o\.b\.?|"
         r"date\s+of\s+birth|birthday|birth\s+date|card(?:\s+number)?)")
_LEAD_INS = [
    rf"{_OWNER}?{_KIND}\s*(?:is|are|was|:|-|=)?\s*",                         # my number is
    r"(?:e-?mail|call|ring|text|phone|contact|reach|message|whatsapp|get\s+hold\s+of)"
    r"\s+(?:me|us|him|her)(?:\s+(?:at|on|via))?\s*",                          # call me on
    r"(?:you\s+can|please|pls|plz|feel\s+free\s+to)\s+",                      # you can ...
    r"(?:i|we|he|she|they)\s+(?:live|lives|are|am|is|'re|'m|'s)\s+in\s+",      # we live in
    r"(?:we're|i'm|im|he's|she's|they're)\s+in\s+",
    r"(?:(?:my|our|his|her)\s+)?[\w-]+\s+(?:was|were|is)\s+born(?:\s+on)?\s+",  # he was born
    r"born\s+(?:on\s+)?",
    r"(?:on|at|via|in)\s+",
]
_HAS_PLACEHOLDER = re.compile(_PLACEHOLDER, re.IGNORECASE)
# Tried only at word starts (the look-behind), with at most four lead-ins in a row ("and
# you can call me on"): a 1,000-character message costs milliseconds, never more.
_STRIP = re.compile(
    rf"(?<![\w-])(?:(?:and|but|so|or)\s+)?(?:{'|'.join(_LEAD_INS)}){{0,4}}{_PLACEHOLDER}"
    r"(?:\s+(?:and|but|so)\b)?",
    re.IGNORECASE,
)


def strip_details(text: str) -> str:
    """The message as NLU should read it: contact details and their lead-in words removed.

    When nothing but the details is left ("my email is jo@example.com"), the redacted
    message is returned instead, so a message is never emptied.
    """
    redacted = redact(text)
    if not _HAS_PLACEHOLDER.search(redacted):
        return text
    stripped = _STRIP.sub(" ", redacted)
    stripped = re.sub(r"\(\s*\)|\[\s*\]", " ", stripped)
    stripped = re.sub(r"\s+([.,;:!?])", r"\1", stripped)
    stripped = re.sub(r"([.,;:!?])(?:\s*[.,;:])+", r"\1", stripped)
    stripped = re.sub(r"^[\s.,;:!?-]+|[\s,;:-]+$", "", stripped)
    stripped = re.sub(r"\s{2,}", " ", stripped).strip()
    return stripped if re.search(r"\w", stripped) else redacted
