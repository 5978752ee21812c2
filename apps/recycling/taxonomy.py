"""The waste taxonomy (대분류 → 중분류 → 소분류) and the situation tags, as typed, frozen data.

Loaded once from ``apps/recycling/data/taxonomy.yaml`` and ``situation_tags.yaml`` and validated at load.
Key scheme: a category key is a 대분류 key (``"general"``) or ``"<대분류>/<중분류>"``
(``"recyclable/paper"``); an item key adds one segment (``"recyclable/paper_pack/milk_carton"``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from apps.recycling.loading import DATA_DIR, KEY_PATTERN, FileModel, entry_error, load_file

TAXONOMY_FILE = "taxonomy.yaml"
SITUATION_TAGS_FILE = "situation_tags.yaml"


class UnknownKeyError(KeyError):
    """A category, item or situation-tag key that the knowledge base does not define."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(key)
        self.kind = kind
        self.key = key

    def __str__(self) -> str:
        return f"unknown {self.kind} key: {self.key!r}"


# --- runtime models -----------------------------------------------------------------------------------------


class Item(BaseModel):
    """A 소분류 item."""

    model_config = ConfigDict(frozen=True)

    key: str
    label: str
    category: str = Field(description="key of the category that lists the item")
    aliases: tuple[str, ...] = ()
    note: str | None = Field(default=None, description="short item-specific tip in Korean")
    goes_to: str | None = Field(
        default=None, description="category key where the item is really discharged, when not its own"
    )

    @property
    def disposal_category(self) -> str:
        """The category whose rule applies to this item."""
        return self.goes_to or self.category


class Category(BaseModel):
    """A 대분류 or 재활용 중분류 node."""

    model_config = ConfigDict(frozen=True)

    key: str
    label: str
    parent: str | None = None
    aliases: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    items: tuple[str, ...] = ()


class TagGroup(StrEnum):
    CONTENTS = "contents"
    LABEL_CAP = "label_cap"
    MATERIAL = "material"
    SHAPE = "shape"
    DELIVERY = "delivery"
    STYROFOAM = "styrofoam"
    HAZARD = "hazard"
    LIGHTING = "lighting"
    SET = "set"
    COMPLEX = "complex"
    UNCLASSIFIED = "unclassified"


