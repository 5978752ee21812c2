"""``eco2:workloads``: data volume sizes and replica counts per stack, with errors that name the field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import ConfigError, StackConfig
from tests.support.stack_config import parsed, raw_config


def parse(stack: str, change: Any = None) -> StackConfig:
    raw = raw_config(stack)
    if change is not None:
        workloads = json.loads(raw["workloads"])
        change(workloads)
        raw["workloads"] = json.dumps(workloads)
    return parsed(raw, stack)


def test_prod_has_the_seeds_volume_sizes_and_two_api_replicas():
    sizing = parse("prod").workloads
    assert (sizing.postgresql_volume_gib, sizing.rabbitmq_volume_gib) == (50, 20)
    assert sizing.api_replicas == 2 <= sizing.api_max_replicas


def test_dev_is_smaller():
    dev, prod = parse("dev").workloads, parse("prod").workloads
    assert dev.postgresql_volume_gib < prod.postgresql_volume_gib
    assert dev.rabbitmq_volume_gib < prod.rabbitmq_volume_gib


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda w: w.pop("postgresqlVolumeGiB"), r"eco2:workloads.postgresqlVolumeGiB: is missing"),
        (lambda w: w.update(postgresVolume=5), r"eco2:workloads.postgresVolume: unknown field"),
        (lambda w: w.update(apiReplicas=0), r"eco2:workloads.apiReplicas: 0 is outside 1..20"),
        (lambda w: w.update(redisVolumeGiB="big"), r"eco2:workloads.redisVolumeGiB: 'big' is not an integer"),
        (lambda w: w.update(apiReplicas=3, apiMaxReplicas=2), r"eco2:workloads.apiMaxReplicas: 2 is below"),
    ],
)
def test_bad_sizing_fails_naming_the_field(change, message):
    with pytest.raises(ConfigError, match=message):
        parse("dev", change)


def test_sizing_must_be_an_object():
    raw = raw_config("dev")
    raw["workloads"] = "[]"
    with pytest.raises(ConfigError, match=r"eco2:workloads: must be an object"):
        parsed(raw, "dev")
