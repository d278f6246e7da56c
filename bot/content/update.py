"""`python -m bot content sync` and `approve`: the two ways the register changes.

sync registers new and changed texts as source-derived (never guessing points for a
response name it has not seen); approve records that a role signed off the current text.
Both return a new register and a line for each change; cli.py writes the file.
"""

from __future__ import annotations

import copy
import difflib
import re
from datetime import datetime, timezone
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple

from bot.content.register import (
    APPROVED,
    Entry,
    Register,
    approve_command,
    day_of,
    match,
    response_hashes,
)

# A role ("adviser", "senior adviser"), never a person's name, e-mail or other identifier.
_ROLE = re.compile(r"^[a-z][a-z -]{1,38}[a-z]$")


def _sibling_points(entries: Iterable[Entry]) -> List[str]:
    """The points a response's registered variations share, in first-seen order."""
    seen: List[str] = []
    for entry in entries:
        for point in entry.points:
            if point not in seen:
                seen.append(point)
    return seen


def sync(
    register: Register, responses: Mapping[str, Sequence[Mapping[str, Any]]]
) -> Tuple[Register, List[str]]:
    """A register that matches domain.yml, and a line for each change made.

    New and changed variations become source-derived. A new variation of a known
    response takes the points of that response's other variations; a response name the
    register has never seen gets no points (sync does not guess), so `check` fails until
    someone writes them. An approval of changed text is kept as `previous_approval`.
    """
    updated = Register(points=dict(register.points))
    changes: List[str] = []
    for name, variation_hashes in response_hashes(responses).items():
        old_entries = register.responses.get(name) or []
        paired = match(variation_hashes, old_entries)
        entries: List[Entry] = []
        for index, entry in paired.same.items():
            kept = copy.deepcopy(entry)
            if kept.variation != index:
                changes.append(
                    f"{name}: variation {kept.variation} is now variation {index} "
                    "(same text, moved)"
                )
                kept.variation = index
            entries.append(kept)
        for index, entry in paired.changed.items():
            previous = entry.previous_approval
            if entry.status == APPROVED:
                previous = {
                    "approved_by": entry.approved_by,
                    "approved_at": entry.approved_at,
                    "sha256": entry.sha256,
                }
                changes.append(
                    f"{name} variation {index}: text changed since approval by "
                    f"{entry.approved_by} on {day_of(entry.approved_at)}: now "
                    f"source-derived; re-approve with "
                    f"{approve_command(name, entry.approved_by or 'adviser')}"
                )
            else:
                changes.append(
                    f"{name} variation {index}: text changed: hash updated "
                    f"(source-derived, points {', '.join(entry.points) or 'none'}: "
                    "check they still fit)"
                )
            entries.append(
                Entry(
                    index, variation_hashes[index], list(entry.points), previous_approval=previous
                )
            )
        siblings = _sibling_points(old_entries)
        for index in paired.new:
            entries.append(Entry(index, variation_hashes[index], list(siblings)))
            if not old_entries:
                continue
            changes.append(
                f"{name} variation {index}: added as source-derived with the points "
                f"of its other variations ({', '.join(siblings) or 'none'}): check them"
            )
        if not old_entries:
            changes.append(
                f"{name}: added ({len(variation_hashes)} variation(s), source-derived) "
                "with no points: write its CONTENT.md points in "
                "bot/content/register.yml; check fails until you do"
            )
        for entry in paired.leftover:
            changes.append(
                f"{name}: removed registered variation {entry.variation}, which "
                "domain.yml no longer has"
            )
        updated.responses[name] = sorted(entries, key=lambda e: e.variation)
    for name in register.responses:
        if name not in updated.responses:
            changes.append(f"{name}: removed from the register (no longer in domain.yml)")
    return updated, changes


def normalise_role(role: str) -> str:
    """'Adviser ' -> 'adviser'; refuses anything that is not a plain role word or two."""
    cleaned = " ".join((role or "").split()).lower()
    if not _ROLE.match(cleaned):
        raise ValueError(
            f"--by {role!r}: give a role such as adviser or senior adviser "
            "(letters, spaces and hyphens; never a person's name or e-mail)"
        )
    return cleaned


def utc_now() -> str:
    """The current UTC date-time, to the second, as ISO 8601 with a Z."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def approve(
    register: Register,
    responses: Mapping[str, Sequence[Mapping[str, Any]]],
    name: str,
    role: str,
    variation: Optional[int] = None,
    now: Optional[str] = None,
) -> Tuple[Register, List[str]]:
    """A register with `name` (or one variation of it) approved as its text stands now.

    All or nothing: raises ValueError, changing nothing, when the response is unknown,
    a variation is not registered yet (run sync first), or has no points to approve.
    """
    role = normalise_role(role)
    stamp = now or utc_now()
    if name not in responses:
        close = difflib.get_close_matches(name, list(responses), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(f"{name} is not a response in domain.yml{hint}")
    hashes = response_hashes(responses)[name]
    if variation is not None and not 0 <= variation < len(hashes):
        raise ValueError(
            f"{name} has variations 0 to {len(hashes) - 1}; there is no variation {variation}"
        )
    targets = [variation] if variation is not None else list(range(len(hashes)))
    updated = copy.deepcopy(register)
    entries = updated.responses.get(name) or []
    paired = match(hashes, entries)
    problems, messages = [], []
    for index in targets:
        entry = paired.same.get(index) or paired.changed.get(index)
        if entry is None:
            problems.append(
                f"{name} variation {index}: not in the register yet: run python -m "
                "bot content sync, check its points, then approve it"
            )
            continue
        if not entry.points:
            problems.append(
                f"{name} variation {index}: no CONTENT.md points yet: write them in "
                "bot/content/register.yml before approving (an approval says the "
                "text rests on those points)"
            )
            continue
        again = entry.status == APPROVED and index in paired.same
        entry.variation = index
        entry.sha256 = hashes[index]
        entry.status = APPROVED
        entry.approved_by = role
        entry.approved_at = stamp
        entry.previous_approval = None
        messages.append(
            f"{name} variation {index}: {'re-' if again else ''}approved by {role} "
            f"at {stamp} (points {', '.join(entry.points)})"
        )
    if problems:
        raise ValueError("\n".join(problems))
    return updated, messages
