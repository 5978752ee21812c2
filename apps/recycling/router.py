"""Recycling service HTTP API, mounted at /api/v1/recycling. Read-only, synchronous, cacheable.

Every response carries ``Cache-Control`` and an ``ETag`` derived from the knowledge-base data files and the
service code; a request whose ``If-None-Match`` matches gets ``304 Not Modified``. The knowledge base is
loaded (and validated) when this module is imported, so a broken data file stops the service at start-up
instead of failing its first request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel

from apps.core.errors import error_responses
from apps.core.request_rate import search_rate_limit
from apps.recycling.loading import DATA_DIR
from apps.recycling.matching import normalize
from apps.recycling.rules import get_knowledge_base
from apps.recycling.schemas import CategoryDetail, CategoryTree, ItemSearchResponse, SituationTagList
from apps.recycling.service import (
    MAX_LIMIT,
    MAX_QUERY_LENGTH,
    category_detail,
    category_tree,
    search_items,
    situation_tags,
)
from apps.recycling.taxonomy import UnknownKeyError, get_taxonomy

CACHE_CONTROL = "public, max-age=3600"

router = APIRouter(tags=["recycling"])

get_knowledge_base()


@lru_cache(maxsize=1)
def knowledge_etag() -> str:
    """An ETag over the data files and this package's code: responses change only when one of them does."""
    digest = hashlib.sha256()
    for path in sorted([*DATA_DIR.glob("*.yaml"), *DATA_DIR.parent.glob("*.py")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f'"kb-{digest.hexdigest()[:20]}"'


def _cache_headers() -> dict[str, str]:
    return {"Cache-Control": CACHE_CONTROL, "ETag": knowledge_etag()}


def _not_modified(request: Request) -> Response | None:
    tags = {tag.strip().removeprefix("W/") for tag in request.headers.get("if-none-match", "").split(",")}
    if knowledge_etag() in tags or "*" in tags:
        return Response(status_code=304, headers=_cache_headers())
    return None


def _cacheable(request: Request, response: Response, build: Callable[[], BaseModel]) -> BaseModel | Response:
    """304 when the client's copy is current; otherwise the built body, with cache headers either way."""
    not_modified = _not_modified(request)
    if not_modified is not None:
        return not_modified
    response.headers.update(_cache_headers())
    return build()


@router.get("/categories", response_model=CategoryTree, summary="The taxonomy tree: 대분류 and 재활용 중분류")
def list_categories(request: Request, response: Response) -> BaseModel | Response:
    return _cacheable(request, response, category_tree)


@router.get(
    "/categories/{key:path}",
    response_model=CategoryDetail,
    summary="One category's disposal rule and items",
    responses={404: {"description": "unknown category key"}},
)
def get_category(key: str, request: Request, response: Response) -> BaseModel | Response:
    key = key.strip("/")
    try:
        detail = category_detail(key)
    except UnknownKeyError:
        message = f"unknown category key {key!r}; GET /api/v1/recycling/categories lists the valid keys"
        taxonomy = get_taxonomy()
        if taxonomy.has_item(key):
            message += f" ({key!r} is an item of {taxonomy.item(key).disposal_category!r})"
        raise HTTPException(status_code=404, detail=message) from None
    return _cacheable(request, response, lambda: detail)


@router.get(
    "/items/search",
    response_model=ItemSearchResponse,
    dependencies=[Depends(search_rate_limit)],
    responses=error_responses(429),
    summary="Find items by name (Korean, partial, spelling-tolerant)",
)
def search(
    request: Request,
    response: Response,
    q: Annotated[
        str, Query(min_length=1, max_length=MAX_QUERY_LENGTH, description="e.g. 우유 팩, 페트, 스티로폼")
    ],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
) -> BaseModel | Response:
    if not normalize(q):
        raise HTTPException(status_code=422, detail="q must contain at least one letter or digit")
    return _cacheable(request, response, lambda: ItemSearchResponse(query=q, results=search_items(q, limit)))


@router.get("/situation-tags", response_model=SituationTagList, summary="Condition tags with Korean labels")
def list_situation_tags(request: Request, response: Response) -> BaseModel | Response:
    return _cacheable(request, response, situation_tags)
