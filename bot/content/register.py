"""The content approval register: which approved point each response rests on, and who
signed off its exact wording.

Every variation of every response in domain.yml has an entry in bot/content/register.yml
with the CONTENT.md point ids it rests on, the sha256 of what the parent sees of it, and
its status: `approved` (an adviser signed off this exact text) or `source-derived`
(written from the published adviser reply, not yet signed off). The hash covers the
template ({placeholders} unfilled), so a new phone number in bot/settings.yml needs no
re-approval while a changed word does.

A variation is found by response name and hash first, so reordering variations in
domain.yml breaks nothing; only a variation whose hash is nowhere in the register is
"changed" (when the register still holds an unmatched entry for that response) or "new".

Pure logic: functions take and return data; bot/content/cli.py does the printing and the
file writing.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import yaml

REGISTER = Path(__file__).resolve().parent / "register.yml"
APPROVED = "approved"
SOURCE_DERIVED = "source-derived"
STATUSES = (APPROVED, SOURCE_DERIVED)
# A role ("adviser", "senior adviser"), never a person's name, e-mail or other identifier.
_ROLE = re.compile(r"^[a-z][a-z -]{1,38}[a-z]$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_POINT_ID = re.compile(r"^[A-Z][A-Z0-9]*$")

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
    previous_approval: Optional[Dict[str, str]] = None


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


def response_hashes(responses: Mapping[str, Sequence[Mapping[str, Any]]]
                    ) -> Dict[str, List[str]]:
    """Response name -> the hash of each of its variations, in domain.yml order."""
    return {name: [variation_hash(v) for v in variations or []]
            for name, variations in responses.items()}


# --- Reading and writing the file ------------------------------------------------------------

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
            entries.append(Entry(
                variation=index,
                sha256=str(item["sha256"]),
                points=[str(p) for p in points],
                status=str(item.get("status") or SOURCE_DERIVED),
                approved_by=_text(item.get("approved_by")),
                approved_at=_text(item.get("approved_at")),
                previous_approval={str(k): _text(v) for k, v in previous.items()}
                if isinstance(previous, dict) else None,
            ))
        register.responses[str(name)] = entries
    return register


def load_register(path: Path = REGISTER) -> Register:
    """Read the register file; a missing file is an error the caller explains."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RegisterError(f"{Path(path).name} not found: create it with "
                            "`python -m bot content sync`") from None
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
    _Flow, lambda dumper, data: dumper.represent_sequence(
        "tag:yaml.org,2002:seq", data, flow_style=True))


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
    body = yaml.dump({"points": dict(register.points), "responses": responses}, Dumper=_Dumper,
                     sort_keys=False, allow_unicode=True, width=4096, default_flow_style=False)
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


# --- Matching domain variations with register entries ---------------------------------------

@dataclass
class Match:
    """How one response's variations line up with its register entries."""

    same: Dict[int, Entry] = field(default_factory=dict)      # index -> entry, hash equal
    changed: Dict[int, Entry] = field(default_factory=dict)   # index -> stale entry
    new: List[int] = field(default_factory=list)              # indexes with no entry
    leftover: List[Entry] = field(default_factory=list)       # entries matching nothing


def match(hashes: Sequence[str], entries: Sequence[Entry]) -> Match:
    """Pair variations with entries: by hash (same index first), then stale entries with
    the unmatched variations (same index first, then in order)."""
    result = Match()
    free = list(entries)
    todo = list(range(len(hashes)))

    def take(index: int, condition) -> Optional[Entry]:
        for entry in free:
            if condition(entry):
                free.remove(entry)
                return entry
        return None

    for rule in (lambda i: lambda e: e.sha256 == hashes[i] and e.variation == i,
                 lambda i: lambda e: e.sha256 == hashes[i]):
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


# --- check ----------------------------------------------------------------------------------

def _date(stamp: Optional[str]) -> str:
    return (stamp or "an unknown date").split("T")[0]


def _approve_command(name: str, role: str, index: Optional[int] = None) -> str:
    suffix = f" --variation {index}" if index is not None else ""
    return f"python -m bot content approve {name} --by {role}{suffix}"


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
        problems.append(f"{where}: no CONTENT.md points: write them in "
                        "bot/content/register.yml (ids from its `points:` glossary)")
    for point in entry.points:
        if point not in register.points:
            known = ", ".join(register.points) or "none: the glossary is empty"
            problems.append(f"{where}: unknown point id {point!r} (known: {known})")
    if not _SHA256.match(entry.sha256):
        problems.append(f"{where}: sha256 {entry.sha256!r} is not a sha256 hex digest")
    if entry.status not in STATUSES:
        problems.append(f"{where}: status {entry.status!r} must be one of {', '.join(STATUSES)}")
    elif entry.status == APPROVED:
        if not entry.approved_by:
            problems.append(f"{where}: approved but approved_by is empty: "
                            f"{_approve_command(name, 'adviser')}")
        if not _valid_time(entry.approved_at):
            problems.append(f"{where}: approved but approved_at {entry.approved_at!r} is not "
                            f"an ISO date-time: {_approve_command(name, entry.approved_by or 'adviser')}")
    elif entry.approved_by or entry.approved_at:
        problems.append(f"{where}: source-derived but has approved_by/approved_at: "
                        "set status approved with the approve command, or clear them")
    return problems


