"""The FAQ guard's verdicts and the clarification plan, without Rasa."""

from __future__ import annotations

import json
from typing import Any, Dict

import pytest
import yaml
from rasa.shared.nlu.training_data.message import Message

from bot import faq
from bot.content.responses import load_domain_responses
from bot.intents import FALLBACK
from bot.nlu.faq_guard import GUARD_KEY, FaqGuard, judge
from bot.paths import CONFIG

RESPONSES = load_domain_responses()
KNOWN = faq.faq_keys(RESPONSES)


def _guard_section() -> Dict[str, Any]:
    """The FaqGuard's section of config.yml: the thresholds the assistant runs with."""
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    sections = [c for c in config["pipeline"] if str(c["name"]).endswith("faq_guard.FaqGuard")]
    assert len(sections) == 1, "config.yml names the FAQ guard once"
    return sections[0]


GUARD = _guard_section()
THRESHOLD = float(GUARD["response_threshold"])
MARGIN = float(GUARD["response_margin"])
# A step smaller than any gap these tests leave, so each case sits just by a boundary.
STEP = 0.01


def _parse(intent, confidence, ranking):
    """Parse data shaped like Rasa's: intent plus the response selector's ranking."""
    return {
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
        "response_selector": {
            "all_retrieval_intents": list(faq.RETRIEVAL_INTENTS),
            "default": {
                "ranking": [{"intent_response_key": k, "confidence": c} for k, c in ranking]
            },
        },
    }


def test_every_faq_answer_has_a_title_for_clarification_buttons():
    assert len(KNOWN) >= 28
    for key in KNOWN:
        variations = RESPONSES[f"utter_{key}"]
        assert all((v.get("metadata") or {}).get("title") for v in variations), key


def test_config_sets_both_thresholds_in_range():
    assert 0.0 < THRESHOLD < 1.0 and 0.0 < MARGIN < 1.0
    assert THRESHOLD + MARGIN + 2 * STEP < 1.0, "room for the boundary cases below"


def test_confident_answer_passes_the_guard():
    """Just above the threshold and just wider than the margin: answered."""
    best = THRESHOLD + STEP
    parse = _parse(
        "safety_plan",
        1.0,
        [("safety_plan/legal_status", best), ("safety_plan/change", best - MARGIN - STEP)],
    )
    assert judge(parse, response_threshold=THRESHOLD, response_margin=MARGIN) is None


@pytest.mark.parametrize(
    "ranking, reason",
    [
        (
            [
                ("safety_plan/legal_status", THRESHOLD - STEP),
                ("safety_plan/change", max(0.0, THRESHOLD - MARGIN - 2 * STEP)),
            ],
            "low_confidence",
        ),
        (
            [
                ("safety_plan/legal_status", THRESHOLD + 2 * STEP),
                ("safety_plan/change", THRESHOLD + 2 * STEP - MARGIN + STEP),
            ],
            "close_answers",
        ),
        ([("fgc/request", 0.90), ("safety_plan/change", 0.05)], "topic_mismatch"),
    ],
)
def test_uncertain_answers_are_caught(ranking, reason):
    """A sure intent can carry an unsure answer: the guard must not let it through (the
    intent at 1.0, so the score is the answer's confidence and each case sits by a boundary)."""
    verdict = judge(_parse("safety_plan", 1.0, ranking), THRESHOLD, MARGIN)
    assert verdict is not None and verdict["reason"] == reason
    assert verdict["candidates"] == [ranking[0][0], ranking[1][0]]


def test_non_faq_intents_are_not_judged():
    parse = _parse("greet", 0.4, [("about/bot", 0.2), ("about/scope", 0.1)])
    assert judge(parse, THRESHOLD, MARGIN) is None


@pytest.mark.parametrize(
    "best, second, answered",
    [
        (THRESHOLD + STEP, THRESHOLD + STEP - MARGIN - STEP, True),
        (THRESHOLD - STEP, 0.0, False),
        (THRESHOLD + STEP, THRESHOLD + STEP - MARGIN + STEP, False),
    ],
)
def test_the_component_built_from_config_yml_uses_its_thresholds(best, second, answered):
    """FaqGuard built from config.yml's section, as Rasa builds it, around the boundaries."""
    guard = FaqGuard({k: v for k, v in GUARD.items() if k != "name"})
    message = Message(
        data=_parse(
            "safety_plan", 1.0, [("safety_plan/what_is", best), ("safety_plan/change", second)]
        )
    )
    guard.process([message])
    if answered:
        assert message.get("intent")["name"] == "safety_plan"
        assert message.get(GUARD_KEY) is None
    else:
        assert message.get("intent") == {"name": FALLBACK, "confidence": 1.0}
        assert message.get(GUARD_KEY)["intent"] == "safety_plan"


