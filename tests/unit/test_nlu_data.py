"""Quality checks on the NLU training data and the held-out test data (no model needed).

The held-out files in tests/nlu measure how well the model generalises; they only do
that if none of their examples (or a near copy) is also trained on. The same holds for
the crisis and safe sets (every file under tests/nlu/crisis, at any depth) and for the
typed messages of the test stories (tests/conversations): a story that types a training
example tests memory, not understanding. The helpers here are generic: they read every
file in data/nlu and tests/nlu, not only one topic's.
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
CRISIS_DIR = HELD_OUT_DIR / "crisis"
STORIES_DIR = PROJECT_ROOT / "tests" / "conversations"

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


def _shown(path: Path) -> str:
    """A path as the project names it (relative to its root when inside it)."""
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def crisis_set_texts(folder: Path = CRISIS_DIR) -> Iterator[Tuple[str, str]]:
    """(file, text) for every message of every YAML file under `folder`, at any depth:
    `categories` (crisis sets) and `safe` (safe sets) groups alike."""
    for path in sorted([*folder.rglob("*.yml"), *folder.rglob("*.yaml")]):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key in ("categories", "safe"):
            for block in (content.get(key) or {}).values():
                for text in parse_examples(block):
                    yield _shown(path), text


def story_texts(folder: Path = STORIES_DIR) -> Iterator[Tuple[str, str]]:
    """(file, text) for every typed user message of the test stories; a button's payload
    ("/choose_faq{...}") is what the widget sends, not something a parent typed."""
    for path in nlu_files(folder):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for story in content.get("stories") or []:
            for step in story.get("steps") or []:
                text = step.get("user") if isinstance(step, dict) else None
                if isinstance(text, str) and text.strip() and not text.strip().startswith("/"):
                    yield _shown(path), text.strip()


def unseen_texts() -> Iterator[Tuple[str, str]]:
    """(source, text) for everything that must never be trained on: the held-out split,
    the crisis and safe sets, and the test stories' typed messages."""
    for name, _intent, text in all_examples(HELD_OUT_DIR):
        yield f"tests/nlu/{name}", text
    yield from crisis_set_texts()
    yield from story_texts()


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


def test_the_unseen_texts_come_from_every_source() -> None:
    """The leak checks below read each crisis file (nested ones too) and each story file."""
    sources = {source for source, _ in unseen_texts()}
    crisis_files = {str(path.relative_to(PROJECT_ROOT)) for path in CRISIS_DIR.rglob("*.yml")}
    story_files = {str(path.relative_to(PROJECT_ROOT)) for path in nlu_files(STORIES_DIR)}
    assert crisis_files and story_files
    assert crisis_files <= sources and story_files <= sources
    assert any(source.startswith("tests/nlu/") and "crisis" not in source for source in sources)


def test_crisis_set_texts_reads_nested_folders(tmp_path: Path) -> None:
    (tmp_path / "deeper" / "still").mkdir(parents=True)
    (tmp_path / "deeper" / "still" / "more.yml").write_text(
        "version: 1\ncategories:\n  crisis_suicidal:\n    - a nested crisis message\n"
        "safe:\n  everyday:\n    - a nested safe message\n",
        encoding="utf-8",
    )
    texts = [text for _, text in crisis_set_texts(tmp_path)]
    assert texts == ["a nested crisis message", "a nested safe message"]


def test_story_texts_are_typed_messages_only(tmp_path: Path) -> None:
    (tmp_path / "test_x.yml").write_text(
        'version: "3.1"\nstories:\n  - story: s\n    steps:\n'
        "      - user: |\n          what is it for?\n        intent: assessment/purpose\n"
        "      - action: utter_assessment\n"
        '      - user: |\n          /choose_faq{"faq": "fgc/request"}\n'
        "        intent: choose_faq\n      - intent: affirm\n",
        encoding="utf-8",
    )
    assert [text for _, text in story_texts(tmp_path)] == ["what is it for?"]


def test_unseen_texts_are_not_in_training_data() -> None:
    trained = {normalise(text): (name, intent) for name, intent, text in all_examples(TRAIN_DIR)}
    leaks = [
        f"{source}: {text!r} is trained in data/nlu/{trained[normalise(text)][0]}"
        for source, text in unseen_texts()
        if normalise(text) in trained
    ]
    assert not leaks, "held-out, crisis-set or story messages in training data:\n" + "\n".join(
        leaks
    )


def near_copies(
    texts: List[Tuple[str, str]], trained: List[Tuple[str, str]]
) -> List[Tuple[str, str, str, str, float]]:
    """(source, text, training file, training text, similarity) for every pair at or above
    NEAR_DUPLICATE. Only training examples sharing a word are compared (an index by word),
    which gives the same pairs as comparing all of them."""
    words = [tokens(text) for _, text in trained]
    by_word: Dict[str, List[int]] = {}
    for index, bag in enumerate(words):
        for word in bag:
            by_word.setdefault(word, []).append(index)
    found = []
    for source, text in texts:
        bag = tokens(text)
        shared: Dict[int, int] = {}
        for word in bag:
            for index in by_word.get(word, ()):
                shared[index] = shared.get(index, 0) + 1
        for index, common in shared.items():
            score = common / (len(bag) + len(words[index]) - common)
            if score >= NEAR_DUPLICATE:
                name, train_text = trained[index]
                found.append((source, text, name, train_text, score))
    return found


def test_near_copies_matches_the_plain_comparison() -> None:
    trained = [("a.yml", "can the plan be changed"), ("b.yml", "what is an FGC")]
    texts = [("x", "can the plan be changed now"), ("y", "is it binding"), ("z", "what is an fgc")]
    expected = [
        (source, text, name, train_text, jaccard(tokens(text), tokens(train_text)))
        for source, text in texts
        for name, train_text in trained
        if jaccard(tokens(text), tokens(train_text)) >= NEAR_DUPLICATE
    ]
    assert sorted(near_copies(texts, trained)) == sorted(expected)
    assert [pair[0] for pair in expected] == ["x", "z"]


def test_unseen_texts_are_not_near_copies_of_training_data() -> None:
    trained = [(name, text) for name, _, text in all_examples(TRAIN_DIR)]
    near = [
        f"{source} {text!r} ~ data/nlu/{name} {train_text!r} ({score:.2f})"
        for source, text, name, train_text, score in near_copies(list(unseen_texts()), trained)
    ]
    assert not near, "messages too close to training examples:\n" + "\n".join(near)


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
