"""The crisis patterns: bot/nlu/safeguarding_patterns.yml read, compiled and matched.

The patterns file holds, per crisis category (intent), named rules in a small notation
(its header explains it: words, @lemmas, $lists, alternatives, groups, quantifiers,
regular expressions), exclusions for negated and harmless uses ("not suicidal", "dying to
know"), and cues: looser vocabulary that lets the classifier's crisis intents count
(bot/nlu/safeguarding.py decides with them). This module turns the notation into spaCy
Matcher patterns and matches a message with them; it does not decide anything.

The file is read once per process; a missing or broken file raises PatternsError, so the
safeguarding component never runs without it. No Rasa import: tests and tools call
`load_patterns`, `compile_pattern`, `CrisisMatcher.match(doc)` and `match_text(text)`
directly.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import yaml

from bot.intents import CRISIS_INTENTS
from bot.paths import PROJECT_ROOT

PATTERNS_FILE = Path(__file__).resolve().parent / "safeguarding_patterns.yml"
EXCLUDE = "exclude"

_QUANTIFIER = re.compile(r"^(?P<body>.+?)(?P<op>\?|\+|\*|\{\d*,?\d*\})$")


class PatternsError(ValueError):
    """The patterns file is missing or broken: refuse to run without safeguarding."""


# --- The patterns file ---------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One named rule of a category, compiled to spaCy Matcher patterns."""

    category: str
    name: str
    patterns: Tuple[Tuple[Dict[str, Any], ...], ...]

    @property
    def key(self) -> str:
        return f"{self.category}/{self.name}"


@dataclass(frozen=True)
class Exclusion(Rule):
    """Harmless or negated uses (a rule of the category "exclude"): a crisis match of one
    of `categories` inside one is dropped; `veto` also stops a classifier-only prediction."""

    categories: Tuple[str, ...] = ()
    veto: bool = False


@dataclass(frozen=True)
class Patterns:
    """The whole patterns file, validated and compiled."""

    priority: Tuple[str, ...]
    rules: Tuple[Rule, ...]
    exclusions: Tuple[Exclusion, ...]
    cues: Tuple[Rule, ...] = ()  # one Rule per category, named "cue"
    lists: Mapping[str, Tuple[str, ...]] = field(default_factory=dict)
    checkin: Tuple[Rule, ...] = ()  # weaker rules: a gentle check, not the crisis answer