def test_guard_candidates_become_two_options():
    parse = {"faq_guard": {"candidates": ["safety_plan/legal_status", "safety_plan/change"]}}
    plan = faq.plan_clarification(parse, misunderstood_before=False, known=KNOWN)
    assert plan.mode == "options"
    assert plan.options == ["safety_plan/legal_status", "safety_plan/change"]


def test_a_second_misunderstanding_goes_to_a_person():
    parse = {"faq_guard": {"candidates": ["safety_plan/legal_status", "safety_plan/change"]}}
    assert faq.plan_clarification(parse, misunderstood_before=True, known=KNOWN).mode == "handoff"


def test_fallback_far_from_any_faq_asks_to_rephrase():
    parse = _parse("nlu_fallback", 0.5, [("fgc/request", 0.2), ("fgc/what_is", 0.1)])
    parse["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "out_of_scope", "confidence": 0.4},
        {"name": "fgc", "confidence": 0.3},
    ]
    assert faq.plan_clarification(parse, False, KNOWN).mode == "rephrase"


def test_fallback_near_a_faq_topic_offers_its_closest_answers():
    parse = _parse("nlu_fallback", 0.5, [("fgc/request", 0.4), ("fgc/what_is", 0.3)])
    parse["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "fgc", "confidence": 0.45},
        {"name": "safety_plan", "confidence": 0.40},
    ]
    plan = faq.plan_clarification(parse, False, KNOWN)
    assert plan == faq.Clarification("options", ["fgc/request", "fgc/what_is"])


def test_choice_payload_round_trips_through_rasa_command_syntax():
    payload = faq.choice_payload("fgc/request")
    assert payload.startswith("/choose_faq{")
    assert json.loads(payload[len("/choose_faq") :]) == {"faq": "fgc/request"}


def test_resolve_choice_by_button_or_by_position():
    offered = [faq.choice_payload("fgc/request"), faq.choice_payload("fgc/what_is")]
    assert faq.resolve_choice("safety_plan/change", None, [], KNOWN) == "safety_plan/change"
    assert faq.resolve_choice(None, "the first one", offered, KNOWN) == "fgc/request"
    assert faq.resolve_choice(None, "second option please", offered, KNOWN) == "fgc/what_is"
    assert faq.resolve_choice("made/up", "hmm", offered, KNOWN) is None
    assert faq.resolve_choice(None, "the first one", [None, None], KNOWN) is None


def test_misunderstanding_is_read_from_the_previous_bot_turn():
    events = [
        {"event": "user", "text": "blah"},
        {"event": "action", "name": "action_clarify"},
        {"event": "slot", "name": "clarify_mode", "value": "rephrase"},
        {"event": "action", "name": "utter_ask_rephrase"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "blah again"},
    ]
    assert faq.misunderstood_previous_turn(events) is True
    answered = events[:3] + [
        {"event": "action", "name": "utter_safety_plan"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "x"},
    ]
    assert faq.misunderstood_previous_turn(answered) is False
    assert faq.misunderstood_previous_turn([{"event": "user", "text": "first"}]) is False


def _configured_guard():
    import yaml

    from bot.paths import CONFIG

    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    (guard,) = [c for c in config["pipeline"] if str(c["name"]).endswith("FaqGuard")]
    return guard


def test_the_score_is_the_answer_times_its_topic():
    """A likely answer inside an unlikely topic is not given: 0.7 x 0.5 is below 0.4."""
    ranking = [("safety_plan/legal_status", 0.7), ("safety_plan/change", 0.1)]
    unsure_topic = _parse("safety_plan", 0.5, ranking)
    verdict = judge(unsure_topic, response_threshold=0.4, response_margin=0.05)
    assert verdict is not None and verdict["reason"] == "low_confidence"
    assert verdict["confidence"] == pytest.approx(0.35)
    assert judge(_parse("safety_plan", 0.9, ranking), 0.4, 0.05) is None


def test_a_topic_can_have_its_own_threshold():
    """The answers about the assistant itself need more certainty than the others."""
    topics = {"about": 0.7}
    about = _parse("about", 1.0, [("about/privacy", 0.65), ("about/bot", 0.1)])
    plan = _parse("safety_plan", 1.0, [("safety_plan/change", 0.65), ("safety_plan/contents", 0.1)])
    assert judge(about, 0.4, 0.05, topics)["reason"] == "low_confidence"
    assert judge(plan, 0.4, 0.05, topics) is None
    assert judge(about, 0.4, 0.05) is None


