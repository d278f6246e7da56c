"""The one reader of the NLU example files: the held-out split and the training data.

Two formats are read: Rasa NLU files (`nlu:` items with `intent:` and an `examples:`
block of `- text` lines, or a list of `{text: ...}`) and category files (`categories:`
mapping a label to a list of messages, as in tests/nlu/crisis/crisis.yml). Entity markup
("[Leeds](city)") is reduced to its text: what a parent would have typed.

The held-out split is tests/nlu/*.yml (never trained on) plus, in tests/nlu/crisis/, the
crisis set (crisis.yml: messages labelled with the crisis intent they must get) and the
safe set (safe.yml: crisis words used harmlessly; no label, so never an example here,
read it with `safe_messages`). Whether a measurement counts the crisis set is a choice
each caller makes explicitly (`held_out(crisis=...)` has no default):

* `make eval` (tools/nlu_eval.py) and the benchmark leave it out: crisis recall and false
  alarms have their own test and targets (tests/model/test_safeguarding_model.py), and the
  benchmark's conversations are built from FAQ, out-of-scope and handoff messages;
* tools/redaction_eval.py counts it: a crisis message that carries a phone number must
  still be caught once the number is hidden.

Long posts (long_posts.yml in either split) are whole forum posts with the answer that is
right for each (`long_posts`). tests/nlu_final is the final split, in the same formats:
measured and reported on its own (`make eval`), never read by a threshold sweep, a data
round or the accuracy gate (tests/unit/test_nlu_eval.py checks this).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

from bot.paths import PROJECT_ROOT

HELD_OUT = PROJECT_ROOT / "tests" / "nlu"
FINAL = PROJECT_ROOT / "tests" / "nlu_final"
LONG_POSTS = "long_posts.yml"
CRISIS_DIR = HELD_OUT / "crisis"
CRISIS_SET = CRISIS_DIR / "crisis.yml"
SAFE_SET = CRISIS_DIR / "safe.yml"
TRAINING = PROJECT_ROOT / "data" / "nlu"

# Rasa entity markup: [text](entity) or [text]{"entity": ...}; only the text is kept.
_ENTITY = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class Example:
    """One message: the file it came from (its stem, e.g. "assessment"), its label, its text."""

    topic: str
    label: str
    text: str


def strip_markup(text: str) -> str:
    """Reduce entity markup to its text, so "[Leeds](city)" reads as "Leeds"."""
    return _ENTITY.sub(r"\1", text)


def texts(block: Any) -> List[str]:
    """The messages of one block: Rasa's "- example" lines, or a list of texts or {text: ...}."""
    if isinstance(block, str):
        lines = [line.strip()[2:] for line in block.splitlines() if line.strip().startswith("- ")]
    elif isinstance(block, list):
        lines = [
            str(item.get("text", "")) if isinstance(item, dict) else str(item)
            for item in block
            if item is not None
        ]
    else:
        lines = []
    return [text for text in (strip_markup(line).strip() for line in lines) if text]


def read_file(path: Path) -> List[Example]:
    """Every labelled message of one file, in file order (intents first, then categories)."""
    content = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    topic = Path(path).stem
    examples: List[Example] = []
    for item in content.get("nlu") or []:
        if isinstance(item, dict) and item.get("intent"):
            label = str(item["intent"])
            examples += [Example(topic, label, text) for text in texts(item.get("examples"))]
    for label, block in (content.get("categories") or {}).items():
        examples += [Example(topic, str(label), text) for text in texts(block)]
    return examples


@dataclass(frozen=True)
class LongPost:
    """One whole forum post: `expect` is the right decision (a FAQ key, "handoff" or a
    crisis intent), `also` other FAQ keys equally right, `kind` iioc/other_concern/general."""

    id: str
    text: str
    expect: str
    also: Tuple[str, ...]
    kind: str


def nlu_files(folder: Path) -> List[Path]:
    """The NLU YAML files directly in `folder` (not in its subfolders), sorted by name;
    the long posts (another format, read by `long_posts`) are not among them."""
    return sorted(
        path
        for path in [*Path(folder).glob("*.yml"), *Path(folder).glob("*.yaml")]
        if path.name != LONG_POSTS
    )


def long_posts(folder: Path = HELD_OUT) -> List[LongPost]:
    """The long posts of a split (`folder`/long_posts.yml; none if it has no such file)."""
    path = Path(folder) / LONG_POSTS
    if not path.is_file():
        return []
    content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [
        LongPost(
            id=str(post["id"]),
            text=str(post["text"]).strip(),
            expect=str(post["expect"]),
            also=tuple(str(key) for key in post.get("also") or ()),
            kind=str(post.get("kind", "")),
        )
        for post in content.get("posts") or []
    ]


def read_folder(folder: Path) -> List[Example]:
    """Every labelled message of every file directly in `folder`, files in name order."""
    return [example for path in nlu_files(folder) for example in read_file(path)]


def held_out(*, crisis: bool, folder: Path = HELD_OUT) -> List[Example]:
    """The held-out messages; with `crisis`, the crisis set too (see the module docstring).

    Files are read in path order, so the crisis set sits between chitchat.yml and fgc.yml:
    a measurement that draws random numbers per example sees the same order every run.
    """
    paths = nlu_files(folder)
    if crisis:
        paths = sorted([*paths, *nlu_files(Path(folder) / CRISIS_DIR.name)])
    return [example for path in paths for example in read_file(path)]


def training(folder: Path = TRAINING) -> List[Example]:
    """The training examples (data/nlu/*.yml)."""
    return read_folder(folder)


def by_label(examples: List[Example]) -> Dict[str, List[str]]:
    """Label -> its texts, in order."""
    grouped: Dict[str, List[str]] = defaultdict(list)
    for example in examples:
        grouped[example.label].append(example.text)
    return dict(grouped)


def crisis_messages(path: Path = CRISIS_SET) -> Dict[str, List[str]]:
    """The crisis set: crisis intent -> messages that must get it."""
    return by_label(read_file(path))


def safe_messages(path: Path = SAFE_SET) -> Dict[str, List[str]]:
    """The safe set: group name -> messages that must not get a crisis intent."""
    content = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return {str(group): texts(block) for group, block in (content.get("safe") or {}).items()}
