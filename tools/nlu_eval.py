"""NLU evaluation (a measurement, not a test): `python -m tools.nlu_eval`, what `make eval` runs.

1. Held-out set: every tests/nlu/*.yml file (never trained on), read by tools/corpus.py;
   the crisis set in tests/nlu/crisis is left out (it has its own test and targets).
   Each message goes through the trained model's full NLU pipeline, project components
   included (the FAQ guard, the contact detector, the safeguarding override).
   The assistant's decision is the final intent, or for a FAQ (retrieval) intent the
   answer the response selector picked ("safety_plan/legal_status"); nlu_fallback is a
   decision of its own (a safe non-answer, but not the right one). Reported: accuracy,
   macro-F1 over the gold labels, per-label precision/recall/F1, per-file (topic)
   accuracy, how many became nlu_fallback, the 10 most frequent confusions and a
   confusion-matrix image.
2. Misfires: the rows of ../shared/eval-data/clinc150-val.tsv (everyday requests from
   150 unrelated domains; --clinc PATH to use another copy) whose CLINC intent is not
   small talk. A misfire is a FAQ answer (assessment/, safety_plan/, fgc/, service/,
   about/) to such a request. Crisis decisions (false alarms) and clarifications
   (nlu_fallback, not a misfire) are counted separately. Skipped, with the reason
   printed, when the file is absent. CLINC texts are printed only, never written to files.
3. Long posts, gated (tests/nlu/long_posts.yml): whole forum posts, each right (the
   expected FAQ answer, or a hand-off to a person where nothing approved fits, or the
   expected crisis route), wrong (another FAQ answer, a crisis route where none fits, or a
   missed crisis) or neither (a clarification, or a hand-off where an answer was right).
4. Long posts, as the assistant behaves (tools/long_posts.py; --final for the final
   split's posts): right, wrong answer, irrelevant clarification, crisis missed, and the
   rest; ids of the posts not right, never their text.
5. Crisis, per half (tools/crisis_eval.py): recall (crisis answer or check-in, in
   category) and safe-set precision on the tune half (tests/nlu/crisis) and on the
   unforeseen half (tests/nlu_final/crisis) separately. Counts only for the unforeseen
   half: its texts are never printed.
6. Final split (tests/nlu_final): the same held-out and long-post measures, reported on
   their own. Nothing is tuned on it: with --thresholds it is not read at all, and no
   other tool reads it (tests/unit/test_nlu_eval.py).
7. Floors: the figures of 1-3 against tests/nlu/floors.yml, which the accuracy gate in
   `make test` (tests/model/test_accuracy_gate.py) asserts.
8. --thresholds: replays the FAQ guard (bot/nlu/faq_guard.py) over the same parses for a
   grid of response_threshold x response_margin, so thresholds are picked from data.

Output: a summary on stdout, and build/eval/results.json, report.md and confusion.png.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import yaml

from bot.intents import CRISIS_PREFIX, FALLBACK, GIVE_CONTACT, RETRIEVAL_INTENTS
from bot.paths import BUILD_DIR, CONFIG, CURRENT_MODEL, DOMAIN, PROJECT_ROOT
from tools import corpus, crisis_eval, long_posts
from tools.corpus import Example, LongPost
from tools.machine import machine
from tools.nlu_parser import NluParser, Parse

CLINC = PROJECT_ROOT.parent / "shared" / "eval-data" / "clinc150-val.tsv"
CLINC_SHOWN = "../shared/eval-data/clinc150-val.tsv"
OUT_DIR = BUILD_DIR / "eval"
FLOORS = corpus.HELD_OUT / "floors.yml"

# A long post whose right answer is "handoff": the decisions that hand it to a person.
HANDOFF = long_posts.HANDOFF

# CLINC150's own "small_talk" domain (Larson et al. 2019, domains.json): requests where a
# friendly or "about me" reply is right, so any answer of ours, about/bot included, may be
# fine. Everything else, the "meta" domain's yes/no/maybe included, should never get a
# FAQ answer, so it stays in the measurement.
SMALL_TALK = frozenset(
    {
        "greeting",
        "goodbye",
        "thank_you",
        "are_you_a_bot",
        "what_can_i_ask_you",
        "who_made_you",
        "who_do_you_work_for",
        "what_is_your_name",
        "how_old_are_you",
        "where_are_you_from",
        "what_are_your_hobbies",
        "do_you_have_pets",
        "tell_joke",
        "fun_fact",
        "meaning_of_life",
    }
)

# The targets.
TARGET_MACRO_F1 = 0.95
TARGET_MISFIRE_SHARE = 0.01
# Long posts (issue 11): shares of the set.
TARGET_LONG_RIGHT = 0.85
TARGET_LONG_WRONG = 0.02

# The grid --thresholds replays (FaqGuard's response_threshold x response_margin).
THRESHOLD_GRID = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
MARGIN_GRID = (0.0, 0.05, 0.1, 0.2, 0.3)


# --- Decisions ----------------------------------------------------------------------------


def decision(parse: Parse) -> str:
    """What the assistant decided: the final intent, or a FAQ intent's full answer key.

    For a retrieval intent Rasa's utter_<intent> says whatever answer the selector ranked
    first, so that key is the decision even when its topic differs from the intent.
    """
    intent = (parse.get("intent") or {}).get("name") or FALLBACK
    if intent in RETRIEVAL_INTENTS:
        return long_posts.selected_answer(parse, intent) or intent
    return intent


def is_faq_answer(label: str) -> bool:
    """True for a topical answer: 'safety_plan/legal_status', 'about/bot', ..."""
    return "/" in label and label.split("/", 1)[0] in RETRIEVAL_INTENTS


def is_crisis(label: str) -> bool:
    return label.startswith(CRISIS_PREFIX)


def redecide(
    parse: Parse,
    response_threshold: float,
    response_margin: float,
    topic_thresholds: Optional[Dict[str, float]] = None,
) -> str:
    """The decision had the FAQ guard run with these thresholds instead of config.yml's.

    Only a final FAQ intent (the guard let it through) or an nlu_fallback the guard made
    (its `faq_guard` record keeps the original intent) depends on the guard; later
    components (contact detector, safeguarding override) win whatever the guard did, and
    a FallbackClassifier fallback happens before it.
    """
    from bot.nlu.faq_guard import GUARD_KEY, judge

    final = (parse.get("intent") or {}).get("name") or FALLBACK
    guard = parse.get(GUARD_KEY) or {}
    if final in RETRIEVAL_INTENTS:
        original = final
    elif final == FALLBACK and guard.get("intent") in RETRIEVAL_INTENTS:
        original = guard["intent"]
    else:
        return decision(parse)
    confidence = (parse.get("intent") or {}).get("confidence", 1.0)
    raw = dict(parse, intent={"name": original, "confidence": confidence})
    if judge(raw, response_threshold, response_margin, topic_thresholds) is not None:
        return FALLBACK
    return long_posts.selected_answer(parse, original) or original


def replay(
    parse: Parse,
    fallback_threshold: float,
    ambiguity: float,
    response_threshold: float,
    response_margin: float,
    topic_thresholds: Optional[Dict[str, float]] = None,
) -> str:
    """The decision had the FallbackClassifier and the FAQ guard used these thresholds.

    Rasa keeps the classifier's ranking under nlu_fallback, so the raw intent is recovered
    from it. Decisions made after both (a crisis override, a contact message) stand; a
    fallback the safeguarding component made from an uncued crisis intent stands too.
    """
    from bot.nlu.faq_guard import judge

    final = (parse.get("intent") or {}).get("name") or FALLBACK
    ranking = [i for i in parse.get("intent_ranking") or [] if i.get("name") != FALLBACK]
    if is_crisis(final) or final == GIVE_CONTACT or not ranking:
        return decision(parse)
    top = ranking[0]
    if is_crisis(top.get("name", "")):
        return decision(parse)
    second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
    if top["confidence"] < fallback_threshold or top["confidence"] - second < ambiguity:
        return FALLBACK
    if top["name"] in RETRIEVAL_INTENTS:
        raw = dict(parse, intent={"name": top["name"], "confidence": top["confidence"]})
        if judge(raw, response_threshold, response_margin, topic_thresholds) is not None:
            return FALLBACK
        return long_posts.selected_answer(parse, top["name"]) or top["name"]
    return top["name"]


FULL_GRID = {
    "fallback_threshold": (0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
    "ambiguity": (0.0, 0.05, 0.1, 0.2),
    "response_threshold": (0.0, 0.2, 0.3, 0.4, 0.5, 0.6),
    "response_margin": (0.0, 0.1),
}


def full_sweep(
    held_out: Sequence[Example],
    held_parses: Sequence[Parse],
    clinc_parses: Sequence[Parse],
    topics: Optional[Dict[str, float]] = None,
) -> List[Dict[str, Any]]:
    """Every combination of FULL_GRID: held-out macro-F1 and CLINC misfires, best first
    among those within the misfire target, then the rest."""
    import itertools

    gold = [e.label for e in held_out]
    rows = []
    for values in itertools.product(*FULL_GRID.values()):
        params = dict(zip(FULL_GRID, values))
        predicted = [replay(p, **params, topic_thresholds=topics) for p in held_parses]
        decided = [replay(p, **params, topic_thresholds=topics) for p in clinc_parses]
        misfires = sum(is_faq_answer(d) for d in decided)
        rows.append(
            {
                **params,
                "accuracy": accuracy(gold, predicted),
                "macro_f1": macro_f1(gold, predicted),
                "fallback_rate": sum(p == FALLBACK for p in predicted) / len(predicted),
                "clinc_misfires": misfires,
                "clinc_misfire_share": misfires / len(decided) if decided else 0.0,
            }
        )
    rows.sort(key=lambda r: (r["clinc_misfire_share"] > TARGET_MISFIRE_SHARE, -r["macro_f1"]))
    return rows


# --- Metrics ------------------------------------------------------------------------------


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    return sum(g == p for g, p in zip(gold, predicted)) / len(gold) if gold else 0.0


def per_label(gold: Sequence[str], predicted: Sequence[str]) -> Dict[str, Dict[str, float]]:
    """Precision, recall, F1 and support for each gold label (0 when undefined)."""
    from sklearn.metrics import precision_recall_fscore_support

    labels = sorted(set(gold))
    precision, recall, f1, support = precision_recall_fscore_support(
        list(gold), list(predicted), labels=labels, zero_division=0
    )
    return {
        label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for label, p, r, f, s in zip(labels, precision, recall, f1, support)
    }


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Mean F1 over the gold labels: a label predicted but never gold lowers precision
    only (of the labels it was wrongly given for), it is not averaged in itself."""
    scores = per_label(gold, predicted)
    return sum(s["f1"] for s in scores.values()) / len(scores) if scores else 0.0


