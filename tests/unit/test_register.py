"""The content approval register: hashes, check, sync, approve and the review sheet.

The first tests hold the real register to the real domain.yml (what `make test` checks);
the rest work on small registers and domains written into a temporary folder, so that
editing, reordering and approving can be tried without touching the project's files.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from bot import settings
from bot.__main__ import main as bot_main
from bot.content import check, cli, register_file, review, update
from bot.content import register as reg
from bot.content.responses import load_domain_responses
from bot.paths import PROJECT_ROOT

# The point ids the brief's CONTENT.md sections give (A1..A10, B1..B5, C1..C4, D, E, F and
# "Handing off"); the glossary must define at least these.
SECTION_IDS = (
    [f"A{i}" for i in range(1, 11)]
    + [f"B{i}" for i in range(1, 6)]
    + [f"C{i}" for i in range(1, 5)]
    + ["D", "E", "F", "HANDOFF"]
)

GLOSSARY = {
    "B3": "A safety plan is not a legal document.",
    "D": "The charity's services.",
    "E": "Crisis signposts.",
    "F": "About the assistant.",
}


# --- The real register -------------------------------------------------------------------------


def test_the_real_register_covers_every_response_in_domain_yml() -> None:
    register = register_file.load_register()
    findings = check.check(register, cli.read_responses())
    errors = [str(f) for f in findings if f.level == "error"]
    assert errors == [], "\n".join(errors)


def test_the_glossary_defines_every_content_point() -> None:
    glossary = register_file.load_register().points
    assert set(SECTION_IDS) <= set(glossary)
    assert all(summary.strip() for summary in glossary.values())


def test_faq_answers_rest_on_their_own_section() -> None:
    """An FAQ answer about safety plans rests on a B point, and so on (domain.yml names)."""
    register = register_file.load_register()
    section = {"assessment": "A", "safety_plan": "B", "fgc": "C"}
    checked = 0
    for name in load_domain_responses():
        topic = name[len("utter_") :].split("/")[0]
        if "/" not in name or topic not in section:
            continue
        for entry in register.responses[name]:
            assert any(p.startswith(section[topic]) for p in entry.points), (name, entry.points)
            checked += 1
    assert checked >= 15
    assert "B3" in register.responses["utter_safety_plan/legal_status"][0].points


def test_crisis_and_handoff_lines_rest_on_e_and_handing_off() -> None:
    register = register_file.load_register()
    responses = load_domain_responses()
    crisis = [
        n for n, vs in responses.items() if any((v.get("custom") or {}).get("crisis") for v in vs)
    ]
    assert crisis, "domain.yml marks crisis answers with custom.crisis"
    for name in crisis:
        assert all("E" in e.points for e in register.responses[name]), name
    for entry in register.responses["utter_handoff"]:
        assert {"D", "HANDOFF"} <= set(entry.points)


def test_make_test_runs_the_check() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-m bot content check" in makefile


def test_the_command_line_check_passes_on_the_project(capsys) -> None:
    assert bot_main(["content", "check"]) == 0
    assert "OK" in capsys.readouterr().out


# --- Hashing -----------------------------------------------------------------------------------


def test_hash_ignores_key_order_and_empty_keys() -> None:
    a = {"text": "Hi {organisation}", "buttons": [{"title": "T", "payload": "/p"}]}
    b = {"buttons": [{"payload": "/p", "title": "T"}], "text": "Hi {organisation}"}
    assert reg.variation_hash(a) == reg.variation_hash(b)
    assert reg.variation_hash({"text": "x", "buttons": None}) == reg.variation_hash({"text": "x"})
    assert re.fullmatch(r"[0-9a-f]{64}", reg.variation_hash(a))


@pytest.mark.parametrize(
    "change",
    [
        {"text": "Hi {organisation}!"},
        {"buttons": [{"title": "T", "payload": "/other"}]},
        {"buttons": [{"title": "Other", "payload": "/p"}]},
        {"condition": [{"type": "slot", "name": "s", "value": True}]},
        {"custom": {"crisis": "suicidal"}},
        {"metadata": {"title": "A question"}},
    ],
)
def test_hash_changes_with_anything_the_parent_sees(change: Dict[str, Any]) -> None:
    base = {"text": "Hi {organisation}", "buttons": [{"title": "T", "payload": "/p"}]}
    assert reg.variation_hash({**base, **change}) != reg.variation_hash(base)


def test_a_settings_change_needs_no_reapproval() -> None:
    """The hash is of the template: other numbers fill the text, the hash stays."""
    responses = {"utter_call": [{"text": "Call {adviceline_phone}."}]}
    register, _ = update.sync(reg.Register(points=dict(GLOSSARY)), responses)
    register.responses["utter_call"][0].points = ["D"]
    real = settings.placeholders()
    other = dict(real, adviceline_phone="0000 000 0000")
    row_real = review.review_rows(register, responses, real)[0]
    row_other = review.review_rows(register, responses, other)[0]
    assert row_real["sha256"] == row_other["sha256"]
    assert row_real["text"] == f"Call {real['adviceline_phone']}."
    assert row_other["text"] == "Call 0000 000 0000."
    assert check.check(register, responses) == []


# --- A small project in a temporary folder --------------------------------------------------------

DOMAIN: Dict[str, List[Dict[str, Any]]] = {
    "utter_legal": [
        {
            "text": "A plan is not a legal document.",
            "buttons": [{"title": "More", "payload": "/more"}],
        }
    ],
    "utter_line": [
        {
            "condition": [{"type": "slot", "name": "open", "value": True}],
            "text": "Open now: call {adviceline_phone}.",
        },
        {"text": "Closed now; call {adviceline_phone} later."},
    ],
    "utter_crisis": [{"text": "Call {emergency}.", "custom": {"crisis": "immediate_danger"}}],
}
POINTS = {"utter_legal": ["B3"], "utter_line": ["D"], "utter_crisis": ["E"]}


class Project:
    """A domain.yml and register.yml in a temporary folder, driven through the real CLI."""

    def __init__(self, folder: Path) -> None:
        self.domain = folder / "domain.yml"
        self.register = folder / "register.yml"

    def write_domain(self, responses: Dict[str, Any]) -> None:
        self.domain.write_text(
            yaml.safe_dump({"version": "3.1", "responses": responses}, sort_keys=False),
            encoding="utf-8",
        )

    def run(self, command: str, **options: Any) -> int:
        args = argparse.Namespace(command="content", content_command=command, **options)
        return cli.run(args, register_path=self.register, domain_path=self.domain)

    def load(self) -> reg.Register:
        return register_file.load_register(self.register)

    def set_points(self, points: Dict[str, List[str]]) -> None:
        register = self.load()
        register.points = dict(GLOSSARY)
        for name, entries in register.responses.items():
            for entry in entries:
                entry.points = list(points.get(name, entry.points))
        register_file.save_register(register, self.register)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A synced, pointed, checking-clean small project."""
    made = Project(tmp_path)
    made.write_domain(DOMAIN)
    assert made.run("sync") == 0
    made.set_points(POINTS)
    assert made.run("check") == 0
    return made