def load_patterns(path: Path | str = PATTERNS_FILE) -> Patterns:
    """Read, validate and compile the patterns file; raise PatternsError if anything is off."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise PatternsError(f"safeguarding patterns file not found: {path.name}") from error
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise PatternsError(
            f"safeguarding patterns file unreadable: {path.name}: {error}"
        ) from error
    if not isinstance(raw, dict):
        raise PatternsError(f"{path.name} must hold a mapping")
    try:
        return _compile_file(raw)
    except PatternsError as error:
        raise PatternsError(f"{path.name}: {error}") from error


def _compile_file(raw: Dict[str, Any]) -> Patterns:
    lists = _read_lists(raw.get("lists") or {})
    priority = tuple(raw.get("priority") or ())
    if sorted(priority) != sorted(CRISIS_INTENTS):
        raise PatternsError(f"priority must list each crisis intent once: {CRISIS_INTENTS}")
    categories = raw.get("categories")
    if not isinstance(categories, dict) or sorted(categories) != sorted(CRISIS_INTENTS):
        raise PatternsError(f"categories must be exactly {CRISIS_INTENTS}")
    rules: List[Rule] = []
    for category, named in categories.items():
        if not isinstance(named, dict) or not named:
            raise PatternsError(f"{category}: needs at least one named rule")
        for name, patterns in named.items():
            compiled = _compile_many(patterns, lists, f"{category}/{name}")
            rules.append(Rule(category, str(name), compiled))
    exclusions: List[Exclusion] = []
    for name, spec in (raw.get("exclusions") or {}).items():
        if not isinstance(spec, dict) or "patterns" not in spec:
            raise PatternsError(f"exclusion {name}: needs `patterns`")
        cats = tuple(spec.get("categories") or CRISIS_INTENTS)
        unknown = set(cats) - set(CRISIS_INTENTS)
        if unknown:
            raise PatternsError(f"exclusion {name}: unknown categories {sorted(unknown)}")
        veto = spec.get("veto", False)
        if not isinstance(veto, bool):
            raise PatternsError(f"exclusion {name}: veto must be true or false")
        compiled = _compile_many(spec["patterns"], lists, f"exclusion {name}")
        exclusions.append(Exclusion(EXCLUDE, str(name), compiled, cats, veto))
    raw_cues = raw.get("cues")
    if not isinstance(raw_cues, dict) or sorted(raw_cues) != sorted(CRISIS_INTENTS):
        raise PatternsError(f"cues must give patterns for exactly {CRISIS_INTENTS}")
    cues = tuple(
        Rule(category, "cue", _compile_many(raw_cues[category], lists, f"cues {category}"))
        for category in CRISIS_INTENTS
    )
    checkin: List[Rule] = []
    raw_checkin = raw.get("checkin") or {}
    if not isinstance(raw_checkin, dict) or set(raw_checkin) - set(CRISIS_INTENTS):
        raise PatternsError(f"checkin must map crisis intents {CRISIS_INTENTS} to named rules")
    for category, named in raw_checkin.items():
        if not isinstance(named, dict) or not named:
            raise PatternsError(f"checkin {category}: needs at least one named rule")
        for name, patterns in named.items():
            compiled = _compile_many(patterns, lists, f"checkin {category}/{name}")
            checkin.append(Rule(category, str(name), compiled))
    patterns = Patterns(
        priority, tuple(rules), tuple(exclusions), cues, lists, checkin=tuple(checkin)
    )
    _check_with_spacy(patterns)
    return patterns


def _read_lists(raw: Any) -> Dict[str, Tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise PatternsError("lists must be a mapping of name -> words")
    lists: Dict[str, Tuple[str, ...]] = {}
    for name, words in raw.items():
        if not isinstance(words, list) or not words:
            raise PatternsError(f"list {name}: needs a non-empty list of words")
        for word in words:
            if not isinstance(word, str):
                # YAML reads a bare no, yes, on or off as a boolean: quote such words.
                raise PatternsError(f"list {name}: {word!r} is not a word (quote it)")
        lists[str(name)] = tuple(word.lower() for word in words)
    return lists


def _compile_many(
    patterns: Any, lists: Mapping[str, Tuple[str, ...]], where: str
) -> Tuple[Tuple[Dict[str, Any], ...], ...]:
    if not isinstance(patterns, list) or not patterns:
        raise PatternsError(f"{where}: needs a non-empty list of patterns")
    compiled: List[Tuple[Dict[str, Any], ...]] = []
    for pattern in patterns:
        if isinstance(pattern, str):
            compiled.extend(compile_pattern(pattern, lists, where))
        elif isinstance(pattern, list) and pattern and all(isinstance(t, dict) for t in pattern):
            compiled.append(tuple(pattern))
        else:
            raise PatternsError(f"{where}: a pattern must be a string or a list of token dicts")
    return tuple(compiled)


def compile_pattern(
    text: str, lists: Mapping[str, Tuple[str, ...]], where: str = "pattern"
) -> List[Tuple[Dict[str, Any], ...]]:
    """Turn one pattern of the file's notation into spaCy Matcher patterns (groups expand).

    >>> compile_pattern("@hit|punch _{0,2} me", {})
    [({'LEMMA': {'IN': ['hit', 'punch']}}, {'OP': '{0,2}'}, {'LOWER': 'me'})]
    """
    words = text.split()
    if not words:
        raise PatternsError(f"{where}: empty pattern")
    choices: List[List[List[Dict[str, Any]]]] = []  # a list of slots, each a list of options
    i = 0
    while i < len(words):
        word = words[i]
        if word == "(":
            end = i + 1
            while end < len(words) and words[end] not in (")", ")?"):
                if words[end] == "(":
                    raise PatternsError(f"{where}: groups cannot nest: {text!r}")
                end += 1
            if end == len(words):
                raise PatternsError(f"{where}: unclosed group in {text!r}")
            options = [[]]  # type: List[List[str]]
            for inner in words[i + 1 : end]:
                if inner == "/":
                    options.append([])
                else:
                    options[-1].append(inner)
            if any(not option for option in options):
                raise PatternsError(f"{where}: empty choice in group of {text!r}")
            slot = [[_token(w, lists, where) for w in option] for option in options]
            if words[end] == ")?":
                slot.append([])
            choices.append(slot)
            i = end + 1
            continue
        if word in (")", ")?", "/"):
            raise PatternsError(f"{where}: stray {word!r} in {text!r}")
        choices.append([[_token(word, lists, where)]])
        i += 1
    expanded = []
    for combination in itertools.product(*choices):
        tokens = tuple(token for part in combination for token in part)
        if not tokens or all(_is_optional(token) for token in tokens):
            raise PatternsError(f"{where}: {text!r} can match nothing at all")
        expanded.append(tokens)
    return expanded


def _is_optional(token: Dict[str, Any]) -> bool:
    op = token.get("OP", "1")
    return op in ("?", "*") or (op.startswith("{") and op[1:].split(",")[0] in ("", "0"))


def _token(word: str, lists: Mapping[str, Tuple[str, ...]], where: str) -> Dict[str, Any]:
    """One token of the notation -> one Matcher token dict (see the file's header)."""
    if word.startswith(("re:", "@re:")):
        attr = "LEMMA" if word.startswith("@") else "LOWER"
        expression = word.split(":", 1)[1]
        if re.search(r"\$[A-Za-z_]", expression):
            raise PatternsError(f"{where}: a re: token cannot name a list: {word!r}")
        try:
            re.compile(expression)
        except re.error as error:
            raise PatternsError(
                f"{where}: bad regular expression {expression!r}: {error}"
            ) from error
        return {attr: {"REGEX": expression}}
    op = None
    match = _QUANTIFIER.match(word)
    if match and match.group("body") not in ("", "!", "@"):
        word, op = match.group("body"), match.group("op")
    negate = word.startswith("!")
    word = word.lstrip("!")
    attr = "LEMMA" if word.startswith("@") else "LOWER"
    word = word.lstrip("@")
    if word == "_":
        if negate or attr == "LEMMA":
            raise PatternsError(f"{where}: `_` takes no ! or @")
        token: Dict[str, Any] = {}
    else:
        values: List[str] = []
        for part in word.split("|"):
            if not part:
                raise PatternsError(f"{where}: empty alternative in {word!r}")
            if "@" in part or "$" in part[1:] or "!" in part:
                raise PatternsError(
                    f"{where}: put @ or ! at the start of the whole token: {word!r}"
                )
            if part.startswith("$"):
                if part[1:] not in lists:
                    raise PatternsError(f"{where}: unknown list {part}")
                values.extend(lists[part[1:]])
            else:
                values.append(part.lower())
        unique = list(dict.fromkeys(values))
        if negate:
            token = {attr: {"NOT_IN": unique}}
        elif len(unique) == 1:
            token = {attr: unique[0]}
        else:
            token = {attr: {"IN": unique}}
    if op:
        token["OP"] = op
    return token


def _check_with_spacy(patterns: Patterns) -> None:
    """Let spaCy validate every compiled pattern now, not at the first message."""
    from spacy.vocab import Vocab

    try:
        CrisisMatcher(patterns, Vocab())
    except (ValueError, TypeError, KeyError) as error:
        raise PatternsError(f"spaCy rejected a pattern: {error}") from error


# --- Matching ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatternResult:
    """What the patterns found in one message (rule keys and categories, no message text)."""

    category: Optional[str]  # the category to answer, by priority
    rule: Optional[str]  # the rule that decided it
    categories: Tuple[str, ...] = ()  # every category with a surviving match
    excluded: Tuple[str, ...] = ()  # rules whose matches an exclusion removed
    vetoed: Tuple[str, ...] = ()  # categories a negation vetoes
    cued: Tuple[str, ...] = ()  # categories with a cue (see `cues`)
    checkin: Optional[str] = None  # the category a weaker (check-in) rule suggests
    checkin_rule: Optional[str] = None  # the check-in rule that suggested it


class CrisisMatcher:
    """Crisis, exclusion and cue matchers for one spaCy vocabulary."""

    def __init__(self, patterns: Patterns, vocab: Any) -> None:
        from spacy.matcher import Matcher

        self.patterns = patterns
        self.vocab = vocab
        self.crisis = Matcher(vocab, validate=True)
        self.exclude = Matcher(vocab, validate=True)
        self.cue = Matcher(vocab, validate=True)
        self.check = Matcher(vocab, validate=True)
        self._rules = {rule.key: rule for rule in patterns.rules}
        self._exclusions = {excl.key: excl for excl in patterns.exclusions}
        self._checkin = {f"checkin:{rule.key}": rule for rule in patterns.checkin}
        for rule in patterns.rules:
            self.crisis.add(rule.key, [list(p) for p in rule.patterns])
        for excl in patterns.exclusions:
            self.exclude.add(excl.key, [list(p) for p in excl.patterns])
        for cue in patterns.cues:
            self.cue.add(cue.key, [list(p) for p in cue.patterns])
        for key, rule in self._checkin.items():
            self.check.add(key, [list(p) for p in rule.patterns])

    def match(self, doc: Any) -> PatternResult:
        """Every sentence of the message matched on its own (`sentences`), then combined:
        the highest-priority crisis category of any sentence, cues and vetoes of all.

        A pattern's gap never reaches across a sentence end, and a negation in one
        sentence ("I'm not suicidal.") never hides a crisis in another."""
        results = [self.match_span(span) for span in sentences(doc)]
        if len(results) == 1:
            return results[0]
        return combine(results, self.patterns.priority)

    def match_span(self, doc: Any) -> PatternResult:
        """Crisis matches and cues, minus those an exclusion of their category wholly contains."""
        strings = self.vocab.strings
        excl_spans = [
            (self._exclusions[strings[key]], start, end) for key, start, end in self.exclude(doc)
        ]

        def inside_exclusion(category: str, start: int, end: int) -> bool:
            return any(
                category in excl.categories and xs <= start and end <= xe
                for excl, xs, xe in excl_spans
            )

        found: Dict[str, str] = {}
        excluded: List[str] = []
        for key, start, end in sorted(self.crisis(doc), key=lambda m: (m[1], m[2])):
            rule = self._rules[strings[key]]
            if inside_exclusion(rule.category, start, end):
                excluded.append(rule.key)
                continue
            found.setdefault(rule.category, rule.key)
        cued = {
            strings[key].split("/")[0]
            for key, start, end in self.cue(doc)
            if not inside_exclusion(strings[key].split("/")[0], start, end)
        }
        vetoed = {cat for excl, _, _ in excl_spans if excl.veto for cat in excl.categories}
        ordered = [cat for cat in self.patterns.priority if cat in found]
        category = ordered[0] if ordered else None
        checks: Dict[str, str] = {}
        for key, start, end in sorted(self.check(doc), key=lambda m: (m[1], m[2])):
            rule = self._checkin[strings[key]]
            if inside_exclusion(rule.category, start, end):
                excluded.append(f"checkin:{rule.key}")
                continue
            checks.setdefault(rule.category, rule.key)
        check = next((cat for cat in self.patterns.priority if cat in checks), None)
        return PatternResult(
            category=category,
            rule=found.get(category) if category else None,
            categories=tuple(ordered),
            excluded=tuple(dict.fromkeys(excluded)),
            vetoed=tuple(cat for cat in self.patterns.priority if cat in vetoed),
            cued=tuple(cat for cat in self.patterns.priority if cat in cued),
            checkin=check,
            checkin_rule=checks.get(check) if check else None,
        )


# Tokens that end a sentence. A message typed without any is one sentence.
SENTENCE_ENDS = frozenset({".", "!", "?", "...", "\n", "\n\n", ";"})


def sentences(doc: Any) -> List[Any]:
    """The message's sentences as spans of its doc: split after ".", "!", "?", ";" and
    line breaks (runs of them count once), so a long post is checked sentence by sentence."""
    spans: List[Any] = []
    start = 0
    for token in doc:
        text = token.text
        if text in SENTENCE_ENDS or (text and set(text) <= set(".!?\n ")):
            if token.i + 1 - start > 1:
                spans.append(doc[start : token.i + 1])
            start = token.i + 1
    if start < len(doc):
        spans.append(doc[start:])
    return spans or [doc[:]]


def combine(results: List[PatternResult], priority: Tuple[str, ...]) -> PatternResult:
    """One result for a message from its sentences' results (see `CrisisMatcher.match`).

    A category stays vetoed only when no other sentence has a match or a cue of it."""
    found: Dict[str, str] = {}
    checks: Dict[str, str] = {}
    for result in results:
        for name in result.categories:
            if name == result.category and result.rule:
                found.setdefault(name, result.rule)
            else:
                found.setdefault(name, "")
        if result.checkin and result.checkin_rule:
            checks.setdefault(result.checkin, result.checkin_rule)
    cued = {cat for result in results for cat in result.cued}
    cued_elsewhere = {cat for r in results for cat in r.cued if cat not in r.vetoed}
    vetoed = {cat for r in results for cat in r.vetoed} - cued_elsewhere - set(found)
    ordered = [cat for cat in priority if cat in found]
    category = ordered[0] if ordered else None
    rule: Optional[str] = next((r.rule for r in results if r.category == category and r.rule), None)
    if category and rule is None:
        rule = found[category] or None
    check = next((cat for cat in priority if cat in checks), None)
    return PatternResult(
        category=category,
        rule=rule,
        categories=tuple(ordered),
        excluded=tuple(dict.fromkeys(key for r in results for key in r.excluded)),
        vetoed=tuple(cat for cat in priority if cat in vetoed),
        cued=tuple(cat for cat in priority if cat in cued),
        checkin=check,
        checkin_rule=checks.get(check) if check else None,
    )


_NLP_CACHE: Dict[str, Any] = {}


def project_nlp() -> Any:
    """The project's spaCy pipeline (built by `python -m bot build-spacy`), loaded once."""
    from bot.ops.spacy_pipeline import PIPELINE_DIR

    if "nlp" not in _NLP_CACHE:
        import spacy

        if not PIPELINE_DIR.exists():
            raise RuntimeError("spaCy pipeline missing: run `python -m bot build-spacy` first")
        _NLP_CACHE["nlp"] = spacy.load(PIPELINE_DIR)
    return _NLP_CACHE["nlp"]


def make_doc(text: str, nlp: Any = None) -> Any:
    """A Doc as Rasa's SpacyNLP makes it (it lower-cases the text first)."""
    return (nlp or project_nlp())(text.lower())


_MATCHER_CACHE: Dict[Tuple[int, int], CrisisMatcher] = {}


def matcher_for(patterns: Patterns, vocab: Any) -> CrisisMatcher:
    """One CrisisMatcher per (patterns, vocabulary), built on first use."""
    key = (id(patterns), id(vocab))
    cached = _MATCHER_CACHE.get(key)
    if cached is None or cached.patterns is not patterns or cached.vocab is not vocab:
        cached = _MATCHER_CACHE[key] = CrisisMatcher(patterns, vocab)
    return cached


def match_text(text: str, patterns: Optional[Patterns] = None, nlp: Any = None) -> PatternResult:
    """Match a raw message (for tests and tools): tokenised as the NLU pipeline does."""
    patterns = patterns or default_patterns()
    doc = make_doc(text, nlp)
    return matcher_for(patterns, doc.vocab).match(doc)


def default_patterns() -> Patterns:
    """The project's patterns file, compiled once per process."""
    if "patterns" not in _NLP_CACHE:
        _NLP_CACHE["patterns"] = load_patterns(PATTERNS_FILE)
    return _NLP_CACHE["patterns"]


def resolve_patterns_file(value: Optional[str]) -> Path:
    """The configured patterns file (relative to the project root), or the default."""
    if not value:
        return PATTERNS_FILE
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path
