"""One TLS context for every outbound HTTPS client of a process (Kakao Local, the OAuth providers).

A new httpx client builds its own context by default, loading the whole CA bundle: about 30 ms of CPU each
time, which every nearby search and every sign-in step paid. A client given this one is built in well under
a millisecond. It honours SSL_CERT_FILE / SSL_CERT_DIR as httpx's default does (certifi's bundle otherwise).
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx


@cache
def tls_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()
