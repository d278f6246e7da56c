"""`python -m bot content report`: the review sheet an adviser reads and signs off from.

Markdown groups the texts by section of the approved material (CONTENT.md A-L, then the
hand-off texts): each text as the parent sees it, with the points it rests on, each
point's source and any part of it marked [check] (never said), so an adviser can check the
text against its source. CSV has one row per variation, with the same sections and sources.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Dict, List, Mapping, Sequence, Set

from bot.content.material import Material
from bot.content.register import SOURCE_DERIVED, Register, day_of, match, response_hashes
from bot.content.responses import fill

UNTRACED = "UNTRACED"


def _condition_words(condition: Any) -> str:
    """[{type: slot, name: adviceline_open, value: true}] -> 'adviceline_open is true'."""
    if not condition:
        return ""
    parts = []
    for item in condition if isinstance(condition, list) else [condition]:
        if isinstance(item, dict) and item.get("type") == "slot":
            value = item.get("value")
            shown = str(value).lower() if isinstance(value, bool) else str(value)
            parts.append(f"{item.get('name')} is {shown}")
        else:
            parts.append(json.dumps(item, sort_keys=True))
    return " and ".join(parts)


def review_rows(
    register: Register,
    responses: Mapping[str, Sequence[Mapping[str, Any]]],
    values: Mapping[str, str],
) -> List[Dict[str, str]]:
    """One row per variation, in domain.yml order, for an adviser to read and sign off."""
    rows = []
    for name, variation_hashes in response_hashes(responses).items():
        paired = match(variation_hashes, register.responses.get(name) or [])
        for index, variation in enumerate(responses[name] or []):
            same = paired.same.get(index)
            entry = same or paired.changed.get(index)
            if same is not None:
                status = same.status
                previous = same.previous_approval or {}
                if status == SOURCE_DERIVED and previous.get("approved_by"):
                    status += (
                        f" (changed after approval by {previous['approved_by']} on "
                        f"{day_of(previous.get('approved_at'))})"
                    )
            elif entry is not None:
                status = "changed: needs approval"
            else:
                status = "not registered"
            points = entry.points if entry else []
            buttons = "\n".join(
                f"{fill(str(b.get('title', '')), values)} -> {b.get('payload', '')}"
                for b in variation.get("buttons") or []
            )
            rows.append(
                {
                    "name": name,
                    "variation": str(index),
                    "text": fill(str(variation.get("text", "")), values),
                    "template": str(variation.get("text", "")),
                    "buttons": buttons,
                    "condition": _condition_words(variation.get("condition")),
                    "points": ", ".join(points),
                    "point_summaries": "\n".join(
                        f"{p}: {register.points.get(p, '(unknown id)')}" for p in points
                    ),
                    "status": status,
                    "approved_by": (entry.approved_by or "")
                    if entry and index in paired.same
                    else "",
                    "approved_at": (entry.approved_at or "")
                    if entry and index in paired.same
                    else "",
                    "sha256": variation_hashes[index],
                }
            )
    return rows


REPORT_COLUMNS = (
    "name",
    "variation",
    "text",
    "template",
    "buttons",
    "condition",
    "points",
    "point_summaries",
    "status",
    "approved_by",
    "approved_at",
    "sha256",
    "sections",
    "sources",
)


def point_sections(points: Sequence[str], material: Material) -> List[str]:
    """The sections a text's points belong to, in the order of its points (UNTRACED when
    it has none, or a point CONTENT.md does not hold)."""
    found: List[str] = []
    for point in points:
        section = material.section_of(point) or UNTRACED
        if section not in found:
            found.append(section)
    return found or [UNTRACED]


def add_sources(rows: Sequence[Dict[str, str]], material: Material) -> None:
    """Give each row its sections and its points' sources (for the CSV sheet)."""
    for row in rows:
        points = [p for p in row["points"].split(", ") if p]
        row["sections"] = ", ".join(point_sections(points, material))
        lines = []
        for point_id in points:
            point = material.point(point_id)
            shown = "; ".join(point.sources) if point else "not found in CONTENT.md"
            lines.append(f"{point_id}: {shown}")
        row["sources"] = "\n".join(lines)