def worst_confusions(
    gold: Sequence[str], predicted: Sequence[str], n: int = 10
) -> List[Tuple[str, str, int]]:
    """The n most frequent (gold, predicted) mistakes, most frequent first, then by name."""
    counts = Counter((g, p) for g, p in zip(gold, predicted) if g != p)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [(g, p, c) for (g, p), c in ranked[:n]]


def topic_accuracy(examples: Sequence[Example], predicted: Sequence[str]) -> Dict[str, Dict]:
    """Accuracy per held-out file (assessment, chitchat, out_of_scope, ...)."""
    totals: Dict[str, List[int]] = defaultdict(lambda: [0, 0])
    for example, label in zip(examples, predicted):
        totals[example.topic][0] += example.label == label
        totals[example.topic][1] += 1
    return {
        topic: {"correct": c, "total": t, "accuracy": c / t}
        for topic, (c, t) in sorted(totals.items())
    }


# The gate's "wrong" for a long post: an answer that does not answer it, or a crisis missed.
GATE_WRONG = frozenset({"wrong_answer", "crisis_missed"})


def long_post_outcome(post: LongPost, seen: long_posts.Behaviour) -> str:
    """ "right", "wrong" or "other" (neither) for what the assistant did with one post,
    judged as tools/long_posts.py judges it (the same figures `make eval` reports): right
    is the expected answer (or one of `also`), a hand-off where `expect` is handoff, or a
    crisis route (answer or check-in) where a crisis was expected; wrong is an answer that
    does not answer the post, or a crisis missed; other is anything else (a clarification,
    a hand-off where an answer existed, a false crisis route)."""
    judged = long_posts.outcome(
        long_posts.Post(post.id, post.text, post.expect, tuple(post.also), post.kind), seen
    )
    if judged == "right":
        return "right"
    return "wrong" if judged in GATE_WRONG else "other"


