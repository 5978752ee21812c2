"""The pack as the Pulumi CLI runs it: ``python policy`` serving the analyzer protocol over gRPC.

No CLI exists offline, so these tests play the engine's part: they start the pack, read the port it prints,
and send the same requests the engine sends during ``pulumi preview --policy-pack policy``.
"""

from __future__ import annotations

import select
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import eco2_policies as pack
import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from tools.plan.policy import POLICY_DIR, urn_of

STARTUP_TIMEOUT_SECONDS = 30


def _struct(props: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(props)
    return struct


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    server = subprocess.Popen(  # the CLI runs `python <pack dir>` from elsewhere
        [sys.executable, str(POLICY_DIR)],
        cwd=tmp_path_factory.mktemp("cwd"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        ready, _, _ = select.select([server.stdout], [], [], STARTUP_TIMEOUT_SECONDS)
        assert ready, "the pack did not print its port"
        port = int(server.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=STARTUP_TIMEOUT_SECONDS)
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_pack_describes_its_policies(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == pack.PACK_NAME
    levels = {policy.name: policy.enforcementLevel for policy in info.policies}
    assert levels == {
        policy.name: analyzer_pb2.ADVISORY if policy is pack.REQUIRED_TAGS else analyzer_pb2.MANDATORY
        for policy in pack.ALL_POLICIES
    }
    tags_policy = next(policy for policy in info.policies if policy.name == pack.REQUIRED_TAGS.name)
    assert "requiredTags" in tags_policy.configSchema.properties


def test_engine_request_for_a_violating_instance(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    """Properties go through protobuf Structs (numbers become floats) and the server's proxies."""
    request = analyzer_pb2.AnalyzeRequest(
        type="aws:ec2/instance:Instance",
        name="worker-1",
        urn=urn_of("aws:ec2/instance:Instance", "worker-1"),
        properties=_struct(
            {
                "metadataOptions": {"httpTokens": "optional", "httpPutResponseHopLimit": 2},
                "rootBlockDevice": {"encrypted": True, "volumeSize": 30},
                "tags": {"Project": "eco2", "Stack": "dev", "ManagedBy": "pulumi"},
            }
        ),
    )
    response = analyzer.Analyze(request)
    assert [(d.policyName, d.enforcementLevel) for d in response.diagnostics] == [
        (pack.IMDSV2_REQUIRED.name, analyzer_pb2.MANDATORY)
    ]
    assert "metadataOptions.httpTokens is 'optional'" in response.diagnostics[0].message


def test_engine_request_for_world_ssh_with_float_ports(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    request = analyzer_pb2.AnalyzeRequest(
        type=pack.INGRESS_RULE_TYPE,
        name="ssh",
        urn=urn_of(pack.INGRESS_RULE_TYPE, "ssh"),
        properties=_struct(
            {
                "ipProtocol": "tcp",
                "fromPort": 22,
                "toPort": 22,
                "cidrIpv4": "0.0.0.0/0",
                "tags": {"Project": "eco2", "Stack": "dev", "ManagedBy": "pulumi"},
            }
        ),
    )
    response = analyzer.Analyze(request)
    assert [d.policyName for d in response.diagnostics] == [pack.NO_WORLD_ADMIN_INGRESS.name]
    assert "rule opens tcp 22 (SSH) to 0.0.0.0/0" in response.diagnostics[0].message


def test_engine_stack_request_links_guards_by_property_dependency(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    """In a preview the new bucket's name is unknown; the recorded dependency still links its guards."""
    bucket_urn = urn_of("aws:s3/bucket:Bucket", "uploads")
    feeds_bucket = {"bucket": analyzer_pb2.AnalyzerPropertyDependencies(urns=[bucket_urn])}
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    resources = [
        analyzer_pb2.AnalyzerResource(
            type="aws:s3/bucket:Bucket",
            name="uploads",
            urn=bucket_urn,
            properties=_struct({"bucket": unknown}),
        ),
        analyzer_pb2.AnalyzerResource(
            type=pack.PUBLIC_ACCESS_BLOCK_TYPE,
            name="uploads-public-access",
            urn=urn_of(pack.PUBLIC_ACCESS_BLOCK_TYPE, "uploads-public-access"),
            properties=_struct({"bucket": unknown, **dict.fromkeys(pack.PUBLIC_ACCESS_BLOCK_FLAGS, True)}),
            propertyDependencies=feeds_bucket,
        ),
    ]
    response = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources))
    assert [(d.policyName, d.urn) for d in response.diagnostics] == [(pack.S3_ENCRYPTED.name, bucket_urn)]
    assert (
        "no s3.BucketServerSideEncryptionConfiguration refers to this bucket"
        in response.diagnostics[0].message
    )
