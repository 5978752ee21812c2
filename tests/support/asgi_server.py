"""Serve an ASGI app with uvicorn on 127.0.0.1, on a free port, in a daemon thread — for tests."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any, Literal


class ThreadedServer:
    """A context manager: the app answers at `url` inside the block and is shut down after it.

    The socket is bound before the server starts, so the port is known and cannot be taken meanwhile. A fixed
    `port` serves a URL that settings were given before the server existed.
    """

    def __init__(
        self,
        app: Any,
        *,
        lifespan: Literal["auto", "on", "off"] = "auto",
        name: str = "asgi-server",
        start_timeout: float = 15.0,
        port: int = 0,
    ) -> None:
        import uvicorn

        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan=lifespan, timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name=name, daemon=True
        )
        self._start_timeout = start_timeout

    def __enter__(self) -> ThreadedServer:
        self._thread.start()
        deadline = time.monotonic() + self._start_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self._thread.name} did not start")
            time.sleep(0.01)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
