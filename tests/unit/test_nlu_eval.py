"""The evaluation command's helpers (tools/nlu_eval.py), without loading a model.

Parse data here is built by hand in the shape Rasa 3.6 returns (intent, response_selector
with `default` or per-intent keys, and the FAQ guard's `faq_guard` record).
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from tools import corpus, long_posts
from tools import nlu_eval as ev


def parse(
    intent: str,
    ranking: Optional[List[tuple]] = None,
    key: str = "default",
    guard: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """Parse data: `ranking` is [(answer key, confidence), ...], best first."""
    data: Dict[str, Any] = {"intent": {"name": intent, "confidence": 0.9}}
    if ranking is not None:
        data["response_selector"] = {
            "all_retrieval_intents": list(ev.RETRIEVAL_INTENTS),
            key: {
                "response": {"intent_response_key": ranking[0][0], "confidence": ranking[0][1]},
                "ranking": [{"intent_response_key": k, "confidence": c} for k, c in ranking],
            },
        }
    if guard is not None:
        data["faq_guard"] = guard
    return data


PLAN = [("safety_plan/legal_status", 0.6), ("safety_plan/change", 0.3)]


# --- Decisions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, expected",
    [
        (parse("safety_plan", PLAN), "safety_plan/legal_status"),
        (parse("safety_plan", PLAN, key="safety_plan"), "safety_plan/legal_status"),
        # utter_fgc says whatever the selector ranked first, even from another topic.
        (parse("fgc", PLAN), "safety_plan/legal_status"),
        (parse("greet", PLAN), "greet"),
        (parse("nlu_fallback", PLAN), "nlu_fallback"),
        (parse("crisis_suicidal", PLAN), "crisis_suicidal"),
        (parse("about"), "about"),
        ({}, "nlu_fallback"),
    ],
)
def test_decision_is_the_intent_or_the_full_answer_key(data, expected) -> None:
    assert ev.decision(data) == expected


def test_faq_answers_and_crisis_labels() -> None:
    assert ev.is_faq_answer("about/bot") and ev.is_faq_answer("service/adviceline")
    assert not ev.is_faq_answer("nlu_fallback") and not ev.is_faq_answer("out_of_scope")
    assert not ev.is_faq_answer("choose_faq")
    assert ev.is_crisis("crisis_own_thoughts") and not ev.is_crisis("request_human")


def test_redecide_replays_the_guard_on_an_answer_it_let_through() -> None:
    data = parse("safety_plan", PLAN)  # best 0.6, margin 0.3
    assert ev.redecide(data, 0.5, 0.1) == "safety_plan/legal_status"
    assert ev.redecide(data, 0.7, 0.0) == "nlu_fallback"  # below the threshold
    assert ev.redecide(data, 0.0, 0.4) == "nlu_fallback"  # answers too close


def test_redecide_can_undo_a_fallback_the_guard_made() -> None:
    data = parse(
        "nlu_fallback",
        PLAN,
        guard={
            "reason": "low_confidence",
            "intent": "safety_plan",
            "candidates": [k for k, _ in PLAN],
        },
    )
    assert ev.redecide(data, 0.7, 0.1) == "nlu_fallback"
    assert ev.redecide(data, 0.5, 0.1) == "safety_plan/legal_status"


def test_redecide_leaves_decisions_the_guard_does_not_make() -> None:
    # A crisis override comes after the guard and wins whatever the thresholds.
    crisis = parse("crisis_suicidal", PLAN, guard={"intent": "safety_plan", "candidates": []})
    assert ev.redecide(crisis, 0.0, 0.0) == "crisis_suicidal"
    # A FallbackClassifier fallback happens before the guard: no thresholds undo it.
    assert ev.redecide(parse("nlu_fallback", PLAN), 0.0, 0.0) == "nlu_fallback"
    assert ev.redecide(parse("greet", PLAN), 0.9, 0.9) == "greet"


# --- Metrics ------------------------------------------------------------------------------

GOLD = ["a", "a", "b", "b", "c"]
PREDICTED = ["a", "b", "b", "b", "nlu_fallback"]


def test_macro_f1_on_a_small_example_worked_by_hand() -> None:
    # a: 1 right of 2 gold, predicted once        -> P 1,   R 1/2 -> F1 2/3
    # b: 2 right of 2 gold, predicted three times -> P 2/3, R 1   -> F1 4/5
    # c: never right                              -> F1 0
    # nlu_fallback is never gold, so not averaged: macro-F1 = (2/3 + 4/5 + 0) / 3 = 22/45
    assert ev.macro_f1(GOLD, PREDICTED) == pytest.approx(22 / 45)
    assert ev.accuracy(GOLD, PREDICTED) == pytest.approx(3 / 5)
    scores = ev.per_label(GOLD, PREDICTED)
    assert set(scores) == {"a", "b", "c"}
    assert scores["b"]["precision"] == pytest.approx(2 / 3)
    assert scores["a"]["recall"] == pytest.approx(1 / 2)
    assert scores["c"]["support"] == 1


def test_worst_confusions_most_frequent_first() -> None:
    gold = ["x", "x", "x", "y", "y", "z"]
    predicted = ["y", "y", "x", "x", "z", "x"]
    assert ev.worst_confusions(gold, predicted, n=2) == [("x", "y", 2), ("y", "x", 1)]
    assert ev.worst_confusions(["x"], ["x"]) == []


def test_topic_accuracy_by_file() -> None:
    examples = [
        ev.Example("fgc", "fgc/request", "t1"),
        ev.Example("fgc", "fgc/what_is", "t2"),
        ev.Example("chitchat", "greet", "t3"),
    ]
    topics = ev.topic_accuracy(examples, ["fgc/request", "nlu_fallback", "greet"])
    assert topics["fgc"] == {"correct": 1, "total": 2, "accuracy": 0.5}
    assert topics["chitchat"]["accuracy"] == 1.0


# --- CLINC -------------------------------------------------------------------------------


def test_small_talk_rows_are_excluded_and_the_rest_kept() -> None:
    rows = [
        ("hello there", "greeting"),
        ("are you a robot", "are_you_a_bot"),
        ("what can i ask", "what_can_i_ask_you"),
        ("book a flight", "book_flight"),
        ("yes", "yes"),
        ("something else entirely", "oos"),
    ]
    kept = ev.not_small_talk(rows)
    assert [intent for _, intent in kept] == ["book_flight", "yes", "oos"]


def test_misfire_summary_counts_faq_answers_alarms_and_clarifications() -> None:
    rows = [("r1", "book_flight"), ("r2", "oos"), ("r3", "timer"), ("r4", "pay_bill")]
    summary = ev.misfire_summary(
        rows, ["about/scope", "nlu_fallback", "crisis_suicidal", "out_of_scope"]
    )
    assert (
        summary["rows"],
        summary["misfires"],
        summary["false_alarms"],
        summary["clarifications"],
    ) == (4, 1, 1, 1)
    assert summary["misfire_share"] == pytest.approx(0.25)
    assert summary["misfired"] == [("r1", "book_flight", "about/scope")]


def test_a_missing_clinc_file_is_skipped_with_the_reason(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nowhere" / "clinc150-val.tsv"
    assert ev.read_clinc(missing) is None
    assert capsys.readouterr().out.strip() == f"skipping misfire measurement: {missing} not found"


def test_the_clinc_file_is_read_as_tsv(tmp_path: Path) -> None:
    path = tmp_path / "rows.tsv"
    path.write_text(
        'text\tclinc_intent\nset a timer for "ten" minutes\ttimer\nhi\tgreeting\n', encoding="utf-8"
    )
    assert ev.read_clinc(path) == [('set a timer for "ten" minutes', "timer"), ("hi", "greeting")]


# --- Held-out data ----------------------------------------------------------------------------


def test_held_out_reads_top_level_files_only(tmp_path: Path) -> None:
    (tmp_path / "fgc.yml").write_text(
        'version: "3.1"\nnlu:\n  - intent: fgc/request\n    examples: |\n'
        "      - how do i ask for one\n      - can [we](who) have an fgc\n",
        encoding="utf-8",
    )
    (tmp_path / "crisis").mkdir()
    (tmp_path / "crisis" / "crisis.yml").write_text(
        "version: 1\ncategories:\n  crisis_suicidal:\n    - a crisis message\n", encoding="utf-8"
    )
    examples = ev.load_held_out(tmp_path)
    assert examples == [
        ev.Example("fgc", "fgc/request", "how do i ask for one"),
        ev.Example("fgc", "fgc/request", "can we have an fgc"),
    ]


def test_the_real_held_out_set_has_faq_keys_and_plain_intents() -> None:
    examples = ev.load_held_out()
    labels = {e.label for e in examples}
    assert any(ev.is_faq_answer(label) for label in labels)
    assert "greet" in labels or "out_of_scope" in labels
    assert not any(ev.is_crisis(label) for label in labels), "crisis/ has its own test"


# --- Threshold sweep and the whole command with a stand-in parser ------------------------------


def test_sweep_trades_answers_for_fallbacks() -> None:
    examples = [ev.Example("safety_plan", "safety_plan/legal_status", "t")] * 2
    parses = [
        parse("safety_plan", PLAN),
        parse("safety_plan", [("safety_plan/legal_status", 0.95), ("x/y", 0.01)]),
    ]
    clinc = [parse("about", [("about/scope", 0.4), ("about/bot", 0.35)])]
    rows = ev.sweep(examples, parses, clinc, thresholds=(0.0, 0.7), margins=(0.0,))
    loose, strict = rows
    assert loose["accuracy"] == 1.0 and loose["clinc_misfires"] == 1
    assert strict["accuracy"] == 0.5 and strict["fallback_rate"] == 0.5
    assert strict["clinc_misfires"] == 0


def test_the_command_refuses_a_missing_model(tmp_path: Path, capsys) -> None:
    assert ev.main(["--model", str(tmp_path / "none.tar.gz"), "--out", str(tmp_path)]) == 1
    assert "no trained model" in capsys.readouterr().err


def _stand_in(text: str) -> Dict[str, Any]:
    """A fake model: 'plan' questions get a safety plan answer, anything else out_of_scope."""
    if "plan" in text:
        return parse("safety_plan", [("safety_plan/what_is", 0.9), ("safety_plan/change", 0.05)])
    return parse("out_of_scope")


def test_the_command_writes_its_outputs_and_keeps_clinc_texts_out_of_them(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")
    clinc = tmp_path / "clinc.tsv"
    clinc.write_text(
        "text\tclinc_intent\nplan my holiday route\ttravel_suggestion\n"
        "what time is it\ttime\nhello\tgreeting\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(ev, "NluParser", lambda model, quiet=False: _stand_in)
    out = tmp_path / "eval"
    assert (
        ev.main(["--model", str(model), "--clinc", str(clinc), "--out", str(out), "--thresholds"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "CLINC misfires: 1/2 = 50.0%" in printed
    assert "misfire [travel_suggestion] -> safety_plan/what_is: plan my holiday route" in printed
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["clinc"]["rows"] == 2 and results["clinc"]["misfires"] == 1
    assert results["held_out"]["total"] == len(ev.load_held_out())
    assert results["thresholds"]
    node = platform.node()
    assert len(node) < 4 or node not in json.dumps(results), "no host name in the results"
    for name in ("results.json", "report.md"):
        assert "holiday route" not in (out / name).read_text(encoding="utf-8")
    assert (out / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_command_skips_misfires_without_the_file(tmp_path: Path, monkeypatch, capsys) -> None:
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")
    monkeypatch.setattr(ev, "NluParser", lambda model, quiet=False: _stand_in)
    missing = tmp_path / "absent.tsv"
    assert (
        ev.main(["--model", str(model), "--clinc", str(missing), "--out", str(tmp_path / "eval")])
        == 0
    )
    printed = capsys.readouterr().out
    assert f"skipping misfire measurement: {missing} not found" in printed
    report = (tmp_path / "eval" / "report.md").read_text(encoding="utf-8")
    assert f"Skipped: {missing} not found" in report


# --- Long posts ----------------------------------------------------------------------------


def _post(expect: str, also: tuple = ()) -> ev.LongPost:
    return ev.LongPost(id="lp", text="a post", expect=expect, also=also, kind="iioc")


def _seen(kind: str, answer: str = "", options: tuple = ()) -> long_posts.Behaviour:
    return long_posts.Behaviour(kind, answer=answer or None, options=options)


@pytest.mark.parametrize(
    "expect, also, seen, outcome",
    [
        ("fgc/what_is", (), _seen("answer", "fgc/what_is"), "right"),
        ("fgc/what_is", ("fgc/request",), _seen("answer", "fgc/request"), "right"),
        ("fgc/what_is", (), _seen("answer", "fgc/request"), "wrong"),
        # A false crisis route, a clarification or a hand-off is not a wrong answer.
        ("fgc/what_is", (), _seen("crisis", "crisis_suicidal"), "other"),
        ("fgc/what_is", (), _seen("options", options=("fgc/what_is", "fgc/request")), "other"),
        ("fgc/what_is", (), _seen("handoff"), "other"),
        ("handoff", (), _seen("handoff"), "right"),
        ("handoff", (), _seen("rephrase"), "other"),
        ("handoff", (), _seen("answer", "safety_plan/change"), "wrong"),
        ("crisis_suicidal", (), _seen("crisis", "crisis_suicidal"), "right"),
        ("crisis_suicidal", (), _seen("crisis", "checkin_suicidal"), "right"),
        ("crisis_suicidal", (), _seen("handoff"), "wrong"),
        ("crisis_suicidal", (), _seen("answer", "fgc/what_is"), "wrong"),
    ],
)
def test_long_post_outcomes(expect, also, seen, outcome) -> None:
    assert ev.long_post_outcome(_post(expect, also), seen) == outcome


def test_a_check_in_is_the_crisis_route() -> None:
    parse = {"intent": {"name": "checkin_own_thoughts", "confidence": 1.0}}
    assert long_posts.behaviour(parse, []) == _seen("crisis", "checkin_own_thoughts")


def test_long_post_summary_counts_and_shares() -> None:
    posts = [_post("fgc/what_is"), _post("handoff"), _post("handoff"), _post("process/core_group")]
    summary = ev.long_post_summary(
        posts,
        [
            _seen("answer", "fgc/what_is"),
            _seen("handoff"),
            _seen("answer", "fgc/request"),
            _seen("rephrase"),
        ],
    )
    assert (summary["right"], summary["wrong"], summary["other"]) == (2, 1, 1)
    assert summary["right_share"] == 0.5 and summary["wrong_share"] == 0.25
    assert summary["wrong_posts"] == [{"id": "lp", "expect": "handoff", "decision": "fgc/request"}]


def test_both_splits_have_long_posts_with_known_expectations() -> None:
    for folder in (corpus.HELD_OUT, corpus.FINAL):
        posts = corpus.long_posts(folder)
        assert len(posts) >= 50, folder
        assert all(p.text and p.expect for p in posts)
        assert all(
            p.expect == ev.HANDOFF or ev.is_crisis(p.expect) or ev.is_faq_answer(p.expect)
            for p in posts
        ), folder


# --- Floors ----------------------------------------------------------------------------------


def test_the_floors_file_lists_every_gated_figure() -> None:
    floors = ev.read_floors()
    assert set(floors["minimum"]) | set(floors["maximum"]) == set(ev.GATED)
    assert all(0.0 <= v <= 1.0 for side in floors.values() for v in side.values())


@pytest.mark.parametrize(
    "text",
    [
        "minimum: {held_out_accuracy: 0.8}\nmaximum: {}\n",  # figures missing
        "minimum: {held_out_acuracy: 0.8, held_out_macro_f1: 0.8, long_posts_right_share: 0.5}\n"
        "maximum: {long_posts_wrong_share: 0.1, clinc_misfire_share: 0.02}\n",  # a typo
        "minimum: {held_out_accuracy: 0.8, held_out_macro_f1: 0.8, long_posts_right_share: 0.5,"
        " long_posts_wrong_share: 0.1}\nmaximum: {clinc_misfire_share: 0.02}\n",  # wrong side
    ],
)
def test_a_floors_file_that_would_unguard_a_figure_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "floors.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="must list exactly"):
        ev.read_floors(path)


def test_below_floors_names_each_figure_on_the_wrong_side() -> None:
    floors = {
        "minimum": {"held_out_accuracy": 0.8, "held_out_macro_f1": 0.85},
        "maximum": {"clinc_misfire_share": 0.02},
    }
    assert (
        ev.below_floors(
            {"held_out_accuracy": 0.8, "held_out_macro_f1": 0.9, "clinc_misfire_share": 0.02},
            floors,
        )
        == []
    )
    failed = ev.below_floors(
        {"held_out_accuracy": 0.79, "held_out_macro_f1": 0.9, "clinc_misfire_share": 0.03}, floors
    )
    assert failed == [
        "held_out_accuracy 0.7900 < minimum 0.8",
        "clinc_misfire_share 0.0300 > maximum 0.02",
    ]
    # Not measured (no CLINC file): not judged here.
    assert ev.below_floors({"held_out_accuracy": 0.9, "held_out_macro_f1": 0.9}, floors) == []


# --- The final split is measured apart and never tuned on ------------------------------------


def _final_texts() -> set:
    return {e.text for e in ev.load_held_out(corpus.FINAL)} | {
        p.text for p in corpus.long_posts(corpus.FINAL)
    }


def test_the_final_split_is_distinct_from_the_development_split() -> None:
    final = _final_texts()
    assert len(final) >= 500
    development = {e.text for e in ev.load_held_out()} | {p.text for p in corpus.long_posts()}
    assert not final & development


def test_the_threshold_sweeps_never_read_the_final_split(tmp_path: Path, monkeypatch) -> None:
    """With --thresholds no final-split text reaches the parser, and the sweeps see the
    development split only."""
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")
    parsed: List[str] = []

    def recording(text: str) -> Dict[str, Any]:
        parsed.append(text)
        return _stand_in(text)

    swept: List[str] = []
    real_sweep, real_full = ev.sweep, ev.full_sweep

    def sweep(examples, *args, **kwargs):
        swept.extend(e.text for e in examples)
        return real_sweep(examples, *args, **kwargs)

    def full_sweep(examples, *args, **kwargs):
        swept.extend(e.text for e in examples)
        return real_full(examples, *args, **kwargs)

    monkeypatch.setattr(ev, "NluParser", lambda model, quiet=False: recording)
    monkeypatch.setattr(ev, "sweep", sweep)
    monkeypatch.setattr(ev, "full_sweep", full_sweep)
    absent = tmp_path / "absent.tsv"  # no CLINC rows: only `sweep` runs, which is quicker
    args = ["--model", str(model), "--clinc", str(absent), "--out", str(tmp_path / "e")]
    assert ev.main([*args, "--thresholds"]) == 0
    final = _final_texts()
    assert swept and parsed
    assert not final & set(parsed), "the final split was parsed during a threshold sweep"
    assert not final & set(swept), "a threshold sweep was given the final split"
    results = json.loads((tmp_path / "e" / "results.json").read_text(encoding="utf-8"))
    assert "final" not in results

    # Without --thresholds it is measured, and reported apart from the development split.
    parsed.clear()
    assert ev.main(args) == 0
    assert final <= set(parsed)
    results = json.loads((tmp_path / "e" / "results.json").read_text(encoding="utf-8"))
    assert results["final"]["held_out"]["total"] == len(ev.load_held_out(corpus.FINAL))
    assert results["final"]["long_posts"]["total"] == len(corpus.long_posts(corpus.FINAL))
    assert results["held_out"]["total"] == len(ev.load_held_out())


def test_no_other_tool_names_the_final_split() -> None:
    """Only the reader (tools/corpus.py) and the reports (tools/nlu_eval.py; the crisis
    halves, tools/crisis_eval.py; the long posts' --final, tools/long_posts.py) name it: a
    threshold or data tool that reads tests/nlu_final fails here."""
    allowed = {
        "tools/corpus.py",
        "tools/nlu_eval.py",
        "tools/crisis_eval.py",
        "tools/long_posts.py",
    }
    root = ev.PROJECT_ROOT
    sources = [
        *root.glob("tools/**/*.py"),
        *root.glob("bot/**/*.py"),
        *root.glob("scripts/*"),
        *root.glob("actions/**/*.py"),
        root / "Makefile",
    ]
    naming = sorted(
        str(path.relative_to(root))
        for path in sources
        if path.is_file()
        and str(path.relative_to(root)) not in allowed
        and (
            "nlu_final" in path.read_text(encoding="utf-8", errors="replace")
            or "corpus.FINAL" in path.read_text(encoding="utf-8", errors="replace")
        )
    )
    assert naming == []
    # In tools/nlu_eval.py, the final split is read only where --thresholds is off.
    source = (root / "tools" / "nlu_eval.py").read_text(encoding="utf-8")
    reads = [line.strip() for line in source.splitlines() if "corpus.FINAL" in line]
    assert reads == ["final = (load_held_out(corpus.FINAL), corpus.long_posts(corpus.FINAL))"], (
        reads
    )
