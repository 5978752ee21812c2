"""Reading and validating the knowledge-base data files, with errors that name the file and the bad entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

DATA_DIR = Path(__file__).with_name("data")

KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
"""One segment of a taxonomy or situation-tag key: lower snake case, ASCII."""

ModelT = TypeVar("ModelT", bound=BaseModel)


class KnowledgeBaseError(ValueError):
    """A data file is missing, is not YAML, or has an entry that breaks the schema or a cross-reference."""


class FileModel(BaseModel):
    """Base for the models that mirror the YAML files: unknown fields are typos, so they are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def load_file(path: Path, model: type[ModelT]) -> ModelT:
    """Parse ``path`` as YAML and validate it against ``model``."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KnowledgeBaseError(f"{path.name}: cannot read the file ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{path.name}: not valid YAML: {exc}") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_describe(raw, error) for error in exc.errors())
        raise KnowledgeBaseError(f"{path.name}: {problems}") from exc


def entry_error(path_name: str, entry: str, problem: str) -> KnowledgeBaseError:
    """An error about one named entry found by a cross-reference check after schema validation."""
    return KnowledgeBaseError(f"{path_name}: entry '{entry}': {problem}")


def _describe(raw: Any, error: Any) -> str:
    """Turn one pydantic error into "entry 'milk_carton' (categories.0.items.3.label): Field required"."""
    location: tuple[Any, ...] = tuple(error["loc"])
    where = ".".join(str(part) for part in location) or "<top level>"
    entry = _nearest_entry_name(raw, location)
    prefix = f"entry '{entry}' ({where})" if entry else where
    return f"{prefix}: {error['msg']}"


def _nearest_entry_name(raw: Any, location: tuple[Any, ...]) -> str | None:
    """The ``key`` of the innermost mapping on the error's path, or the mapping key it sits under."""
    name: str | None = None
    node = raw
    for part in location:
        if isinstance(node, dict):
            if isinstance(node.get("key"), str):
                name = node["key"]
            if part not in node:
                break
            if isinstance(part, str) and isinstance(node[part], dict) and "key" not in node[part]:
                name = part
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            break
    if isinstance(node, dict) and isinstance(node.get("key"), str):
        name = node["key"]
    return name
