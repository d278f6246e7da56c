"""The approved material read as data (bot/content/material.py) and the review sheet grouped
by its sections (`python -m bot content report`): first on a small CONTENT.md, domain and
register written into a temporary folder, then on the project's real files."""

from __future__ import annotations

import argparse
import csv
import io
import re
import textwrap
from pathlib import Path
from typing import Any, Dict

import pytest
import yaml

from bot import settings
from bot.content import cli, material, register_file

SMALL_MATERIAL = textwrap.dedent(
    """\
    # What the assistant may say

    Preamble that belongs to no section.

    ## A. Risk assessments
    IIOC = indecent images of children.
    - A1 Purpose: whether there is any risk to the children.
    - A2 It has two parts.

    ## E. Crisis signposts [public]
    - A child in immediate danger: call 999.

    ## G. Conferences and plans

    - G1 A conference decides whether a plan is needed. It should be held within 15
      working days.
      [public: Family Rights Group, "Initial conference", frg.example/icpc;
      Norfolk procedures]

    - G2 The core group checks progress. Local procedures say it meets every 4 to 6
      weeks. **[check: frequency is set locally]** Parents are expected to attend.
      [public: Tees procedures]

    - G3 Parents should be involved as fully as possible.
      [public: FRG page] **[check: FRG page cites WT2018]**

    ## H. Police
    - H1 Two separate processes. [public: SCIE, "Police decisions"]

    ---

    ## Handing off, new topics: what stays with a person

    1. Anything about a particular conference.

    ## Handing off: questions the material does not cover
    Care proceedings and court hearings.
    """
)

DOMAIN: Dict[str, Any] = {
    "utter_conference": [
        {
            "text": "A conference is held within {icpc_within}.",
            "buttons": [{"title": "Core group?", "payload": "/core"}],
        }
    ],
    "utter_core_group": [{"text": "The core group checks progress."}],
    "utter_purpose": [{"text": "It looks at any risk to the children."}],
    "utter_both": [{"text": "Police and children's services are separate; see the plan."}],
    "utter_handoff": [{"text": "An adviser can help with that."}],
    "utter_new": [{"text": "Not registered yet."}],
}
POINTS = {
    "utter_conference": ["G1"],
    "utter_core_group": ["G2"],
    "utter_purpose": ["A1"],
    "utter_both": ["H1", "G1"],
    "utter_handoff": ["HANDOFF"],
}
GLOSSARY = {
    "A1": "Purpose of the assessment.",
    "G1": "Initial conference.",
    "G2": "Core group.",
    "H1": "Two processes.",
    "HANDOFF": "What stays with a person.",
}


@pytest.fixture
def small(tmp_path: Path) -> Dict[str, Path]:
    """A synced and pointed register for DOMAIN (utter_new left out), and SMALL_MATERIAL."""
    paths = {
        "domain": tmp_path / "domain.yml",
        "register": tmp_path / "register.yml",
        "material": tmp_path / "CONTENT.md",
    }
    kept = {k: v for k, v in DOMAIN.items() if k != "utter_new"}
    paths["domain"].write_text(yaml.safe_dump({"responses": kept}), encoding="utf-8")
    paths["material"].write_text(SMALL_MATERIAL, encoding="utf-8")
    assert run(paths, "sync") == 0
    register = register_file.load_register(paths["register"])
    register.points = dict(GLOSSARY)
    for name, entries in register.responses.items():
        for entry in entries:
            entry.points = list(POINTS[name])
    register_file.save_register(register, paths["register"])
    paths["domain"].write_text(yaml.safe_dump({"responses": DOMAIN}), encoding="utf-8")
    return paths


def run(paths: Dict[str, Path], command: str, **options: Any) -> int:
    args = argparse.Namespace(command="content", content_command=command, **options)
    return cli.run(
        args,
        register_path=paths["register"],
        domain_path=paths["domain"],
        material_path=paths["material"],
    )


