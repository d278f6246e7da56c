"""Reading and writing bot/content/register.yml: a header that explains the file, then the
points glossary and every response's entries, in a stable order; written atomically."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from bot.content.register import SOURCE_DERIVED, Entry, Register, RegisterError

REGISTER = Path(__file__).resolve().parent / "register.yml"

HEADER = """\
# The content approval register: one entry per response variation in domain.yml.
#
#   points       the CONTENT.md points the text rests on (ids from the glossary below)
#   sha256       hash of what the parent sees of the variation (template text, buttons,
#                condition, custom, metadata), sorted-key JSON; placeholders unfilled
#   status       approved (an adviser signed off this exact text) or source-derived
#                (written from the published adviser reply; nobody has signed it off yet)
#   approved_by  a role, never a person's name;  approved_at  UTC date-time
#
# Commands (run from the project root):
#   python -m bot content check                    fails on an unregistered or changed text
#   python -m bot content sync                     registers new texts as source-derived
#   python -m bot content approve NAME --by ROLE   records an approval of the current text
#   python -m bot content report                   writes a review sheet for advisers
#
# sync and approve rewrite this file: edit only the `points` of entries and the glossary.
"""


def _text(value: Any) -> Optional[str]:
    """A scalar read back from YAML as text (YAML turns bare timestamps into datetimes)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return stamp.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return str(value)


def parse_register(data: Any, where: str = "register.yml") -> Register:
    """Build a Register from loaded YAML, refusing a structure it cannot trust."""
    if data is None:
        return Register()
    if not isinstance(data, dict):
        raise RegisterError(f"{where}: must hold a mapping with `points` and `responses`")
    unknown = sorted(set(data) - {"points", "responses"})
    if unknown:
        raise RegisterError(f"{where}: unexpected top-level key(s) {', '.join(unknown)}")
    glossary = data.get("points") or {}
    if not isinstance(glossary, dict):
        raise RegisterError(f"{where}: `points` must map point ids to one-line summaries")
    register = Register(points={str(k): str(v or "").strip() for k, v in glossary.items()})
    responses = data.get("responses") or {}
    if not isinstance(responses, dict):
        raise RegisterError(f"{where}: `responses` must map response names to entries")
    for name, items in responses.items():
        if not isinstance(items, list):
            raise RegisterError(f"{where}: {name}: expected a list of variations")
        entries = []
        for position, item in enumerate(items):
            label = f"{where}: {name} entry {position}"
            if not isinstance(item, dict):
                raise RegisterError(f"{label}: expected a mapping")
            missing = [key for key in ("variation", "sha256") if key not in item]
            if missing:
                raise RegisterError(f"{label}: missing {', '.join(missing)}")
            try:
                index = int(item["variation"])
            except (TypeError, ValueError):
                raise RegisterError(f"{label}: variation must be a number") from None
            points = item.get("points") or []
            if not isinstance(points, list):
                raise RegisterError(f"{label}: points must be a list like [B3]")
            previous = item.get("previous_approval")
            entries.append(
                Entry(
                    variation=index,
                    sha256=str(item["sha256"]),
                    points=[str(p) for p in points],
                    status=str(item.get("status") or SOURCE_DERIVED),
                    approved_by=_text(item.get("approved_by")),
                    approved_at=_text(item.get("approved_at")),
                    previous_approval={str(k): _text(v) for k, v in previous.items()}
                    if isinstance(previous, dict)
                    else None,
                )
            )
        register.responses[str(name)] = entries
    return register


def load_register(path: Path = REGISTER) -> Register:
    """Read the register file; a missing file is an error the caller explains."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RegisterError(
            f"{Path(path).name} not found: create it with `python -m bot content sync`"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as problem:
        raise RegisterError(f"{Path(path).name} is not valid YAML: {problem}") from None
    return parse_register(data, Path(path).name)


class _Flow(list):
    """A list written inline ([A1, B3]) so each entry stays short to read."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Flow,
    lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True),
)


def dump_register(register: Register) -> str:
    """The register as YAML text, header comment first, in a stable order."""
    responses: Dict[str, List[Dict[str, Any]]] = {}
    for name, entries in register.responses.items():
        items = []
        for entry in sorted(entries, key=lambda e: e.variation):
            item: Dict[str, Any] = {
                "variation": entry.variation,
                "points": _Flow(entry.points),
                "status": entry.status,
                "approved_by": entry.approved_by,
                "approved_at": entry.approved_at,
                "sha256": entry.sha256,
            }
            if entry.previous_approval:
                item["previous_approval"] = dict(entry.previous_approval)
            items.append(item)
        responses[name] = items
    body = yaml.dump(
        {"points": dict(register.points), "responses": responses},
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=4096,
        default_flow_style=False,
    )
    return HEADER + "\n" + body


def save_register(register: Register, path: Path = REGISTER) -> None:
    """Write atomically, so a reader never sees half a register."""
    path = Path(path)
    text = dump_register(register)
    handle, temporary = tempfile.mkstemp(dir=str(path.parent), prefix=".register-", suffix=".yml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
