"""Response headers every API response carries: security headers, HSTS behind TLS, and no caching of
anything an endpoint did not explicitly mark cacheable (user data must never sit in a shared cache)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
DEFAULT_CACHE_CONTROL = "private, no-store"


def _behind_tls(scope: Scope) -> bool:
    if scope.get("scheme") == "https":
        return True
    for name, value in scope["headers"]:
        if name.lower() == b"x-forwarded-proto":
            return bool(value.split(b",", 1)[0].strip().lower() == b"https")
    return False


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, hsts_max_age_seconds: int, hsts_always: bool = False) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_max_age_seconds}; includeSubDomains"
        self.hsts_always = hsts_always

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        add_hsts = self.hsts_always or _behind_tls(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Cache-Control", DEFAULT_CACHE_CONTROL)
                if add_hsts:
                    headers.setdefault("Strict-Transport-Security", self.hsts)
            await send(message)

        await self.app(scope, receive, send_with_headers)
