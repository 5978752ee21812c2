"""The Alembic history builds the schema the models describe, and can be walked down and up again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.util.exc import CommandError

from apps.core.migrate import alembic_config, downgrade, upgrade
from tests.support import provisioning, services

SCRATCH = f"{services.DATABASE_NAME}_migrations"


@pytest.fixture
def scratch_database_url() -> Iterator[str]:
    provisioning.create_database(SCRATCH)
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{SCRATCH}"
    provisioning.drop_database(SCRATCH)


def test_migrations_match_the_models_and_are_reversible(scratch_database_url: str) -> None:
    config = alembic_config(scratch_database_url)
    with pytest.raises(CommandError, match="Target database is not up to date"):
        command.check(config)
    upgrade(scratch_database_url)
    command.check(config)  # raises if autogenerate finds any difference between models and schema
    downgrade(scratch_database_url)
    upgrade(scratch_database_url)
    command.check(config)