def test_sync_registers_new_names_without_guessing_points(tmp_path: Path, capsys) -> None:
    made = Project(tmp_path)
    made.write_domain(DOMAIN)
    assert made.run("check") == 1
    assert "not found" in capsys.readouterr().err
    assert made.run("sync") == 0
    register = made.load()
    assert {n: len(e) for n, e in register.responses.items()} == {
        "utter_legal": 1,
        "utter_line": 2,
        "utter_crisis": 1,
    }
    assert all(
        e.points == [] and e.status == reg.SOURCE_DERIVED and e.approved_by is None
        for entries in register.responses.values()
        for e in entries
    )
    capsys.readouterr()
    assert made.run("check") == 1
    out = capsys.readouterr().out
    assert "utter_legal variation 0: no CONTENT.md points" in out


def test_check_fails_on_a_response_missing_from_the_register(project: Project, capsys) -> None:
    project.write_domain({**DOMAIN, "utter_new": [{"text": "Something new."}]})
    assert project.run("check") == 1
    out = capsys.readouterr().out
    assert "utter_new: not in the register (1 variation(s)): run python -m bot content sync" in out


def test_check_fails_on_an_unknown_point_id(project: Project, capsys) -> None:
    project.set_points({"utter_legal": ["B3", "Z9"]})
    assert project.run("check") == 1
    assert "utter_legal variation 0: unknown point id 'Z9'" in capsys.readouterr().out


def test_edit_after_approval_needs_reapproval(project: Project, capsys) -> None:
    assert project.run("approve", name="utter_legal", by="adviser", variation=None) == 0
    assert project.run("check") == 0
    edited = dict(
        DOMAIN, utter_legal=[dict(DOMAIN["utter_legal"][0], text="A plan is not legally binding.")]
    )
    project.write_domain(edited)
    capsys.readouterr()
    assert project.run("check") == 1
    out = capsys.readouterr().out
    today = datetime.now(timezone.utc).date().isoformat()
    assert (
        f"utter_legal variation 0: text changed since approval by adviser on {today}: "
        "re-approve with python -m bot content approve utter_legal --by adviser"
    ) in out
    assert project.run("approve", name="utter_legal", by="adviser", variation=None) == 0
    assert project.run("check") == 0


