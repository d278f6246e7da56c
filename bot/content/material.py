"""The approved material (CONTENT.md) read as data: its sections, points, sources and the
parts marked [check], so the review sheet can show an adviser where each point comes from
and the tests can hold every response away from what is not confirmed.

CONTENT.md is kept beside the project, not in it (APPROVED_MATERIAL below). Its
shape, which this parser relies on:

  ## G. Child protection enquiries, conferences and plans     a lettered section
  - G1 When children's services have ...                        a point, continued on
    [public: Family Rights Group, "..."; Cumbria ...]           indented lines
    **[check: what is not confirmed]**                          a [check] marker

The register also names whole sections (A, D, E, F: the section's own text) and HANDOFF
(the "Handing off" sections). A point without a `[public ...]` tag rests on the adviser's
published reply the material names as its source.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from bot.paths import PROJECT_ROOT

# Kept beside the checkout, not in it. Written here rather than in bot/paths.py because the
# NLU code imports bot/paths.py, so a change there would retrain the model.
APPROVED_MATERIAL = Path(
    os.environ.get("APPROVED_MATERIAL") or PROJECT_ROOT.parent / "shared" / "CONTENT.md"
)
ADVISER_REPLY = "the charity adviser's published reply (CONTENT.md: source of the approved advice)"
CHARITY_RULES = "the charity's own rules for the assistant (CONTENT.md)"
NAMED_IN_SECTION = "the public pages of the organisations the section names"
NO_SOURCE = "none given in CONTENT.md"
HANDOFF = "HANDOFF"


def default_source(letter: str) -> str:
    """Where a point with no `[public ...]` tag comes from, by its section."""
    if letter in ("A", "B", "C", "D"):
        return ADVISER_REPLY
    if letter in ("F", HANDOFF):
        return CHARITY_RULES
    return NO_SOURCE


_SECTION = re.compile(r"^##\s+([A-Z])\.\s+(.*?)\s*$")
_OTHER_HEADING = re.compile(r"^##\s+(.*?)\s*$")
_POINT = re.compile(r"^-\s+([A-Z][0-9]+)\s+(.*)$")
# [public], [public: who, "title"] or [public, who]; sources hold no square brackets.
_SOURCE = re.compile(r"\[public(?:\s*[:,]\s*([^\]]*))?\]")
_CHECK = re.compile(r"\*\*\[check:\s*([^\]]*?)\s*\]\*\*")
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z\"(])")


class MaterialError(ValueError):
    """CONTENT.md cannot be read or does not have the shape the parser relies on."""


@dataclass(frozen=True)
class Check:
    """One [check] marker: its note, and the sentence written just before it."""

    note: str
    sentence_before: str


@dataclass
class Point:
    """A point (G1) or a whole section used as a point (A, D, E, F, HANDOFF)."""

    id: str
    section: str
    text: str  # as written, sources and markers included
    sources: List[str] = field(default_factory=list)
    checks: List[Check] = field(default_factory=list)

    @property
    def plain(self) -> str:
        """The point's words without its source tags and [check] markers."""
        return _squash(_CHECK.sub(" ", _SOURCE.sub(" ", self.text)))


@dataclass
class Section:
    letter: str  # "G", or HANDOFF for the "Handing off" sections
    title: str
    points: Dict[str, Point] = field(default_factory=dict)


@dataclass
class Material:
    sections: Dict[str, Section] = field(default_factory=dict)

    def point(self, point_id: str) -> Optional[Point]:
        """A point by id; a section letter (or HANDOFF) is the section as a whole."""
        for section in self.sections.values():
            if point_id in section.points:
                return section.points[point_id]
        return None

    def section_of(self, point_id: str) -> Optional[str]:
        found = self.point(point_id)
        return found.section if found else None

    @property
    def checks(self) -> List[Tuple[Point, Check]]:
        """Every [check] marker with the point it is in, in the order of the file."""
        return [
            (point, check)
            for section in self.sections.values()
            for point in section.points.values()
            for check in point.checks
        ]


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _sources(text: str) -> List[str]:
    return [_squash(found.group(1) or NAMED_IN_SECTION) for found in _SOURCE.finditer(text)]


def _checks(text: str) -> List[Check]:
    """Each marker with the last sentence before it (source tags left out)."""
    found = []
    for marker in _CHECK.finditer(text):
        before = _squash(_CHECK.sub(" ", _SOURCE.sub(" ", text[: marker.start()])))
        sentences = _SENTENCE_END.split(before)
        found.append(Check(note=_squash(marker.group(1)), sentence_before=sentences[-1]))
    return found


def _make_point(point_id: str, section: str, lines: List[str], default_sources: List[str]) -> Point:
    text = _squash(" ".join(lines))
    return Point(
        id=point_id,
        section=section,
        text=text,
        sources=_sources(text) or list(default_sources),
        checks=_checks(text),
    )


def parse_material(text: str) -> Material:
    """CONTENT.md's sections and points; a file with no lettered section is refused."""
    material = Material()
    section: Optional[Section] = None
    section_sources: List[str] = []
    body: List[str] = []  # the section's own lines (outside its points)
    current: Optional[Tuple[str, List[str]]] = None

    def close_point() -> None:
        nonlocal current
        if current is not None and section is not None:
            point_id, lines = current
            if point_id in {p for s in material.sections.values() for p in s.points}:
                raise MaterialError(f"CONTENT.md: point {point_id} is written twice")
            section.points[point_id] = _make_point(
                point_id, section.letter, lines, section_sources or [default_source(section.letter)]
            )
        current = None

    def close_section() -> None:
        close_point()
        if section is None:
            return
        # The section as a whole (A, D, E, F, HANDOFF): its intro and any unnumbered items.
        whole = section.letter
        if not body:
            return
        if whole not in section.points:
            point = _make_point(whole, whole, body, section_sources or [default_source(whole)])
            section.points = {whole: point, **section.points}
        else:
            extra = _make_point(whole, whole, body, [])
            kept = section.points[whole]
            kept.text = _squash(kept.text + " " + extra.text)
            kept.sources += [s for s in extra.sources if s not in kept.sources]
            kept.checks += extra.checks

    for raw in text.splitlines():
        heading = _SECTION.match(raw)
        other = None if heading else _OTHER_HEADING.match(raw)
        if heading or other:
            close_section()
            body = []
            if heading:
                letter, title = heading.group(1), heading.group(2)
            elif other and other.group(1).lower().startswith("handing off"):
                letter, title = HANDOFF, "Handing off to a person"
            else:
                section = None
                continue
            section_sources = _sources(title)
            title = _squash(_SOURCE.sub("", title))
            section = material.sections.get(letter) or Section(letter=letter, title=title)
            material.sections[letter] = section
            continue
        if section is None:
            continue
        started = _POINT.match(raw)
        if started:
            close_point()
            current = (started.group(1), [started.group(2)])
        elif current is not None and raw.startswith((" ", "\t")) and raw.strip():
            current[1].append(raw.strip())
        else:
            close_point()
            if raw.strip() and not raw.startswith("---"):
                body.append(raw.strip())
    close_section()
    if not any(len(letter) == 1 for letter in material.sections):
        raise MaterialError("CONTENT.md: no lettered section (## A. ...) found")
    return material


def load_material(path: Path) -> Material:
    """Read and parse CONTENT.md; a missing file says where it was looked for."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MaterialError(
            f"the approved material was not found at {path}: give its path with --content"
        ) from None
    return parse_material(text)
