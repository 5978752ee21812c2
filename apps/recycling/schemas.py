"""Response models of the recycling service (also returned by :mod:`apps.recycling.service`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from apps.recycling.taxonomy import TagGroup


class ItemMatch(BaseModel):
    """One search result."""

    key: str = Field(description="item key, e.g. 'recyclable/paper_pack/milk_carton'")
    label: str
    category: str = Field(description="key of the category that lists the item")
    category_label: str
    disposal_category: str = Field(description="category whose rule applies (differs for e.g. fruit stones)")
    matched_name: str = Field(description="the label or alias that matched the query")
    score: float = Field(ge=0.0, le=1.0, description="1.0 = exact name match")


class ItemSearchResponse(BaseModel):
    query: str
    results: list[ItemMatch]


class CategorySummary(BaseModel):
    key: str
    label: str
    item_count: int = Field(description="items listed under the category, including its 중분류")
    children: list[CategorySummary] = Field(default_factory=list)


class CategoryTree(BaseModel):
    categories: list[CategorySummary]
    sources: list[str] = Field(description="where the disposal rules come from")


class CategoryRef(BaseModel):
    key: str
    label: str


class ItemOut(BaseModel):
    key: str
    label: str
    aliases: list[str]
    note: str | None = None
    goes_to: CategoryRef | None = Field(default=None, description="where the item really goes, if elsewhere")


class ExceptionOut(BaseModel):
    what: str
    goes_to: CategoryRef | None = None
    how: str


class AdjustmentOut(BaseModel):
    condition: str = Field(description="situation tag key")
    condition_label: str
    step: str | None = None
    insufficiency: str | None = None
    goes_to: CategoryRef | None = None


class RuleOut(BaseModel):
    summary: str
    where: str
    steps: list[str]
    prepare: list[str]
    exceptions: list[ExceptionOut]
    adjustments: list[AdjustmentOut]


class CategoryDetail(BaseModel):
    key: str
    label: str
    parent: CategoryRef | None = None
    children: list[CategoryRef]
    rule: RuleOut
    items: list[ItemOut]


class SituationTagOut(BaseModel):
    key: str
    label: str
    group: TagGroup


class SituationTagList(BaseModel):
    tags: list[SituationTagOut]