def test_a_changed_button_payload_is_a_change(project: Project, capsys) -> None:
    edited = dict(
        DOMAIN,
        utter_legal=[
            dict(DOMAIN["utter_legal"][0], buttons=[{"title": "More", "payload": "/less"}])
        ],
    )
    project.write_domain(edited)
    assert project.run("check") == 1
    assert (
        "utter_legal variation 0: text changed since it was registered" in capsys.readouterr().out
    )


def test_reordered_variations_still_match(project: Project) -> None:
    assert project.run("approve", name="utter_line", by="adviser", variation=1) == 0
    project.write_domain(dict(DOMAIN, utter_line=list(reversed(DOMAIN["utter_line"]))))
    assert project.run("check") == 0
    assert project.run("sync") == 0
    entries = {e.variation: e for e in project.load().responses["utter_line"]}
    # The approved "Closed now" text moved from index 1 to 0 and kept its approval.
    assert entries[0].status == reg.APPROVED
    assert entries[0].sha256 == reg.variation_hash(DOMAIN["utter_line"][1])
    assert entries[1].status == reg.SOURCE_DERIVED


def test_sync_keeps_points_for_a_new_variation_of_a_known_response(project: Project) -> None:
    project.write_domain(
        dict(
            DOMAIN,
            utter_legal=DOMAIN["utter_legal"] + [{"text": "Only agree to what you will keep to."}],
        )
    )
    assert project.run("sync") == 0
    entries = project.load().responses["utter_legal"]
    assert [e.points for e in entries] == [["B3"], ["B3"]]
    assert project.run("check") == 0


def test_sync_after_an_edit_records_the_old_approval(project: Project, capsys) -> None:
    assert project.run("approve", name="utter_crisis", by="adviser", variation=None) == 0
    approved_at = project.load().responses["utter_crisis"][0].approved_at
    project.write_domain(
        dict(
            DOMAIN,
            utter_crisis=[
                {"text": "Call {emergency} now.", "custom": {"crisis": "immediate_danger"}}
            ],
        )
    )
    capsys.readouterr()
    assert project.run("sync") == 0
    assert "text changed since approval by adviser" in capsys.readouterr().out
    entry = project.load().responses["utter_crisis"][0]
    assert entry.status == reg.SOURCE_DERIVED and entry.approved_by is None
    assert entry.previous_approval["approved_by"] == "adviser"
    assert entry.previous_approval["approved_at"] == approved_at
    assert entry.points == ["E"]
    capsys.readouterr()
    assert project.run("check") == 0
    assert (
        f"warning: utter_crisis variation 0: changed after approval by adviser on "
        f"{approved_at[:10]}; source-derived until re-approved"
    ) in capsys.readouterr().out
    assert project.run("approve", name="utter_crisis", by="adviser", variation=None) == 0
    assert project.load().responses["utter_crisis"][0].previous_approval is None


def test_removed_responses_warn_and_sync_drops_them(project: Project, capsys) -> None:
    project.write_domain({k: v for k, v in DOMAIN.items() if k != "utter_crisis"})
    assert project.run("check") == 0
    assert "utter_crisis: in the register but not in domain.yml" in capsys.readouterr().out
    assert project.run("sync") == 0
    assert "utter_crisis" not in project.load().responses


def test_approve_records_role_time_and_hash(project: Project) -> None:
    before = datetime.now(timezone.utc).replace(microsecond=0)
    assert project.run("approve", name="utter_line", by="Senior Adviser", variation=0) == 0
    entries = {e.variation: e for e in project.load().responses["utter_line"]}
    assert entries[0].status == reg.APPROVED
    assert entries[0].approved_by == "senior adviser"
    stamp = datetime.fromisoformat(entries[0].approved_at.replace("Z", "+00:00"))
    assert stamp.utcoffset() == timedelta(0)
    assert before <= stamp <= datetime.now(timezone.utc) + timedelta(seconds=1)
    assert entries[0].sha256 == reg.variation_hash(DOMAIN["utter_line"][0])
    assert entries[1].status == reg.SOURCE_DERIVED


