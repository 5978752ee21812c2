"""Eco² infrastructure: see docs/infra.md. All building blocks live in the ``infra`` package."""

from infra.program import deploy

deploy()
