"""Pure checks on what the browser sends, before anything reaches Rasa."""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Dict, List, Set, Tuple

# C0/C1 control characters except tab and newline; also Unicode format characters
# (zero-width, bidi overrides) that can hide text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """Strip control and format characters, squeeze whitespace, and drop leading '/'.

    Typed text must never reach Rasa as a command ("/intent{...}"): only button payloads
    offered by the latest answer may, and those are checked separately.
    """
    text = _CONTROL.sub(" ", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = re.sub(r"[ \t]+", " ", text).strip()
    return text.lstrip("/ \t\n").strip()


def to_widget_messages(
    rasa_messages: List[Dict[str, Any]],
) -> Tuple[List[Dict[str, Any]], Set[str], List[str]]:
    """Rasa REST output -> widget messages [{text, buttons}], the payloads offered, and
    the crisis categories answered (from the responses' `custom.crisis`, never shown)."""
    messages: List[Dict[str, Any]] = []
    offered: Set[str] = set()
    crises: List[str] = []
    for item in rasa_messages:
        if not isinstance(item, dict):
            continue
        custom = item.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("crisis"), str):
            crises.append(custom["crisis"])
        message: Dict[str, Any] = {}
        if isinstance(item.get("text"), str):
            message["text"] = item["text"]
        buttons = []
        for button in item.get("buttons") or []:
            if isinstance(button, dict) and isinstance(button.get("payload"), str):
                title = str(button.get("title") or button["payload"])
                buttons.append({"title": title, "payload": button["payload"]})
                offered.add(button["payload"])
        if buttons:
            message["buttons"] = buttons
        if message:
            messages.append(message)
    return messages, offered, crises


def counted(rasa_messages: List[Dict[str, Any]]) -> List[Tuple[str, str]]:
    """(metric, key) of each reply the numbers page counts (the responses' `custom.count`,
    added by bot/rasa/nlg.py; never shown, never any text)."""
    found: List[Tuple[str, str]] = []
    for item in rasa_messages:
        custom = item.get("custom") if isinstance(item, dict) else None
        if isinstance(custom, dict) and isinstance(custom.get("count"), str):
            key = custom.get("key")
            found.append((custom["count"], key if isinstance(key, str) else ""))
    return found