def check(register: Register, responses: Mapping[str, Sequence[Mapping[str, Any]]]
          ) -> List[Finding]:
    """Every problem between domain.yml and the register; errors first, then warnings."""
    errors: List[Finding] = []
    warnings: List[Finding] = []
    for point, summary in register.points.items():
        if not _POINT_ID.match(point):
            errors.append(Finding("error", "", f"point id {point!r} in the glossary: use ids "
                                               "like A1, B3, D or HANDOFF"))
        if not summary:
            errors.append(Finding("error", "", f"point {point}: the glossary needs a one-line "
                                               "summary of it"))
    hashes = response_hashes(responses)
    for name, variation_hashes in hashes.items():
        entries = register.responses.get(name)
        if not entries:
            errors.append(Finding("error", name, (
                f"{name}: not in the register ({len(variation_hashes)} variation(s)): run "
                "python -m bot content sync, then write its CONTENT.md points in "
                "bot/content/register.yml")))
            continue
        paired = match(variation_hashes, entries)
        for index, entry in sorted(paired.same.items()):
            errors.extend(Finding("error", name, p)
                          for p in _entry_problems(register, name, index, entry))
            previous = entry.previous_approval or {}
            if entry.status == SOURCE_DERIVED and previous.get("approved_by"):
                role = previous["approved_by"]
                warnings.append(Finding("warning", name, (
                    f"{name} variation {index}: changed after approval by {role} on "
                    f"{_date(previous.get('approved_at'))}; source-derived until re-approved: "
                    f"{_approve_command(name, role)}")))
        for index, entry in sorted(paired.changed.items()):
            where = f"{name} variation {index}"
            if entry.status == APPROVED:
                role = entry.approved_by or "adviser"
                message = (f"{where}: text changed since approval by {role} on "
                           f"{_date(entry.approved_at)}: re-approve with "
                           f"{_approve_command(name, role)}")
            else:
                points = ", ".join(entry.points) or "none"
                message = (f"{where}: text changed since it was registered (source-derived, "
                           f"points {points}): check it still rests on those points, then run "
                           f"python -m bot content sync, or approve it with "
                           f"{_approve_command(name, 'adviser')}")
            errors.append(Finding("error", name, message))
        for index in paired.new:
            errors.append(Finding("error", name, (
                f"{name} variation {index}: not in the register: run python -m bot content "
                "sync, then check its CONTENT.md points in bot/content/register.yml")))
        for entry in paired.leftover:
            warnings.append(Finding("warning", name, (
                f"{name}: the register holds a variation that domain.yml no longer has "
                f"(registered as variation {entry.variation}): python -m bot content sync "
                "removes it")))
    for name in register.responses:
        if name not in hashes:
            warnings.append(Finding("warning", name, (
                f"{name}: in the register but not in domain.yml: python -m bot content sync "
                "removes it")))
    return errors + warnings


# --- sync -----------------------------------------------------------------------------------

def _sibling_points(entries: Iterable[Entry]) -> List[str]:
    """The points a response's registered variations share, in first-seen order."""
    seen: List[str] = []
    for entry in entries:
        for point in entry.points:
            if point not in seen:
                seen.append(point)
    return seen


