"""The long-post measurement (tools/long_posts.py): behaviour and outcome, without a model."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from bot.content.responses import load_domain_responses
from bot.faq import RETRIEVAL_INTENTS, faq_keys
from tools import long_posts as lp
from tools import nlu_eval

KNOWN = faq_keys(load_domain_responses())


def _parse(
    intent: str, ranking: Optional[List[Tuple[str, float]]] = None, confidence: float = 0.9
) -> Dict[str, Any]:
    data: Dict[str, Any] = {
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }
    if ranking:
        data["response_selector"] = {
            "all_retrieval_intents": list(RETRIEVAL_INTENTS),
            "default": {
                "response": {"intent_response_key": ranking[0][0]},
                "ranking": [{"intent_response_key": k, "confidence": c} for k, c in ranking],
            },
        }
    return data


POST = lp.Post("x1", "text", "fgc/what_is", also=("fgc/request",), kind="iioc")
HANDOFF_POST = lp.Post("x2", "text", "handoff")
CRISIS_POST = lp.Post("x3", "text", "crisis_suicidal")


def test_the_expected_or_an_also_answer_is_right_any_other_answer_is_wrong():
    for key, want in (("fgc/what_is", "right"), ("fgc/request", "right"), ("fgc/who", "wrong")):
        seen = lp.behaviour(_parse("fgc", [(key, 0.9)]), KNOWN)
        assert seen == lp.Behaviour("answer", answer=key)
        assert lp.outcome(POST, seen) == ("wrong_answer" if want == "wrong" else "right")
    answered = lp.behaviour(_parse("fgc", [("fgc/what_is", 0.9)]), KNOWN)
    assert lp.outcome(HANDOFF_POST, answered) == "wrong_answer"


def test_a_handoff_is_right_only_where_nothing_approved_fits():
    for intent in ("out_of_scope", "request_human"):
        seen = lp.behaviour(_parse(intent), KNOWN)
        assert seen.kind == "handoff"
        assert lp.outcome(HANDOFF_POST, seen) == "right"
        assert lp.outcome(POST, seen) == "missed_answer"


def test_clarification_options_count_as_irrelevant_unless_one_is_expected():
    guard = {"candidates": ["fgc/what_is", "safety_plan/contents"]}
    relevant = _parse("nlu_fallback", confidence=0.2)
    relevant["faq_guard"] = guard
    seen = lp.behaviour(relevant, KNOWN)
    assert seen.kind == "options"
    assert lp.outcome(POST, seen) == "clarification"
    assert lp.outcome(HANDOFF_POST, seen) == "irrelevant_clarification"
    other = lp.Behaviour("options", options=("records/subject_access", "service/forum"))
    assert lp.outcome(POST, other) == "irrelevant_clarification"


def test_a_crisis_post_without_a_crisis_route_is_missed_and_a_false_alarm_is_counted():
    answered = lp.behaviour(_parse("fgc", [("fgc/what_is", 0.9)]), KNOWN)
    assert lp.outcome(CRISIS_POST, answered) == "crisis_missed"
    crisis = lp.behaviour(_parse("crisis_suicidal"), KNOWN)
    assert lp.outcome(CRISIS_POST, crisis) == "right"
    assert lp.outcome(POST, crisis) == "false_crisis"


def test_summary_counts_each_outcome_and_keeps_no_text():
    posts = [POST, HANDOFF_POST, CRISIS_POST]
    seen = [
        lp.Behaviour("answer", answer="fgc/what_is"),
        lp.Behaviour("answer", answer="fgc/what_is"),
        lp.Behaviour("handoff"),
    ]
    result = lp.summary(posts, seen)
    assert result["counts"]["right"] == 1
    assert result["counts"]["wrong_answer"] == 1
    assert result["counts"]["crisis_missed"] == 1
    assert abs(result["shares"]["right"] - 1 / 3) < 1e-9
    assert [row["id"] for row in result["not_right"]] == ["x2", "x3"]
    assert "text" not in str(result["not_right"])


def test_the_dev_set_loads_with_known_labels_and_the_report_shows_the_targets():
    posts = lp.load(lp.DEV_SET)
    assert len(posts) >= 120
    for post in posts:
        assert (
            post.expect == lp.HANDOFF or post.expect.startswith("crisis_") or post.expect in KNOWN
        ), post.id
        assert all(key in KNOWN for key in post.also), post.id
    seen = [lp.Behaviour("handoff") for _ in posts]
    lines = "\n".join(nlu_eval._long_post_lines({"set": "x", **lp.summary(posts, seen)}))
    handoffs = sum(p.expect == lp.HANDOFF for p in posts)
    assert f"- right: {handoffs} =" in lines
    assert "irrelevant clarification: 0 (target 0)" in lines


def test_the_bench_post_fills_the_cap_with_the_projects_own_posts():
    from bot import settings
    from tools.bench import long_post_text

    cap = settings.load().edge.max_message_chars
    text = long_post_text(cap)
    assert len(text) == cap
    assert text.startswith(lp.load(lp.DEV_SET)[0].text)
