"""A long post is read as a post: the classifiers see its questions, not its whole story.

Parents write forum posts: several sentences of their situation, then one or two questions
somewhere inside ("can they make him move out?", "what happens if we don't sign?"). Read
whole, the story outweighs the question: the classifiers were trained on questions of a
sentence or two, and the words of the story (police, images, the plan) pull them towards
whatever answer shares the most words.

This component runs after the tokenizer and before the featurizers. For a message of
`min_words` words or more it splits the text into sentences, scores each (`score`: a
question mark, a question's opening words, a question clause inside the sentence), and
hands the featurizers only the tokens of the sentences that score `min_score` or more
(`keep_next` sentences after each are kept with them: a question is often finished in
the next sentence). A post with no question keeps all its tokens.

The text and the spaCy document stay whole: the safeguarding override (last in the
pipeline) reads every sentence of the message, whatever this component chose.
The choice it made is in the parse data under `post_focus` (sentence counts, never words).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, Dict, List, Optional, Sequence, Text, Tuple

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.component import StatelessComponent

OUTPUT_KEY = "post_focus"

# Sentence ends: . ! ? (repeated) followed by space, or a line break. Parents often write
# without full stops; the question openers below still find their questions.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s*\n+\s*")
# A question's first words, after a linking word ("but can they ...", "so what happens").
_LINK = r"(?:(?:but|and|so|also|just|ok|okay|basically|then|or|plus|anyway|sorry|please)[\s,]+)*"
_OPENER = re.compile(
    rf"^\W*{_LINK}(?:can|could|do|does|did|is|are|am|will|would|should|shall|must|what|how|"
    r"why|who|where|which|has|have|anyone|any ?one|any advice|is there|are there)\b",
    re.IGNORECASE,
)
_CLAUSE = re.compile(
    r"\b(?:what happens|can they|can i|can we|can he|can she|do i have to|do we have to|"
    r"does he have to|are they allowed|am i allowed|is he allowed|is it true|"
    r"what does (?:this|that|it) mean|does anyone know|anyone know|i want to know|"
    r"i need to know|want to understand|i'?m wondering|wondering (?:if|whether|what|how)|"
    r"any advice|my question is|what (?:is|are) (?:a|an|the)|how (?:do|does|long|can)|"
    r"is there (?:anything|any way))\b",
    re.IGNORECASE,
)


def sentences(text: str) -> List[Tuple[int, int]]:
    """(start, end) character spans of the sentences of `text`, empty ones left out."""
    spans = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if text[start : match.start()].strip():
            spans.append((start, match.start()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def score(sentence: str) -> int:
    """How much a sentence looks like the parent's question: 2 for a question mark, 2 for
    a question's opening words, 1 for a question clause inside it."""
    value = 0
    if "?" in sentence:
        value += 2
    if _OPENER.search(sentence):
        value += 2
    if _CLAUSE.search(sentence):
        value += 1
    return value


@dataclass(frozen=True)
class Focus:
    """The sentence spans kept (all of them when the message is not a post with a question)."""

    spans: Tuple[Tuple[int, int], ...]
    sentences: int
    focused: bool


def focus(text: str, min_words: int, min_score: int, keep_next: int) -> Focus:
    """The sentences the classifiers should read for `text`."""
    spans = sentences(text)
    if len(text.split()) < min_words or len(spans) < 2:
        return Focus(tuple(spans), len(spans), False)
    chosen: List[int] = []
    for index, (start, end) in enumerate(spans):
        if score(text[start:end]) >= min_score:
            for kept in range(index, min(index + keep_next + 1, len(spans))):
                if kept not in chosen:
                    chosen.append(kept)
    if not chosen:
        return Focus(tuple(spans), len(spans), False)
    return Focus(tuple(spans[i] for i in sorted(chosen)), len(spans), True)


def _inside(token: Any, spans: Sequence[Tuple[int, int]]) -> bool:
    return any(start <= token.start and token.end <= end for start, end in spans)


# A featurizer type, like bot.nlu.contact_mask.ContactMask, so that Rasa runs it where the
# featurizers run (training examples are short: none of them is changed).
@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class PostFocus(StatelessComponent):
    """Keeps only the question sentences' tokens of a long post for the featurizers."""

    DEFAULTS: ClassVar[Dict[Text, Any]] = {"min_words": 40, "min_score": 2, "keep_next": 0}

    def __init__(self, config: Optional[Dict[Text, Any]] = None) -> None:
        super().__init__(config)
        self.min_words = int(self.config["min_words"])
        self.min_score = int(self.config["min_score"])
        self.keep_next = int(self.config["keep_next"])

    def _focus(self, message: Message, output: bool) -> None:
        text = message.get(TEXT)
        tokens = message.get(TOKENS_NAMES[TEXT])
        if not isinstance(text, str) or not tokens:
            return
        chosen = focus(text, self.min_words, self.min_score, self.keep_next)
        if not chosen.focused:
            return
        kept = [token for token in tokens if _inside(token, chosen.spans)]
        if not kept:
            return
        message.set(TOKENS_NAMES[TEXT], kept)
        if output:
            message.set(
                OUTPUT_KEY,
                {"sentences": chosen.sentences, "kept": len(chosen.spans)},
                add_to_output=True,
            )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._focus(example, output=False)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._focus(message, output=True)
        return messages
