"""E-mail addresses and phone numbers in what parents write: the one set of patterns.

Two jobs read these patterns, and they need different strictness:

* redaction (bot/redact.py) must remove every address and number before anything is
  stored or logged: every candidate below that could be one (`contact_spans`), plus the
  broad shapes `EMAIL`, `INTERNATIONAL_PHONE` and `UK_PHONE` (a near miss is removed too);
* detection (`find_contacts`, `contact_message`: the NLU contact detector and the action
  that saves a way to reply) must keep only details an adviser can use, so it finds every
  candidate (`EMAIL_CANDIDATE`, `PHONE_CANDIDATE`) and then validates it (`VALID_EMAIL`,
  `UK_NATIONAL`), which also tells a parent when what they typed does not look valid.

Both take their candidates from `_spans`, so whatever the detector accepts, redaction
removes (tests/unit/test_contact.py checks it as a property). Plain functions, no Rasa
import: the action server uses them as well as NLU.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

# --- Redaction: broad shapes, anything that looks like one goes -----------------------------
EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# UK phone numbers: +44 or 0, then 9-10 more digits; spaces, dots, dashes, brackets allowed.
UK_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\s?44[\s.-]?(?:\(0\)[\s.-]?)?|\(?0)\d(?:[\s.-]?\)?\s?\d){8,9}(?!\w)"
)
# +44/0044 numbers: redaction replaces them before card numbers, whose digit runs they resemble.
INTERNATIONAL_PHONE = re.compile(
    r"(?<![\w+])(?:\+|00)\s?44[\s.-]?(?:\(0\)[\s.-]?)?\d(?:[\s.-]?\d){8,9}(?!\w)"
)
# A phone-shaped candidate with this many digits is removed whether or not it is valid
# (447700900123, a foreign number): fewer is an ordinary number ("case 123456").
MIN_PHONE_DIGITS = 9

# --- Detection: every candidate, then only valid ones ---------------------------------------
# Anything with an "@" in it is an attempt at an address (valid or not).
EMAIL_CANDIDATE = re.compile(r"[^\s<>()\[\],;:\"]*@[^\s<>()\[\],;:\"]*")
VALID_EMAIL = re.compile(
    r"^(?=.{3,254}$)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
# Something shaped like a phone number: digits with spaces, dashes, dots or brackets.
PHONE_CANDIDATE = re.compile(r"(?<![\w+])\+?\(?\d[\d\s().-]{5,}\d(?!\w)")
# UK numbers a person can be called back on: landlines (01, 02, 03) and mobiles (07).
UK_NATIONAL = re.compile(r"^0(?:1\d{8,9}|2\d{9}|3\d{9}|7\d{9})$")
# Words that may surround contact details ("my email is", "you can call me on", ...).
FILLER_WORDS = frozenset(
    """
a address all and any at best by call can cell contact details e e-mail email email's
here here's hi hello home is it it's its landline mail me mob mobile my number number's
ok okay on or phone please reach reply ring sure tel telephone text thank thanks the
this to try use via work yes you your
""".split()
)
MAX_FILLER_WORDS = 8


@dataclass(frozen=True)
class Contact:
    """One e-mail address or UK phone number found in a message (value as typed)."""

    kind: str  # "email" | "phone"
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class ContactMessage:
    """A message that is mainly contact details: the valid ones found, and whether the
    parent seemed to try to give some that are not valid (e.g. a foreign number)."""

    contacts: Tuple[Contact, ...]
    attempted: bool


def uk_phone_national(text: str) -> Optional[str]:
    """'+44 (0)7700 900123' -> '07700900123'; None when it is not a UK number to call back."""
    compact = re.sub(r"[\s().-]", "", text.replace("(0)", ""))
    if compact.startswith("+44"):
        compact = "0" + compact[3:].lstrip("0")
    elif compact.startswith("0044"):
        compact = "0" + compact[4:].lstrip("0")
    return compact if UK_NATIONAL.match(compact) else None


def valid_email(text: str) -> bool:
    """A practical check of an address's shape (no look-up: nothing leaves the machine)."""
    return bool(VALID_EMAIL.match(text)) and ".." not in text


def contact_spans(text: str) -> List[Tuple[str, int, int]]:
    """What redaction removes of the candidates: (kind, start, end), in order.

    Every address or number the detector accepts, every attempt at an address (text on
    both sides of an "@"), and every phone-shaped run of MIN_PHONE_DIGITS digits or more.
    """
    found, candidates = _spans(text)
    spans = {(c.kind, c.start, c.end) for c in found}
    for start, end in candidates:
        value = text[start:end]
        if "@" in value:
            local, _, domain = value.partition("@")
            if local and domain:
                spans.add(("email", start, end))
        elif len(re.sub(r"\D", "", value)) >= MIN_PHONE_DIGITS:
            spans.add(("phone", start, end))
    return sorted(spans, key=lambda span: span[1])


def _spans(text: str) -> Tuple[List[Contact], List[Tuple[int, int]]]:
    """Valid contacts, and the spans of every contact-like candidate (valid or not)."""
    found: List[Contact] = []
    candidates: List[Tuple[int, int]] = []
    for match in EMAIL_CANDIDATE.finditer(text):
        value = match.group(0).rstrip(".!?'")
        start, end = match.start(), match.start() + len(value)
        candidates.append((start, end))
        if valid_email(value):
            found.append(Contact("email", value, start, end))
    masked = _mask(text, candidates)
    for match in PHONE_CANDIDATE.finditer(masked):
        value = match.group(0).strip()
        start = match.start() + (len(match.group(0)) - len(match.group(0).lstrip()))
        end = start + len(value)
        candidates.append((start, end))
        if uk_phone_national(value):
            found.append(Contact("phone", value, start, end))
    found.sort(key=lambda contact: contact.start)
    return found, candidates


def _mask(text: str, spans: List[Tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def find_contacts(text: str) -> List[Contact]:
    """Every valid e-mail address and UK phone number in the text, in order."""
    return _spans(text or "")[0]


def contact_message(text: str) -> Optional[ContactMessage]:
    """The contact details when the message is mainly contact details, else None.

    "Mainly" means: at least one address or number (valid or not), and nothing else but a
    few words such as "my email is" or "call me on" (FILLER_WORDS), no other digits.
    """
    if not text or text.lstrip().startswith("/"):
        return None
    found, candidates = _spans(text)
    if not candidates:
        return None
    rest = _mask(text, candidates).lower()
    if re.search(r"\d", rest):
        return None
    words = re.findall(r"[a-z][a-z'-]*", rest.replace("\u2019", "'"))
    if len(words) > MAX_FILLER_WORDS or any(word not in FILLER_WORDS for word in words):
        return None
    valid_spans = {(c.start, c.end) for c in found}
    attempted = any(span not in valid_spans for span in candidates)
    return ContactMessage(tuple(found), attempted)
