"""Read responses from domain.yml and fill their {placeholders}, without importing Rasa.

The edge app sends a few lines itself (when Rasa cannot be reached, or a message is
refused); they live in domain.yml like every other response and are rendered here with
the same placeholder rules Rasa uses (bot/rasa/nlg.py passes the same values to Rasa).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, Dict, List, Mapping

import yaml

from bot import settings
from bot.paths import DOMAIN

_PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")


@functools.lru_cache(maxsize=None)
def load_domain_responses(path: Path = DOMAIN) -> Dict[str, List[Dict[str, Any]]]:
    """All responses in domain.yml, by name, each a list of variations."""
    with Path(path).open(encoding="utf-8") as handle:
        domain = yaml.safe_load(handle) or {}
    return domain.get("responses") or {}


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace {name} with values[name]; leave unknown names and JSON braces alone."""
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


def render(name: str, values: Mapping[str, str] | None = None) -> Dict[str, Any]:
    """The first variation of response `name` as a widget message {text, buttons}."""
    values = settings.placeholders() if values is None else values
    variation = load_domain_responses()[name][0]
    message: Dict[str, Any] = {"text": fill(variation.get("text", ""), values)}
    buttons = [
        {"title": fill(b["title"], values), "payload": b["payload"]}
        for b in variation.get("buttons") or []
    ]
    if buttons:
        message["buttons"] = buttons
    return message
