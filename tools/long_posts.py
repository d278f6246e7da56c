"""Long forum posts: what the assistant does with each, and whether that is right.

The set (tests/nlu/long_posts.yml, and the final split in tests/nlu_final/) holds posts of
several sentences, each with what a right reply is: `expect`, the FAQ answer whose general
point it asks about, `handoff` when nothing approved fits, or a crisis intent; `also`,
other FAQ answers that are equally right (a post with two questions).

A parse becomes what the parent would see (`behaviour`): a FAQ answer, a crisis route, a
handoff (out of scope, a request for a person), or for nlu_fallback what action_clarify
would do with it (bot/faq.py: two options, "put it another way", or a handoff). The
outcome (`outcome`) is one of:

* right: the expected (or an `also`) answer, a handoff where `expect` is handoff, or a
  crisis route where a crisis is expected;
* wrong_answer: a FAQ answer that is not one of the expected ones;
* irrelevant_clarification: two options of which none is an expected answer;
* clarification: two options, one of them expected (not wrong, but not right either);
* rephrase: asked to put the whole post another way;
* missed_answer: a handoff where an approved answer fits;
* crisis_missed: a crisis post that got anything but a crisis route;
* false_crisis: a crisis route for a post that is not a crisis;
* other: small talk and the like.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import yaml

from bot import faq
from bot.intents import CHECKIN_PREFIX, CRISIS_PREFIX, FALLBACK, REQUEST_HUMAN, RETRIEVAL_INTENTS
from bot.paths import PROJECT_ROOT

DEV_SET = PROJECT_ROOT / "tests" / "nlu" / "long_posts.yml"
FINAL_SET = PROJECT_ROOT / "tests" / "nlu_final" / "long_posts.yml"
HANDOFF = "handoff"
# Intents the rules hand to a person (data/rules.yml).
HANDOFF_INTENTS = frozenset({"out_of_scope", REQUEST_HUMAN, "something_else"})
OUTCOMES = (
    "right",
    "wrong_answer",
    "irrelevant_clarification",
    "clarification",
    "rephrase",
    "missed_answer",
    "crisis_missed",
    "false_crisis",
    "other",
)


@dataclass(frozen=True)
class Post:
    id: str
    text: str
    expect: str
    also: Tuple[str, ...] = ()
    kind: str = "general"

    @property
    def right_answers(self) -> Tuple[str, ...]:
        return (self.expect, *self.also) if "/" in self.expect else self.also


def load(path: Path = DEV_SET) -> List[Post]:
    """The posts of one split, in file order."""
    content = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return [
        Post(
            id=str(item["id"]),
            text=str(item["text"]).strip(),
            expect=str(item["expect"]),
            also=tuple(str(a) for a in item.get("also") or ()),
            kind=str(item.get("kind") or "general"),
        )
        for item in content.get("posts") or []
    ]


@dataclass(frozen=True)
class Behaviour:
    """What the parent sees: kind is answer | crisis | handoff | options | rephrase | other."""

    kind: str
    answer: Optional[str] = None
    options: Tuple[str, ...] = ()


def selected_answer(parse: Dict[str, Any], intent: str) -> Optional[str]:
    """The answer key the response selector picked for `intent` (per-intent or default)."""
    selectors = parse.get("response_selector") or {}
    chosen = selectors.get(intent) or selectors.get("default") or {}
    return (chosen.get("response") or {}).get("intent_response_key") or None


def behaviour(parse: Dict[str, Any], known: Sequence[str]) -> Behaviour:
    """What the assistant does with a parsed first message of a conversation."""
    intent = (parse.get("intent") or {}).get("name") or FALLBACK
    if intent.startswith(CRISIS_PREFIX) or intent.startswith(CHECKIN_PREFIX):
        # A check-in is the gentle crisis route: it comes before anything else.
        return Behaviour("crisis", answer=intent)
    if intent in RETRIEVAL_INTENTS:
        return Behaviour("answer", answer=selected_answer(parse, intent) or intent)
    if intent in HANDOFF_INTENTS:
        return Behaviour("handoff")
    if intent == FALLBACK:
        plan = faq.plan_clarification(parse, False, known)
        if plan.mode == "options":
            return Behaviour("options", options=tuple(plan.options))
        return Behaviour(plan.mode)
    return Behaviour("other", answer=intent)


def outcome(post: Post, seen: Behaviour) -> str:
    """One of OUTCOMES for this post and what the assistant did with it."""
    crisis_expected = post.expect.startswith(CRISIS_PREFIX)
    if crisis_expected:
        return "right" if seen.kind == "crisis" else "crisis_missed"
    if seen.kind == "crisis":
        return "false_crisis"
    if seen.kind == "answer":
        return "right" if seen.answer in post.right_answers else "wrong_answer"
    if seen.kind == "handoff":
        return "right" if post.expect == HANDOFF else "missed_answer"
    if seen.kind == "options":
        relevant = any(option in post.right_answers for option in seen.options)
        return "clarification" if relevant else "irrelevant_clarification"
    if seen.kind == "rephrase":
        return "rephrase"
    return "other"


def summary(posts: Sequence[Post], seen: Sequence[Behaviour]) -> Dict[str, Any]:
    """Counts and shares of each outcome, per `kind` too, and the posts that were not right
    (ids and what happened, never their text)."""
    outcomes = [outcome(p, s) for p, s in zip(posts, seen)]
    counts = Counter(outcomes)
    total = len(posts)
    by_kind: Dict[str, Counter] = {}
    for post, result in zip(posts, outcomes):
        by_kind.setdefault(post.kind, Counter())[result] += 1
    return {
        "total": total,
        "counts": {name: counts.get(name, 0) for name in OUTCOMES},
        "shares": {name: (counts.get(name, 0) / total if total else 0.0) for name in OUTCOMES},
        "by_kind": {kind: dict(c) for kind, c in sorted(by_kind.items())},
        "not_right": [
            {
                "id": p.id,
                "expect": p.expect,
                "outcome": o,
                "seen": s.answer or s.kind,
                "options": list(s.options),
            }
            for p, s, o in zip(posts, seen, outcomes)
            if o != "right"
        ],
    }
