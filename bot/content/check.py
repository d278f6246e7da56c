"""`python -m bot content check`: every problem between domain.yml and the register.

Errors fail the check (an unregistered or changed text, missing or unknown points, a
malformed approval); warnings only inform (an entry domain.yml no longer has).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, List, Mapping, Optional, Sequence

from bot.content.register import (
    APPROVED,
    POINT_ID,
    SHA256,
    SOURCE_DERIVED,
    STATUSES,
    Entry,
    Finding,
    Register,
    approve_command,
    day_of,
    match,
    response_hashes,
)


def _valid_time(stamp: Optional[str]) -> bool:
    if not stamp:
        return False
    try:
        datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _entry_problems(register: Register, name: str, index: int, entry: Entry) -> List[str]:
    """What is wrong with one entry on its own (points, status, approval fields)."""
    where = f"{name} variation {index}"
    problems = []
    if not entry.points:
        problems.append(
            f"{where}: no CONTENT.md points: write them in "
            "bot/content/register.yml (ids from its `points:` glossary)"
        )
    for point in entry.points:
        if point not in register.points:
            known = ", ".join(register.points) or "none: the glossary is empty"
            problems.append(f"{where}: unknown point id {point!r} (known: {known})")
    if not SHA256.match(entry.sha256):
        problems.append(f"{where}: sha256 {entry.sha256!r} is not a sha256 hex digest")
    if entry.status not in STATUSES:
        problems.append(f"{where}: status {entry.status!r} must be one of {', '.join(STATUSES)}")
    elif entry.status == APPROVED:
        if not entry.approved_by:
            problems.append(
                f"{where}: approved but approved_by is empty: {approve_command(name, 'adviser')}"
            )
        if not _valid_time(entry.approved_at):
            problems.append(
                f"{where}: approved but approved_at {entry.approved_at!r} is not "
                f"an ISO date-time: {approve_command(name, entry.approved_by or 'adviser')}"
            )
    elif entry.approved_by or entry.approved_at:
        problems.append(
            f"{where}: source-derived but has approved_by/approved_at: "
            "set status approved with the approve command, or clear them"
        )
    return problems


def check(
    register: Register, responses: Mapping[str, Sequence[Mapping[str, Any]]]
) -> List[Finding]:
    """Every problem between domain.yml and the register; errors first, then warnings."""
    errors: List[Finding] = []
    warnings: List[Finding] = []
    for point, summary in register.points.items():
        if not POINT_ID.match(point):
            errors.append(
                Finding(
                    "error",
                    "",
                    f"point id {point!r} in the glossary: use ids like A1, B3, D or HANDOFF",
                )
            )
        if not summary:
            errors.append(
                Finding("error", "", f"point {point}: the glossary needs a one-line summary of it")
            )
    hashes = response_hashes(responses)
    for name, variation_hashes in hashes.items():
        entries = register.responses.get(name)
        if not entries:
            errors.append(
                Finding(
                    "error",
                    name,
                    (
                        f"{name}: not in the register ({len(variation_hashes)} variation(s)): run "
                        "python -m bot content sync, then write its CONTENT.md points in "
                        "bot/content/register.yml"
                    ),
                )
            )
            continue
        paired = match(variation_hashes, entries)
        for index, entry in sorted(paired.same.items()):
            errors.extend(
                Finding("error", name, p) for p in _entry_problems(register, name, index, entry)
            )
            previous = entry.previous_approval or {}
            role = previous.get("approved_by")
            if entry.status == SOURCE_DERIVED and role:
                warnings.append(
                    Finding(
                        "warning",
                        name,
                        (
                            f"{name} variation {index}: changed after approval by {role} on "
                            f"{day_of(previous.get('approved_at'))}; source-derived until "
                            f"re-approved: {approve_command(name, role)}"
                        ),
                    )
                )
        for index, entry in sorted(paired.changed.items()):
            where = f"{name} variation {index}"
            if entry.status == APPROVED:
                role = entry.approved_by or "adviser"
                message = (
                    f"{where}: text changed since approval by {role} on "
                    f"{day_of(entry.approved_at)}: re-approve with "
                    f"{approve_command(name, role)}"
                )
            else:
                points = ", ".join(entry.points) or "none"
                message = (
                    f"{where}: text changed since it was registered (source-derived, "
                    f"points {points}): check it still rests on those points, then run "
                    f"python -m bot content sync, or approve it with "
                    f"{approve_command(name, 'adviser')}"
                )
            errors.append(Finding("error", name, message))
        for index in paired.new:
            errors.append(
                Finding(
                    "error",
                    name,
                    (
                        f"{name} variation {index}: not in the register: run python -m bot content "
                        "sync, then check its CONTENT.md points in bot/content/register.yml"
                    ),
                )
            )
        for entry in paired.leftover:
            warnings.append(
                Finding(
                    "warning",
                    name,
                    (
                        f"{name}: the register holds a variation that domain.yml no longer has "
                        f"(registered as variation {entry.variation}): python -m bot content sync "
                        "removes it"
                    ),
                )
            )
    for name in register.responses:
        if name not in hashes:
            warnings.append(
                Finding(
                    "warning",
                    name,
                    (
                        f"{name}: in the register but not in domain.yml: "
                        "python -m bot content sync removes it"
                    ),
                )
            )
    return errors + warnings
