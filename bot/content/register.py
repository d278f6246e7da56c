"""The content approval register: which approved point each response rests on, and who
signed off its exact wording. This module is the register itself: its entries, the hash
of a variation, and how domain.yml's variations line up with the entries.

Every variation of every response in domain.yml has an entry in bot/content/register.yml
with the CONTENT.md point ids it rests on, the sha256 of what the parent sees of it, and
its status: `approved` (an adviser signed off this exact text) or `source-derived`
(written from the published adviser reply, not yet signed off). The hash covers the
template ({placeholders} unfilled), so a new phone number in bot/settings.yml needs no
re-approval while a changed word does.

A variation is found by response name and hash first, so reordering variations in
domain.yml breaks nothing; only a variation whose hash is nowhere in the register is
"changed" (when the register still holds an unmatched entry for that response) or "new".

The jobs around it, each in a module of its own: reading and writing the file
(register_file.py), `check` (check.py), `sync` and `approve` (update.py), the review sheet
(review.py), and the command line (cli.py). All pure logic except the file and the
command line.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

APPROVED = "approved"
SOURCE_DERIVED = "source-derived"
STATUSES = (APPROVED, SOURCE_DERIVED)
SHA256 = re.compile(r"^[0-9a-f]{64}$")
POINT_ID = re.compile(r"^[A-Z][A-Z0-9]*$")


class RegisterError(ValueError):
    """The register file cannot be read as a register (bad YAML or bad structure)."""


@dataclass
class Entry:
    """One registered variation of a response."""

    variation: int
    sha256: str
    points: List[str]
    status: str = SOURCE_DERIVED
    approved_by: Optional[str] = None
    approved_at: Optional[str] = None
    # When a text changes after approval, sync keeps who approved the old wording.
    previous_approval: Optional[Dict[str, Optional[str]]] = None


@dataclass
class Register:
    """The glossary of CONTENT.md points and the entries of every response."""

    points: Dict[str, str] = field(default_factory=dict)
    responses: Dict[str, List[Entry]] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """A problem `check` found; errors fail the check, warnings only inform."""

    level: str  # "error" | "warning"
    name: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.message}"


# --- Hashing -------------------------------------------------------------------------------


def canonical(variation: Mapping[str, Any]) -> str:
    """The variation as sorted-key JSON, empty keys dropped (`buttons:` with nothing in it
    shows the parent nothing, so it hashes like no buttons at all)."""
    kept = {key: value for key, value in variation.items() if value not in (None, [], {}, "")}
    return json.dumps(kept, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def variation_hash(variation: Mapping[str, Any]) -> str:
    """sha256 of the canonical variation: text, buttons, condition, custom, metadata."""
    return hashlib.sha256(canonical(variation).encode("utf-8")).hexdigest()


def response_hashes(responses: Mapping[str, Sequence[Mapping[str, Any]]]) -> Dict[str, List[str]]:
    """Response name -> the hash of each of its variations, in domain.yml order."""
    return {
        name: [variation_hash(v) for v in variations or []]
        for name, variations in responses.items()
    }


# --- Matching domain variations with register entries ---------------------------------------


@dataclass
class Match:
    """How one response's variations line up with its register entries."""

    same: Dict[int, Entry] = field(default_factory=dict)  # index -> entry, hash equal
    changed: Dict[int, Entry] = field(default_factory=dict)  # index -> stale entry
    new: List[int] = field(default_factory=list)  # indexes with no entry
    leftover: List[Entry] = field(default_factory=list)  # entries matching nothing


def match(hashes: Sequence[str], entries: Sequence[Entry]) -> Match:
    """Pair variations with entries: by hash (same index first), then stale entries with
    the unmatched variations (same index first, then in order)."""
    result = Match()
    free = list(entries)
    todo = list(range(len(hashes)))

    def take(index: int, condition: Callable[[Entry], bool]) -> Optional[Entry]:
        for entry in free:
            if condition(entry):
                free.remove(entry)
                return entry
        return None

    for rule in (
        lambda i: lambda e: e.sha256 == hashes[i] and e.variation == i,
        lambda i: lambda e: e.sha256 == hashes[i],
    ):
        for index in list(todo):
            entry = take(index, rule(index))
            if entry is not None:
                result.same[index] = entry
                todo.remove(index)
    for rule in (lambda i: lambda e: e.variation == i, lambda i: lambda e: True):
        for index in list(todo):
            entry = take(index, rule(index))
            if entry is not None:
                result.changed[index] = entry
                todo.remove(index)
    result.new = todo
    result.leftover = free
    return result


# --- Words the commands share ---------------------------------------------------------------


def day_of(stamp: Optional[str]) -> str:
    return (stamp or "an unknown date").split("T")[0]


def approve_command(name: str, role: str, index: Optional[int] = None) -> str:
    suffix = f" --variation {index}" if index is not None else ""
    return f"python -m bot content approve {name} --by {role}{suffix}"
