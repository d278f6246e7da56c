"""`python -m bot content check|approve|report|sync`: the content approval register.

check    exit 1 when a response is unregistered, changed since it was registered or
         approved, lacks CONTENT.md points, or names an unknown point
approve  record that a role (e.g. adviser) signed off the current text of a response
report   write a review sheet (Markdown or CSV) an adviser can read
sync     register new and changed texts as source-derived (never guesses points for a
         response name it has not seen)
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import yaml

from bot.content import check, register_file, review, update
from bot.content import register as reg
from bot.content.material import APPROVED_MATERIAL, MaterialError, load_material
from bot.content.register_file import REGISTER
from bot.paths import DOMAIN


def read_responses(path: Path = DOMAIN) -> Dict[str, List[Dict[str, Any]]]:
    """The responses in domain.yml, read fresh (no cache: the file may have just changed)."""
    with Path(path).open(encoding="utf-8") as handle:
        domain = yaml.safe_load(handle) or {}
    responses = domain.get("responses") or {}
    if not isinstance(responses, dict):
        raise reg.RegisterError(f"{Path(path).name}: `responses` must be a mapping")
    return responses


def _summary(register: reg.Register, responses: Mapping[str, Sequence[Any]]) -> str:
    hashes = reg.response_hashes(responses)
    statuses: Dict[str, int] = {}
    for name, variation_hashes in hashes.items():
        paired = reg.match(variation_hashes, register.responses.get(name) or [])
        for entry in paired.same.values():
            statuses[entry.status] = statuses.get(entry.status, 0) + 1
    total = sum(len(h) for h in hashes.values())
    counted = ", ".join(f"{statuses.get(s, 0)} {s}" for s in reg.STATUSES)
    return f"{len(hashes)} responses, {total} variations: {counted}"


def do_check(register_path: Path, domain_path: Path) -> int:
    """Print every problem; 1 when any is an error."""
    register = register_file.load_register(register_path)
    responses = read_responses(domain_path)
    findings = check.check(register, responses)
    errors = [f for f in findings if f.level == "error"]
    for finding in findings:
        print(finding)
    verdict = f"{len(errors)} problem(s)" if errors else "OK"
    print(f"content register: {_summary(register, responses)}; {verdict}")
    return 1 if errors else 0


def do_sync(register_path: Path, domain_path: Path) -> int:
    """Bring the register in line with domain.yml; print each change."""
    try:
        register = register_file.load_register(register_path)
    except reg.RegisterError:
        if Path(register_path).exists():
            raise
        register = reg.Register()
        print(f"{Path(register_path).name} not found: creating it")
    responses = read_responses(domain_path)
    updated, changes = update.sync(register, responses)
    for line in changes:
        print(line)
    if register_file.dump_register(updated) == (
        Path(register_path).read_text(encoding="utf-8") if Path(register_path).exists() else None
    ):
        print("content register: already up to date")
    else:
        register_file.save_register(updated, register_path)
        print(f"content register: {len(changes)} change(s) written")
    print("Next: python -m bot content check")
    return 0


def do_approve(
    register_path: Path, domain_path: Path, name: str, role: str, variation: Optional[int]
) -> int:
    """Record an approval; nothing is written when any part of it is refused."""
    register = register_file.load_register(register_path)
    responses = read_responses(domain_path)
    try:
        updated, messages = update.approve(register, responses, name, role, variation)
    except ValueError as problem:
        for line in str(problem).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 1
    register_file.save_register(updated, register_path)
    for line in messages:
        print(line)
    return 0


def report_format(out: Path, chosen: Optional[str]) -> str:
    """--format wins; otherwise the file's suffix (.csv -> csv), else Markdown."""
    if chosen:
        return chosen
    return "csv" if out.suffix.lower() == ".csv" else "md"


def do_report(
    register_path: Path, domain_path: Path, material_path: Path, out: Path, fmt: Optional[str]
) -> int:
    """Write the review sheet and say where it is."""
    from bot import settings

    register = register_file.load_register(register_path)
    responses = read_responses(domain_path)
    material = load_material(material_path)
    rows = review.review_rows(register, responses, settings.placeholders())
    review.add_sources(rows, material)
    chosen = report_format(out, fmt)
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        review.report_csv(rows)
        if chosen == "csv"
        else review.report_markdown(rows, register, material, generated)
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"review sheet ({chosen}, {len(rows)} texts) written to {out}")
    return 0


def run(
    args: argparse.Namespace,
    register_path: Path = REGISTER,
    domain_path: Path = DOMAIN,
    material_path: Path = APPROVED_MATERIAL,
) -> int:
    """Dispatch `python -m bot content ...`; a broken register is a clear error, not a trace."""
    command = args.content_command
    try:
        if command == "check":
            return do_check(register_path, domain_path)
        if command == "sync":
            return do_sync(register_path, domain_path)
        if command == "approve":
            return do_approve(
                register_path, domain_path, args.name, args.by, getattr(args, "variation", None)
            )
        if command == "report":
            chosen = getattr(args, "content", None)
            return do_report(
                register_path,
                domain_path,
                Path(chosen) if chosen else material_path,
                Path(args.out),
                getattr(args, "format", None),
            )
    except (reg.RegisterError, MaterialError, OSError, yaml.YAMLError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    raise AssertionError(f"unknown content command {command!r}")
