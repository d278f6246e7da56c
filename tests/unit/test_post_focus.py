"""Reading a long post as a post (bot/nlu/post_focus.py) and the IIOC scope check of the FAQ
guard (bot/nlu/faq_guard.py), without a trained model."""

from __future__ import annotations

from typing import Any, Dict

from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.intents import RETRIEVAL_INTENTS
from bot.nlu.faq_guard import GUARD_KEY, FaqGuard, other_matter
from bot.nlu.post_focus import OUTPUT_KEY, PostFocus, focus, score, sentences

POST = (
    "My partner was arrested in the spring and he has been living at his mum's since then. "
    "The social worker comes every couple of weeks and the kids are coping better now. "
    "Yesterday she said there will be a family group conference next month and I nodded "
    "along but I had no idea what she meant. "
    "What actually happens at one of those? "
    "I am so tired of pretending I understand everything they say"
)


def test_sentences_split_on_end_marks_and_line_breaks():
    text = "First one. Second one?? third one\nfourth one"
    assert [text[s:e] for s, e in sentences(text)] == [
        "First one.",
        "Second one??",
        "third one",
        "fourth one",
    ]


def test_questions_score_above_context():
    assert score("What actually happens at one of those?") >= 2
    assert score("so can they make him move out") >= 2
    assert score("The social worker comes every couple of weeks.") == 0
    assert score("I want to know what the plan means") == 1


def test_a_long_post_keeps_only_its_question_sentences():
    chosen = focus(POST, min_words=40, min_score=2, keep_next=0)
    assert chosen.focused and chosen.sentences == 5
    assert [POST[s:e] for s, e in chosen.spans] == ["What actually happens at one of those?"]
    with_next = focus(POST, min_words=40, min_score=2, keep_next=1)
    assert len(with_next.spans) == 2


def test_a_short_question_or_a_post_without_a_question_is_read_whole():
    assert not focus("What is a safety plan? I need to know.", 40, 2, 0).focused
    story = "The conference was awful. " * 12
    assert not focus(story, 40, 2, 0).focused


def _tokens(text: str):
    tokens, offset = [], 0
    for word in text.split(" "):
        start = text.index(word, offset)
        tokens.append(Token(word, start))
        offset = start + len(word)
    return tokens


def test_the_component_hides_context_tokens_but_keeps_the_text_whole():
    message = Message(data={TEXT: POST, TOKENS_NAMES[TEXT]: _tokens(POST)})
    PostFocus({}).process([message])
    kept = [t.text for t in message.get(TOKENS_NAMES[TEXT])]
    assert kept == ["What", "actually", "happens", "at", "one", "of", "those?"]
    assert message.get(TEXT) == POST  # the safeguarding override reads every sentence
    assert message.get(OUTPUT_KEY) == {"sentences": 5, "kept": 1}
    short = Message(data={TEXT: "what is an FGC", TOKENS_NAMES[TEXT]: _tokens("what is an FGC")})
    PostFocus({}).process([short])
    assert len(short.get(TOKENS_NAMES[TEXT])) == 4 and short.get(OUTPUT_KEY) is None


# --- Nearby matters that are not an IIOC case --------------------------------------------------
PRE_BIRTH = (
    "I am 20 weeks pregnant and the social worker says they will do a pre-birth assessment "
    "because of my history with my ex, who was violent to me years ago. I have not seen him "
    "since and I have done every course they asked. I am so scared they will take my baby. "
    "What is the assessment for and what will they be looking at?"
)
IIOC_POST = PRE_BIRTH.replace("who was violent to me years ago", "who was arrested for images")


def _parse(text: str, answer: str) -> Dict[str, Any]:
    topic = answer.split("/")[0]
    return {
        TEXT: text,
        "intent": {"name": topic, "confidence": 0.9},
        "response_selector": {
            "all_retrieval_intents": list(RETRIEVAL_INTENTS),
            "default": {
                "response": {"intent_response_key": answer},
                "ranking": [{"intent_response_key": answer, "confidence": 0.95}],
            },
        },
    }


def test_an_iioc_answer_to_a_post_about_a_nearby_matter_becomes_out_of_scope():
    assert other_matter(PRE_BIRTH, "assessment/purpose", 40)
    message = Message(data=_parse(PRE_BIRTH, "assessment/purpose"))
    FaqGuard({"response_threshold": 0.6, "response_margin": 0.1}).process([message])
    assert message.get("intent")["name"] == "out_of_scope"
    assert message.get(GUARD_KEY)["reason"] == "other_matter"


def test_iioc_cases_short_questions_and_general_answers_are_not_touched():
    assert not other_matter(IIOC_POST, "assessment/purpose", 40)
    assert not other_matter("what is the assessment for? I am pregnant", "assessment/purpose", 40)
    assert not other_matter(PRE_BIRTH, "process/pre_birth", 40)
    message = Message(data=_parse(PRE_BIRTH, "process/pre_birth"))
    FaqGuard({"response_threshold": 0.6, "response_margin": 0.1}).process([message])
    assert message.get("intent")["name"] == "process"