class SituationTag(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    label: str
    group: TagGroup
    source_name: str = Field(description="the tag's Korean name in the original Eco² list")
    hint_patterns: tuple[str, ...] = Field(
        default=(), description="regular expressions matched against a whitespace-free free-text hint"
    )


class Taxonomy:
    """Read-only lookups over the loaded taxonomy."""

    def __init__(self, categories: dict[str, Category], items: dict[str, Item]) -> None:
        self._categories = categories
        self._items = items

    def categories(self) -> list[Category]:
        """Every category, 대분류 first in file order, each followed by its 중분류."""
        return list(self._categories.values())

    def major_categories(self) -> list[Category]:
        return [category for category in self._categories.values() if category.parent is None]

    def items(self) -> list[Item]:
        return list(self._items.values())

    def category(self, key: str) -> Category:
        try:
            return self._categories[key]
        except KeyError:
            raise UnknownKeyError("category", key) from None

    def item(self, key: str) -> Item:
        try:
            return self._items[key]
        except KeyError:
            raise UnknownKeyError("item", key) from None

    def has_category(self, key: str) -> bool:
        return key in self._categories

    def has_item(self, key: str) -> bool:
        return key in self._items

    def items_of(self, category_key: str) -> list[Item]:
        """Items listed directly under a category, or under its 중분류 for a 대분류 with children."""
        category = self.category(category_key)
        keys = list(category.items)
        for child in category.children:
            keys.extend(self._categories[child].items)
        return [self._items[key] for key in keys]

    def label(self, key: str) -> str:
        """Korean label of a category or item key."""
        if key in self._categories:
            return self._categories[key].label
        if key in self._items:
            return self._items[key].label
        raise UnknownKeyError("category or item", key)


class SituationTags:
    """Read-only lookups over the situation tags. Accepts the original Korean tag names as aliases."""

    def __init__(self, tags: dict[str, SituationTag]) -> None:
        self._tags = tags
        self._by_source_name = {tag.source_name: tag.key for tag in tags.values()}

    def __iter__(self) -> Iterator[SituationTag]:
        return iter(self._tags.values())

    def __len__(self) -> int:
        return len(self._tags)

    def __contains__(self, key: object) -> bool:
        return key in self._tags

    def get(self, key: str) -> SituationTag:
        try:
            return self._tags[key]
        except KeyError:
            raise UnknownKeyError("situation tag", key) from None

    def resolve(self, name: str) -> str | None:
        """The tag key for a key or an original Korean tag name; None when neither is known."""
        if name in self._tags:
            return name
        return self._by_source_name.get(name)


# --- file models --------------------------------------------------------------------------------------------


class _ItemEntry(FileModel):
    key: str = Field(pattern=KEY_PATTERN)
    label: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    note: str | None = None
    goes_to: str | None = None


class _CategoryEntry(FileModel):
    key: str = Field(pattern=KEY_PATTERN)
    label: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    items: tuple[_ItemEntry, ...] = ()
    children: tuple[_CategoryEntry, ...] = ()


class _TaxonomyFile(FileModel):
    categories: tuple[_CategoryEntry, ...] = Field(min_length=1)


class _TagEntry(FileModel):
    key: str = Field(pattern=KEY_PATTERN)
    label: str = Field(min_length=1)
    group: TagGroup
    source_name: str = Field(min_length=1)
    hint_patterns: tuple[str, ...] = ()


class _SituationTagsFile(FileModel):
    tags: tuple[_TagEntry, ...] = Field(min_length=1)


# --- loading ------------------------------------------------------------------------------------------------


def load_taxonomy(path: Path) -> Taxonomy:
    """Load and validate a taxonomy file (uncached; production code uses :func:`get_taxonomy`)."""
    parsed = load_file(path, _TaxonomyFile)
    categories: dict[str, Category] = {}
    items: dict[str, Item] = {}
    item_labels: dict[str, str] = {}

    def add_category(entry: _CategoryEntry, parent: str | None) -> None:
        key = f"{parent}/{entry.key}" if parent else entry.key
        if key in categories:
            raise entry_error(path.name, key, "duplicate category key")
        if entry.children and entry.items:
            raise entry_error(path.name, key, "a category has either 중분류 children or items, not both")
        if parent and entry.children:
            raise entry_error(path.name, key, "the taxonomy has three levels: a 중분류 cannot have children")
        item_keys: list[str] = []
        for item_entry in entry.items:
            item_key = f"{key}/{item_entry.key}"
            if item_key in items:
                raise entry_error(path.name, item_key, "duplicate item key")
            if item_entry.label in item_labels:
                raise entry_error(
                    path.name,
                    item_key,
                    f"label {item_entry.label!r} is already used by {item_labels[item_entry.label]}",
                )
            item_labels[item_entry.label] = item_key
            items[item_key] = Item(
                key=item_key,
                label=item_entry.label,
                category=key,
                aliases=item_entry.aliases,
                note=item_entry.note,
                goes_to=item_entry.goes_to,
            )
            item_keys.append(item_key)
        categories[key] = Category(
            key=key,
            label=entry.label,
            parent=parent,
            aliases=entry.aliases,
            children=tuple(f"{key}/{child.key}" for child in entry.children),
            items=tuple(item_keys),
        )
        for child in entry.children:
            add_category(child, key)

    for entry in parsed.categories:
        add_category(entry, None)

    for item in items.values():
        if item.goes_to is not None and (item.goes_to not in categories or item.goes_to == item.category):
            raise entry_error(
                path.name, item.key, f"goes_to {item.goes_to!r} must be another existing category key"
            )
    return Taxonomy(categories, items)


def load_situation_tags(path: Path) -> SituationTags:
    """Load and validate a situation-tags file (uncached; production code uses :func:`get_situation_tags`)."""
    parsed = load_file(path, _SituationTagsFile)
    tags: dict[str, SituationTag] = {}
    source_names: set[str] = set()
    for entry in parsed.tags:
        if entry.key in tags:
            raise entry_error(path.name, entry.key, "duplicate tag key")
        if entry.source_name in source_names:
            raise entry_error(path.name, entry.key, f"duplicate source_name {entry.source_name!r}")
        for pattern in entry.hint_patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise entry_error(path.name, entry.key, f"invalid hint pattern {pattern!r}: {exc}") from exc
        source_names.add(entry.source_name)
        tags[entry.key] = SituationTag(**entry.model_dump())
    return SituationTags(tags)


@lru_cache(maxsize=1)
def get_taxonomy() -> Taxonomy:
    return load_taxonomy(DATA_DIR / TAXONOMY_FILE)


@lru_cache(maxsize=1)
def get_situation_tags() -> SituationTags:
    return load_situation_tags(DATA_DIR / SITUATION_TAGS_FILE)


def label(key: str) -> str:
    """Korean label of a category, item or situation-tag key."""
    taxonomy = get_taxonomy()
    if taxonomy.has_category(key) or taxonomy.has_item(key):
        return taxonomy.label(key)
    tags = get_situation_tags()
    if key in tags:
        return tags.get(key).label
    raise UnknownKeyError("category, item or situation tag", key)
