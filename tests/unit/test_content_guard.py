"""What the responses must never say: the parts of CONTENT.md marked [check], and indecent
images in a general answer.

[check] guard: every [check] marker in CONTENT.md is classified below by what it leaves
unconfirmed (the whole point, the sentence written just before it, or only what its note
names), with a pattern for the fact it would state. A new marker fails the test until it
is classified. No register point traced by a response is a wholly-[check] point, and no
response (as the parent sees it, placeholders filled from bot/settings.yml, buttons
included) matches a [check] part's pattern or repeats six words in a row that only a
[check] part of CONTENT.md holds.

IIOC wording: the general answers (child protection process, police, records, complaints,
supervision, services and FGCs) do not mention indecent images, so that a parent who asks
what a conference is about a different concern is not told about images; the few answers
that are about IIOC by nature are listed with the reason.
"""

from __future__ import annotations

import re
from typing import Dict, List, Mapping, NamedTuple, Set

import pytest

from bot import settings
from bot.content import material, register_file
from bot.content.responses import fill, load_domain_responses

POINT, SENTENCE, NOTE = "the whole point", "the sentence before the marker", "what the note names"


class Scope(NamedTuple):
    what: str  # POINT, SENTENCE or NOTE
    reason: str
    states: str  # a regex for the unconfirmed fact, matched case-insensitively


CHECKS: Dict[str, Scope] = {
    "G3": Scope(POINT, "rests on superseded guidance (WT2018)", r"permission.{0,60}\b(talk|speak)"),
    "G10": Scope(POINT, "local procedures differ", r"\bexclu|only the chair can decide"),
    "G12": Scope(
        SENTENCE, "the last sentence was not re-read", r"not a court order|decision about contact"
    ),
    "G13": Scope(
        SENTENCE,
        "meeting frequency is set locally",
        r"10 working days|4 to 6 weeks|every \d+ (to \d+ )?weeks|\bmonthly\b",
    ),
    "G16": Scope(
        NOTE, "timescales vary locally", r"weeks? (of|into) (the )?pregnancy|weeks pregnant"
    ),
    "H4": Scope(
        POINT,
        "no current source on length or RUI",
        r"released under investigation|\bRUI\b|few months to 2 years",
    ),
    "H7": Scope(NOTE, "unclear after a caution", r"(register|notification).{0,400}\bcaution"),
    "I2": Scope(
        POINT,
        "rests on superseded guidance (WT2018)",
        r"family's strengths|clear and open|how (they|you) can challenge",
    ),
    "I8": Scope(
        SENTENCE,
        "one council's timescales, not national ones",
        r"10 working days|25 to 65|65 working days",
    ),
    "I12": Scope(
        SENTENCE,
        "legal help at conference stage is unconfirmed",
        r"legal (aid|help).{0,80}conference|conference.{0,80}legal (aid|help)",
    ),
    "J2": Scope(
        POINT,
        "no national procedure for approving a supervisor",
        r"(approv|acceptable).{0,80}supervisor|supervisor.{0,80}(approv|acceptable)",
    ),
    "K6": Scope(
        POINT,
        "arrangements vary by FGC service",
        r"join (the meeting )?online|by (phone|video)|represent (their|your) views",
    ),
    "K10": Scope(
        POINT,
        "not yet known to be in force",
        r"31ZA|Wellbeing and Schools|before applying for a care",
    ),
    "L1": Scope(
        SENTENCE,
        "format, fee and booking unconfirmed",
        r"small groups|one-to-one|3 to 6 people|\bfees?\b|\bcosts?\b|\bbook(ing)?\b",
    ),
    "L2": Scope(
        NOTE,
        "availability, cost and referral unconfirmed",
        r"Inform Plus.{0,700}\b(costs?|fees?|free|referr\w*|availab\w*)\b",
    ),
    "L6": Scope(SENTENCE, "details and current status unconfirmed", r"legal aid|local offer"),
}

GENERAL_TOPICS = ("process", "police", "records", "complaints", "supervision", "service", "fgc")
IIOC_WORDS = re.compile(
    r"\bIIOC\b|indecent|\bimages?\b|\bpictures?\b|\bphotos?\b|online (sexual )?offen"
    r"|\bviewing\b|abuse material",
    re.IGNORECASE,
)
# The answers of those topics that are about IIOC by their nature, each with its reason.
IIOC_SPECIFIC: Dict[str, str] = {
    "utter_service/support": "E: support for families of someone arrested for online offences",
    "utter_service/inform": "L1: Inform is for families of people arrested for online offences",
    "utter_service/inform_plus": "L2: Inform Plus is for adults arrested for indecent images",
    "utter_service/families_affected": "L4: families after an arrest for viewing images",
}


@pytest.fixture(scope="module")
def content() -> material.Material:
    if not material.APPROVED_MATERIAL.is_file():
        # Loud, not silent: pytest lists the reason. The material is kept beside the
        # checkout, not in it; point APPROVED_MATERIAL at a copy to run these checks.
        pytest.skip(f"the approved material (CONTENT.md) is not at {material.APPROVED_MATERIAL}")
    return material.load_material(material.APPROVED_MATERIAL)


