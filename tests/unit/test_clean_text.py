"""clean_text: what typed text looks like when it reaches Rasa (never a "/command")."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.edge.inputs import clean_text

# Every character Python (and so Rasa's str.strip) takes for whitespace.
WHITESPACE = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
# Invisible format characters (removed before the leading slashes are looked at).
FORMAT = ["\u200b", "\u200d", "\u2060", "\ufeff", "\u202e"]


@pytest.mark.parametrize(
    "typed, expected",
    [
        ('/\u00a0/request_human{"x":1}', 'request_human{"x":1}'),
        ("/\u2003/request_human", "request_human"),
        ("/\u2028/request_human", "request_human"),
        ("/\u3000/request_human", "request_human"),
        ("\u3000 /\t/\n/ \u00a0/greet", "greet"),
        ("/\u200b/request_human", "request_human"),
        ('/out_of_scope{"x": "y"}', 'out_of_scope{"x": "y"}'),
        ("///", ""),
        ("/ \u2028 /", ""),
        ("  is   my son/daughter   named? ", "is my son/daughter named?"),
        ("half/half/", "half/half/"),
        ("a\x00b\x7fc", "a b c"),
        ("he\u200bllo", "hello"),
        ("first line\nsecond line", "first line\nsecond line"),
    ],
)
def test_clean_text_by_hand(typed: str, expected: str) -> None:
    assert clean_text(typed) == expected


def test_the_whitespace_list_holds_the_reported_characters() -> None:
    assert {"\u00a0", "\u2003", "\u2028", "\u3000", "\u0085", "\u1680"} <= set(WHITESPACE)


@given(
    prefix=st.lists(st.sampled_from(WHITESPACE + FORMAT + ["/"]), max_size=12),
    command=st.sampled_from(["request_human", 'request_human{"x":1}', "greet", "restart"]),
)
def test_no_mix_of_whitespace_and_slashes_lets_a_command_through(
    prefix: list, command: str
) -> None:
    typed = "".join(prefix) + "/" + command
    cleaned = clean_text(typed)
    assert cleaned == command
    assert not cleaned.strip().startswith("/")


@given(st.text())
def test_the_cleaned_text_never_starts_with_a_slash_or_whitespace(typed: str) -> None:
    cleaned = clean_text(typed)
    assert not cleaned.startswith("/")
    assert cleaned == cleaned.strip()
    assert not cleaned.strip().startswith("/")
    assert clean_text(cleaned) == cleaned  # stable: a second pass changes nothing
