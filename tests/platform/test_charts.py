"""The chart table's values files and Helm's merge of stack values over them."""

from __future__ import annotations

import dataclasses

import pytest

from eco2_platform import charts
from eco2_platform.charts import METRICS_SERVER, chart_values, load_values, merge


def test_maps_merge_key_by_key_and_everything_else_is_replaced():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": "x"}
    merged = merge(base, {"a": {"c": [3], "e": {"f": True}}, "d": None})
    assert merged == {"a": {"b": 1, "c": [3], "e": {"f": True}}, "d": None}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": "x"}  # the loaded file is never changed


def test_stack_values_refine_the_file_without_losing_its_keys():
    file_values = load_values(METRICS_SERVER)
    merged = chart_values(METRICS_SERVER, {"resources": {"limits": {"memory": "1Gi"}}})
    assert merged["resources"]["requests"] == file_values["resources"]["requests"]
    assert merged["resources"]["limits"] == {"memory": "1Gi"}


def test_a_missing_values_file_is_an_error_naming_it(tmp_path, monkeypatch):
    monkeypatch.setattr(charts, "VALUES_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="values file for chart metrics-server is missing"):
        load_values(METRICS_SERVER)


@pytest.mark.parametrize("text", ["- a list\n", "just text\n", ""])
def test_a_values_file_must_be_a_mapping(tmp_path, monkeypatch, text):
    monkeypatch.setattr(charts, "VALUES_DIR", tmp_path)
    pin = dataclasses.replace(METRICS_SERVER, chart="broken")
    (tmp_path / "broken.yaml").write_text(text)
    with pytest.raises(ValueError, match=r"broken\.yaml: chart values must be a mapping"):
        load_values(pin)
