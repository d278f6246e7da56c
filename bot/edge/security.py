"""The edge app's security layer: headers on every response, and CORS.

- Every response: nosniff, no referrer, framing only by the same origin, a minimal
  Permissions-Policy; HTML pages (the demo forum page, the adviser inbox) get a strict
  Content-Security-Policy with no inline script or style; API and inbox replies are
  never cached.
- /api/*: a browser may call it from the edge's own origin or from the configured forum
  origins (edge.allowed_origins in bot/settings.yml plus FORUM_ORIGINS, comma-separated).
  Preflight OPTIONS requests are answered here; a request from any other origin is
  refused with 403 before it reaches a handler (so another site cannot open sessions or
  post messages through a visitor's browser).
"""

from __future__ import annotations

import os
from typing import Dict, FrozenSet, Iterable, Mapping, Optional
from urllib.parse import urlsplit

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import BaseHTTPResponse

HTML_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
)
# For JSON, scripts and styles: they load nothing themselves and may not be framed elsewhere.
OTHER_CSP = "default-src 'none'; frame-ancestors 'self'"
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
COMMON_HEADERS: Dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
}
API_PREFIX = "/api/"
NO_STORE_PREFIXES = (API_PREFIX, "/adviser")
CORS_METHODS = "POST, DELETE, OPTIONS"
CORS_HEADERS = "Content-Type"
CORS_MAX_AGE = "600"
REFUSED_ORIGIN = "This website is not allowed to use the assistant."


def normalise_origin(origin: str) -> Optional[str]:
    """'HTTPS://Forum.Example/' -> 'https://forum.example'; None if not an http(s) origin."""
    parts = urlsplit(origin.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def allowed_origins(
    configured: Iterable[str], env: Optional[Mapping[str, str]] = None
) -> FrozenSet[str]:
    """The configured origins plus FORUM_ORIGINS (comma-separated), normalised."""
    env = os.environ if env is None else env
    listed = [*configured, *env.get("FORUM_ORIGINS", "").split(",")]
    return frozenset(o for o in (normalise_origin(item) for item in listed if item.strip()) if o)


def origin_allowed(origin: str, request_host: str, allowed: FrozenSet[str]) -> bool:
    """A listed origin, or the edge's own (the demo page and widget served from here)."""
    normal = normalise_origin(origin)
    if normal is None:
        return False
    return normal in allowed or urlsplit(normal).netloc == request_host.lower()


def _cors_headers(origin: str) -> Dict[str, str]:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def install(app: Sanic, origins: FrozenSet[str]) -> None:
    """Add the security headers to every response, and CORS for `origins` to /api/*."""

    @app.on_request
    async def _guard_api(request: Request) -> Optional[BaseHTTPResponse]:
        # Runs for routed requests and for 404/405 ones too (Sanic runs request
        # middleware before its error handler), so OPTIONS needs no route of its own.
        if not request.path.startswith(API_PREFIX):
            return None
        origin = request.headers.get("origin")
        if origin is None:
            if request.method == "OPTIONS":
                return response.empty(status=204)
            return None  # not a browser's cross-origin call: CORS does not apply
        if not origin_allowed(origin, request.host, origins):
            return response.json({"error": REFUSED_ORIGIN}, status=403)
        if request.method == "OPTIONS":
            return response.empty(
                status=204,
                headers={
                    **_cors_headers(origin),
                    "Access-Control-Allow-Methods": CORS_METHODS,
                    "Access-Control-Allow-Headers": CORS_HEADERS,
                    "Access-Control-Max-Age": CORS_MAX_AGE,
                },
            )
        return None

    @app.on_response
    async def _headers(request: Request, reply: BaseHTTPResponse) -> None:
        headers = reply.headers
        for name, value in COMMON_HEADERS.items():
            headers.setdefault(name, value)
        content_type = (reply.content_type or headers.get("content-type") or "").lower()
        headers.setdefault(
            "Content-Security-Policy",
            HTML_CSP if content_type.startswith("text/html") else OTHER_CSP,
        )
        if request.path.startswith(NO_STORE_PREFIXES):
            headers["Cache-Control"] = "no-store"
        if request.scheme == "https":
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        origin = request.headers.get("origin")
        if (
            request.path.startswith(API_PREFIX)
            and origin is not None
            and origin_allowed(origin, request.host, origins)
        ):
            headers.update(_cors_headers(origin))
