"""The README's "What it can answer" list matches domain.yml and the register: the number of
FAQ answers, one row per topic with its training file, and each answer's first point in the
sections the row says the topic rests on."""

from __future__ import annotations

import re
from typing import Dict, List, Tuple

from bot.content import register_file
from bot.content.responses import load_domain_responses
from bot.paths import PROJECT_ROOT, TRAINING_DATA

ROW = re.compile(r"^\| `(\w+)/` \(([\w.]+)\) \| (.*?) \| (.*?) \|$", re.M)


def _section_text() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## What it can answer", 1)[1].split("\n## ", 1)[0]


def _rows() -> Dict[str, Tuple[str, str]]:
    return {topic: (file, rests) for topic, file, _, rests in ROW.findall(_section_text())}


def _allowed(rests: str) -> List[str]:
    """'G, H10' -> ['G', 'H10']; 'I1-I7' -> ['I1', ..., 'I7']."""
    allowed: List[str] = []
    for part in rests.split(", "):
        span = re.fullmatch(r"([A-Z])(\d+)-\1(\d+)", part)
        if span:
            first, last = int(span.group(2)), int(span.group(3))
            allowed += [f"{span.group(1)}{i}" for i in range(first, last + 1)]
        else:
            allowed.append(part)
    return allowed


def _faq_answers() -> Dict[str, List[str]]:
    topics: Dict[str, List[str]] = {}
    for name in load_domain_responses():
        if name.startswith("utter_") and "/" in name:
            topic, answer = name[len("utter_") :].split("/", 1)
            topics.setdefault(topic, []).append(answer)
    return topics


def test_the_readme_counts_the_faq_answers() -> None:
    count = sum(len(answers) for answers in _faq_answers().values())
    assert f"\n{count} FAQ answers, grouped" in _section_text()


def test_the_readme_has_one_row_per_topic_with_its_training_file() -> None:
    rows = _rows()
    assert set(rows) == set(_faq_answers())
    for topic, (file, _) in rows.items():
        text = (TRAINING_DATA / "nlu" / file).read_text(encoding="utf-8")
        assert f"intent: {topic}/" in text, (topic, file)


def test_each_answer_rests_on_the_sections_its_row_names() -> None:
    register = register_file.load_register()
    for topic, (_, rests) in _rows().items():
        allowed = _allowed(rests)
        for answer in _faq_answers()[topic]:
            for entry in register.responses[f"utter_{topic}/{answer}"]:
                first = entry.points[0]
                in_section = re.fullmatch(r"[A-Z]\d*", first) and first[0] in allowed
                assert first in allowed or in_section, (topic, answer, entry.points, rests)