def long_post_summary(
    posts: Sequence[LongPost], seen: Sequence[long_posts.Behaviour]
) -> Dict[str, Any]:
    """Counts and shares of right, wrong and other, and each wrong post's id and what the
    assistant did."""
    outcomes = [long_post_outcome(p, s) for p, s in zip(posts, seen)]
    total = len(posts)
    counts = Counter(outcomes)
    return {
        "total": total,
        **{name: counts[name] for name in ("right", "wrong", "other")},
        "right_share": counts["right"] / total if total else 0.0,
        "wrong_share": counts["wrong"] / total if total else 0.0,
        "wrong_posts": [
            {"id": p.id, "expect": p.expect, "decision": s.answer or s.kind}
            for p, s, o in zip(posts, seen, outcomes)
            if o == "wrong"
        ],
    }


# --- Floors (the accuracy gate) ---------------------------------------------------------------

# Each figure the gate checks, and whether its floor is a minimum or a maximum.
GATED = {
    "held_out_accuracy": "minimum",
    "held_out_macro_f1": "minimum",
    "long_posts_right_share": "minimum",
    "long_posts_wrong_share": "maximum",
    "clinc_misfire_share": "maximum",
}


def read_floors(path: Path = FLOORS) -> Dict[str, Dict[str, float]]:
    """tests/nlu/floors.yml: {"minimum": {figure: value}, "maximum": {...}}, every
    figure of GATED in its right section and nothing else (so a typo cannot unguard one)."""
    content = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    floors: Dict[str, Dict[str, float]] = {}
    for side in ("minimum", "maximum"):
        section = content.get(side) or {}
        expected = {name for name, kind in GATED.items() if kind == side}
        if set(section) != expected:
            raise ValueError(
                f"{path}: `{side}` must list exactly {sorted(expected)}, has {sorted(section)}"
            )
        floors[side] = {name: float(value) for name, value in section.items()}
    return floors


def gate_figures(
    held: Dict[str, Any], posts: Dict[str, Any], clinc: Optional[Dict[str, Any]]
) -> Dict[str, float]:
    """The gated figures from the held-out, long-post and misfire results (no CLINC
    figure when the CLINC file is absent)."""
    figures = {
        "held_out_accuracy": held["accuracy"],
        "held_out_macro_f1": held["macro_f1"],
        "long_posts_right_share": posts["right_share"],
        "long_posts_wrong_share": posts["wrong_share"],
    }
    if clinc is not None:
        figures["clinc_misfire_share"] = clinc["misfire_share"]
    return figures


