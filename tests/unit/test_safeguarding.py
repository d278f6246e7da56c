"""Safeguarding: crisis messages get their emergency route first (bot/nlu/safeguarding.py,
patterns compiled and matched by bot/nlu/crisis_patterns.py).

Here, without a trained model: the pattern matcher and the decision rule as plain
functions, and a missing or broken patterns file stopping the component. The trained
model's recall and precision on the crisis and safe test sets are measured in
tests/model/test_safeguarding_model.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict

import pytest
import yaml

from bot.intents import CRISIS_INTENTS
from bot.nlu import crisis_patterns as cp
from bot.nlu import safeguarding as sg
from bot.paths import PROJECT_ROOT
from tools import corpus

DOMAIN = PROJECT_ROOT / "domain.yml"


def category(text: str) -> str | None:
    return cp.match_text(text).category


# --- 1. The matcher, without Rasa ----------------------------------------------------------


def test_the_categories_are_the_domains_crisis_intents():
    """Each crisis intent in domain.yml has rules, a place in the priority and a response."""
    domain = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))
    intents = {i for i in domain["intents"] if str(i).startswith("crisis_")}
    patterns = cp.default_patterns()
    assert intents == set(CRISIS_INTENTS) == set(patterns.priority)
    assert intents == {rule.category for rule in patterns.rules}
    for intent in intents:
        assert f"utter_{intent}" in domain["responses"]


@pytest.mark.parametrize(
    "text, expected",
    [
        # immediate danger: happening now, a weapon, an overdose taken, signs of a life at risk
        ("he is hitting my son right now", "crisis_immediate_danger"),
        ("my partner has just punched our daughter", "crisis_immediate_danger"),
        ("hes got a knife", "crisis_immediate_danger"),
        ("she has taken a whole box of paracetemol", "crisis_immediate_danger"),
        ("he overdosed and wont wake up", "crisis_immediate_danger"),
        ("my baby is not breathing", "crisis_immediate_danger"),
        ("he says he's going to kill us", "crisis_immediate_danger"),
        # abuse disclosure
        ("my daughter told me her uncle touched her", "crisis_abuse_disclosure"),
        ("i think he has been abusing our son", "crisis_abuse_disclosure"),
        ("my son was sexually assaulted", "crisis_abuse_disclosure"),
        ("he made her keep it a secret", "crisis_abuse_disclosure"),
        # suicidal, with misspellings and curly apostrophes
        ("I want to kill myself", "crisis_suicidal"),
        ("i want to kill myslef", "crisis_suicidal"),
        ("feeling really sucidal", "crisis_suicidal"),
        ("I can’t cope any more", "crisis_suicidal"),
        ("cant go on", "crisis_suicidal"),
        ("my husband says we'd all be better off without him", "crisis_suicidal"),
        ("kms", "crisis_suicidal"),
        # own thoughts
        ("I think I'm attracted to children", "crisis_own_thoughts"),
        ("i keep looking at child porn", "crisis_own_thoughts"),
        ("i think i might be a peadophile", "crisis_own_thoughts"),
        # a young person
        ("im 14", "crisis_young_person"),
        ("I’m 13 and scared", "crisis_young_person"),
        ("i am fourteen", "crisis_young_person"),
        ("i'm a 15 year old girl", "crisis_young_person"),
        ("im in year 9", "crisis_young_person"),
    ],
)
def test_crisis_patterns_fire(text: str, expected: str):
    assert category(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # the issue's own examples
        "what happens if we break the safety plan",
        "the risk to the children",
        "the police said there is no immediate danger",
        "I'm not suicidal, just tired",
        # idioms and everyday uses of the same words
        "I'm dying to know what the assessor will ask",
        "we're killing time before the meeting",
        "the waiting is killing me",
        "my phone died",
        "at the end of the day it's his choice",
        "how do other parents cope",
        "can we end the safety plan early",
        # the forum's everyday topic, told about someone else
        "he was arrested for indecent images of children",
        "my husband looked at images of children online",
        "he says he is not attracted to children",
        "what if he still has urges to look at images",
        "my husband was abused as a child",
        # ages that are not a young person writing
        "my son is 14",
        "I'm 16 weeks pregnant",
        "I'm 34",
        "I'm a child protection social worker",
    ],
)
def test_harmless_uses_do_not_fire(text: str):
    assert category(text) is None


@pytest.mark.parametrize(
    "text, category",
    [
        ("i keep thinking about dying", "crisis_suicidal"),
        ("i'm thirteen", "crisis_young_person"),
        ("he punched the wall", "crisis_immediate_danger"),
        ("i've been watching things involving kids", "crisis_own_thoughts"),
    ],
)
def test_cues_let_the_classifier_speak(text: str, category: str):
    assert category in cp.match_text(text).cued


@pytest.mark.parametrize(
    "text, category",
    [
        ("he was arrested for having indecent images of children", "crisis_own_thoughts"),
        ("does viewing images count as child abuse", "crisis_abuse_disclosure"),
        ("I'm 34 and have two kids", "crisis_young_person"),
        ("I was 15 when I had my first child", "crisis_young_person"),
        ("I feel so hurt and betrayed by him", "crisis_immediate_danger"),
        ("what if he still has urges to look at images", "crisis_own_thoughts"),
    ],
)
def test_everyday_forum_words_are_not_cues(text: str, category: str):
    assert category not in cp.match_text(text).cued


def test_a_negation_removes_only_what_it_negates():
    negated = cp.match_text("I'm not suicidal, just tired")
    assert negated.category is None
    assert "crisis_suicidal/suicide_words" in negated.excluded
    assert "crisis_suicidal" in negated.vetoed
    both = cp.match_text("I'm not suicidal but he has a knife and he's drunk")
    assert both.category == "crisis_immediate_danger"
    assert cp.match_text("I'm not coping at all").category == "crisis_suicidal"
    assert cp.match_text("there's no immediate danger now").category is None
    assert cp.match_text("the kids are in danger").category == "crisis_immediate_danger"


def test_a_crisis_in_the_middle_of_a_long_message_fires():
    text = (
        "Hi, we had the first meeting with the assessor last week and it went ok I think, "
        "she asked about the safety plan and sleeping arrangements, but honestly since then "
        "my husband has been saying he wants to end his life and I don't know what to do, "
        "and I also wanted to ask about the family group conference"
    )
    assert category(text) == "crisis_suicidal"


def test_priority_puts_the_most_urgent_answer_first():
    overdose = cp.match_text("he wants to die and has taken an overdose")
    assert overdose.category == "crisis_immediate_danger"
    assert "crisis_suicidal" in overdose.categories
    young = cp.match_text("im 14 and i want to kill myself")
    assert young.category == "crisis_young_person"
    assert young.categories[:2] == ("crisis_young_person", "crisis_suicidal")


def test_every_pattern_word_can_match_a_token():
    """A word the tokenizer splits ("can't", "step-dad") or a lemma no token has ("ds" ->
    "d") would silently never match: every literal must be one token, and every lemma a
    lemma the pipeline produces (or an inflection whose lemma is in the same set)."""
    nlp = cp.project_nlp()
    patterns = cp.default_patterns()
    dead = set()
    for group in list(patterns.rules) + list(patterns.exclusions) + list(patterns.cues):
        for pattern in group.patterns:
            for token in pattern:
                for attr in ("LOWER", "LEMMA"):
                    value = token.get(attr)
                    if value is None or (isinstance(value, dict) and "REGEX" in value):
                        continue
                    values = (
                        [value]
                        if isinstance(value, str)
                        else (value.get("IN") or value.get("NOT_IN") or [])
                    )
                    for word in values:
                        if word[:1] in ("'", "’"):
                            continue  # clitics ("'m", "n't") only exist after a word
                        doc = nlp(word)
                        if len(doc) != 1:
                            dead.add(f"{group.key}: {word!r} is {len(doc)} tokens")
                        elif attr == "LEMMA" and doc[0].lemma_ not in values:
                            dead.add(f"{group.key}: lemma {word!r} -> {doc[0].lemma_!r}")
    assert not dead, "\n".join(sorted(dead))


def test_the_notation_compiles_to_matcher_patterns():
    lists = {"kid": ("child", "kid")}
    assert cp.compile_pattern("@hit|punch _{0,2} me", lists) == [
        ({"LEMMA": {"IN": ["hit", "punch"]}}, {"OP": "{0,2}"}, {"LOWER": "me"})
    ]
    assert cp.compile_pattern("!he|$kid? re:^1[0-7]$", lists) == [
        ({"LOWER": {"NOT_IN": ["he", "child", "kid"]}, "OP": "?"}, {"LOWER": {"REGEX": "^1[0-7]$"}})
    ]
    assert cp.compile_pattern("( no one / nobody ) cares", lists) == [
        ({"LOWER": "no"}, {"LOWER": "one"}, {"LOWER": "cares"}),
        ({"LOWER": "nobody"}, {"LOWER": "cares"}),
    ]


@pytest.mark.parametrize(
    "bad",
    [
        "_?",  # can match nothing
        "hit $nolist",  # unknown list
        "me|@him",  # @ in the middle of a token
        "( a / ) b",  # empty choice
        "( a / b",  # unclosed group
        "re:([",  # bad regular expression
        "re:^1[0-7]$|$kid",  # a list inside a regular expression
    ],
)
def test_bad_notation_is_refused(bad: str):
    with pytest.raises(cp.PatternsError):
        cp.compile_pattern(bad, {})


# --- The decision rule (DIET's ranking + the patterns), without Rasa ------------------------


def _parse(intent: str, confidence: float, ranking: Dict[str, float]) -> Dict[str, Any]:
    return {
        "text": "x",
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking.items()],
    }


NO_MATCH = cp.PatternResult(category=None, rule=None)


def cued(*categories: str) -> cp.PatternResult:
    """No pattern matched, but the message has cues of these categories."""
    return cp.PatternResult(category=None, rule=None, cued=categories)


FLOORS = sg.SafeguardingOverride.get_default_config()


def _decide(parse: Dict[str, Any], result: cp.PatternResult = NO_MATCH):
    return sg.decide(parse, result, FLOORS["fallback_floor"], FLOORS["confident_floor"])


def test_a_pattern_overrides_any_intent_even_a_confident_faq():
    parse = _parse("safety_plan", 0.97, {"safety_plan": 0.97, "fgc": 0.02})
    result = cp.PatternResult("crisis_suicidal", "crisis_suicidal/kill_self", ("crisis_suicidal",))
    decision = _decide(parse, result)
    assert (decision.action, decision.category, decision.matched_by) == (
        "fire",
        "crisis_suicidal",
        "pattern",
    )
    after = sg.apply_decision(parse, decision)
    assert after["intent"] == {"name": "crisis_suicidal", "confidence": 1.0}
    assert after["intent_ranking"][0] == after["intent"]
    assert after["intent_ranking"][1]["name"] == "safety_plan"
    assert after["safeguarding"] == {
        "category": "suicidal",
        "intent": "crisis_suicidal",
        "matched_by": "pattern",
        "rule": "crisis_suicidal/kill_self",
        "overridden": "safety_plan",
    }


def test_a_crisis_under_fallback_fires_at_the_floor_and_not_below():
    floor = FLOORS["fallback_floor"]
    at = _parse(
        "nlu_fallback",
        0.5,
        {"nlu_fallback": 0.5, "assessment": 0.4, "crisis_abuse_disclosure": floor},
    )
    below = _parse(
        "nlu_fallback",
        0.5,
        {"nlu_fallback": 0.5, "assessment": 0.6, "crisis_abuse_disclosure": floor - 0.01},
    )
    with_cue = cued("crisis_abuse_disclosure")
    assert _decide(at, with_cue).category == "crisis_abuse_disclosure"
    assert _decide(at, with_cue).rule == "over_fallback"
    assert _decide(below, with_cue) is None
    assert _decide(at, cued("crisis_suicidal")) is None  # a cue of another category


def test_a_crisis_close_behind_a_confident_intent_fires_at_its_floor():
    floor = FLOORS["confident_floor"]
    close = _parse("out_of_scope", 0.55, {"out_of_scope": 0.55, "crisis_suicidal": floor})
    far = _parse("out_of_scope", 0.9, {"out_of_scope": 0.9, "crisis_suicidal": floor - 0.01})
    assert _decide(close, cued("crisis_suicidal")).category == "crisis_suicidal"
    assert _decide(close) is None
    assert _decide(far, cued("crisis_suicidal")) is None


def test_the_classifiers_crisis_needs_a_cue_and_no_negation():
    parse = _parse("crisis_suicidal", 0.8, {"crisis_suicidal": 0.8, "about": 0.1})
    kept = _decide(parse, cued("crisis_suicidal"))
    assert (kept.action, kept.matched_by) == ("fire", "classifier")
    no_cue = _decide(parse, cued("crisis_immediate_danger"))
    assert (no_cue.action, no_cue.rule) == ("veto", "no_cue")
    vetoed = _decide(parse, cp.match_text("I'm not suicidal, just tired"))
    assert (vetoed.action, vetoed.rule) == ("veto", "negation")
    after = sg.apply_decision(parse, vetoed)
    assert after["intent"]["name"] == "nlu_fallback"
    assert not any(i["name"].startswith("crisis_") for i in after["intent_ranking"])


def test_the_output_names_rules_never_message_words():
    text = "my husband says he'll kill himself tonight, his name is Gareth"
    parse = _parse("nlu_fallback", 0.3, {"about": 0.3})
    parse["text"] = text
    after = sg.apply_decision(parse, _decide(parse, cp.match_text(text)))
    output = json.dumps(after["safeguarding"]).lower()
    for word in ("husband", "gareth", "tonight", "himself"):
        assert word not in output


def test_the_component_overrides_a_message_with_or_without_a_spacy_doc():
    from rasa.shared.nlu.training_data.message import Message

    component = sg.SafeguardingOverride(FLOORS, cp.default_patterns())
    with_doc = Message(
        data={
            "text": "i can't cope anymore",
            "intent": {"name": "nlu_fallback", "confidence": 0.5},
            "intent_ranking": [],
        }
    )
    with_doc.set(sg.SPACY_DOC_KEY, cp.make_doc("i can't cope anymore"))
    without_doc = Message(
        data={
            "text": "IM 14 and scared",
            "intent": {"name": "greet", "confidence": 0.9},
            "intent_ranking": [],
        }
    )
    untouched = Message(
        data={
            "text": "what is a safety plan",
            "intent": {"name": "safety_plan", "confidence": 0.9},
            "intent_ranking": [{"name": "safety_plan", "confidence": 0.9}],
        }
    )
    component.process([with_doc, without_doc, untouched])
    assert with_doc.get("intent")["name"] == "crisis_suicidal"
    assert without_doc.get("intent")["name"] == "crisis_young_person"
    assert with_doc.get("safeguarding")["matched_by"] == "pattern"
    assert {"intent", "intent_ranking", "safeguarding"} <= with_doc.output_properties
    assert untouched.get("intent")["name"] == "safety_plan"
    assert untouched.get("safeguarding") is None


# --- 3. A missing or broken patterns file fails loudly ---------------------------------------


def _create(patterns_file: Path) -> sg.SafeguardingOverride:
    config = dict(FLOORS, patterns_file=str(patterns_file))
    return sg.SafeguardingOverride.create(config, None, None, None)  # type: ignore[arg-type]


def test_the_component_loads_the_projects_patterns():
    component = _create(cp.PATTERNS_FILE)
    assert len(component.patterns.rules) >= len(CRISIS_INTENTS)


def test_a_missing_patterns_file_stops_the_component(tmp_path):
    with pytest.raises(cp.PatternsError, match="not found"):
        _create(tmp_path / "nowhere.yml")


@pytest.mark.parametrize(
    "breakage",
    [
        lambda text: text + "\n  oops: [unclosed\n",  # not YAML
        lambda text: text.replace("  crisis_own_thoughts:\n", "  crisis_other:\n", 1),
        lambda text: text.replace("$harming", "$no_such_list", 1),
        lambda text: text.replace('"n’t", nt, never, "no"]', '"n’t", nt, never, no]', 1),
        lambda text: text.replace("  - crisis_own_thoughts\n", "", 1),  # priority incomplete
        lambda text: "just a sentence\n",
    ],
)
def test_a_broken_patterns_file_stops_the_component(tmp_path, breakage: Callable[[str], str]):
    original = cp.PATTERNS_FILE.read_text(encoding="utf-8")
    broken = breakage(original)
    assert broken != original
    path = tmp_path / "patterns.yml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(cp.PatternsError):
        _create(path)


def test_a_pattern_spacy_rejects_stops_the_component(tmp_path):
    text = cp.PATTERNS_FILE.read_text(encoding="utf-8").replace(
        "  harm_happening_now:\n", "  harm_happening_now:\n      - [{LOWER: hit, OP: '%'}]\n", 1
    )
    path = tmp_path / "patterns.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(cp.PatternsError, match="spaCy"):
        _create(path)


def test_the_test_sets_are_big_enough():
    sets = corpus.crisis_messages()
    assert set(sets) == set(CRISIS_INTENTS)
    assert all(len(messages) >= 30 for messages in sets.values())
    assert sum(len(messages) for messages in corpus.safe_messages().values()) >= 120


# --- 4. Issue 17: the check-in tier, sentences, and a cheap override --------------------------


def checks(category: str, *cues: str) -> cp.PatternResult:
    """No strong pattern; a check-in rule of `category` matched."""
    return cp.PatternResult(
        category=None, rule=None, cued=cues, checkin=category, checkin_rule=f"{category}/x"
    )


def test_a_weaker_pattern_gets_a_check_in_instead_of_a_faq():
    parse = _parse("safety_plan", 0.6, {"safety_plan": 0.6, "fgc": 0.2})
    decision = _decide(parse, checks("crisis_suicidal"))
    assert (decision.action, decision.category, decision.matched_by) == (
        "checkin",
        "crisis_suicidal",
        "pattern",
    )
    after = sg.apply_decision(parse, decision)
    assert after["intent"] == {"name": "checkin_suicidal", "confidence": 1.0}
    assert after["intent_ranking"][0] == after["intent"]
    assert after["safeguarding"]["checkin"] is True
    assert after["safeguarding"]["category"] == "suicidal"
    # under a clarification too
    fallback = _parse("nlu_fallback", 0.4, {"nlu_fallback": 0.4})
    assert _decide(fallback, checks("crisis_own_thoughts")).action == "checkin"


def test_a_strong_pattern_or_a_cued_classifier_wins_over_a_check_in():
    parse = _parse("crisis_suicidal", 0.8, {"crisis_suicidal": 0.8})
    strong = cp.PatternResult(
        "crisis_immediate_danger",
        "crisis_immediate_danger/weapon",
        ("crisis_immediate_danger",),
        checkin="crisis_suicidal",
        checkin_rule="crisis_suicidal/x",
    )
    assert _decide(parse, strong).action == "fire"
    cued_crisis = _decide(parse, checks("crisis_young_person", "crisis_suicidal"))
    assert (cued_crisis.action, cued_crisis.category) == ("fire", "crisis_suicidal")


def test_the_classifier_alone_checks_in_only_when_confident():
    floor = FLOORS["checkin_floor"]
    sure = _parse("crisis_suicidal", floor, {"crisis_suicidal": floor})
    unsure = _parse("crisis_suicidal", floor - 0.01, {"crisis_suicidal": floor - 0.01})
    decide = sg.decide
    args = (FLOORS["fallback_floor"], FLOORS["confident_floor"], floor)
    assert decide(sure, NO_MATCH, *args).action == "checkin"
    assert decide(sure, NO_MATCH, *args).matched_by == "classifier"
    assert (decide(unsure, NO_MATCH, *args).action, decide(unsure, NO_MATCH, *args).rule) == (
        "veto",
        "no_cue",
    )
    vetoed = cp.match_text("I'm not suicidal, just tired")
    assert decide(sure, vetoed, *args).action == "veto"


@pytest.mark.parametrize(
    "text, category",
    [
        ("honestly im just done with it all", "crisis_suicidal"),
        ("he's kicking off again", "crisis_immediate_danger"),
        ("does childline do this kind of thing", "crisis_young_person"),
    ],
)
def test_check_in_rules_match(text: str, category: str):
    result = cp.match_text(text)
    assert result.category is None
    assert result.checkin == category


def test_apply_decision_never_copies_the_spacy_doc():
    doc = cp.make_doc("i can't cope anymore")
    parse = _parse("nlu_fallback", 0.3, {"nlu_fallback": 0.3})
    parse[sg.SPACY_DOC_KEY] = doc
    before = dict(parse)
    after = sg.apply_decision(parse, _decide(parse, cp.match_text("i can't cope anymore")))
    assert after[sg.SPACY_DOC_KEY] is doc  # shared, not a deep copy
    assert after["intent"]["name"] == "crisis_suicidal"
    assert parse == before and parse["intent"]["name"] == "nlu_fallback"  # input untouched
    fields = sg.override_fields(parse, _decide(parse, cp.match_text("i can't cope anymore")))
    assert set(fields) == {"intent", "intent_ranking", "safeguarding"}


def test_a_long_post_is_checked_sentence_by_sentence():
    doc = cp.make_doc("First line. Second one!\nThird? and the fourth")
    assert [span.text.strip() for span in cp.sentences(doc)] == [
        "first line.",
        "second one!",
        "third?",
        "and the fourth",
    ]
    # a negation in one sentence no longer vetoes the classifier for the whole post
    text = "I'm not suicidal. But everything feels pointless and I want it to stop"
    result = cp.match_text(text)
    assert "crisis_suicidal" in result.cued
    assert "crisis_suicidal" not in result.vetoed
    alone = cp.match_text("I'm not suicidal, just tired")
    assert "crisis_suicidal" in alone.vetoed
    # a crisis sentence in the middle of a question about safety plans still comes first
    post = (
        "We had the review of the safety plan on Monday and it went ok. "
        "Honestly I have lined up every pill in the house tonight. "
        "Can the plan be changed if my mum moves in?"
    )
    assert cp.match_text(post).category == "crisis_suicidal"


def test_the_check_in_answers_and_their_buttons_are_in_the_domain():
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    rules = (PROJECT_ROOT / "data" / "rules.yml").read_text(encoding="utf-8")
    for crisis in CRISIS_INTENTS:
        name = crisis.replace("crisis_", "", 1)
        assert f"checkin_{name}" in domain["intents"]
        (variation,) = domain["responses"][f"utter_checkin_{name}"]
        assert variation["custom"] == {"checkin": name}
        assert "{emergency}" in variation["text"]
        assert [b["payload"] for b in variation["buttons"]] == ["/checkin_safe", f"/{crisis}"]
        assert f"- intent: checkin_{name}\n      - action: utter_checkin_{name}" in rules
    assert "- intent: checkin_safe\n      - action: utter_crisis_carry_on" in rules