def report_csv(rows: Sequence[Mapping[str, str]]) -> str:
    """The review sheet as CSV (opens in a spreadsheet)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=REPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: row.get(key, "") for key in REPORT_COLUMNS})
    return buffer.getvalue()


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.splitlines() or [""])


def _text_lines(row: Mapping[str, str], register: Register, material: Material) -> List[str]:
    """One text: as the parent sees it, its buttons, its points with their sources."""
    lines = [f"### {row['name']} (variation {row['variation']})", "", _quote(row["text"]), ""]
    if row["buttons"]:
        lines += ["- Buttons:"] + [f"  - {line}" for line in row["buttons"].splitlines()]
    if row["condition"]:
        lines += [f"- Said when: {row['condition']}"]
    if row["template"] != row["text"]:
        lines += [f"- Template: {row['template']}"]
    points = [p for p in row["points"].split(", ") if p]
    lines += ["- Points:" + ("" if points else " none recorded")]
    for point_id in points:
        lines.append(f"  - {point_id}: {register.points.get(point_id, '(unknown id)')}")
        point = material.point(point_id)
        if point is None:
            lines.append("    - Source: not found in CONTENT.md")
            continue
        lines += [f"    - Source: {source}" for source in point.sources]
        lines += [f"    - Not confirmed, never said ([check]): {c.note}" for c in point.checks]
    lines += [
        f"- Status: {row['status']}"
        + (f" (by {row['approved_by']} at {row['approved_at']})" if row["approved_by"] else ""),
        "",
    ]
    return lines


def report_markdown(
    rows: Sequence[Mapping[str, str]], register: Register, material: Material, generated: str
) -> str:
    """The review sheet as Markdown, grouped by section of CONTENT.md: each text once,
    under the section of its first point, and named under its other points' sections."""
    counts: Dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    by_section: Dict[str, List[Mapping[str, str]]] = {}
    also: Dict[str, List[str]] = {}
    traced: Dict[str, Set[str]] = {}
    for row in rows:
        points = [p for p in row["points"].split(", ") if p]
        sections = point_sections(points, material)
        by_section.setdefault(sections[0], []).append(row)
        label = f"{row['name']} (variation {row['variation']})"
        for other in sections[1:]:
            also.setdefault(other, []).append(f"{label}, listed under {sections[0]}")
        for point in points:
            traced.setdefault(material.section_of(point) or UNTRACED, set()).add(point)
    lines = [
        "# Content review sheet, by section of the approved material",
        "",
        f"Generated {generated} from domain.yml, bot/content/register.yml and CONTENT.md. "
        "Each section of CONTENT.md lists the texts that rest on it: the text as a parent "
        "sees it (numbers and hours filled from bot/settings.yml; words in {braces} are "
        "filled during the conversation), the points it rests on with each point's source, "
        "and any part of a point marked [check], which a text must never say. A text that "
        "rests on several sections is shown under the first and named under the others.",
        "",
        "To sign off a text: `python -m bot content approve NAME --by adviser`.",
        "",
        "Status counts: " + ", ".join(f"{status} {n}" for status, n in sorted(counts.items())),
        "",
    ]
    for letter, section in material.sections.items():
        heading = section.title if len(letter) > 1 else f"{letter}. {section.title}"
        lines += [f"## {heading}", ""]
        unused = [p for p in section.points.values() if p.id not in traced.get(letter, set())]
        if unused:
            shown = [p.id + (" ([check])" if p.checks else "") for p in unused]
            lines += ["Points no text rests on: " + ", ".join(shown), ""]
        for row in by_section.get(letter, []):
            lines += _text_lines(row, register, material)
        if also.get(letter):
            lines += ["Also resting on this section:"] + [f"- {a}" for a in also[letter]] + [""]
        if not by_section.get(letter) and not also.get(letter):
            lines += ["No text rests on this section.", ""]
    if by_section.get(UNTRACED):
        lines += ["## Not traced to CONTENT.md", ""]
        for row in by_section[UNTRACED]:
            lines += _text_lines(row, register, material)
    return "\n".join(lines)