def below_floors(figures: Dict[str, float], floors: Dict[str, Dict[str, float]]) -> List[str]:
    """One line per figure on the wrong side of its floor (a figure not measured is
    skipped here; the caller says why it is missing)."""
    failed = []
    for name, floor in floors["minimum"].items():
        if name in figures and figures[name] < floor:
            failed.append(f"{name} {figures[name]:.4f} < minimum {floor}")
    for name, ceiling in floors["maximum"].items():
        if name in figures and figures[name] > ceiling:
            failed.append(f"{name} {figures[name]:.4f} > maximum {ceiling}")
    return failed


# --- Data ---------------------------------------------------------------------------------


def load_held_out(folder: Path = corpus.HELD_OUT) -> List[Example]:
    """The held-out messages make eval measures: tests/nlu/*.yml, the crisis set left out."""
    return corpus.held_out(crisis=False, folder=folder)


def read_clinc(path: Path, shown: Optional[str] = None) -> Optional[List[Tuple[str, str]]]:
    """(text, clinc intent) rows of the TSV, or None, with the reason printed, when absent."""
    path = Path(path)
    if not path.is_file():
        print(f"skipping misfire measurement: {shown or path} not found")
        return None
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        if not reader.fieldnames or not {"text", "clinc_intent"} <= set(reader.fieldnames):
            print(
                f"skipping misfire measurement: {shown or path} has no text and "
                "clinc_intent columns"
            )
            return None
        return [(row["text"], row["clinc_intent"]) for row in reader if row.get("text")]


def not_small_talk(rows: Iterable[Tuple[str, str]]) -> List[Tuple[str, str]]:
    """The rows where no FAQ answer can be right (small-talk intents removed)."""
    return [(text, intent) for text, intent in rows if intent not in SMALL_TALK]


def misfire_summary(rows: Sequence[Tuple[str, str]], decisions: Sequence[str]) -> Dict[str, Any]:
    """Counts over non-small-talk rows: misfires (FAQ answers), false crisis alarms,
    clarifications (nlu_fallback), and every decision's count."""
    misfired = [
        (text, intent, label)
        for (text, intent), label in zip(rows, decisions)
        if is_faq_answer(label)
    ]
    total = len(rows)
    return {
        "rows": total,
        "misfires": len(misfired),
        "misfire_share": len(misfired) / total if total else 0.0,
        # For information only: answers about the subject (A-E), leaving out answers
        # about the assistant itself (about/...). The target uses the strict count above.
        "subject_misfires": sum(not label.startswith("about/") for _, _, label in misfired),
        "false_alarms": sum(is_crisis(label) for label in decisions),
        "clarifications": sum(label == FALLBACK for label in decisions),
        "decisions": dict(Counter(decisions).most_common()),
        "misfired": misfired,
    }


# --- The FAQ guard sweep --------------------------------------------------------------------


def sweep(
    held_out: Sequence[Example],
    held_parses: Sequence[Parse],
    clinc_parses: Optional[Sequence[Parse]],
    thresholds: Sequence[float] = THRESHOLD_GRID,
    margins: Sequence[float] = MARGIN_GRID,
    topics: Optional[Dict[str, float]] = None,
) -> List[Dict[str, Any]]:
    """Held-out accuracy, fallback rate, wrong FAQ answers and CLINC misfires per pair
    (a topic's own threshold from config.yml, `topics`, stays as configured)."""
    gold = [e.label for e in held_out]
    rows = []
    for threshold in thresholds:
        for margin in margins:
            predicted = [redecide(p, threshold, margin, topics) for p in held_parses]
            row: Dict[str, Any] = {
                "response_threshold": threshold,
                "response_margin": margin,
                "accuracy": accuracy(gold, predicted),
                "macro_f1": macro_f1(gold, predicted),
                "fallback_rate": sum(p == FALLBACK for p in predicted) / len(predicted)
                if predicted
                else 0.0,
                "wrong_answers": sum(is_faq_answer(p) and p != g for g, p in zip(gold, predicted)),
            }
            if clinc_parses is not None:
                decided = [redecide(p, threshold, margin, topics) for p in clinc_parses]
                row["clinc_misfires"] = sum(is_faq_answer(d) for d in decided)
                row["clinc_misfire_share"] = (
                    row["clinc_misfires"] / len(decided) if decided else 0.0
                )
            rows.append(row)
    return rows


def guard_config(path: Path = CONFIG) -> Dict[str, float]:
    """The FaqGuard thresholds config.yml sets now (for marking them in the sweep)."""
    config = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    for component in config.get("pipeline") or []:
        if str(component.get("name", "")).endswith("FaqGuard"):
            return {
                "response_threshold": float(component.get("response_threshold", 0.5)),
                "response_margin": float(component.get("response_margin", 0.1)),
            }
    return {}