def sections_of(sheet: str) -> Dict[str, str]:
    """The sheet's `## ` sections by heading."""
    parts = re.split(r"^## (.*)$", sheet, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


# --- Parsing CONTENT.md ------------------------------------------------------------------------


def test_sections_points_sources_and_check_markers_are_parsed() -> None:
    parsed = material.parse_material(SMALL_MATERIAL)
    assert list(parsed.sections) == ["A", "E", "G", "H", material.HANDOFF]
    assert list(parsed.sections["A"].points) == ["A", "A1", "A2"]
    assert list(parsed.sections["G"].points) == ["G1", "G2", "G3"]
    g1 = parsed.point("G1")
    assert g1 is not None and g1.section == "G"
    assert g1.sources == [
        'Family Rights Group, "Initial conference", frg.example/icpc; Norfolk procedures'
    ]
    assert (
        g1.plain == "A conference decides whether a plan is needed. "
        "It should be held within 15 working days."
    )
    assert g1.checks == []
    g2 = parsed.point("G2")
    assert g2 is not None and g2.checks == [
        material.Check(
            note="frequency is set locally",
            sentence_before="Local procedures say it meets every 4 to 6 weeks.",
        )
    ]
    assert "[check" not in g2.plain and "Parents are expected to attend." in g2.plain
    g3 = parsed.point("G3")
    assert g3 is not None and [c.note for c in g3.checks] == ["FRG page cites WT2018"]
    assert [(p.id, c.note) for p, c in parsed.checks] == [
        ("G2", "frequency is set locally"),
        ("G3", "FRG page cites WT2018"),
    ]


def test_points_without_a_tag_take_their_sections_source() -> None:
    parsed = material.parse_material(SMALL_MATERIAL)
    assert parsed.point("A1").sources == [material.ADVISER_REPLY]  # type: ignore[union-attr]
    assert parsed.point("E").sources == [material.NAMED_IN_SECTION]  # type: ignore[union-attr]
    assert parsed.point("HANDOFF").sources == [material.CHARITY_RULES]  # type: ignore[union-attr]
    assert parsed.section_of("A") == "A" and parsed.section_of("Z9") is None


def test_both_handing_off_sections_make_one_point() -> None:
    handoff = material.parse_material(SMALL_MATERIAL).point(material.HANDOFF)
    assert handoff is not None
    assert "particular conference" in handoff.plain and "Care proceedings" in handoff.plain


def test_a_point_written_twice_or_no_section_is_refused(tmp_path: Path) -> None:
    with pytest.raises(material.MaterialError, match="G1 is written twice"):
        material.parse_material("## G. One\n- G1 First.\n\n## H. Two\n- G1 Again.\n")
    with pytest.raises(material.MaterialError, match="no lettered section"):
        material.parse_material("# Title\n\nNo sections here.\n")
    with pytest.raises(material.MaterialError, match="--content"):
        material.load_material(tmp_path / "missing.md")


# --- The review sheet on the small files ---------------------------------------------------------


def test_the_sheet_groups_texts_by_section_with_points_and_sources(
    small: Dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "sheet.md"
    assert run(small, "report", out=str(out), format=None) == 0
    sheet = out.read_text(encoding="utf-8")
    sections = sections_of(sheet)
    assert list(sections) == [
        "A. Risk assessments",
        "E. Crisis signposts",
        "G. Conferences and plans",
        "H. Police",
        "Handing off to a person",
        "Not traced to CONTENT.md",
    ]
    g = sections["G. Conferences and plans"]
    assert "### utter_conference (variation 0)" in g
    assert f"> A conference is held within {settings.placeholders()['icpc_within']}." in g
    assert "  - Core group? -> /core" in g
    assert "  - G1: Initial conference." in g
    assert '    - Source: Family Rights Group, "Initial conference", frg.example/icpc' in g
    # The [check] part of a point is shown to the adviser as never to be said.
    assert "  - G2: Core group.\n    - Source: Tees procedures\n" in g
    assert "    - Not confirmed, never said ([check]): frequency is set locally" in g
    # Points no text rests on are named, with their [check] mark.
    assert "Points no text rests on: G3 ([check])" in g
    # A text on two sections: shown once under its first point's section, named under the other.
    assert "### utter_both" in sections["H. Police"]
    assert "utter_both (variation 0), listed under H" in g
    assert sheet.count("### utter_both") == 1
    assert "### utter_purpose (variation 0)" in sections["A. Risk assessments"]
    assert "    - Source: " + material.ADVISER_REPLY in sections["A. Risk assessments"]
    assert "No text rests on this section." in sections["E. Crisis signposts"]
    assert "### utter_handoff" in sections["Handing off to a person"]
    untraced = sections["Not traced to CONTENT.md"]
    assert "### utter_new (variation 0)" in untraced and "Status: not registered" in untraced


def test_a_point_missing_from_the_material_is_not_traced(
    small: Dict[str, Path], tmp_path: Path
) -> None:
    register = register_file.load_register(small["register"])
    register.points["Q7"] = "A point CONTENT.md does not have."
    register.responses["utter_purpose"][0].points = ["Q7"]
    register_file.save_register(register, small["register"])
    out = tmp_path / "sheet.md"
    assert run(small, "report", out=str(out), format=None) == 0
    untraced = sections_of(out.read_text(encoding="utf-8"))["Not traced to CONTENT.md"]
    assert "### utter_purpose" in untraced and "Source: not found in CONTENT.md" in untraced


def test_the_csv_sheet_has_sections_and_sources(small: Dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "sheet.csv"
    assert run(small, "report", out=str(out), format=None) == 0
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))}
    assert rows["utter_both"]["sections"] == "H, G"
    assert rows["utter_both"]["sources"].splitlines() == [
        'H1: SCIE, "Police decisions"',
        'G1: Family Rights Group, "Initial conference", frg.example/icpc; Norfolk procedures',
    ]
    assert rows["utter_new"]["sections"] == "UNTRACED"


