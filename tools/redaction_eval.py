"""Should NLU read the parent's message as typed, or redacted? A measurement.

`python -m tools.redaction_eval [--limit N] [--model PATH]`

Takes the held-out examples in tests/nlu (never trained on; the crisis set included, see
tools/corpus.py), adds a realistic contact
detail to a copy of each (a phone number, e-mail address, postcode or date of birth,
before or after the message, as parents write them), and compares the trained model's
decisions (intent, and the FAQ answer for retrieval intents) on three versions:

  clean     the held-out example as written (the reference)
  original  with the detail, as typed: what the assistant receives (its first NLU
            component, bot/nlu/contact_mask.py, hides the detail and its lead-in words)
  redacted  with the detail replaced by its placeholder ("[phone]"): what is stored

The lead-in words the mask removes were written knowing the templates below, so the
result on them is optimistic; a second set of templates, written afterwards in other
words (OTHER_TEMPLATES), shows how far the mask carries to wordings it was not made for.

It prints the accuracy of each and the decisions that differ between original and
redacted. Only fictitious values are used (Ofcom drama numbers, example.com).
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from bot.paths import CURRENT_MODEL
from bot.redact import redact
from tools import corpus, long_posts
from tools.nlu_parser import NluParser

SEED = 8

PHONES = ["07700 900123", "07700900461", "+44 7700 900982", "020 7946 0315", "0113 496 0718"]
EMAILS = ["jo.bloggs@example.com", "sam_k84@example.org", "tired.mum@example.net"]
POSTCODES = ["B33 8TH", "M1 1AE", "LS6 2QR", "SW1A 1AA"]
DATES = ["14/02/2017", "3rd of May 2019", "2016-11-30", "21.06.18"]
TEMPLATES: List[Tuple[str, Sequence[str]]] = [
    ("{text} my number is {value}", PHONES),
    ("{text}. you can call me on {value}", PHONES),
    ("{text} email me at {value}", EMAILS),
    ("my email is {value}. {text}", EMAILS),
    ("we live in {value} and {text}", POSTCODES),
    ("{text} (we're in {value})", POSTCODES),
    ("{text} my son was born {value}", DATES),
    ("my daughter's dob is {value}, {text}", DATES),
]

# Written after the mask, in words its lead-in list does not all cover.
OTHER_TEMPLATES: List[Tuple[str, Sequence[str]]] = [
    ("{text} - {value}", EMAILS),
    ("contact: {value} - {text}", EMAILS),
    ("{text}? my mobile's {value}", PHONES),
    ("{text} ring me back {value} after 6", PHONES),
    ("postcode {value}. {text}", POSTCODES),
    ("{text}, DOB {value}", DATES),
    ("{text} thanks, {value}", EMAILS),
    ("hi, sam here ({value}) {text}", PHONES),
]

Example = Tuple[str, str]  # (gold label, text)


def held_out_examples(folder: Path = corpus.HELD_OUT) -> List[Example]:
    """(label, text) of the held-out messages, crisis set included: a crisis message that
    carries a phone number must still be caught once the number is hidden."""
    return [(e.label, e.text) for e in corpus.held_out(crisis=True, folder=folder)]


def with_detail(
    text: str, rng: random.Random, templates: Sequence[Tuple[str, Sequence[str]]] = TEMPLATES
) -> str:
    """The message with one contact detail added, in one of the ways parents write it."""
    template, values = rng.choice(templates)
    body = text.rstrip(".!? ") if template.startswith("{text}") else text
    return template.format(text=body, value=rng.choice(values))


def decision(parse: Dict[str, Any]) -> str:
    """The label NLU decided: the intent, or intent/answer for a retrieval intent."""
    intent = (parse.get("intent") or {}).get("name") or ""
    key = long_posts.selected_answer(parse, intent) or ""
    return key if key.startswith(f"{intent}/") else intent


def agrees(gold: str, decided: str) -> bool:
    """A decision matches the label; a label without an answer part matches on intent."""
    return decided == gold or ("/" not in gold and decided.split("/")[0] == gold)


def evaluate(
    examples: Sequence[Example],
    parse: Callable[[str], Dict[str, Any]],
    seed: int = SEED,
    templates: Sequence[Tuple[str, Sequence[str]]] = TEMPLATES,
) -> Dict[str, Any]:
    """Accuracy on clean, original-with-detail and redacted-with-detail texts."""
    rng = random.Random(seed)
    correct: Counter = Counter()
    changed: List[Tuple[str, str, str, str]] = []
    for gold, text in examples:
        typed = with_detail(text, rng, templates)
        stored = redact(typed)
        decided = {
            "clean": decision(parse(text)),
            "original": decision(parse(typed)),
            "redacted": decision(parse(stored)),
        }
        for version, label in decided.items():
            correct[version] += agrees(gold, label)
        if decided["original"] != decided["redacted"]:
            changed.append((gold, stored, decided["original"], decided["redacted"]))
    total = len(examples)
    return {
        "total": total,
        "accuracy": {
            v: correct[v] / total if total else 0.0 for v in ("clean", "original", "redacted")
        },
        "changed": changed,
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.redaction_eval",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", type=Path, default=CURRENT_MODEL)
    parser.add_argument("--limit", type=int, default=None, help="evaluate only N examples")
    args = parser.parse_args(argv)
    if not args.model.exists():
        print(
            f"error: no trained model at {args.model.name}: run `make model` first.",
            file=sys.stderr,
        )
        return 1
    examples = held_out_examples()
    if not examples:
        print("error: no held-out examples found in tests/nlu.", file=sys.stderr)
        return 1
    if args.limit:
        examples = random.Random(SEED).sample(examples, min(args.limit, len(examples)))
    parse = NluParser(args.model, quiet=True)
    print(f"Held-out examples: {len(examples)} (tests/nlu), one contact detail added to each")
    for title, templates in (
        ("the templates the mask was written for", TEMPLATES),
        ("other wordings (OTHER_TEMPLATES)", OTHER_TEMPLATES),
    ):
        result = evaluate(examples, parse, templates=templates)
        accuracy = result["accuracy"]
        print(f"{title}:")
        print(f"  clean text               {accuracy['clean']:.1%}")
        print(f"  with detail, as typed    {accuracy['original']:.1%}   (what the assistant gets)")
        print(f"  with detail, redacted    {accuracy['redacted']:.1%}   (what is stored)")
        print(f"  decisions that differ between typed and redacted: {len(result['changed'])}")
        for gold, stored, original, redacted in result["changed"][:8]:
            print(f"    [{gold}] typed -> {original}; redacted -> {redacted}: {stored[:90]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