def guard_topic_thresholds(path: Path = CONFIG) -> Dict[str, float]:
    """The FaqGuard's own thresholds for some topics in config.yml ({"about": 0.7})."""
    config = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    for component in config.get("pipeline") or []:
        if str(component.get("name", "")).endswith("FaqGuard"):
            return {
                str(topic): float(value)
                for topic, value in (component.get("topic_thresholds") or {}).items()
            }
    return {}


# --- Output --------------------------------------------------------------------------------


def confusion_png(gold: Sequence[str], predicted: Sequence[str], path: Path) -> None:
    """Counts of gold (rows) against decision (columns), labels grouped by topic."""
    import logging

    # Its style files trip pyparsing deprecation notices that say nothing about the results.
    logging.getLogger("matplotlib").setLevel(logging.ERROR)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    labels = sorted(set(gold) | set(predicted))
    matrix = confusion_matrix(list(gold), list(predicted), labels=labels)
    size = max(6.0, 0.28 * len(labels) + 3)
    figure, axes = plt.subplots(figsize=(size, size))
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(labels)))
    axes.set_yticks(range(len(labels)))
    axes.set_xticklabels(labels, rotation=90, fontsize=7)
    axes.set_yticklabels(labels, fontsize=7)
    axes.set_xlabel("decision")
    axes.set_ylabel("gold label")
    top = matrix.max() or 1
    for row in range(len(labels)):
        for column in range(len(labels)):
            if matrix[row, column]:
                axes.text(
                    column,
                    row,
                    str(matrix[row, column]),
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if matrix[row, column] > top / 2 else "black",
                )
    axes.set_title(f"Held-out confusion matrix ({len(gold)} messages)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _pct(value: float) -> str:
    return f"{value:.1%}"


def _posts_line(posts: Dict[str, Any]) -> str:
    return (
        f"{posts['total']} posts: right {posts['right']} ({_pct(posts['right_share'])}), "
        f"wrong {posts['wrong']} ({_pct(posts['wrong_share'])}), neither {posts['other']}"
    )


def summary_lines(results: Dict[str, Any]) -> List[str]:
    """Long posts, the final split and the floors, one line each (stdout and report)."""
    lines = []
    if "long_posts" in results:
        lines.append(f"long posts (tests/nlu/long_posts.yml): {_posts_line(results['long_posts'])}")
    final = results.get("final")
    if final is not None:
        held = final["held_out"]
        lines.append(
            f"FINAL split (tests/nlu_final, never tuned on): {held['total']} messages, "
            f"accuracy {_pct(held['accuracy'])}, macro-F1 {held['macro_f1']:.3f}, "
            f"nlu_fallback {held['fallbacks']}"
        )
        if "long_posts" in final:
            lines.append(f"FINAL long posts: {_posts_line(final['long_posts'])}")
    elif "thresholds" in results:
        lines.append("final split: not read (--thresholds)")
    gate = results.get("floors")
    if gate is not None:
        shown = ", ".join(f"{k} {v:.4f}" for k, v in gate["figures"].items())
        verdict = "; ".join(gate["failed"]) if gate["failed"] else "all met"
        lines.append(f"floors (tests/nlu/floors.yml): {verdict}; measured {shown}")
    return lines


def report_markdown(results: Dict[str, Any]) -> str:
    """The results as Markdown, headed with the date, the machine and the model."""
    held = results["held_out"]
    m = results["machine"]
    lines = [
        "# NLU evaluation",
        "",
        f"{results['date']}; model {results['model']}; {m['cpus']} CPUs ({m['cpu']}), "
        f"{m['ram_gb']} GB RAM, Python {m['python']}; {results['runtime_s']:.0f} s. "
        "Command: `python -m tools.nlu_eval` (`make eval`).",
        "",
        "## Held-out set (tests/nlu/*.yml)",
        "",
        f"- messages: {held['total']}",
        f"- accuracy: {_pct(held['accuracy'])}",
        f"- macro-F1: {held['macro_f1']:.3f} (target >= {TARGET_MACRO_F1})",
        f"- became nlu_fallback: {held['fallbacks']}",
        "",
        "| file | correct | total | accuracy |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {t} | {v['correct']} | {v['total']} | {_pct(v['accuracy'])} |"
        for t, v in held["topics"].items()
    ]
    lines += [
        "",
        "### Most frequent confusions",
        "",
        "| gold | decision | count |",
        "|---|---|---:|",
    ]
    lines += [f"| {g} | {p} | {c} |" for g, p, c in held["worst_confusions"]]
    lines += [
        "",
        "### Per label",
        "",
        "| label | precision | recall | F1 | support |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {label} | {s['precision']:.2f} | {s['recall']:.2f} | {s['f1']:.2f} | {s['support']} |"
        for label, s in held["per_label"].items()
    ]
    lines += ["", "## Long posts, final split and floors", ""]
    lines += [f"- {line}" for line in summary_lines(results)]
    lines += ["", "![confusion matrix](confusion.png)", "", "## Misfires (CLINC150 validation)", ""]
    clinc = results.get("clinc")
    if clinc is None:
        lines += [f"Skipped: {results['clinc_skipped']}"]
    else:
        lines += [
            f"- rows (small talk excluded): {clinc['rows']}",
            f"- misfires (a FAQ answer): {clinc['misfires']} = {_pct(clinc['misfire_share'])} "
            f"(target <= {_pct(TARGET_MISFIRE_SHARE)})",
            f"- crisis false alarms: {clinc['false_alarms']}",
            f"- clarifications (nlu_fallback, not a misfire): {clinc['clarifications']}",
            "",
            "| decision | count |",
            "|---|---:|",
        ]
        lines += [f"| {label} | {n} |" for label, n in clinc["decisions"].items()]
    lines += ["", *_long_post_lines(results.get("post_outcomes"))]
    crisis = results.get("crisis") or {}
    if crisis:
        lines += ["", "## Crisis recall and safe-set precision, per half", ""]
        lines += [line for half in crisis.values() for line in half["lines"]]
    sweep_rows = results.get("thresholds")
    if sweep_rows:
        lines += [
            "",
            "## FAQ guard thresholds (replayed)",
            "",
            _sweep_table(sweep_rows, results["guard"]),
        ]
    return "\n".join(lines) + "\n"


def _long_post_lines(posts: Optional[Dict[str, Any]]) -> List[str]:
    """The long-post section of the report (also printed on stdout)."""
    if not posts:
        return ["## Long posts", "", "Skipped: no long-post set found."]
    counts, shares = posts["counts"], posts["shares"]
    right_ok = "meets" if shares["right"] >= TARGET_LONG_RIGHT else "BELOW"
    wrong_ok = "meets" if shares["wrong_answer"] <= TARGET_LONG_WRONG else "ABOVE"
    lines = [
        f"## Long posts ({posts['set']})",
        "",
        f"- posts: {posts['total']}",
        f"- right: {counts['right']} = {_pct(shares['right'])} "
        f"({right_ok} target >= {_pct(TARGET_LONG_RIGHT)})",
        f"- wrong answer: {counts['wrong_answer']} = {_pct(shares['wrong_answer'])} "
        f"({wrong_ok} target <= {_pct(TARGET_LONG_WRONG)})",
        f"- irrelevant clarification: {counts['irrelevant_clarification']} (target 0)",
        f"- crisis missed: {counts['crisis_missed']} (target 0)",
        f"- other outcomes: clarification with the right option {counts['clarification']}, "
        f"asked to rephrase {counts['rephrase']}, handoff where an answer fits "
        f"{counts['missed_answer']}, false crisis {counts['false_crisis']}, "
        f"other {counts['other']}",
        "",
        "| kind | " + " | ".join(long_posts.OUTCOMES) + " |",
        "|---|" + "---:|" * len(long_posts.OUTCOMES),
    ]
    for kind, kind_counts in posts["by_kind"].items():
        cells = " | ".join(str(kind_counts.get(name, 0)) for name in long_posts.OUTCOMES)
        lines.append(f"| {kind} | {cells} |")
    lines += ["", "Not right (id: expected -> what happened):", ""]
    for row in posts["not_right"]:
        seen = row["seen"] + (f" {row['options']}" if row["options"] else "")
        lines.append(f"- {row['id']}: {row['expect']} -> {row['outcome']} ({seen})")
    return lines


def _sweep_table(rows: Sequence[Dict[str, Any]], current: Dict[str, float]) -> str:
    header = (
        "| threshold | margin | accuracy | macro-F1 | fallback | wrong answers "
        "| CLINC misfires |\n|---:|---:|---:|---:|---:|---:|---:|"
    )
    body = []
    for row in rows:
        mark = (
            " (now)"
            if current
            and row["response_threshold"] == current.get("response_threshold")
            and row["response_margin"] == current.get("response_margin")
            else ""
        )
        misfires = (
            f"{row['clinc_misfires']} ({_pct(row['clinc_misfire_share'])})"
            if "clinc_misfires" in row
            else "skipped"
        )
        body.append(
            f"| {row['response_threshold']:.2f}{mark} | {row['response_margin']:.2f} | "
            f"{_pct(row['accuracy'])} | {row['macro_f1']:.3f} | "
            f"{_pct(row['fallback_rate'])} | {row['wrong_answers']} | {misfires} |"
        )
    return header + "\n" + "\n".join(body)


def print_summary(results: Dict[str, Any], misfired: Sequence[Tuple[str, str, str]]) -> None:
    """The short table on stdout; the misfired CLINC texts are shown here only."""
    held = results["held_out"]
    m = results["machine"]
    print(f"NLU evaluation, {results['date']}, model {results['model']}")
    print(f"machine: {m['cpus']} CPUs ({m['cpu']}), {m['ram_gb']} GB RAM, Python {m['python']}")
    ok = "meets" if held["macro_f1"] >= TARGET_MACRO_F1 else "BELOW"
    print(
        f"held-out: {held['total']} messages, accuracy {_pct(held['accuracy'])}, "
        f"macro-F1 {held['macro_f1']:.3f} ({ok} target {TARGET_MACRO_F1}), "
        f"nlu_fallback {held['fallbacks']}"
    )
    for topic, values in held["topics"].items():
        print(
            f"  {topic:<14} {values['correct']:>4}/{values['total']:<4} "
            f"{_pct(values['accuracy']):>6}"
        )
    print("most frequent confusions (gold -> decision: count):")
    for gold, predicted, count in held["worst_confusions"]:
        print(f"  {gold} -> {predicted}: {count}")
    clinc = results.get("clinc")
    if clinc is None:
        print(f"misfires: skipped ({results['clinc_skipped']})")
    else:
        ok = "meets" if clinc["misfire_share"] <= TARGET_MISFIRE_SHARE else "ABOVE"
        print(
            f"CLINC misfires: {clinc['misfires']}/{clinc['rows']} = "
            f"{_pct(clinc['misfire_share'])} ({ok} target {_pct(TARGET_MISFIRE_SHARE)}); "
            f"crisis false alarms {clinc['false_alarms']}; "
            f"clarifications {clinc['clarifications']}"
        )
        print(
            f"  of which answers about the subject (not about the assistant itself): "
            f"{clinc['subject_misfires']} = {_pct(clinc['subject_misfires'] / clinc['rows'])}"
            if clinc["rows"]
            else ""
        )
        print(
            "  decisions: "
            + ", ".join(f"{k} {v}" for k, v in list(clinc["decisions"].items())[:15])
        )
        for text, intent, label in misfired[:20]:
            print(f"  misfire [{intent}] -> {label}: {text}")
    print("\n".join(_long_post_lines(results.get("post_outcomes"))))
    for line in summary_lines(results):
        print(line)
    if results.get("thresholds"):
        print("FAQ guard replay (response_threshold x response_margin):")
        print(_sweep_table(results["thresholds"], results["guard"]))
    if results.get("full_sweep"):
        print("Fallback and guard thresholds together (best within the misfire target first):")
        print(
            "| fallback | ambiguity | response | margin | accuracy | macro-F1 | fallback rate "
            "| CLINC misfires |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for row in results["full_sweep"]:
            print(
                f"| {row['fallback_threshold']:.2f} | {row['ambiguity']:.2f} | "
                f"{row['response_threshold']:.2f} | {row['response_margin']:.2f} | "
                f"{_pct(row['accuracy'])} | {row['macro_f1']:.3f} | "
                f"{_pct(row['fallback_rate'])} | {row['clinc_misfires']} "
                f"({_pct(row['clinc_misfire_share'])}) |"
            )
    for half in (results.get("crisis") or {}).values():
        print("\n".join(half["lines"]))
    print(
        f"runtime {results['runtime_s']:.0f} s; written to build/eval/ "
        "(results.json, report.md, confusion.png)"
    )


# --- Main ----------------------------------------------------------------------------------


def faq_answer_keys(domain: Path = DOMAIN) -> List[str]:
    """The FAQ answers domain.yml holds (what action_clarify may offer)."""
    from bot.faq import faq_keys

    content = yaml.safe_load(Path(domain).read_text(encoding="utf-8")) or {}
    return faq_keys(content.get("responses") or {})


def evaluate_long_posts(
    parse: Callable[[str], Parse], posts: Sequence[long_posts.Post], known: Sequence[str]
) -> Dict[str, Any]:
    """The long-post outcomes (tools/long_posts.py) of every post, parsed once."""
    seen = [long_posts.behaviour(parse(post.text), known) for post in posts]
    return long_posts.summary(posts, seen)


def parse_all(parse: Callable[[str], Parse], texts: Sequence[str]) -> List[Parse]:
    """Every text's parse: in batches when the parser can (NluParser.parse_many)."""
    many = getattr(parse, "parse_many", None)
    if many is not None:
        return list(many(list(texts)))
    return [parse(text) for text in texts]


def held_out_results(examples: Sequence[Example], parses: Sequence[Parse]) -> Dict[str, Any]:
    """Accuracy, macro-F1, fallbacks, per file and per label, confusions and mistakes."""
    gold = [e.label for e in examples]
    predicted = [decision(p) for p in parses]
    return {
        "total": len(examples),
        "accuracy": accuracy(gold, predicted),
        "macro_f1": macro_f1(gold, predicted),
        "fallbacks": sum(p == FALLBACK for p in predicted),
        "topics": topic_accuracy(examples, predicted),
        "worst_confusions": worst_confusions(gold, predicted),
        "per_label": per_label(gold, predicted),
        "mistakes": [
            {"text": e.text, "gold": e.label, "decision": p}
            for e, p in zip(examples, predicted)
            if e.label != p
        ],
    }


def evaluate(
    parse: Callable[[str], Parse],
    examples: Sequence[Example],
    clinc_rows: Optional[Sequence[Tuple[str, str]]],
    thresholds: bool,
    posts: Sequence[LongPost] = (),
    final: Optional[Tuple[Sequence[Example], Sequence[LongPost]]] = None,
) -> Tuple[Dict[str, Any], List[Tuple[str, str, str]]]:
    """Parse everything once; the metrics, and the misfired CLINC rows (kept out of files).

    `final` (the final split's examples and long posts) is measured and reported apart;
    the threshold sweeps never see it.
    """
    held_parses = parse_all(parse, [e.text for e in examples])
    results: Dict[str, Any] = {"held_out": held_out_results(examples, held_parses)}
    if posts:
        post_parses = parse_all(parse, [p.text for p in posts])
        known = faq_answer_keys()
        results["long_posts"] = long_post_summary(
            posts, [long_posts.behaviour(p, known) for p in post_parses]
        )
    misfired: List[Tuple[str, str, str]] = []
    clinc_parses = None
    if clinc_rows is not None:
        clinc_parses = parse_all(parse, [text for text, _ in clinc_rows])
        summary = misfire_summary(clinc_rows, [decision(p) for p in clinc_parses])
        misfired = summary.pop("misfired")
        results["clinc"] = summary
    if thresholds:
        topics = guard_topic_thresholds()
        results["thresholds"] = sweep(examples, held_parses, clinc_parses, topics=topics)
        if clinc_parses is not None:
            results["full_sweep"] = full_sweep(examples, held_parses, clinc_parses, topics)[:15]
    if final is not None:
        final_examples, final_posts = final
        final_held = held_out_results(
            final_examples, parse_all(parse, [e.text for e in final_examples])
        )
        results["final"] = {
            "held_out": {
                k: final_held[k] for k in ("total", "accuracy", "macro_f1", "fallbacks", "topics")
            }
        }
        if final_posts:
            known = faq_answer_keys()
            final_seen = [
                long_posts.behaviour(p, known)
                for p in parse_all(parse, [p.text for p in final_posts])
            ]
            results["final"]["long_posts"] = long_post_summary(final_posts, final_seen)
    results["_predicted"] = [decision(p) for p in held_parses]
    return results, misfired


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.nlu_eval",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", type=Path, default=CURRENT_MODEL)
    parser.add_argument(
        "--clinc", type=Path, default=None, help=f"the CLINC150 TSV (default {CLINC_SHOWN})"
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument(
        "--final",
        action="store_true",
        help="measure the final split of long posts (tests/nlu_final) instead of the dev split",
    )
    parser.add_argument(
        "--thresholds",
        action="store_true",
        help="also replay the FAQ guard over a grid of thresholds",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    started = time.monotonic()
    if not args.model.exists():
        print(f"error: no trained model at {args.model}: run `make model` first.", file=sys.stderr)
        return 1
    examples = load_held_out()
    if not examples:
        print("error: no held-out examples in tests/nlu/*.yml.", file=sys.stderr)
        return 1
    clinc_path = args.clinc or CLINC
    rows = read_clinc(clinc_path, shown=str(args.clinc) if args.clinc else CLINC_SHOWN)
    clinc_rows = not_small_talk(rows) if rows is not None else None
    posts = corpus.long_posts()
    # The final split is never read where thresholds are being chosen.
    final = None
    if not args.thresholds:
        final = (load_held_out(corpus.FINAL), corpus.long_posts(corpus.FINAL))
    parse = NluParser(args.model, quiet=True)
    results, misfired = evaluate(parse, examples, clinc_rows, args.thresholds, posts, final)
    if "long_posts" in results:
        figures = gate_figures(results["held_out"], results["long_posts"], results.get("clinc"))
        floors = read_floors()
        results["floors"] = {
            "figures": figures,
            "floors": floors,
            "failed": below_floors(figures, floors),
        }
    predicted = results.pop("_predicted")
    posts_path = long_posts.FINAL_SET if args.final else long_posts.DEV_SET
    if posts_path.is_file():
        results["post_outcomes"] = {
            "set": str(posts_path.relative_to(PROJECT_ROOT)),
            **evaluate_long_posts(parse, long_posts.load(posts_path), faq_answer_keys()),
        }
    results["crisis"] = {}
    for name, folder in crisis_eval.HALVES.items():
        if not folder.is_dir():
            continue
        half = crisis_eval.measure(parse, name, folder)
        results["crisis"][name] = {**half.summary(), "lines": half.lines()}
    results.update(
        {
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "model": Path(os.path.realpath(args.model)).name,
            "machine": machine(),
            "guard": guard_config(),
            "small_talk_excluded": sorted(SMALL_TALK),
            "runtime_s": time.monotonic() - started,
        }
    )
    if rows is None:
        results["clinc_skipped"] = f"{args.clinc or CLINC_SHOWN} not found"
    args.out.mkdir(parents=True, exist_ok=True)
    confusion_png([e.label for e in examples], predicted, args.out / "confusion.png")
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (args.out / "report.md").write_text(report_markdown(results), encoding="utf-8")
    print_summary(results, misfired)
    return 0


if __name__ == "__main__":
    sys.exit(main())
