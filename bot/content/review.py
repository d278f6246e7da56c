"""`python -m bot content report`: the review sheet an adviser reads and signs off from,
one section (or CSV row) per variation, the text as the parent sees it."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Dict, List, Mapping, Sequence

from bot.content.register import SOURCE_DERIVED, Register, day_of, match, response_hashes
from bot.content.responses import fill


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
)


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


def report_markdown(rows: Sequence[Mapping[str, str]], generated: str) -> str:
    """The review sheet as Markdown: one section per variation, text as the parent sees it."""
    counts: Dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    lines = [
        "# Content review sheet",
        "",
        f"Generated {generated} from domain.yml and bot/content/register.yml. "
        "Each section is one thing the assistant can say: the text as a parent sees it "
        "(numbers and hours filled from bot/settings.yml; words in {braces} are filled during "
        "the conversation), the template as stored, and the CONTENT.md points it rests on.",
        "",
        "To sign off a text: `python -m bot content approve NAME --by adviser`.",
        "",
        "Status counts: " + ", ".join(f"{status} {n}" for status, n in sorted(counts.items())),
        "",
    ]
    for row in rows:
        lines += [f"## {row['name']} (variation {row['variation']})", "", _quote(row["text"]), ""]
        if row["buttons"]:
            lines += ["- Buttons:"] + [f"  - {line}" for line in row["buttons"].splitlines()]
        if row["condition"]:
            lines += [f"- Said when: {row['condition']}"]
        if row["template"] != row["text"]:
            lines += [f"- Template: {row['template']}"]
        summaries = row["point_summaries"].splitlines()
        lines += ["- Points:" + ("" if summaries else " none recorded")]
        lines += [f"  - {line}" for line in summaries]
        lines += [
            f"- Status: {row['status']}"
            + (f" (by {row['approved_by']} at {row['approved_at']})" if row["approved_by"] else ""),
            "",
        ]
    return "\n".join(lines)
