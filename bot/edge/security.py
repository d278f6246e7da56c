"""Security middleware for the edge app: headers, CORS, conversation deletion (stub)."""
from __future__ import annotations

from typing import Any, Dict

from sanic import Sanic


def install(app: Sanic, config: Dict[str, Any]) -> None:
    """Add security headers and CORS, and wire conversation deletion (to be built)."""
