"""Quality checks on the NLU training data and the held-out test data (no model needed).

The held-out files in tests/nlu measure how well the model generalises; they only do
that if none of their examples (or a near copy) is also trained on. The helpers here are
generic: they read every file in data/nlu and tests/nlu, not only one topic's.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Dict, FrozenSet, Iterator, List, Tuple

import pytest
import yaml

from bot.content.responses import load_domain_responses
from bot.paths import PROJECT_ROOT

TRAIN_DIR = PROJECT_ROOT / "data" / "nlu"
HELD_OUT_DIR = PROJECT_ROOT / "tests" / "nlu"

# The FAQ topics whose data this module holds to the minimum sizes below.
TOPIC_FILES = ("assessment.yml", "safety_plan.yml", "fgc.yml")
MIN_TRAINING = 35
MIN_HELD_OUT = 12
# Token-set Jaccard similarity at or above this counts as a near-duplicate.
NEAR_DUPLICATE = 0.8

# Rasa entity markup: [text](entity), [text]{"entity": ...}; only the text is compared.
_ENTITY = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_PUNCTUATION = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")

Example = Tuple[str, str, str]  # (file name, intent, text)


def strip_markup(text: str) -> str:
    """Reduce entity markup to its text, so "[Leeds](city)" compares as "Leeds"."""
    return _ENTITY.sub(r"\1", text)


def normalise(text: str) -> str:
    """Lower case, punctuation removed, spaces collapsed: "What's it?" -> "whats it"."""
    text = _PUNCTUATION.sub("", strip_markup(text).lower())
    return _SPACES.sub(" ", text).strip()


def tokens(text: str) -> FrozenSet[str]:
    """The set of normalised words, for Jaccard similarity."""
    return frozenset(normalise(text).split())


def jaccard(a: FrozenSet[str], b: FrozenSet[str]) -> float:
    """Shared words over all words; 1.0 for identical sets, 0.0 when either is empty."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def parse_examples(block: object) -> List[str]:
    """Examples of one intent: Rasa's "- example" block, or a list of {text: ...} items."""
    if isinstance(block, str):
        return [
            line.strip()[2:].strip()
            for line in block.splitlines()
            if line.strip().startswith("- ") and line.strip()[2:].strip()
        ]
    if isinstance(block, list):
        texts = [item.get("text", "") if isinstance(item, dict) else str(item) for item in block]
        return [text.strip() for text in texts if text and text.strip()]
    return []


def read_nlu_file(path: Path) -> Dict[str, List[str]]:
    """Intent -> examples for one Rasa 3 NLU file (synonyms, regexes, lookups ignored)."""
    with path.open(encoding="utf-8") as handle:
        content = yaml.safe_load(handle) or {}
    intents: Dict[str, List[str]] = {}
    for item in content.get("nlu") or []:
        if isinstance(item, dict) and "intent" in item:
            intents.setdefault(item["intent"], []).extend(parse_examples(item.get("examples")))
    return intents


def nlu_files(folder: Path) -> List[Path]:
    """Every NLU YAML file in a folder, sorted so failures list in a stable order."""
    return sorted(list(folder.glob("*.yml")) + list(folder.glob("*.yaml")))


def all_examples(folder: Path) -> Iterator[Example]:
    """(file, intent, text) for every example in every NLU file of a folder."""
    for path in nlu_files(folder):
        for intent, texts in read_nlu_file(path).items():
            for text in texts:
                yield path.name, intent, text


# --- the helpers themselves --------------------------------------------------------------


def test_parser_reads_blocks_lists_and_markup(tmp_path: Path) -> None:
    path = tmp_path / "sample.yml"
    path.write_text(
        'version: "3.1"\n'
        "nlu:\n"
        "  - intent: greet\n"
        "    examples: |\n"
        "      - hi\n"
        "      - I live in [Leeds](city) now\n"
        "      -\n"
        "  - synonym: leeds\n"
        "    examples: |\n"
        "      - LDS\n"
        "  - intent: greet\n"
        "    examples:\n"
        "      - text: good morning\n"
        "        metadata: {sentiment: neutral}\n",
        encoding="utf-8",
    )
    assert read_nlu_file(path) == {"greet": ["hi", "I live in [Leeds](city) now", "good morning"]}
    assert normalise("I live in [Leeds](city) now") == "i live in leeds now"
    assert normalise('  What\'s  [SS]{"entity": "org"} doing?! ') == "whats ss doing"


def test_similarity_flags_near_copies_only() -> None:
    assert jaccard(tokens("Is it legally binding?"), tokens("is it legally binding")) == 1.0
    assert (
        jaccard(tokens("can the plan be changed"), tokens("can the plan be changed now"))
        >= NEAR_DUPLICATE
    )
    assert jaccard(tokens("what is an FGC"), tokens("can he bath the baby")) < NEAR_DUPLICATE
    assert jaccard(frozenset(), tokens("anything")) == 0.0


# --- (1) enough examples for every FAQ intent of the three topics --------------------------


