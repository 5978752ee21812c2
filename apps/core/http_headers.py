"""Response headers every API response carries: security headers, HSTS behind TLS, no caching of anything
an endpoint did not explicitly mark cacheable (user data must never sit in a shared cache), and
`Vary: Origin` (an answer depends on the caller's origin through CORS). CORS itself runs only for requests
that carry an Origin (`BrowserCorsMiddleware`): most API calls are not from a browser."""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
DEFAULT_CACHE_CONTROL = "private, no-store"
VARY_ORIGIN = (b"vary", b"Origin")


def _with_origin(header: tuple[bytes, bytes]) -> tuple[bytes, bytes]:
    name, value = header
    return (name, value + b", Origin") if name.lower() == b"vary" else header


class BrowserCorsMiddleware(CORSMiddleware):
    """Starlette's CORS, skipped for requests without an Origin header (nothing to allow or refuse); the
    `Vary: Origin` it would add to those is added by `SecurityHeadersMiddleware` to every response."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not any(name == b"origin" for name, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


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
        defaults = {**SECURITY_HEADERS, "Cache-Control": DEFAULT_CACHE_CONTROL}
        self.defaults = [(name.lower().encode(), value.encode()) for name, value in defaults.items()]
        self.hsts = (
            b"strict-transport-security",
            f"max-age={hsts_max_age_seconds}; includeSubDomains".encode(),
        )
        self.hsts_always = hsts_always

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        defaults = [*self.defaults, self.hsts] if self.hsts_always or _behind_tls(scope) else self.defaults

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                message["headers"] = headers + [item for item in defaults if item[0] not in present]
                if b"vary" not in present:
                    message["headers"].append(VARY_ORIGIN)
                elif not any(
                    name.lower() == b"vary" and b"origin" in value.lower() for name, value in headers
                ):
                    message["headers"] = [_with_origin(item) for item in message["headers"]]
            await send(message)

        await self.app(scope, receive, send_with_headers)