@pytest.fixture(scope="module")
def said() -> Dict[str, str]:
    """Every variation as the parent sees it: text filled from settings, button titles,
    and the title the clarification buttons show."""
    values = settings.placeholders()
    shown = {}
    for name, variations in load_domain_responses().items():
        for index, variation in enumerate(variations or []):
            parts = [str(variation.get("text", ""))]
            parts += [str(b.get("title", "")) for b in variation.get("buttons") or []]
            parts.append(str((variation.get("metadata") or {}).get("title", "")))
            shown[f"{name} variation {index}"] = fill(" ".join(parts), values)
    return shown


def _words(text: str) -> List[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _grams(text: str, size: int = 6) -> Set[str]:
    words = _words(text)
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def unconfirmed_part(point: material.Point, check: material.Check) -> str:
    scope = CHECKS[point.id].what
    body = {POINT: point.plain, SENTENCE: check.sentence_before, NOTE: ""}[scope]
    return f"{body} {check.note}"


def distinctive(content: material.Material) -> Dict[str, Set[str]]:
    """Per [check] point: six-word runs of its unconfirmed part that nothing else in
    CONTENT.md says (so a response repeating one can only be stating the [check] part)."""
    confirmed = []
    for section in content.sections.values():
        for point in section.points.values():
            if any(CHECKS[point.id].what == POINT for _ in point.checks):
                continue
            text = point.plain
            for check in point.checks:
                if CHECKS[point.id].what == SENTENCE:
                    text = text.replace(check.sentence_before, " ")
            confirmed.append(text)
    stated = _grams(" ".join(confirmed))
    runs: Dict[str, Set[str]] = {}
    for point, check in content.checks:
        runs.setdefault(point.id, set()).update(_grams(unconfirmed_part(point, check)) - stated)
    return runs


def statements(content: material.Material, texts: Mapping[str, str]) -> List[str]:
    """Each text that states a [check] part, and which and how."""
    runs = distinctive(content)
    found = []
    for where, text in texts.items():
        joined = " ".join(_words(text))
        for point_id, scope in CHECKS.items():
            match = re.search(scope.states, text, flags=re.IGNORECASE)
            if match:
                found.append(f"{where}: says {match.group(0)!r} ([check] {point_id})")
            repeated = sorted(run for run in runs.get(point_id, ()) if run in joined)
            if repeated:
                found.append(f"{where}: repeats {repeated[0]!r} ([check] {point_id})")
    return found


# --- [check] ---------------------------------------------------------------------------------


def test_every_check_marker_is_classified(content: material.Material) -> None:
    marked = {point.id for point, _ in content.checks}
    assert marked == set(CHECKS), "classify each [check] marker of CONTENT.md in CHECKS"


def test_each_pattern_describes_its_marked_point(content: material.Material) -> None:
    """The patterns are read off CONTENT.md: each matches the point it guards."""
    for point_id, scope in CHECKS.items():
        point = content.point(point_id)
        assert point is not None
        assert re.search(scope.states, point.text, flags=re.IGNORECASE), point_id
        for check in point.checks:
            assert _words(unconfirmed_part(point, check)), point_id


def test_no_response_rests_on_a_wholly_unconfirmed_point() -> None:
    register = register_file.load_register()
    whole = {point_id for point_id, scope in CHECKS.items() if scope.what == POINT}
    assert whole & set(register.points) == set()
    traced = {p for entries in register.responses.values() for e in entries for p in e.points}
    assert whole & traced == set()


def test_no_response_states_a_check_part(content: material.Material, said: Dict[str, str]) -> None:
    assert len(said) > 100
    found = statements(content, said)
    assert found == [], "\n".join(found)


def test_the_guard_catches_a_check_part_stated_or_copied(content: material.Material) -> None:
    stated = {
        "frequency": "The core group usually meets every 4 to 6 weeks.",
        "copied": "A parent's views can still be given, in writing, through a supporter.",
        "caution": "Being on the register also applies after a caution.",
        "fine": "The core group turns the outline plan into a detailed one.",
    }
    found = statements(content, stated)
    assert any(f.startswith("frequency:") and "G13" in f for f in found)
    assert any(f.startswith("copied:") and "G10" in f for f in found)
    assert any(f.startswith("caution:") and "H7" in f for f in found)
    assert not any(f.startswith("fine:") for f in found)


# --- IIOC wording --------------------------------------------------------------------------------


def test_general_answers_do_not_mention_indecent_images(said: Dict[str, str]) -> None:
    checked = 0
    for where, text in said.items():
        name = where.split(" variation ")[0]
        topic = name[len("utter_") :].split("/")[0]
        if "/" not in name or topic not in GENERAL_TOPICS or name in IIOC_SPECIFIC:
            continue
        checked += 1
        assert not IIOC_WORDS.search(text), f"{where} mentions IIOC: {text}"
    assert checked >= 50


def test_the_iioc_specific_list_is_exact(said: Dict[str, str]) -> None:
    """Each listed answer exists and is about IIOC (a stale entry fails)."""
    for name in IIOC_SPECIFIC:
        texts = [t for w, t in said.items() if w.split(" variation ")[0] == name]
        assert texts, f"{name} is not in domain.yml"
        assert all(IIOC_WORDS.search(t) for t in texts), name


def test_the_iioc_pattern_finds_the_usual_wordings() -> None:
    for text in (
        "after an IIOC arrest",
        "indecent images of children",
        "arrested for online offences",
        "viewing sexual images",
    ):
        assert IIOC_WORDS.search(text), text
    assert not IIOC_WORDS.search("A review conference looks at the plan again.")