def _topic_counts() -> List[Tuple[str, str, int, int]]:
    rows = []
    for name in TOPIC_FILES:
        training = read_nlu_file(TRAIN_DIR / name)
        held_out = read_nlu_file(HELD_OUT_DIR / name) if (HELD_OUT_DIR / name).exists() else {}
        for intent in sorted(set(training) | set(held_out)):
            rows.append(
                (name, intent, len(training.get(intent, [])), len(held_out.get(intent, [])))
            )
    return rows


@pytest.mark.parametrize(
    "name,intent,n_training,n_held_out",
    _topic_counts(),
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_topic_intent_has_enough_examples(
    name: str, intent: str, n_training: int, n_held_out: int
) -> None:
    assert n_training >= MIN_TRAINING, (
        f"{intent}: {n_training} training examples in data/nlu/{name}"
    )
    assert n_held_out >= MIN_HELD_OUT, (
        f"{intent}: {n_held_out} held-out examples in tests/nlu/{name}"
    )


def test_every_topic_file_exists_in_both_folders() -> None:
    missing = [
        str(folder / name)
        for name in TOPIC_FILES
        for folder in (TRAIN_DIR, HELD_OUT_DIR)
        if not (folder / name).exists()
    ]
    assert not missing, f"missing NLU files: {missing}"


def test_topic_intents_have_an_answer_in_the_domain() -> None:
    """A retrieval intent "x/y" is answered by the response "utter_x/y" in domain.yml."""
    responses = load_domain_responses()
    unanswered = [
        intent for _, intent, _, _ in _topic_counts() if f"utter_{intent}" not in responses
    ]
    assert not unanswered, f"no utter_<intent> response in domain.yml for: {unanswered}"


# --- (2) held-out examples are not (near) copies of training examples ----------------------


def test_held_out_examples_are_not_in_training_data() -> None:
    trained = {normalise(text): (name, intent) for name, intent, text in all_examples(TRAIN_DIR)}
    leaks = [
        f"tests/nlu/{name} {intent}: {text!r} is trained in data/nlu/{trained[normalise(text)][0]}"
        for name, intent, text in all_examples(HELD_OUT_DIR)
        if normalise(text) in trained
    ]
    assert not leaks, "held-out examples found in training data:\n" + "\n".join(leaks)


def test_held_out_examples_are_not_near_copies_of_training_data() -> None:
    trained = [(tokens(text), name, text) for name, _, text in all_examples(TRAIN_DIR)]
    near = []
    for name, _intent, text in all_examples(HELD_OUT_DIR):
        words = tokens(text)
        for train_words, train_name, train_text in trained:
            score = jaccard(words, train_words)
            if score >= NEAR_DUPLICATE:
                near.append(
                    f"tests/nlu/{name} {text!r} ~ data/nlu/{train_name} {train_text!r} "
                    f"({score:.2f})"
                )
    assert not near, "held-out examples too close to training examples:\n" + "\n".join(near)


# --- (3) no exact duplicates within the training data --------------------------------------


def test_no_duplicate_training_examples() -> None:
    seen: Dict[str, Tuple[str, str, str]] = {}
    duplicates = []
    for name, intent, text in all_examples(TRAIN_DIR):
        key = normalise(text)
        if key in seen:
            first = seen[key]
            duplicates.append(f"{name} {intent} {text!r} = {first[0]} {first[1]} {first[2]!r}")
        else:
            seen[key] = (name, intent, text)
    assert not duplicates, "duplicate training examples:\n" + "\n".join(duplicates)


def test_held_out_examples_are_not_duplicated() -> None:
    counts: Dict[str, int] = {}
    for _, _, text in all_examples(HELD_OUT_DIR):
        counts[normalise(text)] = counts.get(normalise(text), 0) + 1
    repeated = sorted(text for text, count in counts.items() if count > 1)
    assert not repeated, f"held-out examples repeated: {repeated}"


# --- (4) every held-out intent is a trained intent -----------------------------------------


def test_held_out_intents_exist_in_training_data() -> None:
    trained = {intent for _, intent, _ in all_examples(TRAIN_DIR)}
    unknown = sorted(
        {
            f"{name}: {intent}"
            for name, intent, _ in all_examples(HELD_OUT_DIR)
            if intent not in trained
        }
    )
    assert not unknown, f"held-out intents never trained: {unknown}"


def test_topic_training_examples_are_not_near_copies_of_each_other() -> None:
    """Within one topic's training file, two examples should differ by more than a word."""
    near = []
    for name in TOPIC_FILES:
        examples = [
            (intent, text, tokens(text))
            for intent, texts in read_nlu_file(TRAIN_DIR / name).items()
            for text in texts
        ]
        for (i1, t1, w1), (i2, t2, w2) in itertools.combinations(examples, 2):
            if len(w1 | w2) >= 4 and jaccard(w1, w2) >= 0.9:
                near.append(f"{name}: {i1} {t1!r} ~ {i2} {t2!r}")
    assert not near, "near-identical training examples:\n" + "\n".join(near)