def test_a_missing_material_file_is_a_clear_error(
    small: Dict[str, Path], tmp_path: Path, capsys
) -> None:
    missing = tmp_path / "elsewhere" / "CONTENT.md"
    out = tmp_path / "sheet.md"
    assert run(small, "report", out=str(out), format=None, content=str(missing)) == 1
    assert "the approved material was not found" in capsys.readouterr().err
    assert not out.exists()


# --- The real files ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_material() -> material.Material:
    if not material.APPROVED_MATERIAL.is_file():
        # Loud, not silent: pytest lists the reason. The material is kept beside the
        # checkout, not in it; point APPROVED_MATERIAL at a copy to run these checks.
        pytest.skip(f"the approved material (CONTENT.md) is not at {material.APPROVED_MATERIAL}")
    return material.load_material(material.APPROVED_MATERIAL)


def test_the_real_material_has_sections_a_to_l_and_every_registered_point(
    real_material: material.Material,
) -> None:
    assert [s for s in real_material.sections if len(s) == 1] == list("ABCDEFGHIJKL")
    glossary = register_file.load_register().points
    missing = [p for p in glossary if real_material.point(p) is None]
    assert missing == []
    # Every point of sections G-L names its public source.
    for letter in "GHIJKL":
        for point in real_material.sections[letter].points.values():
            if point.id in glossary:
                assert point.sources and material.NO_SOURCE not in point.sources, point.id


def test_the_real_sheet_lists_every_text_once_under_its_section(
    real_material: material.Material, tmp_path: Path
) -> None:
    out = tmp_path / "sheet.md"
    args = argparse.Namespace(
        command="content", content_command="report", out=str(out), format=None, content=None
    )
    assert cli.run(args) == 0
    sheet = out.read_text(encoding="utf-8")
    sections = sections_of(sheet)
    assert "Not traced to CONTENT.md" not in sections
    responses = cli.read_responses()
    listed = re.findall(r"^### (\S+) \(variation (\d+)\)$", sheet, flags=re.M)
    expected = [(n, str(i)) for n, vs in responses.items() for i in range(len(vs))]
    assert sorted(listed) == sorted(expected)
    g = sections["G. Child protection enquiries, conferences and plans"]
    conference = g.split("### utter_process/conference (variation 0)")[1].split("### ")[0]
    assert "  - G5: " in conference and "Norfolk Safeguarding Children" in conference
    # G12's last sentence is [check]: the adviser sees it is never said.
    assert "this last sentence was taken from an earlier research note" in g
    assert "Points no text rests on: G3 ([check]), G10 ([check])" in g
    assert (
        "### utter_complaints/how_to"
        in sections["I. Working with children's services: reasons, records, complaints"]
    )