def sync(register: Register, responses: Mapping[str, Sequence[Mapping[str, Any]]]
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
                changes.append(f"{name}: variation {kept.variation} is now variation {index} "
                               "(same text, moved)")
                kept.variation = index
            entries.append(kept)
        for index, entry in paired.changed.items():
            previous = entry.previous_approval
            if entry.status == APPROVED:
                previous = {"approved_by": entry.approved_by, "approved_at": entry.approved_at,
                            "sha256": entry.sha256}
                changes.append(f"{name} variation {index}: text changed since approval by "
                               f"{entry.approved_by} on {_date(entry.approved_at)}: now "
                               f"source-derived; re-approve with {_approve_command(name, entry.approved_by or 'adviser')}")
            else:
                changes.append(f"{name} variation {index}: text changed: hash updated "
                               f"(source-derived, points {', '.join(entry.points) or 'none'}: "
                               "check they still fit)")
            entries.append(Entry(index, variation_hashes[index], list(entry.points),
                                 previous_approval=previous))
        siblings = _sibling_points(old_entries)
        for index in paired.new:
            entries.append(Entry(index, variation_hashes[index], list(siblings)))
            if not old_entries:
                continue
            changes.append(f"{name} variation {index}: added as source-derived with the points "
                           f"of its other variations ({', '.join(siblings) or 'none'}): check them")
        if not old_entries:
            changes.append(f"{name}: added ({len(variation_hashes)} variation(s), source-derived) "
                           "with no points: write its CONTENT.md points in "
                           "bot/content/register.yml; check fails until you do")
        for entry in paired.leftover:
            changes.append(f"{name}: removed registered variation {entry.variation}, which "
                           "domain.yml no longer has")
        updated.responses[name] = sorted(entries, key=lambda e: e.variation)
    for name in register.responses:
        if name not in updated.responses:
            changes.append(f"{name}: removed from the register (no longer in domain.yml)")
    return updated, changes


# --- approve --------------------------------------------------------------------------------

def normalise_role(role: str) -> str:
    """'Adviser ' -> 'adviser'; refuses anything that is not a plain role word or two."""
    cleaned = " ".join((role or "").split()).lower()
    if not _ROLE.match(cleaned):
        raise ValueError(f"--by {role!r}: give a role such as adviser or senior adviser "
                         "(letters, spaces and hyphens; never a person's name or e-mail)")
    return cleaned


def utc_now() -> str:
    """The current UTC date-time, to the second, as ISO 8601 with a Z."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def approve(register: Register, responses: Mapping[str, Sequence[Mapping[str, Any]]],
            name: str, role: str, variation: Optional[int] = None,
            now: Optional[str] = None) -> Tuple[Register, List[str]]:
    """A register with `name` (or one variation of it) approved as its text stands now.

    All or nothing: raises ValueError, changing nothing, when the response is unknown,
    a variation is not registered yet (run sync first), or has no points to approve.
    """
    role = normalise_role(role)
    stamp = now or utc_now()
    if name not in responses:
        import difflib

        close = difflib.get_close_matches(name, list(responses), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(f"{name} is not a response in domain.yml{hint}")
    hashes = response_hashes(responses)[name]
    if variation is not None and not 0 <= variation < len(hashes):
        raise ValueError(f"{name} has variations 0 to {len(hashes) - 1}; "
                         f"there is no variation {variation}")
    targets = [variation] if variation is not None else list(range(len(hashes)))
    updated = copy.deepcopy(register)
    entries = updated.responses.get(name) or []
    paired = match(hashes, entries)
    problems, messages = [], []
    for index in targets:
        entry = paired.same.get(index) or paired.changed.get(index)
        if entry is None:
            problems.append(f"{name} variation {index}: not in the register yet: run python -m "
                            "bot content sync, check its points, then approve it")
            continue
        if not entry.points:
            problems.append(f"{name} variation {index}: no CONTENT.md points yet: write them in "
                            "bot/content/register.yml before approving (an approval says the "
                            "text rests on those points)")
            continue
        again = entry.status == APPROVED and index in paired.same
        entry.variation = index
        entry.sha256 = hashes[index]
        entry.status = APPROVED
        entry.approved_by = role
        entry.approved_at = stamp
        entry.previous_approval = None
        messages.append(f"{name} variation {index}: {'re-' if again else ''}approved by {role} "
                        f"at {stamp} (points {', '.join(entry.points)})")
    if problems:
        raise ValueError("\n".join(problems))
    return updated, messages


# --- The review sheet ----------------------------------------------------------------------

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


def review_rows(register: Register, responses: Mapping[str, Sequence[Mapping[str, Any]]],
                values: Mapping[str, str]) -> List[Dict[str, str]]:
    """One row per variation, in domain.yml order, for an adviser to read and sign off."""
    from bot.content.responses import fill

    rows = []
    for name, variation_hashes in response_hashes(responses).items():
        paired = match(variation_hashes, register.responses.get(name) or [])
        for index, variation in enumerate(responses[name] or []):
            entry = paired.same.get(index) or paired.changed.get(index)
            if index in paired.same:
                status = entry.status
                previous = entry.previous_approval or {}
                if status == SOURCE_DERIVED and previous.get("approved_by"):
                    status += (f" (changed after approval by {previous['approved_by']} on "
                               f"{_date(previous.get('approved_at'))})")
            elif entry is not None:
                status = "changed: needs approval"
            else:
                status = "not registered"
            points = entry.points if entry else []
            buttons = "\n".join(
                f"{fill(str(b.get('title', '')), values)} -> {b.get('payload', '')}"
                for b in variation.get("buttons") or [])
            rows.append({
                "name": name,
                "variation": str(index),
                "text": fill(str(variation.get("text", "")), values),
                "template": str(variation.get("text", "")),
                "buttons": buttons,
                "condition": _condition_words(variation.get("condition")),
                "points": ", ".join(points),
                "point_summaries": "\n".join(f"{p}: {register.points.get(p, '(unknown id)')}"
                                              for p in points),
                "status": status,
                "approved_by": (entry.approved_by or "") if entry and index in paired.same else "",
                "approved_at": (entry.approved_at or "") if entry and index in paired.same else "",
                "sha256": variation_hashes[index],
            })
    return rows


REPORT_COLUMNS = ("name", "variation", "text", "template", "buttons", "condition", "points",
                  "point_summaries", "status", "approved_by", "approved_at", "sha256")


def report_csv(rows: Sequence[Mapping[str, str]]) -> str:
    """The review sheet as CSV (opens in a spreadsheet)."""
    import csv
    import io

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
        lines += [f"- Status: {row['status']}"
                  + (f" (by {row['approved_by']} at {row['approved_at']})"
                     if row["approved_by"] else ""),
                  ""]
    return "\n".join(lines)
