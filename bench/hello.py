"""The baseline: a bare FastAPI app with one "hello" endpoint, served exactly like the gateway."""

from __future__ import annotations

from fastapi import FastAPI


def create_hello_app() -> FastAPI:
    app = FastAPI(title="hello")

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"message": "hello"}

    return app
