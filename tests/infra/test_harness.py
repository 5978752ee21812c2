"""The offline harness itself: config emulation, value clean-up, loud failures (the printout: tests/plan)."""

from __future__ import annotations

import pytest
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs

from tools.plan.harness import execute
from tools.plan.mocks import Eco2Mocks, UnknownInvokeError, _plain
from tools.plan.stack_runner import FAKE_SECRETS, stack_config


def test_unknown_invokes_fail_loudly():
    with pytest.raises(UnknownInvokeError, match="unmocked invoke aws:ec2/getVpc:getVpc"):
        Eco2Mocks().call(MockCallArgs("aws:ec2/getVpc:getVpc", {}, ""))


def test_known_invokes_answer_in_camel_case():
    result, failures = Eco2Mocks().call(
        MockCallArgs("aws:index/getAvailabilityZones:getAvailabilityZones", {"state": "available"}, "")
    )
    assert failures == []
    assert len(result["names"]) >= 3 and "zoneIds" in result


def test_stack_config_layers_project_defaults_stack_values_and_fake_secrets():
    config = stack_config("dev")
    assert config["eco2:vpcCidr"] == "10.0.0.0/16"  # default from Pulumi.yaml
    assert config["eco2:imageRetentionDays"] == "7"  # dev overrides the default 30
    assert config["eco2:bucketForceDestroy"] == "true"
    assert config["eco2:adminCidrs"] == '["203.0.113.0/24"]'
    assert config["eco2:sshPrivateKey"] == FAKE_SECRETS["eco2:sshPrivateKey"]


def test_captured_values_are_plain_json():
    secret_paths: list[str] = []
    marker = {rpc._special_sig_key: rpc._special_secret_sig, "value": "token"}
    value = {"port": 443.0, "ratio": 0.5, "nested": [{"password": marker}]}
    assert _plain(value, "", secret_paths) == {"port": 443, "ratio": 0.5, "nested": [{"password": "token"}]}
    assert secret_paths == ["nested[0].password"]


def test_unknown_stack_is_refused():
    with pytest.raises(ValueError, match="unknown stack 'staging'"):
        execute("staging")
