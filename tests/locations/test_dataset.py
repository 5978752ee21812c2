from __future__ import annotations

import dataclasses
import logging
from importlib import resources

import pytest

from apps.locations.dataset import (
    DATA_FILE,
    CollectionPoint,
    DatasetError,
    build_dataset,
    load_dataset,
    parse_coordinates,
    read_rows,
)
from apps.locations.hours import DayStatus

# 409 rows: 12 without usable coordinates (empty, "37.45…?", "127.7.23106", latitudes 5.157 / 4.597 /
# 27.127 outside Korea) and 2 whose contract ended (계약종료) are skipped.
USABLE_POINTS = 393


def embedded_rows() -> list[dict[str, str]]:
    text = resources.files("apps.locations.data").joinpath(DATA_FILE).read_text(encoding="utf-8-sig")
    return read_rows(text)


def test_embedded_data_loads_the_usable_points():
    dataset = load_dataset()
    assert len(embedded_rows()) == 409
    assert len(dataset.points) == USABLE_POINTS
    assert len(dataset.skipped) == 409 - USABLE_POINTS
    assert len({p.id for p in dataset.points}) == USABLE_POINTS


def test_skipped_rows_are_named_with_a_reason():
    skipped = {row.name: row.reason for row in load_dataset().skipped}
    assert "unparseable" in skipped["용오리사이클점"]  # "37.45255496043788?"
    assert "unparseable" in skipped["산외면행정복지센터"]  # "127.7.23106"
    assert "outside South Korea" in skipped["친환경자원순환센터 재활용 무인회수기"]  # lat 5.157
    assert "discontinued" in skipped["영선중학교"]
    assert sum("unparseable coordinates lat=''" in reason for reason in skipped.values()) == 9


def test_skipped_rows_are_logged_by_name(caplog):
    with caplog.at_level(logging.WARNING, logger="apps.locations.dataset"):
        build_dataset(embedded_rows())
    assert "'화산동행정복지센터' skipped: coordinates outside South Korea" in caplog.text
    assert "'고창북중학교' skipped: discontinued" in caplog.text


def test_records_are_typed_and_frozen():
    point = next(p for p in load_dataset().points if p.id == "keco-1")
    assert point.name == "고양동 종합복지회관"
    assert (point.lat, point.lng) == (37.7025454, 126.901133)
    assert point.address == "고양시 덕양구 혜음로 19-11"
    assert point.lot_address == "경기도 고양시 덕양구 고양동 233-2"
    assert point.phone == "031-8075-2706"
    assert point.accepted_items[:2] == ("투명페트병", "유색페트병")
    assert point.accepted_categories == frozenset(
        {"recyclable/clear_pet", "recyclable/plastic", "recyclable/paper", "recyclable/metal"}
    )
    assert point.hours.weekdays[1].status is DayStatus.OPEN  # Tuesday 11:00 ~ 14:00
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.name = "x"  # type: ignore[misc]


def test_points_without_published_items_accept_no_category():
    blank = [p for p in load_dataset().points if not p.accepted_items]
    assert len(blank) == 105
    assert all(p.accepted_categories == frozenset() for p in blank)


def test_every_embedded_hours_cell_is_understood():
    for point in load_dataset().points:
        for day in (*point.hours.weekdays, point.hours.holiday):
            assert day.status is not DayStatus.UNKNOWN, (point.id, day.raw)


def _row(**changes: str) -> dict[str, str]:
    return {**embedded_rows()[0], **changes}


@pytest.mark.parametrize(
    ("lat", "lng", "reason"),
    [
        ("", "", "unparseable"),
        ("37.5?", "127.0", "unparseable"),
        ("37.5", "127.0.1", "unparseable"),
        ("nan", "127.0", "outside"),
        ("5.1571039", "126.93", "outside"),
        ("126.9", "37.5", "outside"),  # swapped
        ("37.5", "139.7", "outside"),  # Tokyo's longitude
    ],
)
def test_unusable_coordinates(lat, lng, reason):
    with pytest.raises(ValueError, match=reason):
        parse_coordinates(lat, lng)
    dataset = build_dataset([_row(positnPstnLat=lat, positnPstnLot=lng)])
    assert dataset.points == ()
    assert reason in dataset.skipped[0].reason


def test_coordinates_with_spaces_are_fine():
    assert parse_coordinates(" 33.2 ", "126.3 ") == (33.2, 126.3)


def test_duplicate_ids_fail_the_load():
    with pytest.raises(DatasetError, match="duplicate positnSn 1"):
        build_dataset([_row(), _row(positnNm="other")])


def test_rows_without_a_name_fail_the_load():
    with pytest.raises(DatasetError, match="without id or name"):
        build_dataset([_row(positnNm="  ")])


def test_short_rows_read_as_empty_cells():
    header = ",".join(embedded_rows()[0])
    (row,) = read_rows(f"{header}\n7,짧은 행,부산\n")
    assert row["positnRgnNm"] == "부산"
    assert row["clctItemCn"] == ""
    assert build_dataset([row]).skipped[0].reason.startswith("unparseable coordinates")


def test_missing_columns_fail_the_load():
    with pytest.raises(DatasetError, match="clctItemCn"):
        read_rows("positnSn,positnNm,positnPstnLat,positnPstnLot\n1,a,37.5,127.0\n")


def test_unrecognised_hours_and_items_are_kept_and_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="apps.locations.dataset"):
        dataset = build_dataset([_row(monSalsHrExplnCn="격주 운영", clctItemCn="투명페트병\n폐식용유")])
    point: CollectionPoint = dataset.points[0]
    assert point.hours.weekdays[0].status is DayStatus.UNKNOWN
    assert point.hours.weekdays[0].raw == "격주 운영"
    assert point.accepted_items == ("투명페트병", "폐식용유")
    assert point.accepted_categories == frozenset({"recyclable/clear_pet"})
    assert dataset.unmapped_items == frozenset({"폐식용유"})
    assert "unrecognised hours '격주 운영'" in caplog.text
    assert "'폐식용유' maps to no category" in caplog.text


def test_blank_optional_fields_become_none():
    point = build_dataset([_row(positnRdnmAddr=" ", rprsTelnoCn="", prkMthdExpln="")]).points[0]
    assert point.road_address is None
    assert point.address == "경기도 고양시 덕양구 고양동 233-2"  # falls back to the lot-number address
    assert point.phone is None
    assert point.parking is None