def test_the_configured_guard_refuses_a_guess_and_gives_a_clear_answer():
    """At config.yml's own values (not the defaults): an even split between two answers is
    refused, a clear answer in a clear topic is given, and `about` is stricter."""
    guard = _configured_guard()
    args = (guard["response_threshold"], guard["response_margin"], guard.get("topic_thresholds"))
    split = _parse("fgc", 0.95, [("fgc/request", 0.45), ("fgc/what_is", 0.44)])
    clear = _parse("fgc", 0.95, [("fgc/request", 0.8), ("fgc/what_is", 0.1)])
    assert judge(split, *args) is not None
    assert judge(clear, *args) is None
    level = guard["response_threshold"] + 0.05
    meta = _parse("about", 1.0, [("about/privacy", level), ("about/bot", 0.0)])
    subject = _parse("fgc", 1.0, [("fgc/request", level), ("fgc/what_is", 0.0)])
    assert judge(subject, *args) is None
    assert judge(meta, *args) is not None


# --- Long posts: only plausible options, else a person ----------------------------------------
GRAN_POST = (
    "My mum has said she would look after the baby if it came to it, but honestly we have not "
    "spoken properly in years and I do not want her involved at all. The social worker keeps "
    "bringing her up at every visit like it is already decided and I feel like nobody is "
    "listening to me. Can I say no to my own mum being the one who looks after my baby?"
)


def _post_parse(text, candidates, ranking):
    parse = _parse("nlu_fallback", 0.4, ranking)
    parse["text"] = text
    parse["faq_guard"] = {"candidates": candidates}
    return parse


def test_a_post_is_never_offered_a_meta_answer_or_a_topic_it_does_not_mention():
    """The reported case: "Is this conversation private?" / "Is this legal advice?" offered to
    a mother asking about her own mother caring for her baby."""
    ranking = [("about/privacy", 0.3), ("about/legal_advice", 0.25), ("fgc/request", 0.1)]
    parse = _post_parse(GRAN_POST, ["about/privacy", "about/legal_advice"], ranking)
    assert faq.plan_clarification(parse, False, KNOWN) == faq.Clarification("handoff")


def test_a_post_gets_the_plausible_options_from_further_down_the_ranking():
    ranking = [
        ("about/privacy", 0.55),
        ("supervision/family_network", 0.25),
        ("supervision/relative_cannot", 0.1),
        ("fgc/what_is", 0.05),
    ]
    parse = _post_parse(GRAN_POST, ["about/privacy", "supervision/family_network"], ranking)
    plan = faq.plan_clarification(parse, False, KNOWN)
    assert plan == faq.Clarification(
        "options", ["supervision/family_network", "supervision/relative_cannot"]
    )


def test_a_post_whose_closest_answer_is_unsure_goes_to_a_person():
    ranking = [
        ("supervision/family_network", faq.POST_OPTION_FLOOR - 0.05),
        ("supervision/relative_cannot", 0.2),
    ]
    parse = _post_parse(GRAN_POST, [key for key, _ in ranking], ranking)
    assert faq.plan_clarification(parse, False, KNOWN) == faq.Clarification("handoff")
    parse["text"] = "can my mum supervise"  # a short question keeps its two options
    assert faq.plan_clarification(parse, False, KNOWN).mode == "options"


def test_a_post_far_from_everything_goes_to_a_person_not_a_request_to_rephrase():
    parse = {"text": GRAN_POST, "intent_ranking": [{"name": "out_of_scope", "confidence": 0.6}]}
    assert faq.plan_clarification(parse, False, KNOWN).mode == "handoff"


def test_a_short_question_still_gets_its_two_closest_answers():
    parse = _post_parse(
        "is this private", ["about/privacy", "about/legal_advice"], [("about/privacy", 0.4)]
    )
    assert faq.plan_clarification(parse, False, KNOWN).options == [
        "about/privacy",
        "about/legal_advice",
    ]


def test_is_post_counts_words_and_never_a_button_payload():
    assert faq.is_post(GRAN_POST)
    assert not faq.is_post("what is a safety plan?")
    assert not faq.is_post("/choose_faq" + "{}" * 60 + " x" * 60)
    assert not faq.is_post(None)
