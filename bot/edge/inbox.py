"""The adviser inbox at /adviser (stub)."""
from __future__ import annotations

from typing import Any, Dict

from sanic import Sanic


def register(app: Sanic, config: Dict[str, Any]) -> None:
    """Add the inbox routes when ADVISER_SECRET is set (to be built)."""