@pytest.mark.parametrize(
    "name, role, variation, expected",
    [
        (
            "utter_legl",
            "adviser",
            None,
            "utter_legl is not a response in domain.yml (did you mean utter_legal",
        ),
        ("utter_line", "adviser", 5, "utter_line has variations 0 to 1; there is no variation 5"),
        ("utter_line", "jo@example.com", None, "give a role such as adviser"),
        ("utter_line", "", None, "give a role such as adviser"),
    ],
)
def test_approve_refuses_bad_requests_clearly(
    project: Project, capsys, name: str, role: str, variation, expected: str
) -> None:
    before = project.register.read_text(encoding="utf-8")
    assert project.run("approve", name=name, by=role, variation=variation) == 1
    assert expected in capsys.readouterr().err
    assert project.register.read_text(encoding="utf-8") == before


def test_approve_refuses_a_text_without_points(project: Project, capsys) -> None:
    project.write_domain({**DOMAIN, "utter_new": [{"text": "New."}]})
    assert project.run("approve", name="utter_new", by="adviser", variation=None) == 1
    assert "not in the register yet: run python -m bot content sync" in capsys.readouterr().err
    assert project.run("sync") == 0
    assert project.run("approve", name="utter_new", by="adviser", variation=None) == 1
    assert "no CONTENT.md points yet" in capsys.readouterr().err
    assert project.load().responses["utter_new"][0].status == reg.SOURCE_DERIVED


def test_a_broken_register_is_a_clear_error(project: Project, capsys) -> None:
    project.register.write_text("points: [unclosed\n", encoding="utf-8")
    assert project.run("check") == 1
    assert "register.yml is not valid YAML" in capsys.readouterr().err
    project.register.write_text("responses:\n  utter_legal: {variation: 0}\n", encoding="utf-8")
    assert project.run("check") == 1
    assert "utter_legal: expected a list of variations" in capsys.readouterr().err


def test_approved_without_a_role_fails_check(project: Project, capsys) -> None:
    register = project.load()
    register.responses["utter_legal"][0].status = reg.APPROVED
    register_file.save_register(register, project.register)
    assert project.run("check") == 1
    assert "utter_legal variation 0: approved but approved_by is empty" in capsys.readouterr().out


def test_the_file_round_trips(project: Project) -> None:
    assert project.run("approve", name="utter_legal", by="adviser", variation=None) == 0
    text = project.register.read_text(encoding="utf-8")
    assert register_file.dump_register(register_file.load_register(project.register)) == text
    assert text.startswith("# The content approval register")


def _material(folder: Path) -> str:
    """A small approved material, so the sheet does not depend on the copy beside the
    checkout."""
    from tests.unit.test_content_report import SMALL_MATERIAL

    path = folder / "CONTENT.md"
    path.write_text(SMALL_MATERIAL, encoding="utf-8")
    return str(path)


def test_the_review_sheet_in_markdown_and_csv(project: Project, tmp_path: Path) -> None:
    values = settings.placeholders()
    assert project.run("approve", name="utter_legal", by="adviser", variation=None) == 0
    markdown = tmp_path / "sheet.md"
    assert project.run("report", out=str(markdown), format=None, content=_material(tmp_path)) == 0
    sheet = markdown.read_text(encoding="utf-8")
    assert f"> Open now: call {values['adviceline_phone']}." in sheet
    assert "Template: Open now: call {adviceline_phone}." in sheet
    assert "B3: " + GLOSSARY["B3"] in sheet
    assert "Said when: open is true" in sheet
    table = tmp_path / "sheet.csv"
    assert project.run("report", out=str(table), format=None, content=_material(tmp_path)) == 0
    rows = list(csv.DictReader(io.StringIO(table.read_text(encoding="utf-8"))))
    assert [(r["name"], r["variation"]) for r in rows] == [
        ("utter_legal", "0"),
        ("utter_line", "0"),
        ("utter_line", "1"),
        ("utter_crisis", "0"),
    ]
    legal = rows[0]
    assert (legal["points"], legal["status"], legal["approved_by"]) == ("B3", "approved", "adviser")
    assert rows[3]["text"] == f"Call {values['emergency']}."
    assert rows[3]["template"] == "Call {emergency}."


def test_the_review_sheet_marks_changed_texts(project: Project, tmp_path: Path) -> None:
    assert project.run("approve", name="utter_legal", by="adviser", variation=None) == 0
    project.write_domain(dict(DOMAIN, utter_legal=[{"text": "Edited."}]))
    out = tmp_path / "sheet.csv"
    assert project.run("report", out=str(out), format="csv", content=_material(tmp_path)) == 0
    row = next(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert row["status"] == "changed: needs approval" and row["approved_by"] == ""
